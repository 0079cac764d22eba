"""Device update kernel: signed pulse counts -> conductance steps (see ``memr_snn.devices.pulse``).

``p`` is the parameter vector of :meth:`memr_snn.devices.PulseDevice.kernel_params`, shared by a
device class: ``[kind, g_min, g_max, dg_up, dg_down, dg_c2c, levels, beta_up, beta_down, abrupt_reset,
refresh, dg_c2c_add, dg_c2c_slope, write_noise, reset_level, reset_spread]`` (the ``P_*`` indices).
``dv`` is the per-device table (float64, ``(n, N_DV)``, the ``DV_*`` columns): each device's own
bounds ``g_min``, ``g_max`` and steps ``dg_up``, ``dg_down`` (the device-to-device spread,
:meth:`memr_snn.devices.Variability.sample`), its endurance budget ``life`` and the wear it has
taken, both in full SET/RESET cycles, and, for write noise, its hidden state and the apparent
conductance last written (``DV_HIDDEN``, ``DV_SHOWN``): a pulse train starts from the hidden state
only while the device still shows what the last write left (``g == DV_SHOWN``); a conductance set
by anything else is taken as the state.  The pulse laws read the bounds and steps
from ``dv``; ``p`` gives the law, its nonlinearity, the noise, the levels and the RESET mode.

Cycle-to-cycle noise uses counter-based normals: pulse ``q`` of device ``k`` in update call
``counter`` draws from ``(seed, counter, k, q)``, so the numpy twin and any split of the work see
the same numbers.  One normal per pulse serves the step noise or the RESET level; the write noise
of a pulse train starting at pulse ``q0`` draws index ``WRITE_Q0 + q0``.

Endurance (full-cycle equivalents): every pulse adds ``|dG| / (2 (g_max_k - g_min_k))`` to the
device's wear, so a full SET swing plus a full RESET swing is one cycle; when the wear reaches the
budget ``life`` after a pulse the device fails.  ``fault`` (int8 per device: 0 healthy, +1 stuck ON,
-1 stuck OFF, +2 stuck at its last value) travels with the conductances; pulse counts (``counts``,
int64) are kept for energy and reports.  See :func:`apply_pulses`.
"""

import math

import numpy as np
from numba import njit

from .rng import uniform01

__all__ = ["apply_pulses", "program_verify", "refresh_pair", "refresh_pairs", "pulse_normal", "READ_Q0", "WRITE_Q0",
           "P_KIND", "P_C2C", "P_LEVELS", "P_ABRUPT", "P_REFRESH", "P_C2C_ADD", "P_C2C_SLOPE", "P_WNOISE",
           "P_RLEVEL", "P_RSPREAD", "N_P",
           "DV_GMIN", "DV_GMAX", "DV_UP", "DV_DOWN", "DV_LIFE", "DV_WEAR", "DV_HIDDEN", "DV_SHOWN", "N_DV"]

# device-class parameter vector ``p``
P_KIND, P_GMIN, P_GMAX, P_UP, P_DOWN, P_C2C, P_LEVELS, P_BUP, P_BDOWN, P_ABRUPT, P_REFRESH = range(11)
P_C2C_ADD, P_C2C_SLOPE, P_WNOISE, P_RLEVEL, P_RSPREAD = range(11, 16)
N_P = 16

# per-device table ``dv`` (one row per device)
DV_GMIN = 0   # lower bound [S]
DV_GMAX = 1   # upper bound [S]
DV_UP = 2     # potentiation step scale [S]
DV_DOWN = 3   # depression step scale [S]
DV_LIFE = 4   # endurance budget [full cycles] (inf: unlimited)
DV_WEAR = 5   # wear so far [full cycles]
DV_HIDDEN = 6  # hidden state under write noise [S]
DV_SHOWN = 7   # apparent conductance the last noisy write left [S]
N_DV = 8

_TWO_PI = 2.0 * math.pi


@njit(cache=True, error_model="numpy", inline="always")
def pulse_normal(seed, counter, k, q):
    """Standard normal for pulse ``q`` of device ``k`` (Box-Muller on two counter uniforms)."""
    base = (np.uint64(k) << np.uint64(32)) + np.uint64(2 * q)
    u1 = uniform01(seed, np.uint64(counter), base)
    u2 = uniform01(seed, np.uint64(counter), base + np.uint64(1))
    return math.sqrt(-2.0 * math.log(1.0 - u1)) * math.cos(_TWO_PI * u2)


