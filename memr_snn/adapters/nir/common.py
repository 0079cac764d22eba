"""Constants, errors, units and small helpers shared by NIR export and import."""

from __future__ import annotations

import dataclasses
import math

import numpy as np

from ..._extras import require

#: readings of a spike's area in NIR's ODEs (see the module docstring)
SPIKE_MODELS = ("dirac", "step")
#: largest dense weight matrix (elements, all projections) an export writes
MAX_DENSE_ELEMENTS = 100_000_000
#: relative tolerance for a delay to count as a whole number of steps
_STEP_TOL = 1e-6


class NIRExportError(ValueError):
    """The network has an element NIR cannot express; the message names it and says why."""


class NIRImportError(ValueError):
    """The NIR graph or file cannot be turned into a memr_snn network; the message says why."""


@dataclasses.dataclass(frozen=True)
class NIRUnits:
    """Units of the numbers in a NIR graph, each as its size in SI.

    The graph stores ``value_SI / unit``; resistance is ``voltage / current``.
    """

    time: float = 1.0
    """One graph time unit [s] (1e-3: τ and delays in ms)."""
    voltage: float = 1.0
    """One graph voltage unit [V] (1e-3: potentials in mV)."""
    current: float = 1.0
    """One graph current unit [A] (weights are current jumps in this unit)."""

    def __post_init__(self):
        for name in ("time", "voltage", "current"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float, np.floating, np.integer)):
                raise TypeError(f"NIRUnits.{name} must be a number, got {value!r}")
            if not (math.isfinite(value) and value > 0):
                raise ValueError(f"NIRUnits.{name} must be finite and > 0 [SI], got {value!r}")
            object.__setattr__(self, name, float(value))

    @property
    def resistance(self) -> float:
        """One graph resistance unit [Ω] = voltage / current."""
        return self.voltage / self.current

    def describe(self) -> str:
        return (f"time unit {self.time:g} s, voltage unit {self.voltage:g} V, current unit {self.current:g} A, "
                f"resistance unit {self.resistance:g} Ohm")


#: seconds, volts, amperes, ohms (what snnTorch and Norse write for τ)
SI_UNITS = NIRUnits()
#: ms, mV, mA, Ω: the units of NIR's primitives table (τ [ms], v [mV], R [Ω]), made consistent
NIR_DOC_UNITS = NIRUnits(time=1e-3, voltage=1e-3, current=1e-3)

_META_PREFIX = "memr_snn_"


# ----------------------------------------------------------------------------- helpers
def _nir():
    return require("nir", "nir", "the NIR adapter")


def _check_spike_model(spike_model: str) -> str:
    if spike_model not in SPIKE_MODELS:
        raise ValueError(f"spike_model must be one of {SPIKE_MODELS}, got {spike_model!r}")
    return spike_model


def _spike_area(spike_model: str, dt: float, units: NIRUnits) -> float:
    """Area of one spike in graph time units."""
    return 1.0 if spike_model == "dirac" else dt / units.time


def _key(name: str) -> str:
    """A node key HDF5 can store (no '/', not '.' or empty)."""
    key = str(name).replace("/", "_")
    return key if key not in ("", ".") else f"_{key}"


def _compact(values: np.ndarray):
    """A scalar when all elements are equal, else the array (float64)."""
    values = np.asarray(values, dtype=np.float64).ravel()
    if values.size and np.all(values == values[0]):
        return float(values[0])
    return values.copy()
