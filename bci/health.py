r"""Device health of decoders that run on memristive crossbars: read-verify of a rotating subset of rows.

A chip cannot see its devices' fault table; what it can do between decodes is read some of its devices
back and compare them with what programming left (the program-and-verify read).  :class:`CrossbarVerifier`
does that for one :class:`~memr_snn.devices.CrossbarState`: each :meth:`~CrossbarVerifier.poll` reads the
next rows of a fixed, seeded random order of the crossbar's rows (about ``devices_per_poll`` devices; a
full sweep every ``ceil(n_rows / rows_per_poll)`` polls) at the present time, device by device, with
drift, relaxation and retention as the kernel reads them (:meth:`~memr_snn.devices.CrossbarState.read_conductances`;
the read noise, 0.5 % for ``hfox_rram``, is left out: a verify read averages it away).  Per poll, with
:math:`g_0` the conductance the last programming left, :math:`G` the read, :math:`\Delta = g_{max} - g_{min}`
the nominal range and :math:`\tau` = ``stuck_tolerance``:

* **drift factor** :math:`\hat\alpha` -- the median of :math:`G / g_0` over the checked devices that were
  healthy at programming and hold at least a quarter of the range (:math:`g_0 \ge g_{min} + \Delta/4`):
  the common trend of drift, robust to a minority of failed devices;
* **newly stuck** -- a device healthy at the last programming whose read leaves its expected value by
  more than the tolerance, :math:`|G - \hat\alpha g_0| > \tau \Delta`: a device stuck ON (at its
  ``g_max``) or OFF (at its ``g_min``) after programming, or one whose state was lost.  A stuck-OFF
  device that was programmed within :math:`\tau\Delta` of its floor is not seen, and changes its weight
  by less than that;
* ``stuck_fraction`` -- newly stuck over checked devices; ``stuck_weight_fraction`` -- the weight change
  :math:`\sum |w - w_0|` of the checked synapses with a newly stuck device over :math:`n_s \overline{|w_0|}`, with
  :math:`n_s` the checked synapses and :math:`\overline{|w_0|}` the mean programmed weight magnitude of the whole
  crossbar (:math:`w = k (G^+ - G^-)` for a differential pair, :math:`k (G - G_{ref})` for a single device);
* ``weight_error`` -- the drift- and relaxation-induced weight error of the other checked synapses,
  :math:`\sqrt{\overline{(w - w_0)^2} / \overline{w_0^2}}` (relative RMS; the numerator's mean over those checked
  synapses, the denominator's over the whole crossbar's programming; the common factor is not compensated,
  since the decoders read the devices as they are).

The denominators are known from the programming, so a sample's statistics estimate the whole crossbar's with
only the spread of the numerators (on the spiking decoder's input crossbar, 8 of 768 rows, the weight error's
sampling spread is about 0.018 at 0.5 instead of 0.038 for the ratio of the sample's own sums); on a full read
(``poll(t, full=True)``) they are the whole crossbar's, the weight error exactly
:math:`\sqrt{\sum_{ok} (w - w_0)^2 / \sum_{ok} w_0^2}` when no device is newly stuck.

The read energy of the verification is :math:`V_{read}^2 t_{read} \sum G` over the checked devices, as
the kernel prices a read.  A rotating subset catches a fault spread over the array in the next poll (in
proportion in every sample); a fault confined to a few rows is seen when the sweep reaches them, within
one full sweep.  Programming the crossbar again (detected from its noise epoch and pulse counter) takes a
new baseline.  :class:`HealthReport` gathers the crossbars of one decoder; a decoder that runs on devices
exposes it as ``device_health()``, which :class:`~memr_snn.bci.safety.SafeDecoder` polls.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from memr_snn._validation import check_int_at_least, check_positive

__all__ = ["VerifyParams", "CrossbarHealth", "HealthReport", "CrossbarVerifier", "TileVerifier", "assess",
           "newly_stuck"]


@dataclass(frozen=True)
class VerifyParams:
    """How much a decoder's health check reads per poll, and when a device counts as stuck."""

    devices_per_poll: int = 1024
    """Devices read-verified per poll and crossbar (whole rows, at least one; every row when the crossbar
    has fewer devices)."""
    stuck_tolerance: float = 0.25
    """Deviation from the expected read, as a fraction of the nominal conductance range, above which a device
    counts as newly stuck (``hfox_rram``: relaxation spreads the reads by about 0.05 of the range a day
    after programming, so 0.25 is five of its standard deviations)."""
    seed: int = 0
    """Seed of the order in which the rows are verified."""

    def __post_init__(self) -> None:
        check_int_at_least("devices_per_poll", self.devices_per_poll, 1)
        check_positive("stuck_tolerance", self.stuck_tolerance)
        if self.stuck_tolerance >= 1.0:
            raise ValueError(f"stuck_tolerance must lie in (0, 1) (a fraction of the range), "
                             f"got {self.stuck_tolerance!r}")
        check_int_at_least("seed", self.seed, 0)


