r"""Artifacts of a compiled analog model: save, reopen bit for bit, health report, telemetry.

:meth:`AnalogModel.save(folder) <memr_snn.aimc.AnalogModel.save>` writes (every file through
:mod:`memr_snn.io.atomic`, so a crash never leaves a half-written file):

``mapping_table.json``
    format ``memr_snn.aimc_model`` version 1: the layers in order (type, name, parameters), for every
    analog layer its tile layout (row and output ranges, channels, devices, IR-drop model,
    programming totals), encoding, DAC/ADC configuration (:class:`~memr_snn.aimc.IOConfig`), mapping
    (:class:`~memr_snn.aimc.MappingConfig`), seed, present age, noise epoch, calibration time and the
    state of its output-noise generator; the device preset in full (``preset_to_dict``), the
    calibration settings.
``weights.npz``
    the layers' arrays (weights after batch-norm folding, biases, batch-norm statistics).
``devices.npz``
    per tile ``<layer>/<tile>/<array>``: programmed conductances ``g`` [S], drift exponents ``nu``,
    fault states, pulse counts, endurance budgets, retention failure ages, the IR-drop model
    ``r_eq`` / ``g_sn`` when the tile has wires, and for a fault-aware mapping (``fault_test``,
    :mod:`.faults`) the layout ``row_map`` / ``col_map`` (physical row and pair of every logical one) and
    the range test's measured ``test_lo`` / ``test_hi`` [S].
``calibration/<layer>.tile<k>.json``
    per tile: column gains and offsets, drift-compensation reference and factor.
``tile_health_report.csv``
    per tile: stuck and worn-out devices, retention failures, drift state at the present age, pulses
    used, endurance left; devices the range test flagged, spare columns and rows and how many of them
    hold a logical channel or row.

:meth:`AnalogModel.load(folder) <memr_snn.aimc.AnalogModel.load>` checks every file and field before
any array is used (:class:`ArtifactError` names the file and the field), rebuilds the layers without
programming a device, takes the read snapshot of the stored noise epoch again and restores the
calibration and the generator state: the reopened model gives the same outputs bit for bit.

:class:`Telemetry` (``model.log_telemetry(path, profile)``) appends one JSON line per inference batch:
batch size, age, energy by component [J], latency [s] of that batch (priced with an
:class:`~memr_snn.aimc.AIMCProfile`); the log is created empty when logging starts and each batch appends
its line (a crash loses at most the line being written).
"""

from __future__ import annotations

import csv
import dataclasses
import io as _io
import json
import math
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from .._json_files import parse_json
from ..io.atomic import save_npz, write_text
from .calibration import CalibrationConfig
from .devices import ArraySpec, DeviceAdapter, Programmed, preset_from_dict
from .energy import COMPONENTS, load_profile
from .layers import AnalogConv2d, AnalogLinear, Argmax, AvgPool2d, BatchNorm, Flatten, MaxPool2d, ReLU
from .mapping import MappingConfig
from .periphery import ADC, DAC, IOConfig
from .tile import FaultLayout

__all__ = ["ArtifactError", "save_model", "load_model", "health_rows", "write_health_report", "Telemetry",
           "ARTIFACT_FORMAT", "ARTIFACT_VERSION", "HEALTH_FIELDS"]

ARTIFACT_FORMAT = "memr_snn.aimc_model"
ARTIFACT_VERSION = 1
MAPPING_FILE = "mapping_table.json"
WEIGHTS_FILE = "weights.npz"
DEVICES_FILE = "devices.npz"
HEALTH_FILE = "tile_health_report.csv"
CAL_DIR = "calibration"
HEALTH_FIELDS = ("layer", "tile", "rows", "outputs", "devices", "stuck_on", "stuck_off", "worn_out",
                 "retention_failed", "age_s", "nu_mean", "drift_factor_mean", "pulses_used", "endurance_left_min",
                 "endurance_left_mean", "endurance_used_max", "drift_alpha", "ir_model", "detected_faults",
                 "spare_columns", "spare_rows", "channels_on_spares", "rows_on_spares")
