r"""Export to and import from NIR, the Neuromorphic Intermediate Representation.

NIR (https://neuroir.org, Pedersen et al. 2024, Nat. Commun. 15:8122) describes a
network as a graph of continuous-time primitives.  This module converts a
memr_snn :class:`~memr_snn.Network` to a ``nir.NIRGraph`` (:func:`to_nir`,
:func:`write_nir`) and back (:func:`from_nir`, :func:`read_nir`, :func:`run_nir`).
``nir`` is imported inside the functions only (optional extra ``nir``).

Mapping
-------
=====================================  ==========================================================
memr_snn                               NIR
=====================================  ==========================================================
``SpikeSource`` / ``PoissonSource``    ``Input`` of shape ``(n,)`` (spike times/rates are input
                                       data, not part of the graph; supply them to
                                       :func:`from_nir` / :func:`run_nir`)
``Population(LIFParams)``, one         ``CubaLIF``: ``tau_mem``, ``tau_syn``, ``r = tau_mem /
synaptic time constant in use          c_mem``, ``v_leak = v_rest + r i_bias``, ``v_threshold``,
                                       ``v_reset``, ``w_in = tau_syn / A`` (see *spikes*)
``Population(LIFParams)`` using both   ``LIF`` (membrane) fed by two ``LI`` nodes (the synaptic
receptors with different taus          currents: ``tau = tau_syn_e`` or ``tau_syn_i``, ``r =
                                       tau / A``, ``v_leak = 0``); inputs of several ``LI``
                                       nodes into one ``LIF`` are summed, exactly as
                                       :math:`i_e + i_i` in the membrane equation
``Projection`` weights (n_post, n_pre) ``Linear`` (dense weight matrix; one per distinct delay)
``delay_steps = d``                    ``Delay`` of ``(d - 1) dt`` after the ``Linear``
                                       (no ``Delay`` node when ``d = 1``)
population observed                    ``Output`` fed by the population
=====================================  ==========================================================

On import, ``Affine`` with a zero bias, ``Linear``, ``Scale`` and ``Delay``
nodes may be chained in any order between spiking nodes; each path is folded
into projections (one per total delay).

Why these maps are exact
~~~~~~~~~~~~~~~~~~~~~~~~
memr_snn's LIF (:class:`~memr_snn.LIFParams`) is
:math:`C\,dv/dt = -(C/\tau_m)(v - v_{rest}) + i_e + i_i + i_{bias}`, i.e.
:math:`\tau_m\,dv/dt = (v_{rest} + R\,i_{bias} - v) + R\,(i_e + i_i)` with
:math:`R = \tau_m / C`: NIR's membrane equation with :math:`v_{leak} = v_{rest} + R\,i_{bias}`.
A spike of weight :math:`w` makes the synaptic current jump by :math:`w`.  In NIR's
:math:`\tau_{syn}\,dI/dt = -I + w_{in} W S`, a spike of area :math:`A` makes
:math:`I` jump by :math:`w_{in} W A / \tau_{syn}`; with :math:`w_{in} = \tau_{syn}/A`
the ``Linear`` weight :math:`W` is the current jump itself.  memr_snn integrates
these linear ODEs exactly between steps (propagator), so a graph's dynamics do
not depend on the discretisation except for spikes being placed on the dt grid.

Spikes
~~~~~~
NIR's equations do not fix the area of a spike ``S``.  Two readings exist and
``spike_model`` chooses one, recorded in the metadata:

* ``"dirac"`` (default): a spike is :math:`\delta(t)`, area 1 (the literal
  reading of the ODEs; the weights do not depend on dt);
* ``"step"``: a spike is a pulse of height 1 lasting one step, area ``dt``
  (the reading of snnTorch and Norse, which Euler-integrate the per-step input;
  snnTorch writes ``w_in = tau_syn / dt`` for this reason).

Units and dt
~~~~~~~~~~~~
memr_snn is SI (s, V, A, F, Ω).  NIR stores bare numbers; its primitives table
lists τ in ms, v in mV and R in Ω, while snnTorch and Norse write τ in seconds.
The graph's units are therefore an explicit argument, :class:`NIRUnits`
(size of one graph unit of time, voltage and current, in SI; resistance is
voltage / current).  :data:`SI_UNITS` (default) writes s, V, A, Ω;
:data:`NIR_DOC_UNITS` writes ms, mV, mA and Ω (the table's units, made
consistent: mV / Ω = mA).  The conversion happens once, here; the graph's
metadata records ``dt``, the units, the spike model and the delay convention.
NIR asks backends not to rely on metadata, so :func:`from_nir` takes ``dt``,
``units`` and ``spike_model`` as arguments and falls back on the metadata only
when they are omitted.

Delays
~~~~~~
memr_snn delivers a spike emitted in step ``n`` at the start of step ``n + d``
(``d >= 1``), so ``d = 1`` is the smallest latency a clocked simulator has (as
Brian2's zero delay).  An NIR edge without ``Delay`` therefore imports as
``delay_steps = 1`` and a ``Delay`` of τ as ``delay_steps = τ / dt + 1``; τ must be
a whole number of steps.

Refused (:class:`NIRExportError` names the element and the reason)
~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~
Conductance synapses (``LIFCondParams``), adaptive thresholds (``ALIFParams``),
threshold-switching memristor neurons, and any other neuron model without a
registered converter; with ``lossy=False`` (default) also a refractory period
``t_ref > 0`` (NIR neurons have none), memristive devices on a projection (read
noise, drift, wires) and plasticity rules.  ``lossy=True`` exports these
anyway (ideal weights at export time, no refractory period) and lists what was
dropped in the metadata entry ``memr_snn_dropped``.  Initial states and monitors
are not part of NIR and are not exported.

On import (:class:`NIRImportError`): ``IF`` and ``I`` (no leak: memr_snn's
neurons need a finite ``tau_mem``), ``LIF`` fed by spikes directly
(instantaneous synapses, which memr_snn does not have), ``LI``/``CubaLI`` that do
not feed a ``LIF`` (non-spiking readouts), ``Affine`` with a non-zero bias (a
constant drive of the synaptic current), convolutions, pooling, ``Flatten``,
``Threshold``, and malformed or unreadable files.  Nested graphs are expanded in
place (their ``Input``/``Output`` nodes are ports; inner nodes become ``<subgraph>.<key>``).

Examples
--------
>>> from memr_snn import Network, Population, LIFParams, SpikeSource, Projection, AllToAll
>>> from memr_snn.units import ms, pA
>>> net = Network(dt=0.1 * ms, seed=1)
>>> src = net.add(SpikeSource(2, times=[1 * ms, 2 * ms], indices=[0, 1], name="in"))
>>> pop = net.add(Population(3, LIFParams(t_ref=0.0), name="pop"))
>>> _ = net.add(Projection(src, pop, AllToAll(), weight=500 * pA, name="in->pop"))
>>> graph = to_nir(net)  # doctest: +SKIP
>>> sorted(graph.nodes)  # doctest: +SKIP
['in', 'in->pop', 'pop', 'pop.out']
"""

