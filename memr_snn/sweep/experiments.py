"""The experiments a sweep can run: one explicit table of built-ins, or any importable ``"module:function"``.

An experiment is a function called with keyword arguments only::

    metrics = function(seed=1234567, **params)

``seed`` is an ``int`` in ``[0, 2**32)`` (:mod:`memr_snn.sweep.spec`), ``params`` the point's parameters;
it returns a mapping of metric names to numbers, booleans or strings (one row of the result table).  It
must be importable by name in every worker process (a module on the workers' ``sys.path``), and
deterministic given its arguments.

Built-ins are declared in :data:`BUILTIN_EXPERIMENTS` (nothing registers itself at import time); their
module is imported only when the experiment is used.
"""

from __future__ import annotations

import dataclasses
import importlib
import inspect
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from .spec import SweepSpec

__all__ = ["ExperimentEntry", "BUILTIN_EXPERIMENTS", "Experiment", "resolve_experiment", "check_metrics",
           "code_version"]


@dataclasses.dataclass(frozen=True)
class ExperimentEntry:
    """A built-in experiment of :data:`BUILTIN_EXPERIMENTS`.

    Attributes
    ----------
    target : str
        ``"module:function"`` of the function.
    description : str
        One line for ``memr-snn sweep list``.
    version : str
        Version of the function's results; part of every point's key (bump it when the results change).
    x : str
        The parameter a degradation curve puts on its x axis by default.
    metric : str
        The metric a degradation curve shows by default.
    """

    target: str
    description: str
    version: str
    x: str
    metric: str


#: name -> built-in experiment.  Add an entry here (and its function, importable by ``target``) to add one.
BUILTIN_EXPERIMENTS: dict[str, ExperimentEntry] = {
    "cuba-stuck-faults": ExperimentEntry(
        "memr_snn.sweep.campaigns:cuba_stuck_faults",
        "CUBA Vogels-Abbott network in device crossbars with stuck-at faults: mean-rate deviation "
        "from the fault-free network",
        "1", x="fault_rate", metric="rate_deviation"),
    "sensory-faults": ExperimentEntry(
        "memr_snn.sweep.campaigns_sensory:sensory_faults",
        "DVS digits / spoken digits / 8x8 digits SNN in device crossbars with stuck-at faults, drift (with or "
        "without compensation), worn-out devices or scaled read noise: test accuracy",
        "1", x="stuck_rate", metric="accuracy"),
    "sensory-bit-flips": ExperimentEntry(
        "memr_snn.sweep.campaigns_sensory:sensory_bit_flips",
        "DVS digits / spoken digits / 8x8 digits SNN with fixed-point weights whose stored bits flip: test accuracy",
        "1", x="bit_flip_rate", metric="accuracy"),
    "aimc-drift": ExperimentEntry(
        "memr_snn.sweep.campaigns_systems:aimc_drift",
        "AIMC MLP (8x8 digits) or CNN (DVS digits) on analog tiles: test accuracy vs time after programming, "
        "with and without drift compensation",
        "1", x="drift_time", metric="accuracy"),
    "bci-unit-loss": ExperimentEntry(
        "memr_snn.sweep.campaigns_systems:bci_unit_loss",
        "closed-loop BCI decoder: success rate after losing a fraction of the recorded units",
        "1", x="loss_fraction", metric="success_rate"),
}


@dataclasses.dataclass(frozen=True)
class Experiment:
    """A resolved experiment: its function and what it accepts."""

    name: str
    """As given in the spec (a built-in name or ``"module:function"``)."""
    target: str
    """``"module:function"``."""
    function: Callable[..., Mapping[str, Any]]
    parameters: dict[str, Any]
    """Keyword parameters besides ``seed`` -> default (``inspect.Parameter.empty``: required)."""
    accepts_any: bool
    """The function takes ``**kwargs`` (any parameter name is accepted)."""
    version: str
    """The built-in's version, or the spec's ``version`` for a ``module:function``."""
    entry: ExperimentEntry | None = None

    def check(self, spec: SweepSpec) -> None:
        """Refuse ``spec`` before any work if its parameters do not fit the function.

        Raises
        ------
        ValueError
            A parameter the function does not take (with the ones it takes), or a required one missing.
        """
        given = spec.parameter_names
        if not self.accepts_any:
            unknown = [n for n in given if n not in self.parameters]
            if unknown:
                raise ValueError(f"experiment {self.name!r} has no parameter(s) {unknown}; its parameters: "
                                 f"{sorted(self.parameters)}")
        missing = [n for n, d in self.parameters.items() if d is inspect.Parameter.empty and n not in given]
        if missing:
            raise ValueError(f"experiment {self.name!r} needs parameter(s) {missing} (in grid, random or fixed)")


