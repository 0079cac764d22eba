"""Learning on float weights and on memristive synapses: STDP family, reward-modulated STDP,
e-prop and surrogate-gradient training."""

__all__: list[str] = []

# --- surrogate-gradient training (BPTT), datasets, digits classifier
from .datasets import SpikeDataset, load_digits_spikes, rate_encode  # noqa: E402
from .digits import train_digits  # noqa: E402
from .surrogate import (  # noqa: E402
    Adam,
    ForwardState,
    HardwareAware,
    MappedNetwork,
    RSNNConfig,
    Weights,
    accuracy,
    backward,
    evaluate_mapped,
    finite_difference_gradients,
    forward,
    init_weights,
    loss_and_grad,
    map_to_crossbar,
    predict,
    train,
)

__all__ += [
    "RSNNConfig", "Weights", "HardwareAware", "ForwardState", "Adam", "MappedNetwork",
    "init_weights", "forward", "backward", "loss_and_grad", "finite_difference_gradients", "train", "predict",
    "accuracy", "map_to_crossbar", "evaluate_mapped",
    "SpikeDataset", "load_digits_spikes", "rate_encode", "train_digits",
]
