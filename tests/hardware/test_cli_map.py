"""``memr-snn map``: smoke tests of the mapping report command."""

from __future__ import annotations

import json

from memr_snn.cli import main


def test_map_cuba_writes_the_report(tmp_path, capsys):
    rc = main(["map", "--profile", "loihi1", "--network", "cuba", "--n-neurons", "300", "--out", str(tmp_path)])
    out = capsys.readouterr().out
    assert rc == 0
    assert "mapping on loihi1" in out and "energy per step" in out and "time per step" in out
    data = json.loads((tmp_path / "mapping.json").read_text())
    assert data["profile"] == "loihi1" and data["network"]["neurons"] == 300
    assert sum(c["neurons"] for c in data["cores"]) == 300
    assert (tmp_path / "utilisation.png").stat().st_size > 0


def test_map_with_measured_rates_and_a_profile_file(tmp_path, capsys):
    from memr_snn.hardware import load_profile, save_profile

    path = save_profile(load_profile("loihi2").replace(name="my_loihi2"), tmp_path / "p.json")
    rc = main(["map", "--profile", str(path), "--network", "cuba", "--n-neurons", "200", "--rates-from-run", "0.02",
               "--out", str(tmp_path / "o"), "--no-plots"])
    out = capsys.readouterr().out
    assert rc == 0 and "mapping on my_loihi2" in out and "rates measured over 0.02 s" in out
    data = json.loads((tmp_path / "o" / "mapping.json").read_text())
    assert not any("assumed" in w for w in data["warnings"])
    assert not (tmp_path / "o" / "utilisation.png").exists()


def test_map_refusals(tmp_path, capsys):
    rc = main(["map", "--profile", "loihi1", "--network", "coba", "--n-neurons", "100", "--out", str(tmp_path)])
    err = capsys.readouterr().err
    assert rc == 2 and "population 'exc': conductance-based synapses" in err
    rc = main(["map", "--profile", "loihi1", "--network", "coba", "--n-neurons", "100", "--out", str(tmp_path),
               "--allow-unsupported", "--no-plots"])
    assert rc == 0 and "warning: population 'exc': conductance-based" in capsys.readouterr().out
    rc = main(["map", "--profile", "loihi7", "--out", str(tmp_path)])
    assert rc == 2 and "unknown core profile 'loihi7'" in capsys.readouterr().err
