"""Save a whole network with its state to one file, and load it to continue.

Everything needed to continue a run bit for bit is stored: the model
(populations with their parameters, projections with their synapses, monitors
with their data), the dynamic state (neurons, ring buffers, spike-source
cursors, Poisson rates, event-mode bookkeeping) and the step counter.  Random
numbers are counter-based (a function of seed, step and index), so the seed
and the step are the whole RNG state.  The file is the checksummed container
of :mod:`memr_snn.io.container`; a truncated or altered file is refused with
:class:`~memr_snn.io.container.CheckpointError`.

Since format 2 the state is stored *named*, under the population or projection that owns it
(``pop/0/state/v``, ``proj/2/state/eligibility``, ``events/active_pop`` ...; the full list is in
:mod:`memr_snn.io.state_format`), not as the engine's concatenated kernel arrays, so the engine's
layout can change without changing the file format.  Files of format 1 (the kernel arrays,
``sim/*``) still load, through the same checks; files of a newer format than this version knows are
refused with a message that says so.

A valid checksum does not make a file's content a runnable state, so loading
also checks every structural invariant of the engine state
(:mod:`memr_snn.io.validate`) and validates the model parts (populations,
synapses, spike times, rates, monitor indices) as the public API does, before
the engine is built.  Saving runs the very same checks on the state it is about
to write and refuses (leaving any existing file untouched) a state that loading
would refuse.
"""

from __future__ import annotations

import dataclasses
import logging
from pathlib import Path

import numpy as np

from ..engine.simulator import OPTIONAL_STATE, STATE_ARRAYS
from ..model.connectivity import Connectivity
from ..model.monitors import RateMonitor, SpikeMonitor, StateMonitor
from ..model.network import Network
from ..model.population import PoissonSource, Population, SpikeSource
from ..model.projection import Projection
from ..neurons.base import NEURON_MODELS
from .container import CheckpointError, _normalize_meta, read_container, write_container
from .state_format import KERNEL_TO_NAMED, STATE_FORMAT, kernel_state, named_state
from .validate import (
    CheckpointStateError,
    check_crossbar_meta,
    check_engine_state,
    check_monitor_data,
    check_projection_arrays,
    check_simulator_meta,
    engine_layout,
)

__all__ = ["save_network", "load_network", "CHECKPOINT_KIND", "CheckpointStateError"]

logger = logging.getLogger(__name__)

CHECKPOINT_KIND = "memr_snn.network"
#: format written by this version: 2 = named state (:mod:`memr_snn.io.state_format`)
CHECKPOINT_VERSION = STATE_FORMAT
#: formats this version reads: 1 = engine kernel arrays (``sim/*``), 2 = named state
READABLE_VERSIONS = (1, 2)


def _params_meta(pop: Population, key: str, arrays: dict) -> dict:
    params = {}
    for f in dataclasses.fields(pop.neuron):
        value = getattr(pop.neuron, f.name)
        if isinstance(value, np.ndarray):
            name = f"{key}/param/{f.name}"
            arrays[name] = value
            params[f.name] = {"array": name}
        elif "choices" in f.metadata:  # an option (a string from a fixed set): kept as is
            params[f.name] = value
        else:
            params[f.name] = float(value)
    return {"model": pop.neuron.model, "params": params}


