"""The stage protocol: what a pipeline needs from one of its stages.

A **stage** is one component of a perception -> control loop (an encoder, a spiking network, an AIMC
model, a readout, a controller, a plant).  The pipeline (:class:`memr_snn.pipeline.Pipeline`) calls it
on one time base; the stage itself never sees the clock except through its declared ``period``.

A stage exposes

``name`` : str
    Unique within the pipeline; other stages name it as their input source.
``kind`` : str
    One of :data:`KINDS` (used by reports and the timeline plot).
``period`` : float
    Seconds between two firings; an integer multiple of the pipeline's ``dt`` (checked before a run).
``latency`` : float
    Seconds between a firing and the moment its output becomes visible to the stages that read it;
    an integer multiple of ``dt``, ``>= 0``.  A zero latency means "visible in the same step"; a
    cycle of stages must contain at least one stage with a latency ``> 0``.
``phase`` : float, optional
    Offset of the firings [s]: the stage fires at ``phase``, ``phase + period``, ...; an integer multiple of
    ``dt`` smaller than ``period`` (default 0).  Staggering phases by the latencies lets a chain of stages
    with the same period pass a sample on within one period, as a real pipeline does.
``inputs`` : mapping str -> tuple of int or None
    The source stages it reads and the shape it expects from each (``None``: any shape).
``out_shape`` : tuple of int
    Shape of the array :meth:`step` returns (checked against the readers' ``inputs``).
``reset(seed) -> ndarray or None``
    Start again from the initial state, drawing any randomness from ``seed`` (an ``int`` the pipeline
    derives per stage from its own seed, :class:`numpy.random.SeedSequence`).  Returns the output seen
    by readers before the first firing becomes visible (``None``: zeros of ``out_shape``); a plant
    returns its first observation.
``step(inputs) -> ndarray``
    One firing: ``inputs`` maps each source name to the source's latest visible output (read-only;
    copy before keeping it); returns an array of ``out_shape``.
``state() -> dict`` and ``load_state(state)``
    Everything a checkpoint needs to continue bit for bit: a tree of dicts (string keys) whose leaves
    are numpy arrays, ``bytes``, or JSON values (numbers, strings, booleans, None, lists of them).
    ``load_state(stage.state())`` on a stage built the same way continues exactly.
``counters() -> dict`` (optional)
    Cumulative accounting since :meth:`reset`: ``energy_J`` (modelled hardware energy), ``writes``
    (device programming pulses), ``synops`` (synaptic operations) and any stage-specific numbers.

:class:`StageBase` implements the bookkeeping (validated name, kind, period, latency, inputs,
out_shape; empty state and counters) so that a concrete stage writes ``step`` and, when it has state,
``reset``/``state``/``load_state``.  Any object with these attributes and methods works as a stage
(:class:`Stage` is a :class:`typing.Protocol`, checked structurally); the spiking CartPole controller
of ``networks/`` is wrapped this way.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, Protocol, runtime_checkable

import numpy as np

__all__ = ["KINDS", "Stage", "StageBase", "check_stage"]

#: the kinds of stage a pipeline knows (reports group by them)
KINDS = ("encoder", "spiking", "aimc", "readout", "controller", "plant")


@runtime_checkable
class Stage(Protocol):
    """Structural type of a pipeline stage (module docstring)."""

    name: str
    kind: str
    period: float
    latency: float
    inputs: Mapping[str, tuple[int, ...] | None]
    out_shape: tuple[int, ...]

    def reset(self, seed: int) -> np.ndarray | None: ...

    def step(self, inputs: Mapping[str, np.ndarray]) -> np.ndarray: ...

    def state(self) -> dict: ...

    def load_state(self, state: dict) -> None: ...


def _shape(name: str, what: str, value) -> tuple[int, ...]:
    try:
        shape = tuple(int(v) for v in value)
    except TypeError:
        raise TypeError(f"stage {name!r}: {what} must be a tuple of ints, got {value!r}") from None
    if any(v < 1 for v in shape) or any(not isinstance(v, (int, np.integer)) or isinstance(v, bool) for v in value):
        raise ValueError(f"stage {name!r}: {what} must be a tuple of positive ints, got {value!r}")
    return shape


def _seconds(name: str, what: str, value, positive: bool) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"stage {name!r}: {what} must be a number of seconds, got {value!r}")
    v = float(value)
    if not math.isfinite(v) or (v <= 0 if positive else v < 0):
        raise ValueError(f"stage {name!r}: {what} = {value!r} s must be finite and {'> 0' if positive else '>= 0'}")
    return v


class StageBase:
    """Bookkeeping shared by the built-in stages (see the module docstring for the protocol).

    Parameters
    ----------
    name : str
        Unique name in the pipeline (1 to 64 characters, no ``/``).
    kind : str
        One of :data:`KINDS`.
    period : float
        Seconds between firings (> 0; a multiple of the pipeline's ``dt``).
    latency : float
        Seconds from a firing until its output is visible (>= 0; a multiple of ``dt``).
    phase : float
        Offset of the firings (>= 0, < ``period``; a multiple of ``dt``).
    inputs : mapping str -> shape or None
        Source stage name -> expected shape (``None``: any).
    out_shape : tuple of int
        Shape of the output.
    """

    def __init__(self, name: str, kind: str, *, period: float, latency: float = 0.0,
                 inputs: Mapping[str, Any] | None = None, out_shape=(1,), phase: float = 0.0) -> None:
        if not isinstance(name, str) or not 1 <= len(name) <= 64 or "/" in name or name != name.strip():
            raise ValueError(f"stage name must be a string of 1 to 64 characters without '/' or surrounding "
                             f"spaces, got {name!r}")
        if kind not in KINDS:
            raise ValueError(f"stage {name!r}: kind must be one of {KINDS}, got {kind!r}")
        self.name = name
        self.kind = kind
        self.period = _seconds(name, "period", period, positive=True)
        self.latency = _seconds(name, "latency", latency, positive=False)
        self.phase = _seconds(name, "phase", phase, positive=False)
        ins = {} if inputs is None else dict(inputs)
        for src, shp in ins.items():
            if not isinstance(src, str):
                raise TypeError(f"stage {name!r}: input names must be stage names (str), got {src!r}")
            ins[src] = None if shp is None else _shape(name, f"inputs[{src!r}]", shp)
        self.inputs = ins
        self.out_shape = _shape(name, "out_shape", out_shape)

    def reset(self, seed: int) -> np.ndarray | None:
        """Start again (stateless by default); the output seen before the first firing is zeros."""
        return None

    def step(self, inputs: Mapping[str, np.ndarray]) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    def state(self) -> dict:
        """Checkpoint state (none by default)."""
        return {}

    def load_state(self, state: dict) -> None:
        """Restore :meth:`state` (nothing by default)."""

    def counters(self) -> dict[str, float]:
        """Cumulative accounting since :meth:`reset` (none by default)."""
        return {}

    def __repr__(self) -> str:
        return (f"{type(self).__name__}(name={self.name!r}, kind={self.kind!r}, period={self.period!r}, "
                f"latency={self.latency!r}, phase={self.phase!r}, inputs={list(self.inputs)}, "
                f"out_shape={self.out_shape})")


def check_stage(obj: object) -> None:
    """Raise ``TypeError`` naming what is missing unless ``obj`` follows the stage protocol."""
    missing = [a for a in ("name", "kind", "period", "latency", "inputs", "out_shape", "reset", "step", "state",
                           "load_state") if not hasattr(obj, a)]
    if missing:
        raise TypeError(f"{obj!r} is not a pipeline stage: it lacks {missing} (see memr_snn.pipeline.stage)")
    for meth in ("reset", "step", "state", "load_state"):
        if not callable(getattr(obj, meth)):
            raise TypeError(f"stage {getattr(obj, 'name', obj)!r}: {meth} must be a method")
    if getattr(obj, "kind", None) not in KINDS:
        raise ValueError(f"stage {obj.name!r}: kind must be one of {KINDS}, got {obj.kind!r}")