from __future__ import annotations

import dataclasses
import math
import os
import pickle
import signal as _signal
import subprocess
import sys
import tempfile
from collections import defaultdict
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from ..model.connectivity import FromSparse
from ..model.network import Network
from ..model.population import PoissonSource, Population, PopulationBase, SpikeSource
from ..model.projection import MAX_DELAY_STEPS, Projection
from ..neurons.alif import ALIFParams
from ..neurons.lif import LIFCondParams, LIFParams
from ..neurons.tsm_neuron import TSMNeuronParams

__all__ = [
    "NIRUnits",
    "SI_UNITS",
    "NIR_DOC_UNITS",
    "SPIKE_MODELS",
    "NIRExportError",
    "NIRImportError",
    "to_nir",
    "from_nir",
    "run_nir",
    "write_nir",
    "read_nir",
]

#: readings of a spike's area in NIR's ODEs (see the module docstring)
SPIKE_MODELS = ("dirac", "step")
#: largest dense weight matrix (elements, all projections) an export writes
MAX_DENSE_ELEMENTS = 100_000_000
#: relative tolerance for a delay to count as a whole number of steps
_STEP_TOL = 1e-6


class NIRExportError(ValueError):
    """The network has an element NIR cannot express; the message names it and says why."""


class NIRImportError(ValueError):
    """The NIR graph or file cannot be turned into a memr_snn network; the message says why."""


