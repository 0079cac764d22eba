r"""Mapping a weight matrix onto tiles: tile size, weight encodings, bit slicing, replication.

A layer's weight matrix :math:`W` of shape ``(n_out, n_in)`` (the project's one weight shape) is
cut into blocks of at most ``max_rows`` inputs (word lines) and as many outputs as fit in
``max_cols`` device columns.  Each block is scaled to :math:`w = W / s` with :math:`|w| \le 1`
(``weight_scaling``: one ``s`` per tile, per output column or per layer) and every output becomes
one or more *channels*: an analog signed read converted by the ADC.

Encodings (:math:`R = G_{max} - G_{min}` the nominal range of the device preset):

``"differential"``
    a pair of devices per channel and row, :math:`G^\pm = G_{min} + R \max(\pm v, 0)`; the column
    currents are subtracted before the ADC, the read value is :math:`(G^+ - G^-) / R`.  Two device
    columns per channel.
``"reference"``
    one device per channel and row, :math:`G = G_{ref} + v R / 2` around the mid-range reference
    :math:`G_{ref} = (G_{min} + G_{max}) / 2`; one extra *reference column* per tile holds a device
    programmed to :math:`G_{ref}` on every row, whose current the periphery subtracts from every
    column: the read value is :math:`2 (G - G_{ref,row}) / R`.  One device column per channel
    plus one per tile.

Bit slicing (``n_slices`` = :math:`K` slices of ``slice_bits`` = :math:`b` bits): the magnitude
is rounded to :math:`B = K b` bits, :math:`m = \operatorname{round}(|w| (2^B - 1))`, and written
in base :math:`2^b`, :math:`m = \sum_k d_k 2^{b k}`.  Slice :math:`k` stores
:math:`v_k = \operatorname{sign}(w)\, d_k / (2^b - 1)` in its own channel; the outputs are
combined digitally with the *significance factors* :math:`f_k = 2^{b k} (2^b - 1) / (2^B - 1)`,
so that :math:`\sum_k f_k v_k = \operatorname{sign}(w)\, m / (2^B - 1)`, exact on the B-bit grid.
``slice_bits`` with one slice quantises the weight to ``slice_bits`` bits; ``None`` keeps it
continuous.

Replication (``replication`` = :math:`r`): every channel is stored :math:`r` times on its own
devices and the :math:`r` converted outputs are averaged digitally; independent device and read
errors average down by :math:`\sqrt{r}`.

Channel order on a tile: output ``o``, slice ``k``, copy ``c`` is channel
``(o * n_slices + k) * replication + c``.

Mapping around stuck devices (:mod:`.faults`; all off by default): ``fault_test`` range-tests every device
before writing and flags the stuck and unreachable ones, ``compensate`` programs each differential pair from
its devices' measured ranges, ``spare_columns`` / ``spare_rows`` reserve device columns and word lines of
every tile (so ``outputs_per_tile`` and ``rows_per_tile`` shrink) and ``remap`` places the logical channels
(and rows) on the physical ones with the least expected error.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from .devices import PROGRAM_METHODS, ArraySpec
from .faults import REMAPS

__all__ = ["MappingConfig", "ENCODINGS", "WEIGHT_SCALINGS", "TILE_RANGE", "slice_weights", "slice_factors"]

ENCODINGS = ("differential", "reference")
WEIGHT_SCALINGS = ("tile", "column", "layer")
#: allowed tile side [device lines]: HERMES and most macros use 64-1024; 8192 is beyond any reported array
TILE_RANGE = (2, 8192)


def _int_in(name: str, value, low: int, high: int, *, allow_none: bool = False) -> None:
    if value is None and allow_none:
        return
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an integer in [{low}, {high}], got {value!r}")
    if not low <= value <= high:
        raise ValueError(f"{name} = {value!r} is outside the allowed range [{low}, {high}]")


@dataclasses.dataclass(frozen=True)
class MappingConfig:
    """How a layer's weights are laid out on tiles and written into devices."""

    max_rows: int = 512
    """Word lines per tile: inputs per tile [1], 2-8192 (AIHWKit ``max_input_size`` 512)."""
    max_cols: int = 512
    """Device columns per tile [1], 2-8192 (AIHWKit ``max_output_size`` 512 counts weights; here a
    differential channel takes two columns, so 512 columns hold 256 outputs)."""
    encoding: str = "differential"
    """``"differential"`` or ``"reference"`` (module docstring)."""
    n_slices: int = 1
    """Bit slices per weight [1], 1-8."""
    slice_bits: int | None = None
    """Bits per slice [bit], 1-8, or ``None`` (continuous, only with one slice)."""
    replication: int = 1
    """Copies of every channel, averaged digitally [1], 1-64."""
    weight_scaling: str = "tile"
    """One scale per ``"tile"``, per output ``"column"`` or per ``"layer"``."""
    program: str = "direct"
    """``"direct"`` or ``"verify"`` (program-and-verify through the device layer)."""
    tolerance: float = 0.01
    """Program-and-verify tolerance relative to the device range [1]."""
    max_pulses: int = 100
    """Program-and-verify pulse limit per device [pulses]."""
    fault_test: bool = False
    """Range-test every device before writing and flag stuck/unreachable ones (:mod:`.faults`); costs a full SET
    and RESET pulse train and two reads per device."""
    stuck_threshold: float = 0.1
    """Read-verify rule: a device whose measured swing is below this fraction of the nominal range is flagged
    [1], (0, 1]."""
    compensate: bool = False
    """Program each differential pair from its devices' measured ranges so that the difference hits the target
    where the range allows (:func:`.faults.pair_targets`); needs ``fault_test``."""
    spare_columns: int = 0
    """Spare device columns per tile (whole pairs: even when differential), taken from ``max_cols`` [1]."""
    spare_rows: int = 0
    """Spare word lines per tile, taken from ``max_rows`` [1]."""
    remap: str = "none"
    """Fault-aware layout: ``"none"``, ``"columns"`` (channels onto the best physical pairs, spares included) or
    ``"rows_columns"`` (rows permuted too); needs ``fault_test`` (:func:`.faults.fault_aware_layout`)."""
    array: ArraySpec | None = None
    """Wires and cell type of the tiles (:class:`memr_snn.devices.ArraySpec`): with ``r_wire > 0`` every
    tile's read passes through its IR-drop model (``ir_drop``: ``"nodal"``, ``"series"`` or ``"auto"``),
    solved once per programming state.  The tile geometry is ``max_rows`` x ``max_cols``; the spec's
    ``rows``/``cols`` and ``read_scheme`` are not used (an analog product drives all rows and holds every
    column at virtual ground).  ``None``: ideal wires."""

    def __post_init__(self) -> None:
        _int_in("max_rows", self.max_rows, *TILE_RANGE)
        _int_in("max_cols", self.max_cols, *TILE_RANGE)
        if self.encoding not in ENCODINGS:
            raise ValueError(f"encoding = {self.encoding!r} is not one of {list(ENCODINGS)}")
        _int_in("n_slices", self.n_slices, 1, 8)
        _int_in("slice_bits", self.slice_bits, 1, 8, allow_none=True)
        if self.n_slices > 1 and self.slice_bits is None:
            raise ValueError(f"slice_bits must be set (1-8) when n_slices = {self.n_slices} > 1")
        _int_in("replication", self.replication, 1, 64)
        if self.weight_scaling not in WEIGHT_SCALINGS:
            raise ValueError(f"weight_scaling = {self.weight_scaling!r} is not one of {list(WEIGHT_SCALINGS)}")
        if self.program not in PROGRAM_METHODS:
            raise ValueError(f"program = {self.program!r} is not one of {list(PROGRAM_METHODS)}")
        if not (isinstance(self.tolerance, (int, float)) and 0 < self.tolerance <= 1):
            raise ValueError(f"tolerance = {self.tolerance!r} is outside the allowed range (0, 1]")
        _int_in("max_pulses", self.max_pulses, 1, 100000)
        if self.array is not None and not isinstance(self.array, ArraySpec):
            raise TypeError(f"array must be a memr_snn.devices.ArraySpec or None, got {self.array!r}")
        for name in ("fault_test", "compensate"):
            if not isinstance(getattr(self, name), bool):
                raise TypeError(f"{name} must be True or False, got {getattr(self, name)!r}")
        st = self.stuck_threshold
        if isinstance(st, bool) or not isinstance(st, (int, float)) or not 0 < st <= 1:
            raise ValueError(f"stuck_threshold = {st!r} is outside the allowed range (0, 1]")
        if self.remap not in REMAPS:
            raise ValueError(f"remap = {self.remap!r} is not one of {list(REMAPS)}")
        _int_in("spare_columns", self.spare_columns, 0, self.max_cols - 1)
        _int_in("spare_rows", self.spare_rows, 0, self.max_rows - 1)
        uses = [n for n, on in (("compensate", self.compensate), ("remap", self.remap != "none")) if on]
        if uses and not self.fault_test:
            raise ValueError(f"{uses[0]} needs the measured device ranges: set fault_test=True")
        if (self.spare_columns or self.spare_rows) and self.remap == "none":
            raise ValueError(f"spare_columns = {self.spare_columns}, spare_rows = {self.spare_rows}: spares are used "
                             f"only by a remap; set remap to 'columns' or 'rows_columns'")
        if self.encoding != "differential" and (uses or self.spare_columns or self.spare_rows):
            raise ValueError(f"encoding = {self.encoding!r}: compensate, remap and spares work on differential pairs; "
                             f"use encoding='differential'")
        if self.spare_columns % self.columns_per_channel:
            raise ValueError(f"spare_columns = {self.spare_columns} must be a multiple of "
                             f"{self.columns_per_channel} (whole pairs)")
        if self.outputs_per_tile < 1:
            raise ValueError(
                f"max_cols = {self.max_cols} device columns hold no output with encoding={self.encoding!r}, "
                f"n_slices={self.n_slices}, replication={self.replication} (needs "
                f"{self.columns_per_output + (1 if self.encoding == 'reference' else 0)} columns)")

    @property
    def columns_per_channel(self) -> int:
        """Device columns of one channel: 2 (differential) or 1 (reference)."""
        return 2 if self.encoding == "differential" else 1

    @property
    def channels_per_output(self) -> int:
        """ADC channels per logical output: ``n_slices * replication``."""
        return self.n_slices * self.replication

    @property
    def columns_per_output(self) -> int:
        """Device columns per logical output."""
        return self.columns_per_channel * self.channels_per_output

    @property
    def outputs_per_tile(self) -> int:
        """Logical outputs one tile holds (spare columns excluded)."""
        usable = self.max_cols - self.spare_columns - (1 if self.encoding == "reference" else 0)
        return usable // self.columns_per_output

    @property
    def rows_per_tile(self) -> int:
        """Logical inputs one tile holds: ``max_rows - spare_rows``."""
        return self.max_rows - self.spare_rows

    @property
    def spare_channels(self) -> int:
        """Spare channels (pairs when differential) per tile."""
        return self.spare_columns // self.columns_per_channel

    @property
    def fault_aware(self) -> bool:
        """True when programming goes through the fault-aware path (range test, compensation or remap)."""
        return self.fault_test

    @property
    def weight_bits(self) -> int | None:
        """Magnitude bits of a stored weight, ``n_slices * slice_bits`` (``None``: continuous)."""
        return None if self.slice_bits is None else self.n_slices * self.slice_bits

    def replace(self, **changes: Any) -> MappingConfig:
        """A copy with some fields replaced."""
        return dataclasses.replace(self, **changes)


def slice_factors(cfg: MappingConfig) -> np.ndarray:
    """Significance factors :math:`f_k` of the slices, shape ``(n_slices,)`` (module docstring)."""
    if cfg.slice_bits is None:
        return np.ones(1)
    b, big = cfg.slice_bits, cfg.weight_bits
    k = np.arange(cfg.n_slices)
    return (2.0 ** (b * k)) * (2**b - 1) / (2**big - 1)


def slice_weights(w: np.ndarray, cfg: MappingConfig) -> np.ndarray:
    r"""Per-slice signed values :math:`v_k` in [-1, 1] of normalised weights ``w`` (:math:`|w| \le 1`).

    Returns an array of shape ``w.shape + (n_slices,)``.
    """
    if cfg.slice_bits is None:
        return w[..., None].astype(np.float64)
    b, big = cfg.slice_bits, cfg.weight_bits
    m = np.rint(np.abs(w) * (2**big - 1)).astype(np.int64)
    base = 2**b
    out = np.empty(w.shape + (cfg.n_slices,))
    sign = np.sign(w)
    for k in range(cfg.n_slices):
        out[..., k] = sign * ((m // base**k) % base) / (base - 1)
    return out
