"""Memristive device models: pulse-response update laws, non-idealities and compact I-V models."""

from .iv import IVTrace, StrukovDevice, VTEAMDevice, hysteresis_area, simulate, sine_wave
from .nonideal import Drift, ReadNoise, Retention, StuckFaults, Variability
from .pulse import ExpStepDevice, LinearStepDevice, PulseDevice, SoftBoundsDevice

__all__ = [
    "PulseDevice", "LinearStepDevice", "SoftBoundsDevice", "ExpStepDevice",
    "Variability", "ReadNoise", "StuckFaults", "Drift", "Retention",
    "StrukovDevice", "VTEAMDevice", "IVTrace", "simulate", "sine_wave", "hysteresis_area",
]
