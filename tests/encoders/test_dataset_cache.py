"""Dataset cache: layout, atomic writes, checksum, corrupted files rebuilt, unwritable folders tolerated."""

import doctest
import importlib
import json
import logging
import os
import zipfile

import numpy as np
import pytest
from memr_snn.encoders.datasets import cache as C


def _build_counter():
    calls = []

    def build():
        calls.append(1)
        return {"x": np.arange(12, dtype=np.uint8).reshape(3, 4), "y": np.array([0, 1, 2]), "t": np.linspace(0, 1, 5)}

    return build, calls


def test_doctest():
    assert doctest.testmod(importlib.import_module("memr_snn.encoders.datasets.cache")).failed == 0


def test_data_dir_env_and_layout(tmp_path, monkeypatch):
    monkeypatch.setenv(C.DATA_ENV, str(tmp_path / "env-root"))
    assert C.data_dir() == tmp_path / "env-root"
    assert C.data_dir(tmp_path / "explicit") == tmp_path / "explicit"
    monkeypatch.delenv(C.DATA_ENV)
    assert C.data_dir() == C.Path("~/.cache/memr_snn").expanduser()
    p = C.cache_path("dvs-digits", 3, {"seed": 0, "n": 10}, root=tmp_path)
    assert p.parent == tmp_path / "dvs-digits" / "v3" and p.suffix == ".npz"
    # the key depends on the parameters, not on their order
    assert p == C.cache_path("dvs-digits", 3, {"n": 10, "seed": 0}, root=tmp_path)
    assert p != C.cache_path("dvs-digits", 3, {"n": 11, "seed": 0}, root=tmp_path)
    assert p != C.cache_path("dvs-digits", 4, {"n": 10, "seed": 0}, root=tmp_path)


def test_cached_builds_once_then_reads(tmp_path):
    build, calls = _build_counter()
    a, meta = C.cached("toy", 1, {"seed": 1}, build, meta={"source": "unit test"}, root=tmp_path)
    b, meta2 = C.cached("toy", 1, {"seed": 1}, build, root=tmp_path)
    assert len(calls) == 1
    for k in a:
        np.testing.assert_array_equal(a[k], b[k])
        assert a[k].dtype == b[k].dtype
    assert meta2["params"] == {"seed": 1} and meta2["source"] == "unit test" and meta2["version"] == "1"
    assert meta2["path"] == meta["path"] and os.path.isfile(meta["path"])
    # no temporary files are left next to the cache file
    assert [f.name for f in (tmp_path / "toy" / "v1").iterdir()] == [os.path.basename(meta["path"])]
    C.cached("toy", 1, {"seed": 1}, build, root=tmp_path, refresh=True)
    assert len(calls) == 2
    C.cached("toy", 2, {"seed": 1}, build, root=tmp_path)  # a new generator version: a new file
    assert len(calls) == 3


