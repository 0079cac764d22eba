"""Parameter sweeps, Monte-Carlo and fault-injection campaigns, in one process or on a Dask cluster.

A sweep runs one experiment (a function ``f(*, seed, **params) -> metrics``) over a parameter grid and/or
random draws, several seeds each; every point's result is one Parquet row in a results folder, written as
the point finishes, so an interrupted sweep resumes where it stopped and a lost worker loses nothing::

    from memr_snn.sweep import DaskExecutor, SweepSpec, read_results, run_sweep

    spec = SweepSpec("cuba-stuck-faults", grid=(("fault_rate", (0.0, 0.05, 0.1, 0.2)),), seeds=5,
                     common_seeds=True)
    run_sweep(spec, "results/stuck", DaskExecutor())      # all cores; DaskExecutor("tcp://host:8786")
    table = read_results("results/stuck")                  # a pyarrow.Table, one row per point

Modules: :mod:`~memr_snn.sweep.spec` (what is computed, the seeds and keys), :mod:`~memr_snn.sweep.experiments`
(the built-in table and ``module:function`` experiments), :mod:`~memr_snn.sweep.runner` (executors and
:func:`run_sweep`), :mod:`~memr_snn.sweep.results` (the folder), :mod:`~memr_snn.sweep.report` (status,
degradation curves, plot, summary), :mod:`~memr_snn.sweep.config` (TOML config files),
:mod:`~memr_snn.sweep.campaigns`, :mod:`~memr_snn.sweep.campaigns_sensory` and
:mod:`~memr_snn.sweep.campaigns_systems` (the built-in experiments: CUBA, the sensory benchmarks, AIMC, BCI).
Needs the ``dask`` extra (pyarrow for the results; dask.distributed for :class:`DaskExecutor`).  Guide:
docs/sweeps.md.
"""

from .config import SweepConfig, load_config
from .experiments import BUILTIN_EXPERIMENTS, ExperimentEntry, resolve_experiment
from .report import degradation_curves, plot_curves, summary_markdown, sweep_status
from .results import SweepFolderError, comparable, read_results
from .runner import DaskExecutor, SchedulerUnreachableError, SerialExecutor, SweepSummary, execute_point, run_sweep
from .spec import Distribution, Point, SweepSpec, plan, point_key, spec_from_dict

__all__ = [
    "SweepSpec", "Distribution", "Point", "plan", "point_key", "spec_from_dict",
    "BUILTIN_EXPERIMENTS", "ExperimentEntry", "resolve_experiment",
    "run_sweep", "SerialExecutor", "DaskExecutor", "SchedulerUnreachableError", "SweepSummary", "execute_point",
    "read_results", "comparable", "SweepFolderError",
    "sweep_status", "degradation_curves", "plot_curves", "summary_markdown",
    "SweepConfig", "load_config",
]
