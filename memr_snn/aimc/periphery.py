r"""Tile periphery: input DAC, output ADC, output noise, noise and bound management.

All analog quantities of a tile are in *normalised units* (the convention of AIHWKit's
``IOParameters``): a weight of the largest magnitude on a tile reads as 1, an input at the
full DAC range is 1, so the analog output of a column summing ``n`` full-scale products is ``n``.

**DAC.**  An input is quantised to a grid of step :math:`\Delta_{in} = 2 b_{in} / (2^{n} - 2)`
(``n`` = ``DAC.bits``, :math:`b_{in}` = ``DAC.bound``) and clipped to :math:`[-b_{in}, b_{in}]`:

.. math::

    q_{in}(x) = \operatorname{clip}\left(\Delta_{in} \operatorname{round}(x / \Delta_{in}),
    -b_{in}, b_{in}\right)

which gives the :math:`2^n - 1` symmetric levels of AIHWKit's ``inp_res = 1 / (2**n - 2)``
(7 bits: 127 levels, :math:`k / 63`).  ``round`` is round-half-to-even (numpy).  ``bits=None``
is an unlimited DAC (no rounding, no clipping).  The three ``mode`` values are numerically the same
for ``"amplitude"`` and ``"pulse_width"`` (they differ in energy and latency, :mod:`.energy`);
``"bit_serial"`` drives the signed bit planes of the magnitude one after another, each read and
converted by the ADC separately and shift-added digitally, so its rounding differs.

**ADC.**  The same quantiser on the analog column output with step
:math:`\Delta_{out} = 2 b_{out} / (2^{m} - 2)`, then clipped to :math:`\pm b_{out}`.  A
*saturated* output is one whose quantised value lies outside :math:`\pm b_{out}` before the clip.

**Output noise.**  Gaussian, :math:`\sigma_{out}` in normalised units, added before the ADC.

**Column mismatch** (``col_gain_std``, ``col_offset_std``): the analog output of channel ``c`` becomes
:math:`(1 + s_g Z_c)\,y_c + s_o Z'_c` before the output noise, with :math:`Z, Z'` standard normals
drawn once per tile (the sense amplifier and ADC of each column); both 0 by default, as in AIHWKit.

**Noise management** (``"abs_max"``): each input vector is divided by its largest magnitude before
the DAC (so it uses the full DAC range) and the output multiplied back (AIHWKit
``NoiseManagementType.ABS_MAX``); ``"none"`` sends the input as it is.

**Bound management** (``"iterative"``): a vector with a saturated output is read again with its
input halved, then quartered, ... (AIHWKit ``BoundManagementType.ITERATIVE``), until no output
saturates or the reduction exceeds ``max_bm_factor`` or ``max_bm_res / \Delta_{in}``; the output
is multiplied back by the reduction.  Unlike AIHWKit's torch tile (which re-reads the whole batch),
only the vectors that saturated are read again, as a per-vector periphery would.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

__all__ = [
    "DAC", "ADC", "IOConfig", "DAC_MODES", "ADC_TYPES", "NOISE_MANAGEMENT", "BOUND_MANAGEMENT",
    "IO_PRESETS", "io_preset", "quantize", "AIHWKIT_FIELDS",
]

DAC_MODES = ("amplitude", "pulse_width", "bit_serial")
ADC_TYPES = ("sar", "ramp")
NOISE_MANAGEMENT = ("abs_max", "none")
BOUND_MANAGEMENT = ("iterative", "none")
#: converter resolutions accepted [bit]: 1-bit is a comparator; above 16 bits no crossbar periphery exists
BITS_RANGE = (1, 16)


def _check_bits(name: str, value, low: int) -> None:
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an integer in [{low}, {BITS_RANGE[1]}] or None (unlimited), got {value!r}")
    if not low <= value <= BITS_RANGE[1]:
        raise ValueError(f"{name} = {value!r} [bit] is outside the allowed range [{low}, {BITS_RANGE[1]}] "
                         f"(None = unlimited)")


def _check_pos(name: str, value, *, allow_none: bool = False, high: float = 1e6) -> None:
    if value is None and allow_none:
        return
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name} must be a number, got {value!r}")
    if not (np.isfinite(value) and 0 < value <= high):
        raise ValueError(f"{name} = {value!r} is outside the allowed range (0, {high:g}]")


def _check_choice(name: str, value, choices) -> None:
    if value not in choices:
        raise ValueError(f"{name} = {value!r} is not one of {list(choices)}")


def quantize(x: np.ndarray, step: float, bound: float) -> np.ndarray:
    """``clip(step * round(x / step), -bound, bound)`` (a new array)."""
    out = np.multiply(np.rint(np.multiply(x, 1.0 / step)), step)
    return np.clip(out, -bound, bound, out=out)


@dataclasses.dataclass(frozen=True)
class DAC:
    """Input digital-to-analog conversion of a tile (normalised units, see the module docstring)."""

    bits: int | None = 7
    """Resolution [bit], 2-16 (``None``: unlimited).  Default 7, as AIHWKit's ``inp_res = 1/(2**7-2)``."""
    bound: float = 1.0
    """Input range :math:`b_{in}` [1]: inputs are clipped to ``[-bound, bound]`` (AIHWKit ``inp_bound``)."""
    mode: str = "pulse_width"
    """``"amplitude"``, ``"pulse_width"`` or ``"bit_serial"`` (module docstring)."""

    def __post_init__(self) -> None:
        _check_bits("dac.bits", self.bits, 2)
        _check_pos("dac.bound", self.bound)
        _check_choice("dac.mode", self.mode, DAC_MODES)

    @property
    def step(self) -> float:
        """Quantisation step :math:`2 b_{in} / (2^n - 2)` (``inf`` bits: 0)."""
        return 0.0 if self.bits is None else 2.0 * self.bound / (2**self.bits - 2)

    @property
    def magnitude_levels(self) -> int:
        """Largest integer magnitude of a quantised input, :math:`2^{n-1} - 1`."""
        if self.bits is None:
            raise ValueError("an unlimited DAC (bits=None) has no integer levels")
        return 2 ** (self.bits - 1) - 1

    @property
    def is_ideal(self) -> bool:
        """True when the DAC neither rounds nor clips."""
        return self.bits is None


