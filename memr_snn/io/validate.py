"""Structural checks of a network checkpoint's content, before any engine array is built.

A checkpoint's checksum proves that a file is what *some* writer wrote, not that its content is a
state the engine can run: the kernels index arrays with the values stored in the file (active
lists, touched lists, cursors, ring-buffer slots) without bounds checks, so an inconsistent file
could read or write outside an array.  :func:`memr_snn.io.checkpoint.load_network` therefore runs
every check here before the simulator is built, and :func:`memr_snn.io.checkpoint.save_network`
runs the same checks before it replaces anything, so a save never writes a file that load refuses.

Each invariant below is derived from the code that builds or updates the array
(:mod:`memr_snn.engine.simulator`, :mod:`memr_snn.kernel.loop`, :mod:`memr_snn.kernel.plasticity`,
:mod:`memr_snn.kernel.neuron`); one function per family of arrays documents its invariants.  A
violation raises :class:`CheckpointStateError` naming the field, the offending value (and index) and
the allowed range.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import numpy as np

from ..model.network import MAX_STEPS

__all__ = [
    "CheckpointStateError",
    "MAX_STEP",
    "EngineLayout",
    "engine_layout",
    "check_simulator_meta",
    "check_projection_arrays",
    "check_crossbar_meta",
    "check_monitor_data",
    "check_neuron_state",
    "check_active_set",
    "check_ring_buffer",
    "check_spike_cursors",
    "check_poisson_state",
    "check_plasticity_state",
    "check_engine_state",
]

#: Largest step count accepted: the Poisson kernel uses 2**62 as "never" and adds gaps up to 2**61.
MAX_STEP = MAX_STEPS


class CheckpointStateError(ValueError):
    """A checkpoint's content violates an invariant of the engine state.

    Parameters
    ----------
    field : str
        The checkpoint field (array name such as ``"sim/act_n"`` or meta key).
    value : str
        The offending value, as text (with its index where useful).
    allowed : str
        What would have been accepted.
    """

    def __init__(self, field: str, value: str, allowed: str) -> None:
        self.field = field
        self.value = value
        self.allowed = allowed
        super().__init__(f"{field}: {value} is invalid; allowed: {allowed}")

    def __reduce__(self) -> tuple[type[CheckpointStateError], tuple[str, str, str]]:
        return (type(self), (self.field, self.value, self.allowed))


# ----------------------------------------------------------------------------- helpers


def _is_int(value: Any) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


def _check_int(field: str, value: Any, lo: int, hi: int) -> int:
    if not _is_int(value) or not lo <= int(value) <= hi:
        raise CheckpointStateError(field, repr(value), f"an integer in [{lo}, {hi}]")
    return int(value)


def _get(arrays: dict[str, np.ndarray], field: str, dtype: str, shape: tuple[int, ...]) -> np.ndarray:
    """The array ``field`` with exactly ``dtype`` and ``shape``."""
    if field not in arrays:
        raise CheckpointStateError(field, "missing", f"a {dtype} array of shape {shape}")
    arr = arrays[field]
    if not isinstance(arr, np.ndarray) or arr.dtype != np.dtype(dtype) or arr.shape != shape:
        got = f"{getattr(arr, 'dtype', type(arr).__name__)} array of shape {getattr(arr, 'shape', '?')}"
        raise CheckpointStateError(field, got, f"a {np.dtype(dtype)} array of shape {shape}")
    return arr


def _where(arr: np.ndarray, bad: np.ndarray) -> str:
    idx = np.unravel_index(int(np.flatnonzero(bad)[0]), bad.shape)
    at = idx[0] if len(idx) == 1 else tuple(int(i) for i in idx)
    return f"element {at} = {arr[idx].item()!r}"


def _in_range(field: str, arr: np.ndarray, lo: Any, hi: Any, allowed: str | None = None) -> None:
    """Every element in ``[lo, hi]`` (bounds may be arrays of the same shape)."""
    if arr.size == 0:
        return
    bad = (arr < lo) | (arr > hi)
    if np.any(bad):
        if allowed is None:
            allowed = f"values in [{lo}, {hi}]"
        raise CheckpointStateError(field, _where(arr, bad), allowed)


def _finite(field: str, arr: np.ndarray) -> None:
    bad = ~np.isfinite(arr)
    if np.any(bad):
        raise CheckpointStateError(field, _where(arr, bad), "finite values")


def _integer_array(field: str, arr: Any, ndim: int = 1) -> np.ndarray:
    """An integer-dtype array (no silent cast from float or bool) of ``ndim`` dimensions."""
    if not isinstance(arr, np.ndarray) or arr.dtype.kind not in "iu" or arr.ndim != ndim:
        got = f"{getattr(arr, 'dtype', type(arr).__name__)} array of shape {getattr(arr, 'shape', '?')}"
        raise CheckpointStateError(field, got, f"a {ndim}-D integer array")
    return arr


# ----------------------------------------------------------------------------- layout


@dataclasses.dataclass
class EngineLayout:
    """What the simulator would build for a model: sizes and index ranges of its state arrays.

    Computed from the model (populations, projections, monitors) exactly as
    :class:`memr_snn.engine.simulator.Simulator` computes it, without allocating the engine.
    """

    n_total: int
    n_alloc: int  # max(n_total, 1): arrays indexed by neuron are never empty
    is_neuron: np.ndarray  # (n_total,) bool: neuron of a Population (integrated, may idle)
    ref_lo: np.ndarray  # (n_total,) int: smallest valid refractory counter
    ref_hi: np.ndarray  # (n_total,) int: largest valid refractory counter
    pq: list[tuple[int, int, np.ndarray]]  # per Poisson source: (lo, hi, rates as stored)
    sq: list[tuple[int, int, np.ndarray]]  # per spike source: (lo, hi, sorted steps)
    n_slots: int
    n_traces: int
    n_elig: int
    n_plastic: int


def engine_layout(net: Any) -> EngineLayout:
    """Sizes of the engine state of model ``net`` (a :class:`memr_snn.Network`, built or not)."""
    from ..engine.coefficients import group_tables
    from ..kernel import layout as L
    from ..model.plasticity import RewardSTDP
    from ..model.population import PoissonSource, Population, SpikeSource

    pops = net.populations
    lo = np.zeros(len(pops) + 1, dtype=np.int64)
    for k, p in enumerate(pops):
        lo[k + 1] = lo[k] + p.n
    n = int(lo[-1])
    is_neuron = np.zeros(n, dtype=bool)
    ref_lo = np.zeros(n, dtype=np.int64)
    ref_hi = np.zeros(n, dtype=np.int64)
    pq, sq = [], []
    for k, p in enumerate(pops):
        a, b = int(lo[k]), int(lo[k + 1])
        if isinstance(p, Population):
            is_neuron[a:b] = True
            _, gi, grp = group_tables(p.neuron, p.n, net.dt)
            typ, steps = gi[grp, L.I_TYPE], gi[grp, L.I_REF]
            # (A)LIF / conductance: ref = I_REF - 1 after a spike, counts down to 0 (kernel/loop._fire);
            # TSM: -1 while ON, I_REF after switching OFF, counting down (kernel/neuron.tsm_step_one)
            ref_lo[a:b] = np.where(typ == L.T_TSM, -1, 0)
            ref_hi[a:b] = np.maximum(steps, 0)
        elif isinstance(p, PoissonSource):
            pq.append((a, b, np.asarray(p.rates, dtype=np.float64)))
        elif isinstance(p, SpikeSource):
            st = np.round(p.times / net.dt).astype(np.int64)
            sq.append((a, b, np.sort(st)))
    max_delay = max([pr.max_delay for pr in net.projections], default=1)
    plastic = [pr for pr in net.projections if pr.plasticity is not None]
    return EngineLayout(
        n_total=n, n_alloc=max(n, 1), is_neuron=is_neuron, ref_lo=ref_lo, ref_hi=ref_hi, pq=pq, sq=sq,
        n_slots=max_delay + 1,
        n_traces=sum(pr.pre.n + pr.post.n for pr in plastic),
        n_elig=sum(pr.n_synapses for pr in plastic if isinstance(pr.plasticity, RewardSTDP)),
        n_plastic=len(plastic),
    )


# ----------------------------------------------------------------------------- model parts


def check_simulator_meta(sim_meta: Any) -> tuple[int, str | None] | None:
    """The ``simulator`` entry of the meta: ``None`` (never built) or ``{"step", "mode"}``.

    Invariants: ``step`` is an integer in ``[0, MAX_STEP]`` (the kernels compute ``t + gap`` with
    gaps up to 2**61 and use 2**62 as "never"); ``mode`` is ``None`` (built, never run),
    ``"dense"`` or ``"event"``; with mode ``None`` the step is 0.
    """
    if sim_meta is None:
        return None
    if not isinstance(sim_meta, dict) or set(sim_meta) != {"step", "mode"}:
        raise CheckpointStateError("meta['simulator']", repr(sim_meta)[:200],
                                   "null or an object with exactly the keys 'step' and 'mode'")
    step = _check_int("meta['simulator']['step']", sim_meta["step"], 0, MAX_STEP)
    mode = sim_meta["mode"]
    if mode not in (None, "dense", "event"):
        raise CheckpointStateError("meta['simulator']['mode']", repr(mode), "null, 'dense' or 'event'")
    if mode is None and step != 0:
        raise CheckpointStateError("meta['simulator']['step']", repr(step),
                                   "0 while mode is null (only a run advances the step, and it sets the mode)")
    return step, mode


def check_projection_arrays(key: str, n_pre: int, n_post: int, indptr: Any, indices: Any, weights: Any,
                            delays: Any, delay_uniform: Any) -> None:
    """Synapses of one projection, as :meth:`Projection.build` makes them.

    Invariants: ``indptr`` is an integer (n_pre + 1,) array, starts at 0, never decreases;
    ``indices`` is an integer (m,) array with values in ``[0, n_post)`` (``m = indptr[-1]``);
    ``weights`` is a float (m,) array of finite values; ``delays`` (heterogeneous delays) is an
    integer (m,) array in ``[1, MAX_DELAY_STEPS]``, otherwise ``delay_uniform`` is an integer in
    ``[1, MAX_DELAY_STEPS]``, as ``Projection(delays=...)`` requires.  No value is cast
    silently (a float index or a delay that would wrap in int16 is refused).
    """
    from ..model.projection import MAX_DELAY_STEPS

    indptr = _integer_array(f"{key}/indptr", indptr)
    if indptr.shape != (n_pre + 1,):
        raise CheckpointStateError(f"{key}/indptr", f"shape {indptr.shape}", f"shape ({n_pre + 1},) (n_pre + 1)")
    if indptr[0] != 0:
        raise CheckpointStateError(f"{key}/indptr", f"element 0 = {int(indptr[0])}", "0 (a CSR row pointer)")
    steps = np.diff(indptr.astype(np.int64))
    if np.any(steps < 0):
        raise CheckpointStateError(f"{key}/indptr", _where(indptr[1:], steps < 0),
                                   "a non-decreasing CSR row pointer")
    m = int(indptr[-1])
    indices = _integer_array(f"{key}/indices", indices)
    if indices.shape != (m,):
        raise CheckpointStateError(f"{key}/indices", f"shape {indices.shape}", f"shape ({m},) (indptr[-1])")
    _in_range(f"{key}/indices", indices, 0, n_post - 1, f"postsynaptic indices in [0, {n_post - 1}]")
    if not isinstance(weights, np.ndarray) or weights.dtype.kind != "f" or weights.shape != (m,):
        raise CheckpointStateError(f"{key}/weights", f"{getattr(weights, 'dtype', '?')} array of shape "
                                   f"{getattr(weights, 'shape', '?')}", f"a float array of shape ({m},)")
    _finite(f"{key}/weights", weights)
    if delays is not None:
        delays = _integer_array(f"{key}/delays", delays)
        if delays.shape != (m,):
            raise CheckpointStateError(f"{key}/delays", f"shape {delays.shape}", f"shape ({m},)")
        _in_range(f"{key}/delays", delays, 1, MAX_DELAY_STEPS, f"delays in [1, {MAX_DELAY_STEPS}] steps")
    else:
        _check_int(f"{key} delay_uniform", delay_uniform, 1, MAX_DELAY_STEPS)


def check_crossbar_meta(key: str, meta: Any, arrays: dict[str, np.ndarray], n_pre: int, n_synapses: int) -> None:
    """Device state of one crossbar projection, as :meth:`CrossbarState.to_checkpoint` writes it.

    Invariants: ``state`` holds only the scalar attributes :class:`CrossbarState` saves;
    ``differential`` is a bool, ``per`` is 2 if differential else 1, ``n_synapses`` equals the
    projection's synapse count, ``n_devices = per * n_synapses`` and ``n_pre`` the presynaptic
    population size (the kernel reads device ``XI_OFF + per * synapse`` and row ``XI_ROFF + pre``);
    ``_counter`` and ``unconverged`` are integers >= 0.  Arrays: conductances, drift exponents,
    programming times, wire values, device bounds and steps, wear and accumulators are finite; ``tf``,
    ``rft`` and ``budget`` are not NaN (``inf`` = never); ``rtp`` may be NaN (mixed row); ``counts``,
    ``counts0``, ``wear``, ``wear0`` and the steps >= 0; ``g_max_dev > g_min_dev``; ``fault`` in {-1, 0, 1, 2}.
    """
    from ..devices.crossbar import CrossbarState

    if not isinstance(meta, dict) or not isinstance(meta.get("state"), dict):
        raise CheckpointStateError(f"{key} crossbar", repr(meta)[:100], "an object with a 'state' object")
    state = meta["state"]
    extra = set(state) - set(CrossbarState._SCALARS)
    if extra:
        raise CheckpointStateError(f"{key} crossbar state", f"unknown keys {sorted(extra)}",
                                   f"keys among {list(CrossbarState._SCALARS)}")
    missing = set(CrossbarState._SCALARS) - set(state) - set(CrossbarState._SCALAR_DEFAULTS)
    if missing:
        raise CheckpointStateError(f"{key} crossbar state", f"missing keys {sorted(missing)}",
                                   f"all of {list(CrossbarState._SCALARS)}")
    diff = state["differential"]
    if not isinstance(diff, bool):
        raise CheckpointStateError(f"{key} crossbar state['differential']", repr(diff), "true or false")
    encoding = meta.get("spec", {}).get("encoding") if isinstance(meta.get("spec"), dict) else None
    if encoding is not None and (encoding == "differential") != diff:
        raise CheckpointStateError(f"{key} crossbar state['differential']", repr(diff),
                                   f"{encoding == 'differential'} (the spec's encoding is {encoding!r})")
    per = 2 if diff else 1
    _check_int(f"{key} crossbar state['per']", state["per"], per, per)
    _check_int(f"{key} crossbar state['n_synapses']", state["n_synapses"], n_synapses, n_synapses)
    _check_int(f"{key} crossbar state['n_devices']", state["n_devices"], per * n_synapses, per * n_synapses)
    _check_int(f"{key} crossbar state['n_pre']", state["n_pre"], n_pre, n_pre)
    _check_int(f"{key} crossbar state['_counter']", state["_counter"], 0, 2**63 - 1)
    _check_int(f"{key} crossbar state['unconverged']", state["unconverged"], 0, 2**63 - 1)
    for flag in ("drift_on", "retention_on", "wire_on"):
        if not isinstance(state[flag], bool):
            raise CheckpointStateError(f"{key} crossbar state[{flag!r}]", repr(state[flag]), "true or false")
    nd = per * n_synapses
    want = {"g": ("f8", nd), "g_target": ("f8", nd), "nu": ("f4", nd), "tp": ("f8", nd), "rtp": ("f8", n_pre),
            "rft": ("f8", n_pre), "tf": ("f8", nd), "rs": ("f8", nd), "gs": ("f8", nd), "counts": ("i8", nd),
            "counts0": ("i8", nd), "budget": ("f8", nd), "fault": ("i1", nd), "g_min_dev": ("f8", nd),
            "g_max_dev": ("f8", nd), "dg_up_dev": ("f8", nd), "dg_down_dev": ("f8", nd), "wear": ("f8", nd),
            "wear0": ("f8", nd), "acc": ("f8", 4)}
    legacy = CrossbarState._LEGACY_ARRAYS
    if not any(f"{key}/crossbar/{name}" in arrays for name in legacy):  # written before per-device steps
        want = {k: v for k, v in want.items() if k not in legacy}
    for name in CrossbarState._OPTIONAL_ARRAYS:  # the write-noise state, absent from older files
        if f"{key}/crossbar/{name}" in arrays:
            want[name] = ("f8", nd)
    got = {}
    for name, (dtype, size) in want.items():
        got[name] = _get(arrays, f"{key}/crossbar/{name}", dtype, (size,))
    for name in ("g", "g_target", "nu", "tp", "rs", "gs", "g_min_dev", "g_max_dev", "dg_up_dev", "dg_down_dev",
                 "wear", "wear0", "acc", "g_hidden", "g_shown"):
        if name in got:
            _finite(f"{key}/crossbar/{name}", got[name])
    for name in ("tf", "rft", "budget"):
        if np.any(np.isnan(got[name])):
            raise CheckpointStateError(f"{key}/crossbar/{name}", _where(got[name], np.isnan(got[name])),
                                       "numbers or inf, not NaN")
    _in_range(f"{key}/crossbar/counts", got["counts"], 0, np.iinfo(np.int64).max, "counts >= 0")
    _in_range(f"{key}/crossbar/counts0", got["counts0"], 0, np.iinfo(np.int64).max, "counts >= 0")
    for name in ("wear", "wear0", "dg_up_dev", "dg_down_dev"):
        if name in got:
            _in_range(f"{key}/crossbar/{name}", got[name], 0.0, np.inf, f"{name} >= 0")
    bad = ~(got["g_max_dev"] > got["g_min_dev"])
    if np.any(bad):
        raise CheckpointStateError(f"{key}/crossbar/g_max_dev", _where(got["g_max_dev"], bad), "g_max_dev > g_min_dev")
    bad = ~np.isin(got["fault"], (-1, 0, 1, 2))
    if np.any(bad):
        raise CheckpointStateError(f"{key}/crossbar/fault", _where(got["fault"], bad), "fault codes -1, 0, 1, 2")


def check_monitor_data(key: str, kind: str, entry: dict, arrays: dict[str, np.ndarray], pop_n: int,
                       step: int) -> None:
    """Recorded data of one monitor (indices themselves are checked by the monitor's constructor).

    Invariants (``step`` = the network's step count, 0 if never built): SpikeMonitor ``steps`` and
    ``i`` are integer arrays of one length, ``steps`` non-decreasing in ``[0, step)``, ``i`` in
    ``[0, n)`` (and among the monitor's indices when it has some); StateMonitor ``steps`` are an
    increasing integer array in ``[0, step)``, ``data`` is a finite float (n_steps, n_indices *
    n_variables) array; RateMonitor ``start_step`` is null or an integer >= 0 with
    ``start_step + len(counts) <= step``, ``counts`` integers in ``[0, n]``.
    """
    if kind == "SpikeMonitor":
        steps = _integer_array(f"{key}/steps", arrays.get(f"{key}/steps"))
        i = _integer_array(f"{key}/i", arrays.get(f"{key}/i"))
        if i.shape != steps.shape:
            raise CheckpointStateError(f"{key}/i", f"shape {i.shape}", f"shape {steps.shape} (as {key}/steps)")
        _in_range(f"{key}/steps", steps, 0, step - 1, f"steps in [0, {step - 1}] (before the network's step)")
        if steps.size > 1 and np.any(np.diff(steps) < 0):
            raise CheckpointStateError(f"{key}/steps", _where(steps[1:], np.diff(steps) < 0), "non-decreasing steps")
        _in_range(f"{key}/i", i, 0, pop_n - 1, f"neuron indices in [0, {pop_n - 1}]")
        if entry.get("has_indices") and i.size:
            watched = arrays.get(f"{key}/indices")
            if isinstance(watched, np.ndarray):
                bad = ~np.isin(i, watched)
                if np.any(bad):
                    raise CheckpointStateError(f"{key}/i", _where(i, bad), f"indices among {key}/indices")
    elif kind == "StateMonitor":
        steps = _integer_array(f"{key}/steps", arrays.get(f"{key}/steps"))
        _in_range(f"{key}/steps", steps, 0, step - 1, f"steps in [0, {step - 1}] (before the network's step)")
        if steps.size > 1 and np.any(np.diff(steps) <= 0):
            raise CheckpointStateError(f"{key}/steps", _where(steps[1:], np.diff(steps) <= 0), "increasing steps")
        data = arrays.get(f"{key}/data")
        if not isinstance(data, np.ndarray) or data.dtype.kind != "f" or data.ndim != 2:
            raise CheckpointStateError(f"{key}/data", f"{getattr(data, 'dtype', '?')} array", "a 2-D float array")
        _finite(f"{key}/data", data)
    elif kind == "RateMonitor":
        start = entry.get("start_step")
        if start is not None:
            counts = _integer_array(f"{key}/counts", arrays.get(f"{key}/counts"))
            _check_int(f"{key} start_step", start, 0, max(step - counts.size, 0))
            if start + counts.size > step:
                raise CheckpointStateError(f"{key}/counts", f"{counts.size} counts from step {start}",
                                           f"at most {step - start} (up to the network's step {step})")
            _in_range(f"{key}/counts", counts, 0, pop_n, f"spike counts in [0, {pop_n}]")


# ----------------------------------------------------------------------------- engine state


def check_neuron_state(arrays: dict[str, np.ndarray], lay: EngineLayout, step: int) -> None:
    """Per-neuron state ``v, se, si, a, ib`` (float64), ``ref`` (int32) and ``last`` (int64), (n,) each.

    Invariants: the float state is finite (the integrators and the idle test would propagate NaN
    and inf into every target); ``ref`` lies in ``[0, I_REF]`` for (A)LIF and conductance neurons
    (set to ``I_REF - 1`` by a spike, counted down) and in ``[-1, I_REF]`` for TSM neurons (-1:
    ON phase), 0 for spike sources; ``last`` (step at which an idle neuron's state is valid,
    ``sync_neuron`` advances it by ``t - last`` steps) lies in ``[0, step]``.
    """
    n = lay.n_total
    for name in ("v", "se", "si", "a", "ib"):
        _finite(f"sim/{name}", _get(arrays, f"sim/{name}", "f8", (n,)))
    ref = _get(arrays, "sim/ref", "i4", (n,))
    _in_range("sim/ref", ref, lay.ref_lo, lay.ref_hi,
              "refractory counters in [0, refractory steps] ([-1, ...] for TSM neurons; 0 for inputs)")
    last = _get(arrays, "sim/last", "i8", (n,))
    _in_range("sim/last", last, 0, step, f"steps in [0, {step}] (the network's step)")


def check_active_set(arrays: dict[str, np.ndarray], lay: EngineLayout, mode: str | None) -> None:
    """Event-mode active set: ``active`` (n,) uint8, ``act_list`` (max(n, 1),) int64, ``act_n`` (1,) int64.

    Invariants: ``active`` is 0 or 1 and is 1 for every spike-source neuron (inputs never idle);
    ``act_n`` lies in ``[0, number of neurons]``; ``act_list[:act_n]`` are distinct indices of
    neurons of Populations (the kernel integrates ``act_list[q]`` for ``q < act_n`` and appends at
    ``act_list[act_n]``).  In event mode a neuron is in the list exactly when ``active`` is 1; in
    dense mode or before the first run every ``active`` is 1 (``set_mode`` makes them so).
    """
    n = lay.n_total
    active = _get(arrays, "sim/active", "u1", (n,))
    _in_range("sim/active", active, 0, 1, "0 or 1")
    if np.any((active == 0) & ~lay.is_neuron):
        raise CheckpointStateError("sim/active", _where(active, (active == 0) & ~lay.is_neuron),
                                   "1 for spike-source neurons (they never go idle)")
    act_list = _get(arrays, "sim/act_list", "i8", (lay.n_alloc,))
    act_n_arr = _get(arrays, "sim/act_n", "i8", (1,))
    n_neurons = int(lay.is_neuron.sum())
    act_n = int(act_n_arr[0])
    if not 0 <= act_n <= n_neurons:
        raise CheckpointStateError("sim/act_n", f"element 0 = {act_n}", f"[0, {n_neurons}] (the number of neurons)")
    listed = act_list[:act_n]
    _in_range("sim/act_list", listed, 0, n - 1, f"neuron indices in [0, {n - 1}] in the first act_n entries")
    if np.any(~lay.is_neuron[listed]):
        raise CheckpointStateError("sim/act_list", _where(listed, ~lay.is_neuron[listed]),
                                   "indices of Population neurons (not of spike sources)")
    if np.unique(listed).size != listed.size:
        raise CheckpointStateError("sim/act_list", "a repeated neuron index in the first act_n entries",
                                   "distinct indices")
    if mode == "event":
        in_list = np.zeros(n, dtype=bool)
        in_list[listed] = True
        bad = lay.is_neuron & (in_list != (active == 1))
        if np.any(bad):
            raise CheckpointStateError("sim/active", _where(active, bad),
                                       "1 exactly for the neurons listed in act_list[:act_n] (event mode)")
    elif np.any(active != 1):
        raise CheckpointStateError("sim/active", _where(active, active != 1),
                                   f"all 1 in {mode or 'unrun'} mode (only event mode has idle neurons)")


def check_ring_buffer(arrays: dict[str, np.ndarray], lay: EngineLayout, step: int, mode: str | None) -> None:
    """Ring buffer ``buf`` (D, 2, N) float64, ``touched`` (D, N) int32, ``tcount`` (D,) int64, ``pending`` (D, N) uint8.

    ``D = max_delay + 1`` slots, ``N = max(n, 1)``.  Invariants: ``buf`` is finite and 0 for
    spike-source neurons (only Populations are targets); ``pending`` is 0 or 1.  In event mode
    ``tcount[s]`` lies in ``[0, n]``, ``touched[s, :tcount[s]]`` are distinct neuron indices in
    ``[0, n)`` (the kernel delivers ``buf[s, :, touched[s, e]]`` for ``e < tcount[s]``), exactly
    the ones with ``pending[s, j] = 1``, and every nonzero ``buf[s, :, j]`` is pending (else it
    would never be delivered).  In dense mode or before the first run ``tcount`` and ``pending`` are
    0 (``set_mode`` clears them).  After a run, the slot of the last simulated step
    (``(step - 1) % D``) was delivered and is empty.
    """
    d, nn, n = lay.n_slots, lay.n_alloc, lay.n_total
    buf = _get(arrays, "sim/buf", "f8", (d, 2, nn))
    _finite("sim/buf", buf)
    touched = _get(arrays, "sim/touched", "i4", (d, nn))
    tcount = _get(arrays, "sim/tcount", "i8", (d,))
    pending = _get(arrays, "sim/pending", "u1", (d, nn))
    _in_range("sim/pending", pending, 0, 1, "0 or 1")
    not_target = np.ones(nn, dtype=bool)
    not_target[:n] = ~lay.is_neuron
    if np.any(buf[:, :, not_target] != 0.0):
        sel = np.zeros(buf.shape, dtype=bool)
        sel[:, :, not_target] = buf[:, :, not_target] != 0.0
        raise CheckpointStateError("sim/buf", _where(buf, sel), "0 for spike-source neurons (never targets)")
    if mode == "event":
        _in_range("sim/tcount", tcount, 0, n, f"counts in [0, {n}] (the number of neurons)")
        for s in range(d):
            c = int(tcount[s])
            lst = touched[s, :c]
            _in_range("sim/touched", lst, 0, n - 1, f"neuron indices in [0, {n - 1}] in slot {s}'s first "
                      f"tcount[{s}] = {c} entries")
            flags = np.zeros(nn, dtype=bool)
            flags[lst] = True
            if np.unique(lst).size != c:
                raise CheckpointStateError("sim/touched", f"a repeated index in slot {s}", "distinct indices")
            if np.any(flags != (pending[s] == 1)):
                j = int(np.flatnonzero(flags != (pending[s] == 1))[0])
                raise CheckpointStateError("sim/pending", f"element ({s}, {j}) = {int(pending[s, j])}",
                                           f"1 exactly for the neurons listed in touched[{s}, :tcount[{s}]]")
            live = (buf[s, 0] != 0.0) | (buf[s, 1] != 0.0)
            if np.any(live & ~flags):
                j = int(np.flatnonzero(live & ~flags)[0])
                raise CheckpointStateError("sim/buf", f"nonzero input to neuron {j} in slot {s}",
                                           "nonzero entries only for neurons listed in touched (event mode)")
    else:
        _in_range("sim/tcount", tcount, 0, 0, f"0 in {mode or 'unrun'} mode (only event mode keeps lists)")
        _in_range("sim/pending", pending, 0, 0, f"0 in {mode or 'unrun'} mode (only event mode keeps lists)")
    if mode is not None and step > 0:
        s = (step - 1) % d
        if np.any(buf[s] != 0.0) or tcount[s] != 0:
            raise CheckpointStateError("sim/buf", f"undelivered input in slot {s} = (step - 1) % {d}",
                                       "an empty slot for the step just simulated")


def check_spike_cursors(arrays: dict[str, np.ndarray], lay: EngineLayout, step: int) -> None:
    """Spike-source cursors ``sq_cursor`` (one int64 per SpikeSource).

    Invariant: each cursor is the position of the source's first spike at a step >= ``step`` in
    its sorted spike list, counted from the source's offset (the kernel skips entries before the
    present step and emits those at it, so a cursor outside the source's entries reads another
    source's or foreign memory).
    """
    cur = _get(arrays, "sim/sq_cursor", "i8", (len(lay.sq),))
    off = 0
    for q, (_, _, steps) in enumerate(lay.sq):
        want = off + int(np.searchsorted(steps, step, side="left"))
        if int(cur[q]) != want:
            raise CheckpointStateError("sim/sq_cursor", f"element {q} = {int(cur[q])}",
                                       f"{want} (first spike of source {q} at a step >= {step}; its entries are "
                                       f"[{off}, {off + steps.size}])")
        off += steps.size


def check_poisson_state(arrays: dict[str, np.ndarray], lay: EngineLayout, step: int) -> None:
    """Poisson inputs: ``pq_rates`` (float64), ``pq_next``, ``pq_cnt`` (int64, (N,)), ``pq_dirty`` (int64).

    Invariants: ``pq_rates`` is the concatenation of the sources' rate tables (the populations'
    ``rates`` are views into it), so it equals them; ``pq_dirty`` (one per source, at least one
    entry) is 0 or 1; for a source that is not dirty, each input's next spike step ``pq_next``
    lies in ``[step, 2**62]`` (2**62 = never; the kernel fires an input when ``pq_next == t``, so a
    past step would silence it forever); ``pq_cnt`` (draws used) is >= 0; both are 0 for neurons
    that are not Poisson inputs (never written).  Files without ``pq_next`` / ``pq_cnt`` /
    ``pq_dirty`` (older format) skip those checks.
    """
    total = sum(r.size for _, _, r in lay.pq)
    rates = _get(arrays, "sim/pq_rates", "f8", (total,))
    want = np.concatenate([r.ravel() for _, _, r in lay.pq]) if lay.pq else np.zeros(0)
    if not np.array_equal(rates, want):
        bad = rates != want
        raise CheckpointStateError("sim/pq_rates", _where(rates, bad), "the Poisson populations' rates (pop/*/rates)")
    if "sim/pq_next" not in arrays and "sim/pq_cnt" not in arrays and "sim/pq_dirty" not in arrays:
        return
    nn = lay.n_alloc
    nxt = _get(arrays, "sim/pq_next", "i8", (nn,))
    cnt = _get(arrays, "sim/pq_cnt", "i8", (nn,))
    dirty = _get(arrays, "sim/pq_dirty", "i8", (max(len(lay.pq), 1),))
    _in_range("sim/pq_dirty", dirty, 0, 1, "0 or 1")
    is_pq = np.zeros(nn, dtype=bool)
    for q, (lo, hi, _) in enumerate(lay.pq):
        is_pq[lo:hi] = True
        if dirty[q] == 0:
            _in_range("sim/pq_next", nxt[lo:hi], step, 2**62,
                      f"next spike steps in [{step}, 2**62] for Poisson source {q} (not dirty)")
    _in_range("sim/pq_cnt", cnt, 0, np.iinfo(np.int64).max, "draw counts >= 0")
    for name, arr in (("sim/pq_next", nxt), ("sim/pq_cnt", cnt)):
        if np.any(arr[~is_pq] != 0):
            raise CheckpointStateError(name, _where(arr, (arr != 0) & ~is_pq),
                                       "0 for neurons that are not Poisson inputs")


def check_plasticity_state(arrays: dict[str, np.ndarray], lay: EngineLayout, step: int) -> None:
    """Plasticity state: traces ``tr1``, ``tr2`` (float64), ``trl`` (int64), ``elig``, ``reward`` (float64).

    Sizes: traces ``max(sum of n_pre + n_post over plastic projections, 1)``, ``elig``
    ``max(synapses of reward-modulated projections, 1)``, ``reward`` ``max(plastic projections, 1)``.
    Invariants: traces are finite and >= 0 (they start at 0, are bumped by +1 or set to 1, and
    decay); ``trl`` (step of a trace's last update, decayed by ``exp((t - trl) ld)``) lies in
    ``[0, step]``; eligibilities and rewards are finite (``set_reward`` refuses non-finite values).
    Files without these arrays (older format) skip the checks.
    """
    if not any(f"sim/{k}" in arrays for k in ("tr1", "tr2", "trl", "elig", "reward")):
        return
    nt = max(lay.n_traces, 1)
    for name in ("tr1", "tr2"):
        tr = _get(arrays, f"sim/{name}", "f8", (nt,))
        _finite(f"sim/{name}", tr)
        _in_range(f"sim/{name}", tr, 0.0, np.inf, "traces >= 0")
    _in_range("sim/trl", _get(arrays, "sim/trl", "i8", (nt,)), 0, step, f"steps in [0, {step}]")
    _finite("sim/elig", _get(arrays, "sim/elig", "f8", (max(lay.n_elig, 1),)))
    _finite("sim/reward", _get(arrays, "sim/reward", "f8", (max(lay.n_plastic, 1),)))


def check_engine_state(net: Any, sim_meta: Any, arrays: dict[str, np.ndarray]) -> None:
    """Every engine-state check, for model ``net`` (rebuilt from the file, engine not built).

    Does nothing when the file holds no simulator (``sim_meta`` is None): then the engine is
    built from the model, as for a new network.
    """
    parsed = check_simulator_meta(sim_meta)
    if parsed is None:
        return
    step, mode = parsed
    lay = engine_layout(net)
    check_neuron_state(arrays, lay, step)
    check_active_set(arrays, lay, mode)
    check_ring_buffer(arrays, lay, step, mode)
    check_spike_cursors(arrays, lay, step)
    check_poisson_state(arrays, lay, step)
    check_plasticity_state(arrays, lay, step)
    if not math.isfinite(net.dt):  # pragma: no cover - Network refuses it
        raise CheckpointStateError("meta['dt']", repr(net.dt), "finite and > 0")
