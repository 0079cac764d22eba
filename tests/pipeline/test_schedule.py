"""The schedule: which stage fires at which step and which output it sees (pinned by hand), and the errors
raised before a run."""

from __future__ import annotations

import numpy as np
import pytest

from memr_snn.pipeline import FunctionStage, Pipeline, PipelineError, Schedule, StageBase

MS = 1e-3


def _fs(name, inputs=(), period=1 * MS, latency=0.0, shape=(1,), phase=0.0):
    return FunctionStage(name, lambda ins: np.zeros(shape), inputs={s: None for s in inputs}, out_shape=shape,
                         period=period, latency=latency, phase=phase)


def _loop():
    """sensor (P=2, L=1) -> ctrl (P=1, L=0) -> plant (P=4, L=2) -> sensor: a feedback loop."""
    return [_fs("plant", ["ctrl"], period=4 * MS, latency=2 * MS), _fs("sensor", ["plant"], period=2 * MS,
                                                                      latency=1 * MS),
            _fs("ctrl", ["sensor"], period=1 * MS)]


def test_schedule_pinned_by_hand():
    sch = Schedule(_loop(), dt=1 * MS)
    # ctrl has latency 0, so it runs before its reader plant in a step; the others read with a latency
    assert sch.hyperperiod == 4 and sch.rank == ("sensor", "ctrl", "plant")
    # step: [(stage, {source: firing step seen, -1 = initial output})], worked out from the definitions:
    # plant output of step 4k visible at 4k+2; sensor output of 2k visible at 2k+1; ctrl visible at once
    expected = {
        0: [("sensor", {"plant": -1}), ("ctrl", {"sensor": -1}), ("plant", {"ctrl": 0})],
        1: [("ctrl", {"sensor": 0})],
        2: [("sensor", {"plant": 0}), ("ctrl", {"sensor": 0})],
        3: [("ctrl", {"sensor": 2})],
        4: [("sensor", {"plant": 0}), ("ctrl", {"sensor": 2}), ("plant", {"ctrl": 4})],
        5: [("ctrl", {"sensor": 4})],
        6: [("sensor", {"plant": 4}), ("ctrl", {"sensor": 4})],
        7: [("ctrl", {"sensor": 6})],
    }
    table = sch.table(8)
    got: dict[int, list] = {}
    for row in table:
        got.setdefault(row["step"], []).append((row["stage"], row["sees"]))
    assert got == expected
    text = sch.format(5)
    assert "ctrl(sensor@-)" in text and "plant(ctrl@4)" in text
    assert sch.to_dict(4)["stages"]["plant"] == {"period_steps": 4, "latency_steps": 2, "phase_steps": 0,
                                                    "sources": ["ctrl"]}


def test_phases_pass_a_sample_down_a_chain_within_one_period():
    """sense (P=4, L=1) -> proc (P=4, L=1, phase 1) -> act (P=4, L=0, phase 2): by hand, the action of step 4k+2
    comes from the sample of step 4k; without phases it would wait one period per stage with a latency."""
    def chain(phases):
        return Schedule([_fs("sense", period=4 * MS, latency=1 * MS, phase=phases[0]),
                         _fs("proc", ["sense"], period=4 * MS, latency=1 * MS, phase=phases[1]),
                         _fs("act", ["proc"], period=4 * MS, phase=phases[2])], dt=1 * MS)

    sch = chain((0.0, 1 * MS, 2 * MS))
    assert [sch.fires(n) for n in range(5)] == [("sense",), ("proc",), ("act",), (), ("sense",)]
    assert [r["sees"] for r in sch.table(12) if r["stage"] == "proc"] == [{"sense": 0}, {"sense": 4}, {"sense": 8}]
    assert [r["sees"] for r in sch.table(12) if r["stage"] == "act"] == [{"proc": 1}, {"proc": 5}, {"proc": 9}]
    flat = chain((0.0, 0.0, 0.0))
    assert [r["sees"] for r in flat.table(12) if r["stage"] == "act"] == [{"proc": -1}, {"proc": 0}, {"proc": 4}]
    with pytest.raises(PipelineError, match=r"stage 'proc': phase = 0.004 s must be smaller than its period"):
        chain((0.0, 4 * MS, 0.0))