#: per-tile arrays of a fault-aware tile in ``devices.npz`` (:class:`~memr_snn.aimc.tile.FaultLayout`)
LAYOUT_ARRAYS = ("row_map", "col_map", "test_lo", "test_hi")
_LAYER_KINDS = {AnalogLinear: "linear", AnalogConv2d: "conv2d", ReLU: "relu", MaxPool2d: "maxpool2d",
                AvgPool2d: "avgpool2d", BatchNorm: "batchnorm", Flatten: "flatten", Argmax: "argmax"}
_ARRAYS = {"linear": ("weight", "bias"), "conv2d": ("weight", "bias"),
           "batchnorm": ("gamma", "beta", "mean", "var")}


class ArtifactError(ValueError):
    """A saved model's file is missing, unreadable or inconsistent; the message names the file and field."""


# ----------------------------------------------------------------------------- save
def _io_dict(io: IOConfig) -> dict:
    return dataclasses.asdict(io)


def _mapping_dict(m: MappingConfig) -> dict:
    return dataclasses.asdict(m)


def _layer_entry(lay) -> tuple[dict, dict[str, np.ndarray]]:
    kind = _LAYER_KINDS.get(type(lay))
    if kind is None:
        raise TypeError(f"{lay.name}: layers of type {type(lay).__name__} cannot be saved")
    entry: dict[str, Any] = {"type": kind, "name": lay.name}
    arrays = {}
    if kind in ("linear", "conv2d"):
        arrays["weight"] = lay.weight
        if lay.bias is not None:
            arrays["bias"] = lay.bias
        if kind == "conv2d":
            entry.update(stride=lay.stride, padding=lay.padding)
    elif kind in ("maxpool2d", "avgpool2d"):
        entry.update(kernel=lay.kernel, stride=lay.stride)
    elif kind == "batchnorm":
        entry["eps"] = lay.eps
        arrays.update(gamma=lay.gamma, beta=lay.beta, mean=lay.mean, var=lay.var)
    return entry, arrays


def _tile_file(layer: str, k: int) -> str:
    return f"{CAL_DIR}/{layer}.tile{k}.json"


def health_rows(model) -> list[dict[str, Any]]:
    """One dict per tile with :data:`HEALTH_FIELDS` at the model's present age."""
    rows = []
    for lay in model.analog_layers:
        mat = lay.matrix
        for t in mat.tiles:
            h = t.health(mat.time)
            rows.append({"layer": lay.name, "tile": t.index, "rows": f"{t.rows[0]}-{t.rows[1]}",
                         "outputs": f"{t.outs[0]}-{t.outs[1]}", **{k: h[k] for k in HEALTH_FIELDS if k in h},
                         "drift_alpha": t.alpha, "ir_model": t.ir_model})
    return rows


def write_health_report(model, path: str | Path) -> Path:
    """``tile_health_report.csv`` (:data:`HEALTH_FIELDS`) at ``path``."""
    buf = _io.StringIO()
    w = csv.DictWriter(buf, fieldnames=HEALTH_FIELDS, lineterminator="\n")
    w.writeheader()
    for row in health_rows(model):
        w.writerow({k: (repr(v) if isinstance(v, float) else v) for k, v in row.items()})
    return write_text(path, buf.getvalue())