@dataclasses.dataclass(frozen=True)
class NIRUnits:
    """Units of the numbers in a NIR graph, each as its size in SI.

    The graph stores ``value_SI / unit``; resistance is ``voltage / current``.
    """

    time: float = 1.0
    """One graph time unit [s] (1e-3: τ and delays in ms)."""
    voltage: float = 1.0
    """One graph voltage unit [V] (1e-3: potentials in mV)."""
    current: float = 1.0
    """One graph current unit [A] (weights are current jumps in this unit)."""

    def __post_init__(self):
        for name in ("time", "voltage", "current"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float, np.floating, np.integer)):
                raise TypeError(f"NIRUnits.{name} must be a number, got {value!r}")
            if not (math.isfinite(value) and value > 0):
                raise ValueError(f"NIRUnits.{name} must be finite and > 0 [SI], got {value!r}")
            object.__setattr__(self, name, float(value))

    @property
    def resistance(self) -> float:
        """One graph resistance unit [Ω] = voltage / current."""
        return self.voltage / self.current

    def describe(self) -> str:
        return (f"time unit {self.time:g} s, voltage unit {self.voltage:g} V, current unit {self.current:g} A, "
                f"resistance unit {self.resistance:g} Ohm")


#: seconds, volts, amperes, ohms (what snnTorch and Norse write for τ)
SI_UNITS = NIRUnits()
#: ms, mV, mA, Ω: the units of NIR's primitives table (τ [ms], v [mV], R [Ω]), made consistent
NIR_DOC_UNITS = NIRUnits(time=1e-3, voltage=1e-3, current=1e-3)

_META_PREFIX = "memr_snn_"


# ----------------------------------------------------------------------------- helpers
def _nir():
    try:
        import nir
    except ImportError as exc:  # pragma: no cover - exercised only without the extra
        raise ImportError("the NIR adapter needs the 'nir' package: pip install 'memr_snn[nir]'") from exc
    return nir


def _check_spike_model(spike_model: str) -> str:
    if spike_model not in SPIKE_MODELS:
        raise ValueError(f"spike_model must be one of {SPIKE_MODELS}, got {spike_model!r}")
    return spike_model


def _spike_area(spike_model: str, dt: float, units: NIRUnits) -> float:
    """Area of one spike in graph time units."""
    return 1.0 if spike_model == "dirac" else dt / units.time


def _key(name: str) -> str:
    """A node key HDF5 can store (no '/', not '.' or empty)."""
    key = str(name).replace("/", "_")
    return key if key not in ("", ".") else f"_{key}"


def _compact(values: np.ndarray):
    """A scalar when all elements are equal, else the array (float64)."""
    values = np.asarray(values, dtype=np.float64).ravel()
    if values.size and np.all(values == values[0]):
        return float(values[0])
    return values.copy()


# ----------------------------------------------------------------------------- export
def _population_refusal(pop: PopulationBase) -> str | None:
    if not isinstance(pop, Population):
        return None if type(pop) in _SOURCE_EXPORTERS else f"source type {type(pop).__name__} has no NIR converter"
    model = type(pop.neuron)
    if model in _NEURON_EXPORTERS:
        return None
    return _UNSUPPORTED_NEURONS.get(model, f"neuron model {model.__name__} has no NIR converter "
                                           f"(supported: {', '.join(m.__name__ for m in _NEURON_EXPORTERS)})")


_UNSUPPORTED_NEURONS = {
    LIFCondParams: "conductance-based synapses (reversal potentials e_rev_e, e_rev_i) cannot be expressed: "
                   "NIR's neurons are current-based (CubaLIF)",
    ALIFParams: "the adaptive threshold (tau_adapt, beta_adapt) cannot be expressed: NIR has no adaptive LIF",
    TSMNeuronParams: "the threshold-switching memristor neuron has no NIR primitive",
}


