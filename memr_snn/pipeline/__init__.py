"""Hybrid perception -> control pipelines: encoders, spiking networks, AIMC models, readouts, controllers and
plants on one time base (``docs/pipeline.md``).

* :mod:`.stage` -- the stage protocol (what a component provides to run in a pipeline) and :class:`StageBase`;
* :mod:`.schedule` -- which stage fires at which step and which output it sees (:class:`Schedule`);
* :mod:`.pipeline` -- :class:`Pipeline`: running, seeds, CPU-time accounting, checkpoints;
* :mod:`.bridges` -- spikes <-> dense values (counts, filtered rates, first-spike latency; rate, latency and
  delta encoders);
* :mod:`.stages` -- built-in stages (function, PID, encoder, AIMC model, spiking network);
* :mod:`.plant` -- gymnasium environments as plants (the ``control`` extra);
* :mod:`.envs` -- the DVS tracking task (``memr_snn/DVSTracking-v0``);
* :mod:`.estimators` -- model-based offset estimates for it (the spot template fitted to the event-implied image);
* :mod:`.fitstages` -- that estimate as pipeline stages around an AIMC stage computing its chord product;
* :mod:`.report` -- per-stage latency, energy and writes; summary table and timeline plot;
* :mod:`.tracking` -- the hybrid tracking example (DVS -> estimate with AIMC -> spiking stage -> PID -> eye) and its
  PID baselines;
* :mod:`.cartpole` -- the spiking CartPole controller on HfOx RRAM crossbars as a stage, with the CartPole-v1 plant.
"""

from .bridges import DeltaBridge, encode, exp_rate, first_spike_latency, spike_counts
from .pipeline import Pipeline, stage_seed
from .schedule import PipelineError, Schedule
from .stage import KINDS, Stage, StageBase, check_stage
from .stages import AIMCStage, EncoderStage, FunctionStage, PIDStage, SpikingStage, WindowSumStage

__all__ = ["KINDS", "Stage", "StageBase", "check_stage", "Schedule", "PipelineError", "Pipeline", "stage_seed",
           "spike_counts", "exp_rate", "first_spike_latency", "encode", "DeltaBridge", "FunctionStage", "PIDStage",
           "EncoderStage", "AIMCStage", "SpikingStage", "WindowSumStage", "PlantStage", "TrackingScene",
           "TrackingParams"]


def __getattr__(name):  # the plant and the environment import gymnasium only when used
    if name == "PlantStage":
        from .plant import PlantStage

        return PlantStage
    if name in ("TrackingScene", "TrackingParams"):
        from . import envs

        return getattr(envs, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
