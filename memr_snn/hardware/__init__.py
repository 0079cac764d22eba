"""Loihi-style neuromorphic hardware: core profiles (data) and the network-to-core partitioner."""

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
]