class _Export:
    """State of one export: nodes, edges, and how a projection reaches its target."""

    def __init__(self, net: Network, units: NIRUnits, spike_model: str):
        self.nir = _nir()
        self.net = net
        self.units = units
        self.area = _spike_area(spike_model, net.dt, units)
        self.nodes: dict = {}
        self.edges: list[tuple[str, str]] = []
        self.pop_key: dict[int, str] = {}
        self.target: dict[tuple[int, str], str] = {}  # (id(pop), receptor) -> node key receiving its spikes

    def unique(self, name: str) -> str:
        key, k = _key(name), 1
        while key in self.nodes:
            key = f"{_key(name)}_{k}"
            k += 1
        return key

    def meta(self, **extra) -> dict:
        return {_META_PREFIX + k: v for k, v in extra.items()}


def _export_source(ex: _Export, pop: PopulationBase) -> None:
    key = ex.unique(pop.name)
    kind = "poisson" if isinstance(pop, PoissonSource) else "spikes"
    ex.nodes[key] = ex.nir.Input(input_type={"input": np.array([pop.n])},
                                 metadata=ex.meta(name=pop.name, kind=f"source:{kind}"))
    ex.pop_key[id(pop)] = key


def _export_lif(ex: _Export, pop: Population) -> None:
    u, n = ex.units, pop.n
    p = pop.neuron.broadcast(n)
    r_si = p["tau_mem"] / p["c_mem"]
    # i_bias is a state variable: the value in force (after a run, or as set initially) is the one exported
    i_bias = ex.net.get_state(pop, "i_bias") if ex.net.step > 0 else pop.initial.get("i_bias", p["i_bias"])
    v_leak = (p["v_rest"] + r_si * i_bias) / u.voltage
    common = dict(
        r=r_si / u.resistance,
        v_leak=v_leak,
        v_threshold=p["v_threshold"] / u.voltage,
        v_reset=p["v_reset"] / u.voltage,
    )
    tau_mem = p["tau_mem"] / u.time
    used = {pr.receptor for pr in ex.net.projections if pr.post is pop}
    key = ex.unique(pop.name)
    ex.pop_key[id(pop)] = key
    meta = ex.meta(name=pop.name, kind="population:lif")
    if used <= {"exc"} or used == {"inh"} or np.array_equal(p["tau_syn_e"], p["tau_syn_i"]):
        tau_syn = (p["tau_syn_i"] if used == {"inh"} else p["tau_syn_e"]) / u.time
        ex.nodes[key] = ex.nir.CubaLIF(tau_syn=tau_syn, tau_mem=tau_mem, w_in=tau_syn / ex.area, metadata=meta,
                                       **common)
        for receptor in ("exc", "inh"):
            ex.target[(id(pop), receptor)] = key
        return
    ex.nodes[key] = ex.nir.LIF(tau=tau_mem, metadata=meta, **common)
    for receptor, tau in (("exc", p["tau_syn_e"]), ("inh", p["tau_syn_i"])):
        tau_g = tau / u.time
        syn = ex.unique(f"{pop.name}.syn_{receptor}")
        ex.nodes[syn] = ex.nir.LI(tau=tau_g, r=tau_g / ex.area, v_leak=np.zeros(n),
                                  metadata=ex.meta(name=pop.name, kind=f"synapse:{receptor}"))
        ex.edges.append((syn, key))
        ex.target[(id(pop), receptor)] = syn


