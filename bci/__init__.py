"""Closed-loop BCI experiments, installed as ``memr_snn.bci``.

A synthetic motor cortex (:mod:`.cortex`) encodes the velocity a simulated user (:mod:`.user`)
intends while it watches a decoded cursor in a centre-out or random-target task (:mod:`.task`).
Decoders share one scikit-learn-style interface (:mod:`.decoders`, :mod:`.kalman`); a safety layer
hands control to a digital Kalman fallback on faults (:mod:`.safety`), stuck devices and drift included
(:mod:`.health`), lost channels from the recording's broadband signal too (:mod:`.channels`);
:mod:`.spiking` is a spiking decoder run by the memr_snn kernel on memristive
crossbars; :mod:`.protocol` runs observation, fit, closed-loop and refit blocks over days; :mod:`.metrics` scores them;
:mod:`.nwb` writes sessions to and reads recordings from NWB files (the ``nwb`` extra).
All pure numpy/scipy, all seeded.  Guide: ``docs/bci.md``.

Examples
--------
>>> from memr_snn.bci import SessionConfig, run_session
>>> res = run_session(SessionConfig(observation_trials=8, closed_loop_blocks=1, trials_per_block=4), seed=0)
>>> [b.kind for b in res.blocks]
['observation', 'closed_loop']
"""

from memr_snn._tree import check_same_tree as _check_same_tree

from .aimc_kalman import AIMCKalmanDecoder
from .binning import bin_spike_times
from .channels import CHANNEL_FAULTS, FrontEnd, SignalParams
from .cortex import CortexParams, DriftParams, MotorCortex, Tuning, drift_tuning, make_tuning
from .decoders import Decoder, NotFittedError, WienerFilter
from .health import CrossbarHealth, CrossbarVerifier, HealthReport, VerifyParams
from .kalman import KalmanFilter, ReFITKalmanFilter, SteadyStateKalmanFilter, reestimate_intention, rescale_speed
from .metrics import (
    dial_in_time,
    fitts_throughput,
    latency_summary,
    path_efficiency,
    success_rate,
    summarize,
    time_to_target,
)
from .protocol import DECODERS, BlockResult, SessionConfig, SessionResult, make_decoder, run_block, run_session
from .safety import FaultParams, SafeDecoder, SwitchEvent, poisson_binomial_tail, scan_threshold
from .spiking import (
    InputAdaptingSpikingDecoder,
    PlainSpikingDecoder,
    ReFITSpikingDecoder,
    SpikingCrossbarDecoder,
    SpikingDecoderParams,
    reference_decode,
)
from .spiking_energy import SpikingEnergyProfile, spiking_energy
from .task import CursorTask, TaskParams, TrialRecord, target_sequence
from .user import SimulatedUser, UserParams

_check_same_tree(__file__, "bci")

__all__ = [
    "bin_spike_times", "AIMCKalmanDecoder", "CHANNEL_FAULTS", "FrontEnd", "SignalParams",
    "CortexParams", "DriftParams", "MotorCortex", "Tuning", "drift_tuning", "make_tuning",
    "Decoder", "NotFittedError", "WienerFilter",
    "KalmanFilter", "ReFITKalmanFilter", "SteadyStateKalmanFilter", "reestimate_intention", "rescale_speed",
    "dial_in_time", "fitts_throughput", "latency_summary", "path_efficiency", "success_rate", "summarize",
    "time_to_target",
    "DECODERS", "BlockResult", "SessionConfig", "SessionResult", "make_decoder", "run_block", "run_session",
    "FaultParams", "SafeDecoder", "SwitchEvent", "poisson_binomial_tail", "scan_threshold",
    "VerifyParams", "CrossbarVerifier", "CrossbarHealth", "HealthReport",
    "SpikingCrossbarDecoder", "ReFITSpikingDecoder", "SpikingDecoderParams", "reference_decode",
    "PlainSpikingDecoder", "InputAdaptingSpikingDecoder", "SpikingEnergyProfile", "spiking_energy",
    "CursorTask", "TaskParams", "TrialRecord", "target_sequence",
    "SimulatedUser", "UserParams",
]
