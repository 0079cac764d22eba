"""Neuron models: parameter classes (frozen, SI units) and their file format."""

from .alif import ALIFParams
from .base import NEURON_MODELS, NeuronParams, load_params, save_params
from .lif import LIFCondParams, LIFParams

__all__ = [
    "NeuronParams",
    "LIFParams",
    "LIFCondParams",
    "ALIFParams",
    "NEURON_MODELS",
    "load_params",
    "save_params",
]
