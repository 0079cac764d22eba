"""Tests for memr_snn.io.container: round trips, validation of damaged files, atomic writes."""

import hashlib
import json
import os
import pickle
import struct
import sys
import tempfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from memr_snn.io import FORMAT_VERSION, MAGIC, CheckpointError, read_container, write_container

DTYPES = ["?", "i1", "i2", "i4", "i8", "u1", "u2", "u4", "u8", "f2", "f4", "f8", "c8", "c16"]
SHAPES = [(), (0,), (1,), (7,), (3, 4), (2, 0, 5), (2, 3, 4)]


def assert_same_array(got: np.ndarray, want: np.ndarray) -> None:
    """Equal dtype (up to byte order), shape and bit pattern (so NaNs compare equal)."""
    want_le = np.asarray(want, dtype=want.dtype.newbyteorder("<"), order="C")
    assert got.dtype == want_le.dtype
    assert got.shape == want.shape
    assert got.tobytes() == want_le.tobytes()


def sample_array(dtype: str, shape: tuple, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    n = int(np.prod(shape))
    raw = rng.integers(0, 256, size=n * np.dtype(dtype).itemsize, dtype=np.uint8)
    if dtype == "?":
        raw = raw % 2
    return raw.view(dtype).reshape(shape)


def small_file(folder: Path) -> tuple[Path, bytes]:
    path = write_container(folder / "small.memr", {"step": 3, "name": "t"},
                           {"pop/0/v": np.array([1.5, -2.0], dtype=np.float32),
                            "flags": np.array([True, False]),
                            "k": np.array(7, dtype=np.int16)})
    return path, path.read_bytes()


def craft(path: Path, header: object, payload: bytes = b"", *, version: int = FORMAT_VERSION,
          header_bytes: bytes | None = None) -> Path:
    """Write a file with a *valid header checksum* around an arbitrary header."""
    if header_bytes is None:
        header_bytes = json.dumps(header).encode()
    head = MAGIC + struct.pack("<IQ", version, len(header_bytes))
    head += hashlib.sha256(head + header_bytes).digest()
    path.write_bytes(head + header_bytes + payload)
    return path


def valid_header(payload: bytes, arrays: list) -> dict:
    return {"meta": {}, "arrays": arrays, "payload_bytes": len(payload),
            "payload_sha256": hashlib.sha256(payload).hexdigest()}


# ------------------------------------------------------------------ round trips


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", SHAPES)
def test_round_trip_dtypes_and_shapes(tmp_path, dtype, shape):
    array = sample_array(dtype, shape)
    path = write_container(tmp_path / "c.memr", {}, {"a": array})
    meta, arrays = read_container(path)
    assert meta == {}
    assert list(arrays) == ["a"]
    assert_same_array(arrays["a"], array)


def test_round_trip_keeps_order_names_and_returns_fresh_arrays(tmp_path):
    source = {"pop/0/v": np.arange(5.0), "pop/0/spikes": np.array([True, False]),
              "proj/ee/indptr": np.arange(4, dtype=np.int64), "empty": np.zeros((0, 2)),
              "scalar": np.float64(2.5), "ünïcode name": np.array([1], dtype=np.uint32)}
    path = write_container(str(tmp_path / "c.memr"), {"a": 1}, source)
    assert isinstance(path, Path)
    meta, arrays = read_container(str(path))
    assert list(arrays) == list(source)
    for name, value in source.items():
        assert_same_array(arrays[name], np.asarray(value))
        assert arrays[name].flags.writeable
        assert arrays[name].flags.c_contiguous
        assert arrays[name].base is None


def test_non_contiguous_and_big_endian_inputs(tmp_path):
    base = np.arange(24, dtype=">f8").reshape(4, 6)
    source = {"transposed": base.T, "strided": base[::2, 1::3], "big": base}
    _, arrays = read_container(write_container(tmp_path / "c", {}, source))
    for name, value in source.items():
        np.testing.assert_array_equal(arrays[name], value)
        assert arrays[name].dtype == np.dtype("<f8")


def test_no_arrays_and_array_likes(tmp_path):
    _, arrays = read_container(write_container(tmp_path / "c", {"x": 1}, {}))
    assert arrays == {}
    _, arrays = read_container(write_container(tmp_path / "c", {}, {"l": [1, 2, 3], "f": 1.5}))
    np.testing.assert_array_equal(arrays["l"], [1, 2, 3])
    assert arrays["f"].shape == () and arrays["f"] == 1.5


def test_meta_round_trip(tmp_path):
    meta = {"seed": 42, "dt": 1e-4, "name": "cuba ✓", "none": None, "flag": True,
            "big": 2**80, "neg": -(2**70), "nested": {"a": [1, 2.5, "x", [None, False]]},
            "inf": float("inf"), "ninf": -float("inf"), "surrogate": "\ud800", "": "empty key"}
    got, _ = read_container(write_container(tmp_path / "c", meta, {}))
    assert got == meta
    got, _ = read_container(write_container(tmp_path / "c", {"nan": float("nan")}, {}))
    assert np.isnan(got["nan"])


def test_meta_normalisation(tmp_path):
    meta = {"tuple": (1, (2, 3)), "np_int": np.int64(5), "np_float": np.float32(0.5),
            "np_bool": np.bool_(True), "np_str": np.str_("s")}
    got, _ = read_container(write_container(tmp_path / "c", meta, {}))
    assert got == {"tuple": [1, [2, 3]], "np_int": 5, "np_float": 0.5, "np_bool": True,
                   "np_str": "s"}
    assert type(got["np_int"]) is int and type(got["np_bool"]) is bool


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(
    keys=st.text(alphabet=st.sampled_from("abc/_0ü "), min_size=1, max_size=8),
    values=hnp.arrays(dtype=st.sampled_from(DTYPES).map(np.dtype),
                      shape=hnp.array_shapes(min_dims=0, max_dims=4, min_side=0, max_side=4)),
    max_size=5))
