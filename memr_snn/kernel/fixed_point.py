"""Loihi fixed-point LIF kernels, bit-exact with Lava 0.10's ``PyLifModelBitAcc``.

The arithmetic follows ``lava/proc/lif/models.py`` (``AbstractPyLifModelFixed``),
``lava/proc/dense/models.py`` (``PyDenseModelBitAcc``, ``PyDelayDenseModelBitAcc``)
and the channel dtypes of ``lava.magma`` line for line.  All values are held in
``int64`` here; every place where Lava's ``int32`` arrays would overflow is
wrapped explicitly with :func:`wrap32`, and the 24-bit state rules are written
out.  Bit widths and shifts:

==================  =========================================================
``du``, ``dv``      12-bit unsigned decays (0..4095).  Effective factors:
                    ``decay_u = 4096 - (du + 1)`` (``ds_offset = 1``) and
                    ``decay_v = 4096 - dv`` (``dm_offset = 0``): the offsets
                    are asymmetric, so ``du = 0`` still leaks 1/4096 per step
                    while ``dv = 0`` is a perfect integrator.
decay product       ``x * decay`` in int64 (24 + 12 bits), then
                    ``sign(x) * (|x| >> 12)``: rounds toward zero.
activation          int32 channel from the Dense process, MSB-aligned with
                    ``a << 6`` (``act_shift``) in int32 (wraps mod 2**32).
``u``               24-bit signed, one wrap-around: ``u > 2**23`` subtracts
                    ``2**24``, ``u <= -2**23`` adds ``2**24`` (so ``+2**23`` is
                    kept and ``-2**23`` becomes ``+2**23``).
``v``               ``decayed_v + u + bias`` clipped to ``[-(2**23 - 1), 2**23 - 1]``.
bias                ``bias_mant << bias_exp`` (13-bit mantissa, 3-bit exponent).
threshold           ``vth << 6`` (17-bit ``vth``), spike when ``v > vth << 6``
                    (strict), then ``v = 0``; ``u`` is not reset.
weights             8-bit, pre-processed once (clip, LSB truncation, see
                    :mod:`memr_snn.hardware.fixed_point`).  Per connection and
                    per delay slot the *sum* of the weights of the spiking
                    inputs is shifted by ``weight_exp`` (``<<`` if positive,
                    arithmetic ``>>`` = floor if negative), so a negative
                    exponent floors the sum, not each weight.
latency             a spike emitted at step ``t`` reaches its target at step
                    ``t + 1 + delay`` (Dense buffers one step; DelayDense adds
                    ``delay`` = 0..63 more).
==================  =========================================================

Kernels take flat arrays only (see :func:`fxp_run`); the plain-numpy twin that
mirrors Lava's dense formulation is :mod:`memr_snn.kernel.fixed_point_reference`.
"""

import numpy as np
from numba import njit

__all__ = ["wrap32", "lif_fxp_update", "fxp_run"]


@njit(cache=True)
def wrap32(x):
    """Wrap an integer to the int32 range (two's complement, mod 2**32)."""
    return ((x + 2147483648) & 4294967295) - 2147483648


@njit(cache=True)
def _shift_toward_zero_12(x):
    # sign(x) * (|x| >> 12): Lava's decay rounding, toward zero.
    if x >= 0:
        return x >> 12
    return -((-x) >> 12)


@njit(cache=True)
def lif_fxp_update(u, v, a_in, decay_u, decay_v, bias, vth_scaled):
    """One bit-accurate LIF update for one neuron.

    Parameters
    ----------
    u, v : int
        Current and voltage before the step (24-bit values held in int64).
    a_in : int
        Summed synaptic input of this step (any integer; wrapped to int32 as
        Lava's int32 channel does).
    decay_u, decay_v : int
        ``4096 - (du + 1)`` and ``4096 - dv`` (0..4096).
    bias : int
        ``bias_mant << bias_exp``.
    vth_scaled : int
        ``vth << 6``.

    Returns
    -------
    (u, v, spiked) : (int, int, bool)
        New state after threshold and reset.
    """
    # --- current: 24-bit state, 12-bit decay, rounding toward zero -----------
    cur = _shift_toward_zero_12(u * decay_u)  # |u * decay_u| < 2**36, exact in int64
    # activation: int32 channel, MSB-aligned by 6 bits inside int32
    act = wrap32(wrap32(a_in) << 6)
    cur = wrap32(cur + act)  # int32 addition in Lava
    # single 24-bit wrap-around (not a modulo): > 2**23 -> -2**24 ; <= -2**23 -> +2**24
    if cur > 8388608:
        cur -= 16777216
    elif cur <= -8388608:
        cur += 16777216
    # --- voltage: 24-bit state, 12-bit decay, clip (no wrap) ------------------
    vol = _shift_toward_zero_12(v * decay_v)
    vol = wrap32(wrap32(vol + cur) + bias)  # int32 additions in Lava
    if vol > 8388607:  # 2**23 - 1
        vol = 8388607
    elif vol < -8388607:  # -(2**23) + 1
        vol = -8388607
    # --- threshold (strict) and reset of v only -------------------------------
    if vol > vth_scaled:
        return cur, 0, True
    return cur, vol, False