def _export_projection(ex: _Export, pr: Projection) -> None:
    u = ex.units
    delays = pr.delay_array()
    pre = pr.pre_indices()
    target = ex.target[(id(pr.post), pr.receptor)]
    groups = np.unique(delays)
    weights = pr.weights.astype(ex.net.weight_dtype).astype(np.float64)  # as simulated (float32 storage rounds)
    for d in groups:
        sel = delays == d
        w = sp.coo_matrix((weights[sel], (pr.indices[sel], pre[sel])),
                          shape=(pr.post.n, pr.pre.n)).toarray()  # duplicates summed
        base = pr.name if groups.size == 1 else f"{pr.name}.d{int(d)}"
        lin = ex.unique(base)
        ex.nodes[lin] = ex.nir.Linear(weight=w / u.current, metadata=ex.meta(
            name=pr.name, kind=f"projection:{pr.receptor}", delay_steps=int(d)))
        ex.edges.append((ex.pop_key[id(pr.pre)], lin))
        if d > 1:
            dly = ex.unique(f"{base}.delay")
            ex.nodes[dly] = ex.nir.Delay(delay=np.full(pr.post.n, (int(d) - 1) * ex.net.dt / u.time),
                                         metadata=ex.meta(name=pr.name, kind="delay", delay_steps=int(d)))
            ex.edges.append((lin, dly))
            lin = dly
        ex.edges.append((lin, target))


#: type -> converter (Norse ``_norse_to_nir_mapping_dict`` pattern); exact types, so subclasses
#: with extra dynamics (ALIFParams is a LIFParams) are not exported as their base
_NEURON_EXPORTERS = {LIFParams: _export_lif}
_SOURCE_EXPORTERS = {SpikeSource: _export_source, PoissonSource: _export_source}


def _export_problems(net: Network, lossy: bool) -> tuple[list[str], list[str]]:
    """(refusals, losses): what cannot be expressed, and what ``lossy`` would drop."""
    refusals, losses = [], []
    for pop in net.populations:
        why = _population_refusal(pop)
        if why is not None:
            refusals.append(f"population {pop.name!r}: {why}")
        elif isinstance(pop, Population) and np.any(np.asarray(pop.neuron.t_ref) > 0):
            losses.append(f"population {pop.name!r}: refractory period t_ref = "
                          f"{float(np.max(pop.neuron.t_ref)):g} s (NIR neurons have none)")
    for pr in net.projections:
        if pr.device is not None:
            losses.append(f"projection {pr.name!r}: memristive device storage (conductance mapping, read noise, "
                          f"drift, wires); the ideal weights are exported")
        if pr.plasticity is not None:
            losses.append(f"projection {pr.name!r}: plasticity rule {type(pr.plasticity).__name__} (NIR has no "
                          f"learning); the current weights are exported")
    if not lossy and losses:
        refusals += [f"{loss} -- pass lossy=True (CLI: --lossy) to export without it" for loss in losses]
    return refusals, losses


