"""memr_snn: an event-driven spiking neuromorphic simulator.

The public API is listed in ``__all__``; units are SI (see :mod:`memr_snn.units`).
"""

from importlib.metadata import PackageNotFoundError, version

from . import runtime as _runtime  # noqa: F401 - installs the engine and checkpoint I/O behind Network
from . import units
from .model import (
    AllToAll,
    FixedInDegree,
    FixedProbability,
    FromArrays,
    FromSparse,
    Network,
    OneToOne,
    PoissonSource,
    Population,
    Projection,
    RateMonitor,
    SpikeMonitor,
    SpikeSource,
    StateMonitor,
)
from .neurons import (
    ALIFParams,
    LIFCondParams,
    LIFParams,
    NeuronParams,
    TSMNeuronParams,
    load_params,
    save_params,
    simulate_tsm,
    tsm_energy,
)

try:
    __version__ = version("memr_snn")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0.0.0+unknown"

__all__ = [
    "__version__",
    "units",
    "Network",
    "Population",
    "PoissonSource",
    "SpikeSource",
    "Projection",
    "AllToAll",
    "OneToOne",
    "FixedProbability",
    "FixedInDegree",
    "FromArrays",
    "FromSparse",
    "SpikeMonitor",
    "StateMonitor",
    "RateMonitor",
    "NeuronParams",
    "LIFParams",
    "LIFCondParams",
    "ALIFParams",
    "TSMNeuronParams",
    "simulate_tsm",
    "tsm_energy",
    "load_params",
    "save_params",
]
