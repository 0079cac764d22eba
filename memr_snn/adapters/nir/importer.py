"""Import of NIR graphs into memr_snn (:func:`from_nir`, :func:`run_nir`)."""

from __future__ import annotations

import dataclasses
import math
import warnings
from collections import defaultdict
from collections.abc import Mapping, Sequence

import numpy as np
import scipy.sparse as sp

from ...model.connectivity import FromSparse
from ...model.network import Network
from ...model.population import Population, PopulationBase, SpikeSource
from ...model.projection import MAX_DELAY_STEPS, Projection
from ...neurons import ImplausibleUnitWarning
from ...neurons.lif import LIFParams
from .common import (
    _META_PREFIX,
    _STEP_TOL,
    SI_UNITS,
    SPIKE_MODELS,
    NIRImportError,
    NIRUnits,
    _check_spike_model,
    _compact,
    _nir,
    _spike_area,
)
from .reader import read_nir


@dataclasses.dataclass
class _Target:
    """A node that receives spikes: the population and the factor from W to a current jump [graph A]."""

    pop: Population
    receptor: str
    factor: np.ndarray  # (n,) w_in * area / tau_syn


class _Import:
    def __init__(self, nodes: dict, edges: list, dt: float, units: NIRUnits, spike_model: str):
        self.nir = _nir()
        self.dt = dt
        self.units = units
        self.area = _spike_area(spike_model, dt, units)
        self.nodes = nodes
        self.succ: dict[str, list[str]] = defaultdict(list)
        self.pred: dict[str, list[str]] = defaultdict(list)
        for a, b in edges:
            self.succ[a].append(b)
            self.pred[b].append(a)
        self.sources: dict[str, PopulationBase] = {}  # spiking node key -> population
        self.targets: dict[str, _Target] = {}
        self.size: dict[str, int] = {}

    def fail(self, key: str, why: str) -> NIRImportError:
        return NIRImportError(f"node {key!r} ({type(self.nodes[key]).__name__}): {why}")

    def array(self, key: str, name: str, n: int | None = None) -> np.ndarray:
        value = getattr(self.nodes[key], name, None)
        try:
            arr = np.asarray(value, dtype=np.float64)
        except (TypeError, ValueError):
            raise self.fail(key, f"parameter {name} is not numeric") from None
        if n is not None:
            if arr.size == 1:
                arr = np.full(n, float(arr.ravel()[0]))
            elif arr.size != n:
                raise self.fail(key, f"parameter {name} has {arr.size} values, expected {n}")
        if not np.all(np.isfinite(arr)):
            raise self.fail(key, f"parameter {name} has non-finite values")
        return arr.ravel() if n is not None else arr

    def neuron_size(self, key: str, field: str) -> int:
        arr = np.asarray(getattr(self.nodes[key], field, None))
        if arr.ndim == 0 or arr.size < 1:
            raise self.fail(key, f"parameter {field} must be a non-empty array")
        return int(arr.size)

    def lif_params(self, key: str, n: int, tau_mem, tau_syn_e, tau_syn_i) -> LIFParams:
        u = self.units
        r = self.array(key, "r", n) * u.resistance
        if np.any(r <= 0):
            raise self.fail(key, "r must be > 0 (memr_snn stores c_mem = tau_mem / r)")
        for name, tau in (("tau_mem", tau_mem), ("tau_syn", tau_syn_e), ("tau_syn", tau_syn_i)):
            if np.any(tau <= 0):
                raise self.fail(key, f"{name} must be > 0")
        tau_mem = tau_mem * u.time
        v_reset = getattr(self.nodes[key], "v_reset", None)
        try:
            with warnings.catch_warnings():
                # the graph's own conventions (NIR graphs are often normalised: r = 1, v_threshold = 1) are not a typo
                warnings.simplefilter("ignore", ImplausibleUnitWarning)
                return LIFParams(
                    tau_mem=_compact(tau_mem),
                    c_mem=_compact(tau_mem / r),
                    v_rest=_compact(self.array(key, "v_leak", n) * u.voltage),
                    v_reset=_compact((np.zeros(n) if v_reset is None else self.array(key, "v_reset", n)) * u.voltage),
                    v_threshold=_compact(self.array(key, "v_threshold", n) * u.voltage),
                    t_ref=0.0,
                    tau_syn_e=_compact(tau_syn_e * u.time),
                    tau_syn_i=_compact(tau_syn_i * u.time),
                    i_bias=0.0,
                )
        except ValueError as exc:
            raise self.fail(key, str(exc)) from None


