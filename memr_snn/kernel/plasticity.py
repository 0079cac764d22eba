r"""Spike-timing-dependent plasticity kernels: pair and triplet STDP, reward-modulated STDP.

Traces live per neuron (not per synapse) and decay exactly between the events that
touch them: a trace stored with value ``v`` at step ``tl`` is worth
``v * exp((t - tl) * ld)`` at step ``t`` (``ld = -dt / tau``).  Each plastic
projection ``p`` has, per presynaptic neuron, traces ``r1`` (``tau_plus``) and ``r2``
(``tau_x``) and, per postsynaptic neuron, ``o1`` (``tau_minus``) and ``o2``
(``tau_y``), after Pfister & Gerstner (J. Neurosci. 26, 9673, 2006):

.. math::

    \text{pre spike:}\quad  \Delta w = -o_1\,(A_2^- + A_3^-\, r_2(t-\epsilon)),
    \quad r_1 \mathrel{+}= 1,\ r_2 \mathrel{+}= 1

    \text{post spike:}\quad \Delta w = +r_1\,(A_2^+ + A_3^+\, o_2(t-\epsilon)),
    \quad o_1 \mathrel{+}= 1,\ o_2 \mathrel{+}= 1

Pair STDP is the special case ``A3 = 0``.  With nearest-spike pairing a spike
*sets* its traces to 1 instead of adding 1.  Weight dependence: additive
(``Δw`` as above, then clipped to ``[w_min, w_max]``) or multiplicative
(potentiation scaled by ``(w_max - w)/(w_max - w_min)``, depression by
``(w - w_min)/(w_max - w_min)``).

Within a step all presynaptic events (delivery with the old weight, then
depression and pre-trace updates) come before all postsynaptic events
(potentiation and post-trace updates), as Brian2's ``on_pre`` / ``on_post``.

Reward-modulated STDP (Izhikevich 2007; Frémaux & Gerstner 2016): the STDP change
goes into a per-synapse eligibility ``e`` instead of the weight, ``e`` decays with
``tau_e`` and every step ``w += lr * R * e * dt`` (then clipped), with ``R`` the
projection's present reward (set from Python between steps).

On a crossbar projection (``*_xb`` kernels) the same rule computes the change and
:func:`memr_snn.kernel.crossbar.device_update` turns it into device pulses (or, for
ideal single devices, the exact conductance change); a reward-modulated rule fills the
eligibility the same way and sends ``lr R e dt`` to the devices every step.

Table columns are the ``PF_*`` (float) and ``PI_*`` (int) constants.
"""

import math

from numba import njit

from .crossbar import device_update, device_weight

__all__ = [
    "PF_LDP", "PF_LDM", "PF_LDX", "PF_LDY", "PF_A2P", "PF_A3P", "PF_A2M", "PF_A3M", "PF_WMIN", "PF_WMAX",
    "PF_LDE", "PF_LR", "N_PF",
    "PI_PROJ", "PI_MULT", "PI_NEAREST", "PI_PRE", "PI_POST", "PI_POSTLO", "PI_CSC", "PI_REWARD", "PI_ELIG", "PI_NSYN",
    "N_PI",
    "trace_at", "stdp_pre_row", "stdp_post_column", "reward_step", "stdp_pre_row_xb", "stdp_post_column_xb",
    "reward_step_xb",
]

# float columns
PF_LDP = 0    # -dt / tau_plus   (pre trace r1)
PF_LDM = 1    # -dt / tau_minus  (post trace o1)
PF_LDX = 2    # -dt / tau_x      (pre trace r2)
PF_LDY = 3    # -dt / tau_y      (post trace o2)
PF_A2P = 4    # pair potentiation amplitude [weight unit]
PF_A3P = 5    # triplet potentiation amplitude [weight unit]
PF_A2M = 6    # pair depression amplitude (a magnitude) [weight unit]
PF_A3M = 7    # triplet depression amplitude (a magnitude) [weight unit]
PF_WMIN = 8
PF_WMAX = 9
PF_LDE = 10   # -dt / tau_e (eligibility, reward-modulated rules)
PF_LR = 11    # learning rate of reward-modulated rules [1/s per unit reward]
N_PF = 12

# int columns
PI_PROJ = 0     # projection index
PI_MULT = 1     # 1: multiplicative weight dependence
PI_NEAREST = 2  # 1: nearest-spike pairing (traces set to 1)
PI_PRE = 3      # offset of the presynaptic traces in tr1/tr2/trl
PI_POST = 4     # offset of the postsynaptic traces
PI_POSTLO = 5   # global index of the first postsynaptic neuron
PI_CSC = 6      # offset of the projection's column pointer in csc_ptr (n_post + 1 entries)
PI_REWARD = 7   # 1: reward-modulated (changes go to the eligibility)
PI_ELIG = 8     # offset of the projection's synapses in the eligibility array
PI_NSYN = 9     # number of synapses of the projection
N_PI = 10


