r"""Loihi fixed-point networks, bit-exact with Lava 0.10's ``fixed_pt`` models.

A :class:`FixedPointNetwork` holds integer LIF populations
(:class:`LoihiLIFParams`), spike inputs (:class:`SpikeInput`) and 8-bit
connections (:class:`FixedPointConnection`, dense or sparse, with optional
per-synapse delays).  :func:`run_fixed_point` runs it with the numba kernel
:func:`memr_snn.kernel.fixed_point.fxp_run` (or the numpy twin that mirrors
Lava's dense processes) and returns spikes and, optionally, ``u``/``v``.

The model is Lava's CUBA LIF (``lava.proc.lif.process.LIF`` with the
``PyLifModelBitAcc`` process model), per step ``t``:

.. math::

    u[t] &= \mathrm{wrap}_{24}\big(\mathrm{rz}(u[t-1]\,(4095 - d_u) / 2^{12}) + 2^6 a[t]\big) \\
    v[t] &= \mathrm{clip}_{24}\big(\mathrm{rz}(v[t-1]\,(4096 - d_v) / 2^{12}) + u[t]
            + b_{mant} 2^{b_{exp}}\big) \\
    s[t] &= v[t] > 2^6 v_{th}, \qquad v[t] \leftarrow 0 \text{ where } s[t]

with rz rounding toward zero, and :math:`a[t]` the sum over connections of
``shift(sum of effective weights of sources that spiked at t - 1 - delay,
weight_exp)``.  See :mod:`memr_snn.kernel.fixed_point` for every bit width.

Differences from Lava a user may meet, all deliberate and documented:

* Lava caches the threshold on the first step (``isthrscaled``) but rescales
  the bias every step; here both are immutable parameters, so the two agree.
* Lava clips out-of-range weights silently; here they are an error unless
  ``saturate=True`` (then a warning).
* Inputs are finite rasters: steps beyond the raster are silent (Lava's
  ``RingBuffer`` would repeat; the exporter pads with zeros).
"""

from __future__ import annotations

import dataclasses
from typing import Literal

import numpy as np

# The network description (parameters, populations, inputs, connections) is in fixed_point_model.py;
# running it is here.  Every name stays importable from this module.
from .fixed_point_model import (
    MAX_DELAY,
    SIGN_MODES,
    FixedPointConnection,
    FixedPointNetwork,
    FixedPointPopulation,
    FixedPointRangeError,
    FixedPointSaturationWarning,
    LoihiLIFParams,
    SpikeInput,
    determine_sign_mode,
    preprocess_weights,
)

__all__ = [
    "FixedPointRangeError",
    "FixedPointSaturationWarning",
    "LoihiLIFParams",
    "FixedPointPopulation",
    "SpikeInput",
    "FixedPointConnection",
    "FixedPointNetwork",
    "FixedPointResult",
    "determine_sign_mode",
    "preprocess_weights",
    "run_fixed_point",
    "SIGN_MODES",
    "MAX_DELAY",
]


@dataclasses.dataclass(frozen=True, eq=False)
class FixedPointResult:
    """Output of :func:`run_fixed_point`: per-population ``(n_steps, n)`` arrays.

    ``spikes`` are bool; ``u`` and ``v`` (int64, state after each step,
    i.e. after the reset) are empty dicts unless recorded.
    """

    spikes: dict
    u: dict
    v: dict


