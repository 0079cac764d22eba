"""The examples run (small settings)."""

import runpy
import sys
from pathlib import Path

import numpy as np

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def test_closed_loop_reaches_target():
    mod = runpy.run_path(str(EXAMPLES / "closed_loop.py"))
    history = mod["main"](target_hz=15.0, windows=60)
    assert abs(np.mean(history[-20:]) - 15.0) < 3.0


def test_cuba_example(tmp_path, monkeypatch):
    monkeypatch.setattr(sys, "argv", ["x", "--n", "400", "--duration", "0.1", "--out", str(tmp_path)])
    runpy.run_path(str(EXAMPLES / "vogels_abbott_cuba.py"), run_name="__main__")
    assert (tmp_path / "cuba_example.png").exists()


def test_memristive_example(tmp_path):
    mod = runpy.run_path(str(EXAMPLES / "memristive_cuba.py"))
    res = mod["main"](n=400, duration=0.1, out=tmp_path, presets=("ideal", "pcm_gst"))
    # program-and-verify lands within its tolerance, 1 % of the range; the pow2 scale maps the largest |w| to
    # between half and all of the range, so the relative weight error is below 2 % (measured: 1.4 %)
    assert res["ideal"]["weight_error"] < 0.02
    assert 0.0 < res["pcm_gst"]["weight_error"] < 0.5
    assert res["pcm_gst"]["program_energy"] > res["ideal"]["program_energy"] > 0
    assert (tmp_path / "devices_example.png").stat().st_size > 1000


def test_diehl_cook_example(tmp_path):
    import pytest

    pytest.importorskip("sklearn", reason="scikit-learn is not installed (pip install '.[datasets]')")
    mod = runpy.run_path(str(EXAMPLES / "diehl_cook_digits.py"))
    res = mod["main"](seeds=(0,), n_exc=10, epochs=1, n_train=40, n_test=20, out=tmp_path)
    assert res[0]["confusion"].sum() == 20
    assert (tmp_path / "diehl_cook_fields.png").stat().st_size > 1000
    assert (tmp_path / "diehl_cook_confusion.png").stat().st_size > 1000


def test_bci_closed_loop_example():
    mod = runpy.run_path(str(EXAMPLES / "bci_closed_loop.py"))
    res = mod["main"](quick=True, seed=0)
    assert [b.kind for b in res["blocks"]] == ["observation", "closed_loop", "closed_loop"]
    assert res["counts"]["n_in"] == res["counts"]["n_out"]
    dropped = {int(c) for ev in res["switches"] for c in ev.reason.split("[")[1].rstrip("]").split(",")}
    assert dropped == set(res["lost"].tolist())  # exactly the silenced units, no false alarm


def test_hybrid_tracking_example(tmp_path):
    import pytest

    pytest.importorskip("gymnasium", reason="the control extra is not installed (pip install '.[control]')")
    mod = runpy.run_path(str(EXAMPLES / "hybrid_tracking.py"))
    res = mod["main"](seeds=(0,), steps=20, out=tmp_path)
    r = res["per_seed"][0]
    assert r["error_hybrid_px"] > 0 and r["error_pid_px"] > 0
    assert r["energy_per_control_step_J"]["features"] > 0 and r["energy_per_control_step_J"]["snn"] > 0
    assert 0 <= r["overhead_fraction"] < 1
    assert (tmp_path / "hybrid_tracking_timeline.png").stat().st_size > 1000
