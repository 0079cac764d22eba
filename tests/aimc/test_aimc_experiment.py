"""Accuracy versus time: on ideal tiles it is the float accuracy at every time; the outputs (JSON, table, plot);
the ``memr-snn aimc`` command (compile, report, evaluate) end to end."""

from __future__ import annotations

import json

import numpy as np
import pytest

from memr_snn.cli import main

pytest.importorskip("sklearn")


@pytest.fixture(scope="module")
def mlp():
    from memr_snn.learning.datasets import load_digits_spikes
    from memr_snn.learning.mlp import train_mlp

    d = load_digits_spikes(T=1)
    return train_mlp(d.images_train, d.y_train, hidden=(16,), epochs=5, seed=0)


def test_ideal_tiles_keep_the_float_accuracy_at_every_time(mlp, tmp_path):
    from memr_snn.aimc.experiment import accuracy_vs_time

    r = accuracy_vs_time(devices=("ideal",), io="ideal", seeds=(0, 1), weights=[mlp, mlp])
    assert r.float_acc[0] > 0.85
    for mode in ("compensated", "uncompensated"):
        assert np.all(np.asarray(r.acc["ideal"][mode]) == r.float_acc[0])
    doc = json.loads(json.dumps(r.to_dict()))
    assert doc["times_s"][-1] == 365.25 * 86400 and len(doc["accuracy"]["ideal"]["compensated"]) == 5
    md = r.markdown()
    assert "| ideal | yes |" in md and "1 year" in md
    assert r.plot(tmp_path / "a.png").stat().st_size > 1000


def test_cli_compile_report_evaluate(mlp, tmp_path, capsys):
    np.savez(tmp_path / "mlp.npz", **mlp)
    assert main(["aimc", "compile", "--weights", str(tmp_path / "mlp.npz"), "--device", "hfox_rram",
                 "--drift-compensation", "--out", str(tmp_path / "m"), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["tiles"] == 2 and (tmp_path / "m" / "tile_health_report.csv").is_file()
    assert main(["aimc", "report", "--model", str(tmp_path / "m"), "--vectors", "16", "--out",
                 str(tmp_path / "r"), "--json"]) == 0
    rep = json.loads(capsys.readouterr().out)
    assert rep["fj_per_mac"] > 0 and len(rep["tiles"]) == 2 and rep["tiles"][0]["rows_used"] == 64
    assert main(["aimc", "evaluate", "--weights", str(tmp_path / "mlp.npz"), "--devices", "pcm_aihwkit",
                 "--times", "1", "3600", "--seeds", "0", "--no-plots", "--no-progress",
                 "--out", str(tmp_path / "e")]) == 0
    assert "| pcm_aihwkit | yes |" in (tmp_path / "e" / "results.md").read_text()
    assert main(["aimc", "report", "--model", str(tmp_path / "nothing")]) == 2
    assert "not a folder of AIMC model artifacts" in capsys.readouterr().err


def test_cli_evaluate_hardware_aware_with_column_calibration(tmp_path, capsys):
    assert main(["aimc", "evaluate", "--training", "hwa", "--column-calibration", "--devices", "pcm_aihwkit",
                 "--times", "1", "--seeds", "0", "--hidden", "8", "--epochs", "2", "--no-plots", "--no-progress",
                 "--json", "--out", str(tmp_path / "e")]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["settings"]["training"] == "hwa" and doc["settings"]["hidden"] == [8]
    assert doc["settings"]["hardware"]["pcm_aihwkit"]["dac_bits"] == 7
    assert set(doc["accuracy"]["pcm_aihwkit"]) == {"uncompensated", "compensated", "column"}
    np.savez(tmp_path / "x.npz", a=np.zeros(2))
    assert main(["aimc", "evaluate", "--training", "hwa", "--weights", str(tmp_path / "x.npz")]) == 2
    assert "cannot be combined with --training hwa" in capsys.readouterr().err


def test_cli_compile_and_report_map_around_stuck_devices(mlp, tmp_path, capsys):
    np.savez(tmp_path / "mlp.npz", **mlp)
    assert main(["aimc", "compile", "--weights", str(tmp_path / "mlp.npz"), "--device", "hfox_rram",
                 "--max-rows", "64", "--max-cols", "64", "--fault-test", "--compensate", "--remap", "rows_columns",
                 "--spare-columns", "8", "--spare-rows", "4", "--out", str(tmp_path / "m"), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["program"]["verify_reads"] == 2 * doc["program"]["devices"]  # the range test's two reads per device
    assert main(["aimc", "report", "--model", str(tmp_path / "m"), "--vectors", "8", "--json"]) == 0
    rep = json.loads(capsys.readouterr().out)
    # 64 rows with 4 spare: the first layer's 64 inputs need two row blocks, 60 + 4
    first = [(t["rows_used"], t["spare_rows"], t["spare_cols"]) for t in rep["tiles"] if t["layer"] == "fc1"]
    assert sorted(set(first)) == [(4, 4, 8), (60, 4, 8)]
    assert all(h["detected_faults"] >= h["stuck_on"] + h["stuck_off"] for h in rep["health"])
    assert main(["aimc", "compile", "--weights", str(tmp_path / "mlp.npz"), "--compensate",
                 "--out", str(tmp_path / "bad")]) == 2
    assert "compensate needs the measured device ranges: set fault_test=True" in capsys.readouterr().err