@njit(cache=True, error_model="numpy", inline="always")
def trace_at(v, tl, t, ld):
    """Value at step ``t`` of a trace stored as ``v`` at step ``tl`` decaying with ``ld = -dt/tau``."""
    if t == tl or v == 0.0:
        return v
    return v * math.exp((t - tl) * ld)


@njit(cache=True, error_model="numpy", inline="always")
def _bump(v, tl, t, ld, nearest):
    return 1.0 if nearest else trace_at(v, tl, t, ld) + 1.0


@njit(cache=True, error_model="numpy", inline="always")
def _apply(w, dw, wmin, wmax, mult, potentiate):
    if mult:
        span = wmax - wmin
        dw = dw * ((wmax - w) / span if potentiate else (w - wmin) / span)
    w = w + dw
    return min(max(w, wmin), wmax)


@njit(cache=True, error_model="numpy")
def stdp_pre_row(p, pf, pi, i, t, posts, w, elig, e0, tr1, tr2, trl):
    """Presynaptic spike of local neuron ``i`` at step ``t``: depress its row, then bump its traces.

    ``posts`` are the row's global postsynaptic indices, ``w`` the row's weights
    (updated in place) and ``elig[e0 + k]`` the row's eligibilities (reward rules).
    """
    ldm, ldx = pf[p, PF_LDM], pf[p, PF_LDX]
    a2m, a3m = pf[p, PF_A2M], pf[p, PF_A3M]
    wmin, wmax = pf[p, PF_WMIN], pf[p, PF_WMAX]
    mult = pi[p, PI_MULT] != 0
    reward = pi[p, PI_REWARD] != 0
    post0 = pi[p, PI_POST] - pi[p, PI_POSTLO]
    ip = pi[p, PI_PRE] + i
    r2 = trace_at(tr2[ip], trl[ip], t, ldx)  # before this spike (t - epsilon)
    for k in range(posts.shape[0]):
        jp = post0 + posts[k]
        o1 = trace_at(tr1[jp], trl[jp], t, ldm)
        if o1 == 0.0:
            continue
        dw = -o1 * (a2m + a3m * r2)
        if reward:
            elig[e0 + k] += dw
        else:
            w[k] = _apply(w[k], dw, wmin, wmax, mult, False)
    nearest = pi[p, PI_NEAREST] != 0
    tr1[ip] = _bump(tr1[ip], trl[ip], t, pf[p, PF_LDP], nearest)
    tr2[ip] = 1.0 if nearest else r2 + 1.0
    trl[ip] = t


@njit(cache=True, error_model="numpy")
def stdp_post_column(p, pf, pi, j, t, csc_ptr, csc_syn, csc_pre, w, so, elig, tr1, tr2, trl):
    """Postsynaptic spike of local neuron ``j`` at step ``t``: potentiate its column, then bump its traces.

    ``w[so + s]`` is the weight of the projection's synapse ``s``.
    """
    ldp, ldy = pf[p, PF_LDP], pf[p, PF_LDY]
    a2p, a3p = pf[p, PF_A2P], pf[p, PF_A3P]
    wmin, wmax = pf[p, PF_WMIN], pf[p, PF_WMAX]
    mult = pi[p, PI_MULT] != 0
    reward = pi[p, PI_REWARD] != 0
    pre0 = pi[p, PI_PRE]
    jp = pi[p, PI_POST] + j
    o2 = trace_at(tr2[jp], trl[jp], t, ldy)  # before this spike (t - epsilon)
    c0 = pi[p, PI_CSC]
    e0 = pi[p, PI_ELIG]
    for c in range(csc_ptr[c0 + j], csc_ptr[c0 + j + 1]):
        s = csc_syn[c]
        ip = pre0 + csc_pre[c]
        r1 = trace_at(tr1[ip], trl[ip], t, ldp)
        if r1 == 0.0:
            continue
        dw = r1 * (a2p + a3p * o2)
        if reward:
            elig[e0 + s] += dw
        else:
            w[so + s] = _apply(w[so + s], dw, wmin, wmax, mult, True)
    nearest = pi[p, PI_NEAREST] != 0
    tr1[jp] = _bump(tr1[jp], trl[jp], t, pf[p, PF_LDM], nearest)
    tr2[jp] = 1.0 if nearest else o2 + 1.0
    trl[jp] = t


@njit(cache=True, error_model="numpy")
def reward_step(p, pf, reward, dt, w, so, m, elig, e0):
    """One step of a reward-modulated projection: ``w += lr R e dt`` (clipped), then ``e`` decays."""
    r = reward[p]
    lr = pf[p, PF_LR]
    wmin, wmax = pf[p, PF_WMIN], pf[p, PF_WMAX]
    decay = math.exp(pf[p, PF_LDE])
    if r != 0.0:
        g = lr * r * dt
        for s in range(m):
            e = elig[e0 + s]
            if e != 0.0:
                w[so + s] = min(max(w[so + s] + g * e, wmin), wmax)
                elig[e0 + s] = e * decay
    else:
        for s in range(m):
            elig[e0 + s] *= decay


