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


def test_run_with_device_preset_writes_the_device_report(tmp_path, capsys):
    assert main(["run", "cuba", "--n", "400", "--duration", "0.2", "--out", str(tmp_path), "--device", "pcm_gst",
                 "--program", "verify", "--age", "3600", "--array", "64", "64"]) == 0
    out = capsys.readouterr().out
    assert "device report" in out and "pcm_gst" in out
    rep = json.loads((tmp_path / "device_report.json").read_text())
    assert len(rep["projections"]) == 4
    assert rep["totals"]["reads"] > 0 and rep["totals"]["program_pulses"] > 0
    assert rep["by_class"]["pcm_gst"]["total_energy"] > 0
    names = sorted(p.name for p in (tmp_path / "mapping").iterdir())
    assert names == sorted(f"mapping_table_{pr}.json" for pr in ("exc-exc", "exc-inh", "inh-exc", "inh-inh")), names
    table = json.loads((tmp_path / "mapping" / "mapping_table_exc-exc.json").read_text())
    assert table["format"] == "memr_snn.mapping_table" and table["array"]["rows"] == 64
    assert (tmp_path / "devices.png").stat().st_size > 1000
    # a saved crossbar network continues from the CLI; --device is refused for files
    state = tmp_path / "xb.msnn"
    assert main(["run", "cuba", "--n", "200", "--duration", "0.05", "--out", str(tmp_path / "a"), "--no-plots",
                 "--device", "hfox_rram", "--save-state", str(state)]) == 0
    assert main(["run", str(state), "--duration", "0.05", "--out", str(tmp_path / "b"), "--no-plots"]) == 0
    assert (tmp_path / "b" / "device_report.json").exists()
    with pytest.raises(SystemExit):
        main(["run", str(state), "--device", "pcm_gst", "--out", str(tmp_path / "c")])


def test_unknown_device_preset_lists_the_known_ones(tmp_path, capsys):
    assert main(["run", "cuba", "--n", "100", "--duration", "0.01", "--out", str(tmp_path), "--device", "nope"]) == 2
    err = capsys.readouterr().err
    assert "nope" in err and "hfox_rram" in err and "pcm_gst" in err


def test_devices_commands(tmp_path, capsys):
    assert main(["devices", "list"]) == 0
    out = capsys.readouterr().out
    for name in ("ideal", "hfox_rram", "taox_rram", "pcm_gst", "cbram", "fefet"):
        assert name in out
    assert main(["devices", "show", "hfox_rram"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["name"] == "hfox_rram" and shown["units"]["device"]["g_min"] == "S"
    assert main(["devices", "iv", "vteam", "--out", str(tmp_path / "iv.png"), "--freq", "1000", "10000"]) == 0
    out = capsys.readouterr().out
    areas = [float(line.split()[1]) for line in out.splitlines()[1:3]]
    assert areas[0] > areas[1] > 0  # the loop shrinks as the frequency rises
    assert (tmp_path / "iv.png").stat().st_size > 1000


def test_experiment_sma_runs_on_float_and_on_devices(tmp_path, capsys):
    assert main(["experiment", "sma", "--duration", "2", "--n-inputs", "300", "--out", str(tmp_path / "f")]) == 0
    res = json.loads((tmp_path / "f" / "results.json").read_text())
    assert res["output_rate_hz"] >= 0 and sum(res["histogram"]) == 300
    assert (tmp_path / "f" / "weights.png").stat().st_size > 1000
    assert main(["experiment", "sma", "--duration", "2", "--n-inputs", "300", "--device", "ideal",
                 "--out", str(tmp_path / "d")]) == 0
    dev = json.loads((tmp_path / "d" / "results.json").read_text())
    assert dev["histogram"] == res["histogram"]  # ideal devices learn exactly like float weights
    assert dev["device_report"]["program_pulses"] > 0
    out = capsys.readouterr().out
    assert "near g_max" in out
    with pytest.raises(SystemExit):
        main(["experiment", "nope"])