#: pulse-noise index of the write noise of a pulse train starting at pulse ``q0``: ``WRITE_Q0 + q0``
WRITE_Q0 = 1 << 29


@njit(cache=True, error_model="numpy", inline="always")
def _shown(p, dv, d, gk, failed, seed, counter, k, q0):
    """Conductance a device shows after a write that left hidden state ``gk`` (write noise, module docstring)."""
    sw = p[P_WNOISE]
    if sw == 0.0:
        return gk
    gmin, gmax = dv[d, DV_GMIN], dv[d, DV_GMAX]
    shown = gk
    if not failed:  # a device that failed on the way holds its failure state exactly
        shown = min(max(gk + sw * pulse_normal(seed, counter, k, WRITE_Q0 + q0), gmin), gmax)
    dv[d, DV_HIDDEN] = gk
    dv[d, DV_SHOWN] = shown
    return shown


@njit(cache=True, error_model="numpy", inline="always")
def _run_pulses(p, dv, d, gk, up, m, fail_code, seed, counter, k, q0):
    """``m`` pulses on one healthy device ``d`` (row of ``dv``) at ``gk``; returns ``(g, failed)``.

    Pulse ``j`` (1-based) uses the noise of pulse index ``q0 + j - 1``.  Every pulse adds
    ``|dG| / (2 span)`` to ``dv[d, DV_WEAR]``; if the wear reaches ``dv[d, DV_LIFE]`` after pulse
    ``j``, the later pulses do nothing and the device fails: G goes to its g_min (``fail_code`` -1),
    its g_max (+1) or stays (2).  With ``p[P_ABRUPT]`` a depressing pulse is a full RESET: G drops
    to the device's g_min in one pulse (phase-change melt-quench), or to
    ``clip(g_min + (reset_level + reset_spread xi) span)``.  Step noise: ``dG (1 + c2c xi) +
    d (c2c_add dg_d + c2c_slope (G - g_min)) xi`` (``d`` = +1 up, -1 down; module
    :mod:`memr_snn.devices.pulse`).  With write noise the train starts from the hidden state (if
    the device still shows what its last write left) and returns the shown conductance.
    """
    kind = int(p[P_KIND])
    c2c = p[P_C2C]
    levels = int(p[P_LEVELS])
    abrupt = p[P_ABRUPT] != 0.0
    noisy = c2c > 0.0 or p[P_C2C_ADD] > 0.0 or p[P_C2C_SLOPE] > 0.0
    written = p[P_WNOISE] > 0.0
    gmin, gmax, dup, ddown = dv[d, DV_GMIN], dv[d, DV_GMAX], dv[d, DV_UP], dv[d, DV_DOWN]
    if written and gk == dv[d, DV_SHOWN]:
        gk = dv[d, DV_HIDDEN]
    life = dv[d, DV_LIFE]
    wear = dv[d, DV_WEAR]
    span = gmax - gmin
    half_inv = 0.5 / span
    if kind == 0 and not noisy and levels < 2 and (up or not abrupt):
        g1 = gk + m * dup if up else gk - m * ddown
        g1 = min(max(g1, gmin), gmax)
        w1 = wear + abs(g1 - gk) * half_inv
        if w1 < life:  # no failure on the way: n pulses are one exact step n * dg
            dv[d, DV_WEAR] = w1
            if written:
                return _shown(p, dv, d, g1, False, seed, counter, k, q0), False
            return g1, False
    bup, bdown = p[P_BUP], p[P_BDOWN]
    c2c_add, c2c_slope = p[P_C2C_ADD], p[P_C2C_SLOPE]
    extra = c2c_add > 0.0 or c2c_slope > 0.0
    r_level, r_spread = p[P_RLEVEL], p[P_RSPREAD]
    failed = False
    for j in range(m):
        g0 = gk
        if abrupt and not up:
            if r_level > 0.0 or r_spread > 0.0:
                r = r_level
                if r_spread > 0.0:
                    r += r_spread * pulse_normal(seed, counter, k, q0 + j)
                gk = min(max(gmin + r * span, gmin), gmax)
            else:
                gk = gmin
        else:
            x = (gk - gmin) / span
            if kind == 0:
                step = dup if up else -ddown
            elif kind == 1:
                step = dup * (1.0 - x) if up else -ddown * x
            else:
                step = dup * math.exp(-bup * x) if up else -ddown * math.exp(-bdown * (1.0 - x))
            if noisy:
                xi = pulse_normal(seed, counter, k, q0 + j)
                step *= 1.0 + c2c * xi
                if extra:
                    spread = c2c_add * dup + c2c_slope * (gk - gmin) if up else \
                        -(c2c_add * ddown + c2c_slope * (gk - gmin))
                    step += spread * xi
            gk = min(max(gk + step, gmin), gmax)
            if levels >= 2:
                gk = gmin + round((gk - gmin) / span * (levels - 1)) * (span / (levels - 1))
        wear += abs(gk - g0) * half_inv
        if wear >= life:
            failed = True
            break
    dv[d, DV_WEAR] = wear
    if failed:
        if fail_code == -1:
            gk = gmin
        elif fail_code == 1:
            gk = gmax
    if written:
        return _shown(p, dv, d, gk, failed, seed, counter, k, q0), failed
    return gk, failed


