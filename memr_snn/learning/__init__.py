"""Learning on float weights and on memristive synapses: STDP family, reward-modulated STDP,
e-prop and surrogate-gradient training.

* :mod:`~memr_snn.learning.snn` -- the recurrent / feed-forward LIF/ALIF network that e-prop and BPTT
  both train: one ``RSNNConfig``, ``Weights``, ``init_weights``, forward pass, pseudo-derivative, masked
  cross-entropy (:mod:`~memr_snn.learning.snn_loss`) and optimiser;
* :mod:`~memr_snn.learning.stdp` -- rules that run inside the simulation kernel
  (``Projection(..., plasticity=STDP(...))``);
* :mod:`~memr_snn.learning.eprop` -- e-prop (Bellec et al. 2020), online, for recurrent LIF/ALIF
  networks with a leaky readout;
* :mod:`~memr_snn.learning.surrogate` -- surrogate-gradient BPTT with hardware-aware options and
  mapping to crossbars;
* :mod:`~memr_snn.learning.compare` -- e-prop versus BPTT on the same network, initial weights and
  temporal task;
* :mod:`~memr_snn.learning.datasets`, :mod:`~memr_snn.learning.digits` -- the bundled 8x8 digits;
* :mod:`~memr_snn.learning.mlp` -- a float multilayer perceptron on the same loss and optimiser (the network
  that :mod:`memr_snn.aimc` maps onto analog tiles), :mod:`~memr_snn.learning.cnn` -- a small numpy CNN
  (im2col convolution, max-pool) for DVS-digit frames, and :mod:`~memr_snn.learning.hwa` -- their
  hardware-aware training (weight noise, clipping, DAC/ADC quantization, straight-through backward);
* :mod:`~memr_snn.learning.sensory` -- the sensory classification benchmark harness
  (``memr-snn bench dvs-digits``): training over seeds, device mapping, spikes, SynOps, energy, baseline.

``eprop`` and ``surrogate`` train the network of :mod:`~memr_snn.learning.snn`
(``from memr_snn.learning import RSNNConfig, Weights, init_weights``); ``eprop.RSNNConfig``,
``surrogate.RSNNConfig``, ``eprop.RSNNWeights``, ``eprop.init_weights``, ``surrogate.init_weights`` and
``eprop.pseudo_derivative`` are deprecated names.
"""

from . import compare, eprop, sensory, snn, surrogate
from .datasets import SpikeDataset, load_digits_spikes, rate_encode
from .digits import train_digits
from .eprop import DeviceTarget, EProp, evidence_accumulation, train_eprop_task
from .snn import SGD, RSNNConfig, TrainingDiverged, Weights, init_weights
from .stdp import STDP, PlasticityRule, RewardSTDP, TripletSTDP, rule_from_dict, run_with_reward
from .surrogate import Adam, HardwareAware, MappedNetwork, evaluate_mapped, map_to_crossbar

__all__ = [
    "STDP", "TripletSTDP", "RewardSTDP", "PlasticityRule", "rule_from_dict", "run_with_reward",
    "eprop", "EProp", "DeviceTarget", "evidence_accumulation", "train_eprop_task",
    "snn", "RSNNConfig", "Weights", "init_weights", "SGD", "TrainingDiverged",
    "surrogate", "compare", "sensory", "Adam", "HardwareAware", "MappedNetwork", "map_to_crossbar", "evaluate_mapped",
    "SpikeDataset", "load_digits_spikes", "rate_encode", "train_digits",
]
