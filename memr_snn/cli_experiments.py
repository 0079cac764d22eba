"""The reference learning experiments of ``memr-snn experiment NAME`` (:mod:`memr_snn.cli.experiments`).

This module keeps the old import path; the code lives in the command-line package so that ``memr_snn.cli``
does not import back up into this module.
"""

from .cli.experiments import (  # noqa: F401
    EXPERIMENTS,
    _diehl_cook,
    _eprop,
    _eprop_vs_bptt,
    digits_main,
    run_experiment,
    sma,
)

__all__ = ["EXPERIMENTS", "run_experiment", "sma", "digits_main"]