def save_model(model, folder: str | Path) -> Path:
    """Write the artifacts of ``model`` into ``folder`` (module docstring); returns the folder."""
    folder = Path(folder)
    (folder / CAL_DIR).mkdir(parents=True, exist_ok=True)
    layers, weights, devices = [], {}, {}
    for lay in model.layers:
        entry, arrays = _layer_entry(lay)
        if any(e["name"] == lay.name for e in layers):
            raise ValueError(f"layer name {lay.name!r} is used twice: names must be unique to save a model")
        for k, v in arrays.items():
            weights[f"{lay.name}/{k}"] = np.asarray(v, dtype=np.float64)
        if lay.analog:
            mat = lay.matrix
            tiles = []
            for t in mat.tiles:
                p = t.prog
                tiles.append({"index": t.index, "rows": list(t.rows), "outputs": list(t.outs), "channels": t.n_ch,
                              "devices": t.n_devices, "ir_model": t.ir_model,
                              "physical_shape": list(t.physical(p.g).shape),
                              "program": {k: getattr(p, k) for k in Programmed.TOTALS},
                              "calibration_file": _tile_file(lay.name, t.index)})
                for k in Programmed.ARRAYS:
                    devices[f"{lay.name}/{t.index}/{k}"] = getattr(p, k)
                if t.layout is not None:
                    for k in LAYOUT_ARRAYS:
                        devices[f"{lay.name}/{t.index}/{k}"] = getattr(t.layout, k)
                if t.r_eq is not None:
                    devices[f"{lay.name}/{t.index}/r_eq"] = t.r_eq
                    devices[f"{lay.name}/{t.index}/g_sn"] = t.g_sn
                cal = {"format": "memr_snn.aimc_tile_calibration", "version": 1, "layer": lay.name, "tile": t.index,
                       "cal_gain": t.cal_gain.tolist(), "cal_offset": t.cal_offset.tolist(),
                       "drift_reference": t.drift.reference, "alpha": t.alpha, "use_alpha": t.use_alpha}
                write_text(folder / _tile_file(lay.name, t.index), json.dumps(cal, indent=1, allow_nan=False) + "\n")
            entry["analog"] = {"mapping": _mapping_dict(mat.mapping), "io": _io_dict(mat.io), "seed": mat.seed,
                               "n_in": mat.n_in, "n_out": mat.n_out, "time": mat.time, "epoch": mat.epoch,
                               "cal_time": mat.cal_time, "rng_state": mat._rng.bit_generator.state, "tiles": tiles}
        layers.append(entry)
    table = {"format": ARTIFACT_FORMAT, "version": ARTIFACT_VERSION, "seed": model.seed,
             "device": model.device.to_dict(), "mapping": _mapping_dict(model.mapping), "io": _io_dict(model.io),
             "calibration": model.calibration.to_dict(), "layers": layers}
    save_npz(folder / WEIGHTS_FILE, compressed=False, **weights)
    save_npz(folder / DEVICES_FILE, compressed=False, **devices)
    write_text(folder / MAPPING_FILE, json.dumps(table, indent=1, allow_nan=False) + "\n")
    write_health_report(model, folder / HEALTH_FILE)
    return folder