def _import_input(im: _Import, key: str, net: Network, inputs) -> None:
    shape = np.asarray(im.nodes[key].input_type.get("input"), dtype=np.float64).ravel()
    if shape.size == 0 or not np.all(np.isfinite(shape)) or np.any(shape < 1) or np.any(shape != np.round(shape)):
        raise im.fail(key, f"input shape {shape} is not a shape of whole numbers >= 1")
    n = int(np.prod(shape))
    try:
        times, indices = inputs.get(key, ((), ()))
        im.sources[key] = net.add(SpikeSource(n, times, indices, name=key))
    except (ValueError, TypeError, MemoryError) as exc:
        raise NIRImportError(f"spike input for Input node {key!r}: {exc}") from None
    im.size[key] = n


def _import_cubalif(im: _Import, key: str, net: Network, inputs) -> None:
    n = im.neuron_size(key, "v_threshold")
    tau_syn = im.array(key, "tau_syn", n)
    tau_mem = im.array(key, "tau_mem", n)
    params = im.lif_params(key, n, tau_mem, tau_syn, tau_syn)
    pop = net.add(Population(n, params, name=key))
    im.sources[key] = pop
    im.size[key] = n
    im.targets[key] = _Target(pop, "exc", im.array(key, "w_in", n) * im.area / tau_syn)


def _import_lif(im: _Import, key: str, net: Network, inputs) -> None:
    """A LIF fed only by LI nodes (synaptic filters); LIs with equal tau share a receptor."""
    n = im.neuron_size(key, "v_threshold")
    groups: list[tuple[np.ndarray, list[str]]] = []
    for syn in im.pred.get(key, []):
        node = im.nodes[syn]
        if type(node).__name__ != "LI":
            raise im.fail(key, f"receives input from {syn!r} ({type(node).__name__}) directly: NIR's LIF has "
                               f"instantaneous synapses, which memr_snn's LIF cannot express; put an LI synaptic "
                               f"filter in between or use CubaLIF")
        if im.succ[syn] != [key]:
            raise im.fail(syn, f"an LI synaptic filter must feed exactly one LIF ({key!r}), feeds {im.succ[syn]}")
        tau = im.array(syn, "tau", n)
        if np.any(im.array(syn, "v_leak", n) != 0):
            raise im.fail(syn, "v_leak != 0 is a constant drive of the synaptic current, which memr_snn "
                               "does not have")
        for g_tau, members in groups:
            if np.array_equal(g_tau, tau):
                members.append(syn)
                break
        else:
            groups.append((tau, [syn]))
    if len(groups) > 2:
        raise im.fail(key, f"fed by LI filters with {len(groups)} different time constants; memr_snn's LIF has "
                           f"two (exc, inh)")
    tau_e = groups[0][0] if groups else np.full(n, 5e-3 / im.units.time)  # unused receptor: any valid tau
    tau_i = groups[1][0] if len(groups) > 1 else tau_e
    params = im.lif_params(key, n, im.array(key, "tau", n), tau_e, tau_i)
    pop = net.add(Population(n, params, name=key))
    im.sources[key] = pop
    im.size[key] = n
    for (tau, members), receptor in zip(groups, ("exc", "inh"), strict=False):
        for syn in members:
            im.targets[syn] = _Target(pop, receptor, im.array(syn, "r", n) * im.area / tau)


def _refuse(why: str):
    def converter(im: _Import, key: str, net: Network, inputs) -> None:
        raise im.fail(key, why)

    return converter


#: NIR type name -> converter of spiking nodes (names: ``nir`` is imported lazily)
_NODE_IMPORTERS = {
    "Input": _import_input,
    "CubaLIF": _import_cubalif,
    "LIF": _import_lif,
    "IF": _refuse("integrate-and-fire without leak: memr_snn's neurons need a finite tau_mem"),
    "I": _refuse("a non-spiking integrator without leak has no memr_snn counterpart"),
    "CubaLI": _refuse("a non-spiking current-based integrator (readout) has no memr_snn counterpart"),
    "Threshold": _refuse("a bare threshold without membrane has no memr_snn counterpart"),
    "Conv1d": _refuse("convolutions are not supported; flatten them into Affine/Linear first"),
    "Conv2d": _refuse("convolutions are not supported; flatten them into Affine/Linear first"),
    "SumPool2d": _refuse("pooling is not supported"),
    "AvgPool2d": _refuse("pooling is not supported"),
    "Flatten": _refuse("Flatten is not supported; give Input nodes 1-D shapes"),
}
#: node types that pass a signal on linearly (folded into projections)
_LINEAR_TYPES = ("Affine", "Linear", "Scale", "Delay")