@dataclass(frozen=True)
class CrossbarHealth:
    """One poll of one crossbar (module docstring)."""

    name: str
    """The crossbar (projection) name."""
    checked: int
    """Devices read-verified in this poll."""
    rows: int
    """Rows read in this poll."""
    stuck: int
    """Checked devices newly stuck since the last programming."""
    stuck_fraction: float
    """``stuck / checked``."""
    unconfirmed: int
    """Of the newly stuck devices, those no earlier full read since the last programming had found (a crossbar
    verifier keeps the map of the devices its full reads found newly stuck; equal to ``stuck`` for a tile)."""
    stuck_weight_fraction: float
    """Weight change of the checked synapses with a newly stuck device over the checked synapses' share of the
    crossbar's programmed weight (sums of absolute values; module docstring)."""
    weight_error: float
    """Relative RMS weight error of the other checked synapses (drift, relaxation)."""
    drift_factor: float
    """Median read over programmed conductance of the healthy, well-programmed checked devices (1: no drift)."""
    read_energy: float
    """Energy of this poll's reads [J]."""
    swept: float
    """Fraction of the crossbar's rows verified since the last programming (1 after a full sweep)."""
    full: bool = False
    """Whether this poll read every row of the crossbar."""


@dataclass(frozen=True)
class HealthReport:
    """One health poll of a decoder: its crossbars' reports and the worst of them."""

    crossbars: tuple[CrossbarHealth, ...]

    @property
    def checked(self) -> int:
        """Devices read-verified in this poll."""
        return sum(c.checked for c in self.crossbars)

    @property
    def rows(self) -> int:
        """Rows read in this poll."""
        return sum(c.rows for c in self.crossbars)

    @property
    def stuck(self) -> int:
        """Newly stuck devices among the checked ones."""
        return sum(c.stuck for c in self.crossbars)

    @property
    def stuck_fraction(self) -> float:
        """Largest fraction of newly stuck devices over the crossbars."""
        return max((c.stuck_fraction for c in self.crossbars), default=0.0)

    @property
    def stuck_weight_fraction(self) -> float:
        """Largest weight fraction changed by newly stuck devices over the crossbars."""
        return max((c.stuck_weight_fraction for c in self.crossbars), default=0.0)

    @property
    def weight_error(self) -> float:
        """Largest relative RMS weight error from drift and relaxation over the crossbars."""
        return max((c.weight_error for c in self.crossbars), default=0.0)

    @property
    def read_energy(self) -> float:
        """Energy of this poll's reads [J]."""
        return sum(c.read_energy for c in self.crossbars)

    @property
    def full(self) -> bool:
        """Whether every crossbar was read completely in this poll."""
        return all(c.full for c in self.crossbars)