def save_network(net: Network, path: str | Path) -> Path:
    """Write ``net`` (structure, state, monitor data) to ``path`` atomically.

    The state is first checked exactly as :func:`load_network` checks a file
    (same code), so a file that loading would refuse is never written and an
    existing good file at ``path`` is never replaced by one.

    Parameters
    ----------
    net : Network
        The network to save (built or not).
    path : str or os.PathLike
        Destination: a new path, a regular file or a symbolic link (replaced
        itself); FIFOs, devices, sockets and directories are refused.

    Returns
    -------
    pathlib.Path
        ``path``.

    Raises
    ------
    CheckpointStateError
        The state violates an engine invariant (e.g. non-finite neuron state);
        the message names the field, the value and the allowed range.  Nothing
        is written.
    OSError
        The file cannot be written (see :func:`memr_snn.io.atomic.atomic_write`).
    """
    arrays: dict[str, np.ndarray] = {}
    pops = []
    for k, pop in enumerate(net.populations):
        key = f"pop/{k}"
        entry = {"kind": pop.kind, "name": pop.name, "n": pop.n}
        if isinstance(pop, Population):
            entry["neuron"] = _params_meta(pop, key, arrays)
            entry["initial"] = sorted(pop.initial)
            for var, values in pop.initial.items():
                arrays[f"{key}/initial/{var}"] = values
        elif isinstance(pop, PoissonSource):
            arrays[f"{key}/rates"] = np.asarray(pop.rates)
            entry["rate_interval"] = pop.rate_interval
        elif isinstance(pop, SpikeSource):
            arrays[f"{key}/times"] = pop.times
            arrays[f"{key}/indices"] = pop.indices
        pops.append(entry)
    projs = []
    for k, pr in enumerate(net.projections):
        key = f"proj/{k}"
        projs.append({
            "name": pr.name, "pre": pr.pre.name, "post": pr.post.name, "receptor": pr.receptor,
            "connectivity": repr(pr.connectivity)[:200], "delay_uniform": pr.delay_uniform,
            "plasticity": None if pr.plasticity is None else pr.plasticity.to_dict(),
        })
        arrays[f"{key}/indptr"] = pr.indptr
        arrays[f"{key}/indices"] = pr.indices
        arrays[f"{key}/weights"] = np.asarray(pr.weights)
        if pr.delays is not None:
            arrays[f"{key}/delays"] = np.asarray(pr.delays)
        if pr.crossbar is not None:
            xb_meta, xb_arrays = pr.crossbar.to_checkpoint()
            projs[-1]["crossbar"] = xb_meta
            for name, arr in xb_arrays.items():
                arrays[f"{key}/crossbar/{name}"] = arr
    mons = []
    for k, mon in enumerate(net.monitors):
        key = f"mon/{k}"
        entry = {"type": type(mon).__name__, "population": mon.population.name, "name": mon.name}
        if isinstance(mon, SpikeMonitor):
            if mon.indices is not None:
                arrays[f"{key}/indices"] = mon.indices
            entry["has_indices"] = mon.indices is not None
            arrays[f"{key}/steps"] = mon.steps
            arrays[f"{key}/i"] = mon.i
        elif isinstance(mon, StateMonitor):
            entry["variables"] = list(mon.variables)
            entry["interval"] = mon.interval
            arrays[f"{key}/indices"] = mon.indices
            arrays[f"{key}/steps"] = mon.steps
            n_idx = mon.indices.size
            vals = mon.values
            arrays[f"{key}/data"] = (
                np.concatenate([vals[v] for v in mon.variables], axis=1)
                if mon.steps.size else np.zeros((0, n_idx * len(mon.variables)))
            )
        elif isinstance(mon, RateMonitor):
            arrays[f"{key}/counts"] = mon.counts
            entry["start_step"] = mon._start_step
        mons.append(entry)
    sim = net._sim
    meta = {
        "kind": CHECKPOINT_KIND,
        "version": CHECKPOINT_VERSION,
        "dt": net.dt,
        "seed": net.seed,
        "name": net.name,  # optional label (None when unset)
        "engine": net.engine,
        "weight_dtype": net.weight_dtype,
        "threads": net.threads,  # None: the default (one thread); results do not depend on it
        "populations": pops,
        "projections": projs,
        "monitors": mons,
        "simulator": None if sim is None else {"step": sim.step, "mode": sim.mode},
    }
    if sim is not None:
        # the engine's own arrays first (a corrupted engine is refused in its terms), then the file
        check_engine_state(net, meta["simulator"], {f"sim/{k}": v for k, v in sim.state_arrays().items()})
        arrays.update(named_state(net, sim))
    _check_content(_normalize_meta(meta, "meta", 0, set()),
                   {k: np.ascontiguousarray(v) for k, v in arrays.items()})
    return write_container(path, meta, arrays)


def _check_content(meta: dict, arrays: dict[str, np.ndarray]) -> Network:
    """Validate a checkpoint's content (model through the public API, engine state through
    :mod:`memr_snn.io.validate`); return the rebuilt model, engine not built.

    Raises ``CheckpointStateError`` for engine-state violations and ``KeyError``, ``TypeError``,
    ``ValueError``... for malformed model entries (as the public constructors raise them).
    """
    if meta.get("kind") != CHECKPOINT_KIND:
        raise CheckpointStateError("meta['kind']", repr(meta.get("kind")), repr(CHECKPOINT_KIND))
    version = meta.get("version")
    if version not in READABLE_VERSIONS:
        raise CheckpointStateError("meta['version']", repr(version), f"one of {READABLE_VERSIONS}")
    parsed = check_simulator_meta(meta["simulator"])
    step = 0 if parsed is None else parsed[0]
    net = _rebuild_model(meta, arrays, step)
    if version == 1 or parsed is None:
        check_engine_state(net, meta["simulator"], arrays)
        return net
    kernel = kernel_state(net, engine_layout(net), arrays, step, parsed[1])
    try:
        check_engine_state(net, meta["simulator"], kernel)
    except CheckpointStateError as exc:  # name the file's field, not the engine array it became
        field = KERNEL_TO_NAMED.get(exc.field, exc.field)
        raise CheckpointStateError(f"{field} (as the engine array {exc.field})", exc.value, exc.allowed) from None
    arrays.update(kernel)  # the engine is restored from these (the caller's dict, already validated)
    return net


