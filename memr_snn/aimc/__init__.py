"""Dense analog in-memory computing (AIMC): tiled crossbar layers with DAC/ADC periphery.

Weights of dense and convolutional layers are mapped onto crossbar tiles of memristive devices
(the models of :mod:`memr_snn.devices`, reached through :mod:`memr_snn.aimc.devices`), read with
a DAC/ADC periphery that quantises, clips and adds noise (AIHWKit's conventions), and priced with
energy and latency profiles of real chips.  See ``docs/aimc.md``.

>>> import numpy as np
>>> from memr_snn import aimc
>>> w = np.array([[0.5, -0.25], [1.0, 0.0]])
>>> model = aimc.compile([{"type": "linear", "weight": w}], io="ideal")
>>> model(np.array([[1.0, 2.0]])).round(12)
array([[0., 1.]])
"""

from .artifacts import ArtifactError, Telemetry
from .calibration import CalibrationConfig, fit_columns
from .devices import DeviceAdapter, Programmed
from .energy import (
    AIMCProfile,
    EnergyReport,
    LayerEnergy,
    ProfileError,
    list_profiles,
    load_profile,
    profile_from_dict,
    profile_to_dict,
    save_profile,
)
from .layers import AnalogConv2d, AnalogLinear, Argmax, AvgPool2d, BatchNorm, Flatten, Layer, MaxPool2d, ReLU
from .mapping import MappingConfig
from .model import AnalogModel, compile
from .periphery import ADC, AIHWKIT_FIELDS, DAC, IO_PRESETS, IOConfig, io_preset
from .tile import TiledMatrix

__all__ = [
    "compile", "AnalogModel", "TiledMatrix", "MappingConfig", "IOConfig", "DAC", "ADC", "io_preset", "IO_PRESETS",
    "AIHWKIT_FIELDS", "CalibrationConfig", "fit_columns", "ArtifactError", "Telemetry",
    "DeviceAdapter", "Programmed", "AnalogLinear", "AnalogConv2d", "ReLU", "MaxPool2d",
    "AvgPool2d", "BatchNorm", "Flatten", "Argmax", "Layer", "AIMCProfile", "ProfileError", "load_profile",
    "list_profiles", "save_profile", "profile_to_dict", "profile_from_dict", "EnergyReport", "LayerEnergy",
]