class CrossbarVerifier:
    """Rotating read-verify of one crossbar against its last programming (module docstring).

    Parameters
    ----------
    crossbar : memr_snn.devices.CrossbarState
        The devices (read in place; the verifier writes nothing).
    params : VerifyParams, optional
    name : str, optional
        Name in the reports (default the crossbar's).
    """

    def __init__(self, crossbar, params: VerifyParams | None = None, name: str | None = None) -> None:
        self.params = params if params is not None else VerifyParams()
        if not isinstance(self.params, VerifyParams):
            raise TypeError(f"params must be a VerifyParams, got {type(self.params).__name__}")
        self.crossbar = crossbar
        self.name = crossbar.name if name is None else name
        cb = crossbar
        pre = np.asarray(cb.tiling.pre)  # CSR order: the devices of a row are contiguous
        starts = np.searchsorted(pre, np.arange(cb.n_pre + 1)) * cb.per
        nonempty = np.flatnonzero(np.diff(starts) > 0)
        self._lo, self._hi = starts[nonempty], starts[nonempty + 1]
        size = float(np.mean(self._hi - self._lo)) if nonempty.size else 1.0
        self.rows_per_poll = int(min(max(1, math.ceil(self.params.devices_per_poll / size)), max(nonempty.size, 1)))
        self._order = np.random.default_rng([self.params.seed, 0xC4EC]).permutation(nonempty.size)
        self.rebaseline()

    def _marker(self) -> tuple[int, int]:
        return int(self.crossbar.noise_epoch), int(self.crossbar.program_pulses)

    def rebaseline(self) -> None:
        """Take the present conductances and fault table as the programmed state (after a programming)."""
        cb = self.crossbar
        self.g0 = np.array(cb.g, dtype=np.float64)
        self.fault0 = np.array(cb.fault)
        self.w0_means = _weight_means(self.g0, cb.differential, float(cb.scale) * float(cb.polarity), float(cb.g_ref))
        self.known = np.zeros(self.g0.size, dtype=bool)  # newly stuck devices found by full reads
        self.marker = self._marker()
        self._pos = 0
        self._seen = np.zeros(self._order.size, dtype=bool)

    @property
    def sweep_polls(self) -> int:
        """Polls per full sweep of the rows."""
        return max(1, math.ceil(self._order.size / self.rows_per_poll))

    def poll(self, t: float, full: bool = False) -> CrossbarHealth:
        """Read-verify the next rows at time ``t`` [s] (the crossbar's clock), or with ``full`` every row (a
        confirmation read; the rotation is not advanced); returns the poll's report."""
        cb = self.crossbar
        if self._marker() != self.marker:
            self.rebaseline()
        n = self._order.size
        if full:
            pick = np.arange(n)
        else:
            pick = self._order[(self._pos + np.arange(self.rows_per_poll)) % n] if n else np.zeros(0, dtype=np.int64)
            self._pos = (self._pos + self.rows_per_poll) % max(n, 1)
        self._seen[pick] = True
        # the picked rows in device order, adjacent rows merged into one read of a contiguous range
        lo, hi = self._lo[np.sort(pick)], self._hi[np.sort(pick)]
        cut = np.flatnonzero(lo[1:] != hi[:-1]) + 1
        ranges = [(int(a), int(b)) for a, b in zip(lo[np.r_[0, cut]], hi[np.r_[cut - 1, hi.size - 1]], strict=True)] \
            if pick.size else []
        idx = np.concatenate([np.arange(a, b) for a, b in ranges]) if ranges else np.zeros(0, dtype=np.int64)
        G = np.concatenate([cb.read_conductances(t, devices=r) for r in ranges]) if ranges else np.zeros(0)
        k = float(cb.scale) * float(cb.polarity)
        g_min, g_max = float(cb.device.g_min), float(cb.device.g_max)
        rep = assess(self.name, G, self.g0[idx], self.fault0[idx], g_min, g_max,
                     self.params.stuck_tolerance, pairs=cb.differential, k=k, g_ref=float(cb.g_ref),
                     rows=int(pick.size), read_energy=float(cb.v_read) ** 2 * float(cb.t_read) * float(np.sum(G)),
                     swept=float(self._seen.mean()) if n else 1.0, w0_means=self.w0_means,
                     full=bool(pick.size == n), known=self.known[idx])
        if rep.full:
            self.known[idx] = newly_stuck(G, self.g0[idx], self.fault0[idx], g_min, g_max,
                                          self.params.stuck_tolerance)[1]
        return rep


def _weight_means(g0: np.ndarray, pairs: bool, k: float, g_ref: float) -> tuple[float, float]:
    """Mean programmed weight magnitude and mean squared programmed weight of a crossbar's synapses."""
    w0 = k * (g0[0::2] - g0[1::2]) if pairs else k * (g0 - g_ref)
    return (float(np.mean(np.abs(w0))), float(np.mean(w0 ** 2))) if w0.size else (0.0, 0.0)


def newly_stuck(G: np.ndarray, g0: np.ndarray, fault0: np.ndarray, g_min: float, g_max: float,
                tol: float) -> tuple[float, np.ndarray]:
    """The drift factor and the mask of newly stuck devices among the checked ones (module docstring)."""
    rng_ = float(g_max) - float(g_min)
    ref = (fault0 == 0) & (g0 >= float(g_min) + 0.25 * rng_)
    alpha = float(np.median(G[ref] / g0[ref])) if np.any(ref) else 1.0
    return alpha, (fault0 == 0) & (np.abs(G - alpha * g0) > tol * rng_)


def assess(name: str, G: np.ndarray, g0: np.ndarray, fault0: np.ndarray, g_min: float, g_max: float, tol: float, *,
           pairs: bool, k: float = 1.0, g_ref: float = 0.0, rows: int = 0, read_energy: float = 0.0,
           swept: float = 1.0, w0_means: tuple[float, float] | None = None, full: bool = False,
           known: np.ndarray | None = None) -> CrossbarHealth:
    """One poll's report from the reads ``G`` of the checked devices, their programmed conductances ``g0`` and
    fault codes at programming ``fault0`` (module docstring); with ``pairs`` the devices come as (G+, G-)
    pairs, in that order, else one device per synapse read against ``g_ref``; ``k`` is the weight per siemens;
    ``w0_means`` the whole crossbar's mean programmed weight magnitude and mean squared weight, the denominators
    of the weight statistics (default: the checked synapses' own); ``known`` marks the checked devices an
    earlier full read found newly stuck (not counted in ``unconfirmed``)."""
    alpha, newly = newly_stuck(G, g0, fault0, g_min, g_max, tol)
    if pairs:
        w, w0 = k * (G[0::2] - G[1::2]), k * (g0[0::2] - g0[1::2])
        hit = newly[0::2] | newly[1::2]
    else:
        w, w0 = k * (G - g_ref), k * (g0 - g_ref)
        hit = newly
    m_abs, m_sq = w0_means if w0_means is not None else _weight_means(g0, pairs, k, g_ref)
    err = w - w0
    ok = ~hit
    n_ok = int(ok.sum())
    return CrossbarHealth(
        name=name, checked=int(G.size), rows=rows, stuck=int(newly.sum()),
        stuck_fraction=float(newly.sum()) / G.size if G.size else 0.0,
        unconfirmed=int(newly.sum()) if known is None else int(np.sum(newly & ~known)),
        stuck_weight_fraction=float(np.sum(np.abs(err[hit]))) / (w.size * m_abs) if m_abs > 0 and w.size else 0.0,
        weight_error=math.sqrt(float(np.mean(err[ok] ** 2)) / m_sq) if m_sq > 0 and n_ok else 0.0,
        drift_factor=alpha, read_energy=read_energy, swept=swept, full=full)