def to_nir(
    net: Network,
    *,
    units: NIRUnits = SI_UNITS,
    spike_model: str = "dirac",
    outputs: Sequence[str] | None = None,
    lossy: bool = False,
):
    """Convert a network to a ``nir.NIRGraph``.

    Parameters
    ----------
    net : Network
        The network (its projections are built when added).  Its ``dt`` [s]
        sets the delays and, with ``spike_model="step"``, the spike area; it is
        recorded in the graph metadata.
    units : NIRUnits
        Units of the graph's numbers (default :data:`SI_UNITS`).
    spike_model : {"dirac", "step"}
        Area of a spike in NIR's ODEs: 1 or one step ``dt`` (see the module docstring).
    outputs : sequence of str, optional
        Names of the neuron populations that get an ``Output`` node; default all.
    lossy : bool
        Export refractory periods, device storage and plasticity as if absent
        (listed in the metadata) instead of refusing.

    Returns
    -------
    nir.NIRGraph

    Raises
    ------
    NIRExportError
        Listing every element NIR cannot express, with the reason.
    """
    if not isinstance(net, Network):
        raise TypeError(f"net must be a memr_snn Network, got {net!r}")
    if not isinstance(units, NIRUnits):
        raise TypeError(f"units must be a NIRUnits, got {units!r}")
    _check_spike_model(spike_model)
    if not net.populations:
        raise NIRExportError("the network is empty: nothing to export")
    refusals, losses = _export_problems(net, lossy)
    if refusals:
        raise NIRExportError("cannot export to NIR:\n  " + "\n  ".join(refusals))
    dense = sum(pr.pre.n * pr.post.n * np.unique(pr.delay_array()).size for pr in net.projections)
    if dense > MAX_DENSE_ELEMENTS:
        raise NIRExportError(f"NIR stores dense weight matrices: this network needs {dense:.3g} elements "
                             f"(> {MAX_DENSE_ELEMENTS:.0e}); export a smaller network")
    neuron_names = [p.name for p in net.populations if isinstance(p, Population)]
    if outputs is None:
        outputs = neuron_names
    else:
        outputs = list(outputs)
        bad = [o for o in outputs if o not in neuron_names]
        if bad:
            raise ValueError(f"outputs must name neuron populations of the network {neuron_names}, got {bad}")
    ex = _Export(net, units, spike_model)
    for pop in net.populations:
        if isinstance(pop, Population):
            _NEURON_EXPORTERS[type(pop.neuron)](ex, pop)
        else:
            _SOURCE_EXPORTERS[type(pop)](ex, pop)
    for pr in net.projections:
        _export_projection(ex, pr)
    for name in outputs:
        pop = net.population(name)
        key = ex.unique(f"{name}.out")
        ex.nodes[key] = ex.nir.Output(output_type={"output": np.array([pop.n])},
                                      metadata=ex.meta(name=name, kind="output"))
        ex.edges.append((ex.pop_key[id(pop)], key))
    from .. import __version__

    metadata = {
        "generator": f"memr_snn {__version__}",
        "dt": net.dt / units.time,
        _META_PREFIX + "dt_s": net.dt,
        _META_PREFIX + "time_unit_s": units.time,
        _META_PREFIX + "voltage_unit_V": units.voltage,
        _META_PREFIX + "current_unit_A": units.current,
        _META_PREFIX + "resistance_unit_ohm": units.resistance,
        _META_PREFIX + "spike_model": spike_model,
        _META_PREFIX + "units": units.describe() + "; weights are synaptic current jumps; "
                                                    "w_in = tau_syn / spike area",
        _META_PREFIX + "delay_convention": "NIR delay = (delay_steps - 1) * dt; no Delay node = 1 step",
        _META_PREFIX + "dropped": "\n".join(losses),
    }
    graph = ex.nir.NIRGraph(nodes=ex.nodes, edges=ex.edges, metadata=metadata, type_check=False)
    graph.check_types()
    return graph


def write_nir(net: Network, path: str | Path, **kwargs) -> Path:
    """Export ``net`` with :func:`to_nir` (same keyword arguments) and write it as a NIR (HDF5) file."""
    graph = to_nir(net, **kwargs)
    path = Path(path)
    _nir().write(path, graph)
    return path


# ----------------------------------------------------------------------------- import
#: the child process of an isolated :func:`read_nir`: ``nir.read`` (h5py), then the graph pickled to ``out``;
#: any exception is reported as ``@@ERR@@<type>: <message>`` on stderr and exit status 3
_READ_CHILD = r"""
import pickle, sys
path, out = sys.argv[1], sys.argv[2]
try:
    import nir
    graph = nir.read(path, type_check=False)
    with open(out, "wb") as fh:
        pickle.dump(graph, fh, protocol=pickle.HIGHEST_PROTOCOL)
except BaseException as exc:
    msg = str(exc).replace("\n", " ")[:400]
    sys.stderr.write("\n@@ERR@@" + type(exc).__name__ + ": " + msg + "\n")
    sys.exit(3)
"""

#: modules whose classes a pickled graph from the child may name (nir's nodes, numpy arrays, builtins)
_PICKLE_MODULES = ("nir", "numpy", "builtins", "collections", "copyreg", "_codecs")


class _GraphUnpickler(pickle.Unpickler):
    """Unpickles the child's graph, refusing any class outside :data:`_PICKLE_MODULES`."""

    def find_class(self, module: str, name: str):
        if module.split(".")[0] not in _PICKLE_MODULES:
            raise pickle.UnpicklingError(f"unexpected class {module}.{name} in the decoded graph")
        return super().find_class(module, name)


