"""The mapping problem: populations, rates and features of a network checked against a core profile
(:class:`_Problem`); constants of the partitioner."""

from __future__ import annotations

import logging
import math

import numpy as np
import scipy.sparse as sp

from ...model.population import PoissonSource, Population, PopulationBase, SpikeSource
from ...neurons.alif import ALIFParams
from ...neurons.lif import LIFCondParams, LIFParams
from ..profiles import CoreProfile
from .records import UnsupportedFeature, list_block_bits

logger = logging.getLogger("memr_snn.hardware.partition")

#: firing rate assumed for neuron populations without a given or measured rate [Hz]
DEFAULT_RATE = 10.0
#: refinement needs a dense (sources x cores) count table; above this many entries it is skipped
_REFINE_MAX_ENTRIES = 20_000_000
#: greedy refills with output axons estimated from the previous placement, before cores are split
_OUT_ESTIMATE_ROUNDS = 4


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
            problems.append((el, (f"delay of {proj.max_delay} steps is beyond the profile's range: delays must "
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