class TileVerifier:
    """Rotating read-verify of one differential AIMC tile (:class:`memr_snn.aimc.tile.Tile`) against its
    programming, as :class:`CrossbarVerifier` does for a crossbar projection: each poll checks the next rows of
    the tile's physical layout (both devices of every pair in the row) in the present read snapshot (the age
    and noise epoch the tile computes with; the IR-drop model, if any, left out).

    Parameters
    ----------
    matrix : memr_snn.aimc.tile.TiledMatrix
    tile : int
        Index of the tile in ``matrix.tiles``.
    params : VerifyParams, optional
    name : str
    """

    def __init__(self, matrix, tile: int, params: VerifyParams | None = None, name: str = "tile") -> None:
        self.params = params if params is not None else VerifyParams()
        if not isinstance(self.params, VerifyParams):
            raise TypeError(f"params must be a VerifyParams, got {type(self.params).__name__}")
        self.matrix, self.tile, self.name = matrix, matrix.tiles[tile], name
        if self.tile.cfg.encoding != "differential":
            raise ValueError(f"{name}: the tile health check needs encoding='differential', "
                             f"got {self.tile.cfg.encoding!r}")
        n_rows, per_row = self.tile.n_in_p, 2 * self.tile.n_ch_p
        self.rows_per_poll = int(min(max(1, math.ceil(self.params.devices_per_poll / per_row)), n_rows))
        self._order = np.random.default_rng([self.params.seed, 0xC4EC]).permutation(n_rows)
        self.rebaseline()

    def rebaseline(self) -> None:
        """Take the tile's present programmed state as the baseline."""
        prog = self.tile.prog
        self._prog = prog
        self.g0 = np.array(prog.g, dtype=np.float64)
        self.fault0 = np.array(prog.fault)
        self.w0_means = _weight_means(np.moveaxis(self.g0.reshape(2, -1), 0, -1).ravel(), True, 1.0, 0.0)
        self._pos = 0
        self._seen = np.zeros(self._order.size, dtype=bool)

    @property
    def sweep_polls(self) -> int:
        """Polls per full sweep of the rows."""
        return max(1, math.ceil(self._order.size / self.rows_per_poll))

    def poll(self, full: bool = False) -> CrossbarHealth:
        """Read-verify the next rows in the present snapshot, or with ``full`` every row (the rotation is not
        advanced); returns the poll's report."""
        tile = self.tile
        if tile.prog is not self._prog:  # programmed again
            self.rebaseline()
        n = self._order.size
        if full:
            pick = np.arange(n)
        else:
            pick = self._order[(self._pos + np.arange(self.rows_per_poll)) % n]
            self._pos = (self._pos + self.rows_per_poll) % n
        self._seen[pick] = True
        rng = np.random.default_rng([tile.seed, 2, int(self.matrix.epoch)])  # the snapshot's draws
        shape = (2, tile.n_ch_p, tile.n_in_p)
        G = tile.device.read(tile.prog, self.matrix.time, rng).reshape(shape)[:, :, pick]
        # (G+, G-) pairs in a row: interleave the two device planes
        G = np.moveaxis(G, 0, -1).ravel()
        g0 = np.moveaxis(self.g0.reshape(shape)[:, :, pick], 0, -1).ravel()
        f0 = np.moveaxis(self.fault0.reshape(shape)[:, :, pick], 0, -1).ravel()
        v, t = tile.device.read_energy_per_siemens()
        return assess(self.name, G, g0, f0, float(tile.device.g_min), float(tile.device.g_max),
                      self.params.stuck_tolerance, pairs=True, rows=int(pick.size),
                      read_energy=v * v * t * float(np.sum(G)), swept=float(self._seen.mean()),
                      w0_means=self.w0_means, full=bool(pick.size == n))