def _apply_linear(im: _Import, key: str, signal: dict[int, sp.csr_matrix]) -> dict[int, sp.csr_matrix]:
    """Signal at the output of linear node ``key``: {delay steps: (n_out, n_src) matrix}."""
    kind = type(im.nodes[key]).__name__
    n_in = next(iter(signal.values())).shape[0]
    if kind in ("Affine", "Linear"):
        w = im.array(key, "weight")
        if w.ndim != 2 or w.shape[1] != n_in:
            raise im.fail(key, f"weight of shape {w.shape} does not take an input of size {n_in}")
        if kind == "Affine" and np.any(im.array(key, "bias") != 0):
            raise im.fail(key, "a non-zero bias is a constant drive of the synaptic current, which memr_snn "
                               "does not have (i_bias acts on the membrane)")
        w = sp.csr_matrix(w)
        return {d: (w @ m).tocsr() for d, m in signal.items()}
    if kind == "Scale":
        s = im.array(key, "scale", n_in)
        return {d: (sp.diags(s) @ m).tocsr() for d, m in signal.items()}
    # Delay: element k of the output is element k of the input, delayed by delay[k]
    tau = im.array(key, "delay", n_in)
    steps = tau * im.units.time / im.dt
    whole = np.round(steps)
    if np.any(tau < 0) or np.any(np.abs(steps - whole) > _STEP_TOL * np.maximum(1.0, whole)):
        bad = tau[(tau < 0) | (np.abs(steps - whole) > _STEP_TOL * np.maximum(1.0, whole))][0]
        raise im.fail(key, f"delay {bad!r} ({bad * im.units.time!r} s) is not a whole number >= 0 of steps of "
                           f"dt = {im.dt!r} s")
    out: dict[int, sp.csr_matrix] = {}
    for d, m in signal.items():
        for u in np.unique(whole):
            rows = sp.diags((whole == u).astype(np.float64))
            part = (rows @ m).tocsr()
            dd = d + int(u)
            out[dd] = (out[dd] + part).tocsr() if dd in out else part
    return out


def _propagate(im: _Import, src: str, key: str, signal, path: tuple[str, ...], found, outputs) -> None:
    kind = type(im.nodes[key]).__name__
    if key in im.targets:
        n_signal, n_target = next(iter(signal.values())).shape[0], im.targets[key].pop.n
        if n_signal != n_target:
            raise im.fail(key, f"receives a signal of size {n_signal} from {src!r} via {list(path)}, but has "
                               f"{n_target} neurons")
        acc = found[(src, key)]
        for d, m in signal.items():
            acc[d] = (acc[d] + m).tocsr() if d in acc else m
        return
    if kind == "Output":
        if path:
            raise im.fail(key, f"fed through {path[-1]!r}, a non-spiking signal: memr_snn outputs are spikes")
        outputs[key] = im.sources[src]
        return
    if kind not in _LINEAR_TYPES:
        raise im.fail(key, f"cannot receive input here (from {src!r} via {list(path) or 'a direct edge'})")
    if key in path:
        raise im.fail(key, "a loop of non-spiking nodes (no neuron on the cycle) has no memr_snn counterpart")
    out = _apply_linear(im, key, signal)
    for nxt in im.succ.get(key, []):
        _propagate(im, src, nxt, out, (*path, key), found, outputs)


def _resolve_conventions(graph, dt, units, spike_model):
    meta = graph.metadata if isinstance(getattr(graph, "metadata", None), dict) else {}

    def meta_float(name):
        try:
            value = float(meta[_META_PREFIX + name])
        except (KeyError, TypeError, ValueError):
            return None
        return value if math.isfinite(value) and value > 0 else None

    if dt is None:
        dt = meta_float("dt_s")
        if dt is None:
            raise NIRImportError("dt [s] is required: the graph's metadata does not record memr_snn_dt_s")
    if units is None:
        scales = [meta_float(n) for n in ("time_unit_s", "voltage_unit_V", "current_unit_A")]
        units = NIRUnits(*scales) if None not in scales else SI_UNITS
    if spike_model is None:
        value = meta.get(_META_PREFIX + "spike_model", "dirac")
        value = value.decode() if isinstance(value, bytes) else str(value)
        spike_model = value if value in SPIKE_MODELS else "dirac"
    if isinstance(dt, bool) or not isinstance(dt, (int, float, np.floating, np.integer)):
        raise TypeError(f"dt must be a number of seconds, got {dt!r}")
    if not (math.isfinite(dt) and dt > 0):
        raise ValueError(f"dt must be finite and > 0 [s], got {dt!r}")
    if not isinstance(units, NIRUnits):
        raise TypeError(f"units must be a NIRUnits, got {units!r}")
    return float(dt), units, _check_spike_model(spike_model)


