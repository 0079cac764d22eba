"""Neuron models: parameter classes (frozen, SI units) and their file format."""

from ._units import ImplausibleUnitWarning
from .alif import ALIFParams
from .base import NEURON_MODELS, NeuronParams, load_params, register_neuron_model, save_params
from .lif import LIFCondParams, LIFParams
from .tsm_neuron import TSMNeuronParams, TSMTransient, simulate_tsm, tsm_energy

__all__ = [
    "NeuronParams",
    "ImplausibleUnitWarning",
    "LIFParams",
    "LIFCondParams",
    "ALIFParams",
    "TSMNeuronParams",
    "TSMTransient",
    "simulate_tsm",
    "tsm_energy",
    "NEURON_MODELS",
    "register_neuron_model",
    "load_params",
    "save_params",
]
