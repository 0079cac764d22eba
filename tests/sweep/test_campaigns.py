"""The built-in fault-injection experiments (tiny points) and growing a results folder."""

import math
import statistics

import numpy as np
import pytest

pytest.importorskip("pyarrow")

from memr_snn.sweep import (  # noqa: E402
    BUILTIN_EXPERIMENTS,
    SerialExecutor,
    SweepFolderError,
    SweepSpec,
    comparable,
    load_config,
    read_results,
    resolve_experiment,
    run_sweep,
    sweep_status,
)
from memr_snn.sweep.campaigns_sensory import (  # noqa: E402
    flip_bits,
    quantize_codes,
    sensory_bit_flips,
    sensory_faults,
    trained_network,
    worn_probability,
)

TINY = {"quick": True, "hidden": 8, "epochs": 1}
#: one tiny point of every new built-in: (experiment, grid axis and its values, fixed parameters)
TINY_POINTS = [
    ("sensory-faults", ("stuck_rate", (0.0, 0.1)), {"task": "dvs-digits", **TINY}),
    ("sensory-faults", ("drift_time", (1.0, 3.0e7)), {"task": "spoken-digits", "drift_compensation": True, **TINY}),
    ("sensory-bit-flips", ("bit_flip_rate", (0.0, 0.01)), {"task": "dvs-digits", **TINY}),
    ("aimc-drift", ("drift_time", (1.0, 86400.0)), {"hidden": 8, "epochs": 2}),
    ("bci-unit-loss", ("loss_fraction", (0.0, 0.5)), {"hard": False}),
]


@pytest.mark.parametrize("experiment, axis, fixed", TINY_POINTS, ids=[f"{e}-{a[0]}" for e, a, _ in TINY_POINTS])
def test_each_new_builtin_runs_a_tiny_sweep_with_finite_metrics(tmp_path, experiment, axis, fixed):
    spec = SweepSpec(experiment, grid=(axis,), fixed=tuple(fixed.items()), seeds=1, root_seed=5, common_seeds=True)
    summary = run_sweep(spec, tmp_path / "r", SerialExecutor(), progress=False)
    assert (summary.ok, summary.failed) == (2, 0)
    rows = read_results(tmp_path / "r").to_pylist()
    entry = BUILTIN_EXPERIMENTS[experiment]
    for row in rows:
        metrics = {k: v for k, v in row.items() if k.startswith("metric.")}
        assert f"metric.{entry.metric}" in metrics
        assert all(isinstance(v, (int, float)) and math.isfinite(v) for v in metrics.values()), metrics
    assert 0.0 <= rows[0][f"metric.{entry.metric}"] <= 1.0


@pytest.mark.parametrize("experiment", ["sensory-faults", "sensory-bit-flips", "aimc-drift", "bci-unit-loss"])
def test_bad_parameter_names_of_the_new_builtins_are_refused_before_work(tmp_path, experiment):
    exp = resolve_experiment(experiment)
    assert not exp.accepts_any
    spec = SweepSpec(experiment, grid=(("fault_level", (0.0, 0.1)),), seeds=1)
    with pytest.raises(ValueError, match=r"has no parameter\(s\) \['fault_level'\]; its parameters: "):
        run_sweep(spec, tmp_path / "r", SerialExecutor(), progress=False)
    assert not (tmp_path / "r").exists()


# --------------------------------------------------------------------------- fault level 0 = fault-free
def test_stuck_rate_zero_equals_the_fault_free_mapping():
    """No stuck and no worn device gives exactly the accuracy of the network mapped on the preset without faults
    (its own 9.8 % stuck devices removed), computed here through the learning layer directly."""
    import dataclasses

    from memr_snn.devices import StuckFaults
    from memr_snn.devices.presets import load_preset
    from memr_snn.learning.surrogate import evaluate_mapped
    from memr_snn.sweep.campaigns_sensory import _seeds

    seed = 77
    got = sensory_faults(seed=seed, task="dvs-digits", stuck_rate=0.0, endurance_cycles_used=0.0, **TINY)
    net_seed, dev_seed, _ = _seeds(seed)
    net, data, x, loss = trained_network("dvs-digits", True, 8, 1, net_seed)
    clean = dataclasses.replace(load_preset("hfox_rram"), faults=StuckFaults())
    ref = evaluate_mapped(net.config, net.weights, x, data.y_test, clean, device_seeds=(dev_seed,), loss=loss,
                          read_noise="static", program="verify")
    assert got["accuracy"] == ref["accuracy"][0]
    assert got["faulty_fraction"] == 0.0 and got["worn_probability"] == 0.0


