"""Loihi-style hardware models: fixed-point arithmetic bit-exact with Lava, and
conversion between float and fixed-point networks.

See ``docs/hardware.md``.
"""

from .conversion import (
    FixedPointConversion,
    QuantizationReport,
    UnsupportedElementError,
    spike_agreement,
    to_fixed_point,
    to_float,
)
from .fixed_point import (
    FixedPointConnection,
    FixedPointNetwork,
    FixedPointPopulation,
    FixedPointRangeError,
    FixedPointResult,
    FixedPointSaturationWarning,
    LoihiLIFParams,
    SpikeInput,
    run_fixed_point,
)

__all__ = [
    "FixedPointConversion",
    "QuantizationReport",
    "UnsupportedElementError",
    "spike_agreement",
    "to_fixed_point",
    "to_float",
    "FixedPointConnection",
    "FixedPointNetwork",
    "FixedPointPopulation",
    "FixedPointRangeError",
    "FixedPointResult",
    "FixedPointSaturationWarning",
    "LoihiLIFParams",
    "SpikeInput",
    "run_fixed_point",
]
