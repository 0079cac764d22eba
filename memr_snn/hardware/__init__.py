"""Loihi-style neuromorphic hardware: core profiles (data), the network-to-core partitioner,
fixed-point arithmetic bit-exact with Lava, and conversion between float and fixed-point networks.

See ``docs/hardware.md`` and ``docs/mapping.md``.
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
from .partition import CoreUsage, Mapping, MappingError, UnsupportedFeature, map_network, rates_from_monitors
from .profiles import (
    CoreProfile,
    ProfileError,
    list_profiles,
    load_profile,
    profile_from_dict,
    profile_to_dict,
    save_profile,
)

__all__ = [
    "CoreProfile",
    "ProfileError",
    "load_profile",
    "save_profile",
    "list_profiles",
    "profile_to_dict",
    "profile_from_dict",
    "map_network",
    "rates_from_monitors",
    "Mapping",
    "CoreUsage",
    "MappingError",
    "UnsupportedFeature",
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
