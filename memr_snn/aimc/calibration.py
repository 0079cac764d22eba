r"""Calibration of analog tiles: global drift compensation and per-column gain/offset.

Two procedures, both run with the tile's own reads (its devices, DAC, output noise and ADC) and both
applied digitally to the converted channel outputs :math:`y_c` (normalised units, before the
channels of an output are combined):

**Global drift compensation** (``drift_compensation=True``; AIHWKit ``GlobalDriftCompensation``;
Le Gallo et al., Adv. Electron. Mater. 2018; Joshi et al., Nat. Commun. 11, 2473, 2020).  At
programming every tile reads an all-ones input and keeps the readout
:math:`r_0 = \langle |y_c(\mathbf{1})| \rangle_c` (:class:`memr_snn.devices.DriftCompensation`,
reached through :mod:`memr_snn.aimc.devices`); at every evaluation time :math:`t` it reads again and multiplies
its outputs by :math:`\alpha(t) = r_0 / r(t)`.

**Per-column calibration** (``column=True``).  Every tile drives ``n_vectors`` fixed calibration
vectors :math:`x_k` (uniform in [-1, 1], seeded), whose ideal channel outputs
:math:`\hat y_{kc} = \sum_i x_{ki} v_{ci}` are known from the target weights :math:`v`, and fits per
channel the line :math:`\hat y \approx a_c\,y + b_c` by least squares over the vectors
(:func:`fit_columns`).  The outputs are then :math:`a_c y_c + b_c`.  This removes per-column gain
and offset errors of the periphery (``IOConfig.col_gain_std``, ``col_offset_std``) and the mean
drift of each column.  It runs at programming and again whenever the evaluation time has advanced by
``interval`` seconds since the last run (``None``: only at programming); after each run the drift
reference :math:`r_0` is taken again, so that the two corrections do not count the same drift twice.

With both, a channel output is :math:`\alpha(t)\,(a_c y_c + b_c)`.  Calibration reads are not priced:
the counters of the energy model are restored after them.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import numpy as np

__all__ = ["CalibrationConfig", "fit_columns"]


@dataclasses.dataclass(frozen=True)
class CalibrationConfig:
    """Which calibrations run, with how many vectors, how often (module docstring)."""

    drift_compensation: bool = False
    """Global drift compensation per tile (AIHWKit ``GlobalDriftCompensation``)."""
    column: bool = False
    """Per-column gain/offset calibration."""
    n_vectors: int = 64
    """Calibration vectors per tile [1], 2-4096 (at least 2 to fit a line)."""
    interval: float | None = None
    """Re-run the column calibration when the evaluation time has advanced by this much [s]
    (``None``: only at programming), 1e-9 to 1e10 s."""

    def __post_init__(self) -> None:
        for name in ("drift_compensation", "column"):
            if not isinstance(getattr(self, name), bool):
                raise TypeError(f"calibration.{name} must be True or False, got {getattr(self, name)!r}")
        n = self.n_vectors
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or not 2 <= n <= 4096:
            raise ValueError(f"calibration.n_vectors = {n!r} is outside the allowed range [2, 4096] (integers)")
        iv = self.interval
        if iv is not None and (isinstance(iv, bool) or not isinstance(iv, (int, float))
                               or not math.isfinite(iv) or not 1e-9 <= iv <= 1e10):
            raise ValueError(f"calibration.interval = {iv!r} [s] is outside the allowed range [1e-9, 1e10] "
                             f"(None: only at programming)")

    @property
    def any(self) -> bool:
        """True when some calibration runs."""
        return self.drift_compensation or self.column

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready fields."""
        return dataclasses.asdict(self)


def fit_columns(y_meas: np.ndarray, y_ideal: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-column least-squares line ``y_ideal ~ a * y_meas + b`` over the rows (vectors).

    ``y_meas``, ``y_ideal``: ``(n_vectors, n_channels)``.  Returns ``(a, b)``, each ``(n_channels,)``.
    A column whose measured outputs do not vary (a dead column) keeps ``a = 1`` and gets the offset
    ``b = mean(y_ideal - y_meas)``.
    """
    ym = np.asarray(y_meas, dtype=np.float64)
    yi = np.asarray(y_ideal, dtype=np.float64)
    mm, mi = ym.mean(axis=0), yi.mean(axis=0)
    dm = ym - mm
    var = np.einsum("kc,kc->c", dm, dm)
    cov = np.einsum("kc,kc->c", dm, yi - mi)
    live = var > 1e-300
    a = np.where(live, cov / np.where(live, var, 1.0), 1.0)
    return a, mi - a * mm