@njit(cache=True, error_model="numpy")
def apply_pulses(p, dv, g, pulses, counts, seed, counter, fault, fail_code=2):
    """Apply ``pulses[k]`` (signed) pulses to device ``k``; update ``g``, ``counts``, ``fault``, ``dv`` in place.

    Every pulse: step from the update law at the present conductance with the device's own
    bounds and step scales (``dv``), times ``1 + dg_c2c * xi``, clipped to the device's
    [g_min, g_max], then rounded to its level grid when ``levels >= 2`` (an abrupt-RESET
    device drops to its g_min instead of a depressing step).  The ideal linear device (no
    noise, no levels) takes ``n`` pulses as one exact step ``n * dg`` (then clipped), which is
    what the per-pulse steps sum to.

    Every pulse is counted in ``counts``, also those sent to a faulty device (``fault[k] != 0``),
    which leave its G and wear unchanged.  A healthy device accumulates wear in full-cycle
    equivalents (module docstring); when it reaches the device's budget after a pulse, its
    remaining pulses do nothing, ``fault[k] = fail_code`` (int8: -1 stuck OFF -> G = g_min,
    +1 stuck ON -> G = g_max, 2 stuck at the last value) and G is set accordingly.
    """
    for k in range(g.shape[0]):
        n = pulses[k]
        if n == 0:
            continue
        up = n > 0
        m = n if up else -n
        counts[k] += m
        if fault[k] != 0:
            continue
        gk, failed = _run_pulses(p, dv, k, g[k], up, m, fail_code, seed, counter, k, 0)
        g[k] = gk
        if failed:
            fault[k] = fail_code


@njit(cache=True, error_model="numpy", inline="always")
def _reset_one(p, dv, g, counts, fault, fail_code, d, seed, counter, k, q):
    """One RESET (depressing) pulse on device ``d``, counted."""
    counts[d] += 1
    gk, failed = _run_pulses(p, dv, d, g[d], False, 1, fail_code, seed, counter, k, q)
    g[d] = gk
    if failed:
        fault[d] = fail_code


@njit(cache=True, error_model="numpy")
def refresh_pair(p, dv, g, counts, fault, fail_code, dp, dn, seed, counter, kp, kn, q0, max_pulses):
    """Refresh one differential pair (devices ``dp`` = G+, ``dn`` = G-): read, RESET both, rewrite.

    The conductance difference ``D = G+ - G-`` is read (noiseless), both devices get one RESET
    pulse (abrupt devices drop to their g_min), then SET pulses go one at a time to the side of
    ``D``'s sign until that side's excess over the other reaches ``|D|`` (closed loop on the true
    difference, at most ``max_pulses``).  Pulses use the device physics and wear of
    :func:`apply_pulses`; pulse ``j`` of the refresh on device ``dp`` (``dn``) draws noise index
    ``q0 + j`` with device index ``kp`` (``kn``).  Only a pair of two healthy devices is refreshed.
    Returns ``(set_pulses, reset_pulses)`` sent.
    """
    if fault[dp] != 0 or fault[dn] != 0:
        return 0, 0
    diff = g[dp] - g[dn]
    _reset_one(p, dv, g, counts, fault, fail_code, dp, seed, counter, kp, q0)
    _reset_one(p, dv, g, counts, fault, fail_code, dn, seed, counter, kn, q0)
    resets = 2
    if diff == 0.0:
        return 0, resets
    if diff > 0.0:
        dw, ds, kw = dp, dn, kp
        want = diff
    else:
        dw, ds, kw = dn, dp, kn
        want = -diff
    sets = 0
    half = 0.5 * dv[dw, DV_UP]
    while sets < max_pulses and fault[dw] == 0 and (g[dw] - g[ds]) < want - half:
        counts[dw] += 1
        gk, failed = _run_pulses(p, dv, dw, g[dw], True, 1, fail_code, seed, counter, kw, q0 + 1 + sets)
        g[dw] = gk
        sets += 1
        if failed:
            fault[dw] = fail_code
    return sets, resets