def _flatten(net: FixedPointNetwork, n_steps: int):
    n = net.n_neurons
    start = {}
    off = 0
    decay_u = np.empty(n, np.int64)
    decay_v = np.empty(n, np.int64)
    bias = np.empty(n, np.int64)
    vth = np.empty(n, np.int64)
    u = np.empty(n, np.int64)
    v = np.empty(n, np.int64)
    for p in net.populations:
        sl = slice(off, off + p.n)
        start[p.name] = off
        decay_u[sl] = p.params.decay_u
        decay_v[sl] = p.params.decay_v
        bias[sl] = p.params.effective_bias(p.n)
        vth[sl] = p.params.vth << 6  # 17-bit threshold MSB-aligned to the 24-bit voltage
        u[sl] = p.u0
        v[sl] = p.v0
        off += p.n
    for s in net.inputs:
        start[s.name] = off
        off += s.n
    # input spikes per step, as global source ids
    per_step = [[] for _ in range(n_steps)]
    for s in net.inputs:
        steps, ch = np.nonzero(s.spikes[:n_steps])
        for t, c in zip(steps.tolist(), ch.tolist(), strict=True):
            per_step[t].append(start[s.name] + c)
    counts = np.array([len(x) for x in per_step], np.int64)
    in_step_ptr = np.zeros(n_steps + 1, np.int64)
    np.cumsum(counts, out=in_step_ptr[1:])
    in_ids = np.array([i for x in per_step for i in x], np.int64)
    nc = len(net.connections)
    c_pre = np.zeros(nc, np.int64)
    c_npre = np.zeros(nc, np.int64)
    c_post = np.zeros(nc, np.int64)
    c_slots = np.zeros(nc, np.int64)
    c_wexp = np.zeros(nc, np.int64)
    c_row = np.zeros(nc, np.int64)
    c_tmp = np.zeros(nc, np.int64)
    c_full = np.zeros(nc, np.int64)
    ptrs, posts, delays, weights = [np.zeros(1, np.int64)], [], [], []
    row_off = syn_off = tmp_off = 0
    max_delay = 0
    for ci, c in enumerate(net.connections):
        n_post, n_pre = c.shape
        full = c.max_delay == 0 and c.weight_exp >= 0 and c._raw.size * 2 > n_pre * n_post
        if full:
            # mostly dense, no delays: store every pair (zeros too) so that each source row is
            # contiguous; the kernel reads only the weights of such a connection
            w = np.zeros((n_pre, n_post), np.int16)
            w[c._pre_idx, c._post_idx] = preprocess_weights(c._raw, c._mode, c.num_weight_bits)
            w = w.ravel()
            post = np.zeros(w.size, np.uint32)
            d = np.zeros(w.size, np.int16)
            cnt = np.full(n_pre, n_post, np.int64)
        else:
            pre, post, w, d = c.synapses()
            cnt = np.bincount(pre, minlength=n_pre).astype(np.int64)
        c_full[ci] = full
        c_pre[ci] = start[c.pre]
        c_npre[ci] = n_pre
        c_post[ci] = start[c.post]
        c_slots[ci] = c.max_delay + 1
        c_wexp[ci] = c.weight_exp
        c_row[ci] = row_off
        c_tmp[ci] = tmp_off
        ptrs.append(syn_off + np.cumsum(cnt))
        posts.append(post)
        delays.append(d)
        weights.append(w)
        row_off += n_pre
        syn_off += w.size
        tmp_off += n_post * (c.max_delay + 1)
        max_delay = max(max_delay, c.max_delay)
    def cat(xs, dtype):
        return np.concatenate(xs).astype(dtype, copy=False) if xs else np.zeros(0, dtype)

    return dict(
        decay_u=decay_u,
        decay_v=decay_v,
        bias=bias,
        vth=vth,
        u=u,
        v=v,
        in_step_ptr=in_step_ptr,
        in_ids=in_ids,
        c_pre=c_pre,
        c_npre=c_npre,
        c_post=c_post,
        c_slots=c_slots,
        c_wexp=c_wexp,
        c_row=c_row,
        c_tmp=c_tmp,
        syn_ptr=np.concatenate(ptrs).astype(np.int64),
        # compact synapse arrays (8 bytes per synapse): the kernel streams them
        syn_post=cat(posts, np.uint32),  # unsigned: numba skips negative-index checks
        syn_delay=cat(delays, np.int16),  # 0..63
        syn_weight=cat(weights, np.int16),  # effective 8-bit weights, |w| <= 256
        c_full=c_full,
        n_ring=max_delay + 2,
        n_tmp=tmp_off,
        n_src=off,
    )


