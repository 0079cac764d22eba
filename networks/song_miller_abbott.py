"""Song, Miller & Abbott (2000): competitive Hebbian learning through STDP.

1000 Poisson inputs at 15 Hz drive one conductance-based integrate-and-fire neuron
through excitatory synapses with additive, all-to-all STDP (depression slightly
stronger than potentiation, ``A- tau- = 1.05 A+ tau+``).  After tens of seconds the
weights split into two groups, near 0 and near ``g_max``: the bimodal distribution
of the paper's Fig. 2, which also holds the output rate roughly independent of the
input rate.

Parameters follow Brian2's ``examples/synapses/STDP.py`` (the same model, used as the
peer reference): tau_m = 10 ms, E_l = -74 mV, V_th = -54 mV, V_reset = -60 mV,
E_e = 0 mV, tau_e = 5 ms, no refractory period, g_max = 0.01 (in units of the leak
conductance), dA_pre = 0.01 g_max, dA_post = -1.05 dA_pre, tau_pre = tau_post = 20 ms,
initial weights uniform in [0, g_max].  Conductances here are in siemens: Brian2's
dimensionless ``ge`` times the leak conductance ``C / tau_m``.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from memr_snn import AllToAll, LIFCondParams, Network, PoissonSource, Population, Projection, SpikeMonitor
from memr_snn.learning import STDP
from memr_snn.units import ms, mV, pF

__all__ = ["SongMillerAbbott", "song_miller_abbott", "SMA_NEURON", "G_LEAK", "weight_fractions"]

#: the output neuron (Brian2 STDP example); c_mem only sets the conductance unit
SMA_NEURON = LIFCondParams(
    tau_mem=10 * ms, c_mem=200 * pF, v_rest=-74 * mV, v_reset=-60 * mV, v_threshold=-54 * mV, t_ref=0.0,
    tau_syn_e=5 * ms, tau_syn_i=5 * ms, e_rev_e=0 * mV, e_rev_i=-80 * mV,
)
#: leak conductance [S]: Brian2's dimensionless weights are in this unit
G_LEAK = SMA_NEURON.c_mem / SMA_NEURON.tau_mem


@dataclasses.dataclass
class SongMillerAbbott:
    """The built network and handles to its parts."""

    net: Network
    inputs: PoissonSource
    neuron: Population
    synapses: Projection
    spikes: SpikeMonitor
    g_max: float
    """Upper weight bound [S]."""

    def fractions(self, low: float = 0.1, high: float = 0.9) -> tuple[float, float]:
        """Fractions of weights below ``low * g_max`` and above ``high * g_max``."""
        return weight_fractions(self.synapses.weights, self.g_max, low, high)


def weight_fractions(w, g_max: float, low: float = 0.1, high: float = 0.9) -> tuple[float, float]:
    """Fractions of ``w`` below ``low * g_max`` (near 0) and above ``high * g_max`` (near ``g_max``)."""
    w = np.asarray(w, dtype=np.float64)
    return float(np.mean(w < low * g_max)), float(np.mean(w > high * g_max))


def song_miller_abbott(n_inputs: int = 1000, rate: float = 15.0, seed: int = 1, dt: float = 0.1 * ms,
                       g_max_rel: float = 0.01, engine: str = "auto", device=None) -> SongMillerAbbott:
    """Build the network (run it with ``model.net.run(100.0)`` for the paper's 100 s).

    ``g_max_rel`` is Brian2's ``gmax`` (in units of the leak conductance).  ``device`` (a
    :class:`memr_snn.devices.Crossbar`) stores the synapses in devices; unless it sets
    ``w_max``, ``g_max`` is mapped to the top of the device range, and STDP then sends
    pulses to the devices.
    """
    g_max = g_max_rel * G_LEAK
    if device is not None and device.w_max is None:
        device = dataclasses.replace(device, w_max=g_max)
    rule = STDP(a_plus=0.01 * g_max, a_minus=0.01 * 1.05 * g_max, tau_plus=20 * ms, tau_minus=20 * ms,
                w_min=0.0, w_max=g_max)
    net = Network(dt=dt, seed=seed, engine=engine)
    inputs = net.add(PoissonSource(n_inputs, rates=rate, name="inputs"))
    neuron = net.add(Population(1, SMA_NEURON, name="neuron", initial={"v": np.array([SMA_NEURON.v_rest])}))
    syn = net.add(Projection(inputs, neuron, AllToAll(), weights=lambda rng, n: rng.random(n) * g_max,
                             plasticity=rule, name="stdp", device=device))
    spikes = net.add(SpikeMonitor(neuron))
    return SongMillerAbbott(net, inputs, neuron, syn, spikes, g_max)