@njit(cache=True)
def fxp_run(
    n_steps,
    decay_u,
    decay_v,
    bias,
    vth_scaled,
    u,
    v,
    in_step_ptr,
    in_ids,
    conn_pre_start,
    conn_n_pre,
    conn_post_start,
    conn_n_slots,
    conn_wexp,
    conn_row_base,
    conn_tmp_base,
    conn_full,
    syn_ptr,
    syn_post,
    syn_delay,
    syn_weight,
    ring,
    n_ring_slots,
    tmp,
    touched,
    touched_flag,
    spike_buf,
    spikes_out,
    u_out,
    v_out,
    record_state,
):
    """Run a whole fixed-point network for ``n_steps`` steps (event-driven).

    Sources are numbered globally: neurons ``0..N-1`` followed by input
    channels ``N..N+M-1``.  Step ``t`` (0-based; Lava's ``time_step`` is
    ``t + 1``) does

    1. for every neuron: read and clear ring slot ``t % R``, apply
       :func:`lif_fxp_update`, collect spikes;
    2. append the input spikes of step ``t``;
    3. for every connection, sum the effective weights of its spiking sources
       per (target, delay) and add ``shift(sum, weight_exp)`` into ring slot
       ``(t + 1 + delay) % R``.

    Parameters
    ----------
    n_steps : int
    decay_u, decay_v, bias, vth_scaled : (N,) int64
        Per-neuron constants (see :func:`lif_fxp_update`).
    u, v : (N,) int64
        State, updated in place.
    in_step_ptr : (n_steps + 1,) int64
        ``in_ids[in_step_ptr[t]:in_step_ptr[t + 1]]`` are the global source ids
        of the input spikes of step ``t``.
    in_ids : int64 array
    conn_pre_start, conn_n_pre, conn_post_start : (C,) int64
        Global id of the first source, number of sources and global id of the
        first target neuron of each connection.
    conn_n_slots : (C,) int64
        ``max_delay + 1`` of each connection.
    conn_wexp : (C,) int64
        Weight exponent of each connection.
    conn_row_base : (C,) int64
        Offset of the connection's first row in ``syn_ptr``.
    conn_tmp_base : (C,) int64
        Offset of the connection's ``n_post * n_slots`` accumulator in ``tmp``.
    conn_full : (C,) int64
        1 when every source row holds all ``n_post`` targets in order (a
        dense matrix, zeros included), ``weight_exp >= 0`` and there are no
        delays: the row is then added to the ring as one contiguous
        (vectorizable) slice, and ``syn_post``/``syn_delay`` of the
        connection are not read.
    syn_ptr : int64 array
        CSR pointers by source: synapses of source ``j`` of connection ``c``
        are ``syn_ptr[conn_row_base[c] + j] : syn_ptr[conn_row_base[c] + j + 1]``.
    syn_post : uint32 array
        Local target index of each synapse.
    syn_delay : int16 array
        Delay of each synapse in steps (0..63).
    syn_weight : int16 array
        Effective (pre-processed) weight of each synapse (9-bit signed values).
    ring : (R * N,) int64
        Delivery ring, zero on entry (or carried over from a previous call).
    n_ring_slots : int
        ``R``, at least ``max_delay + 2``.
    tmp, touched, touched_flag : int64 / int64 / uint8 arrays
        Scratch of size ``sum(n_post * n_slots)``; all zero on entry.
    spike_buf : (N + M,) int64
        Scratch for the spike list.
    spikes_out : (n_steps, N) uint8
        Spike raster (written).
    u_out, v_out : (n_steps, N) int64 or (0, N)
        State after each step, written when ``record_state``.
    record_state : bool
    """
    n = u.shape[0]
    n_conn = conn_pre_start.shape[0]
    slot_base = np.empty(n_ring_slots, np.int64)  # ring offset of delay d at this step
    for t in range(n_steps):
        slot = t % n_ring_slots
        for d in range(n_ring_slots - 1):
            slot_base[d] = ((t + 1 + d) % n_ring_slots) * n
        base = slot * n
        n_spk = 0
        now = ring[base : base + n]
        for i in range(n):
            a = now[i]
            now[i] = 0
            cu, cv, s = lif_fxp_update(u[i], v[i], a, decay_u[i], decay_v[i], bias[i], vth_scaled[i])
            u[i] = cu
            v[i] = cv
            if s:
                spikes_out[t, i] = 1
                spike_buf[n_spk] = i
                n_spk += 1
        if record_state:
            for i in range(n):
                u_out[t, i] = u[i]
                v_out[t, i] = v[i]
        for k in range(in_step_ptr[t], in_step_ptr[t + 1]):
            spike_buf[n_spk] = in_ids[k]
            n_spk += 1
        for c in range(n_conn):
            p0 = conn_pre_start[c]
            p1 = p0 + conn_n_pre[c]
            ns = conn_n_slots[c]
            wexp = conn_wexp[c]
            post0 = conn_post_start[c]
            if wexp >= 0 and conn_full[c] == 1:
                # dense rows: contiguous targets post0 .. post0 + n_post - 1
                b0 = slot_base[0] + post0
                n_post = (syn_ptr[conn_row_base[c] + 1] - syn_ptr[conn_row_base[c]]) if conn_n_pre[c] > 0 else 0
                for q in range(n_spk):
                    src = spike_buf[q]
                    if src < p0 or src >= p1:
                        continue
                    k0 = syn_ptr[conn_row_base[c] + src - p0]
                    dst = ring[b0 : b0 + n_post]  # slices + range index: no wrap-around checks, SIMD
                    w = syn_weight[k0 : k0 + n_post]
                    for j in range(n_post):
                        dst[j] += np.int64(w[j]) << wexp
            elif wexp >= 0 and ns == 1:
                # no delays: every synapse lands in the next step's slot
                dst = ring[slot_base[0] + post0 :]  # indexed by unsigned syn_post: no wrap-around checks
                for q in range(n_spk):
                    src = spike_buf[q]
                    if src < p0 or src >= p1:
                        continue
                    row = conn_row_base[c] + src - p0
                    for k in range(syn_ptr[row], syn_ptr[row + 1]):
                        dst[syn_post[k]] += np.int64(syn_weight[k]) << wexp
            elif wexp >= 0:
                # a left shift distributes over the sum exactly (int64, wrapped
                # to int32 only when read), so add shifted weights directly
                for q in range(n_spk):
                    src = spike_buf[q]
                    if src < p0 or src >= p1:
                        continue
                    row = conn_row_base[c] + src - p0
                    for k in range(syn_ptr[row], syn_ptr[row + 1]):
                        ring[slot_base[syn_delay[k]] + post0 + syn_post[k]] += np.int64(syn_weight[k]) << wexp
            else:
                # a right shift floors the per-(target, delay) sum of this step
                tb = conn_tmp_base[c]
                n_touched = 0
                for q in range(n_spk):
                    src = spike_buf[q]
                    if src < p0 or src >= p1:
                        continue
                    row = conn_row_base[c] + src - p0
                    for k in range(syn_ptr[row], syn_ptr[row + 1]):
                        idx = tb + syn_post[k] * ns + syn_delay[k]
                        tmp[idx] += syn_weight[k]
                        if touched_flag[idx] == 0:
                            touched_flag[idx] = 1
                            touched[n_touched] = idx
                            n_touched += 1
                sh = -wexp
                for q in range(n_touched):
                    idx = touched[q]
                    local = idx - tb
                    post = local // ns
                    d = local - post * ns
                    ring[slot_base[d] + post0 + post] += tmp[idx] >> sh  # arithmetic shift = floor
                    tmp[idx] = 0
                    touched_flag[idx] = 0