def test_stuck_and_worn_devices_match_their_rates():
    r = sensory_faults(seed=3, task="dvs-digits", stuck_rate=0.1, **TINY)
    n = r["devices"]
    assert abs(r["faulty_fraction"] - 0.1) < 4 * math.sqrt(0.1 * 0.9 / n)
    # hfox_rram: median budget 1e6 cycles, log-normal sigma 0.5: half the devices are worn out at 1e6
    r = sensory_faults(seed=3, task="dvs-digits", endurance_cycles_used=1e6, **TINY)
    assert r["worn_probability"] == pytest.approx(0.5)
    assert abs(r["faulty_fraction"] - 0.5) < 4 * math.sqrt(0.25 / r["devices"])


def test_worn_probability_is_the_log_normal_cdf():
    from memr_snn.devices.endurance import Endurance

    e = Endurance(cycles=1e6, cycles_d2d=0.5)
    for n in (1e4, 3e5, 1e6, 2e6, 1e8):
        ref = statistics.NormalDist(math.log(1e6), 0.5).cdf(math.log(n))
        assert worn_probability(e, n) == pytest.approx(ref, rel=1e-12, abs=1e-15)  # NormalDist: 0 below 1e-16
    assert worn_probability(e, 0.0) == 0.0
    assert worn_probability(Endurance(cycles=10.0), 10.0) == 1.0 and worn_probability(Endurance(cycles=10.0), 9.9) == 0
    assert worn_probability(Endurance(), 1e30) == 0.0  # unlimited


def test_drift_compensation_undoes_most_of_a_year_of_pcm_drift():
    """PCM drifts every conductance down by ~(t/t0)^-nu; the global compensation (an all-ones reference read at
    programming) rescales the reads, so the weights' error shrinks."""
    kw = {"seed": 4, "task": "dvs-digits", "preset": "pcm_aihwkit", "drift_time": 3.15e7, **TINY}
    off = sensory_faults(drift_compensation=False, **kw)
    on = sensory_faults(drift_compensation=True, **kw)
    assert on["weight_rmse"] < 0.7 * off["weight_rmse"]


def test_bit_flip_rate_zero_is_the_quantized_network_and_flip_bits_matches_twos_complement():
    r = sensory_bit_flips(seed=2, task="dvs-digits", bit_flip_rate=0.0, **TINY)
    assert r["accuracy"] == r["quantized_accuracy"] and r["flipped_fraction"] == 0.0 and r["accuracy_drop"] == 0.0
    codes = np.arange(-127, 128)
    same, k = flip_bits(codes, 8, 0.0, np.random.default_rng(0))
    assert k == 0 and np.array_equal(same, codes)
    # flipping every bit of an 8-bit two's-complement word is bitwise NOT: x -> -x - 1
    inverted, k = flip_bits(codes, 8, 1.0, np.random.default_rng(0))
    assert k == 8 * codes.size and np.array_equal(inverted, -codes - 1)
    # a higher rate with the same generator flips a superset of the bits
    a, _ = flip_bits(codes, 8, 0.05, np.random.default_rng(9))
    b, _ = flip_bits(codes, 8, 0.2, np.random.default_rng(9))
    fa, fb = (a ^ codes) & 0xFF, (b ^ codes) & 0xFF
    assert np.all(fa & fb == fa) and fb.sum() > fa.sum()
    w = np.array([[0.5, -1.0], [0.25, 0.0]])
    q, scale = quantize_codes(w, 8)
    assert scale == 1.0 / 127 and np.array_equal(q, [[64, -127], [32, 0]])


def test_bad_values_of_the_new_experiments_name_the_parameter():
    with pytest.raises(ValueError, match="task must be one of"):
        sensory_faults(seed=0, task="mnist")
    with pytest.raises(ValueError, match="stuck_rate"):
        sensory_faults(seed=0, stuck_rate=1.5)
    with pytest.raises(ValueError, match="read_mode must be one of"):
        sensory_faults(seed=0, read_mode="noisy")
    with pytest.raises(ValueError, match="bits must be in"):
        sensory_bit_flips(seed=0, bits=40)