@dataclasses.dataclass(frozen=True)
class ADC:
    """Output analog-to-digital conversion of a tile."""

    bits: int | None = 9
    """Resolution [bit], 1-16 (``None``: unlimited).  Default 9, as AIHWKit's ``out_res = 1/(2**9-2)``."""
    bound: float | None = 12.0
    """Output range :math:`b_{out}` in normalised units [1] (AIHWKit ``out_bound`` 12); ``None``: no clipping."""
    kind: str = "sar"
    """``"sar"`` (conversion in ``bits`` cycles) or ``"ramp"`` (``2**bits`` cycles): the latency model."""
    columns_per_adc: int = 1
    """Output channels sharing one ADC (converted one after another) [1], 1-1024."""

    def __post_init__(self) -> None:
        _check_bits("adc.bits", self.bits, 1)
        _check_pos("adc.bound", self.bound, allow_none=True, high=1e9)
        if self.bits is not None and self.bound is None:
            raise ValueError("adc.bound must be set (a number) when adc.bits is set: a finite ADC needs a range")
        _check_choice("adc.kind", self.kind, ADC_TYPES)
        if isinstance(self.columns_per_adc, bool) or not isinstance(self.columns_per_adc, (int, np.integer)):
            raise TypeError(f"adc.columns_per_adc must be an integer in [1, 1024], got {self.columns_per_adc!r}")
        if not 1 <= self.columns_per_adc <= 1024:
            raise ValueError(f"adc.columns_per_adc = {self.columns_per_adc!r} is outside the allowed range [1, 1024]")

    @property
    def step(self) -> float:
        """Quantisation step :math:`2 b_{out} / (2^m - 2)` (unlimited: 0)."""
        if self.bits is None:
            return 0.0
        return 2.0 * float(self.bound) / max(2**self.bits - 2, 1)

    @property
    def is_ideal(self) -> bool:
        """True when the ADC neither rounds nor clips."""
        return self.bits is None and self.bound is None

    def cycles(self) -> int:
        """Clock cycles of one conversion: ``bits`` (SAR) or ``2**bits`` (ramp); 1 when unlimited."""
        if self.bits is None:
            return 1
        return self.bits if self.kind == "sar" else 2**self.bits


