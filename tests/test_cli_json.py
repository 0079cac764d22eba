"""``--json`` on every command that prints results: by default a table, with ``--json`` the whole of stdout is
one JSON document holding the same numbers; progress and notes go to stderr.  Also: a network saved by
``run --save-state`` keeps its name when loaded again, and ``--progress/--no-progress`` work alike everywhere."""

import json
import re

import pytest

from memr_snn.cli import main
from memr_snn.cli._common import saved_label


def _table_and_json(capsys, argv_table, argv_json):
    """stdout of the table run and the parsed JSON document of the ``--json`` run (stderr of that run too)."""
    assert main(argv_table) == 0
    table = capsys.readouterr().out
    assert main(argv_json) == 0
    captured = capsys.readouterr()
    return table, json.loads(captured.out), captured.err


def test_run_json_is_the_summary_with_the_table_numbers(tmp_path, capsys):
    base = ["run", "cuba", "--n", "100", "--duration", "0.02", "--no-plots", "--seed", "3"]
    table, doc, err = _table_and_json(capsys, [*base, "--out", str(tmp_path / "t")],
                                      [*base, "--out", str(tmp_path / "j"), "--json"])
    assert doc == json.loads((tmp_path / "j" / "summary.json").read_text())
    assert doc["network"] == "cuba" and doc["neurons"] == 100 and doc["duration_s"] == 0.02
    rows = {line.split()[0]: line.split() for line in table.splitlines() if line.split()[:1] in (["exc"], ["inh"])}
    for pop in doc["populations"]:  # the same seed gives the same spikes in both modes
        name, neurons, spikes = rows[pop["population"]][:3]
        assert (int(neurons), int(spikes)) == (pop["neurons"], pop["spikes"])
        assert float(rows[name][3]) == pytest.approx(pop["rate_hz"], abs=5e-4)
    assert "wrote" in err and "network cuba:" not in err