def test_campaign_configs_in_examples_load_and_fit_their_experiments():
    from pathlib import Path

    configs = sorted((Path(__file__).parents[2] / "examples" / "sweeps").glob("*.toml"))
    assert len(configs) >= 6
    for path in configs:
        config = load_config(path)
        resolve_experiment(config.spec.experiment).check(config.spec)


# --------------------------------------------------------------------------- growing a folder
Q = "sweep.experiments_for_tests:quadratic"


def _grid(xs, seeds, common=True, **kw):
    return SweepSpec(Q, grid=(("x", xs),), fixed=(("offset", 1),), seeds=seeds, root_seed=21, common_seeds=common, **kw)


def test_a_folder_grows_with_new_grid_values_and_seeds_computing_only_the_new_points(tmp_path):
    small, big = _grid((0.0, 2.0), 2), _grid((0.0, 1.0, 2.0, 3.0), 3)
    assert run_sweep(small, tmp_path / "r", progress=False).ok == 4
    ran = []
    summary = run_sweep(big, tmp_path / "r", progress=False, on_row=lambda row: ran.append(row["key"]))
    assert (summary.n_points, summary.skipped, summary.ok) == (12, 4, 8) and len(ran) == 8
    run_sweep(big, tmp_path / "fresh", progress=False)
    grown, fresh = comparable(read_results(tmp_path / "r")), comparable(read_results(tmp_path / "fresh"))
    assert grown == fresh  # same rows, numbered by the grown plan
    st = sweep_status(tmp_path / "r")
    assert (st["points"], st["ok"], st["missing"]) == (12, 12, 0)
    import json

    manifest = json.loads((tmp_path / "r" / "sweep.json").read_text())
    assert manifest["spec"]["grid"]["x"] == [0.0, 1.0, 2.0, 3.0] and manifest["grown_from"][0]["n_points"] == 4


def test_growth_is_refused_when_old_points_would_change(tmp_path, monkeypatch):
    import memr_snn.sweep.runner as runner

    run_sweep(_grid((0.0, 2.0), 2, common=False), tmp_path / "r", progress=False)
    monkeypatch.setattr(runner, "execute_point", lambda *a, **k: pytest.fail("a point ran"))
    # without common seeds a value inserted before others moves them in the plan, hence changes their seeds
    with pytest.raises(SweepFolderError, match="does not grow: 2 of its points are not points of this sweep.*"
                                               "set common_seeds = true"):
        run_sweep(_grid((0.0, 1.0, 2.0), 2, common=False), tmp_path / "r", progress=False)
    with pytest.raises(SweepFolderError, match=r"fixed parameters \{'offset': 1\} there, \{'offset': 2\} here"):
        run_sweep(SweepSpec(Q, grid=(("x", (0.0, 2.0)),), fixed=(("offset", 2),), seeds=2, root_seed=21),
                  tmp_path / "r", progress=False)
    with pytest.raises(SweepFolderError, match="not points of this sweep"):  # a value removed
        run_sweep(_grid((0.0,), 2, common=False), tmp_path / "r", progress=False)
    monkeypatch.undo()
    # more seeds keep every old point's position and seed: the folder grows
    summary = run_sweep(_grid((0.0, 2.0), 4, common=False), tmp_path / "r", progress=False)
    assert (summary.skipped, summary.ok) == (4, 4)


def test_plot_defaults_to_a_numeric_swept_axis_and_a_log_axis_over_decades(tmp_path):
    import matplotlib.pyplot as plt

    from memr_snn.sweep import degradation_curves, plot_curves
    from memr_snn.sweep.report import default_axes

    spec = SweepSpec(Q, grid=(("offset", (False, True)), ("x", (1.0, 1e3, 1e6))), seeds=1, common_seeds=True)
    run_sweep(spec, tmp_path / "r", progress=False)
    assert default_axes(tmp_path / "r") == ("x", "even_seed")  # not the true/false axis
    curves = degradation_curves(read_results(tmp_path / "r"), "x", "y")
    axes = []
    real_subplots = plt.subplots

    def spy(*a, **k):
        fig, ax = real_subplots(*a, **k)
        axes.append(ax)
        return fig, ax

    import matplotlib

    matplotlib.use("Agg", force=False)
    plt.subplots = spy
    try:
        plot_curves(curves, "x", "y", tmp_path / "a.png")
        plot_curves(curves, "x", "y", tmp_path / "b.png", log_x=False)
    finally:
        plt.subplots = real_subplots
    assert [ax.get_xscale() for ax in axes] == ["log", "linear"]
