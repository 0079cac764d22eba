"""Learning on float weights and on memristive synapses: STDP family, reward-modulated STDP,
e-prop and surrogate-gradient training."""

from .eprop import DeviceTarget, EProp, RSNNConfig, RSNNWeights, init_weights, pseudo_derivative, simulate

__all__: list[str] = []
__all__ += ["RSNNConfig", "RSNNWeights", "init_weights", "simulate", "pseudo_derivative", "DeviceTarget", "EProp"]