# ----------------------------------------------------------------------------- load
class _Reader:
    """Field access that names the file and the path of every bad value."""

    def __init__(self, file: str) -> None:
        self.file = file

    def fail(self, field: str, msg: str) -> ArtifactError:
        return ArtifactError(f"{self.file}: {field}: {msg}")

    def get(self, d: Any, key: str, field: str, kinds: tuple, *, none: bool = False) -> Any:
        if not isinstance(d, dict):
            raise self.fail(field.rpartition(".")[0] or field, f"must be an object, got {type(d).__name__}")
        if key not in d:
            raise self.fail(field, "missing")
        v = d[key]
        if v is None and none:
            return None
        if isinstance(v, bool) and bool not in kinds:
            raise self.fail(field, f"must be {'/'.join(k.__name__ for k in kinds)}, got {v!r}")
        if not isinstance(v, kinds):
            raise self.fail(field, f"must be {'/'.join(k.__name__ for k in kinds)}, got {v!r}")
        return v

    def num(self, d, key, field, low=-math.inf, high=math.inf, *, integer=False, none=False):
        v = self.get(d, key, field, (int,) if integer else (int, float), none=none)
        if v is None:
            return None
        if not (math.isfinite(v) and low <= v <= high):
            raise self.fail(field, f"{v!r} is outside the allowed range [{low:g}, {high:g}]")
        return v

    def build(self, field: str, fn, *args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except (TypeError, ValueError) as exc:
            raise self.fail(field, str(exc)) from None


def _read_json(folder: Path, name: str) -> Any:
    path = folder / name
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ArtifactError(f"{name}: missing from {folder}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ArtifactError(f"{name}: cannot be read ({exc})") from None
    return parse_json(text, name, ArtifactError)


def _read_npz(folder: Path, name: str) -> dict[str, np.ndarray]:
    path = folder / name
    if not path.is_file():
        raise ArtifactError(f"{name}: missing from {folder}")
    try:
        with np.load(path, allow_pickle=False) as f:
            return {k: f[k] for k in f.files}
    except (OSError, ValueError, EOFError, zipfile.BadZipFile, KeyError) as exc:
        raise ArtifactError(f"{name}: not a readable .npz file ({exc})") from None


def _array(arrs: dict, file: str, key: str, shape: tuple, dtype, *, low=None, finite=True, allow_inf=False,
           values=None) -> np.ndarray:
    if key not in arrs:
        raise ArtifactError(f"{file}: {key}: missing")
    a = arrs[key]
    if a.shape != shape:
        raise ArtifactError(f"{file}: {key}: shape {a.shape}, expected {shape}")
    if np.dtype(dtype).kind == "f":
        if a.dtype.kind not in "fiu":
            raise ArtifactError(f"{file}: {key}: dtype {a.dtype}, expected a float array")
        a = a.astype(np.float64)
        bad = np.isnan(a) | (np.isinf(a) if not allow_inf else np.isneginf(a))
        if finite and bad.any():
            raise ArtifactError(f"{file}: {key}: holds {float(a[bad][0])!r} at index {int(np.argmax(bad.ravel()))}")
    else:
        if a.dtype.kind not in "iu":
            raise ArtifactError(f"{file}: {key}: dtype {a.dtype}, expected an integer array")
        a = a.astype(dtype)
    if low is not None and a.size and np.min(a) < low:
        raise ArtifactError(f"{file}: {key}: holds {np.min(a).item()!r} < {low}")
    if values is not None and a.size and not np.all(np.isin(a, values)):
        bad = a[~np.isin(a, values)][0].item()
        raise ArtifactError(f"{file}: {key}: holds {bad!r}, allowed values {list(values)}")
    return a


def _mapping_from(r: _Reader, d: Any, field: str) -> MappingConfig:
    if not isinstance(d, dict):
        raise r.fail(field, f"must be an object, got {d!r}")
    d = dict(d)
    arr = d.get("array")
    if arr is not None:
        if not isinstance(arr, dict):
            raise r.fail(f"{field}.array", f"must be an object or null, got {arr!r}")
        d["array"] = r.build(f"{field}.array", ArraySpec, **arr)
    return r.build(field, MappingConfig, **d)


def _io_from(r: _Reader, d: Any, field: str) -> IOConfig:
    if not isinstance(d, dict):
        raise r.fail(field, f"must be an object, got {d!r}")
    d = dict(d)
    for key, cls in (("dac", DAC), ("adc", ADC)):
        if not isinstance(d.get(key), dict):
            raise r.fail(f"{field}.{key}", f"must be an object, got {d.get(key)!r}")
        d[key] = r.build(f"{field}.{key}", cls, **d[key])
    return r.build(field, IOConfig, **d)


def _layer_from(r: _Reader, i: int, e: Any, weights: dict):
    f = f"layers[{i}]"
    kind = r.get(e, "type", f"{f}.type", (str,))
    if kind not in set(_LAYER_KINDS.values()):
        raise r.fail(f"{f}.type", f"{kind!r} is not one of {sorted(set(_LAYER_KINDS.values()))}")
    name = r.get(e, "name", f"{f}.name", (str,))
    arrs = {}
    for k in _ARRAYS.get(kind, ()):
        key = f"{name}/{k}"
        if key not in weights:
            if k == "bias":
                continue
            raise ArtifactError(f"{WEIGHTS_FILE}: {key}: missing")
        a = weights[key]
        if a.dtype.kind != "f" or not np.all(np.isfinite(a)):
            raise ArtifactError(f"{WEIGHTS_FILE}: {key}: must be a finite float array")
        arrs[k] = a
    w = WEIGHTS_FILE
    if kind == "linear":
        return _build(w, name, AnalogLinear, arrs["weight"], arrs.get("bias"), name=name)
    if kind == "conv2d":
        return _build(w, name, AnalogConv2d, arrs["weight"], arrs.get("bias"), name=name,
                      stride=r.num(e, "stride", f"{f}.stride", 1, 4096, integer=True),
                      padding=r.num(e, "padding", f"{f}.padding", 0, 4096, integer=True))
    if kind in ("maxpool2d", "avgpool2d"):
        cls = MaxPool2d if kind == "maxpool2d" else AvgPool2d
        return r.build(f, cls, r.num(e, "kernel", f"{f}.kernel", 1, 4096, integer=True),
                       r.num(e, "stride", f"{f}.stride", 1, 4096, integer=True), name)
    if kind == "batchnorm":
        return _build(w, name, BatchNorm, arrs["gamma"], arrs["beta"], arrs["mean"], arrs["var"],
                      r.num(e, "eps", f"{f}.eps", 1e-300, 1.0), name)
    return {"relu": ReLU, "flatten": Flatten, "argmax": Argmax}[kind](name)


def _build(file: str, where: str, cls, *args, **kwargs):
    try:
        return cls(*args, **kwargs)
    except (TypeError, ValueError) as exc:
        raise ArtifactError(f"{file}: {where}: {exc}") from None


def _tiles_of(mat_shape, mapping: MappingConfig, encoding_ref: bool) -> list[tuple]:
    """``(rows, outputs, channels, devices, physical shape)`` of every tile the mapping gives."""
    n_out, n_in = mat_shape
    rows, outs = mapping.rows_per_tile, mapping.outputs_per_tile
    rb = [(a, min(a + rows, n_in)) for a in range(0, n_in, rows)]
    cb = [(a, min(a + outs, n_out)) for a in range(0, n_out, outs)]
    out = []
    for r0, r1 in rb:
        for o0, o1 in cb:
            n_ch = (o1 - o0) * mapping.channels_per_output
            if encoding_ref:
                n_dev, phys = n_ch * (r1 - r0) + (r1 - r0), [r1 - r0, n_ch + 1]
            else:
                n_ch_p, n_in_p = n_ch + mapping.spare_channels, r1 - r0 + mapping.spare_rows
                n_dev, phys = 2 * n_ch_p * n_in_p, [n_in_p, 2 * n_ch_p]
            out.append(((r0, r1), (o0, o1), n_ch, n_dev, phys))
    return out


def _layout_from(devs: dict, pre: str, m: MappingConfig, n_in: int, n_ch: int, n_dev: int) -> FaultLayout:
    """The stored :class:`FaultLayout` of a tile, every array checked (a map must send distinct logical lines to
    physical ones that exist)."""
    ref = m.encoding == "reference"
    maps = {}
    for key, n, n_phys in (("row_map", n_in, n_in if ref else n_in + m.spare_rows),
                           ("col_map", n_ch, n_ch if ref else n_ch + m.spare_channels)):
        a = _array(devs, DEVICES_FILE, pre + key, (n,), np.int64, low=0)
        if a.size and a.max() >= n_phys:
            raise ArtifactError(f"{DEVICES_FILE}: {pre}{key}: holds {int(a.max())}, the tile has {n_phys} physical "
                                f"{'rows' if key == 'row_map' else 'channels'}")
        if np.unique(a).size != a.size:
            raise ArtifactError(f"{DEVICES_FILE}: {pre}{key}: two logical lines share a physical one")
        maps[key] = a
    lo = _array(devs, DEVICES_FILE, pre + "test_lo", (n_dev,), np.float64, low=0.0)
    hi = _array(devs, DEVICES_FILE, pre + "test_hi", (n_dev,), np.float64, low=0.0)
    return FaultLayout(maps["row_map"], maps["col_map"], lo, hi)


def load_model(folder: str | Path):
    """Reopen a model saved by :func:`save_model` (module docstring).

    Raises
    ------
    ArtifactError
        A missing, unreadable or inconsistent file; the message names the file and the field.
    """
    from .model import AnalogModel

    folder = Path(folder)
    if not folder.is_dir():
        raise ArtifactError(f"{folder}: not a folder of AIMC model artifacts")
    r = _Reader(MAPPING_FILE)
    table = _read_json(folder, MAPPING_FILE)
    if not isinstance(table, dict):
        raise r.fail("(top level)", f"must be an object, got {type(table).__name__}")
    if table.get("format") != ARTIFACT_FORMAT:
        raise r.fail("format", f"must be {ARTIFACT_FORMAT!r}, got {table.get('format')!r}")
    if table.get("version") != ARTIFACT_VERSION:
        raise r.fail("version", f"must be {ARTIFACT_VERSION}, got {table.get('version')!r} (a newer memr_snn wrote "
                                f"it?)")
    seed = r.num(table, "seed", "seed", 0, 2**31 - 1, integer=True)
    preset = r.build("device", preset_from_dict, r.get(table, "device", "device", (dict,)))
    device = DeviceAdapter(preset)
    mapping = _mapping_from(r, table.get("mapping"), "mapping")
    io = _io_from(r, table.get("io"), "io")
    cal_d = r.get(table, "calibration", "calibration", (dict,))
    calibration = r.build("calibration", CalibrationConfig, **cal_d)
    entries = r.get(table, "layers", "layers", (list,))
    if not entries:
        raise r.fail("layers", "is empty")
    weights = _read_npz(folder, WEIGHTS_FILE)
    devs = _read_npz(folder, DEVICES_FILE)
    layers, programmed, states, names = [], {}, {}, set()
    for i, e in enumerate(entries):
        lay = _layer_from(r, i, e, weights)
        if lay.name in names:
            raise r.fail(f"layers[{i}].name", f"{lay.name!r} is used twice")
        names.add(lay.name)
        layers.append(lay)
        if not lay.analog:
            continue
        f = f"layers[{i}].analog"
        a = r.get(e, "analog", f, (dict,))
        m = _mapping_from(r, a.get("mapping"), f"{f}.mapping")
        o = _io_from(r, a.get("io"), f"{f}.io")
        lay.overrides.update(mapping=m, io=o)
        shape = lay.matrix_weight().shape
        if r.num(a, "n_out", f"{f}.n_out", integer=True) != shape[0] or \
                r.num(a, "n_in", f"{f}.n_in", integer=True) != shape[1]:
            raise r.fail(f"{f}.n_out/n_in", f"({a['n_out']}, {a['n_in']}) do not match {WEIGHTS_FILE} "
                                            f"{lay.name}/weight ({shape[0]}, {shape[1]})")
        expect = _tiles_of(shape, m, m.encoding == "reference")
        tiles = r.get(a, "tiles", f"{f}.tiles", (list,))
        if len(tiles) != len(expect):
            raise r.fail(f"{f}.tiles", f"{len(tiles)} tiles, but the mapping gives {len(expect)}")
        progs = []
        tile_states = []
        for k, (td, (rows, outs, n_ch, n_dev, phys)) in enumerate(zip(tiles, expect, strict=True)):
            tf = f"{f}.tiles[{k}]"
            if r.num(td, "index", f"{tf}.index", integer=True) != k:
                raise r.fail(f"{tf}.index", f"{td['index']!r}, expected {k}")
            if r.get(td, "rows", f"{tf}.rows", (list,)) != list(rows) or \
                    r.get(td, "outputs", f"{tf}.outputs", (list,)) != list(outs):
                raise r.fail(f"{tf}.rows/outputs", f"{td['rows']}/{td['outputs']}, the mapping gives "
                                                   f"{list(rows)}/{list(outs)}")
            if r.num(td, "devices", f"{tf}.devices", integer=True) != n_dev or \
                    r.num(td, "channels", f"{tf}.channels", integer=True) != n_ch:
                raise r.fail(f"{tf}.devices", f"{td['devices']} devices / {td['channels']} channels, the mapping "
                                              f"gives {n_dev} / {n_ch}")
            if r.get(td, "physical_shape", f"{tf}.physical_shape", (list,)) != phys:
                raise r.fail(f"{tf}.physical_shape", f"{td['physical_shape']!r}, the mapping gives {phys}")
            pd = r.get(td, "program", f"{tf}.program", (dict,))
            totals = {}
            for key, typ in Programmed.TOTALS.items():
                totals[key] = typ(r.num(pd, key, f"{tf}.program.{key}", 0, math.inf, integer=typ is int))
            pre = f"{lay.name}/{k}/"
            arr = {
                "g": _array(devs, DEVICES_FILE, pre + "g", (n_dev,), np.float64, low=0.0),
                "nu": _array(devs, DEVICES_FILE, pre + "nu", (n_dev,), np.float64, low=0.0),
                "fault": _array(devs, DEVICES_FILE, pre + "fault", (n_dev,), np.int8, values=(-1, 0, 1, 2)),
                "counts": _array(devs, DEVICES_FILE, pre + "counts", (n_dev,), np.int64, low=0),
                "budget": _array(devs, DEVICES_FILE, pre + "budget", (n_dev,), np.float64, allow_inf=True,
                                 low=1e-300),
                "t_fail": _array(devs, DEVICES_FILE, pre + "t_fail", (n_dev,), np.float64, allow_inf=True,
                                 low=0.0),
            }
            if np.any(arr["nu"] > 1.0):
                raise ArtifactError(f"{DEVICES_FILE}: {pre}nu: holds {float(arr['nu'].max())!r} > 1")
            ir = r.get(td, "ir_model", f"{tf}.ir_model", (str,))
            if ir not in ("none", "nodal", "series", "stored"):
                raise r.fail(f"{tf}.ir_model", f"{ir!r} is not one of ['none', 'nodal', 'series', 'stored']")
            wires = None
            if ir != "none":
                wires = (_array(devs, DEVICES_FILE, pre + "r_eq", (n_dev,), np.float64, low=0.0),
                         _array(devs, DEVICES_FILE, pre + "g_sn", (n_dev,), np.float64))
            layout = _layout_from(devs, pre, m, rows[1] - rows[0], n_ch, n_dev) if m.fault_test else None
            progs.append((Programmed(**arr, **totals), wires, layout))
            cal_file = r.get(td, "calibration_file", f"{tf}.calibration_file", (str,))
            if cal_file != _tile_file(lay.name, k):
                raise r.fail(f"{tf}.calibration_file", f"{cal_file!r}, expected {_tile_file(lay.name, k)!r}")
            tile_states.append((ir, _read_calibration(folder, cal_file, lay.name, k, n_ch)))
        programmed[lay.name] = progs
        state = {"time": r.num(a, "time", f"{f}.time", 0.0, 1e12),
                 "epoch": r.num(a, "epoch", f"{f}.epoch", 0, 2**62, integer=True),
                 "cal_time": r.num(a, "cal_time", f"{f}.cal_time", 0.0, 1e12, none=True),
                 "seed": r.num(a, "seed", f"{f}.seed", 0, 2**62, integer=True),
                 "rng_state": r.get(a, "rng_state", f"{f}.rng_state", (dict,)), "tiles": tile_states}
        states[lay.name] = state
    model = AnalogModel(layers, mapping=mapping, device=device, io=io, seed=seed, calibration=calibration,
                        programmed=programmed)
    for lay in model.analog_layers:
        st = states[lay.name]
        mat = lay.matrix
        if mat.seed != st["seed"]:
            raise r.fail(f"layers[{lay.name}].analog.seed", f"{st['seed']} does not match the model seed {seed}")
        mat.time, mat.epoch, mat.cal_time = float(st["time"]), int(st["epoch"]), st["cal_time"]
        for t, (ir, cal) in zip(mat.tiles, st["tiles"], strict=True):
            t.ir_model = ir
            t.snapshot(mat.time, mat.epoch)
            t.cal_gain, t.cal_offset = cal["cal_gain"], cal["cal_offset"]
            t.drift.reference, t.alpha, t.use_alpha = cal["drift_reference"], cal["alpha"], cal["use_alpha"]
            t.refresh()
        try:
            mat._rng.bit_generator.state = st["rng_state"]
        except (TypeError, ValueError, KeyError) as exc:
            raise r.fail(f"layers[{lay.name}].analog.rng_state", f"not a PCG64 state ({exc})") from None
    return model


def _read_calibration(folder: Path, name: str, layer: str, k: int, n_ch: int) -> dict:
    d = _read_json(folder, name)
    r = _Reader(name)
    if not isinstance(d, dict) or d.get("format") != "memr_snn.aimc_tile_calibration" or d.get("version") != 1:
        raise r.fail("format/version", "must be 'memr_snn.aimc_tile_calibration' version 1")
    if d.get("layer") != layer or d.get("tile") != k:
        raise r.fail("layer/tile", f"{d.get('layer')!r}/{d.get('tile')!r}, expected {layer!r}/{k}")
    out = {}
    for key in ("cal_gain", "cal_offset"):
        v = r.get(d, key, key, (list,))
        if len(v) != n_ch or not all(isinstance(x, (int, float)) and not isinstance(x, bool)
                                     and math.isfinite(x) for x in v):
            raise r.fail(key, f"must be {n_ch} finite numbers (one per channel), got {len(v)} values")
        out[key] = np.array(v, dtype=np.float64)
    out["drift_reference"] = r.num(d, "drift_reference", "drift_reference", 1e-300, math.inf, none=True)
    out["alpha"] = float(r.num(d, "alpha", "alpha", 1e-300, math.inf))
    out["use_alpha"] = r.get(d, "use_alpha", "use_alpha", (bool,))
    return out


# ----------------------------------------------------------------------------- telemetry
class Telemetry:
    """Energy and latency per inference batch as JSON lines (module docstring)."""

    def __init__(self, path: str | Path, profile="hermes_pcm") -> None:
        self.path = Path(path)
        self.profile = load_profile(profile)
        self.batches = 0
        write_text(self.path, "")  # a new log: an older one at the path is replaced once, here

    @staticmethod
    def _state(model) -> list:
        out = []
        for lay in model.layers:
            tiles = [dict(t.counters) for t in lay.matrix.tiles] if lay.analog else []
            out.append((lay.digital_ops, getattr(lay, "vectors", 0.0), tiles))
        return out

    def before(self, model) -> list:
        """Counter state before a batch."""
        return self._state(model)

    def after(self, model, before: list, batch: int) -> dict:
        """Price the batch run since ``before``, append its line, rewrite the log; returns the record."""
        now = self._state(model)
        for lay, (ops, vec, tiles) in zip(model.layers, before, strict=True):
            lay.digital_ops -= ops
            if lay.analog:
                lay.vectors -= vec
                for t, c in zip(lay.matrix.tiles, tiles, strict=True):
                    t.counters = {k: t.counters[k] - c[k] for k in t.counters}
        try:
            rep = model.energy(self.profile, include_program=False)
        finally:
            for lay, (ops, vec, tiles) in zip(model.layers, now, strict=True):
                lay.digital_ops = ops
                if lay.analog:
                    lay.vectors = vec
                    for t, c in zip(lay.matrix.tiles, tiles, strict=True):
                        t.counters = c
        tot = rep.total
        rec = {"batch": self.batches, "vectors": batch, "age_s": model.time, "profile": rep.profile,
               "energy_j": {k: tot.energy[k] for k in COMPONENTS if k != "program"},
               "energy_total_j": tot.inference_energy, "latency_s": tot.latency, "macs": tot.macs}
        self.batches += 1
        with open(self.path, "a", encoding="utf-8") as f:  # one line per batch, appended: O(1) per batch
            f.write(json.dumps(rec, allow_nan=False) + "\n")
            f.flush()
        return rec