def _neuron_params(entry, key, arrays):
    model = entry["model"]
    if model not in NEURON_MODELS:
        raise ValueError(f"unknown neuron model {model!r}")
    params = {}
    for name, value in entry["params"].items():
        params[name] = arrays[value["array"]] if isinstance(value, dict) else value
    return NEURON_MODELS[model](**params)


def load_network(path: str | Path) -> Network:
    """Read a network written by :func:`save_network`, ready to continue running.

    Reads checkpoint formats 1 (engine kernel arrays, written by earlier versions) and 2 (named
    state, :mod:`memr_snn.io.state_format`, written today); both continue bit for bit.

    Raises
    ------
    CheckpointError
        If the file is not a memr_snn network checkpoint, is truncated or
        altered (checksum), was written by a newer memr_snn (a format this
        version does not know: the message says so), or its content is
        inconsistent (the message names the field, its value and what is allowed).
    """
    meta, arrays = read_container(path)
    if meta.get("kind") != CHECKPOINT_KIND:
        raise CheckpointError(path, f"not a network checkpoint (kind={meta.get('kind')!r})")
    version = meta.get("version")
    if version not in READABLE_VERSIONS:
        newer = isinstance(version, int) and not isinstance(version, bool) and version > CHECKPOINT_VERSION
        why = (f"it was written by a newer memr_snn (checkpoint format {version}; this version reads "
               f"formats {READABLE_VERSIONS}): upgrade memr_snn to load it" if newer else
               f"unsupported network checkpoint format {version!r} (this version reads formats {READABLE_VERSIONS})")
        raise CheckpointError(path, why)
    try:
        net = _check_content(meta, arrays)
        _restore_engine(net, meta, arrays)
        return net
    except CheckpointError:
        raise
    except CheckpointStateError as exc:
        raise CheckpointError(path, f"invalid engine state: {exc}") from None
    except MemoryError as exc:  # the file describes a network larger than this machine can hold
        raise CheckpointError(path, f"the network it describes does not fit in memory: {exc}") from None
    except (KeyError, TypeError, ValueError, IndexError, AttributeError, RuntimeError) as exc:
        raise CheckpointError(path, f"inconsistent checkpoint content: {type(exc).__name__}: {exc}") from None


def _saved_threads(value):
    """The saved thread count (absent in older files: None), or None when this machine allows fewer threads:
    the thread count never changes results, so a file written on a larger machine still loads."""
    from ..info import max_threads

    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"threads must be None or an integer >= 1, got {value!r}")
    if value > max_threads():
        logger.warning("checkpoint saved with threads=%d; this machine allows at most %d: using its default",
                       value, max_threads())
        return None
    return value


