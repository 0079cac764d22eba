"""The cursor task and its plant: targets, acquisition with a hold, timeouts, a 2-D velocity cursor.

Units are SI: positions in metres, velocities in m/s, times in seconds.  The workspace is the square
``[-workspace, workspace]^2`` centred on the origin; the plant integrates the decoded velocity once
per bin, ``p <- clip(p + v * bin_width)``.

A trial succeeds when the cursor stays within ``target_radius`` of the target for ``hold_time``
(leaving the target resets the hold timer) and fails at ``timeout``.  Centre-out trials start at the
centre (the cursor is put back there, as after a centre target in centre-out-and-back), with the 8
(``n_targets``) outer targets at ``target_distance`` shuffled in blocks; random-target trials start
where the last one ended, at a target drawn uniformly in the workspace (redrawn with the task's
generator while it lies closer than ``min_distance`` to the start).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from memr_snn._validation import check_int_at_least, check_positive

from ._checks import steps_per_bin

__all__ = ["TaskParams", "TrialRecord", "CursorTask", "target_sequence", "minimum_jerk_velocity"]

_KINDS = ("centre_out", "random")


@dataclass(frozen=True)
class TaskParams:
    """Parameters of the cursor task (SI units)."""

    kind: str = "centre_out"
    """``"centre_out"`` or ``"random"``."""
    n_targets: int = 8
    """Number of centre-out targets, evenly spaced on the circle."""
    target_distance: float = 0.08
    """Distance of the centre-out targets from the centre [m] (Gilja et al. 2012: 8 cm)."""
    target_radius: float = 0.02
    """Acceptance radius around the target [m]."""
    hold_time: float = 0.5
    """Time the cursor must stay in the target [s]."""
    timeout: float = 5.0
    """Time after which a trial fails [s]."""
    bin_width: float = 0.02
    """Decoder bin [s], 20 to 50 ms, a whole number of 1 ms steps."""
    workspace: float = 0.12
    """Half-width of the square workspace [m]; the cursor is clipped to it."""
    min_distance: float = 0.04
    """Minimum start-target distance of random targets [m]."""

    def __post_init__(self) -> None:
        if self.kind not in _KINDS:
            raise ValueError(f"kind must be one of {_KINDS}, got {self.kind!r}")
        check_int_at_least("n_targets", self.n_targets, 1)
        for name in ("target_distance", "target_radius", "hold_time", "timeout", "workspace", "min_distance"):
            check_positive(name, getattr(self, name), "s" if "time" in name else "m")
        steps_per_bin(self.bin_width)
        if not 0.02 - 1e-12 <= self.bin_width <= 0.05 + 1e-12:
            raise ValueError(f"bin_width must lie in [0.02, 0.05] s (20 to 50 ms), got {self.bin_width!r}")
        if self.hold_time >= self.timeout:
            raise ValueError(f"hold_time ({self.hold_time} s) must be shorter than timeout ({self.timeout} s)")
        if self.target_distance + self.target_radius > self.workspace:
            raise ValueError(f"target_distance + target_radius ({self.target_distance + self.target_radius} m) "
                             f"must fit in the workspace half-width {self.workspace} m")
        if self.min_distance >= self.workspace:
            raise ValueError(f"min_distance ({self.min_distance} m) must be below workspace ({self.workspace} m)")

    @property
    def hold_bins(self) -> int:
        """Bins the cursor must stay inside the target (hold_time rounded up to whole bins)."""
        return max(1, int(np.ceil(self.hold_time / self.bin_width - 1e-9)))

    @property
    def timeout_bins(self) -> int:
        """Bins after which a trial fails."""
        return int(np.ceil(self.timeout / self.bin_width - 1e-9))

    def centre_out_targets(self) -> np.ndarray:
        """The ``(n_targets, 2)`` outer targets [m], the first at angle 0."""
        angle = 2.0 * np.pi * np.arange(self.n_targets) / self.n_targets
        return self.target_distance * np.column_stack([np.cos(angle), np.sin(angle)])


def target_sequence(params: TaskParams, n_trials: int, rng: np.random.Generator | int | None) -> np.ndarray:
    """Targets of ``n_trials`` trials ``(n_trials, 2)`` [m].

    Centre-out: each block of ``n_targets`` trials visits every target once in a shuffled order.
    Random: uniform in the workspace shrunk by the target radius (start-distance checks happen in
    :class:`CursorTask`, which redraws targets too close to the start).
    """
    n_trials = check_int_at_least("n_trials", n_trials, 1)
    rng = np.random.default_rng(rng)
    if params.kind == "centre_out":
        base = params.centre_out_targets()
        order = np.concatenate([rng.permutation(params.n_targets)
                                for _ in range(-(-n_trials // params.n_targets))])[:n_trials]
        return base[order]
    edge = params.workspace - params.target_radius
    return rng.uniform(-edge, edge, size=(n_trials, 2))


def minimum_jerk_velocity(start, target, duration: float, bin_width: float, k: int) -> np.ndarray:
    """Mean velocity [m/s] in bin ``k`` of a minimum-jerk movement from ``start`` to ``target`` [m].

    Position :math:`\\mathbf p(t) = \\mathbf s + (\\mathbf g - \\mathbf s)(10\\tau^3 - 15\\tau^4 + 6\\tau^5)`,
    :math:`\\tau = \\min(t/T, 1)` (Flash & Hogan 1985); the bin's velocity is its displacement over
    the bin, so the bins of a movement add up to ``target - start`` exactly.
    """
    def shape(t: float) -> float:
        tau = min(max(t / duration, 0.0), 1.0)
        return tau ** 3 * (10.0 - 15.0 * tau + 6.0 * tau ** 2)

    s, g = np.asarray(start, dtype=np.float64), np.asarray(target, dtype=np.float64)
    return (g - s) * (shape((k + 1) * bin_width) - shape(k * bin_width)) / bin_width


@dataclass
class TrialRecord:
    """One trial: where it started, its target and what happened (times in seconds from trial start)."""

    start: np.ndarray
    target: np.ndarray
    success: bool
    n_bins: int
    """Bins the trial lasted (up to and including acquisition or timeout)."""
    first_entry: float
    """Time the cursor first entered the target [s] (NaN if never)."""
    acquire: float
    """Time of the entry that led to success [s] (NaN on failure); time to target."""
    path_length: float
    """Length of the cursor path up to acquisition (or the whole trial on failure) [m]."""
    first_bin: int
    """Index of the trial's first bin in its block."""


