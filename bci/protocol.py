"""The experiment protocol: observation block -> fit -> closed-loop blocks -> refit, over days.

One bin of closed loop, in this order (the schedule every block follows):

1. the simulated user sees the cursor (delayed, :mod:`.user`) and forms its intended velocity;
2. the cortex emits the bin's spike counts for that intention (:mod:`.cortex`, 1 ms Poisson base);
3. the decoder steps on the counts (its wall-clock time is the bin's decode latency);
4. the plant moves the cursor by the decoded velocity and the task checks target, hold and timeout.

In an *observation* (open-loop calibration) block the cursor moves by itself along a minimum-jerk
path to each target (``observation_movement_time``) and the decoder is not used; the user imagines
moving it and can only follow what it sees, a visual delay late (:meth:`SimulatedUser.follow`).
The training data are the counts and the *cursor* velocity, as in a real calibration, where the
true intention is not observable: the labels lead the neural activity by the visual delay.

A session (:func:`run_session`) runs, per day: an observation block and a fit (the first day, or
every day with ``recalibrate_daily``), then ``closed_loop_blocks`` blocks, refitting after each one
for ReFIT and the adapting spiking decoder (``"snn_refit"``; re-aimed intentions,
:func:`~memr_snn.bci.kalman.reestimate_intention`); the other
decoders are not refitted in closed loop, since a real experiment cannot see the true intentions.  Between days the
cortex drifts (:class:`~memr_snn.bci.cortex.DriftParams`).  Every random draw comes from one seed.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from memr_snn._validation import check_int_at_least, check_positive

from .aimc_kalman import AIMCKalmanDecoder
from .channels import FrontEnd, SignalParams
from .cortex import CortexParams, DriftParams, MotorCortex
from .decoders import Decoder, WienerFilter
from .kalman import KalmanFilter, ReFITKalmanFilter, SteadyStateKalmanFilter
from .metrics import latency_summary, summarize
from .safety import FaultParams, SafeDecoder
from .spiking import InputAdaptingSpikingDecoder, PlainSpikingDecoder, ReFITSpikingDecoder, SpikingCrossbarDecoder
from .task import CursorTask, TaskParams, minimum_jerk_velocity, target_sequence
from .user import SimulatedUser, UserParams

__all__ = ["DECODERS", "make_decoder", "SessionConfig", "BlockResult", "SessionResult", "run_block",
           "run_session"]

#: decoder name -> class (constructed with default hyperparameters by :func:`make_decoder`)
DECODERS: dict[str, type[Decoder]] = {
    "wiener": WienerFilter,
    "kf": KalmanFilter,
    "sskf": SteadyStateKalmanFilter,
    "refit": ReFITKalmanFilter,
    "aimc_kf": AIMCKalmanDecoder,
    "snn": SpikingCrossbarDecoder,
    "snn_refit": ReFITSpikingDecoder,
    "snn_plain": PlainSpikingDecoder,
    "snn_input": InputAdaptingSpikingDecoder,
}


def make_decoder(name: str, safety: FaultParams | None = None) -> Decoder:
    """A fresh decoder by name (:data:`DECODERS`), wrapped in a :class:`SafeDecoder` if ``safety`` is given."""
    if name not in DECODERS:
        raise ValueError(f"decoder must be one of {sorted(DECODERS)}, got {name!r}")
    dec = DECODERS[name]()
    return SafeDecoder(dec, params=safety) if safety is not None else dec


@dataclass(frozen=True)
class SessionConfig:
    """One experiment: the population, task, user, drift, decoder and block sizes."""

    cortex: CortexParams = field(default_factory=CortexParams)
    task: TaskParams = field(default_factory=TaskParams)
    user: UserParams = field(default_factory=UserParams)
    drift: DriftParams = field(default_factory=DriftParams)
    decoder: str = "kf"
    """A name of :data:`DECODERS`."""
    safety: FaultParams | None = None
    """Wrap the decoder in a :class:`SafeDecoder` with these thresholds (None: no safety layer)."""
    observation_trials: int = 24
    """Trials of the open-loop observation block."""
    closed_loop_blocks: int = 2
    """Closed-loop blocks per day."""
    trials_per_block: int = 16
    """Trials per closed-loop block."""
    days: int = 1
    """Days in the session (the cortex drifts by one day between them)."""
    recalibrate_daily: bool = False
    """Run an observation block and a fresh fit every day (else only on the first day)."""
    observation_movement_time: float = 1.0
    """Duration of the automatic cursor movements of observation blocks [s]."""
    signal: SignalParams | None = None
    """Record each channel's broadband RMS through a :class:`~memr_snn.bci.channels.FrontEnd` with these
    parameters (None: no signal stream, the counts as the cortex emits them)."""

    def __post_init__(self) -> None:
        for name, kind in (("cortex", CortexParams), ("task", TaskParams), ("user", UserParams),
                           ("drift", DriftParams)):
            if not isinstance(getattr(self, name), kind):
                raise TypeError(f"{name} must be a {kind.__name__}, got {type(getattr(self, name)).__name__}")
        if self.decoder not in DECODERS:
            raise ValueError(f"decoder must be one of {sorted(DECODERS)}, got {self.decoder!r}")
        if self.signal is not None and not isinstance(self.signal, SignalParams):
            raise TypeError(f"signal must be a SignalParams or None, got {type(self.signal).__name__}")
        if self.safety is not None and not isinstance(self.safety, FaultParams):
            raise TypeError(f"safety must be a FaultParams or None, got {type(self.safety).__name__}")
        check_int_at_least("observation_trials", self.observation_trials, 1)
        check_int_at_least("closed_loop_blocks", self.closed_loop_blocks, 0)
        check_int_at_least("trials_per_block", self.trials_per_block, 1)
        check_int_at_least("days", self.days, 1)
        check_positive("observation_movement_time", self.observation_movement_time, "s")
        if self.observation_movement_time >= self.task.timeout - self.task.hold_time:
            raise ValueError(f"observation_movement_time ({self.observation_movement_time} s) must leave the hold "
                             f"time before the timeout ({self.task.timeout} s)")


@dataclass
class BlockResult:
    """Per-bin arrays and trial records of one block."""

    kind: str
    """``"observation"`` or ``"closed_loop"``."""
    day: int
    counts: np.ndarray
    """(n_bins, n_units) spike counts."""
    intended: np.ndarray
    """(n_bins, 2) the user's intended velocity [m/s]."""
    velocity: np.ndarray
    """(n_bins, 2) velocity that moved the cursor [m/s]: decoded, or automatic in observation blocks."""
    cursor: np.ndarray
    """(n_bins, 2) cursor position when the bin was decoded [m]."""
    target: np.ndarray
    """(n_bins, 2) target of the bin's trial [m]."""
    in_target: np.ndarray
    """(n_bins,) cursor inside the target when the bin was decoded."""
    trial: np.ndarray
    """(n_bins,) trial index of each bin."""
    latency: np.ndarray
    """(n_bins,) wall-clock decode time per bin [s] (zeros in observation blocks)."""
    records: list
    metrics: dict
    signal: np.ndarray | None = None
    """(n_bins, n_units) broadband RMS per bin [uV] when the block was recorded through a front end."""

    @property
    def n_bins(self) -> int:
        return int(self.counts.shape[0])


