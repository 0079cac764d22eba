"""Engine: builds the kernels' flat arrays from the model and owns the run loop."""

from .simulator import Simulator

__all__ = ["Simulator"]
