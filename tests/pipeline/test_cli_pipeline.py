"""``memr-snn pipeline``: run an example over seeds (table or JSON), print the schedule, refuse bad input."""

from __future__ import annotations

import json

import pytest

from memr_snn.cli import main

pytest.importorskip("gymnasium", reason="the control extra is not installed (pip install 'memr_snn[control]')")


def test_pipeline_run_json_is_results_json(tmp_path, capsys):
    out = tmp_path / "p"
    assert main(["pipeline", "run", "hybrid-tracking", "--seeds", "0", "--steps", "8", "--no-plots", "--json",
                 "--no-progress", "--out", str(out)]) == 0
    captured = capsys.readouterr()
    doc = json.loads(captured.out)
    assert doc == json.loads((out / "results.json").read_text())
    assert doc["seeds"] == [0] and doc["config"]["steps"] == 8
    row = doc["per_seed"][0]
    assert row["report"]["steps"] == 80 and {s["name"] for s in row["report"]["stages"]} >= {"eye", "features", "snn"}
    assert "wrote" in captured.err and (out / "schedule.txt").read_text().startswith("dt = 0.001 s")
    assert not (out / "timeline.png").exists()


def test_pipeline_run_table_and_plot(tmp_path, capsys):
    out = tmp_path / "t"
    assert main(["pipeline", "run", "hybrid-tracking", "--seeds", "1", "--steps", "5", "--no-progress",
                 "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "| seed | hybrid error [px]" in text and "| snn | spiking |" in text
    assert (out / "timeline.png").stat().st_size > 1000


def test_pipeline_schedule(capsys):
    assert main(["pipeline", "schedule", "hybrid-tracking", "--steps", "6", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    # the hyperperiod is the absolute anchor's period, 10 control steps of 10 ms
    assert doc["hyperperiod"] == 100 and doc["stages"]["features"]["phase_steps"] == 1
    assert doc["stages"]["anchor"]["period_steps"] == 100 and doc["stages"]["anchor"]["phase_steps"] == 91
    steps = {r["step"] for r in doc["table"]}
    assert steps == set(range(6))


def test_pipeline_refuses_bad_input(tmp_path, capsys):
    assert main(["pipeline", "run", "hybrid-tracking", "--steps", "0", "--out", str(tmp_path / "x")]) == 2
    assert "--steps must be >= 1" in capsys.readouterr().err
    blocker = tmp_path / "file"
    blocker.write_text("x")
    assert main(["pipeline", "run", "hybrid-tracking", "--out", str(blocker)]) == 2
    assert "--out" in capsys.readouterr().err


def test_pipeline_cartpole_listed_and_runs(tmp_path, capsys):
    with pytest.raises(SystemExit):
        main(["pipeline", "run", "--help"])
    assert "cartpole" in capsys.readouterr().out
    out = tmp_path / "c"
    assert main(["pipeline", "run", "cartpole", "--seeds", "0", "--episodes", "1", "--train-episodes", "2",
                 "--dagger-rounds", "1", "--dagger-episodes", "1", "--device", "float", "--no-plots", "--json",
                 "--no-progress", "--out", str(out)]) == 0
    doc = json.loads(capsys.readouterr().out)
    row = doc["per_seed"][0]
    assert len(row["returns"]) == 1 and row["control_steps"] >= row["returns"][0]
    assert doc["config"]["dagger_rounds"] == 1 and len(row["training"]["dagger"]) == 1
    assert {s["name"]: s["kind"] for s in row["report"]["stages"]} == {"controller": "controller", "cartpole": "plant"}
    parts = row["controller_energy_per_control_step_J"]
    assert set(parts) == {"synops", "neuron_updates", "device_reads", "device_writes"}
    total = parts["synops"] + parts["neuron_updates"] + parts["device_reads"]
    assert abs(row["energy_per_control_step_J"]["controller"] - total) <= 1e-12 * total
    assert main(["pipeline", "schedule", "cartpole", "--json"]) == 0
    sch = json.loads(capsys.readouterr().out)
    assert sch["stages"]["cartpole"]["phase_steps"] == 19 and sch["stages"]["controller"]["latency_steps"] == 19
