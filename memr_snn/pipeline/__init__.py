"""Hybrid perception -> control pipelines: encoders, spiking networks, AIMC models, readouts, controllers and
plants on one time base (``docs/pipeline.md``).

The stage protocol (:mod:`.stage`) is what a component must provide to run in a pipeline.
"""

from .stage import KINDS, Stage, StageBase, check_stage

__all__ = ["KINDS", "Stage", "StageBase", "check_stage"]