class _Probe(StageBase):
    """Outputs the step it fires at (counted from its period) and records the source steps it saw."""

    def __init__(self, name, inputs, period, latency, phase=0.0):
        super().__init__(name, "controller", period=period, latency=latency, inputs={s: (1,) for s in inputs},
                         out_shape=(1,), phase=phase)
        self.ph = round(phase / MS)
        self.k = 0
        self.seen = []
        self.steps = round(period / MS)

    def reset(self, seed):
        self.k, self.seen = 0, []
        return np.array([-1.0])

    def step(self, inputs):
        self.seen.append({s: int(v[0]) for s, v in inputs.items()})
        out = np.array([float(self.k * self.steps + self.ph)])
        self.k += 1
        return out


def test_run_sees_what_the_schedule_says():
    stages = [_Probe("plant", ["ctrl"], 4 * MS, 2 * MS), _Probe("sensor", ["plant"], 2 * MS, 1 * MS),
              _Probe("ctrl", ["sensor"], 1 * MS, 0.0), _Probe("slow", ["ctrl", "sensor"], 3 * MS, 5 * MS, 2 * MS),
              _Probe("late", ["slow"], 4 * MS, 1 * MS, 3 * MS)]
    pipe = Pipeline(stages, dt=1 * MS, seed=0)
    pipe.run(7)
    pipe.run(18)  # in two pieces: the same as one run
    for st in stages:
        want = [r["sees"] for r in pipe.schedule.table(25) if r["stage"] == st.name]
        assert st.seen == want, st.name
    assert pipe.firings.tolist() == [7, 13, 25, 8, 6]
    assert pipe.output("late")[0] == 23.0 and pipe.output("slow")[0] == 23.0


def test_zero_latency_order_follows_the_edges_not_the_list():
    sch = Schedule([_fs("c", ["b"]), _fs("b", ["a"]), _fs("a")], dt=1 * MS)
    assert sch.rank == ("a", "b", "c")
    assert sch.fires(0) == ("a", "b", "c")


@pytest.mark.parametrize(("stages", "match"), [
    ([_fs("a", period=1.5 * MS)], r"stage 'a': period = 0.0015 s is not an integer multiple of dt"),
    ([_fs("a", latency=0.5 * MS)], r"stage 'a': latency = 0.0005 s is not an integer multiple"),
    ([_fs("a", ["nope"])], r"stage 'a': input 'nope' is not a stage"),
    ([_fs("a"), _fs("a")], r"unique; repeated: \['a'\]"),
    ([_fs("a", ["c"]), _fs("b", ["a"]), _fs("c", ["b"])], r"cycle of stages without latency: (a|b|c) -> "),
    ([_fs("a", ["a"])], r"stage 'a' reads its own output with latency 0"),
])
def test_bad_pipelines_are_refused_before_running(stages, match):
    with pytest.raises(PipelineError, match=match):
        Schedule(stages, dt=1 * MS)


def test_shape_mismatch_names_both_stages():
    a = _fs("a", shape=(3,))
    b = FunctionStage("b", lambda ins: ins["a"], inputs={"a": (4,)}, out_shape=(4,), period=1 * MS)
    with pytest.raises(PipelineError, match=r"stage 'b': inputs\['a'\] expects shape \(4,\), but stage 'a' has "
                                            r"out_shape \(3,\)"):
        Pipeline([a, b], dt=1 * MS)


def test_a_cycle_with_latency_is_a_feedback_loop():
    sch = Schedule([_fs("a", ["b"]), _fs("b", ["a"], latency=1 * MS)], dt=1 * MS)
    assert sch.rank == ("a", "b")


def test_a_wrong_output_shape_is_caught_at_the_firing():
    bad = FunctionStage("bad", lambda ins: np.zeros(2), out_shape=(1,), period=1 * MS)
    pipe = Pipeline([bad], dt=1 * MS)
    with pytest.raises(PipelineError, match=r"stage 'bad' returned shape \(2,\) at step 0"):
        pipe.run(1)


def test_stage_parameters_are_validated():
    with pytest.raises(ValueError, match="stage 'x': period = -1"):
        _fs("x", period=-1)
    with pytest.raises(ValueError, match="kind must be one of"):
        StageBase("x", "robot", period=1.0)
    with pytest.raises(TypeError, match="is not a pipeline stage"):
        Schedule([object()], dt=1 * MS)
