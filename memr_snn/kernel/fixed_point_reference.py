"""Plain-numpy twin of :mod:`memr_snn.kernel.fixed_point`, shaped like Lava.

Where the numba kernel is event-driven (CSR rows, one ring buffer per neuron),
this twin keeps Lava's formulation: int32 state arrays, one dense
``(n_post, n_pre)`` weight matrix and one ``(n_post, max_delay + 1)``
activation buffer per connection, rolled every step, and numpy's own int32
overflow.  It is used by the tests only and is slow by design.
"""

from __future__ import annotations

import numpy as np

__all__ = ["lif_fxp_step_reference", "delay_dense_step_reference", "fxp_run_reference"]


def lif_fxp_step_reference(u, v, a_in, du, dv, bias_mant, bias_exp, vth):
    """One step of Lava's ``PyLifModelBitAcc`` on int32 arrays (in place).

    Returns the boolean spike vector.
    """
    with np.errstate(over="ignore"):
        bm = np.asarray(bias_mant).astype(np.int32)
        be = np.asarray(bias_exp)
        bias = np.where(be >= 0, np.left_shift(bm, np.maximum(be, 0)), np.right_shift(bm, np.maximum(-be, 0)))
        dec = np.int64(u) * (4096 - (du + 1))
        dec = np.int32(np.sign(dec) * np.right_shift(np.abs(dec), 12))
        act = np.left_shift(np.asarray(a_in, dtype=np.int32), 6)
        dec = dec + act  # int32 + int32, wraps like Lava
        max_uv = 2**23
        w = np.where(dec > max_uv, dec - 2 * max_uv, dec)
        w = np.where(w <= -max_uv, dec + 2 * max_uv, w)
        u[:] = w
        decv = np.int64(v) * (4096 - dv)
        decv = np.int32(np.sign(decv) * np.right_shift(np.abs(decv), 12))
        upd = decv + u + bias.astype(np.int32)
        v[:] = np.clip(upd, -max_uv + 1, max_uv - 1)
        spk = v > np.left_shift(np.int32(vth), 6)
        v[spk] = 0
    return spk


def delay_dense_step_reference(a_buff, weights, delays, weight_exp, s_in):
    """One step of Lava's ``PyDelayDenseModelBitAcc`` (``PyDenseModelBitAcc`` when
    all delays are 0).

    Returns ``(a_out, new_a_buff)``: the activation sent this step (computed
    from the spikes of earlier steps) and the updated ``(n_post, D + 1)`` int32
    buffer.
    """
    a_out = a_buff[:, 0].copy()
    n_slots = a_buff.shape[1]
    s = np.asarray(s_in).astype(bool)
    acc = np.stack([np.where(delays == k, weights, 0)[:, s].sum(axis=1) for k in range(n_slots)], axis=1)
    acc = acc.astype(np.int64)
    acc = np.left_shift(acc, weight_exp) if weight_exp > 0 else np.right_shift(acc, -weight_exp)
    a_buff = a_buff.copy()
    a_buff[:, 0] = 0
    a_buff = np.roll(a_buff, -1, axis=1)
    with np.errstate(over="ignore"):
        a_buff = (a_buff.astype(np.int64) + acc).astype(np.int32)  # int32 buffer, wraps
    return a_out, a_buff


def fxp_run_reference(n_steps, populations, inputs, connections, record_state=True):
    """Run a fixed-point network the way a Lava process graph does.

    Parameters
    ----------
    n_steps : int
    populations : list of dict
        Keys ``n, du, dv, vth, bias_mant, bias_exp, u0, v0``.
    inputs : list of (n_steps_data, n) arrays
        Spike rasters; rows beyond the data are silent.
    connections : list of dict
        Keys ``pre`` (``("pop", i)`` or ``("input", i)``), ``post`` (population
        index), ``weights`` (effective int weights, (n_post, n_pre)),
        ``delays`` ((n_post, n_pre) int), ``weight_exp``.

    Returns
    -------
    spikes : list of (n_steps, n) bool arrays
    u, v : list of (n_steps, n) int arrays (empty lists if not recorded)
    """
    us = [np.broadcast_to(np.asarray(p["u0"]), (p["n"],)).astype(np.int32).copy() for p in populations]
    vs = [np.broadcast_to(np.asarray(p["v0"]), (p["n"],)).astype(np.int32).copy() for p in populations]
    bufs = [np.zeros((c["weights"].shape[0], int(np.max(c["delays"], initial=0)) + 1), np.int32) for c in connections]
    last = [np.zeros(p["n"], bool) for p in populations]
    spikes = [np.zeros((n_steps, p["n"]), bool) for p in populations]
    u_rec = [np.zeros((n_steps, p["n"]), np.int64) for p in populations] if record_state else []
    v_rec = [np.zeros((n_steps, p["n"]), np.int64) for p in populations] if record_state else []
    for t in range(n_steps):
        # every Dense sends its buffer first, then receives this step's spikes
        a_in = [np.zeros(p["n"], np.int32) for p in populations]
        # Lava runs all processes of a step in parallel: neurons use the
        # activation sent now (from earlier spikes); Dense then receives the
        # spikes the neurons emit *this* step.  Emulate: neurons first.
        for ci, c in enumerate(connections):
            with np.errstate(over="ignore"):
                a_in[c["post"]] = (a_in[c["post"]] + bufs[ci][:, 0]).astype(np.int32)
        for pi, p in enumerate(populations):
            last[pi] = lif_fxp_step_reference(
                us[pi], vs[pi], a_in[pi], p["du"], p["dv"], p["bias_mant"], p["bias_exp"], p["vth"]
            )
            spikes[pi][t] = last[pi]
            if record_state:
                u_rec[pi][t] = us[pi]
                v_rec[pi][t] = vs[pi]
        for ci, c in enumerate(connections):
            kind, idx = c["pre"]
            if kind == "pop":
                s = last[idx]
            else:
                data = inputs[idx]
                s = data[t].astype(bool) if t < data.shape[0] else np.zeros(data.shape[1], bool)
            _, bufs[ci] = delay_dense_step_reference(bufs[ci], c["weights"], c["delays"], c["weight_exp"], s)
    return spikes, u_rec, v_rec
