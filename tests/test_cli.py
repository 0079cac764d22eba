"""The memr-snn command line."""

import json
import subprocess
import sys

import numpy as np
import pytest

from memr_snn.cli import main


def test_help_lists_commands(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["--help"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    for cmd in ("run", "bench", "info"):
        assert cmd in out


def test_run_cuba_writes_outputs(tmp_path, capsys):
    assert main(["run", "cuba", "--n", "400", "--duration", "0.2", "--out", str(tmp_path), "--seed", "2"]) == 0
    out = capsys.readouterr().out
    assert "cuba" in out and "rate [Hz]" in out
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["neurons"] == 400 and summary["duration_s"] == 0.2
    spikes = np.load(tmp_path / "spikes.npz")
    assert set(spikes.files) == {"exc_t", "exc_i", "inh_t", "inh_i"}
    assert sum(r["spikes"] for r in summary["populations"]) == spikes["exc_t"].size + spikes["inh_t"].size
    assert (tmp_path / "raster.png").stat().st_size > 1000
    assert (tmp_path / "rate.png").stat().st_size > 1000


def test_run_save_state_and_resume(tmp_path):
    state = tmp_path / "after.msnn"
    assert main(["run", "cuba", "--n", "200", "--duration", "0.1", "--out", str(tmp_path / "a"),
                 "--no-plots", "--save-state", str(state)]) == 0
    assert main(["run", str(state), "--duration", "0.1", "--out", str(tmp_path / "b"), "--no-plots"]) == 0
    s = json.loads((tmp_path / "b" / "summary.json").read_text())
    assert s["t_start_s"] == pytest.approx(0.1)
    # resumed spikes equal one uninterrupted run of 0.2 s
    assert main(["run", "cuba", "--n", "200", "--duration", "0.2", "--out", str(tmp_path / "c"), "--no-plots"]) == 0
    b, c = np.load(tmp_path / "b" / "spikes.npz"), np.load(tmp_path / "c" / "spikes.npz")
    np.testing.assert_array_equal(b["exc_i"], c["exc_i"])
    np.testing.assert_array_equal(b["exc_t"], c["exc_t"])


def test_bad_arguments_give_clear_errors(tmp_path, capsys):
    assert main(["run", "cuba", "--duration", "0.00015", "--out", str(tmp_path)]) == 2
    assert "whole number of steps" in capsys.readouterr().err
    with pytest.raises(SystemExit, match="neither a built-in"):
        main(["run", "nonexistent_network", "--out", str(tmp_path)])
    bad = tmp_path / "bad.msnn"
    bad.write_bytes(b"garbage" * 10)
    assert main(["run", str(bad), "--out", str(tmp_path)]) == 2
    assert "checkpoint" in capsys.readouterr().err


def test_info_runs(capsys):
    assert main(["info"]) == 0
    out = capsys.readouterr().out
    assert "numba" in out and "numpy" in out


def test_module_entry_point():
    res = subprocess.run([sys.executable, "-m", "memr_snn", "--help"], capture_output=True, text=True, check=True)
    assert "memr-snn" in res.stdout