_CACHE: dict[str, Experiment] = {}


def resolve_experiment(name: str, version: str = "") -> Experiment:
    """The experiment named ``name``: a key of :data:`BUILTIN_EXPERIMENTS` or ``"module:function"``.

    Parameters
    ----------
    name : str
        Built-in name or ``"package.module:function"``.
    version : str
        The code version of a ``module:function`` experiment (ignored for built-ins, which carry their own).

    Raises
    ------
    ValueError
        An unknown built-in, a malformed target, a module or attribute that cannot be imported, a function
        without a ``seed`` keyword.
    """
    cache_key = f"{name}\0{version}"
    if cache_key in _CACHE:
        return _CACHE[cache_key]
    entry = BUILTIN_EXPERIMENTS.get(name)
    if entry is None and ":" not in name:
        raise ValueError(f"unknown experiment {name!r}: built-ins are {sorted(BUILTIN_EXPERIMENTS)}, or give an "
                         "importable 'module:function'")
    target = entry.target if entry else name
    module_name, _, attr = target.partition(":")
    if not module_name or not attr or ":" in attr:
        raise ValueError(f"experiment {name!r}: expected 'module:function', e.g. 'mypackage.experiments:run'")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise ValueError(f"experiment {name!r}: cannot import module {module_name!r} ({exc})") from None
    function = module
    for part in attr.split("."):
        function = getattr(function, part, None)
        if function is None:
            raise ValueError(f"experiment {name!r}: module {module_name!r} has no attribute {attr!r}")
    if not callable(function):
        raise ValueError(f"experiment {name!r}: {target} is not callable")
    try:
        sig = inspect.signature(function)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"experiment {name!r}: cannot read the parameters of {target} ({exc})") from None
    params: dict[str, Any] = {}
    accepts_any = False
    has_seed = False
    for p in sig.parameters.values():
        if p.kind is p.VAR_KEYWORD:
            accepts_any = True
        elif p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY):
            if p.name == "seed":
                has_seed = True
            else:
                params[p.name] = p.default
    if not (has_seed or accepts_any):
        raise ValueError(f"experiment {name!r}: {target} must take a keyword argument 'seed'")
    exp = Experiment(name, target, function, params, accepts_any, entry.version if entry else version, entry)
    _CACHE[cache_key] = exp
    return exp


def code_version(experiment: Experiment) -> str:
    """``"memr_snn=<version>;experiment=<version>"``: the code version in every point's key."""
    from .. import __version__

    return f"memr_snn={__version__};experiment={experiment.version}"


def check_metrics(metrics: Any) -> dict[str, bool | int | float | str]:
    """An experiment's return value as a row's metrics: a mapping of str to number, bool or str.

    numpy scalars become Python scalars; NaN and infinities are kept (a diverged run is a result); integers
    beyond 64 bits become floats.

    Raises
    ------
    TypeError
        Not a mapping, a non-string name, or a value that is not a scalar.
    """
    if not isinstance(metrics, Mapping):
        raise TypeError(f"an experiment must return a mapping of metric name -> value, got {type(metrics).__name__}")
    out: dict[str, bool | int | float | str] = {}
    for k, v in metrics.items():
        if not isinstance(k, str) or not k:
            raise TypeError(f"metric names must be non-empty strings, got {k!r}")
        if isinstance(v, np.generic):
            v = v.item()
        if isinstance(v, int) and not isinstance(v, bool) and not -2**63 <= v < 2**63:
            v = float(v)
        if not isinstance(v, (bool, int, float, str)):
            raise TypeError(f"metric {k!r} must be a number, boolean or string, got {type(v).__name__}")
        out[k] = v
    return out
