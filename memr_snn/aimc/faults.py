r"""Mapping around stuck devices: detection, pair compensation, spare columns and rows, remapping.

What AIMC toolchains do against faulty devices (Xia et al., "Stuck-at fault tolerance in RRAM computing
systems", IEEE JETCAS 8, 2018; Liu et al., "Rescuing memristor-based neuromorphic design with high
defects", DAC 2017; Chen et al., "RRAM defect modeling and failure analysis based on March test",
DATE 2015), as options of :class:`~memr_snn.aimc.MappingConfig` (all off by default):

**Detection** (``fault_test=True``).  Before the weights are written, every device of a tile is
driven once to its top (a full SET pulse train of the nominal swing, :math:`\lceil R / \delta_{up} \rceil`
pulses) and read, then to its bottom (a full RESET train) and read, a March-style test
(:meth:`memr_snn.aimc.DeviceAdapter.range_test`).  The reads give every device's measured range
:math:`[\hat G_{lo}, \hat G_{hi}]`; the read-verify rule flags a device as stuck or unreachable when

.. math:: \hat G_{hi} - \hat G_{lo} < \theta\, R

with :math:`\theta` = ``stuck_threshold`` (default 0.1) and :math:`R = G_{max} - G_{min}` the nominal range.
A stuck device does not move (its two reads differ only by read noise), so the rule finds it; a healthy
device whose drawn range collapsed below :math:`\theta R` is flagged too (it is unreachable for most
targets).  The test's pulses, reads, energy and time are added to the tile's programming totals.

**Pair compensation** (``compensate=True``, differential encoding).  A channel's pair must read the
difference :math:`D = v R` (:math:`v` the normalised weight).  With the measured ranges of its two
devices the reachable differences are :math:`[\hat G^+_{lo} - \hat G^-_{hi},\ \hat G^+_{hi} - \hat G^-_{lo}]`;
the pair is programmed to the closest reachable difference with the lower conductances,

.. math::

    D_c = \operatorname{clip}(D,\ \hat G^+_{lo} - \hat G^-_{hi},\ \hat G^+_{hi} - \hat G^-_{lo}),\qquad
    G^- = \max(\hat G^-_{lo},\ \hat G^+_{lo} - D_c),\qquad G^+ = G^- + D_c

(:func:`pair_targets`).  When one device is stuck (its range a point) this reprograms the partner so
that the difference still hits :math:`D` where the partner's range allows; for healthy devices it also
removes the offset of a pair whose bottoms differ (device-to-device spread of :math:`G_{min}`) and uses a
device's headroom above the nominal :math:`G_{max}`.  Without compensation the pair is written as
usual, :math:`G^\pm = G_{min} + R \max(\pm v, 0)` clipped to each device's range.

**Spare columns and rows, remapping** (``spare_columns``, ``spare_rows``, ``remap``).  A tile reserves
``spare_columns`` device columns (whole pairs) and ``spare_rows`` word lines out of its
``max_cols`` x ``max_rows``; its logical channels and rows are placed on physical ones by
:func:`fault_aware_layout`, which minimises the expected squared error of the stored weights,
:math:`\sum_{c,i} (v_{ci} - \hat v(v_{ci}, \text{devices at } (\pi_r(i), \pi_c(c))))^2`, with
:math:`\hat v` the value the pair reaches (:func:`realised`): ``remap="columns"`` assigns the logical
channels to physical pairs (the worst placements go to the spares), ``"rows_columns"`` then also
permutes the rows (large weights leave the rows of their stuck devices) and assigns the channels
again, each step an optimal assignment (:func:`scipy.optimize.linear_sum_assignment`, the Hungarian
method).  The inputs of a row and the outputs of a column are routed by the periphery (the row
driver's and the ADC multiplexer's map), so the product is unchanged for an ideal device.

Costs: spare columns and rows are devices of the tile (area; ``utilisation`` counts them as unused);
an idle spare column holds its devices at :math:`G_{min}` on driven rows, so it draws read current
(counted in :math:`E_{array}` through the row sums); an unused spare row is not driven; a remapped output
still takes one ADC conversion.  The March test costs a full SET and a full RESET pulse train and two
reads per device (programming energy and latency).
"""

from __future__ import annotations

import numpy as np

__all__ = ["REMAPS", "detect", "pair_range", "pair_targets", "realised", "fault_aware_layout"]

#: layouts of :func:`fault_aware_layout`
REMAPS = ("none", "columns", "rows_columns")
#: cost matrices are built in chunks of at most this many entries (memory bound)
_CHUNK = 4_000_000


def detect(lo: np.ndarray, hi: np.ndarray, g_range: float, threshold: float) -> np.ndarray:
    """Read-verify rule: True where the measured swing ``hi - lo`` is below ``threshold * g_range``."""
    return (np.asarray(hi) - np.asarray(lo)) < threshold * g_range