@dataclass
class SessionResult:
    """All blocks of a session, in order, and the decoder at the end."""

    config: SessionConfig
    blocks: list[BlockResult]
    decoder: Decoder
    cortex: MotorCortex
    """The cortex, task and user at the end of the session, to continue it (e.g. after a unit loss)."""
    task: CursorTask
    user: SimulatedUser
    front_end: FrontEnd | None = None
    """The recording front end (``config.signal`` given), to inject channel faults."""

    def closed_loop(self, day: int | None = None) -> list[BlockResult]:
        """The closed-loop blocks (of one day if given)."""
        return [b for b in self.blocks if b.kind == "closed_loop" and (day is None or b.day == day)]


def run_block(cortex: MotorCortex, task: CursorTask, user: SimulatedUser, targets: np.ndarray,
              decoder: Decoder | None, day: int = 0, movement_time: float = 1.0,
              front_end: FrontEnd | None = None) -> BlockResult:
    """Run one block of trials toward ``targets`` ``(n_trials, 2)`` [m].

    ``decoder=None`` runs an observation block whose cursor moves on a minimum-jerk path of
    ``movement_time`` [s] to each target.  With ``front_end`` the counts are recorded through it (channel
    faults) and each bin's broadband RMS goes to the decoder's ``step(z, signal=...)`` when it is a
    :class:`SafeDecoder` fitted with a signal stream.
    """
    if front_end is not None and not isinstance(front_end, FrontEnd):
        raise TypeError(f"front_end must be a FrontEnd or None, got {type(front_end).__name__}")
    give = front_end is not None and getattr(decoder, "signal_ref_", None) is not None
    signal = []
    p = task.params
    rows: dict[str, list] = {k: [] for k in ("counts", "intended", "velocity", "cursor", "target", "in_target",
                                             "trial", "latency")}
    task.records = []
    if decoder is not None:
        decoder.reset()  # once per block: the filter runs on across trials, as in a real system
    for i, target in enumerate(targets):
        start = task.begin(target)
        target = task.target
        user.reset(start)
        done, n = False, 0
        while not done:
            pos = task.position.copy()
            inside = task.in_target
            if decoder is None:
                v = minimum_jerk_velocity(start, target, movement_time, p.bin_width, n)
                c = user.follow(v)
            else:
                c = user.intend(pos, target)
            z = cortex.sample(c[None], p.bin_width)[0]
            if front_end is not None:
                zz, q = front_end.record(z[None], p.bin_width)
                z = zz[0]
                signal.append(q[0])
            n += 1
            if decoder is None:
                lat = 0.0
            else:
                t0 = time.perf_counter()
                v = decoder.step(z, signal=signal[-1]) if give else decoder.step(z)
                lat = time.perf_counter() - t0
            done = task.advance(v)
            for k, val in zip(rows, (z, c, v, pos, target, inside, i, lat), strict=True):
                rows[k].append(val)
    arrays = {k: np.array(v) for k, v in rows.items()}
    return BlockResult(kind="observation" if decoder is None else "closed_loop", day=day, **arrays,
                       records=list(task.records), signal=np.array(signal) if front_end is not None else None,
                       metrics={**summarize(task.records, p.target_radius),
                                **{f"latency_{k}": v for k, v in latency_summary(arrays["latency"]).items()}})


