"""``memr-snn sweep run / status / plot / list`` and their refusals."""

import json

import pytest

from memr_snn.cli import main

CONFIG = """
experiment = "sweep.experiments_for_tests:quadratic"
seeds = 2
root_seed = 3
[grid]
x = [0.0, 1.0, 2.0]
[fixed]
fail_at = 2.0
"""


def test_run_status_plot(tmp_path, capsys):
    cfg = tmp_path / "q.toml"
    cfg.write_text(CONFIG)
    out = tmp_path / "res"
    assert main(["sweep", "run", str(cfg), "--executor", "serial", "--out", str(out), "--no-progress", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert (doc["n_points"], doc["ok"], doc["failed"], doc["executor"]) == (6, 4, 2, "serial")
    assert main(["sweep", "run", str(cfg), "--executor", "serial", "--out", str(out), "--no-progress",
                 "--keep-failed"]) == 0
    assert "6 points, 6 done before, 0 ok and 0 failed" in capsys.readouterr().out
    assert main(["sweep", "status", str(out), "--json"]) == 0
    st = json.loads(capsys.readouterr().out)
    assert (st["ok"], st["failed"], st["missing"], st["errors"], st["same_code"]) == (4, 2, 0, {"ValueError": 2}, True)
    assert main(["sweep", "status", str(out)]) == 0
    assert "6 points: 4 ok, 2 failed, 0 missing" in capsys.readouterr().out
    assert main(["sweep", "plot", str(out), "--json"]) == 0  # defaults: first grid axis, first metric
    doc = json.loads(capsys.readouterr().out)
    assert (doc["x"], doc["metric"]) == ("x", "even_seed")
    assert main(["sweep", "plot", str(out), "--x", "x", "--metric", "y"]) == 0
    text = capsys.readouterr().out
    assert "| 2.0 | nan | nan | 0 | 2 |" in text
    assert (out / "y_vs_x.png").stat().st_size > 1000
    assert "![y vs x](y_vs_x.png)" in (out / "summary.md").read_text()


def test_list(capsys):
    assert main(["sweep", "list"]) == 0
    assert "cuba-stuck-faults" in capsys.readouterr().out


@pytest.mark.parametrize(("config", "args", "message"), [
    (CONFIG.replace("quadratic", "nothing_here"), [], "has no attribute"),
    (CONFIG.replace("x = [0.0, 1.0, 2.0]", "x = []"), [], "grid axis 'x' is empty"),
    (CONFIG.replace("[fixed]", "[fixed]\nzz = 1"), [], "has no parameter(s) ['zz']"),
    (CONFIG, ["--scheduler", "localhost:1"], "must look like tcp://host:port"),
    (CONFIG, ["--executor", "serial", "--workers", "2"], "apply to --executor dask"),
])
def test_bad_input_exits_2_before_work(tmp_path, capsys, config, args, message):
    cfg = tmp_path / "q.toml"
    cfg.write_text(config)
    assert main(["sweep", "run", str(cfg), "--out", str(tmp_path / "r"), "--no-progress", *args]) == 2
    err = capsys.readouterr().err
    assert err.startswith("memr-snn: error: ") and message in err and err.count("\n") == 1


def test_foreign_folder_and_unreachable_scheduler(tmp_path, capsys):
    cfg = tmp_path / "q.toml"
    cfg.write_text(CONFIG)
    out = tmp_path / "r"
    assert main(["sweep", "run", str(cfg), "--executor", "serial", "--out", str(out), "--no-progress"]) == 0
    cfg.write_text(CONFIG.replace("root_seed = 3", "root_seed = 4"))
    assert main(["sweep", "run", str(cfg), "--executor", "serial", "--out", str(out), "--no-progress"]) == 2
    assert "holds the results of another sweep (root_seed: 3 there, 4 here)" in capsys.readouterr().err
    pytest.importorskip("distributed")
    assert main(["sweep", "run", str(cfg), "--scheduler", "tcp://127.0.0.1:9", "--connect-timeout", "0.5",
                 "--out", str(tmp_path / "r2"), "--no-progress"]) == 1
    assert "no Dask scheduler answered at tcp://127.0.0.1:9 within 0.5 s" in capsys.readouterr().err
    assert main(["sweep", "status", str(tmp_path)]) == 2
    assert "not a sweep results folder" in capsys.readouterr().err
