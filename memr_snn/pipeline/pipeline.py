"""The pipeline: stages run on one time base by their schedule, with per-firing CPU time recorded.

Each step ``n`` runs the stages of :meth:`Schedule.fires` in order; a stage's inputs are the outputs of its
sources that :mod:`.schedule` says are visible (kept in a small ring buffer per stage, so nothing is
searched at run time).  Around every firing the pipeline reads the process CPU clock
(:func:`time.process_time_ns`); the time of a step not spent inside stages' ``step`` is the pipeline's
overhead (input gathering, buffering, the clock reads themselves).

Seeds: :meth:`Pipeline.reset` gives each stage the seed
``SeedSequence(seed, spawn_key=(crc32(stage name),)).generate_state(1)[0]``, so a stage's randomness
depends on the pipeline seed and its own name only (adding a stage does not change the others').

Checkpoints: :meth:`Pipeline.save` writes one file holding the step counter, the output ring buffers and
every stage's ``state()`` (:mod:`memr_snn.pipeline.checkpoint`); :meth:`Pipeline.load_state` on a pipeline
built the same way continues bit for bit.
"""

from __future__ import annotations

import time
import zlib
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from .checkpoint import load_tree, save_tree
from .schedule import PipelineError, Schedule

__all__ = ["Pipeline", "stage_seed"]


def stage_seed(seed: int, name: str) -> int:
    """The seed a pipeline seeded with ``seed`` gives to the stage called ``name`` (module docstring)."""
    ss = np.random.SeedSequence(int(seed), spawn_key=(zlib.crc32(name.encode()),))
    return int(ss.generate_state(1, dtype=np.uint32)[0])