def test_run_json_with_devices_adds_the_device_report(tmp_path, capsys):
    assert main(["run", "cuba", "--n", "100", "--duration", "0.01", "--no-plots", "--device", "ideal",
                 "--out", str(tmp_path), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    report = json.loads((tmp_path / "device_report.json").read_text())
    assert doc["device_report"] == report
    assert {k: v for k, v in doc.items() if k != "device_report"} == json.loads((tmp_path / "summary.json").read_text())


def test_saved_network_reloads_with_its_name(tmp_path, capsys):
    state = tmp_path / "net.msnn"  # a file stem that is not the network's name
    assert main(["run", "cuba", "--n", "100", "--duration", "0.01", "--no-plots", "--out", str(tmp_path / "a"),
                 "--save-state", str(state)]) == 0
    assert capsys.readouterr().out.startswith("network cuba:")
    assert main(["run", str(state), "--duration", "0.01", "--no-plots", "--out", str(tmp_path / "b"),
                 "--save-state", str(tmp_path / "again.msnn")]) == 0
    assert capsys.readouterr().out.startswith("network cuba:")  # not 'network net:'
    assert json.loads((tmp_path / "b" / "summary.json").read_text())["network"] == "cuba"
    assert main(["map", "--profile", "loihi1", "--network", str(tmp_path / "again.msnn"), "--no-plots",
                 "--out", str(tmp_path / "m"), "--json"]) == 0  # the name survives a second save, and map reads it
    assert json.loads(capsys.readouterr().out)["network"]["name"] == "cuba"


def test_a_network_saved_without_a_name_is_labelled_by_its_file(tmp_path):
    import memr_snn as ms

    net = ms.Network(dt=1e-4, seed=0)
    net.add(ms.Population(3, ms.LIFParams(), name="p"))
    net.save(tmp_path / "plain.msnn")
    back = ms.Network.load(tmp_path / "plain.msnn")
    assert back.name is None and saved_label(back, tmp_path / "plain.msnn") == "plain"
    back.name = "mine"
    back.save(tmp_path / "named.msnn")
    assert ms.Network.load(tmp_path / "named.msnn").name == "mine"


def test_map_json_is_mapping_json(tmp_path, capsys):
    base = ["map", "--profile", "loihi1", "--network", "cuba", "--n", "200", "--no-plots"]
    table, doc, err = _table_and_json(capsys, [*base, "--out", str(tmp_path / "t")],
                                      [*base, "--out", str(tmp_path / "j"), "--json"])
    assert doc == json.loads((tmp_path / "j" / "mapping.json").read_text())
    assert doc["network"]["neurons"] == 200
    assert int(re.search(r"cores used (\d+)", table).group(1)) == doc["n_cores"]
    assert "mapped in" in err


def test_devices_and_info_json(tmp_path, capsys):
    table, doc, _ = _table_and_json(capsys, ["devices", "list"], ["devices", "list", "--json"])
    assert [d["name"] for d in doc] == [line.split()[0] for line in table.splitlines()[1:]]
    assert all(d["technology"] for d in doc) and "source" in doc[0]
    assert main(["devices", "show", "hfox_rram", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["name"] == "hfox_rram"
    iv = ["devices", "iv", "vteam", "--freq", "1000", "10000"]
    table, doc, _ = _table_and_json(capsys, [*iv, "--out", str(tmp_path / "a.png")],
                                    [*iv, "--out", str(tmp_path / "b.png"), "--json"])
    areas = [float(line.split()[1]) for line in table.splitlines()[1:3]]
    assert [loop["frequency_hz"] for loop in doc["loops"]] == [1000.0, 10000.0]
    assert [loop["loop_area_W"] for loop in doc["loops"]] == pytest.approx(areas, rel=1e-3)
    assert doc["model"] == "vteam" and doc["amplitude_V"] == 1.5
    table, doc, _ = _table_and_json(capsys, ["info"], ["info", "--json"])
    assert doc["memr_snn_version"] in table and doc["python_version"] in table


def test_export_json(tmp_path, capsys):
    assert main(["export", "--to", "nir", "--network", "cuba", "--n", "100", "--lossy", "--out",
                 str(tmp_path / "c.nir"), "--json"]) == 0
    captured = capsys.readouterr()
    doc = json.loads(captured.out)
    assert doc["to"] == "nir" and doc["network"] == "cuba" and doc["neurons"] == 100 and doc["lossy"] is True
    assert doc["synapses"] > 0 and (tmp_path / "c.nir").stat().st_size > 0
    assert f"{doc['synapses']} synapses" in captured.err  # the human line went to stderr


def test_experiment_json_and_progress_lines(tmp_path, capsys):
    """``--json`` keeps stdout one document; without a terminal the training reports plain lines on stderr,
    ``--no-progress`` none."""
    argv = ["experiment", "eprop-vs-bptt", "--seeds", "0", "--n-train", "32", "--epochs", "1", "--delay", "20",
            "--no-plots", "--json"]
    assert main([*argv, "--out", str(tmp_path / "a")]) == 0
    captured = capsys.readouterr()
    doc = json.loads(captured.out)
    assert doc == json.loads((tmp_path / "a" / "results.json").read_text())
    assert "eprop-vs-bptt: 0/2" in captured.err and "eprop-vs-bptt: 2/2 (100%)" in captured.err
    assert main([*argv, "--out", str(tmp_path / "b"), "--no-progress"]) == 0
    captured = capsys.readouterr()
    assert "eprop-vs-bptt:" not in captured.err and "seed 0: e-prop" in captured.err
    assert json.loads(captured.out)["eprop_mean"] == doc["eprop_mean"]  # same seed, same result


@pytest.mark.parametrize("name, argv, total", [
    ("digits-bptt", ["--seeds", "0", "1", "--epochs", "2", "--hidden", "8", "--T", "5"], 4),
    ("eprop", ["--seeds", "0", "--n-rec", "10", "--n-train", "40", "--epochs", "2", "--delay", "20"], 4),
])
def test_experiment_progress_counts_the_training(name, argv, total, tmp_path, capsys):
    assert main(["experiment", name, *argv, "--no-plots", "--out", str(tmp_path)]) == 0
    err = capsys.readouterr().err
    assert f"{name}: 0/{total}\n" in err and f"{name}: {total}/{total} (100%) done" in err


def test_speed_bench_json(tmp_path, capsys, monkeypatch):
    argv = ["bench", "--quick", "--sizes", "200", "--models", "cuba", "--peers", "none", "--out", str(tmp_path),
            "--json", "--no-progress"]
    monkeypatch.setattr("sys.argv", ["memr-snn", *argv])
    assert main(argv) == 0
    captured = capsys.readouterr()
    doc = json.loads(captured.out)
    assert doc == json.loads((tmp_path / "bench.json").read_text())
    (case,) = doc["cases"]
    spikes = case["summary"]["memr_snn"]["n_spikes"]["median"]
    assert spikes > 0 and f"{spikes:g}" in (tmp_path / "bench.md").read_text()  # the table has the same count
    assert captured.err.strip().splitlines() == [f"wrote {tmp_path / 'bench.md'} and {tmp_path / 'bench.json'}"]


def test_every_printing_command_takes_json():
    from memr_snn.cli import build_parser

    parser = build_parser()
    for argv in (["run", "cuba"], ["map", "--profile", "loihi1"], ["bench"], ["devices", "list"],
                 ["devices", "show", "x"], ["devices", "iv", "vteam"], ["info"], ["export", "--to", "nir",
                                                                                  "--network", "cuba", "--out", "x"]):
        assert parser.parse_args([*argv, "--json"]).json is True, argv
