"""Memristive device models (pulse-response update laws so far)."""

from .pulse import ExpStepDevice, LinearStepDevice, PulseDevice, SoftBoundsDevice

__all__ = ["PulseDevice", "LinearStepDevice", "SoftBoundsDevice", "ExpStepDevice"]
