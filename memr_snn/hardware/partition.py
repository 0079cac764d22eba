r"""Map a memr_snn network onto the cores of a Loihi-style chip and estimate energy and time per step.

:func:`map_network` places every neuron of every :class:`~memr_snn.Population`
on a core of a :class:`~memr_snn.hardware.CoreProfile`, splitting populations
into core-sized pieces so that every per-core limit holds, then moves single
neurons between cores to cut spike traffic between cores.  It returns a
:class:`Mapping`: utilisation per core, cores and chips used, spike traffic,
and energy and time per step from the profile's per-operation costs.

Resource model (per core)
-------------------------
* **compartments** ``<= neurons_per_core``.  A neuron takes one compartment,
  plus one per further distinct synaptic time constant it receives when the
  profile's compartments integrate only one (Loihi 1: a LIF neuron fed on both
  receptors with ``tau_syn_e != tau_syn_i`` takes two), plus one auxiliary
  compartment for threshold adaptation when ``adaptation ==
  "auxiliary_compartment"``.
* **input axons** ``<= fan_in_axons_per_core``: one slot per distinct
  presynaptic source (on-chip neuron or input) with at least one synapse on the
  core -- axons are shared by all the synapses of a source on that core, over
  every projection -- and ``plastic_in_axon_slots`` slots for a source with
  plastic synapses there.
* **output axons** ``<= fan_out_axons_per_core``: one per (neuron on the core,
  destination core it reaches), its own core included.
* **synaptic memory** ``<= synaptic_memory_bits_per_core``.  The synapses of one
  source on one core form a list stored in blocks of ``list_block_synapses``;
  a block of ``k`` synapses takes ``ceil((k * b + header) / word) * word`` bits
  with ``b = weight_bits + delay_bits + index_bits`` (nengo-loihi's
  ``SynapseConfig.bits_per_axon``).  ``index_bits`` addresses the core's
  compartments (clipped to the profile's range); ``delay_bits`` is 0 when every
  synapse into the core has ``delay_steps == 1`` and otherwise the bits of the
  largest hardware delay.
* **delay units** (when the profile has a budget): compartments x
  ``max(min_delay_units, largest hardware delay + 2)`` -- a compartment with
  ``n`` dendritic accumulators holds delays up to ``n - 2`` (NxSDK's
  ``numDendriticAccumulators``), so 8 units per compartment fill a Loihi 1 core
  of 1024 and a delay of 62 leaves room for 128.

Inputs (:class:`~memr_snn.PoissonSource`, :class:`~memr_snn.SpikeSource`) live
off-chip (host or sensor): they take input axons and synaptic memory on the
cores they reach, and their spikes cost synaptic operations there; their
injection into the mesh is counted (``input_messages``) but not priced, since
no per-spike host-injection cost is published.

Algorithm
---------
1. *Greedy fill*: neurons in network order (populations contiguous) fill core
   after core; the largest block that meets the core-local limits is found by
   bisection (every local resource grows with the block).
2. *Output axons* depend on where every target lives.  The greedy fill is
   repeated with each neuron's destination-core count taken from the previous
   placement as an extra limit (a few rounds, to a fixed point); a core that
   still has too many output axons is then split into ``ceil(used / limit)``
   equal parts until every core fits.
3. *Refinement*: single-neuron moves to a core its synaptic partners live on,
   accepted only when they lower the rate-weighted inter-core traffic and keep
   every limit (a Kernighan-Lin-style local search without swaps).

Energy and time per step
------------------------
With ``p_i = min(1, rate_i * dt)`` the spike probability of source ``i`` per
step, ``S[i, c]`` its synapses on core ``c`` and ``D_i`` the cores it reaches:

* synaptic ops ``= sum_i p_i sum_c S[i, c]`` at ``e_synop`` / ``t_synop``;
* compartment updates: every compartment every step; it is *active* with
  probability ``1 - exp(-lambda_j)`` (at least one synaptic event, Poisson,
  ``lambda_j`` its expected input events) at ``e_neuron_active``, else
  *inactive* at ``e_neuron_inactive``;
* spike messages: one per (spike, destination core) pair at ``e_spike_tile``
  plus ``e_hop_ew`` / ``e_hop_ns`` per tile hop on the chip mesh (cores fill
  tiles in order, tiles fill the grid row by row); messages between chips are
  counted but not priced;
* learning: a plastic synapse is updated when its pre- or postsynaptic neuron
  spikes, at ``e_synupdate`` / ``t_synupdate``.

Time per step is barrier-synchronised: the slowest core's compute time
(synaptic ops + compartment updates + learning updates) plus the longest
on-chip message latency plus the barrier, interpolated linearly between
``t_barrier_min`` (one tile in use) and ``t_barrier_max`` (all tiles).
"""

from __future__ import annotations

import dataclasses
import json
import logging
import math
from collections.abc import Mapping as MappingABC
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

from ..io.atomic import write_text
from ..model.population import PoissonSource, Population, PopulationBase, SpikeSource
from ..neurons.alif import ALIFParams
from ..neurons.lif import LIFCondParams, LIFParams
from .profiles import CoreProfile, load_profile

__all__ = [
    "map_network",
    "rates_from_monitors",
    "Mapping",
    "CoreUsage",
    "MappingError",
    "UnsupportedFeature",
    "list_block_bits",
    "DEFAULT_RATE",
]

logger = logging.getLogger(__name__)

#: firing rate assumed for neuron populations without a given or measured rate [Hz]
DEFAULT_RATE = 10.0
#: refinement needs a dense (sources x cores) count table; above this many entries it is skipped
_REFINE_MAX_ENTRIES = 20_000_000
#: greedy refills with output axons estimated from the previous placement, before cores are split
_OUT_ESTIMATE_ROUNDS = 4


class MappingError(ValueError):
    """The network cannot fit the target: names the element, the limit, its value and what is required."""

    def __init__(self, element: str, limit: str, value: float, required: float, detail: str = ""):
        self.element, self.limit, self.value, self.required = element, limit, value, required
        msg = f"{element} cannot be mapped: it needs {limit} = {required:g} but the profile allows {value:g}"
        super().__init__(msg + (f" ({detail})" if detail else ""))


