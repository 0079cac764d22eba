"""Vogels–Abbott benchmark networks (CUBA and COBA), as in Brian2's published examples.

Brette et al. (2007), *Simulation of networks of spiking neurons: a review of
tools and strategies*, J. Comput. Neurosci. 23:349-398, benchmarks 1 (COBA) and
2 (CUBA), based on Vogels & Abbott (2005), J. Neurosci. 25:10786-10795.  The
numbers are those of Brian2's ``examples/CUBA.py`` and its COBA counterpart.

80 % excitatory, 20 % inhibitory neurons; every ordered pair (autapses
included, as in Brian2) is connected with probability ``p = 80 / n`` so each
neuron receives 80 synapses on average at any size (``p = 0.02`` at n = 4000).
Brian2 writes the CUBA synaptic variables in volts (``ge`` is R times the
current); here they are currents with ``R = tau_mem / c_mem = 100 MOhm``, i.e.
``w [A] = w [V] / R``: the dynamics are identical.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from memr_snn import (
    ALIFParams,
    FixedProbability,
    LIFCondParams,
    LIFParams,
    Network,
    Population,
    Projection,
    RateMonitor,
    SpikeMonitor,
)
from memr_snn.units import ms, mV, nS, pF

__all__ = ["VogelsAbbott", "cuba", "coba", "cuba_alif", "estimate_memory", "SYNAPSES_PER_NEURON", "CUBA_PARAMS",
           "COBA_PARAMS", "ALIF_PARAMS"]

SYNAPSES_PER_NEURON = 80
_C = 200 * pF
_TAU_M = 20 * ms
_R = _TAU_M / _C  # 100 MOhm

#: CUBA neuron (Brian2 examples/CUBA.py: taum 20 ms, taue 5 ms, taui 10 ms,
#: Vt -50 mV, Vr -60 mV, El -49 mV, refractory 5 ms)
CUBA_PARAMS = LIFParams(
    tau_mem=_TAU_M, c_mem=_C, v_rest=-49 * mV, v_reset=-60 * mV, v_threshold=-50 * mV,
    t_ref=5 * ms, tau_syn_e=5 * ms, tau_syn_i=10 * ms,
)
#: CUBA weights in volts (Brian2: we = 60*0.27/10 mV, wi = -20*4.5/10 mV)
CUBA_WE_VOLT = 60 * 0.27 / 10 * mV
CUBA_WI_VOLT = -20 * 4.5 / 10 * mV

#: COBA neuron (Brette et al. 2007 benchmark 1: gL = C/taum = 10 nS, El -60 mV,
#: Ee 0 mV, Ei -80 mV, taue 5 ms, taui 10 ms, Vt -50 mV, Vr -60 mV, refractory 5 ms)
COBA_PARAMS = LIFCondParams(
    tau_mem=_TAU_M, c_mem=_C, v_rest=-60 * mV, v_reset=-60 * mV, v_threshold=-50 * mV,
    t_ref=5 * ms, tau_syn_e=5 * ms, tau_syn_i=10 * ms, e_rev_e=0 * mV, e_rev_i=-80 * mV,
)
#: CUBA neuron with an adaptive threshold (ALIF): tau_adapt 200 ms, +1.8 mV per unit of ``a``
ALIF_PARAMS = ALIFParams(
    tau_mem=_TAU_M, c_mem=_C, v_rest=-49 * mV, v_reset=-60 * mV, v_threshold=-50 * mV,
    t_ref=5 * ms, tau_syn_e=5 * ms, tau_syn_i=10 * ms, tau_adapt=0.2, beta_adapt=1.8e-3,
)

#: COBA conductance increments
COBA_WE = 6 * nS
COBA_WI = 67 * nS


@dataclasses.dataclass
class VogelsAbbott:
    """A built benchmark network and handles to its parts."""

    net: Network
    exc: Population
    inh: Population
    spikes_exc: SpikeMonitor | None
    spikes_inh: SpikeMonitor | None
    rate: RateMonitor | None
    rate_inh: RateMonitor | None
    model: str

    def spikes(self) -> tuple[np.ndarray, np.ndarray]:
        """All recorded spikes as (times [s], indices 0..n-1 with inhibitory after excitatory)."""
        t = np.concatenate([self.spikes_exc.t, self.spikes_inh.t])
        i = np.concatenate([self.spikes_exc.i, self.spikes_inh.i + self.exc.n])
        order = np.lexsort((i, t))
        return t[order], i[order]

    def mean_rate(self) -> float:
        """Mean firing rate over all neurons and the simulated time [Hz]."""
        n_spk = self.spikes_exc.num_spikes + self.spikes_inh.num_spikes
        return n_spk / ((self.exc.n + self.inh.n) * max(self.net.t, 1e-300))


def _projection_sizes(n: int) -> list[float]:
    """Expected synapses of the four projections, in the order :func:`_build` adds them."""
    n_exc = (4 * n) // 5
    n_inh = n - n_exc
    p = min(1.0, SYNAPSES_PER_NEURON / n)
    return [p * a * b for a in (n_exc, n_inh) for b in (n_exc, n_inh)]


def estimate_memory(n: int, initial_variables: int = 3) -> int:
    """Peak memory a Vogels–Abbott network of ``n`` neurons needs while it is built and run [bytes].

    Computed from ``n`` alone, before anything is allocated, with the figures of
    :meth:`memr_snn.Network.estimate_memory` (state and ring buffers per neuron, bytes per
    synapse) plus the transient arrays of generating the largest projection and the initial
    state arrays (``initial_variables`` float64 values per neuron, drawn then copied).

    Parameters
    ----------
    n : int
        Number of neurons, >= 5.
    initial_variables : int
        State variables drawn per neuron by the initializer (CUBA 1, COBA 3).

    Returns
    -------
    int
        Estimated peak bytes; about ``80 * n * 40 + 250 * n``.
    """
    from memr_snn.model.network import _BYTES_PER_SYNAPSE_BUILD

    probe = Network(dt=1e-4, seed=0)
    sizes = _projection_sizes(n)
    peak, done = 0, 0.0
    for s in sizes:  # each projection is checked, generated and sorted with the earlier ones in memory
        need = probe.estimate_memory(extra_neurons=n, extra_synapses=done + s) + int(s * _BYTES_PER_SYNAPSE_BUILD)
        peak = max(peak, need)
        done += s
    return int(peak + 2 * initial_variables * 8 * n)


def _check_memory(n: int, initial_variables: int) -> None:
    """Refuse a network whose :func:`estimate_memory` exceeds the available memory, before allocating."""
    from memr_snn.info import available_memory_bytes

    need = estimate_memory(n, initial_variables)
    avail = available_memory_bytes()
    if avail is not None and need > avail:
        per_neuron = estimate_memory(1000, initial_variables) / 1000
        raise MemoryError(
            f"n = {n} neurons needs about {need / 2**30:.2f} GiB ({SYNAPSES_PER_NEURON * n:.3g} synapses) but only "
            f"{avail / 2**30:.2f} GiB are available; n must be <= about {int(avail / per_neuron)} here; "
            f"nothing was allocated"
        )


def _build(model, n, seed, dt, engine, record, params, we, wi, init, weight_dtype="float64",
           device=None) -> VogelsAbbott:
    if n < 5:
        raise ValueError(f"n must be >= 5 (80 % excitatory, 20 % inhibitory), got {n}")
    _check_memory(int(n), len(init(np.random.default_rng(0), 1)))
    n_exc = (4 * n) // 5  # as the Brian2/NEST peer runners split it
    n_inh = n - n_exc
    p = min(1.0, SYNAPSES_PER_NEURON / n)
    net = Network(dt=dt, seed=seed, engine=engine, weight_dtype=weight_dtype)
    initial = init(np.random.default_rng([seed, 7]), n)
    exc = net.add(Population(n_exc, params, name="exc", initial={k: x[:n_exc] for k, x in initial.items()}))
    inh = net.add(Population(n_inh, params, name="inh", initial={k: x[n_exc:] for k, x in initial.items()}))
    for pre, w, rec in ((exc, we, "exc"), (inh, wi, "inh")):
        for post in (exc, inh):
            net.add(Projection(pre, post, FixedProbability(p), weights=w, delays=1, receptor=rec,
                               device=device))
    mons = (None, None, None, None)
    if record:
        mons = tuple(net.add(m) for m in (SpikeMonitor(exc), SpikeMonitor(inh), RateMonitor(exc), RateMonitor(inh)))
    return VogelsAbbott(net, exc, inh, *mons, model=model)


def _cuba_initial(rng, n):
    """Brian2 CUBA.py: v = Vr + rand() * (Vt - Vr); ge = gi = 0."""
    p = CUBA_PARAMS
    return {"v": p.v_reset + rng.random(n) * (p.v_threshold - p.v_reset)}


def _coba_initial(rng, n):
    """Brian2 COBA.py: v = El + (randn()*5 - 5) mV, ge = (randn()*1.5 + 4) gL, gi = (randn()*12 + 20) gL.

    Negative draws are kept, as in the script.
    """
    p = COBA_PARAMS
    g_l = p.c_mem / p.tau_mem
    return {
        "v": p.v_rest + (rng.standard_normal(n) * 5 - 5) * mV,
        "g_e": (rng.standard_normal(n) * 1.5 + 4) * g_l,
        "g_i": (rng.standard_normal(n) * 12 + 20) * g_l,
    }


def cuba(
    n: int = 4000, seed: int = 1, dt: float = 0.1 * ms, engine: str = "auto", record: bool = True,
    weight_dtype: str = "float64", device=None,
) -> VogelsAbbott:
    """The current-based (CUBA) Vogels–Abbott network of ``n`` neurons.

    ``device`` (a :class:`memr_snn.devices.Crossbar`) stores all four projections'
    weights in memristive devices.
    """
    return _build("cuba", n, seed, dt, engine, record, CUBA_PARAMS, CUBA_WE_VOLT / _R, CUBA_WI_VOLT / _R,
                  _cuba_initial, weight_dtype, device)


def coba(
    n: int = 4000, seed: int = 1, dt: float = 0.1 * ms, engine: str = "auto", record: bool = True,
    weight_dtype: str = "float64", device=None, integration: str = "exp_euler",
) -> VogelsAbbott:
    """The conductance-based (COBA) Vogels–Abbott network of ``n`` neurons.

    ``integration`` is the neurons' method (:attr:`memr_snn.LIFCondParams.integration`):
    ``"exp_euler"`` (the default) or ``"euler"``, the forward Euler of Brian2's COBA example.
    """
    params = COBA_PARAMS if integration == "exp_euler" else dataclasses.replace(COBA_PARAMS, integration=integration)
    return _build("coba", n, seed, dt, engine, record, params, COBA_WE, COBA_WI, _coba_initial, weight_dtype,
                  device)


def cuba_alif(
    n: int = 4000, seed: int = 1, dt: float = 0.1 * ms, engine: str = "auto", record: bool = True,
    weight_dtype: str = "float64", device=None,
) -> VogelsAbbott:
    """The CUBA network with adaptive-threshold neurons (:data:`ALIF_PARAMS`).

    Same sizes, connectivity, weights, initial state and membrane constants as
    :func:`cuba`; the threshold rises by ``beta_adapt`` per unit of the adaptation
    variable, which jumps by 1 per spike and decays with ``tau_adapt``.
    """
    return _build("alif", n, seed, dt, engine, record, ALIF_PARAMS, CUBA_WE_VOLT / _R, CUBA_WI_VOLT / _R,
                  _cuba_initial, weight_dtype, device)
