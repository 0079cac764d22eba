"""The benchmark's own networks: the ALIF network and the event-driven scaling network.

Part of :mod:`memr_snn.bench`; the CUBA and COBA networks are :mod:`memr_snn.networks`'
(and :mod:`memr_snn.bench.peers`' for Brian2 and NEST).
"""

from __future__ import annotations

import numpy as np

__all__ = ["alif_network", "scaling_network", "ALIF_TAU_ADAPT", "ALIF_BETA_ADAPT", "DT", "SEED"]

ALIF_TAU_ADAPT = 0.2  # [s]  (memr_snn.networks.ALIF_PARAMS; a test pins the equality)
ALIF_BETA_ADAPT = 1.8e-3  # [V]
DT = 1e-4  # [s]
SEED = 1


def alif_network(n: int = 4000, seed: int = 1, dt: float = DT, engine: str = "auto", record: bool = True):
    """The benchmark's ALIF network: :func:`memr_snn.networks.cuba_alif`."""
    from ..networks import cuba_alif

    return cuba_alif(n=n, seed=seed, dt=dt, engine=engine, record=record)


def _alif_brian2_params() -> dict:
    """Constants for the Brian2 ALIF worker: :data:`memr_snn.bench.peers.CUBA` plus adaptation."""
    from .peers import CUBA

    return {**dict(CUBA), "tau_adapt": ALIF_TAU_ADAPT, "beta_adapt": ALIF_BETA_ADAPT}


def scaling_network(
    n_neurons: int,
    engine: str,
    dt: float = DT,
    duration: float = 1.0,
    warmup: float = 0.01,
    seed: int = SEED,
    n_sources: int = 100,
    n_targets: int = 1000,
    n_input_spikes: int = 2000,
    fan_out: int = 50,
    weight: float = 50e-12,
):
    """An idle LIF population of ``n_neurons`` driven by a fixed set of input spikes.

    ``n_sources`` spike sources emit ``n_input_spikes`` spikes at distinct (step, source)
    pairs drawn uniformly in ``[warmup, warmup + duration)``; each source projects to ``fan_out`` neurons among the
    first ``min(n_targets, n_neurons)`` of the population.  The input, and so the number of
    synaptic events, is the same at every size; with default :class:`memr_snn.LIFParams`
    (rest -70 mV, threshold -55 mV, 250 pF) and 50 pA synapses every neuron stays
    below threshold (the returned monitor counts any spike), so an event-driven engine
    should cost the same at 10k and at 1M neurons.

    Returns
    -------
    net : memr_snn.Network
    monitor : memr_snn.SpikeMonitor
        Spikes of the idle population (expected: none).
    info : dict
        ``input_spikes``, ``synaptic_events`` and ``targets``.
    """
    from .. import FromArrays, LIFParams, Network, Population, Projection, SpikeMonitor, SpikeSource

    rng = np.random.default_rng([seed, 99])
    warm_steps = int(round(warmup / dt))
    n_steps = int(round(duration / dt))
    if n_input_spikes > n_steps * n_sources:
        raise ValueError(f"n_input_spikes must be <= {n_steps * n_sources} (one spike per source and step), "
                         f"got {n_input_spikes}")
    # distinct (step, source) pairs: a source spikes at most once per step
    slots = np.sort(rng.choice(n_steps * n_sources, size=n_input_spikes, replace=False))
    steps, idx = slots // n_sources, slots % n_sources
    targets = min(n_targets, n_neurons)
    pre = np.repeat(np.arange(n_sources), fan_out)
    post = rng.integers(0, targets, pre.size)
    net = Network(dt=dt, seed=seed, engine=engine)
    src = net.add(SpikeSource(n_sources, (warm_steps + steps) * dt, idx, name="input"))
    pop = net.add(Population(n_neurons, LIFParams(), name="idle"))
    net.add(Projection(src, pop, FromArrays(pre, post), weights=weight, receptor="exc"))
    mon = net.add(SpikeMonitor(pop))
    info = {"input_spikes": int(n_input_spikes), "synaptic_events": int(n_input_spikes * fan_out),
            "targets": int(targets)}
    return net, mon, info
