"""Memristive device models: pulse-response update laws and non-idealities."""

from .nonideal import Drift, ReadNoise, Retention, StuckFaults, Variability
from .pulse import ExpStepDevice, LinearStepDevice, PulseDevice, SoftBoundsDevice

__all__ = [
    "PulseDevice", "LinearStepDevice", "SoftBoundsDevice", "ExpStepDevice",
    "Variability", "ReadNoise", "StuckFaults", "Drift", "Retention",
]