def run_fixed_point(
    net: FixedPointNetwork,
    n_steps: int,
    *,
    record_state: bool = False,
    backend: Literal["numba", "python", "numpy"] = "numba",
) -> FixedPointResult:
    """Run ``net`` for ``n_steps`` steps in Loihi fixed point.

    Parameters
    ----------
    net : FixedPointNetwork
    n_steps : int
        Number of steps; step ``t`` (0-based) is Lava's ``time_step = t + 1``.
    record_state : bool
        Also return ``u`` and ``v`` after every step.
    backend : {'numba', 'python', 'numpy'}
        ``numba``: the jitted kernel; ``python``: the same kernel's
        ``.py_func`` (slow, for tests); ``numpy``: the Lava-shaped numpy twin.

    Returns
    -------
    FixedPointResult
    """
    if isinstance(n_steps, bool) or not isinstance(n_steps, (int, np.integer)) or n_steps < 0:
        raise ValueError(f"n_steps must be a non-negative integer, got {n_steps!r}")
    if backend not in ("numba", "python", "numpy"):
        raise ValueError(f"backend must be 'numba', 'python' or 'numpy', got {backend!r}")
    n_steps = int(n_steps)
    if backend == "numpy":
        return _run_numpy(net, n_steps, record_state)
    from ..kernel.fixed_point import fxp_run

    f = _flatten(net, n_steps)
    n = net.n_neurons
    spikes = np.zeros((n_steps, n), np.uint8)
    u_out = np.zeros((n_steps if record_state else 0, n), np.int64)
    v_out = np.zeros((n_steps if record_state else 0, n), np.int64)
    # under NUMBA_DISABLE_JIT the kernel is already the plain Python function
    kernel = fxp_run if backend == "numba" else getattr(fxp_run, "py_func", fxp_run)
    kernel(
        n_steps,
        f["decay_u"],
        f["decay_v"],
        f["bias"],
        f["vth"],
        f["u"],
        f["v"],
        f["in_step_ptr"],
        f["in_ids"],
        f["c_pre"],
        f["c_npre"],
        f["c_post"],
        f["c_slots"],
        f["c_wexp"],
        f["c_row"],
        f["c_tmp"],
        f["c_full"],
        f["syn_ptr"],
        f["syn_post"],
        f["syn_delay"],
        f["syn_weight"],
        np.zeros(f["n_ring"] * n, np.int64),
        f["n_ring"],
        np.zeros(f["n_tmp"], np.int64),
        np.zeros(f["n_tmp"], np.int64),
        np.zeros(f["n_tmp"], np.uint8),
        np.zeros(f["n_src"], np.int64),
        spikes,
        u_out,
        v_out,
        record_state,
    )
    out_s, out_u, out_v = {}, {}, {}
    off = 0
    for p in net.populations:
        out_s[p.name] = spikes[:, off : off + p.n].astype(bool)
        if record_state:
            out_u[p.name] = u_out[:, off : off + p.n]
            out_v[p.name] = v_out[:, off : off + p.n]
        off += p.n
    return FixedPointResult(out_s, out_u, out_v)


def _run_numpy(net: FixedPointNetwork, n_steps: int, record_state: bool) -> FixedPointResult:
    from ..kernel.fixed_point_reference import fxp_run_reference

    pidx = {p.name: i for i, p in enumerate(net.populations)}
    iidx = {s.name: i for i, s in enumerate(net.inputs)}
    pops = [
        dict(
            n=p.n,
            du=p.params.du,
            dv=p.params.dv,
            vth=p.params.vth,
            bias_mant=p.params.bias_mant,
            bias_exp=p.params.bias_exp,
            u0=p.u0,
            v0=p.v0,
        )
        for p in net.populations
    ]
    conns = [
        dict(
            pre=("pop", pidx[c.pre]) if c.pre in pidx else ("input", iidx[c.pre]),
            post=pidx[c.post],
            weights=c.dense_weights().astype(np.int32),
            delays=c.dense_delays(),
            weight_exp=c.weight_exp,
        )
        for c in net.connections
    ]
    spikes, u, v = fxp_run_reference(n_steps, pops, [s.spikes for s in net.inputs], conns, record_state)
    names = [p.name for p in net.populations]
    return FixedPointResult(
        dict(zip(names, spikes, strict=True)),
        dict(zip(names, u, strict=True)) if record_state else {},
        dict(zip(names, v, strict=True)) if record_state else {},
    )
