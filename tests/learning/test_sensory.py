"""Sensory benchmark harness: data validation, counting against brute force, baseline, benchmark, registry, CLI."""

import json

import numpy as np
import pytest

from memr_snn.learning import sensory as S
from memr_snn.learning.surrogate import RSNNConfig, Weights, forward, map_to_crossbar


def _two_class_data(n_train=80, n_test=40, T=10, n_in=8, seed=0, name="toy"):
    """Class 0 fires on the first half of the channels, class 1 on the second half (Bernoulli, p = 0.4)."""
    rng = np.random.default_rng(seed)

    def make(n):
        y = np.arange(n) % 2
        p = np.full((n, 1, n_in), 0.02)
        p[y == 0, :, : n_in // 2] = 0.4
        p[y == 1, :, n_in // 2:] = 0.4
        return (rng.random((n, T, n_in)) < p).astype(np.uint8), y

    x_tr, y_tr = make(n_train)
    x_te, y_te = make(n_test)
    return S.ClassificationData(name=name, x_train=x_tr, y_train=y_tr, x_test=x_te, y_test=y_te, dt=1e-3,
                                n_classes=2, meta={"generator": "two-class toy", "seed": seed})


# ----------------------------------------------------------------- data validation
def test_classification_data_validates():
    d = _two_class_data()
    assert (d.T, d.n_in) == (10, 8)
    assert d.y_train.dtype == np.int64
    s = d.summary()
    assert s["n_train"] == 80 and s["n_test"] == 40 and s["duration_s"] == pytest.approx(0.01)
    json.dumps(s)
    good = dict(name="t", x_train=d.x_train, y_train=d.y_train, x_test=d.x_test, y_test=d.y_test, dt=1e-3,
                n_classes=2)
    bad_cases = [
        (dict(name=""), "name"),
        (dict(x_train=d.x_train[:, :, 0]), "x_train must have shape"),
        (dict(x_test=d.x_test[:, :, :4]), "share"),
        (dict(x_train=-d.x_train.astype(np.float32) - 1), ">= 0"),
        (dict(x_test=np.full(d.x_test.shape, np.nan)), "finite"),
        (dict(y_train=d.y_train[:-1]), "y_train must have shape"),
        (dict(y_test=d.y_test + 5), r"\[0, 1\]"),
        (dict(y_train=d.y_train + 0.5), "integer"),
        (dict(dt=0.0), "dt"),
        (dict(n_classes=1), "n_classes"),
        (dict(meta=[1]), "meta"),
        (dict(x_train=np.array(["a"] * 8).reshape(2, 2, 2)), "numbers"),
    ]
    for change, match in bad_cases:
        with pytest.raises(ValueError, match=match):
            S.ClassificationData(**{**good, **change})


# ----------------------------------------------------------------- counting
def _tiny_net(recurrent):
    rng = np.random.default_rng(5)
    cfg = RSNNConfig(n_in=4, n_rec=3, n_out=2, dt=1e-3, recurrent=recurrent)
    w_in = rng.uniform(0.3, 1.2, (3, 4))
    w_in[1, 2] = 0.0  # input 2 drives only 2 synapses
    w_in[:, 3] = 0.0  # input 3 drives none
    w_rec = None
    if recurrent:
        w_rec = rng.uniform(-0.2, 0.2, (3, 3))
        np.fill_diagonal(w_rec, 0.0)
        w_rec[0, 2] = 0.0
    w_out = rng.normal(size=(2, 3))
    return cfg, Weights(w_in=w_in, w_rec=w_rec, w_out=w_out, b_out=np.zeros(2))


@pytest.mark.parametrize("recurrent", [False, True])
def test_spike_statistics_against_brute_force(recurrent):
    """SynOps by walking every event and every synapse it reaches (the definition), input counts of 2 included."""
    cfg, w = _tiny_net(recurrent)
    rng = np.random.default_rng(1)
    x = rng.integers(0, 3, (5, 7, 4)).astype(np.uint8)
    st = S.spike_statistics(cfg, w, x, batch_size=2)
    z = forward(cfg, w, x.astype(float)).z  # (T, N, n_rec)
    synops = 0
    for n in range(5):
        for t in range(7):
            for i in range(4):
                for _ in range(int(x[n, t, i])):
                    synops += sum(1 for post in range(3) if w.w_in[post, i] != 0)
            for j in range(3):
                if z[t, n, j]:
                    synops += sum(1 for k in range(2) if w.w_out[k, j] != 0)
                    if recurrent:
                        synops += sum(1 for post in range(3) if w.w_rec[post, j] != 0)
    assert st["synops"] == pytest.approx(synops / 5)
    assert st["input_spikes"] == pytest.approx(x.sum() / 5)
    assert st["hidden_spikes"] == pytest.approx(z.sum() / 5)
    assert st["neuron_updates"] == (3 + 2) * 7
    assert st["hidden_rate_hz"] == pytest.approx(z.sum() / 5 / (3 * 7 * 1e-3))
    with pytest.raises(ValueError, match="n_in=4"):
        S.spike_statistics(cfg, w, x[:, :, :3])


@pytest.mark.parametrize("recurrent", [False, True])
def test_device_read_energy_against_brute_force(recurrent):
    """Every spike reads each device of each synapse in its column once: V^2 * G * t_read per device."""
    cfg, w = _tiny_net(recurrent)
    net = map_to_crossbar(cfg, w, "hfox_rram", seed=3)
    rng = np.random.default_rng(2)
    x = rng.integers(0, 2, (4, 6, 4)).astype(np.uint8)
    st = S.spike_statistics(cfg, w, x)
    z = forward(cfg, w, x.astype(float)).z
    energy = 0.0
    layers = {name: (net.synapses[name], state, state.read_conductances(0.0)) for name, state in net.layers.items()}
    for n in range(4):
        for t in range(6):
            events = [("w_in", i, x[n, t, i]) for i in range(4)]
            events += [(name, j, z[t, n, j]) for j in range(3) for name in ("w_out", "w_rec") if name in layers]
            for name, pre, count in events:
                (pres, _), state, g = layers[name]
                for s in np.flatnonzero(pres == pre):
                    energy += count * state.v_read ** 2 * state.t_read * (g[2 * s] + g[2 * s + 1])
    assert S.device_read_energy(net, st) == pytest.approx(energy / 4, rel=1e-12)
    # the read pulse of the preset: 0.2 V, 20 ns; conductances within [g_min, g_max]-ish of HfOx (5-100 uS)
    assert layers["w_in"][1].v_read == 0.2 and layers["w_in"][1].t_read == 2e-8


# ----------------------------------------------------------------- baseline
def test_logistic_baseline_separable_and_binned():
    d = _two_class_data(n_train=60, n_test=30)
    b = S.logistic_baseline(d)
    assert b["accuracy"] >= 0.95 and b["features"] == 8 and b["bins"] == 1
    b3 = S.logistic_baseline(d, bins=3)
    assert b3["features"] == 24 and b3["bins"] == 3
    # bins beyond T are clipped to T
    assert S.logistic_baseline(d, bins=50)["features"] == 8 * d.T
    np.testing.assert_array_equal(S._binned_counts(d.x_test, 2)[:, :8] + S._binned_counts(d.x_test, 2)[:, 8:],
                                  d.x_test.sum(axis=1))
    with pytest.raises(ValueError, match="bins"):
        S.logistic_baseline(d, bins=0)


def test_baseline_at_chance_on_uninformative_data():
    """Labels independent of the inputs: the baseline must not beat chance by much (tests a real fit, no leakage)."""
    rng = np.random.default_rng(7)
    x = (rng.random((400, 5, 6)) < 0.3).astype(np.uint8)
    y = rng.integers(0, 2, 400)
    d = S.ClassificationData(name="noise", x_train=x[:200], y_train=y[:200], x_test=x[200:], y_test=y[200:],
                             dt=1e-3, n_classes=2)
    # 200 test samples at p = 0.5: std 0.035, so 0.65 is > 4 standard deviations
    assert S.logistic_baseline(d)["accuracy"] < 0.65


# ----------------------------------------------------------------- the benchmark
@pytest.fixture(scope="module")
def toy_result():
    d = _two_class_data()
    return S.run_classification_benchmark(d, seeds=(0, 1), hidden=16, epochs=3, lr=1e-2, batch_size=16,
                                          device_seeds=(0, 1), read_noise="static", progress=False)


def test_benchmark_learns_and_reports(toy_result):
    r = toy_result
    s = r.summary()
    assert s["float_accuracy_mean"] >= 0.9, [x.test_accuracy for x in r.seeds]
    assert s["mapped_n"] == 4 and all(len(x.mapped_accuracy) == 2 for x in r.seeds)
    assert s["mapped_accuracy_mean"] >= 0.8
    assert s["baseline_accuracy"] >= 0.9
    assert s["float_accuracy_std"] == pytest.approx(np.std([x.test_accuracy for x in r.seeds]))
    for x in r.seeds:
        assert x.stats["neuron_updates"] == (16 + 2) * 10
        assert x.energy_digital_J == pytest.approx(x.stats["synops"] * 27.1e-12 + x.stats["neuron_updates"] * 81e-12)
        assert x.energy_device_J > x.stats["neuron_updates"] * 81e-12
        assert len(x.loss) == 3 and x.seconds_per_epoch > 0
    # the input spikes per sample are the data's, independent of the network
    d = _two_class_data()
    assert s["input_spikes_per_sample"] == pytest.approx(d.x_test.sum() / d.x_test.shape[0])


def test_result_json_and_markdown(toy_result, tmp_path):
    doc = json.loads(json.dumps(toy_result.to_dict()))
    assert doc["task"]["name"] == "toy" and doc["settings"]["seeds"] == [0, 1]
    assert doc["energy_model"]["e_synop"] == 27.1e-12
    assert len(doc["seeds"]) == 2 and "mapped_accuracy" in doc["seeds"][0]
    md = toy_result.format()
    for row in ("test accuracy, float", "mapped to hfox_rram", "logistic regression", "synaptic operations / sample",
                "energy / sample", "training time / epoch"):
        assert row in md
    j, m = S.write_results(toy_result, tmp_path / "out", command="memr-snn bench toy")
    assert json.loads(j.read_text())["command"] == "memr-snn bench toy"
    assert m.read_text() == md


def test_benchmark_is_seeded():
    d = _two_class_data(n_train=30, n_test=10, T=5)
    kw = dict(seeds=(3,), hidden=8, epochs=1, device_seeds=(0,), read_noise="off", baseline=False, progress=False)
    a = S.run_classification_benchmark(d, **kw).seeds[0]
    b = S.run_classification_benchmark(d, **kw).seeds[0]
    assert a.loss == b.loss and a.test_accuracy == b.test_accuracy and a.mapped_accuracy == b.mapped_accuracy
    assert a.stats == b.stats


def test_benchmark_bad_settings_fail_before_training():
    d = _two_class_data(n_train=10, n_test=4, T=3)
    for kw, match in [(dict(seeds=()), "seeds"), (dict(seeds=(0, 0)), "distinct"), (dict(seeds=(-1,)), "seeds"),
                      (dict(hidden=0), "hidden"), (dict(epochs=0), "epochs"), (dict(lr=-1.0), "lr"),
                      (dict(loss="mse"), "loss"), (dict(read_noise="loud"), "read_noise"),
                      (dict(device_seeds=()), "device_seeds"), (dict(baseline_bins=0), "baseline_bins"),
                      (dict(preset="no_such_device"), "no_such_device")]:
        with pytest.raises((ValueError, FileNotFoundError), match=match):
            S.run_classification_benchmark(d, progress=False, **kw)


def test_energy_model_validates():
    with pytest.raises(ValueError, match="e_synop"):
        S.EnergyModel(e_synop=-1.0)


# ----------------------------------------------------------------- registry
def test_registry(monkeypatch):
    # a fresh registry and a table of two built-in tasks, one whose module is missing
    from memr_snn.learning.tasks import BUILTIN_TASKS, TaskSpec

    monkeypatch.setattr(S, "SENSORY_TASKS", {})
    monkeypatch.setattr(S, "TASK_DEFAULTS", {})
    monkeypatch.setattr(S, "BUILTIN_TASKS", {"digits": BUILTIN_TASKS["digits"],
                                             "ghost-task": TaskSpec("memr_snn.encoders.datasets.no_such_module_xyz:f",
                                                                    dict)})
    assert "digits" in S.list_tasks() and "ghost-task" in S.list_tasks()
    with pytest.raises(ValueError, match=r"unknown task 'nope'; known tasks: digits, ghost-task"):
        S.get_task("nope")
    with pytest.raises(ValueError, match="not available"):
        S.get_task("ghost-task")
    with pytest.raises(ValueError, match="already registered"):  # a built-in name, even before it is loaded
        S.register_task("digits", lambda **kw: None)
    assert S.get_task("digits") is BUILTIN_TASKS["digits"].load()
    assert S.TASK_DEFAULTS["digits"]["epochs"] == 40

    def loader(*, quick=False):
        return _two_class_data(n_train=20, n_test=10, T=4, name="toy")

    S.register_task("toy", loader, defaults={"hidden": 8, "epochs": 2})
    assert S.get_task("toy") is loader
    S.register_task("toy", loader)  # the same loader again is fine
    with pytest.raises(ValueError, match="already registered"):
        S.register_task("toy", lambda **kw: None)
    with pytest.raises(ValueError, match="task name"):
        S.register_task("Bad Name", loader)
    with pytest.raises(ValueError, match="unknown settings"):
        S.register_task("toy2", loader, defaults={"hiden": 3})
    r = S.run_task("toy", seeds=(0,), device_seeds=(0,), read_noise="off", baseline=False, progress=False)
    assert r.settings["hidden"] == 8 and r.settings["epochs"] == 2
    S.register_task("broken", lambda *, quick=False: 42)
    with pytest.raises(TypeError, match="not ClassificationData"):
        S.run_task("broken")


def test_builtin_task_table():
    """Every built-in task is declared in memr_snn.learning.tasks.BUILTIN_TASKS, with valid default settings;
    importing the learning package registers nothing by side effect."""
    from memr_snn.learning.tasks import BUILTIN_TASKS

    assert sorted(BUILTIN_TASKS) == ["digits", "dvs-digits", "spoken-digits"]
    known = set(S._keyword_params(S.run_classification_benchmark))
    for name, spec in BUILTIN_TASKS.items():
        assert set(spec.defaults()) <= known, name
        assert spec.defaults() is not spec.defaults()  # a fresh dict each time
    with pytest.raises(TypeError):
        BUILTIN_TASKS["x"] = BUILTIN_TASKS["digits"]  # read-only
    assert set(S.list_tasks()) >= set(BUILTIN_TASKS)


def test_digits_task_quick_subset():
    d = S.get_task("digits")(quick=True)
    assert d.x_train.shape == (200, 20, 64) and d.x_test.shape == (100, 20, 64) and d.n_classes == 10
    fresh = d.resample(np.random.default_rng(0))
    assert fresh.shape == d.x_train.shape and not np.array_equal(fresh, d.x_train)
    # fresh draws follow the same per-pixel rates as the stored ones (Bernoulli means, 200*20*64 draws)
    assert abs(fresh.mean() - d.x_train.mean()) < 0.01


# ----------------------------------------------------------------- CLI
def test_cli_bench_task_end_to_end(tmp_path, capsys):
    from memr_snn.cli import main

    out = tmp_path / "res"
    rc = main(["bench", "digits", "--quick", "--seeds", "0", "1", "--device-seeds", "0", "--read-noise", "static",
               "--baseline-bins", "2", "--out", str(out)])
    assert rc == 0
    doc = json.loads((out / "results.json").read_text())
    assert doc["task"]["name"] == "digits" and doc["task"]["n_train"] == 200
    assert doc["settings"]["epochs"] == 1 and doc["settings"]["hidden"] == 32 and doc["settings"]["seeds"] == [0, 1]
    assert doc["baseline"]["bins"] == 2 and doc["baseline"]["features"] == 128
    assert 0.0 <= doc["summary"]["float_accuracy_mean"] <= 1.0
    assert (out / "results.md").read_text() in capsys.readouterr().out
    # --quick results are labelled as a smoke test, in the file and in the report
    assert doc["smoke_test"] is True
    assert "--quick smoke test" in (out / "results.md").read_text()


def test_cli_bench_errors(capsys, monkeypatch):
    from memr_snn import bench as benchmarking
    from memr_snn.cli import main

    assert main(["bench", "no-such-task"]) == 2
    err = capsys.readouterr().err
    assert "unknown task 'no-such-task'" in err and "digits" in err
    assert main(["bench", "--seeds", "0"]) == 2
    assert "need a sensory TASK" in capsys.readouterr().err
    assert main(["bench", "digits", "--sizes", "100"]) == 2
    assert "simulator speed benchmark only" in capsys.readouterr().err
    calls = []
    monkeypatch.setattr(benchmarking, "main", lambda args: calls.append(args) or 0)
    assert main(["bench", "--quick"]) == 0  # no task: the simulator benchmark, as before
    assert len(calls) == 1 and calls[0].quick and calls[0].task is None
