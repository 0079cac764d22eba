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
