"""Artifacts: a saved model reopens bit for bit; every corrupt or mismatched file is refused with its name and
field; the health report counts what the devices hold; telemetry lines add up to the run's energy."""

from __future__ import annotations

import csv
import json
import shutil

import numpy as np
import pytest

from memr_snn import aimc
from memr_snn.aimc import ArtifactError, CalibrationConfig, MappingConfig
from memr_snn.devices import ArraySpec, StuckFaults, load_preset


def _model(seed=3):
    rng = np.random.default_rng(0)
    spec = [{"type": "conv2d", "weight": rng.standard_normal((4, 1, 3, 3)), "bias": rng.standard_normal(4),
             "padding": 1},
            {"type": "batchnorm", "gamma": np.ones(4), "beta": np.zeros(4), "mean": np.zeros(4), "var": np.ones(4)},
            {"type": "relu"}, {"type": "maxpool2d", "kernel": 2}, {"type": "flatten"},
            {"type": "linear", "weight": rng.standard_normal((10, 64)), "bias": rng.standard_normal(10)}]
    pre = load_preset("pcm_aihwkit").replace(faults=StuckFaults(p_stuck_on=0.02, p_stuck_off=0.02))
    return aimc.compile(spec, device=pre, seed=seed,
                        mapping=MappingConfig(max_rows=32, max_cols=16, array=ArraySpec(cell="1R", r_wire=2.0)),
                        calibration=CalibrationConfig(drift_compensation=True, column=True, n_vectors=16))


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    m = _model()
    x = np.random.default_rng(1).random((6, 1, 8, 8))
    m(x)
    m.set_time(3600.0)
    folder = tmp_path_factory.mktemp("model")
    m.save(folder)
    return m, x, folder


def test_saved_model_reopens_bit_for_bit(saved):
    m, x, folder = saved
    m2 = aimc.AnalogModel.load(folder)
    for a, b in zip(m.analog_layers, m2.analog_layers, strict=True):
        assert (a.matrix.epoch, a.matrix.time, a.matrix.seed) == (b.matrix.epoch, b.matrix.time, b.matrix.seed)
        for ta, tb in zip(a.matrix.tiles, b.matrix.tiles, strict=True):
            for k in ("g", "nu", "fault", "counts", "budget", "t_fail"):
                np.testing.assert_array_equal(getattr(ta.prog, k), getattr(tb.prog, k))
            np.testing.assert_array_equal(ta.r_eq, tb.r_eq)
            np.testing.assert_array_equal(ta.cal_gain, tb.cal_gain)
            assert ta.alpha == tb.alpha and ta.drift.reference == tb.drift.reference
        np.testing.assert_array_equal(a.matrix.effective_weights(), b.matrix.effective_weights())
    m3 = aimc.AnalogModel.load(folder)
    np.testing.assert_array_equal(m3(x), m2(x))  # output noise continues from the stored generator state
    m.save(folder / "again")
    np.testing.assert_array_equal(m(x), aimc.AnalogModel.load(folder / "again")(x))
    for mm in (m, m2):
        mm.set_time(86400.0)
    np.testing.assert_array_equal(m(x), m2(x))  # the next noise epoch too


def _corrupt(folder, tmp_path, fn):
    dst = tmp_path / "c"
    shutil.copytree(folder, dst)
    fn(dst)
    return dst


def _edit_json(name, change):
    def fn(d):
        data = json.loads((d / name).read_text())
        change(data)
        (d / name).write_text(json.dumps(data))
    return fn


def _edit_npz(name, key, change):
    def fn(d):
        with np.load(d / name) as f:
            arrs = {k: f[k] for k in f.files}
        if change is None:
            del arrs[key]
        else:
            arrs[key] = change(arrs[key])
        np.savez(d / name, **arrs)
    return fn


