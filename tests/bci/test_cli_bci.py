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