@njit(cache=True, error_model="numpy")
def refresh_pairs(p, dv, g, counts, fault, fail_code, seed, counter, threshold, max_pulses, out):
    """Refresh every pair ``(2j, 2j+1)`` whose G+ or G- sits at or above ``threshold`` of its range.

    ``out[0]`` counts the pairs refreshed, ``out[1]`` SET and ``out[2]`` RESET pulses added.
    Noise: pair ``j`` uses device indices ``2j``, ``2j + 1`` and pulse indices from the G+
    device's pulse count before the refresh (unique per device and lifetime).
    """
    for j in range(g.shape[0] // 2):
        dp = 2 * j
        dn = dp + 1
        hp = g[dp] - dv[dp, DV_GMIN] >= threshold * (dv[dp, DV_GMAX] - dv[dp, DV_GMIN])
        hn = g[dn] - dv[dn, DV_GMIN] >= threshold * (dv[dn, DV_GMAX] - dv[dn, DV_GMIN])
        if not (hp or hn):
            continue
        if fault[dp] != 0 or fault[dn] != 0:
            continue
        s, r = refresh_pair(p, dv, g, counts, fault, fail_code, dp, dn, seed, counter, dp, dn, counts[dp],
                            max_pulses)
        out[0] += 1
        out[1] += s
        out[2] += r


#: pulse-noise index of the first verify read (reads use their own range of the counter stream)
READ_Q0 = 1 << 30


@njit(cache=True, error_model="numpy")
def program_verify(p, dv, g, target, counts, fault, fail_code, read_noise, tol, max_pulses,
                   ispp_step, ispp_max, seed, counter, n_up, n_down, n_reads, g_read_sum, converged):
    """ISPP read-verify loop per device; writes ``g``, ``counts``, ``fault`` and the outputs in place.

    Per device: read ``G (1 + read_noise * xi)``; stop (converged) if within ``tol``
    [S] of ``target``; stop if ``max_pulses`` were sent; else send ``n`` pulses towards
    the target, where ``n`` is 1 on the first iteration and after every change of
    direction, and grows by ``ispp_step`` (up to ``ispp_max``) on every iteration in the
    same direction (ISPP's growing amplitude, modelled as a growing pulse count), never
    beyond ``max_pulses`` in all and never more than the read distance in nominal steps,
    ``max(floor(|err| / dg), 1)`` (so the loop does not overshoot on purpose); an
    abrupt-RESET device gets one RESET pulse when it is above the target.  Pulses use the
    physics, per-device table ``dv`` and endurance of :func:`apply_pulses`; pulse ``q`` of the
    call draws noise index ``q``, read ``r``
    draws index ``READ_Q0 + r`` (same ``seed``, ``counter``, device).  ``g_read_sum``
    adds the true G at every read (for the read energy).
    """
    abrupt = p[P_ABRUPT] != 0.0
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
            if d < 0 and abrupt:  # one RESET drops to g_min; more would only wear the device
                nn = 1
            else:  # never more pulses than the remaining distance in nominal steps (at least one)
                step_nom = p[P_UP] if d > 0 else p[P_DOWN]
                if step_nom > 0.0:
                    nn = min(nn, max(int(abs(err) / step_nom), 1))
            counts[k] += nn
            if fault[k] == 0:
                gk, failed = _run_pulses(p, dv, k, gk, d > 0, nn, fail_code, seed, counter, k, sent)
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
