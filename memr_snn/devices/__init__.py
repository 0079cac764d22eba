"""Memristive device models: pulse-response update laws, non-idealities, endurance, program-and-verify,
technology presets, compact I-V models and crossbar projections."""

from .array import ArraySpec, Tiling, tile_projection, wire_model
from .compensation import DriftCompensation
from .crossbar import Crossbar, CrossbarState
from .endurance import Endurance
from .iv import IVTrace, StrukovDevice, VTEAMDevice, hysteresis_area, simulate, sine_wave
from .nonideal import Drift, ReadNoise, Retention, StuckFaults, Variability
from .presets import (
    DevicePreset,
    PresetError,
    list_presets,
    load_preset,
    preset_from_dict,
    preset_to_dict,
    save_preset,
)
from .programming import Programming, ProgramResult, program_and_verify
from .pulse import ExpStepDevice, LinearStepDevice, PulseDevice, SoftBoundsDevice
from .report import DeviceReport, ProjectionDeviceReport, device_report

__all__ = [
    "PulseDevice", "LinearStepDevice", "SoftBoundsDevice", "ExpStepDevice",
    "Variability", "ReadNoise", "StuckFaults", "Drift", "Retention",
    "Endurance", "Programming", "ProgramResult", "program_and_verify",
    "DevicePreset", "PresetError", "load_preset", "save_preset", "list_presets",
    "preset_to_dict", "preset_from_dict",
    "Crossbar", "CrossbarState", "DriftCompensation", "ArraySpec", "Tiling", "tile_projection", "wire_model",
    "StrukovDevice", "VTEAMDevice", "IVTrace", "simulate", "sine_wave", "hysteresis_area",
    "DeviceReport", "ProjectionDeviceReport", "device_report",
]
