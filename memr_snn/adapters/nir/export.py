"""Export of a :class:`~memr_snn.Network` to NIR (:func:`to_nir`, :func:`write_nir`)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from ...model.network import Network
from ...model.population import PoissonSource, Population, PopulationBase, SpikeSource
from ...model.projection import Projection
from ...neurons.alif import ALIFParams
from ...neurons.lif import LIFCondParams, LIFParams
from ...neurons.tsm_neuron import TSMNeuronParams
from .common import (
    _META_PREFIX,
    MAX_DENSE_ELEMENTS,
    SI_UNITS,
    NIRExportError,
    NIRUnits,
    _check_spike_model,
    _key,
    _nir,
    _spike_area,
)


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
    from ... import __version__

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