def test_round_trip_property(arrays):
    with tempfile.TemporaryDirectory() as folder:
        _, got = read_container(write_container(Path(folder) / "c.memr", {"k": "v"}, arrays))
    assert list(got) == list(arrays)
    for name, value in arrays.items():
        assert_same_array(got[name], value)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.text(max_size=5), children, max_size=4),
    max_leaves=20)


@settings(max_examples=60, deadline=None)
@given(st.dictionaries(st.text(max_size=8), json_values, max_size=5))
def test_meta_round_trip_property(meta):
    with tempfile.TemporaryDirectory() as folder:
        got, _ = read_container(write_container(Path(folder) / "c.memr", meta, {}))
    assert got == meta


# ------------------------------------------------------------------ bad input to write


@pytest.mark.parametrize("value", [
    np.array([object(), 1], dtype=object),
    np.array(["a", "b"]),
    np.array([b"a"]),
    np.array(["2020-01-01"], dtype="datetime64[D]"),
    np.zeros(2, dtype=[("a", "f8"), ("b", "i4")]),
])
def test_write_refuses_unsupported_dtypes(tmp_path, value):
    with pytest.raises(TypeError, match=r"arrays\['bad'\] has dtype"):
        write_container(tmp_path / "c", {}, {"bad": value})
    assert list(tmp_path.iterdir()) == []


@pytest.mark.skipif(np.dtype(np.longdouble).itemsize == 8, reason="long double is float64 here")
def test_write_refuses_long_double(tmp_path):
    with pytest.raises(TypeError, match="long-double"):
        write_container(tmp_path / "c", {}, {"x": np.zeros(2, dtype=np.longdouble)})


@pytest.mark.parametrize(("meta", "error", "match"), [
    ({1: "int key"}, TypeError, "keys must be str"),
    ({"s": {1, 2}}, TypeError, r"meta\['s'\] has type set"),
    ({"a": np.zeros(2)}, TypeError, "pass arrays in `arrays`"),
    ({"c": 1j}, TypeError, "complex"),
    ([("a", 1)], TypeError, "meta must be a dict"),
])
def test_write_refuses_bad_meta(tmp_path, meta, error, match):
    with pytest.raises(error, match=match):
        write_container(tmp_path / "c", meta, {})
    assert list(tmp_path.iterdir()) == []