def _graph_parts(graph, where: str) -> tuple[Mapping, list[tuple[str, str]]]:
    nodes, edges = getattr(graph, "nodes", None), getattr(graph, "edges", None)
    if not isinstance(nodes, Mapping) or not nodes:
        raise NIRImportError(f"{where} has no nodes")
    try:
        edges = [(str(a), str(b)) for a, b in edges]
    except (TypeError, ValueError):
        raise NIRImportError(f"{where}: edges must be (source, target) pairs of node names") from None
    return nodes, edges


def _flatten(graph, where: str = "the graph", depth: int = 0) -> tuple[dict, list[tuple[str, str]]]:
    """Nodes and edges with every nested ``NIRGraph`` expanded in place.

    The nodes of a subgraph ``s`` become ``s.<key>``; its ``Input`` and ``Output``
    nodes are its ports and disappear.  An edge ``(x, s)`` reaches what the single
    ``Input`` of ``s`` feeds (``(x, "s.<input>")`` addresses one of several), and
    ``(s, y)`` leaves from what feeds its single ``Output`` (or ``("s.<output>", y)``).
    """
    if depth > 16:
        raise NIRImportError(f"{where}: graphs nested more than 16 levels deep")
    nodes, edges = _graph_parts(graph, where)
    flat: dict = {}
    flat_edges: list[tuple[str, str]] = []
    entries: dict[str, list[str]] = {}  # outer endpoint name -> flat nodes an incoming edge reaches
    exits: dict[str, list[str]] = {}  # outer endpoint name -> flat nodes an outgoing edge leaves from
    for key, node in nodes.items():
        if type(node).__name__ != "NIRGraph":
            flat[key] = node
            continue
        inner, inner_edges = _flatten(node, f"subgraph {key!r}", depth + 1)
        ins = [k for k, n in inner.items() if type(n).__name__ == "Input"]
        outs = [k for k, n in inner.items() if type(n).__name__ == "Output"]
        for a, b in inner_edges:
            if a in ins and b in outs:
                raise NIRImportError(f"subgraph {key!r} passes its input {a!r} straight to its output {b!r}")
            if a not in ins and b not in outs:
                flat_edges.append((f"{key}.{a}", f"{key}.{b}"))
        for k, n in inner.items():
            if k not in ins and k not in outs:
                if f"{key}.{k}" in nodes:
                    raise NIRImportError(f"subgraph {key!r}: node {k!r} collides with the node {key}.{k!r}")
                flat[f"{key}.{k}"] = n
        for port in ins:
            entries[f"{key}.{port}"] = [f"{key}.{b}" for a, b in inner_edges if a == port]
        for port in outs:
            exits[f"{key}.{port}"] = [f"{key}.{a}" for a, b in inner_edges if b == port]
        if len(ins) == 1:
            entries[key] = entries[f"{key}.{ins[0]}"]
        if len(outs) == 1:
            exits[key] = exits[f"{key}.{outs[0]}"]
    for a, b in edges:
        flat_edges += [(x, y) for x in exits.get(a, [a]) for y in entries.get(b, [b])]
    return flat, flat_edges