def pair_range(lo_p, hi_p, lo_m, hi_m) -> tuple[np.ndarray, np.ndarray]:
    """Reachable differences ``(G+ - G-)`` of pairs with ranges ``[lo_p, hi_p]`` and ``[lo_m, hi_m]`` [S]."""
    return np.asarray(lo_p) - np.asarray(hi_m), np.asarray(hi_p) - np.asarray(lo_m)


def pair_targets(d, lo_p, hi_p, lo_m, hi_m) -> tuple[np.ndarray, np.ndarray]:
    """Compensated pair conductances ``(G+, G-)`` [S] for target differences ``d`` [S] (module docstring)."""
    dmin, dmax = pair_range(lo_p, hi_p, lo_m, hi_m)
    dc = np.minimum(np.maximum(d, dmin), dmax)
    gm = np.maximum(lo_m, np.asarray(lo_p) - dc)
    return gm + dc, gm


def realised(v: np.ndarray, lo_p, hi_p, lo_m, hi_m, g_min: float, g_range: float, compensate: bool) -> np.ndarray:
    """Normalised value a pair reaches for the normalised target ``v`` (no level grid, no noise)."""
    if compensate:
        dmin, dmax = pair_range(lo_p, hi_p, lo_m, hi_m)
        return np.minimum(np.maximum(v * g_range, dmin), dmax) / g_range
    gp = np.minimum(np.maximum(g_min + g_range * np.maximum(v, 0.0), lo_p), hi_p)
    gm = np.minimum(np.maximum(g_min + g_range * np.maximum(-v, 0.0), lo_m), hi_m)
    return (gp - gm) / g_range


def _cost(v: np.ndarray, ranges: tuple, g_min: float, g_range: float, compensate: bool) -> np.ndarray:
    """``cost[a, b] = sum_k (v[a, k] - realised(v[a, k], ranges[:, b, k]))**2``: ``v`` (A, K), ranges (4, B, K)."""
    a_n, k_n = v.shape
    b_n = ranges[0].shape[0]
    out = np.empty((a_n, b_n))
    step = max(1, _CHUNK // max(1, b_n * k_n))
    for a0 in range(0, a_n, step):
        vv = v[a0:a0 + step, None, :]
        r = realised(vv, *(x[None] for x in ranges), g_min, g_range, compensate)
        out[a0:a0 + step] = ((vv - r) ** 2).sum(axis=2)
    return out


def fault_aware_layout(v: np.ndarray, lo: np.ndarray, hi: np.ndarray, g_min: float, g_range: float, *,
                       compensate: bool, remap: str) -> tuple[np.ndarray, np.ndarray, float]:
    """Physical row and channel of every logical row and channel (module docstring).

    Parameters
    ----------
    v : (n_ch, n_in) ndarray
        Normalised targets of the logical channels.
    lo, hi : (2, n_ch_phys, n_rows_phys) ndarray
        Measured ranges of the physical devices (G+ then G-) [S].
    g_min, g_range : float
        Nominal bottom and range of the device [S].
    compensate : bool
        Whether the pairs are compensated (:func:`realised`).
    remap : {"none", "columns", "rows_columns"}

    Returns
    -------
    row_map : (n_in,) int64
    col_map : (n_ch,) int64
    cost : float
        Expected squared error of the layout, summed over the weights (normalised units).
    """
    from scipy.optimize import linear_sum_assignment

    if remap not in REMAPS:
        raise ValueError(f"remap = {remap!r} is not one of {list(REMAPS)}")
    n_ch, n_in = v.shape
    row_map = np.arange(n_in)
    col_map = np.arange(n_ch)

    def columns() -> np.ndarray:
        rng = tuple(x[:, row_map] for x in (lo[0], hi[0], lo[1], hi[1]))  # (n_ch_phys, n_in) each
        _, cols = linear_sum_assignment(_cost(v, rng, g_min, g_range, compensate))
        return cols.astype(np.int64)

    def rows() -> np.ndarray:
        rng = tuple(np.ascontiguousarray(x[col_map].T) for x in (lo[0], hi[0], lo[1], hi[1]))  # (rows_phys, n_ch)
        _, rs = linear_sum_assignment(_cost(np.ascontiguousarray(v.T), rng, g_min, g_range, compensate))
        return rs.astype(np.int64)

    if remap != "none":
        col_map = columns()
        if remap == "rows_columns":
            row_map = rows()
            col_map = columns()
    sel = tuple(x[col_map][:, row_map] for x in (lo[0], hi[0], lo[1], hi[1]))
    cost = float(((v - realised(v, *sel, g_min, g_range, compensate)) ** 2).sum())
    return row_map, col_map, cost
