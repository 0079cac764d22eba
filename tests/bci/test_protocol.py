"""The protocol runner: seeded determinism, block order, multi-day drift, safety in the loop, bad configs."""

import numpy as np
import pytest
from memr_snn.bci import CortexParams, FaultParams, SafeDecoder, SessionConfig, TaskParams, run_session

SMALL = dict(cortex=CortexParams(n_units=48), observation_trials=8, closed_loop_blocks=2, trials_per_block=4)


def test_same_seed_same_session_and_different_seed_differs():
    cfg = SessionConfig(decoder="refit", **SMALL)
    a, b, c = run_session(cfg, seed=3), run_session(cfg, seed=3), run_session(cfg, seed=4)
    assert [x.kind for x in a.blocks] == ["observation", "closed_loop", "closed_loop"]
    for x, y in zip(a.blocks, b.blocks, strict=True):
        for name in ("counts", "intended", "velocity", "cursor", "target", "trial"):
            np.testing.assert_array_equal(getattr(x, name), getattr(y, name))
        assert {k: v for k, v in x.metrics.items() if not k.startswith("latency")} == \
               {k: v for k, v in y.metrics.items() if not k.startswith("latency")}
    assert not np.array_equal(a.blocks[0].counts, c.blocks[0].counts)


def test_block_arrays_are_consistent():
    res = run_session(SessionConfig(decoder="kf", **SMALL), seed=0)
    for blk in res.blocks:
        n = blk.n_bins
        assert blk.counts.shape == (n, 48) and blk.velocity.shape == (n, 2) and blk.in_target.shape == (n,)
        assert sum(r.n_bins for r in blk.records) == n
        # the cursor path is the integral of the velocity within a trial (the plant)
        for r in blk.records:
            sl = slice(r.first_bin, r.first_bin + r.n_bins)
            np.testing.assert_allclose(blk.cursor[sl][1:], np.clip(
                blk.cursor[sl][:-1] + 0.02 * blk.velocity[sl][:-1], -0.12, 0.12), atol=1e-12)
    obs = res.blocks[0]
    assert obs.metrics["success_rate"] == 1.0 and np.all(obs.latency == 0)


def test_multi_day_drift_and_recalibration():
    cfg = SessionConfig(decoder="sskf", days=2, recalibrate_daily=True, **SMALL)
    res = run_session(cfg, seed=1)
    assert [(b.kind, b.day) for b in res.blocks] == [("observation", 0), ("closed_loop", 0), ("closed_loop", 0),
                                                    ("observation", 1), ("closed_loop", 1), ("closed_loop", 1)]
    assert len(res.closed_loop(day=1)) == 2


def test_session_with_the_safety_layer_counts_every_bin():
    cfg = SessionConfig(decoder="kf", safety=FaultParams(), **SMALL)
    res = run_session(cfg, seed=2)
    assert isinstance(res.decoder, SafeDecoder)
    assert res.decoder.n_in == res.decoder.n_out


@pytest.mark.parametrize("kwargs, err, match", [
    ({"decoder": "lstm"}, ValueError, "decoder must be one of"),
    ({"days": 0}, ValueError, "days must be an integer >= 1"),
    ({"task": "centre"}, TypeError, "task must be a TaskParams"),
    ({"observation_movement_time": 4.8}, ValueError, "observation_movement_time .* must leave the hold"),
    ({"safety": 1.0}, TypeError, "safety must be a FaultParams"),
])
def test_bad_configs(kwargs, err, match):
    with pytest.raises(err, match=match):
        SessionConfig(**kwargs)


def test_random_target_task_runs():
    cfg = SessionConfig(task=TaskParams(kind="random", bin_width=0.05), decoder="wiener", **SMALL)
    res = run_session(cfg, seed=0)
    assert all(np.linalg.norm(r.target - r.start) >= 0.04 - 1e-12 for b in res.blocks for r in b.records)