def test_write_refuses_circular_and_deep_meta(tmp_path):
    loop: dict = {}
    loop["self"] = loop
    with pytest.raises(ValueError, match="circular"):
        write_container(tmp_path / "c", loop, {})
    deep: list = []
    for _ in range(200):
        deep = [deep]
    with pytest.raises(ValueError, match="nested more than"):
        write_container(tmp_path / "c", {"deep": deep}, {})
    shared = [1, 2]  # the same object twice is not a cycle
    got, _ = read_container(write_container(tmp_path / "c", {"a": shared, "b": shared}, {}))
    assert got == {"a": [1, 2], "b": [1, 2]}


def test_write_refuses_bad_names_and_arrays_argument(tmp_path):
    with pytest.raises(ValueError, match="empty name"):
        write_container(tmp_path / "c", {}, {"": np.zeros(1)})
    with pytest.raises(TypeError, match="array names must be str"):
        write_container(tmp_path / "c", {}, {3: np.zeros(1)})
    with pytest.raises(TypeError, match="arrays must be a mapping"):
        write_container(tmp_path / "c", {}, [np.zeros(1)])
    with pytest.raises(TypeError, match=r"arrays\['ragged'\] cannot be converted"):
        write_container(tmp_path / "c", {}, {"ragged": [[1], [1, 2]]})


def test_write_to_directory_or_missing_folder(tmp_path):
    with pytest.raises(IsADirectoryError):
        write_container(tmp_path, {}, {})
    with pytest.raises(FileNotFoundError):
        write_container(tmp_path / "missing" / "c", {}, {})
    assert list(tmp_path.iterdir()) == []


# ------------------------------------------------------------------ atomicity


def test_failed_write_leaves_old_file_intact(tmp_path):
    path, original = small_file(tmp_path)
    with pytest.raises(TypeError):
        write_container(path, {"new": 1}, {"ok": np.zeros(3), "bad": np.array([None])})
    assert path.read_bytes() == original
    assert sorted(p.name for p in tmp_path.iterdir()) == [path.name]


@pytest.mark.parametrize("failing", ["replace", "fsync"])
def test_io_failure_mid_write_leaves_old_file_and_no_temp(tmp_path, monkeypatch, failing):
    path, original = small_file(tmp_path)

    def boom(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, failing, boom)
    with pytest.raises(OSError, match="No space left"):
        write_container(path, {"new": 1}, {"a": np.zeros(1000)})
    monkeypatch.undo()
    assert path.read_bytes() == original
    assert sorted(p.name for p in tmp_path.iterdir()) == [path.name]


def test_overwrite_replaces_and_keeps_no_temp(tmp_path):
    path, _ = small_file(tmp_path)
    write_container(path, {"v": 2}, {"x": np.ones(2)})
    meta, arrays = read_container(path)
    assert meta == {"v": 2} and list(arrays) == ["x"]
    assert sorted(p.name for p in tmp_path.iterdir()) == [path.name]


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX permission bits")
def test_new_file_mode_follows_umask(tmp_path):
    umask = os.umask(0o022)
    try:
        path = write_container(tmp_path / "c", {}, {})
    finally:
        os.umask(umask)
    assert path.stat().st_mode & 0o777 == 0o644


# ------------------------------------------------------------------ damaged files


def test_every_truncation_is_detected(tmp_path):
    path, data = small_file(tmp_path)
    broken = tmp_path / "broken"
    for size in range(len(data)):
        broken.write_bytes(data[:size])
        with pytest.raises(CheckpointError):
            read_container(broken)


def test_every_single_bit_flip_is_detected(tmp_path):
    path, data = small_file(tmp_path)
    broken = tmp_path / "broken"
    for position in range(len(data)):
        for bit in range(8):
            damaged = bytearray(data)
            damaged[position] ^= 1 << bit
            broken.write_bytes(damaged)
            with pytest.raises(CheckpointError):
                read_container(broken)


def test_appended_bytes_are_detected(tmp_path):
    path, data = small_file(tmp_path)
    path.write_bytes(data + b"\x00")
    with pytest.raises(CheckpointError, match="unexpected bytes after the end"):
        read_container(path)