CORRUPTIONS = [
    ("not json", lambda d: (d / "mapping_table.json").write_text("{"), "mapping_table.json"),
    ("version", _edit_json("mapping_table.json", lambda t: t.update(version=99)), r"mapping_table.json: version"),
    ("max_rows", _edit_json("mapping_table.json", lambda t: t["layers"][0]["analog"]["mapping"].update(max_rows=1)),
     r"mapping_table.json: layers\[0\].analog.mapping: max_rows = 1"),
    ("tiles", _edit_json("mapping_table.json", lambda t: t["layers"][4]["analog"]["tiles"].pop()),
     r"mapping_table.json: layers\[4\].analog.tiles: 3 tiles"),
    ("devices", _edit_json("mapping_table.json", lambda t: t["layers"][4]["analog"]["tiles"][0].update(devices=7)),
     r"layers\[4\].analog.tiles\[0\].devices"),
    ("epoch", _edit_json("mapping_table.json", lambda t: t["layers"][0]["analog"].update(epoch=-1)),
     r"layers\[0\].analog.epoch: -1"),
    ("rng", _edit_json("mapping_table.json", lambda t: t["layers"][0]["analog"].update(rng_state={"a": 1})),
     r"rng_state"),
    ("preset", _edit_json("mapping_table.json", lambda t: t["device"]["device"].update(g_max=-1.0)),
     r"mapping_table.json: device: .*g_max"),
    ("g shape", _edit_npz("devices.npz", "linear5/0/g", lambda a: a[:-1]), r"devices.npz: linear5/0/g: shape"),
    ("g nan", _edit_npz("devices.npz", "linear5/1/g", lambda a: np.where(np.arange(a.size) == 3, np.nan, a)),
     r"devices.npz: linear5/1/g: holds nan at index 3"),
    ("fault", _edit_npz("devices.npz", "conv2d0/0/fault", lambda a: a * 0 + 5), r"conv2d0/0/fault: holds 5"),
    ("r_eq missing", _edit_npz("devices.npz", "conv2d0/0/r_eq", None), r"devices.npz: conv2d0/0/r_eq: missing"),
    ("weight", _edit_npz("weights.npz", "linear5/weight", lambda a: a[:, :3]), r"linear5.*n_out/n_in|linear5/weight"),
    ("zip", lambda d: (d / "devices.npz").write_bytes((d / "devices.npz").read_bytes()[:200]), r"devices.npz: not"),
    ("cal length", _edit_json("calibration/linear5.tile2.json", lambda c: c["cal_gain"].pop()),
     r"calibration/linear5.tile2.json: cal_gain"),
    ("cal alpha", _edit_json("calibration/conv2d0.tile0.json", lambda c: c.update(alpha=0)),
     r"calibration/conv2d0.tile0.json: alpha"),
    ("missing file", lambda d: (d / "weights.npz").unlink(), r"weights.npz: missing"),
]


@pytest.mark.parametrize("name,fn,match", CORRUPTIONS, ids=[c[0] for c in CORRUPTIONS])
def test_corrupt_artifacts_are_refused_naming_file_and_field(saved, tmp_path, name, fn, match):
    _, _, folder = saved
    with pytest.raises(ArtifactError, match=match):
        aimc.AnalogModel.load(_corrupt(folder, tmp_path, fn))


def test_health_report_counts_the_devices(saved):
    m, _, folder = saved
    with open(folder / "tile_health_report.csv") as f:
        rows = list(csv.DictReader(f))
    tiles = [t for _, t in m.tiles]
    assert len(rows) == len(tiles)
    for row, t in zip(rows, tiles, strict=True):
        assert int(row["stuck_on"]) == int(np.sum(t.prog.fault == 1))
        assert int(row["stuck_off"]) == int(np.sum(t.prog.fault == -1))
        assert int(row["pulses_used"]) == t.prog.pulses
        assert float(row["age_s"]) == 3600.0 and row["ir_model"] == "nodal"
        left = (t.prog.budget - t.prog.counts)[t.prog.fault == 0]
        assert float(row["endurance_left_min"]) == float(left.min())
    assert sum(int(r["stuck_on"]) + int(r["stuck_off"]) for r in rows) > 0


def test_telemetry_lines_add_up_to_the_run(tmp_path):
    m = _model()
    x = np.random.default_rng(2).random((5, 1, 8, 8))
    m.reset_counters()
    (tmp_path / "telemetry.jsonl").write_text("an older log\n")
    m.log_telemetry(tmp_path / "telemetry.jsonl")
    assert (tmp_path / "telemetry.jsonl").read_text() == ""  # a new log replaces the old one once
    sizes = []
    for _ in range(3):
        m(x)
        sizes.append((tmp_path / "telemetry.jsonl").stat().st_size)
    lines = [json.loads(s) for s in (tmp_path / "telemetry.jsonl").read_text().splitlines()]
    # appended: each batch adds exactly its own line
    assert sizes == list(np.cumsum([len(json.dumps(r, allow_nan=False)) + 1 for r in lines]))
    assert [r["batch"] for r in lines] == [0, 1, 2] and all(r["vectors"] == 5 for r in lines)
    total = m.energy("hermes_pcm", include_program=False).total
    assert sum(r["energy_total_j"] for r in lines) == pytest.approx(total.inference_energy, rel=1e-12)
    assert sum(r["macs"] for r in lines) == total.macs


def test_every_field_of_the_mapping_table_is_checked(saved, tmp_path):
    """Any analog-layer or tile field replaced by a wrong type gives an ArtifactError naming it, never a crash."""
    _, _, folder = saved
    table = json.loads((folder / "mapping_table.json").read_text())
    analog = table["layers"][4]["analog"]
    fields = [("analog", k) for k in analog if k not in ("tiles",)] + [("tile", k) for k in analog["tiles"][0]]
    for where, key in fields:
        def change(t, where=where, key=key):
            a = t["layers"][4]["analog"]
            (a if where == "analog" else a["tiles"][0])[key] = "x"
        d = _corrupt(folder, tmp_path / f"{where}_{key}", _edit_json("mapping_table.json", change))
        with pytest.raises(ArtifactError, match=r"mapping_table.json: layers\[4\]") as err:
            aimc.AnalogModel.load(d)
        assert key in str(err.value), (where, key, str(err.value))
