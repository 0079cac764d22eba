"""Device update kernel: signed pulse counts -> conductance steps (see ``memr_snn.devices.pulse``).

``p`` is the parameter vector of :meth:`memr_snn.devices.PulseDevice.kernel_params`:
``[kind, g_min, g_max, dg_up, dg_down, dg_c2c, levels, beta_up, beta_down]``.
Cycle-to-cycle noise uses counter-based normals: pulse ``q`` of device ``k`` in
update call ``counter`` draws from ``(seed, counter, k, q)``, so the numpy twin
and any split of the work see the same numbers.
"""

import math

import numpy as np
from numba import njit

from .rng import uniform01

__all__ = ["apply_pulses", "pulse_normal"]

_TWO_PI = 2.0 * math.pi


@njit(cache=True, error_model="numpy", inline="always")
def pulse_normal(seed, counter, k, q):
    """Standard normal for pulse ``q`` of device ``k`` (Box-Muller on two counter uniforms)."""
    base = (np.uint64(k) << np.uint64(32)) + np.uint64(2 * q)
    u1 = uniform01(seed, np.uint64(counter), base)
    u2 = uniform01(seed, np.uint64(counter), base + np.uint64(1))
    return math.sqrt(-2.0 * math.log(1.0 - u1)) * math.cos(_TWO_PI * u2)


@njit(cache=True, error_model="numpy")
def apply_pulses(p, g, pulses, counts, seed, counter):
    """Apply ``pulses[k]`` (signed) pulses to device ``k``; update ``g`` and ``counts`` in place.

    Every pulse: step from the update law at the present conductance, times
    ``1 + dg_c2c * xi``, clipped to [g_min, g_max], then rounded to the level grid
    when ``levels >= 2``.  The ideal linear device (no noise, no levels) takes
    ``n`` pulses as one exact step ``n * dg`` (then clipped), which is what the
    per-pulse steps sum to.
    """
    kind = int(p[0])
    gmin, gmax, dup, ddown, c2c = p[1], p[2], p[3], p[4], p[5]
    levels = int(p[6])
    bup, bdown = p[7], p[8]
    span = gmax - gmin
    for k in range(g.shape[0]):
        n = pulses[k]
        if n == 0:
            continue
        up = n > 0
        m = n if up else -n
        counts[k] += m
        gk = g[k]
        if kind == 0 and c2c == 0.0 and levels < 2:
            gk = gk + m * dup if up else gk - m * ddown
            g[k] = min(max(gk, gmin), gmax)
            continue
        for q in range(m):
            x = (gk - gmin) / span
            if kind == 0:
                step = dup if up else -ddown
            elif kind == 1:
                step = dup * (1.0 - x) if up else -ddown * x
            else:
                step = dup * math.exp(-bup * x) if up else -ddown * math.exp(-bdown * (1.0 - x))
            if c2c > 0.0:
                step *= 1.0 + c2c * pulse_normal(seed, counter, k, q)
            gk = min(max(gk + step, gmin), gmax)
            if levels >= 2:
                gk = gmin + round((gk - gmin) / span * (levels - 1)) * (span / (levels - 1))
        g[k] = gk