def _rebuild_model(meta, arrays, step: int) -> Network:
    """Populations, projections and monitors (with their data) from the file; no engine."""
    net = Network(dt=meta["dt"], seed=meta["seed"], engine=meta["engine"],
                  weight_dtype=meta.get("weight_dtype", "float64"))
    net.name = meta.get("name")  # optional (files written before it existed load with None); validated
    net.threads = _saved_threads(meta.get("threads"))
    for k, entry in enumerate(meta["populations"]):
        key = f"pop/{k}"
        kind = entry["kind"]
        if kind == "neurons":
            pop = Population(entry["n"], _neuron_params(entry["neuron"], key, arrays), name=entry["name"])
            for var in entry["initial"]:
                pop.set_initial(var, arrays[f"{key}/initial/{var}"])
        elif kind == "poisson":
            pop = PoissonSource(entry["n"], arrays[f"{key}/rates"], entry["rate_interval"], name=entry["name"])
        elif kind == "spikes":
            pop = SpikeSource(entry["n"], arrays[f"{key}/times"], arrays[f"{key}/indices"], name=entry["name"])
        else:
            raise ValueError(f"unknown population kind {kind!r}")
        net.add(pop)
    for k, entry in enumerate(meta["projections"]):
        key = f"proj/{k}"
        pre, post = net.population(entry["pre"]), net.population(entry["post"])
        rule = None
        if entry.get("plasticity") is not None:
            from ..model.plasticity import rule_from_dict

            rule = rule_from_dict(entry["plasticity"])
        proj = Projection(pre, post, _Restored(), weights=0.0, receptor=entry["receptor"], name=entry["name"],
                          plasticity=rule)
        check_projection_arrays(key, pre.n, post.n, arrays[f"{key}/indptr"], arrays[f"{key}/indices"],
                                arrays[f"{key}/weights"], arrays.get(f"{key}/delays"), entry["delay_uniform"])
        proj._restore(
            arrays[f"{key}/indptr"], arrays[f"{key}/indices"], arrays[f"{key}/weights"],
            arrays.get(f"{key}/delays"), entry["delay_uniform"],
        )
        if entry.get("crossbar") is not None:
            from ..devices.crossbar import CrossbarState

            prefix = f"{key}/crossbar/"
            xb_arrays = {k[len(prefix):]: v for k, v in arrays.items() if k.startswith(prefix)}
            check_crossbar_meta(key, entry["crossbar"], arrays, pre.n, proj.n_synapses)
            proj.crossbar = CrossbarState.from_checkpoint(
                entry["crossbar"], xb_arrays, proj.pre_indices(), proj.indices, name=entry["name"]
            )
            proj.device = proj.crossbar.spec
        net._add_projection(proj, restore=True)
        net._check_memory(max_delay=proj.max_delay)  # ring buffers, as Network.add checks them
    for k, entry in enumerate(meta["monitors"]):
        key = f"mon/{k}"
        pop = net.population(entry["population"])
        kind = entry["type"]
        if kind in ("SpikeMonitor", "StateMonitor", "RateMonitor"):
            check_monitor_data(key, kind, entry, arrays, pop.n, step)
        if kind == "SpikeMonitor":
            mon = SpikeMonitor(pop, arrays[f"{key}/indices"] if entry["has_indices"] else None, name=entry["name"])
            mon._append(arrays[f"{key}/steps"], arrays[f"{key}/i"])
        elif kind == "StateMonitor":
            mon = StateMonitor(pop, entry["variables"], arrays[f"{key}/indices"], entry["interval"], name=entry["name"])
            steps, data = arrays[f"{key}/steps"], arrays[f"{key}/data"]
            if data.shape != (steps.size, mon.indices.size * len(mon.variables)):
                raise ValueError(f"state monitor data of shape {data.shape} does not match its steps and indices")
            mon._append(steps, data)
        elif kind == "RateMonitor":
            mon = RateMonitor(pop, name=entry["name"])
            if entry["start_step"] is not None:
                mon._append(entry["start_step"], arrays[f"{key}/counts"])
        else:
            raise ValueError(f"unknown monitor type {kind!r}")
        net.add(mon)
    return net


def _restore_engine(net: Network, meta, arrays) -> None:
    """Build the engine of the (validated) model and install the saved state."""
    sim_meta = meta["simulator"]
    if sim_meta is not None:
        sim = net._ensure_built()
        for name in STATE_ARRAYS:
            if f"sim/{name}" not in arrays and name in OPTIONAL_STATE:
                continue  # a file from before plasticity: nothing to restore
            saved = arrays[f"sim/{name}"]
            current = getattr(sim, name)
            if saved.shape != current.shape or saved.dtype != current.dtype:
                raise ValueError(
                    f"state array {name!r} has shape {saved.shape} {saved.dtype}, "
                    f"expected {current.shape} {current.dtype}"
                )
            current[...] = saved
        sim.step = int(sim_meta["step"])
        if sim_meta["mode"] not in (None, "dense", "event"):
            raise ValueError(f"unknown engine mode {sim_meta['mode']!r}")
        sim.mode = sim_meta["mode"]
        for pop in net.populations:
            if isinstance(pop, PoissonSource):
                sim.set_rates(pop, pop.rates.copy())
        if "sim/pq_dirty" in arrays:  # re-installing the rates does not restart the saved Poisson processes
            sim.pq_dirty[...] = arrays["sim/pq_dirty"]


class _Restored(Connectivity):
    """Connectivity of a projection whose synapses come from a file (never generates)."""

    def generate(self, n_pre, n_post, rng, same_population):  # pragma: no cover - never called
        raise RuntimeError("a restored projection does not generate synapses")

    def expected_synapses(self, n_pre, n_post):
        return 0.0

    def __repr__(self) -> str:
        return "Restored()"