def _build(graph_or_path, dt, units, spike_model, inputs, seed, record):
    nir = _nir()
    graph = graph_or_path if isinstance(graph_or_path, nir.NIRGraph) else read_nir(graph_or_path)
    dt, units, spike_model = _resolve_conventions(graph, dt, units, spike_model)
    inputs = dict(inputs or {})
    nodes, edges = _flatten(graph)
    for edge in edges:
        if any(e not in nodes for e in edge):
            raise NIRImportError(f"edge {edge!r} names a node that is not in the graph")
    im = _Import(nodes, edges, dt, units, spike_model)
    unknown = [k for k, v in nodes.items()
               if type(v).__name__ not in _NODE_IMPORTERS and type(v).__name__ not in (*_LINEAR_TYPES, "LI", "Output")]
    if unknown:
        raise im.fail(unknown[0], f"unsupported node type (supported: {sorted([*_NODE_IMPORTERS, *_LINEAR_TYPES])})")
    missing = set(inputs) - {k for k, v in nodes.items() if type(v).__name__ == "Input"}
    if missing:
        raise NIRImportError(f"inputs given for {sorted(missing)}, which are not Input nodes of the graph")
    for key, node in nodes.items():
        if type(node).__name__ == "LI" and not any(type(nodes[s]).__name__ == "LIF" for s in im.succ[key]):
            raise im.fail(key, "a non-spiking leaky integrator that feeds no LIF (a readout) has no memr_snn "
                               "counterpart")
    net = Network(dt=dt, seed=seed)
    order = sorted(nodes, key=lambda k: type(nodes[k]).__name__ != "Input")  # sources first
    for key in order:
        kind = type(nodes[key]).__name__
        if kind in _NODE_IMPORTERS:
            _NODE_IMPORTERS[kind](im, key, net, inputs)
    if not net.populations:
        raise NIRImportError("the graph has no Input or neuron node: nothing to simulate")
    found: dict[tuple[str, str], dict[int, sp.csr_matrix]] = defaultdict(dict)
    outputs: dict[str, PopulationBase] = {}
    for src in im.sources:
        for nxt in im.succ.get(src, []):
            _propagate(im, src, nxt, {0: sp.identity(im.size[src], format="csr")}, (), found, outputs)
    for (src, tgt_key), by_delay in found.items():
        tgt = im.targets[tgt_key]
        for d in sorted(by_delay):
            m = by_delay[d].tocoo()
            m.sum_duplicates()
            keep = m.data != 0
            if not np.any(keep):
                continue
            if d + 1 > MAX_DELAY_STEPS:
                raise NIRImportError(f"path {src!r} -> {tgt_key!r}: delay of {d} steps exceeds {MAX_DELAY_STEPS - 1}")
            rows, cols = m.row[keep], m.col[keep]
            w = m.data[keep] * tgt.factor[rows] * units.current
            if not np.all(np.isfinite(w)):
                raise NIRImportError(f"path {src!r} -> {tgt_key!r}: non-finite weights")
            name = f"{src}->{tgt.pop.name}" + ("" if tgt_key == tgt.pop.name else f":{tgt_key}")
            name += "" if len(by_delay) == 1 else f"@{d + 1}"
            matrix = sp.coo_matrix((w, (rows, cols)), shape=(tgt.pop.n, im.size[src]))
            net.add(Projection(im.sources[src], tgt.pop, FromSparse(matrix), receptor=tgt.receptor,
                               delays=d + 1, name=name))
    monitors = {}
    if record:
        from ...model.monitors import SpikeMonitor

        for key, pop in outputs.items():
            monitors[key] = net.add(SpikeMonitor(pop, name=key))
    return net, monitors


def from_nir(
    graph_or_path,
    dt: float | None = None,
    *,
    units: NIRUnits | None = None,
    spike_model: str | None = None,
    inputs: Mapping[str, tuple[Sequence[float], Sequence[int]]] | None = None,
    seed: int = 0,
    record: bool = True,
) -> Network:
    """Build a memr_snn network from a NIR graph or file.

    Parameters
    ----------
    graph_or_path : nir.NIRGraph or path
        The graph, or a NIR (HDF5) file read with :func:`read_nir`.
    dt : float, optional
        Time step [s].  Default: the ``memr_snn_dt_s`` the exporter recorded;
        a graph without it needs ``dt``.
    units : NIRUnits, optional
        Units of the graph's numbers; default: the recorded ones, else :data:`SI_UNITS`.
    spike_model : {"dirac", "step"}, optional
        Area of a spike (see the module docstring); default: recorded, else ``"dirac"``.
    inputs : mapping, optional
        ``{Input node key: (times [s], indices)}``: the spikes each ``Input``
        emits (a :class:`~memr_snn.SpikeSource` named after the node); absent
        inputs stay silent.
    seed : int
        Seed of the network.
    record : bool
        Add a :class:`~memr_snn.SpikeMonitor` (named after the ``Output`` node) to
        every population that feeds an ``Output``.

    Returns
    -------
    Network
        Populations are named after their nodes.

    Raises
    ------
    NIRImportError
        For unsupported node types, unexpressible structures and unreadable files.
    """
    return _build(graph_or_path, dt, units, spike_model, inputs, seed, record)[0]


def run_nir(
    graph_or_path,
    duration: float,
    dt: float | None = None,
    *,
    inputs: Mapping[str, tuple[Sequence[float], Sequence[int]]] | None = None,
    units: NIRUnits | None = None,
    spike_model: str | None = None,
    seed: int = 0,
) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Import a graph with :func:`from_nir`, simulate ``duration`` seconds, return the output spikes.

    Returns
    -------
    dict
        ``{Output node key: (times [s], indices)}``.
    """
    net, monitors = _build(graph_or_path, dt, units, spike_model, inputs, seed, True)
    net.run(duration)
    return {key: (mon.t.copy(), mon.i.copy()) for key, mon in monitors.items()}
