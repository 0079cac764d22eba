"""Memristive device models: pulse-response update laws, non-idealities, compact I-V models, crossbars."""

from .array import ArraySpec, Tiling, tile_projection, wire_model
from .crossbar import Crossbar, CrossbarState
from .iv import IVTrace, StrukovDevice, VTEAMDevice, hysteresis_area, simulate, sine_wave
from .nonideal import Drift, ReadNoise, Retention, StuckFaults, Variability
from .pulse import ExpStepDevice, LinearStepDevice, PulseDevice, SoftBoundsDevice

__all__ = [
    "PulseDevice", "LinearStepDevice", "SoftBoundsDevice", "ExpStepDevice",
    "Variability", "ReadNoise", "StuckFaults", "Drift", "Retention",
    "Crossbar", "CrossbarState", "ArraySpec", "Tiling", "tile_projection", "wire_model",
    "StrukovDevice", "VTEAMDevice", "IVTrace", "simulate", "sine_wave", "hysteresis_area",
]