@dataclasses.dataclass(frozen=True)
class IOConfig:
    """The periphery of every tile: DAC, ADC, output noise, noise and bound management."""

    dac: DAC = dataclasses.field(default_factory=DAC)
    """Input converter."""
    adc: ADC = dataclasses.field(default_factory=ADC)
    """Output converter."""
    out_noise: float = 0.06
    """Standard deviation of the Gaussian output noise, normalised units [1] (AIHWKit ``out_noise`` 0.06)."""
    noise_management: str = "abs_max"
    """``"abs_max"`` or ``"none"`` (module docstring)."""
    bound_management: str = "iterative"
    """``"iterative"`` or ``"none"`` (module docstring)."""
    max_bm_factor: float = 1000.0
    """Largest input reduction of bound management [1] (AIHWKit ``max_bm_factor`` 1000)."""
    max_bm_res: float = 0.25
    """Bound management stops when the reduction exceeds ``max_bm_res / dac.step`` [1] (AIHWKit 0.25)."""
    col_gain_std: float = 0.0
    """Per-column gain mismatch of the sense path and ADC: every channel's analog output is multiplied by
    :math:`1 + s_g Z_c`, drawn once per tile [1], 0-1 (0: matched; removed by column calibration)."""
    col_offset_std: float = 0.0
    """Per-column offset of the sense path and ADC: :math:`s_o Z_c` added to every channel's analog output,
    drawn once per tile, normalised units [1], 0-100 (0: none; removed by column calibration)."""

    def __post_init__(self) -> None:
        if not isinstance(self.dac, DAC):
            raise TypeError(f"dac must be a DAC, got {self.dac!r}")
        if not isinstance(self.adc, ADC):
            raise TypeError(f"adc must be an ADC, got {self.adc!r}")
        if isinstance(self.out_noise, bool) or not np.isfinite(self.out_noise) or not 0 <= self.out_noise <= 100:
            raise ValueError(f"out_noise = {self.out_noise!r} is outside the allowed range [0, 100] (normalised units)")
        _check_choice("noise_management", self.noise_management, NOISE_MANAGEMENT)
        _check_choice("bound_management", self.bound_management, BOUND_MANAGEMENT)
        _check_pos("max_bm_factor", self.max_bm_factor, high=1e9)
        _check_pos("max_bm_res", self.max_bm_res, high=1.0)
        for name, high in (("col_gain_std", 1.0), ("col_offset_std", 100.0)):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not (np.isfinite(v) and 0 <= v <= high):
                raise ValueError(f"{name} = {v!r} is outside the allowed range [0, {high:g}]")

    @property
    def is_perfect(self) -> bool:
        """True when the periphery is exact: no rounding, no clipping, no noise."""
        return (self.dac.is_ideal and self.adc.is_ideal and self.out_noise == 0.0 and self.col_gain_std == 0.0
                and self.col_offset_std == 0.0)

    @property
    def mismatched(self) -> bool:
        """True when the columns have gain or offset mismatch."""
        return self.col_gain_std > 0.0 or self.col_offset_std > 0.0

    @property
    def bm_limit(self) -> float:
        """Largest reduction bound management reaches: ``min(max_bm_factor, max_bm_res / dac.step)``."""
        lim = float(self.max_bm_factor)
        if self.dac.bits is not None:
            lim = min(lim, self.max_bm_res / self.dac.step)
        return lim

    def replace(self, **changes: Any) -> IOConfig:
        """A copy with fields replaced; ``dac_bits=...``-style keys change a converter field."""
        dac = {k[4:]: v for k, v in changes.items() if k.startswith("dac_")}
        adc = {k[4:]: v for k, v in changes.items() if k.startswith("adc_")}
        rest = {k: v for k, v in changes.items() if not k.startswith(("dac_", "adc_"))}
        if dac:
            rest["dac"] = dataclasses.replace(rest.get("dac", self.dac), **dac)
        if adc:
            rest["adc"] = dataclasses.replace(rest.get("adc", self.adc), **adc)
        return dataclasses.replace(self, **rest)


