"""Task state machine, simulated user, metrics and the input checks of sessions."""

import numpy as np
import pytest
from memr_snn.bci import (
    CursorTask,
    SimulatedUser,
    TaskParams,
    TrialRecord,
    UserParams,
    dial_in_time,
    fitts_throughput,
    path_efficiency,
    success_rate,
    target_sequence,
    time_to_target,
)
from memr_snn.bci._checks import n_bins_of
from memr_snn.bci.task import minimum_jerk_velocity


@pytest.mark.parametrize("user", [UserParams(), UserParams(forward_model=False, gain=3.0),
                                  UserParams(visual_delay=0.0, smoothing=0.0)])
def test_user_with_a_perfect_decoder_reaches_every_centre_out_target(user):
    """Decoded velocity = intended velocity: every one of the 8 targets is acquired, in order."""
    p = TaskParams()
    task = CursorTask(p)
    u = SimulatedUser(user, p.bin_width, rng=0)
    targets = p.centre_out_targets()
    for g in targets:
        u.reset(task.begin(g))
        while not task.advance(u.intend(task.position, g)):
            pass
    assert [r.success for r in task.records] == [True] * 8
    np.testing.assert_allclose([r.target for r in task.records], targets)
    assert max(r.acquire for r in task.records) < 2.0


def test_user_sees_the_cursor_late():
    """With a 200 ms delay (10 bins of 20 ms) and no forward model, the intention ignores a cursor
    jump for 10 bins and turns at the 11th."""
    u = SimulatedUser(UserParams(visual_delay=0.2, smoothing=0.0, forward_model=False), 0.02)
    u.reset([0.0, 0.0])
    g = np.array([0.1, 0.0])
    out = [u.intend([0.2, 0.0], g) for _ in range(11)]
    assert all(o[0] > 0 for o in out[:10]) and out[10][0] < 0
    f = SimulatedUser(UserParams(visual_delay=0.04, smoothing=0.0), 0.02)
    seen = [f.follow([float(k), 0.0])[0] for k in range(1, 5)]
    assert seen == [0.0, 0.0, 1.0, 2.0]


def test_hold_resets_when_the_cursor_leaves_and_timeout_fails():
    p = TaskParams(hold_time=0.1, timeout=1.0, bin_width=0.05)  # hold 2 bins, timeout 20 bins
    task = CursorTask(p)
    task.begin([0.08, 0.0])
    moves = [[1.6, 0.0], [0.0, 0.0], [0.8, 0.0], [-0.8, 0.0], [0.0, 0.0]]
    # bin 1: to x=0.08 (inside, entry at t=0.05); bin 2: still inside, the 2-bin hold is complete
    assert task.advance(moves[0]) is False
    assert task.advance(moves[1]) is True
    rec = task.records[-1]
    assert rec.success and rec.acquire == pytest.approx(0.05) and rec.first_entry == pytest.approx(0.05)
    task.begin([0.08, 0.0])
    assert not task.advance([1.6, 0.0])  # in at t=0.05
    assert not task.advance([0.8, 0.0])  # x=0.12: out (edge is 0.10)
    assert not task.advance([-0.8, 0.0])  # back in at t=0.15
    assert task.advance([0.0, 0.0])
    rec = task.records[-1]
    assert rec.acquire == pytest.approx(0.15) and rec.first_entry == pytest.approx(0.05)
    assert rec.path_length == pytest.approx(0.08 + 0.04 + 0.04)
    task.begin([0.08, 0.0])
    for _ in range(19):
        assert not task.advance([0.0, 0.0])
    assert task.advance([0.0, 0.0]) and not task.records[-1].success


def _rec(success, start, target, acquire, first, path):
    return TrialRecord(np.array(start, float), np.array(target, float), success, 10, first, acquire, path, 0)


def test_metrics_on_hand_records():
    recs = [_rec(True, [0, 0], [0.08, 0], 0.5, 0.3, 0.06), _rec(False, [0, 0], [0, 0.08], np.nan, np.nan, 0.2),
            _rec(True, [0, 0], [0, -0.08], 1.0, 1.0, 0.12)]
    assert success_rate(recs) == pytest.approx(2 / 3)
    np.testing.assert_allclose(time_to_target(recs), [0.5, 1.0])
    np.testing.assert_allclose(dial_in_time(recs), [0.2, 0.0])
    np.testing.assert_allclose(path_efficiency(recs, 0.02), [1.0, 0.5])
    # ID = log2(0.08 / 0.04 + 1) = log2(3) for both; throughput = mean(ID / MT)
    assert fitts_throughput(recs, 0.02) == pytest.approx(np.log2(3) * (1 / 0.5 + 1 / 1.0) / 2)


def test_minimum_jerk_bins_add_up_to_the_displacement():
    v = np.array([minimum_jerk_velocity([0, 0], [0.03, -0.04], 1.0, 0.02, k) for k in range(60)])
    np.testing.assert_allclose(v.sum(0) * 0.02, [0.03, -0.04], atol=1e-15)
    assert np.all(v[50:] == 0) and np.argmax(np.linalg.norm(v, axis=1)) in (24, 25)


def test_target_sequences():
    p = TaskParams()
    seq = target_sequence(p, 16, rng=0)
    for block in (seq[:8], seq[8:]):
        assert {tuple(np.round(t, 9)) for t in block} == {tuple(np.round(t, 9)) for t in p.centre_out_targets()}
    r = target_sequence(TaskParams(kind="random"), 100, rng=0)
    assert np.all(np.abs(r) <= 0.12 - 0.02)


@pytest.mark.parametrize("kwargs, match", [
    ({"bin_width": 0.01}, r"bin_width must lie in \[0.02, 0.05\] s"),
    ({"bin_width": 0.0225}, "whole number of 1 ms base steps, got 22.5 ms"),
    ({"hold_time": 6.0}, "hold_time .* must be shorter than timeout"),
    ({"kind": "spiral"}, "kind must be one of"),
    ({"target_distance": 0.2}, "must fit in the workspace"),
])
def test_task_params_validated(kwargs, match):
    with pytest.raises(ValueError, match=match):
        TaskParams(**kwargs)


def test_user_params_validated():
    with pytest.raises(ValueError, match=r"visual_delay must be finite and >= 0 \[s\], got -0.1"):
        UserParams(visual_delay=-0.1)


def test_bins_must_divide_the_session():
    assert n_bins_of(10.0, 0.02) == 500
    with pytest.raises(ValueError, match="bins of 30 ms do not divide a session of 10 s"):
        n_bins_of(10.0, 0.03)


def test_bin_spike_times():
    from memr_snn.bci import bin_spike_times

    counts = bin_spike_times([0.0, 0.019, 0.02, 0.05, 0.059], [0, 0, 1, 1, 1], n_units=2, duration=0.06,
                             bin_width=0.02)
    np.testing.assert_array_equal(counts, [[2, 0], [0, 1], [0, 2]])
    with pytest.raises(ValueError, match="bins of 20 ms do not divide a session of 0.07 s"):
        bin_spike_times([0.0], [0], 1, 0.07, 0.02)
    with pytest.raises(ValueError, match=r"times must lie in \[0, 0.06\) s, got 0.06 \(spike 1\)"):
        bin_spike_times([0.0, 0.06], [0, 0], 1, 0.06, 0.02)
    with pytest.raises(ValueError, match="one entry per spike, got 2 times and 1 units"):
        bin_spike_times([0.0, 0.01], [0], 1, 0.06, 0.02)
