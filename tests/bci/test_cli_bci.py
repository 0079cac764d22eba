"""``memr-snn bci``: a small run writes its files; bad options are refused before any work."""

import json

import pytest

from memr_snn.cli import main


def test_drift_quick_writes_results(tmp_path, capsys):
    out = tmp_path / "bci"
    assert main(["bci", "drift", "--quick", "--seeds", "0", "--days", "2", "--out", str(out), "--json",
                 "--no-progress"]) == 0
    doc = json.loads((out / "results.json").read_text())
    assert doc["experiments"] == ["drift"] and {r["decoder"] for r in doc["drift"]} == {"kf", "refit"}
    assert all(len(r["days"]) == 2 for r in doc["drift"])
    assert (out / "success_per_block.png").stat().st_size > 0
    assert "Drift over days" in (out / "results.md").read_text()
    assert json.loads(capsys.readouterr().out)["seeds"] == [0]


@pytest.mark.parametrize("argv, message", [(["nonsense"], "unknown experiment"), (["--days", "0"], "--days"),
                                           (["--seeds", "-1"], "--seeds")])
def test_bad_options(tmp_path, capsys, argv, message):
    assert main(["bci", *argv, "--out", str(tmp_path / "o")]) == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


def test_decoders_table_reports_the_spiking_energy_and_writes():
    """The decoders experiment's rows carry the spiking decoder's energy per bin and device writes, and the
    markdown shows them (a tiny session)."""
    from memr_snn.bci import SessionConfig
    from memr_snn.bci.experiments import compare_decoders

    from memr_snn.cli.cmd_bci import _markdown

    cfg = SessionConfig(observation_trials=8, trials_per_block=3, closed_loop_blocks=1)
    rows = compare_decoders([0], cfg, decoders=("kf", "snn"))
    snn = [r for r in rows if r["decoder"] == "snn"][0]
    e = snn["energy"]
    assert e["count_bins"] > 0 and e["total"] == pytest.approx(
        sum(e[k] for k in ("reads", "rows", "sense", "neurons", "digital")), rel=1e-12)
    assert snn["devices"]["fault_aware_pulses"] > 0
    assert "energy" not in [r for r in rows if r["decoder"] == "kf"][0]
    md = _markdown({"quick": True, "seeds": [0], "decoders": rows})
    assert "energy per decoded bin [pJ] by term" in md and "| snn | 0 |" in md


def test_unit_loss_rows_count_the_adaptation_pulses():
    """A tiny unit-loss run of the input-adapting spiking decoder reports the pulses of its one retraining and
    readout reprogramming; the markdown divides them by those counts (hand case), '-' for the KF."""
    from memr_snn.bci.experiments import hard_config, unit_loss_recovery

    from memr_snn.cli.cmd_bci import _markdown, _pulses

    row = unit_loss_recovery(0, "snn_input", adapt_blocks=1, config=hard_config(observation_trials=8,
                                                                                 trials_per_block=2))
    p = row["pulses"]
    assert p["input_retrainings"] == 1 and p["readout_reprogrammings"] == 1
    assert p["input"] > 0 and p["readout"] > 0
    assert "pulses" not in unit_loss_recovery(0, "refit", adapt_blocks=1,
                                              config=hard_config(observation_trials=8, trials_per_block=2))
    rows = [{"pulses": {"input": 600, "readout": 30, "input_retrainings": 3, "readout_reprogrammings": 3}},
            {"pulses": {"input": 0, "readout": 10, "input_retrainings": 0, "readout_reprogrammings": 2}}]
    assert _pulses(rows) == "200 / 7.5"  # input: 600/3 (the row without retraining left out); readout: (10 + 5)/2
    assert _pulses([{"seed": 0}]) == "-"
    md = _markdown({"quick": True, "seeds": [0], "unit_loss": [row]})
    assert f"| {p['input']:.3g} / {p['readout']:.3g} |" in md


def test_decode_step_time_reports_wall_and_cpu_time():
    from memr_snn.bci.experiments import decode_step_time

    t = decode_step_time("sskf", n_units=16, n_bins=200, safety=True)
    assert set(t) == {"median", "p99", "cpu_median", "cpu_p99"}
    assert all(0.0 < v < 1.0 for v in t.values())
    assert t["median"] <= t["p99"] and t["cpu_median"] <= t["cpu_p99"]
    with pytest.raises(ValueError, match="decoder must be one of"):
        decode_step_time("nope")