def test_messages_name_the_file_and_the_problem(tmp_path):
    path, data = small_file(tmp_path)
    damaged = bytearray(data)
    damaged[-1] ^= 0x10
    path.write_bytes(damaged)
    with pytest.raises(CheckpointError, match="file is corrupted or was altered") as info:
        read_container(path)
    assert "small.memr" in str(info.value)
    assert info.value.path == path
    assert isinstance(info.value, ValueError)
    clone = pickle.loads(pickle.dumps(info.value))
    assert str(clone) == str(info.value) and clone.reason == info.value.reason


@pytest.mark.parametrize(("content", "match"), [
    (b"", "file is empty"),
    (b"PK\x03\x04" + bytes(100), "not a memr_snn checkpoint"),
    (b"\x93NUMPY" + bytes(100), "not a memr_snn checkpoint"),
    (MAGIC[:5], "truncated"),
    (MAGIC + bytes(10), "truncated"),
    (MAGIC + struct.pack("<IQ", 99, 0) + bytes(32), "unsupported format version 99"),
    (MAGIC + struct.pack("<IQ", 0, 0) + bytes(32), "unsupported format version 0"),
    (MAGIC + struct.pack("<IQ", 1, 2**64 - 1) + bytes(32), "header claims"),
    (MAGIC + struct.pack("<IQ", 1, 10) + bytes(42), "header checksum mismatch"),
])
def test_bad_prefixes(tmp_path, content, match):
    path = tmp_path / "f"
    path.write_bytes(content)
    with pytest.raises(CheckpointError, match=match):
        read_container(path)


def test_garbage_file(tmp_path):
    rng = np.random.default_rng(1)
    path = tmp_path / "garbage"
    for size in (1, 51, 52, 1000):
        path.write_bytes(rng.integers(0, 256, size, dtype=np.uint8).tobytes())
        with pytest.raises(CheckpointError, match="not a memr_snn checkpoint"):
            read_container(path)


def test_directory_and_missing_file(tmp_path):
    with pytest.raises(CheckpointError, match="is a directory"):
        read_container(tmp_path)
    with pytest.raises(FileNotFoundError):
        read_container(tmp_path / "missing.memr")


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs os.mkfifo")
def test_fifo_is_refused_without_blocking(tmp_path):
    os.mkfifo(tmp_path / "fifo")
    with pytest.raises(CheckpointError, match="not a regular file"):
        read_container(tmp_path / "fifo")


# ------------------------------------------------------------------ hostile headers
# Files below carry a *correct* header checksum, so only the structural checks stand
# between them and the allocator / numpy.

ONE = np.array([1.0, 2.0]).tobytes()
ENTRY = {"name": "a", "dtype": "<f8", "shape": [2], "offset": 0, "nbytes": 16}


def with_entry(**changes):
    return valid_header(ONE, [{**ENTRY, **changes}])