class CursorTask:
    """State machine of a block of trials driving a plant (the cursor).

    Call :meth:`begin` to start a trial (returns the start position), then :meth:`advance` with each
    bin's velocity; it returns ``True`` when the trial is over (:attr:`records` holds it).
    """

    def __init__(self, params: TaskParams, rng: np.random.Generator | int | None = None) -> None:
        if not isinstance(params, TaskParams):
            raise TypeError(f"params must be a TaskParams, got {type(params).__name__}")
        self.params = params
        self.rng = np.random.default_rng(rng)
        self.position = np.zeros(2)
        self.records: list[TrialRecord] = []
        self._trial: dict | None = None
        self._bin = 0

    @property
    def target(self) -> np.ndarray:
        if self._trial is None:
            raise RuntimeError("no trial is running: call begin(target) first")
        return self._trial["target"]

    @property
    def in_target(self) -> bool:
        return bool(np.linalg.norm(self.position - self.target) <= self.params.target_radius)

    def begin(self, target) -> np.ndarray:
        """Start a trial toward ``target`` [m]; returns the start position (centre for centre-out)."""
        p = self.params
        target = np.asarray(target, dtype=np.float64)
        if p.kind == "centre_out":
            self.position = np.zeros(2)
        else:
            edge = p.workspace - p.target_radius
            for _ in range(100):  # too close to where the cursor is: redraw (seeded by the task's rng)
                if np.linalg.norm(target - self.position) >= p.min_distance:
                    break
                target = self.rng.uniform(-edge, edge, size=2)
            else:
                target = -edge * np.sign(self.position + (self.position == 0))  # the farthest corner
        self._trial = {"target": target, "start": self.position.copy(), "bins": 0, "hold": 0,
                       "first": np.nan, "entry": np.nan, "path": 0.0, "first_bin": self._bin}
        return self.position.copy()

    def advance(self, velocity) -> bool:
        """Move the cursor by one bin of ``velocity`` [m/s]; returns True when the trial ended."""
        p, tr = self.params, self._trial
        if tr is None:
            raise RuntimeError("no trial is running: call begin(target) first")
        new = np.clip(self.position + np.asarray(velocity, dtype=np.float64) * p.bin_width, -p.workspace, p.workspace)
        step = float(np.linalg.norm(new - self.position))
        self.position = new
        tr["bins"] += 1
        self._bin += 1
        t = tr["bins"] * p.bin_width
        if self.in_target:
            if tr["hold"] == 0:
                tr["entry"] = t
                tr["path_at_entry"] = tr["path"] + step
                if np.isnan(tr["first"]):
                    tr["first"] = t
            tr["hold"] += 1
        else:
            tr["hold"] = 0
        tr["path"] += step
        success = tr["hold"] >= p.hold_bins
        if success or tr["bins"] >= p.timeout_bins:
            self.records.append(TrialRecord(
                start=tr["start"], target=tr["target"], success=bool(success), n_bins=tr["bins"],
                first_entry=float(tr["first"]), acquire=float(tr["entry"]) if success else float("nan"),
                path_length=float(tr["path_at_entry"] if success else tr["path"]), first_bin=tr["first_bin"]))
            self._trial = None
            return True
        return False
