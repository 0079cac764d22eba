"""Memristive device models: pulse-response update laws, non-idealities, crossbar projections."""

from .array import ArraySpec, Tiling, tile_projection, wire_model
from .crossbar import Crossbar, CrossbarState
from .nonideal import Drift, ReadNoise, Retention, StuckFaults, Variability
from .pulse import ExpStepDevice, LinearStepDevice, PulseDevice, SoftBoundsDevice

__all__ = [
    "PulseDevice", "LinearStepDevice", "SoftBoundsDevice", "ExpStepDevice",
    "Variability", "ReadNoise", "StuckFaults", "Drift", "Retention",
    "Crossbar", "CrossbarState", "ArraySpec", "Tiling", "tile_projection", "wire_model",
]