@pytest.mark.parametrize(("header", "match"), [
    (with_entry(shape=[2**40]), "claims 16 bytes"),
    (with_entry(shape=[2**40], nbytes=2**43), "past the end"),
    (with_entry(shape=[0, 10**30], nbytes=0), "cannot be allocated|cover"),
    (with_entry(shape=[-2], nbytes=-16), "invalid shape"),
    (with_entry(shape=[2.0]), "invalid shape"),
    (with_entry(shape=[True, 2]), "invalid shape"),
    (with_entry(shape=[1] * 40, nbytes=8), "invalid shape"),
    (with_entry(offset=8), "starts at payload byte 8"),
    (with_entry(offset=-1), "invalid offset"),
    (with_entry(dtype="|O"), "unsupported dtype"),
    (with_entry(dtype="<U1"), "unsupported dtype"),
    (with_entry(dtype="<f16"), "unsupported dtype"),
    (with_entry(dtype=["<f8"]), "unsupported dtype"),
    (with_entry(name=""), "no valid name"),
    (with_entry(name=5), "no valid name"),
    (with_entry(extra=1), "not an object with keys"),
    ({**valid_header(ONE, [ENTRY]), "payload_bytes": 10**30}, "truncated"),
    ({**valid_header(ONE, [ENTRY]), "payload_bytes": 8}, "unexpected bytes"),
    ({**valid_header(ONE, [ENTRY]), "payload_sha256": "00"}, "64 lowercase hex"),
    ({**valid_header(ONE, [ENTRY]), "payload_sha256": "0" * 64}, "payload checksum"),
    ({**valid_header(ONE, [ENTRY]), "meta": []}, "'meta' is not a JSON object"),
    ({**valid_header(ONE, [ENTRY]), "arrays": {"a": ENTRY}}, "'arrays' is not a JSON array"),
    ({**valid_header(ONE, [ENTRY]), "more": 1}, "expected keys"),
    (valid_header(ONE, [ENTRY, ENTRY]), "appears twice"),
    (valid_header(ONE, []), "cover 0 bytes"),
    (valid_header(ONE, [ENTRY, {**ENTRY, "name": "b", "offset": 8, "shape": [1],
                                "nbytes": 8}]), "starts at payload byte 8"),
    ([1, 2, 3], "expected a JSON object"),
    ("text", "expected a JSON object"),
])
def test_hostile_headers(tmp_path, header, match):
    path = craft(tmp_path / "h", header, ONE)
    with pytest.raises(CheckpointError, match=match):
        read_container(path)


@pytest.mark.parametrize(("header_bytes", "match"), [
    (b"\xff\xfe{}", "not valid UTF-8 JSON"),
    (b"{not json", "not valid UTF-8 JSON"),
    (b"", "not valid UTF-8 JSON"),
    (b"[" * 100_000 + b"]" * 100_000, "not valid UTF-8 JSON"),
    (b'{"meta":{},"meta":{}}', "duplicate key"),
    (b'{"meta": 1' + b"1" * 5000 + b"}", "not valid UTF-8 JSON|expected keys"),
])
def test_header_bytes_that_are_not_json(tmp_path, header_bytes, match):
    path = craft(tmp_path / "h", None, b"", header_bytes=header_bytes)
    with pytest.raises(CheckpointError, match=match):
        read_container(path)


def test_bool_array_with_bytes_other_than_0_or_1(tmp_path):
    payload = bytes([0, 1, 2])
    header = valid_header(payload, [{"name": "b", "dtype": "|b1", "shape": [3], "offset": 0,
                                     "nbytes": 3}])
    with pytest.raises(CheckpointError, match="other than 0 and 1"):
        read_container(craft(tmp_path / "h", header, payload))


def test_crafted_valid_file_is_accepted(tmp_path):
    """The crafting helper itself produces readable files (so the rejections above are real)."""
    meta, arrays = read_container(craft(tmp_path / "h", valid_header(ONE, [ENTRY]), ONE))
    assert meta == {}
    np.testing.assert_array_equal(arrays["a"], [1.0, 2.0])


entry_values = st.one_of(st.none(), st.booleans(), st.integers(-(2**70), 2**70),
                         st.floats(), st.text(max_size=4),
                         st.lists(st.integers(-3, 2**40), max_size=4))


@settings(max_examples=300, deadline=None)
@given(key=st.sampled_from(sorted(ENTRY)), value=entry_values,
       payload=st.binary(max_size=40))
def test_fuzzed_headers_only_raise_checkpoint_error(key, value, payload):
    """Any single-field mutation of a checksummed header: CheckpointError or a valid read."""
    header = valid_header(payload, [{**ENTRY, key: value}])
    with tempfile.TemporaryDirectory() as folder:
        path = craft(Path(folder) / "h", header, payload)
        try:
            _, arrays = read_container(path)
        except CheckpointError:
            return
    assert sum(a.nbytes for a in arrays.values()) == len(payload)


@settings(max_examples=200, deadline=None)
@given(header_bytes=st.binary(max_size=200), payload=st.binary(max_size=40))
def test_random_header_bytes_only_raise_checkpoint_error(header_bytes, payload):
    with tempfile.TemporaryDirectory() as folder:
        path = craft(Path(folder) / "h", None, payload, header_bytes=header_bytes)
        with pytest.raises(CheckpointError):
            read_container(path)
