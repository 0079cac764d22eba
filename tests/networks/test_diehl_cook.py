"""Diehl & Cook (2015) on scikit-learn's 8x8 digits: data split, labelling, a reduced run, bad input."""

import numpy as np
import pytest

pytest.importorskip("sklearn", reason="scikit-learn is not installed (pip install '.[datasets]')")

from memr_snn.networks.diehl_cook import (  # noqa: E402
    N_INPUTS,
    DiehlCook,
    DiehlCookParams,
    assign_labels,
    classify,
    load_digits_split,
    train_diehl_cook,
)

from memr_snn.learning.homeostasis import normalize_incoming  # noqa: E402


def test_fixed_stratified_split():
    x_tr, y_tr, x_te, y_te = load_digits_split()
    assert x_tr.shape == (1200, N_INPUTS) and x_te.shape == (597, N_INPUTS)
    assert x_tr.min() >= 0 and x_tr.max() <= 16
    frac_tr = np.bincount(y_tr, minlength=10) / y_tr.size
    frac_te = np.bincount(y_te, minlength=10) / y_te.size
    assert np.max(np.abs(frac_tr - frac_te)) < 0.01  # stratified
    again = load_digits_split(n_train=50, n_test=20)
    assert np.array_equal(again[0], x_tr[:50]) and np.array_equal(again[3], y_te[:20])  # fixed


def test_assign_and_classify():
    # neurons 0, 1 answer class 0; neuron 2 class 1; neuron 3 class 2
    responses = np.array([[5, 4, 0, 1], [0, 1, 6, 0], [1, 0, 0, 7], [6, 3, 1, 0]])
    labels = np.array([0, 1, 2, 0])
    asg = assign_labels(responses, labels, n_classes=3)
    assert asg.tolist() == [0, 0, 1, 2]
    assert classify(responses, asg, n_classes=3).tolist() == [0, 1, 2, 0]
    # class means, not sums: one strong neuron of class 1 beats two weak ones of class 0
    assert classify(np.array([[2, 2, 3, 0]]), asg, n_classes=3).tolist() == [1]


def test_presentation_normalizes_and_adapts():
    p = DiehlCookParams(n_exc=10)
    model = DiehlCook(p, seed=2)
    x, _, _, _ = load_digits_split(n_train=3)
    for img in x:
        counts, shown = model.present(img)
        assert 1 <= shown <= p.max_repeats + 1
    w = model.weight_matrix()
    assert w.shape == (10, N_INPUTS) and w.min() >= 0 and w.max() <= p.w_max
    assert np.allclose(w.sum(axis=1), p.w_total, rtol=1e-6)
    th = model.thresholds()
    assert np.all(th >= -52e-3 - 1e-12) and np.any(th > -52e-3 + 1e-6)  # theta rose


def test_reduced_run_learns():
    r = train_diehl_cook(seed=0, n_exc=40, n_train=300, n_test=150)
    assert r["confusion"].sum() == 150 and r["per_class_total"].sum() == 150
    assert r["neurons_per_class"].sum() == 40 and r["weights"].shape == (40, N_INPUTS)
    assert r["spikes_per_sample"] >= 1 and r["runtime"] > 0
    assert r["accuracy"] > 0.5, r["accuracy"]  # chance: 0.1


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        (dict(seed=-1), "seed"),
        (dict(epochs=0), "epochs"),
        (dict(n_exc=1), "n_exc"),
        (dict(n_train=0), "n_train"),
        (dict(n_test=5000), "n_test"),
    ],
)
def test_bad_arguments(kwargs, name):
    with pytest.raises(ValueError, match=name):
        train_diehl_cook(**kwargs)


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        (dict(max_rate=-1.0), "max_rate"),
        (dict(w_inh_exc=1e-9), "w_inh_exc"),
        (dict(w_total=1.0), "w_total"),
        (dict(min_spikes=-1), "min_spikes"),
        (dict(t_rest=float("nan")), "t_rest"),
        (dict(pairing="some"), "pairing"),
    ],
)
def test_bad_params(kwargs, name):
    with pytest.raises(ValueError, match=name):
        DiehlCookParams(**kwargs).rule()


def test_frozen_weights_shape_checked():
    with pytest.raises(ValueError, match="weights"):
        DiehlCook(DiehlCookParams(n_exc=4), seed=0, weights=np.zeros((3, N_INPUTS)))


def test_learning_on_devices_runs_and_reports_wear():
    from memr_snn.devices import Crossbar

    res = train_diehl_cook(n_exc=6, n_train=12, n_test=6, device=Crossbar(preset="hfox_rram", encoding="single"))
    dev = res["device"]
    assert dev["learning_pulses"] > 0 and dev["pulses_per_device_max"] > 0
    assert dev["energy_j"] > 0 and 0.0 <= res["accuracy"] <= 1.0

def test_normalize_helper_is_the_one_used():
    model = DiehlCook(DiehlCookParams(n_exc=5), seed=1)
    f = normalize_incoming(model.input_proj, model.params.w_total)
    assert np.allclose(f, 1.0)  # already normalized at build


@pytest.mark.slow
def test_target_accuracy_three_seeds():
    acc = [train_diehl_cook(seed=s, epochs=2)["accuracy"] for s in range(3)]
    assert np.mean(acc) >= 0.85, acc
