"""Learning on float weights and on memristive synapses: STDP family, reward-modulated STDP,
e-prop and surrogate-gradient training."""

from .eprop import DeviceTarget, EProp, RSNNConfig, RSNNWeights, init_weights, pseudo_derivative, simulate
from .stdp import STDP, PlasticityRule, RewardSTDP, TripletSTDP, rule_from_dict

__all__ = ["STDP", "TripletSTDP", "RewardSTDP", "PlasticityRule", "rule_from_dict"]
__all__ += ["RSNNConfig", "RSNNWeights", "init_weights", "simulate", "pseudo_derivative", "DeviceTarget", "EProp"]
