"""Device update kernel: signed pulse counts -> conductance steps (see ``memr_snn.devices.pulse``).

``p`` is the parameter vector of :meth:`memr_snn.devices.PulseDevice.kernel_params`:
``[kind, g_min, g_max, dg_up, dg_down, dg_c2c, levels, beta_up, beta_down]``.
Cycle-to-cycle noise uses counter-based normals: pulse ``q`` of device ``k`` in
update call ``counter`` draws from ``(seed, counter, k, q)``, so the numpy twin
and any split of the work see the same numbers.

Endurance: ``budget`` (float64 per device) and ``fault`` (int8 per device: 0
healthy, +1 stuck ON, -1 stuck OFF, +2 stuck at its last value) travel with the
conductances; see :func:`apply_pulses`.
"""

import math

import numpy as np
from numba import njit

from .rng import uniform01

__all__ = ["apply_pulses", "program_verify", "pulse_normal", "READ_Q0"]

_TWO_PI = 2.0 * math.pi


@njit(cache=True, error_model="numpy", inline="always")
def pulse_normal(seed, counter, k, q):
    """Standard normal for pulse ``q`` of device ``k`` (Box-Muller on two counter uniforms)."""
    base = (np.uint64(k) << np.uint64(32)) + np.uint64(2 * q)
    u1 = uniform01(seed, np.uint64(counter), base)
    u2 = uniform01(seed, np.uint64(counter), base + np.uint64(1))
    return math.sqrt(-2.0 * math.log(1.0 - u1)) * math.cos(_TWO_PI * u2)


@njit(cache=True, error_model="numpy", inline="always")
def _run_pulses(p, gk, up, m, c0, budget, fail_code, seed, counter, k, q0):
    """``m`` pulses on one healthy device at ``gk`` whose count was ``c0`` before them.

    Returns ``(g, failed)``.  Pulse ``j`` (1-based) uses the noise of pulse index
    ``q0 + j - 1``.  If the count reaches ``budget`` after pulse ``j``, the later pulses
    do nothing and the device fails: G goes to g_min (``fail_code`` -1), g_max (+1) or
    stays (2).
    """
    kind = int(p[0])
    gmin, gmax, dup, ddown, c2c = p[1], p[2], p[3], p[4], p[5]
    levels = int(p[6])
    bup, bdown = p[7], p[8]
    span = gmax - gmin
    e = m
    failed = False
    if c0 + m >= budget:
        e = max(int(math.ceil(budget - c0)), 1)
        failed = True
    if kind == 0 and c2c == 0.0 and levels < 2:
        gk = gk + e * dup if up else gk - e * ddown
        gk = min(max(gk, gmin), gmax)
    else:
        for j in range(e):
            x = (gk - gmin) / span
            if kind == 0:
                step = dup if up else -ddown
            elif kind == 1:
                step = dup * (1.0 - x) if up else -ddown * x
            else:
                step = dup * math.exp(-bup * x) if up else -ddown * math.exp(-bdown * (1.0 - x))
            if c2c > 0.0:
                step *= 1.0 + c2c * pulse_normal(seed, counter, k, q0 + j)
            gk = min(max(gk + step, gmin), gmax)
            if levels >= 2:
                gk = gmin + round((gk - gmin) / span * (levels - 1)) * (span / (levels - 1))
    if failed:
        if fail_code == -1:
            gk = gmin
        elif fail_code == 1:
            gk = gmax
    return gk, failed


@njit(cache=True, error_model="numpy")
def apply_pulses(p, g, pulses, counts, seed, counter, budget, fault, fail_code=2):
    """Apply ``pulses[k]`` (signed) pulses to device ``k``; update ``g``, ``counts``, ``fault`` in place.

    Every pulse: step from the update law at the present conductance, times
    ``1 + dg_c2c * xi``, clipped to [g_min, g_max], then rounded to the level grid
    when ``levels >= 2``.  The ideal linear device (no noise, no levels) takes
    ``n`` pulses as one exact step ``n * dg`` (then clipped), which is what the
    per-pulse steps sum to.

    Endurance: every pulse is counted, also those sent to a faulty device
    (``fault[k] != 0``), which leave its G unchanged.  When a healthy device's count
    reaches or exceeds ``budget[k]`` (float64, ``inf`` = unlimited) after a pulse,
    its remaining pulses do nothing, ``fault[k] = fail_code`` (int8: -1 stuck OFF ->
    G = g_min, +1 stuck ON -> G = g_max, 2 stuck at the last value) and G is set
    accordingly.
    """
    for k in range(g.shape[0]):
        n = pulses[k]
        if n == 0:
            continue
        up = n > 0
        m = n if up else -n
        c0 = counts[k]
        counts[k] = c0 + m
        if fault[k] != 0:
            continue
        gk, failed = _run_pulses(p, g[k], up, m, c0, budget[k], fail_code, seed, counter, k, 0)
        g[k] = gk
        if failed:
            fault[k] = fail_code


#: pulse-noise index of the first verify read (reads use their own range of the counter stream)
READ_Q0 = 1 << 30


@njit(cache=True, error_model="numpy")
def program_verify(p, g, target, counts, budget, fault, fail_code, read_noise, tol, max_pulses,
                   ispp_step, ispp_max, seed, counter, n_up, n_down, n_reads, g_read_sum, converged):
    """ISPP read-verify loop per device; writes ``g``, ``counts``, ``fault`` and the outputs in place.

    Per device: read ``G (1 + read_noise * xi)``; stop (converged) if within ``tol``
    [S] of ``target``; stop if ``max_pulses`` were sent; else send ``n`` pulses towards
    the target, where ``n`` is 1 on the first iteration and after every change of
    direction, and grows by ``ispp_step`` (up to ``ispp_max``) on every iteration in the
    same direction (ISPP's growing amplitude, modelled as a growing pulse count), never
    beyond ``max_pulses`` in all.  Pulses use the physics and endurance of
    :func:`apply_pulses`; pulse ``q`` of the call draws noise index ``q``, read ``r``
    draws index ``READ_Q0 + r`` (same ``seed``, ``counter``, device).  ``g_read_sum``
    adds the true G at every read (for the read energy).
    """
    for k in range(g.shape[0]):
        gk = g[k]
        tgt = target[k]
        sent = 0
        reads = 0
        n_iter = 0
        last_dir = 0
        up_k = 0
        down_k = 0
        gsum = 0.0
        conv = False
        while True:
            gr = gk
            if read_noise > 0.0:
                gr = gk * (1.0 + read_noise * pulse_normal(seed, counter, k, READ_Q0 + reads))
            gsum += gk
            reads += 1
            err = tgt - gr
            if abs(err) <= tol:
                conv = True
                break
            if sent >= max_pulses:
                break
            d = 1 if err > 0 else -1
            if d == last_dir:
                n_iter = min(n_iter + ispp_step, ispp_max)
            else:
                n_iter = 1
            last_dir = d
            nn = min(n_iter, max_pulses - sent)
            c0 = counts[k]
            counts[k] = c0 + nn
            if fault[k] == 0:
                gk, failed = _run_pulses(p, gk, d > 0, nn, c0, budget[k], fail_code, seed, counter, k, sent)
                if failed:
                    fault[k] = fail_code
            sent += nn
            if d > 0:
                up_k += nn
            else:
                down_k += nn
        g[k] = gk
        n_up[k] = up_k
        n_down[k] = down_k
        n_reads[k] = reads
        g_read_sum[k] = gsum
        converged[k] = conv