class UnsupportedFeature(ValueError):
    """The network uses a feature the target cannot express: names the element and the reason."""

    def __init__(self, element: str, reason: str):
        self.element, self.reason = element, reason
        super().__init__(f"{element}: {reason}")


def list_block_bits(n_synapses, bits_per_synapse: int, profile: CoreProfile) -> np.ndarray:
    """Synaptic memory taken by synapse lists of ``n_synapses`` each [bit] (array in, array out).

    A list is stored in blocks of ``list_block_synapses``; a block of ``k``
    synapses takes ``ceil((k * bits_per_synapse + list_block_header_bits) /
    synapse_word_bits)`` words.  An empty list takes nothing.
    """
    n = np.asarray(n_synapses, dtype=np.int64)
    size, head, word = profile.list_block_synapses, profile.list_block_header_bits, profile.synapse_word_bits

    def block(k):
        return -(-(k * bits_per_synapse + head) // word) * word

    full, rem = n // size, n % size
    return full * block(size) + np.where(rem > 0, block(rem), 0)


# ============================================================================ results
@dataclasses.dataclass(frozen=True)
class CoreUsage:
    """What one core holds and does per step."""

    index: int
    """Core number (cores of chip ``k`` are ``k * cores_per_chip ...``)."""
    chip: int
    """Chip number."""
    tile: tuple[int, int]
    """(x, y) position of the core's tile on its chip's mesh."""
    neurons: int
    """Neurons on the core."""
    compartments: int
    """Compartments used (neurons plus auxiliary compartments)."""
    in_axons: int
    """Input axon slots used."""
    out_axons: int
    """Output axon slots used."""
    synapses: int
    """Synapses stored."""
    synapse_bits: int
    """Synaptic memory used [bit]."""
    delay_units: int
    """Dendritic delay units used (0 when the profile has no such budget)."""
    pieces: tuple[tuple[str, int], ...]
    """(population name, neurons of it on this core)."""
    synops_per_step: float
    """Expected synaptic operations per step."""
    compute_time: float
    """Expected compute time per step [s]."""

    def utilisation(self, profile: CoreProfile) -> dict[str, float]:
        """Fraction of each per-core limit used."""
        out = {
            "compartments": self.compartments / profile.neurons_per_core,
            "in_axons": self.in_axons / profile.fan_in_axons_per_core,
            "out_axons": self.out_axons / profile.fan_out_axons_per_core,
            "synaptic_memory": self.synapse_bits / profile.synaptic_memory_bits_per_core,
        }
        if profile.delay_units_per_core:
            out["delay_units"] = self.delay_units / profile.delay_units_per_core
        return out


@dataclasses.dataclass
class Mapping:
    """A network placed on cores, with traffic, energy and time per step (SI units).

    Attributes
    ----------
    profile : CoreProfile
        The target.
    dt : float
        Length of one step [s] (rates become spike probabilities ``rate * dt``).
    weight_bits : int
        Synaptic weight precision assumed for the memory budget [bit].
    cores : list of CoreUsage
        One entry per core used.
    core_of : dict
        Population name -> (n,) int array: the core of each neuron.
    traffic : dict
        Expected spike messages per step: ``messages`` (all (spike, destination
        core) pairs of on-chip neurons), ``inter_core`` (to another core),
        ``inter_chip`` (to another chip), ``input_messages`` (from off-chip
        inputs), and ``spikes`` (on-chip spikes).
    counts : dict
        Expected operations per step: ``synops``, ``active_updates``,
        ``inactive_updates``, ``learning_updates``, ``messages``.
    energy : dict
        Energy per step by part [J]: ``synops``, ``neuron_updates``,
        ``routing``, ``learning``, ``total``.
    time : dict
        Time per step [s]: ``compute`` (slowest core), ``routing`` (longest
        on-chip message), ``barrier``, ``total``.
    rates : dict
        Population name -> mean firing rate used [Hz].
    warnings : list of str
        Unsupported features reported under ``strict=False``, assumed rates,
        unpriced terms.
    """

    profile: CoreProfile
    dt: float
    weight_bits: int
    cores: list[CoreUsage]
    core_of: dict[str, np.ndarray]
    traffic: dict[str, float]
    counts: dict[str, float]
    energy: dict[str, float]
    time: dict[str, float]
    rates: dict[str, float]
    warnings: list[str]

    @property
    def n_cores(self) -> int:
        return len(self.cores)

    @property
    def n_chips(self) -> int:
        return len({c.chip for c in self.cores})

    @property
    def power(self) -> float:
        """Average dynamic power when one step takes ``dt`` of real time [W]."""
        return self.energy["total"] / self.dt

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict of the report (``mapping.json``)."""
        p = self.profile
        return {
            "format": "memr_snn.mapping", "version": 1,
            "profile": p.name, "chip": p.chip, "dt_s": self.dt, "weight_bits": self.weight_bits,
            "n_cores": self.n_cores, "n_chips": self.n_chips,
            "limits": {
                "neurons_per_core": p.neurons_per_core, "fan_in_axons_per_core": p.fan_in_axons_per_core,
                "fan_out_axons_per_core": p.fan_out_axons_per_core,
                "synaptic_memory_bits_per_core": p.synaptic_memory_bits_per_core,
                "delay_units_per_core": p.delay_units_per_core, "cores_per_chip": p.cores_per_chip,
            },
            "cores": [
                {**{k: v for k, v in dataclasses.asdict(c).items() if k not in ("pieces", "tile")},
                 "tile": list(c.tile), "pieces": [list(x) for x in c.pieces], "utilisation": c.utilisation(p)}
                for c in self.cores
            ],
            "traffic_per_step": self.traffic, "operations_per_step": self.counts,
            "energy_per_step_J": self.energy, "time_per_step_s": self.time, "power_W": self.power,
            "rates_hz": self.rates,
            "not_published": p.not_published(),
            "warnings": list(self.warnings),
        }

    def to_json(self, path: str | Path) -> Path:
        """Write :meth:`to_dict` as JSON; returns the path."""
        path = Path(path)
        write_text(path, json.dumps(self.to_dict(), indent=2, allow_nan=False) + "\n")
        return path

    def format(self, max_cores: int = 40) -> str:
        """The report as text: summary, per-core table (first ``max_cores``), traffic, energy, time."""
        p = self.profile
        lines = [
            f"mapping on {p.name} ({p.chip})",
            (f"cores used {self.n_cores} on {self.n_chips} chip(s) of {p.cores_per_chip} cores; "
            f"dt = {self.dt * 1e3:g} ms; weights {self.weight_bits} bit"),
            "",
            (f"{'core':>5}{'chip':>5}{'tile':>7}{'neurons':>9}{'compart':>9}{'in_ax':>7}{'out_ax':>8}"
            f"{'synapses':>10}{'mem [%]':>9}{'delay [%]':>10}{'synops/step':>13}  populations"),
        ]
        for c in self.cores[:max_cores]:
            u = c.utilisation(p)
            pieces = ", ".join(f"{n}:{k}" for n, k in c.pieces)
            dl = f"{100 * u['delay_units']:>10.1f}" if "delay_units" in u else f"{'-':>10}"
            lines.append(
                f"{c.index:>5}{c.chip:>5}{f'{c.tile[0]},{c.tile[1]}':>7}{c.neurons:>9}{c.compartments:>9}"
                f"{c.in_axons:>7}{c.out_axons:>8}{c.synapses:>10}{100 * u['synaptic_memory']:>9.1f}{dl}"
                f"{c.synops_per_step:>13.2f}  {pieces}"
            )
        if self.n_cores > max_cores:
            lines.append(f"  ... {self.n_cores - max_cores} more cores (see mapping.json)")
        util = np.array([[v for v in c.utilisation(p).values()] for c in self.cores])
        names = list(self.cores[0].utilisation(p))
        lines += ["", "utilisation (mean / max over cores): " + ", ".join(
            f"{n} {100 * util[:, k].mean():.1f}% / {100 * util[:, k].max():.1f}%" for k, n in enumerate(names))]
        t, e, tm, n = self.traffic, self.energy, self.time, self.counts
        lines += [
            (f"spikes per step: {t['spikes']:.3f} on chip, {t['input_messages']:.3f} input messages; messages "
            f"{t['messages']:.3f} (inter-core {t['inter_core']:.3f}, inter-chip {t['inter_chip']:.3f})"),
            (f"operations per step: {n['synops']:.1f} synaptic ops, {n['active_updates']:.1f} active + "
            f"{n['inactive_updates']:.1f} inactive compartment updates, {n['learning_updates']:.1f} learning updates"),
            (f"energy per step: {e['total'] * 1e9:.4g} nJ = synops {e['synops'] * 1e9:.4g} + neuron updates "
            f"{e['neuron_updates'] * 1e9:.4g} + routing {e['routing'] * 1e9:.4g} + learning "
            f"{e['learning'] * 1e9:.4g} nJ  ({self.power * 1e3:.4g} mW at one step per dt)"),
            (f"time per step: {tm['total'] * 1e6:.4g} us = slowest core {tm['compute'] * 1e6:.4g} + routing "
            f"{tm['routing'] * 1e6:.4g} + barrier {tm['barrier'] * 1e6:.4g} us  (real-time factor "
            f"{tm['total'] / self.dt:.3g})"),
        ]
        np_ = p.not_published()
        if np_:
            lines.append("not published for this chip (borrowed/assumed): " + ", ".join(sorted(np_)))
        for w in self.warnings:
            lines.append(f"warning: {w}")
        return "\n".join(lines)

    def plot(self, ax=None, title: str | None = None):
        """Bar chart of the utilisation of every per-core limit, per core; returns the axes."""
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots(figsize=(max(7.0, 0.35 * self.n_cores + 2), 3.8))
        util = [c.utilisation(self.profile) for c in self.cores]
        names = list(util[0])
        width = 0.8 / len(names)
        x = np.arange(self.n_cores)
        for k, name in enumerate(names):
            ax.bar(x + (k - (len(names) - 1) / 2) * width, [100 * u[name] for u in util], width, label=name)
        ax.axhline(100, color="k", lw=0.8, ls="--")
        ax.set_xlabel("core")
        ax.set_ylabel("utilisation [%]")
        ax.set_title(title or f"{self.profile.name}: {self.n_cores} cores, {self.n_chips} chip(s)")
        ax.set_ylim(0, 130)
        ax.set_xticks(x if self.n_cores <= 40 else x[:: max(1, self.n_cores // 20)])
        ax.legend(frameon=False, fontsize=7, ncol=3, loc="upper center")
        return ax


# ============================================================================ rates
def rates_from_monitors(monitors, duration: float | None = None) -> dict[str, np.ndarray]:
    """Per-neuron firing rates [Hz] from the spike monitors of a previous run.

    Parameters
    ----------
    monitors : iterable of SpikeMonitor
        Monitors recording whole populations.
    duration : float, optional
        Recorded time [s]; default: the time simulated by the monitors' network.
    """
    out = {}
    for mon in monitors:
        net = mon.population.network
        t = duration if duration is not None else (net.t if net is not None else 0.0)
        if not (t > 0):
            raise ValueError(f"duration must be > 0 [s] to turn spike counts into rates, got {t!r}")
        out[mon.population.name] = mon.count() / t
    return out


def _source_rates(pop: PopulationBase, given, default_rate: float, notes: list[str]) -> np.ndarray:
    if given is not None:
        r = np.broadcast_to(np.asarray(given, dtype=np.float64), (pop.n,)).copy()
        if not np.all(np.isfinite(r)) or np.any(r < 0):
            raise ValueError(f"rates for {pop.name!r} must be finite and >= 0 [Hz]")
        return r
    if isinstance(pop, PoissonSource):
        return pop.rates.mean(axis=0)
    if isinstance(pop, SpikeSource):
        span = float(pop.times.max()) if pop.times.size else 0.0
        return np.bincount(pop.indices, minlength=pop.n) / max(span, 1e-300) if span > 0 else np.zeros(pop.n)
    notes.append(f"population {pop.name!r}: no rate given, {default_rate:g} Hz assumed")
    return np.full(pop.n, float(default_rate))


# ============================================================================ features
def _check_features(net, profile: CoreProfile, strict: bool) -> list[str]:
    problems: list[tuple[str, str]] = []
    for pop in net.populations:
        if not isinstance(pop, Population):
            continue
        nrn = pop.neuron
        el = f"population {pop.name!r}"
        if isinstance(nrn, LIFCondParams):
            problems.append((el, ("conductance-based synapses (LIFCondParams) cannot be expressed: the cores "
                                 "integrate current-based synaptic input (weights added to a current); use LIFParams")))
        elif isinstance(nrn, ALIFParams):
            if profile.adaptation == "none":
                problems.append((el, (f"adaptive threshold (ALIFParams) is not supported by profile "
                                     f"{profile.name!r} (adaptation = 'none')")))
        elif not isinstance(nrn, LIFParams):
            problems.append((el, (f"neuron model {type(nrn).__name__} ({nrn.model!r}) has no counterpart on the "
                                 f"digital cores (supported: LIFParams, ALIFParams)")))
    for proj in net.projections:
        el = f"projection {proj.name!r}"
        if proj.device is not None:
            problems.append((el, ("memristive device non-idealities (Projection.device: crossbar read noise, drift, "
                                 "faults) cannot be expressed: the cores store digital weights")))
        hw = proj.max_delay - 1
        if hw > profile.max_synaptic_delay:
            rng_txt = f"[1, {profile.max_delay_steps}] (hardware delays 0..{profile.max_synaptic_delay})"
            problems.append((el, (f"delay of {proj.max_delay} steps is beyond the profile's range: delay_steps must "
                                 f"be in {rng_txt}")))
    if problems and strict:
        raise UnsupportedFeature(*problems[0])
    return [f"{el}: {reason} (strict=False: mapped anyway)" for el, reason in problems]


# ============================================================================ the mapper
class _Problem:
    """Flat arrays of one network for one profile."""

    def __init__(self, net, profile: CoreProfile, weight_bits: int, rates, default_rate: float, dt: float):
        self.profile = profile
        self.weight_bits = weight_bits
        self.dt = dt
        self.notes: list[str] = []
        pops = [p for p in net.populations if isinstance(p, Population)]
        inputs = [p for p in net.populations if not isinstance(p, Population)]
        if not pops:
            raise ValueError("the network has no neuron population to map (inputs alone live off-chip)")
        self.pops = pops
        self.offset: dict[int, int] = {}
        k = 0
        for p in pops:
            self.offset[id(p)] = k
            k += p.n
        self.n = k
        self.src_offset: dict[int, int] = dict(self.offset)
        for p in inputs:
            self.src_offset[id(p)] = k
            k += p.n
        self.n_src = k
        self.pop_of = np.repeat(np.arange(len(pops)), [p.n for p in pops])
        # rates -> spike probability per step
        rates = dict(rates or {})
        by_name = {}
        for key, val in rates.items():
            name = key.name if isinstance(key, PopulationBase) else key
            if name not in {p.name for p in net.populations}:
                raise ValueError(f"rates given for unknown population {name!r}")
            by_name[name] = val
        rate = np.concatenate([_source_rates(p, by_name.get(p.name), default_rate, self.notes)
                               for p in pops + inputs])
        self.rate_summary = {p.name: float(np.mean(r)) for p, r in zip(
            pops + inputs, np.split(rate, np.cumsum([q.n for q in pops + inputs])[:-1]), strict=True)}
        self.prob = np.minimum(rate * dt, 1.0)
        # synapses
        rows, cols, plastic, delay = [], [], [], []
        used_receptors: dict[int, set] = {id(p): set() for p in pops}
        for proj in net.projections:
            if proj.indices is None or proj.n_synapses == 0:
                continue
            rows.append(self.src_offset[id(proj.pre)] + proj.pre_indices())
            cols.append(self.offset[id(proj.post)] + proj.indices.astype(np.int64))
            plastic.append(np.full(proj.n_synapses, proj.plasticity is not None))
            delay.append(proj.delay_array())
            used_receptors[id(proj.post)].add(proj.receptor)
        rows = np.concatenate(rows) if rows else np.zeros(0, np.int64)
        cols = np.concatenate(cols) if cols else np.zeros(0, np.int64)
        plastic = np.concatenate(plastic) if plastic else np.zeros(0, bool)
        delay = np.concatenate(delay) if delay else np.zeros(0, np.int64)
        ones = np.ones(rows.size, dtype=np.int64)
        self.A = sp.csr_matrix((ones, (rows, cols)), shape=(self.n_src, self.n))  # counts, duplicates summed
        self.A_csc = self.A.tocsc()
        self.has_plastic = bool(plastic.any())
        self.Ap = sp.csr_matrix((ones[plastic], (rows[plastic], cols[plastic])), shape=(self.n_src, self.n))
        self.Ap_csc = self.Ap.tocsc()
        # largest hardware delay into each neuron (-1: no input)
        self.max_delay_in = np.full(self.n, -1, dtype=np.int64)
        np.maximum.at(self.max_delay_in, cols, np.minimum(delay - 1, profile.max_synaptic_delay))
        # compartments per neuron
        comps = []
        for p in pops:
            comps.append(np.full(p.n, self._compartments(p, used_receptors[id(p)]), dtype=np.int64))
        self.comps = np.concatenate(comps)

    def _compartments(self, pop: Population, receptors: set) -> int:
        prof = self.profile
        n = 1
        per = prof.synaptic_time_constants_per_compartment
        if per:
            taus = []
            for r in sorted(receptors):
                tau = getattr(pop.neuron, "tau_syn_e" if r == "exc" else "tau_syn_i", None)
                if tau is not None:
                    arr = np.broadcast_to(np.asarray(tau, dtype=np.float64), (pop.n,))
                    if not any(np.array_equal(arr, t) for t in taus):
                        taus.append(arr)
            n = max(1, math.ceil(len(taus) / per))
        if isinstance(pop.neuron, ALIFParams) and prof.adaptation == "auxiliary_compartment":
            n += 1
        return n

    # -- per-core resources ------------------------------------------------------------------
    def bits_per_synapse(self, n_comp: int, max_hw_delay: int) -> int:
        prof = self.profile
        idx = max(prof.index_bits_min, min(prof.index_bits_max, math.ceil(math.log2(max(n_comp, 2)))))
        dly = 0 if max_hw_delay <= 0 else max(1, math.ceil(math.log2(max_hw_delay + 1)))
        return self.weight_bits + dly + idx

    def delay_units(self, n_comp: int, max_hw_delay: int) -> int:
        prof = self.profile
        if not prof.delay_units_per_core:
            return 0
        return n_comp * max(prof.min_delay_units, max_hw_delay + 2)

    def local(self, counts: np.ndarray, plastic_rows: int, n_comp: int, max_hw_delay: int) -> dict[str, int]:
        """Core-local resources from per-source synapse counts (nonzero entries only)."""
        bps = self.bits_per_synapse(n_comp, max_hw_delay)
        return {
            "neurons_per_core": n_comp,
            "fan_in_axons_per_core": int(counts.size) + (self.profile.plastic_in_axon_slots - 1) * plastic_rows,
            "synaptic_memory_bits_per_core": int(list_block_bits(counts, bps, self.profile).sum()),
            "delay_units_per_core": self.delay_units(n_comp, max_hw_delay),
        }

    def block_local(self, a: int, b: int, out_prefix: np.ndarray | None = None) -> dict[str, int]:
        """Core-local resources of neurons [a, b) (global order); with ``out_prefix`` (cumulative destination
        cores per neuron under a previous placement) also the estimated output axons."""
        A = self.A_csc
        r = A.indices[A.indptr[a]:A.indptr[b]]
        w = A.data[A.indptr[a]:A.indptr[b]]
        if 4 * r.size < self.n_src:  # few synapses: sort them rather than touch a table of every source
            _, inv = np.unique(r, return_inverse=True)
            counts = np.bincount(inv, weights=w).astype(np.int64)
        else:
            counts = np.bincount(r, weights=w)
            counts = counts[counts > 0].astype(np.int64)
        pr = 0
        if self.has_plastic:
            P = self.Ap_csc
            pr = int(np.unique(P.indices[P.indptr[a]:P.indptr[b]]).size)
        d = int(self.max_delay_in[a:b].max()) if b > a else -1
        res = self.local(counts, pr, int(self.comps[a:b].sum()), d)
        if out_prefix is not None:
            res["fan_out_axons_per_core"] = int(math.ceil(out_prefix[b] - out_prefix[a]))
        return res

    def violation(self, res: dict[str, int]) -> tuple[str, int, int] | None:
        prof = self.profile
        for key, need in res.items():
            lim = getattr(prof, key)
            if key == "delay_units_per_core" and not lim:
                continue
            if need > lim:
                return key, lim, need
        return None


def _describe_neuron(prob: _Problem, j: int) -> str:
    pop = prob.pops[prob.pop_of[j]]
    return f"neuron {pop.name}[{j - prob.offset[id(pop)]}]"


def _greedy_blocks(prob: _Problem, out_prefix: np.ndarray | None = None) -> list[tuple[int, int]]:
    cap = prob.profile.neurons_per_core
    blocks, a, size = [], 0, cap
    while a < prob.n:
        bad = prob.violation(prob.block_local(a, a + 1))
        if bad is None and out_prefix is not None and prob.violation(prob.block_local(a, a + 1, out_prefix)):
            blocks.append((a, a + 1))  # its estimated destinations alone exceed the limit: the exact check decides
            a += 1
            continue
        if bad:
            key, lim, need = bad
            detail = "even alone on a core"
            if key == "fan_in_axons_per_core":
                detail += f"; it receives synapses from {need} distinct sources"
            raise MappingError(_describe_neuron(prob, a), key, lim, need, detail)

        def fits(b, a=a):
            return prob.violation(prob.block_local(a, b, out_prefix)) is None

        lo, hi = a + 1, min(prob.n, a + cap)
        guess = min(hi, a + size) if blocks else hi  # neighbouring blocks tend to have the same size
        if guess > lo:  # bracket the answer next to the guess before bisecting
            if fits(guess):
                lo = guess
                if guess < hi and not fits(guess + 1):
                    hi = guess
            else:
                hi = guess - 1
                if hi > lo and fits(hi):
                    lo = hi
        while lo < hi:  # largest b in [lo, hi] that fits (every local resource grows with b)
            mid = (lo + hi + 1) // 2
            if fits(mid):
                lo = mid
            else:
                hi = mid - 1
        blocks.append((a, lo))
        size = lo - a
        a = lo
    return blocks


def _core_table(prob: _Problem, core_of: np.ndarray, n_cores: int):
    """(S, Sp) synapse counts per (source, core), sparse."""
    A = prob.A.tocoo()
    S = sp.csr_matrix((A.data, (A.row, core_of[A.col])), shape=(prob.n_src, n_cores))
    S.sum_duplicates()
    Ap = prob.Ap.tocoo()
    Sp = sp.csr_matrix((Ap.data, (Ap.row, core_of[Ap.col])), shape=(prob.n_src, n_cores))
    Sp.sum_duplicates()
    return S, Sp


def _out_axons(prob: _Problem, S, core_of: np.ndarray, n_cores: int) -> np.ndarray:
    ndest = np.diff(S.indptr)[: prob.n]
    return np.bincount(core_of, weights=ndest, minlength=n_cores).astype(np.int64)


def _max_cores(prob: _Problem) -> int:
    return prob.profile.max_chips * prob.profile.cores_per_chip


def _check_core_count(prob: _Problem, n_cores: int) -> None:
    if n_cores > _max_cores(prob):
        prof = prob.profile
        raise MappingError(
            "the network", "cores (max_chips x cores_per_chip)", _max_cores(prob), n_cores,
            f"{math.ceil(n_cores / prof.cores_per_chip)} chips needed, profile {prof.name!r} allows "
            f"{prof.max_chips}")


def _fit_out_axons(prob: _Problem, blocks: list[tuple[int, int]]) -> list[tuple[int, int]]:
    lim = prob.profile.fan_out_axons_per_core
    while True:
        _check_core_count(prob, len(blocks))
        sizes = [b - a for a, b in blocks]
        core_of = np.repeat(np.arange(len(blocks)), sizes)
        S, _ = _core_table(prob, core_of, len(blocks))
        out = _out_axons(prob, S, core_of, len(blocks))
        bad = set(np.nonzero(out > lim)[0].tolist())
        if not bad:
            return blocks
        new = []
        for k, (a, b) in enumerate(blocks):
            if k in bad:
                if b - a == 1:
                    raise MappingError(_describe_neuron(prob, a), "fan_out_axons_per_core", lim, int(out[k]),
                                       "its synapses reach that many cores")
                parts = min(b - a, max(2, -(-int(out[k]) // lim)))  # ceil(out / limit) equal parts
                edges = np.linspace(a, b, parts + 1).round().astype(int)
                new += [(int(x), int(y)) for x, y in zip(edges[:-1], edges[1:], strict=True) if y > x]
            else:
                new.append((a, b))
        blocks = new


class _Refiner:
    """Single-neuron moves that lower rate-weighted inter-core traffic and keep every limit.

    Keeps the (sources x cores) synapse-count table dense and, per core, its input
    axons, synaptic memory, compartments, largest delay and output axons, so a
    candidate move is priced from two columns of the table only.
    """

    def __init__(self, prob: _Problem, core_of: np.ndarray, n_cores: int):
        self.p = prob
        self.C = n_cores
        self.core_of = core_of.copy()
        S, Sp = _core_table(prob, core_of, n_cores)
        self.S = S.toarray().astype(np.int64)
        self.Sp = Sp.toarray().astype(np.int64) if prob.has_plastic else None
        self.src_core = np.concatenate([self.core_of, np.full(prob.n_src - prob.n, -1)])
        self.ndest = (self.S > 0).sum(axis=1)
        self.out = np.bincount(self.core_of, weights=self.ndest[: prob.n], minlength=n_cores).astype(np.int64)
        self.comp = np.bincount(self.core_of, weights=prob.comps, minlength=n_cores).astype(np.int64)
        self.maxd = np.full(n_cores, -1, dtype=np.int64)
        np.maximum.at(self.maxd, self.core_of, prob.max_delay_in)
        self.nnz = (self.S > 0).sum(axis=0)
        self.pnnz = (self.Sp > 0).sum(axis=0) if self.Sp is not None else np.zeros(n_cores, dtype=np.int64)
        self.bits = np.array([self._column_bits(c, self.comp[c], self.maxd[c]) for c in range(n_cores)])

    def _bps(self, comp, maxd) -> int:
        return self.p.bits_per_synapse(int(comp), int(maxd))

    def _column_bits(self, c, comp, maxd, col=None) -> int:
        col = self.S[:, c] if col is None else col
        return int(list_block_bits(col[col > 0], self._bps(comp, maxd), self.p.profile).sum())

    def _maxd_without(self, c: int, j: int) -> int:
        members = self.core_of == c
        members[j] = False
        return int(self.p.max_delay_in[members].max()) if members.any() else -1

    def try_move(self, j: int, b: int) -> bool:
        p, a = self.p, int(self.core_of[j])
        prof = p.profile
        A = p.A_csc
        rows = A.indices[A.indptr[j]:A.indptr[j + 1]]
        w = A.data[A.indptr[j]:A.indptr[j + 1]].astype(np.int64)
        if not (rows == j).any():  # j's own term changes with its core even without an autapse
            rows, w = np.append(rows, j), np.append(w, 0)
        sa, sb = self.S[rows, a], self.S[rows, b]
        sa2, sb2 = sa - w, sb + w
        gone, new = (sa > 0) & (sa2 == 0), (sb == 0) & (sb2 > 0)
        nd_old = self.ndest[rows]
        nd_new = nd_old - gone + new
        own = self.src_core[rows]
        own2 = np.where(rows == j, b, own)

        def hit(own_c, col_a, col_b):
            other = self.S[rows, np.maximum(own_c, 0)] > 0
            return np.where(own_c == a, col_a > 0, np.where(own_c == b, col_b > 0, (own_c >= 0) & other))

        t_old = nd_old - hit(own, sa, sb)
        t_new = nd_new - hit(own2, sa2, sb2)
        if not float(np.dot(p.prob[rows], t_new - t_old)) < -1e-12:
            return False
        # limits of b (gains j): compartments, delay units, input axons, synaptic memory
        comp_b = self.comp[b] + p.comps[j]
        maxd_b = max(self.maxd[b], p.max_delay_in[j])
        nnz_b = self.nnz[b] + int(new.sum())
        pnnz_b, prow, pw = self.pnnz[b], None, None
        if self.Sp is not None:
            Ap = p.Ap_csc
            prow = Ap.indices[Ap.indptr[j]:Ap.indptr[j + 1]]
            pw = Ap.data[Ap.indptr[j]:Ap.indptr[j + 1]].astype(np.int64)
            pnnz_b += int(((self.Sp[prow, b] == 0) & (pw > 0)).sum())
        if self._bps(comp_b, maxd_b) == self._bps(self.comp[b], self.maxd[b]):
            bps = self._bps(comp_b, maxd_b)
            bits_b = self.bits[b] + int((list_block_bits(sb2, bps, prof) - list_block_bits(sb, bps, prof)).sum())
        else:
            col = self.S[:, b].copy()
            col[rows] = sb2
            bits_b = self._column_bits(b, comp_b, maxd_b, col)
        res = {"neurons_per_core": int(comp_b),
               "fan_in_axons_per_core": int(nnz_b) + (prof.plastic_in_axon_slots - 1) * int(pnnz_b),
               "synaptic_memory_bits_per_core": int(bits_b),
               "delay_units_per_core": p.delay_units(int(comp_b), int(maxd_b))}
        if p.violation(res) is not None:
            return False
        # output axons of every core whose sources changed destinations, and of a and b
        out = self.out.copy()
        others = (rows != j) & (own >= 0)
        np.add.at(out, own[others], (nd_new - nd_old)[others])
        jj = int(np.nonzero(rows == j)[0][0])
        out[a] -= nd_old[jj]
        out[b] += nd_new[jj]
        if out.max() > prof.fan_out_axons_per_core:
            return False
        # apply: a loses j (its resources only shrink), b gains it
        comp_a = self.comp[a] - p.comps[j]
        maxd_a = self._maxd_without(a, j)
        self.S[rows, a], self.S[rows, b] = sa2, sb2
        self.nnz[a] -= int(gone.sum())
        self.nnz[b] = nnz_b
        if self.Sp is not None:
            self.pnnz[a] -= int(((self.Sp[prow, a] > 0) & (self.Sp[prow, a] - pw == 0)).sum())
            self.Sp[prow, a] -= pw
            self.Sp[prow, b] += pw
            self.pnnz[b] = pnnz_b
        self.ndest[rows] = nd_new
        self.out = out
        self.comp[a], self.comp[b] = comp_a, comp_b
        self.maxd[a], self.maxd[b] = maxd_a, maxd_b
        self.bits[a] = self._column_bits(a, comp_a, maxd_a)
        self.bits[b] = bits_b
        self.core_of[j] = b
        self.src_core[j] = b
        return True

    def candidates(self, j: int, k: int = 3) -> np.ndarray:
        p, a = self.p, self.core_of[j]
        A = p.A_csc
        rows = A.indices[A.indptr[j]:A.indptr[j + 1]]
        w = A.data[A.indptr[j]:A.indptr[j + 1]]
        score = self.S[j].astype(np.float64) * p.prob[j]
        sc = self.src_core[rows]
        ok = sc >= 0
        np.add.at(score, sc[ok], (w * p.prob[rows])[ok])
        score[a] = 0.0
        order = np.argsort(-score, kind="stable")[:k]
        return order[score[order] > 0]

    def run(self, passes: int, rng: np.random.Generator) -> int:
        moved = 0
        for _ in range(passes):
            m = 0
            for j in rng.permutation(self.p.n):
                for b in self.candidates(int(j)):
                    if self.try_move(int(j), int(b)):
                        m += 1
                        break
            moved += m
            if m == 0:
                break
        return moved


def _tile_xy(profile: CoreProfile, core: np.ndarray):
    local = np.asarray(core) % profile.cores_per_chip
    tile = local // profile.cores_per_tile
    return tile % profile.tiles_x, tile // profile.tiles_x


def map_network(
    net,
    profile: CoreProfile | str,
    *,
    dt: float | None = None,
    rates: MappingABC | None = None,
    default_rate: float = DEFAULT_RATE,
    weight_bits: int | None = None,
    strict: bool = True,
    refine: bool = True,
    refine_passes: int = 2,
    seed: int = 0,
) -> Mapping:
    """Place ``net`` on the cores of ``profile`` and estimate energy and time per step.

    Parameters
    ----------
    net : Network
        A built network (projections added, so synapses exist).
    profile : CoreProfile or str
        Target, or the name / path of a profile (:func:`~memr_snn.hardware.load_profile`).
    dt : float, optional
        Length of one hardware step [s]; default ``net.dt``.
    rates : mapping, optional
        Population (or name) -> firing rate [Hz], scalar or per neuron, e.g.
        :func:`rates_from_monitors` of a previous run.  Defaults: a
        PoissonSource's mean rate, a SpikeSource's rate over its spike times,
        ``default_rate`` for neurons (reported as assumed).
    default_rate : float
        Rate assumed for neuron populations without one [Hz].
    weight_bits : int, optional
        Synaptic weight precision for the memory budget [bit]; default the
        profile's ``weight_bits_default``; at most ``weight_bits_max``.
    strict : bool
        Refuse unsupported features with :class:`UnsupportedFeature` (default);
        ``False`` reports them in ``Mapping.warnings`` and maps anyway.
    refine : bool
        Run the traffic-reducing refinement after the greedy placement.
    refine_passes : int
        Passes over all neurons of the refinement.
    seed : int
        Seed of the refinement's visiting order.

    Returns
    -------
    Mapping

    Raises
    ------
    UnsupportedFeature
        The network has a feature the profile cannot express (``strict=True``).
    MappingError
        Something cannot fit: names the element, the limit, its value and the
        value required.
    """
    if isinstance(profile, (str, Path)):
        profile = load_profile(profile)
    if not isinstance(profile, CoreProfile):
        raise TypeError(f"profile must be a CoreProfile or a profile name/path, got {profile!r}")
    dt = net.dt if dt is None else dt
    if isinstance(dt, bool) or not isinstance(dt, (int, float)) or not (math.isfinite(dt) and dt > 0):
        raise ValueError(f"dt must be finite and > 0 [s], got {dt!r}")
    wb = profile.weight_bits_default if weight_bits is None else weight_bits
    if isinstance(wb, bool) or not isinstance(wb, (int, np.integer)) or not 1 <= wb <= profile.weight_bits_max:
        raise ValueError(f"weight_bits must be an integer in [1, {profile.weight_bits_max}] for profile "
                         f"{profile.name!r}, got {weight_bits!r}")
    if not (math.isfinite(default_rate) and default_rate >= 0):
        raise ValueError(f"default_rate must be finite and >= 0 [Hz], got {default_rate!r}")
    if isinstance(refine_passes, bool) or not isinstance(refine_passes, int) or refine_passes < 0:
        raise ValueError(f"refine_passes must be an integer >= 0, got {refine_passes!r}")
    warnings = _check_features(net, profile, strict)
    prob = _Problem(net, profile, int(wb), rates, default_rate, float(dt))
    warnings += prob.notes

    blocks = _greedy_blocks(prob)
    for r in range(_OUT_ESTIMATE_ROUNDS):  # refill with output axons estimated from the previous placement
        _check_core_count(prob, len(blocks))
        core_of = np.repeat(np.arange(len(blocks)), [b - a for a, b in blocks])
        S, _ = _core_table(prob, core_of, len(blocks))
        if _out_axons(prob, S, core_of, len(blocks)).max() <= profile.fan_out_axons_per_core:
            break
        ndest = np.diff(S.indptr)[: prob.n] * (1.0 + 0.02 * r)  # a growing margin: estimates shift with placement
        blocks = _greedy_blocks(prob, np.concatenate([[0], np.cumsum(ndest)]))
    blocks = _fit_out_axons(prob, blocks)
    n_cores = len(blocks)
    core_of = np.repeat(np.arange(n_cores), [b - a for a, b in blocks])
    if refine and refine_passes and n_cores > 1:
        if prob.n_src * n_cores <= _REFINE_MAX_ENTRIES:
            ref = _Refiner(prob, core_of, n_cores)
            ref.run(refine_passes, np.random.default_rng(seed))
            core_of = ref.core_of
        else:
            warnings.append(f"refinement skipped: {prob.n_src} sources x {n_cores} cores is too large a table")
        used = np.unique(core_of)  # drop emptied cores, keep order
        core_of = np.searchsorted(used, core_of)
        n_cores = used.size
    return _account(prob, core_of, n_cores, warnings)


def _account(prob: _Problem, core_of: np.ndarray, n_cores: int, warnings: list[str]) -> Mapping:
    prof = prob.profile
    S, Sp = _core_table(prob, core_of, n_cores)
    Sc = S.tocsc()
    out = _out_axons(prob, S, core_of, n_cores)
    comp = np.bincount(core_of, weights=prob.comps, minlength=n_cores).astype(np.int64)
    maxd = np.full(n_cores, -1, dtype=np.int64)
    np.maximum.at(maxd, core_of, prob.max_delay_in)
    p = prob.prob
    lam = prob.A.T @ p  # expected input events per neuron
    active = 1.0 - np.exp(-lam)
    upd_act = prob.comps * active
    upd_inact = prob.comps * (1.0 - active)
    t_neuron = upd_act * prof.t_neuron_active + upd_inact * prof.t_neuron_inactive
    synops_core = S.T @ p
    learn_neuron = np.zeros(prob.n)
    if prob.has_plastic:
        learn_neuron = prob.Ap.T @ p + p[: prob.n] * np.asarray(prob.Ap.sum(axis=0)).ravel()
    learn_core = np.bincount(core_of, weights=learn_neuron, minlength=n_cores)
    compute = (synops_core * prof.t_synop + np.bincount(core_of, weights=t_neuron, minlength=n_cores)
               + learn_core * prof.t_synupdate)
    cores = []
    for c in range(n_cores):
        counts = Sc.data[Sc.indptr[c]:Sc.indptr[c + 1]]
        pr = int(np.count_nonzero(Sp.getcol(c).toarray())) if prob.has_plastic else 0
        res = prob.local(counts, pr, int(comp[c]), int(maxd[c]))
        res["fan_out_axons_per_core"] = int(out[c])
        bad = prob.violation(res)
        if bad:  # pragma: no cover - the placement guarantees the limits; this guards the guarantee
            raise MappingError(f"core {c}", bad[0], bad[1], bad[2], "internal placement error")
        members = np.nonzero(core_of == c)[0]
        pops, cnt = np.unique(prob.pop_of[members], return_counts=True)
        x, y = _tile_xy(prof, np.array([c]))
        cores.append(CoreUsage(
            index=c, chip=c // prof.cores_per_chip, tile=(int(x[0]), int(y[0])), neurons=int(members.size),
            compartments=int(comp[c]), in_axons=res["fan_in_axons_per_core"], out_axons=int(out[c]),
            synapses=int(counts.sum()), synapse_bits=res["synaptic_memory_bits_per_core"],
            delay_units=res["delay_units_per_core"],
            pieces=tuple((prob.pops[k].name, int(m)) for k, m in zip(pops, cnt, strict=True)),
            synops_per_step=float(synops_core[c]), compute_time=float(compute[c]),
        ))
    # spike messages: (source, destination core) pairs
    Sco = S.tocoo()
    onchip = Sco.row < prob.n
    src, dst = Sco.row[onchip], Sco.col[onchip]
    pm = p[src]
    src_core = core_of[src]
    sx, sy = _tile_xy(prof, src_core)
    dx, dy = _tile_xy(prof, dst)
    same_chip = (src_core // prof.cores_per_chip) == (dst // prof.cores_per_chip)
    hx, hy = np.abs(sx - dx), np.abs(sy - dy)
    e_msg = prof.e_spike_tile + hx * prof.e_hop_ew + hy * prof.e_hop_ns
    t_msg = prof.t_spike_tile + hx * prof.t_hop_ew + hy * prof.t_hop_ns
    inter_core = src_core != dst
    traffic = {
        "spikes": float(p[: prob.n].sum()),
        "messages": float(pm.sum()),
        "inter_core": float(pm[inter_core].sum()),
        "inter_chip": float(pm[~same_chip].sum()),
        "input_messages": float((p[Sco.row[~onchip]]).sum()),
    }
    e_routing = float(np.dot(pm[same_chip], e_msg[same_chip]))
    live = same_chip & (pm > 0)
    t_route = float(t_msg[live].max()) if live.any() else 0.0
    if (~same_chip).any():
        warnings.append("messages between chips are counted (inter_chip) but not priced, and the multi-chip "
                        "barrier is not modelled: no per-spike chip-to-chip cost is published in the profile")
    if traffic["input_messages"] > 0:
        warnings.append("spikes of off-chip inputs cost synaptic ops on their target cores; their injection into "
                        "the mesh is counted (input_messages) but not priced")
    tiles = np.zeros(0)
    if n_cores:
        chip = np.arange(n_cores) // prof.cores_per_chip
        tile_id = (np.arange(n_cores) % prof.cores_per_chip) // prof.cores_per_tile
        tiles = np.array([np.unique(tile_id[chip == k]).size for k in np.unique(chip)])
    k = int(tiles.max()) if tiles.size else 1
    span = prof.tiles_per_chip - 1
    t_barrier = prof.t_barrier_max if span == 0 else prof.t_barrier_min + (
        prof.t_barrier_max - prof.t_barrier_min) * (k - 1) / span
    counts = {
        "synops": float(synops_core.sum()),
        "active_updates": float(upd_act.sum()),
        "inactive_updates": float(upd_inact.sum()),
        "learning_updates": float(learn_neuron.sum()),
        "messages": traffic["messages"],
    }
    energy = {
        "synops": counts["synops"] * prof.e_synop,
        "neuron_updates": counts["active_updates"] * prof.e_neuron_active
        + counts["inactive_updates"] * prof.e_neuron_inactive,
        "routing": e_routing,
        "learning": counts["learning_updates"] * prof.e_synupdate,
    }
    energy["total"] = sum(energy.values())
    time = {"compute": float(compute.max()), "routing": t_route, "barrier": float(t_barrier)}
    time["total"] = sum(time.values())
    core_map = {}
    for k2, pop in enumerate(prob.pops):
        core_map[pop.name] = core_of[prob.pop_of == k2].copy()
    return Mapping(profile=prof, dt=prob.dt, weight_bits=prob.weight_bits,
                   cores=cores, core_of=core_map, traffic=traffic, counts=counts, energy=energy, time=time,
                   rates=prob.rate_summary, warnings=warnings)
