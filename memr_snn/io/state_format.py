"""The network state as a checkpoint stores it: named per owner, independent of the engine layout.

Format 2 of :mod:`memr_snn.io.checkpoint` stores the dynamic state of a network under the
population or projection that owns it, with names that say what each array is, instead of the
engine's concatenated kernel arrays (format 1).  The kernel layout (how populations are
concatenated, ring-buffer slots, index types) can then change without changing the file format:
this module is the one place that translates between the two.

Fields (``k`` = position of the population / projection in the file's meta, ``n`` its size,
``D = max delay + 1``; every array is C-contiguous with exactly the dtype given):

``pop/k/state/`` for a :class:`~memr_snn.model.population.Population` (neurons)
    ``v`` (V), ``syn_exc``, ``syn_inh`` (A for current-based, S for conductance-based synapses),
    ``adaptation`` (ALIF: A; TSM: its slow variable), ``i_bias`` (A): float64 ``(n,)``;
    ``refractory``: int64 ``(n,)``, steps left (TSM: -1 during the ON phase);
    ``last_update``: int64 ``(n,)``, the step at which an idle neuron's state was last advanced
    (event mode integrates idle neurons lazily from there);
    ``input``: float64 ``(D, 2, n)``, synaptic input already emitted and not yet delivered:
    ``input[d, r]`` arrives ``d`` steps after the saved step on receptor ``r`` (0 excitatory,
    1 inhibitory).
``pop/k/state/`` for a :class:`~memr_snn.model.population.PoissonSource`
    ``next_spike``: int64 ``(n,)``, step of each input's next spike (2**62 = never);
    ``draws``: int64 ``(n,)``, random draws used (the counter of the counter-based generator);
    ``redraw``: int64 ``(1,)``, 1 when the next spikes are to be drawn afresh at the next step
    (after a rate change).  The rates themselves are ``pop/k/rates``.
``proj/k/state/`` for a projection with a plasticity rule (names of Pfister & Gerstner 2006)
    ``pre_r1``, ``pre_r2``: float64 ``(n_pre,)`` presynaptic traces (pair and triplet);
    ``pre_step``: int64 ``(n_pre,)`` step of their last update (they decay lazily from there);
    ``post_o1``, ``post_o2``, ``post_step``: the same for the postsynaptic neurons;
    ``eligibility``: float64 ``(n_synapses,)``, only for reward-modulated rules;
    ``reward``: float64 ``(1,)``, the reward signal last set.
``events/`` (only meaningful in event mode; empty otherwise)
    ``active_pop``, ``active_index``: int64, the neurons being integrated (not idle), as
    (population position, index in it), in the order the engine visits them;
    ``input_count``: int64 ``(D,)``, how many neurons have pending input ``d`` steps ahead;
    ``input_pop``, ``input_index``: int64 ``(sum(input_count),)``, those neurons, in delivery order.

The engine's event order is stored because floating-point sums depend on it: a resumed run is
bit-identical to an uninterrupted one.  Everything the model determines (Poisson rate tables,
spike-source cursors, which neurons are spike sources) is not stored but recomputed, so a file
cannot contradict its own model there.  The weights are ``proj/k/weights``; crossbar device state
is ``proj/k/crossbar/*`` (:meth:`memr_snn.devices.crossbar.CrossbarState.to_checkpoint`).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .validate import CheckpointStateError, EngineLayout, _finite, _get, _in_range, _where

__all__ = ["STATE_FORMAT", "NEURON_FIELDS", "named_state", "kernel_state"]

#: version of the named state layout (the checkpoint format that introduced it)
STATE_FORMAT = 2

#: named neuron state field -> engine array
NEURON_FIELDS = {"v": "v", "syn_exc": "se", "syn_inh": "si", "adaptation": "a", "i_bias": "ib"}

#: engine array -> where it lives in a format-2 file (used to name fields in error messages)
KERNEL_TO_NAMED = {
    "sim/v": "pop/*/state/v", "sim/se": "pop/*/state/syn_exc", "sim/si": "pop/*/state/syn_inh",
    "sim/a": "pop/*/state/adaptation", "sim/ib": "pop/*/state/i_bias", "sim/ref": "pop/*/state/refractory",
    "sim/last": "pop/*/state/last_update", "sim/buf": "pop/*/state/input",
    "sim/active": "events/active_pop+active_index", "sim/act_list": "events/active_pop+active_index",
    "sim/act_n": "events/active_pop", "sim/touched": "events/input_pop+input_index",
    "sim/tcount": "events/input_count", "sim/pending": "events/input_pop+input_index",
    "sim/pq_next": "pop/*/state/next_spike", "sim/pq_cnt": "pop/*/state/draws",
    "sim/pq_dirty": "pop/*/state/redraw", "sim/tr1": "proj/*/state/pre_r1+post_o1",
    "sim/tr2": "proj/*/state/pre_r2+post_o2", "sim/trl": "proj/*/state/pre_step+post_step",
    "sim/elig": "proj/*/state/eligibility", "sim/reward": "proj/*/state/reward",
}


def _kinds(net: Any) -> list[str]:
    return [p.kind for p in net.populations]


def _plastic(net: Any) -> list[tuple[int, Any, bool]]:
    """(position, projection, reward-modulated) of the plastic projections, in engine order."""
    from ..model.plasticity import RewardSTDP

    return [(k, pr, isinstance(pr.plasticity, RewardSTDP))
            for k, pr in enumerate(net.projections) if pr.plasticity is not None]


def named_state(net: Any, sim: Any) -> dict[str, np.ndarray]:
    """The dynamic state of built network ``net`` (engine ``sim``) as format-2 named arrays."""
    out: dict[str, np.ndarray] = {}
    lo = sim.pop_lo
    d = int(sim.buf.shape[0])
    step = int(sim.step)
    order = (step + np.arange(d)) % d  # slot of the input arriving d steps ahead
    ahead = sim.buf[order]  # the ring buffer by steps ahead (one copy for all populations)
    pq_k = 0
    for k, pop in enumerate(net.populations):
        a, b = int(lo[k]), int(lo[k + 1])
        key = f"pop/{k}/state"
        if pop.kind == "neurons":
            for name, arr in NEURON_FIELDS.items():
                out[f"{key}/{name}"] = getattr(sim, arr)[a:b].copy()
            out[f"{key}/refractory"] = sim.ref[a:b].astype(np.int64)
            out[f"{key}/last_update"] = sim.last[a:b].copy()
            out[f"{key}/input"] = ahead[:, :, a:b].copy()
        elif pop.kind == "poisson":
            out[f"{key}/next_spike"] = sim.pq_next[a:b].copy()
            out[f"{key}/draws"] = sim.pq_cnt[a:b].copy()
            out[f"{key}/redraw"] = sim.pq_dirty[pq_k:pq_k + 1].copy()
            pq_k += 1
    to = eo = 0
    for p, (k, pr, reward) in enumerate(_plastic(net)):
        key = f"proj/{k}/state"
        npre, npost = pr.pre.n, pr.post.n
        for name, arr in (("r1", sim.tr1), ("r2", sim.tr2), ("step", sim.trl)):
            out[f"{key}/pre_{name}"] = arr[to:to + npre].copy()
        for name, arr in (("o1", sim.tr1), ("o2", sim.tr2), ("step", sim.trl)):
            out[f"{key}/post_{name}"] = arr[to + npre:to + npre + npost].copy()
        to += npre + npost
        if reward:
            out[f"{key}/eligibility"] = sim.elig[eo:eo + pr.n_synapses].copy()
            eo += pr.n_synapses
        out[f"{key}/reward"] = sim.reward[p:p + 1].copy()
    act = sim.act_list[:int(sim.act_n[0])] if sim.mode == "event" else np.zeros(0, dtype=np.int64)
    out["events/active_pop"] = sim.pop_of[act].astype(np.int64)
    out["events/active_index"] = (act - lo[sim.pop_of[act]]).astype(np.int64)
    counts = np.zeros(d, dtype=np.int64)
    gids = []
    if sim.mode == "event":
        for j, s in enumerate(order):
            c = int(sim.tcount[s])
            counts[j] = c
            gids.append(sim.touched[s, :c].astype(np.int64))
    g = np.concatenate(gids) if gids else np.zeros(0, dtype=np.int64)
    out["events/input_count"] = counts
    out["events/input_pop"] = sim.pop_of[g].astype(np.int64)
    out["events/input_index"] = (g - lo[sim.pop_of[g]]).astype(np.int64)
    return out


def _gids(arrays: dict[str, np.ndarray], field: str, net: Any, lo: np.ndarray, size: int | None) -> np.ndarray:
    """Global neuron indices of the (population, index) pairs ``events/<field>_pop`` / ``_index``."""
    if size is None:  # as many entries as the file has (the count is checked by the caller)
        given = arrays.get(f"events/{field}_pop")
        size = given.shape[0] if isinstance(given, np.ndarray) and given.ndim == 1 else 0
    pop = _get(arrays, f"events/{field}_pop", "i8", (size,))
    idx = _get(arrays, f"events/{field}_index", "i8", (size,))
    kinds = _kinds(net)
    neuron_pops = [k for k, kind in enumerate(kinds) if kind == "neurons"]
    bad = ~np.isin(pop, neuron_pops)
    if np.any(bad):
        raise CheckpointStateError(f"events/{field}_pop", _where(pop, bad),
                                   f"positions of neuron populations {neuron_pops}")
    sizes = np.array([p.n for p in net.populations], dtype=np.int64)
    bad = (idx < 0) | (idx >= sizes[pop])
    if np.any(bad):
        j = int(np.flatnonzero(bad)[0])
        raise CheckpointStateError(f"events/{field}_index", f"element {j} = {int(idx[j])}",
                                   f"an index in [0, {int(sizes[pop[j]]) - 1}] (population {int(pop[j])})")
    return lo[pop] + idx


def kernel_state(net: Any, lay: EngineLayout, arrays: dict[str, np.ndarray], step: int,
                 mode: str | None) -> dict[str, np.ndarray]:
    """The engine arrays (``sim/<name>``, format 1) of the format-2 named state in ``arrays``.

    Checks every named field's presence, dtype and shape (errors name the field), the ranges that
    a single field determines, and the (population, index) pairs; the engine-level invariants
    (distinct active neurons, pending flags, ...) are then checked on the result by
    :func:`memr_snn.io.validate.check_engine_state`, exactly as for a format-1 file.
    """
    pops = net.populations
    lo = np.zeros(len(pops) + 1, dtype=np.int64)
    for k, p in enumerate(pops):
        lo[k + 1] = lo[k] + p.n
    n, nn, d = lay.n_total, lay.n_alloc, lay.n_slots
    v, se, si, a, ib = (np.zeros(n) for _ in range(5))
    ref = np.zeros(n, dtype=np.int32)
    last = np.zeros(n, dtype=np.int64)
    buf = np.zeros((d, 2, nn))
    pq_next = np.zeros(nn, dtype=np.int64)
    pq_cnt = np.zeros(nn, dtype=np.int64)
    pq_dirty = np.ones(max(len(lay.pq), 1), dtype=np.int64)
    order = (step + np.arange(d)) % d
    pq_k = 0
    for k, pop in enumerate(pops):
        s, e = int(lo[k]), int(lo[k + 1])
        key = f"pop/{k}/state"
        if pop.kind == "neurons":
            for name, target in zip(NEURON_FIELDS, (v, se, si, a, ib), strict=True):
                arr = _get(arrays, f"{key}/{name}", "f8", (pop.n,))
                _finite(f"{key}/{name}", arr)
                target[s:e] = arr
            r = _get(arrays, f"{key}/refractory", "i8", (pop.n,))
            _in_range(f"{key}/refractory", r, lay.ref_lo[s:e], lay.ref_hi[s:e],
                      "refractory steps in [0, t_ref / dt] ([-1, ...] for TSM neurons)")
            ref[s:e] = r
            la = _get(arrays, f"{key}/last_update", "i8", (pop.n,))
            _in_range(f"{key}/last_update", la, 0, step, f"steps in [0, {step}] (the network's step)")
            last[s:e] = la
            inp = _get(arrays, f"{key}/input", "f8", (d, 2, pop.n))
            _finite(f"{key}/input", inp)
            buf[order, :, s:e] = inp
        elif pop.kind == "poisson":
            nxt = _get(arrays, f"{key}/next_spike", "i8", (pop.n,))
            cnt = _get(arrays, f"{key}/draws", "i8", (pop.n,))
            red = _get(arrays, f"{key}/redraw", "i8", (1,))
            _in_range(f"{key}/redraw", red, 0, 1, "0 or 1")
            if red[0] == 0:
                _in_range(f"{key}/next_spike", nxt, step, 2**62, f"steps in [{step}, 2**62] (2**62 = never)")
            _in_range(f"{key}/draws", cnt, 0, np.iinfo(np.int64).max, "counts >= 0")
            pq_next[s:e], pq_cnt[s:e], pq_dirty[pq_k] = nxt, cnt, red[0]
            pq_k += 1
    nt = max(lay.n_traces, 1)
    tr1, tr2 = np.zeros(nt), np.zeros(nt)
    trl = np.zeros(nt, dtype=np.int64)
    elig = np.zeros(max(lay.n_elig, 1))
    reward = np.zeros(max(lay.n_plastic, 1))
    to = eo = 0
    for p, (k, pr, is_reward) in enumerate(_plastic(net)):
        key = f"proj/{k}/state"
        for side, size, names in (("pre", pr.pre.n, ("r1", "r2")), ("post", pr.post.n, ("o1", "o2"))):
            for name, target in zip(names, (tr1, tr2), strict=True):
                tr = _get(arrays, f"{key}/{side}_{name}", "f8", (size,))
                _finite(f"{key}/{side}_{name}", tr)
                _in_range(f"{key}/{side}_{name}", tr, 0.0, np.inf, "traces >= 0")
                target[to:to + size] = tr
            st = _get(arrays, f"{key}/{side}_step", "i8", (size,))
            _in_range(f"{key}/{side}_step", st, 0, step, f"steps in [0, {step}]")
            trl[to:to + size] = st
            to += size
        if is_reward:
            el = _get(arrays, f"{key}/eligibility", "f8", (pr.n_synapses,))
            _finite(f"{key}/eligibility", el)
            elig[eo:eo + pr.n_synapses] = el
            eo += pr.n_synapses
        rw = _get(arrays, f"{key}/reward", "f8", (1,))
        _finite(f"{key}/reward", rw)
        reward[p] = rw[0]
    # event-mode bookkeeping
    act_gids = _gids(arrays, "active", net, lo, None)
    if mode != "event" and act_gids.size:
        raise CheckpointStateError("events/active_pop", f"{act_gids.size} entries",
                                   f"none in {mode or 'unrun'} mode (only event mode keeps lists)")
    if act_gids.size > n:
        raise CheckpointStateError("events/active_pop", f"{act_gids.size} entries", f"at most {n} (the neurons)")
    act_list = np.zeros(nn, dtype=np.int64)
    act_list[:act_gids.size] = act_gids
    active = np.ones(n, dtype=np.uint8)
    if mode == "event":
        active[lay.is_neuron] = 0
        active[act_gids] = 1
    counts = _get(arrays, "events/input_count", "i8", (d,))
    _in_range("events/input_count", counts, 0, n if mode == "event" else 0,
              f"counts in [0, {n}]" if mode == "event" else f"0 in {mode or 'unrun'} mode")
    in_gids = _gids(arrays, "input", net, lo, int(counts.sum()))
    touched = np.zeros((d, nn), dtype=np.int32)
    tcount = np.zeros(d, dtype=np.int64)
    pending = np.zeros((d, nn), dtype=np.uint8)
    off = 0
    for j, s in enumerate(order):
        c = int(counts[j])
        g = in_gids[off:off + c]
        touched[s, :c] = g
        tcount[s] = c
        pending[s, g] = 1
        off += c
    cursors = []
    off = 0
    for _, _, steps in lay.sq:
        cursors.append(off + int(np.searchsorted(steps, step, side="left")))
        off += steps.size
    pq_rates = np.concatenate([r.ravel() for _, _, r in lay.pq]) if lay.pq else np.zeros(0)
    return {
        "sim/v": v, "sim/se": se, "sim/si": si, "sim/a": a, "sim/ib": ib, "sim/ref": ref, "sim/last": last,
        "sim/active": active, "sim/act_list": act_list, "sim/act_n": np.array([act_gids.size], dtype=np.int64),
        "sim/buf": buf, "sim/touched": touched, "sim/tcount": tcount, "sim/pending": pending,
        "sim/sq_cursor": np.array(cursors, dtype=np.int64), "sim/pq_rates": np.asarray(pq_rates, dtype=np.float64),
        "sim/tr1": tr1, "sim/tr2": tr2, "sim/trl": trl, "sim/elig": elig, "sim/reward": reward,
        "sim/pq_next": pq_next, "sim/pq_cnt": pq_cnt, "sim/pq_dirty": pq_dirty,
    }
