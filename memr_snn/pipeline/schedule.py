r"""The schedule of a pipeline: which stage fires at which step and which output of its sources it sees.

Time is counted in steps of ``dt`` (the pipeline's time base).  Stage :math:`s` has a period of
:math:`P_s` steps and a latency of :math:`L_s` steps (both declared in seconds, checked to be integer
multiples of ``dt``) and a phase of :math:`\phi_s < P_s` steps (an optional ``phase`` attribute, default 0).
It fires at the steps :math:`n = \phi_s + kP_s`, :math:`k = 0, 1, \dots`; its :math:`k`-th firing produces an
output that becomes *visible* at step :math:`\phi_s + kP_s + L_s`.  A stage firing at step :math:`m` sees, of
each source :math:`p`, the output of the latest firing that is visible by then, the firing index

.. math::  k_p(m) = \left\lfloor \frac{m - L_p - \phi_p}{P_p} \right\rfloor \quad (m \ge L_p + \phi_p),

and the source's initial output (what its ``reset`` returned, else zeros) while :math:`m < L_p + \phi_p`.
Within one step the stages fire in a fixed order: a topological order of the zero-latency edges
(a source with :math:`L_p = 0` fires before its readers in the same step), ties broken by the order
in which the stages were given.  A cycle whose stages all have zero latency has no such order and is
refused; a cycle with a latency somewhere is a feedback loop (the plant's observation of step
:math:`n` drives the action applied at step :math:`n + L`).

The pattern of firings repeats with the hyperperiod :math:`H = \mathrm{lcm}_s P_s`; the schedule is
computed once for one hyperperiod (:attr:`Schedule.order`) and :meth:`Schedule.table` lists, for any
number of steps, every firing with the firing step of each source output it sees.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from .stage import check_stage

__all__ = ["Schedule", "PipelineError", "steps_of"]

#: relative tolerance of "an integer multiple of dt"
_TOL = 1e-9


class PipelineError(ValueError):
    """A pipeline that cannot run (bad period or latency, unknown source, shape mismatch, zero-latency cycle);
    raised before any stage runs, naming the stage and the parameter."""


def steps_of(stage: str, what: str, seconds: float, dt: float, minimum: int) -> int:
    """``seconds / dt`` as an int, or a :class:`PipelineError` naming the stage and the parameter."""
    k = seconds / dt
    n = round(k)
    if abs(k - n) > _TOL * max(1.0, abs(k)):
        raise PipelineError(f"stage {stage!r}: {what} = {seconds!r} s is not an integer multiple of dt = {dt!r} s "
                            f"({k:.6g} steps); use a multiple such as {max(n, minimum) * dt!r} s")
    if n < minimum:
        raise PipelineError(f"stage {stage!r}: {what} = {seconds!r} s is {n} steps of dt = {dt!r} s; it must be "
                            f"at least {minimum} step{'s' if minimum != 1 else ''}")
    return int(n)


class Schedule:
    """The firing order and visibility rules of a list of stages on the time base ``dt`` (module docstring).

    Parameters
    ----------
    stages : sequence of Stage
        Stages with unique names; every input names one of them.
    dt : float
        Time step [s] (> 0).

    Raises
    ------
    PipelineError
        A period or latency that is not an integer multiple of ``dt`` (or a period of less than one step),
        a duplicate name, an unknown source, a source whose ``out_shape`` differs from the shape its reader
        expects, or a cycle of zero-latency stages; the message names the stage and the parameter.

    The dicts ``period``, ``latency`` and ``phase`` map each stage name to that value in steps.

    Attributes
    ----------
    names : tuple of str
        Stage names in the order given.
    sources : dict str -> tuple of str
        Each stage's inputs, in its declared order.
    rank : tuple of str
        The order in which stages that fire in the same step run.
    hyperperiod : int
        ``lcm`` of the periods [steps].
    order : tuple of tuple of int
        ``order[r]``: indices (into :attr:`names`) of the stages firing at every step ``n`` with
        ``n % hyperperiod == r``, in execution order.
    """

    def __init__(self, stages: Sequence, dt: float) -> None:
        if isinstance(dt, bool) or not isinstance(dt, (int, float, np.integer, np.floating)) \
                or not (math.isfinite(dt) and dt > 0):
            raise PipelineError(f"dt must be a finite number of seconds > 0, got {dt!r}")
        self.dt = float(dt)
        stages = list(stages)
        if not stages:
            raise PipelineError("a pipeline needs at least one stage")
        for st in stages:
            check_stage(st)
        names = [st.name for st in stages]
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            raise PipelineError(f"stage names must be unique; repeated: {dup}")
        self.names = tuple(names)
        by_name = {st.name: st for st in stages}
        self.period = {st.name: steps_of(st.name, "period", st.period, self.dt, 1) for st in stages}
        self.latency = {st.name: steps_of(st.name, "latency", st.latency, self.dt, 0) for st in stages}
        self.phase = {st.name: steps_of(st.name, "phase", getattr(st, "phase", 0.0), self.dt, 0) for st in stages}
        for n, ph in self.phase.items():
            if ph >= self.period[n]:
                raise PipelineError(f"stage {n!r}: phase = {ph * self.dt!r} s must be smaller than its period "
                                    f"({self.period[n] * self.dt!r} s)")
        self.sources = {}
        for st in stages:
            for src, shape in st.inputs.items():
                if src not in by_name:
                    raise PipelineError(f"stage {st.name!r}: input {src!r} is not a stage of the pipeline "
                                        f"(stages: {list(names)})")
                have = tuple(by_name[src].out_shape)
                if shape is not None and tuple(shape) != have:
                    raise PipelineError(f"stage {st.name!r}: inputs[{src!r}] expects shape {tuple(shape)}, but stage "
                                        f"{src!r} has out_shape {have}")
            self.sources[st.name] = tuple(st.inputs)
        self.rank = self._rank()
        self.hyperperiod = math.lcm(*self.period.values())
        pos = {n: i for i, n in enumerate(self.names)}
        ranked = [pos[n] for n in self.rank]
        self.order = tuple(tuple(i for i in ranked if (r - self.phase[self.names[i]]) % self.period[self.names[i]] == 0)
                           for r in range(self.hyperperiod))

    def _rank(self) -> tuple[str, ...]:
        """Kahn's algorithm on the zero-latency edges, ties by the given order; a leftover is a cycle."""
        deps = {n: {s for s in self.sources[n] if self.latency[s] == 0 and s != n} for n in self.names}
        for n in self.names:
            if n in self.sources[n] and self.latency[n] == 0:
                raise PipelineError(f"stage {n!r} reads its own output with latency 0 (a zero-latency cycle); give "
                                    f"it a latency of at least dt = {self.dt!r} s")
        done: list[str] = []
        left = list(self.names)
        while left:
            ready = [n for n in left if deps[n] <= set(done)]
            if not ready:
                cycle = self._find_cycle(deps, left)
                raise PipelineError("cycle of stages without latency: " + " -> ".join(cycle)
                                    + f"; give one of them a latency of at least dt = {self.dt!r} s")
            done.append(ready[0])
            left.remove(ready[0])
        return tuple(done)

    @staticmethod
    def _find_cycle(deps: dict[str, set[str]], left: list[str]) -> list[str]:
        """A cycle among ``left`` (each has an unfinished dependency), written source -> reader."""
        path = [left[0]]
        while True:
            nxt = next(d for d in sorted(deps[path[-1]], key=left.index) if d in left)
            if nxt in path:
                cyc = path[path.index(nxt):] + [nxt]
                return cyc[::-1]
            path.append(nxt)

    # ------------------------------------------------------------------------------------------ queries
    def fires(self, n: int) -> tuple[str, ...]:
        """Names of the stages firing at step ``n``, in execution order."""
        return tuple(self.names[i] for i in self.order[n % self.hyperperiod])

    def seen_index(self, source: str, n: int) -> int:
        """Firing index of ``source`` whose output a stage firing at step ``n`` sees (-1: the initial output)."""
        m = n - self.latency[source] - self.phase[source]
        return m // self.period[source] if m >= 0 else -1

    def seen_step(self, source: str, n: int) -> int:
        """Step at which that firing happened (-1: the initial output)."""
        k = self.seen_index(source, n)
        return k * self.period[source] + self.phase[source] if k >= 0 else -1

    def depth(self, source: str) -> int:
        """Outputs of ``source`` that can be visible or pending at once: the ring buffer a pipeline keeps (indexed by
        the firing index modulo the depth)."""
        return self.latency[source] // self.period[source] + 2

    def table(self, n_steps: int) -> list[dict]:
        """Every firing in steps ``0 .. n_steps - 1``: ``{"step", "stage", "sees": {source: firing step or -1}}``."""
        rows = []
        for n in range(int(n_steps)):
            for name in self.fires(n):
                rows.append({"step": n, "stage": name,
                             "sees": {s: self.seen_step(s, n) for s in self.sources[name]}})
        return rows

    def to_dict(self, n_steps: int | None = None) -> dict:
        """JSON-able description: dt, per stage period/latency [steps] and sources, order, and the table of the
        first ``n_steps`` steps (default one hyperperiod plus the longest latency)."""
        if n_steps is None:
            n_steps = self.hyperperiod + max(self.latency.values()) + max(self.phase.values())
        return {"dt": self.dt, "hyperperiod": self.hyperperiod, "rank": list(self.rank),
                "stages": {n: {"period_steps": self.period[n], "latency_steps": self.latency[n],
                               "phase_steps": self.phase[n], "sources": list(self.sources[n])} for n in self.names},
                "table": self.table(n_steps)}

    def format(self, n_steps: int | None = None) -> str:
        """A text table: one line per step, each firing as ``stage(source@step, ...)`` (``-`` = initial output)."""
        if n_steps is None:
            n_steps = self.hyperperiod + max(self.latency.values()) + max(self.phase.values())
        head = [f"dt = {self.dt:g} s, hyperperiod {self.hyperperiod} steps; stage: period, latency, phase [steps]"]
        head += [f"  {n}: P={self.period[n]}, L={self.latency[n]}, phase={self.phase[n]}, "
                 f"reads {list(self.sources[n]) or '-'}" for n in self.rank]
        lines = []
        for n in range(int(n_steps)):
            parts = []
            for name in self.fires(n):
                seen = ", ".join(f"{s}@{self.seen_step(s, n) if self.seen_step(s, n) >= 0 else '-'}"
                                 for s in self.sources[name])
                parts.append(f"{name}({seen})")
            lines.append(f"{n:>6}  " + ("  ".join(parts) if parts else "."))
        return "\n".join(head + lines)

    __str__ = format