#: Field-by-field correspondence of :func:`io_preset` ``"aihwkit_inference"`` with AIHWKit's
#: ``InferenceRPUConfig().forward`` (an ``IOParameters``; aihwkit ``simulator/parameters/io.py``) and
#: ``InferenceRPUConfig().mapping`` (``MappingParameter``, ``simulator/parameters/mapping.py``).
AIHWKIT_FIELDS: dict[str, tuple[str, str]] = {
    "dac.bits = 7": ("forward.inp_res = 1/(2**7 - 2)", "127 levels in [-1, 1], step 1/63"),
    "dac.bound = 1.0": ("forward.inp_bound = 1.0", "inputs clipped to [-1, 1]"),
    "dac.mode = 'pulse_width'": ("forward.mv_type = ONE_PASS", "one analog pass per vector"),
    "adc.bits = 9": ("forward.out_res = 1/(2**9 - 2)", "511 levels in [-12, 12]"),
    "adc.bound = 12.0": ("forward.out_bound = 12.0", "output clipped to [-12, 12]"),
    "out_noise = 0.06": ("forward.out_noise = 0.06", "Gaussian, normalised units, before the ADC"),
    "noise_management = 'abs_max'": ("forward.noise_management = ABS_MAX", "nm_thres = 0: no cap"),
    "bound_management = 'iterative'": ("forward.bound_management = ITERATIVE", "halve input on saturation"),
    "max_bm_factor = 1000": ("forward.max_bm_factor = 1000", ""),
    "max_bm_res = 0.25": ("forward.max_bm_res = 0.25", "at 7 bits: at most 16x reduction"),
    "mapping.max_rows = 512": ("mapping.max_input_size = 512", "inputs per tile"),
    "mapping.max_cols = 512": ("mapping.max_output_size = 512", ("outputs per tile (AIHWKit counts weights, "
                                                                  "memr_snn device columns: see mapping)")),
    "bias digital": ("mapping.digital_bias = True", "bias added after the ADC"),
    "(not modelled)": (("forward.inp_noise = 0, w_noise = 0, ir_drop = 0, out_nonlinearity = 0, "
                       "r_series = 0, inp_sto_round = out_sto_round = False"), "all zero/off in the default"),
}


def io_preset(name: str) -> IOConfig:
    """A named periphery configuration.

    ``"aihwkit_inference"``
        AIHWKit's default ``InferenceRPUConfig().forward`` (table :data:`AIHWKIT_FIELDS`): 7-bit
        pulse-width DAC on [-1, 1], 9-bit ADC on [-12, 12], output noise 0.06, abs-max noise
        management, iterative bound management.  Equal to ``IOConfig()``.
    ``"ideal"``
        Unlimited DAC and ADC, no noise, no management: the float matrix product.
    ``"hermes"``
        8-bit input and output as IBM's HERMES chip (Le Gallo et al. 2023): 8-bit pulse-width DAC,
        8-bit ADC one per column, output noise 0.04 (assumed), abs-max noise management,
        iterative bound management.

    Raises
    ------
    ValueError
        Unknown name (the message lists the known ones).
    """
    if name not in IO_PRESETS:
        raise ValueError(f"unknown io preset {name!r}; known: {sorted(IO_PRESETS)}")
    return IO_PRESETS[name]


IO_PRESETS: dict[str, IOConfig] = {
    "aihwkit_inference": IOConfig(),
    "ideal": IOConfig(dac=DAC(bits=None), adc=ADC(bits=None, bound=None), out_noise=0.0,
                      noise_management="none", bound_management="none"),
    "hermes": IOConfig(dac=DAC(bits=8, mode="pulse_width"), adc=ADC(bits=8, bound=12.0, kind="ramp"),
                       out_noise=0.04),
}