@njit(cache=True, error_model="numpy", inline="always")
def _dev_dw(x, s, dw, wmin, wmax, mult, potentiate, xf, xi, g):
    """The rule's change for a device-backed synapse (weight dependence from its noiseless weight)."""
    if mult:
        w = device_weight(x, s, xf, xi, g)
        span = wmax - wmin
        dw = dw * ((wmax - w) / span if potentiate else (w - wmin) / span)
    return dw


@njit(cache=True, error_model="numpy")
def stdp_pre_row_xb(p, pf, pi, i, t, dt, posts, lo, x, xf, xi, xp, g, counts, dv, fault, tp, rtp, tf, rft,
                    acc, elig, tr1, tr2, trl):
    """:func:`stdp_pre_row` for a crossbar projection: depression goes to the devices of row ``i``."""
    ldm, ldx = pf[p, PF_LDM], pf[p, PF_LDX]
    a2m, a3m = pf[p, PF_A2M], pf[p, PF_A3M]
    wmin, wmax = pf[p, PF_WMIN], pf[p, PF_WMAX]
    mult = pi[p, PI_MULT] != 0
    post0 = pi[p, PI_POST] - pi[p, PI_POSTLO]
    ip = pi[p, PI_PRE] + i
    r2 = trace_at(tr2[ip], trl[ip], t, ldx)
    for k in range(posts.shape[0]):
        jp = post0 + posts[k]
        o1 = trace_at(tr1[jp], trl[jp], t, ldm)
        if o1 == 0.0:
            continue
        dw = _dev_dw(x, lo + k, -o1 * (a2m + a3m * r2), wmin, wmax, mult, False, xf, xi, g)
        if pi[p, PI_REWARD] != 0:
            elig[pi[p, PI_ELIG] + lo + k] += dw
        else:
            device_update(x, lo + k, i, dw, wmin, wmax, t, dt, xf, xi, xp, g, counts, dv, fault, tp, rtp, tf,
                          rft, acc)
    nearest = pi[p, PI_NEAREST] != 0
    tr1[ip] = _bump(tr1[ip], trl[ip], t, pf[p, PF_LDP], nearest)
    tr2[ip] = 1.0 if nearest else r2 + 1.0
    trl[ip] = t


@njit(cache=True, error_model="numpy")
def stdp_post_column_xb(p, pf, pi, j, t, dt, csc_ptr, csc_syn, csc_pre, x, xf, xi, xp, g, counts, dv, fault,
                        tp, rtp, tf, rft, acc, elig, tr1, tr2, trl):
    """:func:`stdp_post_column` for a crossbar projection: potentiation goes to the devices of column ``j``."""
    ldp, ldy = pf[p, PF_LDP], pf[p, PF_LDY]
    a2p, a3p = pf[p, PF_A2P], pf[p, PF_A3P]
    wmin, wmax = pf[p, PF_WMIN], pf[p, PF_WMAX]
    mult = pi[p, PI_MULT] != 0
    pre0 = pi[p, PI_PRE]
    jp = pi[p, PI_POST] + j
    o2 = trace_at(tr2[jp], trl[jp], t, ldy)
    c0 = pi[p, PI_CSC]
    for c in range(csc_ptr[c0 + j], csc_ptr[c0 + j + 1]):
        s = csc_syn[c]
        i = csc_pre[c]
        r1 = trace_at(tr1[pre0 + i], trl[pre0 + i], t, ldp)
        if r1 == 0.0:
            continue
        dw = _dev_dw(x, s, r1 * (a2p + a3p * o2), wmin, wmax, mult, True, xf, xi, g)
        if pi[p, PI_REWARD] != 0:
            elig[pi[p, PI_ELIG] + s] += dw
        else:
            device_update(x, s, i, dw, wmin, wmax, t, dt, xf, xi, xp, g, counts, dv, fault, tp, rtp, tf, rft,
                          acc)
    nearest = pi[p, PI_NEAREST] != 0
    tr1[jp] = _bump(tr1[jp], trl[jp], t, pf[p, PF_LDM], nearest)
    tr2[jp] = 1.0 if nearest else o2 + 1.0
    trl[jp] = t


@njit(cache=True, error_model="numpy")
def reward_step_xb(p, pf, reward, t, dt, indptr, elig, e0, x, xf, xi, xp, g, counts, dv, fault, tp, rtp, tf,
                   rft, acc):
    """:func:`reward_step` for a crossbar projection: ``lr R e dt`` goes to the devices of each synapse.

    ``indptr`` is the projection's CSR row pointer (rows are presynaptic neurons).
    """
    r = reward[p]
    decay = math.exp(pf[p, PF_LDE])
    wmin, wmax = pf[p, PF_WMIN], pf[p, PF_WMAX]
    gain = pf[p, PF_LR] * r * dt
    for i in range(indptr.shape[0] - 1):
        for s in range(indptr[i], indptr[i + 1]):
            e = elig[e0 + s]
            if e != 0.0:
                if r != 0.0:
                    device_update(x, s, i, gain * e, wmin, wmax, t, dt, xf, xi, xp, g, counts, dv, fault, tp,
                                  rtp, tf, rft, acc)
                elig[e0 + s] = e * decay