def _refit(decoder: Decoder, block: BlockResult) -> None:
    inner = decoder.primary if isinstance(decoder, SafeDecoder) else decoder
    if isinstance(inner, ReFITKalmanFilter) or getattr(inner, "closed_loop_refit", False):
        inner.refit(block.counts, block.velocity, block.cursor, block.target, block.in_target.astype(bool))
        if isinstance(decoder, SafeDecoder):
            decoder.reset()


def run_session(config: SessionConfig, seed: int | np.random.SeedSequence = 0) -> SessionResult:
    """Run a seeded session (see the module docstring for the protocol); returns every block."""
    if not isinstance(config, SessionConfig):
        raise TypeError(f"config must be a SessionConfig, got {type(config).__name__}")
    ss = seed if isinstance(seed, np.random.SeedSequence) else np.random.SeedSequence(seed)
    s_cortex, s_task, s_user, s_targets = ss.spawn(4)
    cortex = MotorCortex(config.cortex, np.random.default_rng(s_cortex))
    task = CursorTask(config.task, np.random.default_rng(s_task))
    user = SimulatedUser(config.user, config.task.bin_width, np.random.default_rng(s_user))
    rng_targets = np.random.default_rng(s_targets)
    # a fifth child after the four: a session without a front end draws exactly what it drew before
    front = (FrontEnd(config.signal, config.cortex.n_units, np.random.default_rng(ss.spawn(1)[0]))
             if config.signal is not None else None)
    decoder = make_decoder(config.decoder, config.safety)
    blocks: list[BlockResult] = []
    for day in range(config.days):
        if day:
            cortex.new_day(config.drift)
            if front is not None:
                front.new_day()
        if day == 0 or config.recalibrate_daily:
            obs = run_block(cortex, task, user, target_sequence(config.task, config.observation_trials, rng_targets),
                            None, day, config.observation_movement_time, front)
            blocks.append(obs)
            decoder = make_decoder(config.decoder, config.safety)
            if isinstance(decoder, SafeDecoder):
                decoder.fit(obs.counts, obs.velocity, signal=obs.signal)
            else:
                decoder.fit(obs.counts, obs.velocity)
        for b in range(config.closed_loop_blocks):
            block = run_block(cortex, task, user, target_sequence(config.task, config.trials_per_block, rng_targets),
                              decoder, day, front_end=front)
            blocks.append(block)
            if b < config.closed_loop_blocks - 1 or day < config.days - 1:
                _refit(decoder, block)
    return SessionResult(config, blocks, decoder, cortex, task, user, front)