class Pipeline:
    """Stages on one time base (``docs/pipeline.md``).

    Parameters
    ----------
    stages : sequence of Stage
        The stages (:mod:`memr_snn.pipeline.stage`); the order breaks ties in the firing order.
    dt : float
        Time step of the schedule [s]; every period and latency is a whole number of steps.
    seed : int
        Seed of the run (each stage gets its own, :func:`stage_seed`).
    record : bool
        Record the CPU time of every firing (the timeline, :meth:`timeline`); the per-stage and per-step
        totals are kept either way.

    Raises
    ------
    PipelineError
        Before anything runs, for the errors :class:`~memr_snn.pipeline.schedule.Schedule` lists.

    Examples
    --------
    >>> import numpy as np
    >>> from memr_snn.pipeline import Pipeline, FunctionStage
    >>> src = FunctionStage("src", lambda ins: np.ones(1), period=2e-3, kind="encoder")
    >>> acc = FunctionStage("acc", lambda ins: ins["src"] * 2, inputs={"src": (1,)}, period=1e-3, latency=1e-3)
    >>> p = Pipeline([src, acc], dt=1e-3, seed=0)
    >>> p.run(4)
    >>> p.output("acc")
    array([2.])
    """

    def __init__(self, stages: Sequence, dt: float, seed: int = 0, record: bool = True) -> None:
        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
            raise PipelineError(f"seed must be a non-negative integer, got {seed!r}")
        self.stages = list(stages)
        self.schedule = Schedule(self.stages, dt)
        self.dt = self.schedule.dt
        self.seed = int(seed)
        self.record = bool(record)
        self._index = {st.name: i for i, st in enumerate(self.stages)}
        sch = self.schedule
        # per stage: (stage, [(source name, source index, latency + phase, period, depth)], own P, depth, shape,
        # own phase)
        self._plan = []
        for st in self.stages:
            srcs = [(s, self._index[s], sch.latency[s] + sch.phase[s], sch.period[s], sch.depth(s))
                    for s in sch.sources[st.name]]
            self._plan.append((st, srcs, sch.period[st.name], sch.depth(st.name), tuple(st.out_shape),
                               sch.phase[st.name]))
        self.step_count = 0
        self._started = False

    # ------------------------------------------------------------------------------------------ state
    def reset(self, seed: int | None = None) -> None:
        """Reset every stage with its seed and clear the buffers and the accounting (step 0 again)."""
        if seed is not None:
            if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
                raise PipelineError(f"seed must be a non-negative integer, got {seed!r}")
            self.seed = int(seed)
        self._initial = []
        self._ring = []
        for st, _, _, depth, shape, _ in self._plan:
            init = st.reset(stage_seed(self.seed, st.name))
            init = np.zeros(shape) if init is None else np.array(init, dtype=np.float64)
            if init.shape != shape:
                raise PipelineError(f"stage {st.name!r}: reset returned an initial output of shape {init.shape}, "
                                    f"expected out_shape {shape}")
            self._initial.append(init)
            self._ring.append([init] * depth)
        self.step_count = 0
        n = len(self.stages)
        self.cpu_ns = np.zeros(n, dtype=np.int64)  # per stage, summed over firings
        self.firings = np.zeros(n, dtype=np.int64)
        self.step_cpu_ns = 0  # whole steps (stages + overhead)
        self._tl_step: list[np.ndarray] = []
        self._tl_stage: list[np.ndarray] = []
        self._tl_ns: list[np.ndarray] = []
        self._started = True

    def _inputs(self, srcs, n: int) -> dict[str, np.ndarray]:
        ins = {}
        for name, j, lat, per, depth in srcs:
            m = n - lat
            ins[name] = self._ring[j][(m // per) % depth] if m >= 0 else self._initial[j]
        return ins

    def run(self, n_steps: int) -> None:
        """Run ``n_steps`` steps (continuing; the first call resets with the pipeline's seed)."""
        if isinstance(n_steps, bool) or not isinstance(n_steps, (int, np.integer)) or n_steps < 0:
            raise PipelineError(f"n_steps must be an integer >= 0, got {n_steps!r}")
        if not self._started:
            self.reset()
        order, H = self.schedule.order, self.schedule.hyperperiod
        plan, ring = self._plan, self._ring
        clock = time.process_time_ns
        cpu = self.cpu_ns
        n0 = self.step_count
        rec = self.record
        tl_step, tl_stage, tl_ns = [], [], []
        t_loop = clock()
        for n in range(n0, n0 + int(n_steps)):
            for i in order[n % H]:
                st, srcs, per, depth, shape, ph = plan[i]
                ins = self._inputs(srcs, n)
                t0 = clock()
                out = st.step(ins)
                t1 = clock()
                out = np.array(out, dtype=np.float64)
                if out.shape != shape:
                    raise PipelineError(f"stage {st.name!r} returned shape {out.shape} at step {n}, "
                                        f"expected out_shape {shape}")
                out.setflags(write=False)  # readers get it as is: read-only
                ring[i][((n - ph) // per) % depth] = out
                cpu[i] += t1 - t0
                if rec:
                    tl_step.append(n)
                    tl_stage.append(i)
                    tl_ns.append(t1 - t0)
            self.step_count = n + 1
        self.step_cpu_ns += clock() - t_loop
        self.firings += np.bincount(np.asarray(tl_stage, dtype=np.int64), minlength=len(plan)) if rec else \
            self._count_firings(n0, int(n_steps))
        if rec and tl_step:
            self._tl_step.append(np.asarray(tl_step, dtype=np.int64))
            self._tl_stage.append(np.asarray(tl_stage, dtype=np.int64))
            self._tl_ns.append(np.asarray(tl_ns, dtype=np.int64))

    def _count_firings(self, n0: int, n_steps: int) -> np.ndarray:
        out = np.zeros(len(self.stages), dtype=np.int64)
        for i, (_, _, per, _, _, ph) in enumerate(self._plan):  # steps n0 <= n < n0 + n_steps with n = ph mod per
            out[i] = (n0 + n_steps - 1 - ph) // per - (n0 - 1 - ph) // per
        return out

    def run_for(self, duration: float) -> None:
        """Run ``duration`` seconds (a whole number of steps)."""
        from .schedule import steps_of

        self.run(steps_of("pipeline", "duration", float(duration), self.dt, 0))

    # ------------------------------------------------------------------------------------------ access
    def stage(self, name: str):
        """The stage called ``name``."""
        try:
            return self.stages[self._index[name]]
        except KeyError:
            raise KeyError(f"no stage named {name!r}; stages: {list(self._index)}") from None

    def output(self, name: str) -> np.ndarray:
        """The output of ``name``'s latest firing (its initial output before the first), a copy."""
        if not self._started:
            raise RuntimeError("the pipeline has not been reset or run yet")
        i = self._index[name]
        _, _, per, depth, _, ph = self._plan[i]
        k = (self.step_count - 1 - ph) // per
        return (self._ring[i][k % depth] if k >= 0 else self._initial[i]).copy()

    @property
    def t(self) -> float:
        """Time simulated so far [s]."""
        return self.step_count * self.dt

    def timeline(self) -> dict[str, np.ndarray]:
        """Every recorded firing: ``step``, ``stage`` (index into :attr:`stages`) and ``cpu_s`` arrays."""
        def cat(parts, dt):
            return np.concatenate(parts) if parts else np.zeros(0, dtype=dt)

        return {"step": cat(self._tl_step, np.int64), "stage": cat(self._tl_stage, np.int64),
                "cpu_s": cat(self._tl_ns, np.int64) * 1e-9}

    def counters(self) -> dict[str, dict[str, float]]:
        """Each stage's ``counters()`` (empty for stages without them)."""
        return {st.name: dict(st.counters()) if hasattr(st, "counters") else {} for st in self.stages}

    # ------------------------------------------------------------------------------------------ checkpoints
    def state(self) -> dict:
        """The checkpoint tree: step counter, seed, output buffers and every stage's ``state()``."""
        if not self._started:
            self.reset()
        return {"step": self.step_count, "seed": self.seed, "dt": self.dt, "names": list(self.schedule.names),
                "initial": {st.name: self._initial[i] for i, st in enumerate(self.stages)},
                "ring": {st.name: list(self._ring[i]) for i, st in enumerate(self.stages)},
                "stages": {st.name: st.state() for st in self.stages},
                "accounting": {"cpu_ns": self.cpu_ns, "firings": self.firings, "step_cpu_ns": self.step_cpu_ns}}

    def load_state(self, state: dict) -> None:
        """Continue from :meth:`state` (the same stages, names and time base; checked)."""
        if list(state["names"]) != list(self.schedule.names) or float(state["dt"]) != self.dt:
            raise PipelineError(f"checkpoint of stages {state['names']} at dt = {state['dt']} s does not fit this "
                                f"pipeline ({list(self.schedule.names)} at dt = {self.dt} s)")
        self.reset(int(state["seed"]))
        for i, st in enumerate(self.stages):
            st.load_state(state["stages"][st.name])
            self._initial[i] = np.asarray(state["initial"][st.name], dtype=np.float64)
            ring = [np.asarray(a, dtype=np.float64) for a in state["ring"][st.name]]
            if len(ring) != len(self._ring[i]) or any(a.shape != self._plan[i][4] for a in ring):
                raise PipelineError(f"stage {st.name!r}: the checkpoint's output buffer does not fit out_shape "
                                    f"{self._plan[i][4]}")
            self._ring[i] = ring
        self.step_count = int(state["step"])
        acc = state["accounting"]
        self.cpu_ns = np.asarray(acc["cpu_ns"], dtype=np.int64).copy()
        self.firings = np.asarray(acc["firings"], dtype=np.int64).copy()
        self.step_cpu_ns = int(acc["step_cpu_ns"])

    def save(self, path: str | Path) -> Path:
        """Write :meth:`state` to one ``.npz`` file (:mod:`memr_snn.pipeline.checkpoint`)."""
        return save_tree(path, self.state())

    def load(self, path: str | Path) -> None:
        """Continue from a file written by :meth:`save` on a pipeline built the same way."""
        self.load_state(load_tree(path))

    def __repr__(self) -> str:
        return (f"Pipeline({[st.name for st in self.stages]}, dt={self.dt!r}, seed={self.seed}, "
                f"step={self.step_count})")