def _read_isolated(path: Path, timeout: float | None):
    """``nir.read(path)`` in a child interpreter: a crash or endless loop of h5py/HDF5 there cannot take
    this one down (the child is killed after ``timeout`` seconds)."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in sys.path if p)  # the child finds what this process finds
    with tempfile.TemporaryDirectory(prefix="memr_snn_nir_") as tmp:
        out = os.path.join(tmp, "graph.pickle")
        try:
            proc = subprocess.run([sys.executable, "-c", _READ_CHILD, os.fspath(path), out], capture_output=True,
                                  text=True, errors="replace", env=env, timeout=timeout)
        except subprocess.TimeoutExpired:
            raise NIRImportError(f"{path}: not a readable NIR file (reading took longer than {timeout:g} s; a "
                                 f"damaged file can make HDF5 loop forever; pass timeout=None to wait)") from None
        if proc.returncode != 0 or not os.path.isfile(out):
            marks = [ln[len("@@ERR@@"):] for ln in proc.stderr.splitlines() if ln.startswith("@@ERR@@")]
            if marks:
                why = marks[-1]
            elif proc.returncode < 0:
                try:
                    sig = _signal.Signals(-proc.returncode).name
                except ValueError:  # pragma: no cover - unknown signal number
                    sig = str(-proc.returncode)
                why = f"the HDF5 reader crashed ({sig})"
            else:
                why = f"the reader exited with status {proc.returncode}"
            raise NIRImportError(f"{path}: not a readable NIR file ({why})")
        try:
            with open(out, "rb") as fh:
                return _GraphUnpickler(fh).load()
        except Exception as exc:  # noqa: BLE001 - a graph the child could not hand over intact
            raise NIRImportError(f"{path}: not a readable NIR file ({type(exc).__name__}: {exc})") from None


#: default limit of an isolated read [s]: a valid file of hundreds of MB reads in seconds
READ_TIMEOUT = 120.0


def read_nir(path: str | Path, *, isolate: bool = True, timeout: float | None = READ_TIMEOUT):
    """Read a NIR (HDF5) file; any failure of the reader becomes :class:`NIRImportError`.

    Type inference is left to :func:`from_nir` (``nir.read`` type-checks only
    graphs with ``Input`` nodes, and would add nodes to others).

    Parameters
    ----------
    path : str or Path
        The ``.nir`` file.
    isolate : bool
        Decode in a child Python process (default).  h5py/HDF5 can crash the interpreter
        (segmentation fault) on some damaged files; in a child that becomes a
        :class:`NIRImportError`.  The graph comes back pickled, and only classes of ``nir``,
        ``numpy`` and the standard containers are accepted from it.  ``isolate=False`` reads in
        this process (saves the ~0.3 s process start; use it only for trusted files).
    timeout : float or None
        Seconds an isolated read may take before the child is killed and :class:`NIRImportError`
        raised (some damaged files make HDF5 loop forever); None waits indefinitely.  Ignored with
        ``isolate=False``.

    Returns
    -------
    nir.NIRGraph
        The graph as ``nir.read(path, type_check=False)`` returns it.

    Raises
    ------
    NIRImportError
        If the file is missing, not HDF5, damaged, or holds a single node instead of a graph.
    """
    nir = _nir()
    path = Path(path)
    if not path.is_file():
        raise NIRImportError(f"{path}: no such NIR file")
    if timeout is not None and not (isinstance(timeout, (int, float)) and timeout > 0):
        raise ValueError(f"timeout must be a positive number of seconds or None, got {timeout!r}")
    if isolate:
        graph = _read_isolated(path, timeout)
    else:
        try:
            graph = nir.read(path, type_check=False)
        except Exception as exc:  # noqa: BLE001 - h5py/nir raise many types on damaged files
            raise NIRImportError(f"{path}: not a readable NIR file ({type(exc).__name__}: {exc})") from None
    if not isinstance(graph, nir.NIRGraph):
        raise NIRImportError(f"{path}: the file holds a single {type(graph).__name__} node, not a NIRGraph")
    return graph


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
                               delay_steps=d + 1, name=name))
    monitors = {}
    if record:
        from ..model.monitors import SpikeMonitor

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