def _corruptions(path):
    """Ways a cache file goes bad: truncated, bytes flipped inside array data, garbage, no metadata,
    arrays edited under an intact zip (valid CRCs, wrong checksum)."""
    raw = path.read_bytes()
    yield "truncated", raw[: len(raw) // 2]
    flipped = bytearray(raw)
    i = raw.index(b"\x00\x01\x02\x03\x04\x05")  # the uint8 array 0..11
    flipped[i + 3] ^= 0xFF
    yield "flipped", bytes(flipped)
    yield "garbage", os.urandom(200)
    yield "empty", b""
    with np.load(path) as z:
        arrays = {k: z[k] for k in z.files}
    no_meta = path.with_suffix(".nometa.npz")
    np.savez(no_meta, **{k: v for k, v in arrays.items() if k != "__meta__"})
    yield "no metadata", no_meta.read_bytes()
    edited = path.with_suffix(".edited.npz")
    arrays["y"] = arrays["y"] + 1
    np.savez(edited, **arrays)
    yield "edited", edited.read_bytes()


def test_corrupted_files_are_detected_and_rebuilt(tmp_path, caplog):
    build, calls = _build_counter()
    good, meta = C.cached("toy", 1, {"seed": 2}, build, root=tmp_path)
    path = C.Path(meta["path"])
    for label, data in list(_corruptions(path)):
        path.write_bytes(data)
        with pytest.raises(C.CacheCorruptError):
            C.load_npz(path)
        n = len(calls)
        with caplog.at_level(logging.WARNING, logger=C.__name__):
            again, _ = C.cached("toy", 1, {"seed": 2}, build, root=tmp_path)
        assert len(calls) == n + 1, label
        assert "rebuilding" in caplog.text
        np.testing.assert_array_equal(again["x"], good["x"])
        C.load_npz(path)  # rewritten, valid again
    assert issubclass(C.CacheCorruptError, ValueError)


def test_unwritable_cache_still_returns_data(tmp_path, caplog):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the cache root should be")
    build, calls = _build_counter()
    with caplog.at_level(logging.WARNING, logger=C.__name__):
        arrays, meta = C.cached("toy", 1, {"seed": 3}, build, root=blocker)
    assert meta["path"] is None and arrays["x"].shape == (3, 4) and "could not write" in caplog.text


def test_save_is_atomic_on_failure(tmp_path, monkeypatch):
    """If the write fails half-way, the old file stays intact and no temporary file remains."""
    target = tmp_path / "d" / "f.npz"
    C.save_npz(target, {"a": np.arange(3)}, {"k": 1})

    def broken_savez(fh, **kw):
        fh.write(b"partial")
        raise OSError("disk full")

    monkeypatch.setattr(C.np, "savez", broken_savez)
    with pytest.raises(OSError, match="disk full"):
        C.save_npz(target, {"a": np.arange(5)})
    monkeypatch.undo()
    arrays, meta = C.load_npz(target)
    np.testing.assert_array_equal(arrays["a"], np.arange(3)) and meta == {"k": 1}
    assert [f.name for f in target.parent.iterdir()] == ["f.npz"]


def test_npz_is_plain_and_pickle_free(tmp_path):
    p = C.save_npz(tmp_path / "x.npz", {"a": np.eye(2)}, {"note": "hi"})
    with zipfile.ZipFile(p) as z:
        assert sorted(z.namelist()) == ["__meta__.npy", "a.npy"]
    with np.load(p, allow_pickle=False) as z:
        doc = json.loads(bytes(z["__meta__"]).decode())
    assert doc["meta"] == {"note": "hi"} and len(doc["sha256"]) == 64


def test_bad_arguments(tmp_path):
    build, _ = _build_counter()
    for name in ("", "../up", "a/b", "-x", 3):
        with pytest.raises(ValueError, match="name"):
            C.cached(name, 1, {}, build, root=tmp_path)
    for version in (-1, "1/2", True, 1.5):
        with pytest.raises(ValueError, match="version"):
            C.cached("toy", version, {}, build, root=tmp_path)
    with pytest.raises(ValueError, match="JSON"):
        C.cached("toy", 1, {"f": float("nan")}, build, root=tmp_path)
    with pytest.raises(ValueError, match="object"):
        C.save_npz(tmp_path / "o.npz", {"a": np.array([None, 1], dtype=object)})
    with pytest.raises(ValueError, match="names"):
        C.save_npz(tmp_path / "o.npz", {"__meta__": np.zeros(1)})
    with pytest.raises(TypeError, match="mapping"):
        C.cached("toy", 1, {"z": 1}, lambda: [1, 2], root=tmp_path)
    with pytest.raises(FileNotFoundError):
        C.load_npz(tmp_path / "missing.npz")


def test_clear_cache(tmp_path):
    build, _ = _build_counter()
    C.cached("one", 1, {}, build, root=tmp_path)
    C.cached("two", 1, {}, build, root=tmp_path)
    C.clear_cache("one", root=tmp_path)
    assert not (tmp_path / "one").exists() and (tmp_path / "two").exists()
    C.clear_cache(root=tmp_path)
    assert not tmp_path.exists()
