"""IDX reader and MNIST loader on small synthetic files from an independent writer; malformed files; fuzz."""

import gzip
import struct

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from memr_snn.encoders.datasets.mnist import IDXFormatError, load_mnist, parse_idx, read_idx

# type code -> struct format character, straight from the IDX specification (LeCun et al., MNIST page)
SPEC = {0x08: "B", 0x09: "b", 0x0B: "h", 0x0C: "i", 0x0D: "f", 0x0E: "d"}


def write_idx(values, shape, code) -> bytes:
    """An IDX file built with ``struct`` only: magic (0, 0, type, ndim), big-endian uint32 sizes, big-endian data."""
    head = struct.pack(">BBBB", 0, 0, code, len(shape)) + struct.pack(f">{len(shape)}I", *shape)
    return head + struct.pack(f">{len(values)}{SPEC[code]}", *values)


def _values(code, n, rng):
    if code == 0x08:
        return [int(v) for v in rng.integers(0, 256, n)]
    if code == 0x09:
        return [int(v) for v in rng.integers(-128, 128, n)]
    if code == 0x0B:
        return [int(v) for v in rng.integers(-2 ** 15, 2 ** 15, n)]
    if code == 0x0C:
        return [int(v) for v in rng.integers(-2 ** 31, 2 ** 31, n)]
    if code == 0x0D:  # values exactly representable in float32
        return [float(np.float32(v)) for v in rng.normal(size=n) * 1e3]
    return [float(v) for v in rng.normal(size=n) * 1e100]


@pytest.mark.parametrize("code", sorted(SPEC))
@pytest.mark.parametrize("shape", [(7,), (3, 4), (2, 3, 5), (1, 2, 1, 3)])
def test_read_every_type(tmp_path, code, shape):
    rng = np.random.default_rng(code * 100 + len(shape))
    vals = _values(code, int(np.prod(shape)), rng)
    raw = write_idx(vals, shape, code)
    for name, data in (("f.idx", raw), ("f.idx.gz", gzip.compress(raw)), ("renamed_gz", gzip.compress(raw))):
        (tmp_path / name).write_bytes(data)
        a = read_idx(tmp_path / name)
        assert a.shape == shape
        assert a.dtype == {0x08: np.uint8, 0x09: np.int8, 0x0B: np.int16, 0x0C: np.int32, 0x0D: np.float32,
                           0x0E: np.float64}[code]
        assert a.dtype.isnative
        assert a.ravel().tolist() == vals


def test_empty_dimension_is_valid():
    a = parse_idx(write_idx([], (0, 28, 28), 0x08))
    assert a.shape == (0, 28, 28)


@pytest.mark.parametrize("data,match", [
    (b"", "truncated magic"),
    (b"\x00\x00\x08", "truncated magic"),
    (b"\x01\x00\x08\x01" + b"\x00\x00\x00\x01" + b"\x05", "two zero bytes"),
    (b"\x00\x00\x07\x01" + b"\x00\x00\x00\x01" + b"\x05", "unknown IDX type code 0x07"),
    (b"\x00\x00\x08\x00", "0 dimensions"),
    (b"\x00\x00\x08\x02\x00\x00\x00\x03", "truncated dimension sizes"),
    (b"\x00\x00\x08\x01\x00\x00\x00\x03\x01\x02", "truncated data section"),
    (b"\x00\x00\x08\x01\x00\x00\x00\x02\x01\x02\x03", "trailing bytes"),
    (b"\x00\x00\x0e\x03" + struct.pack(">3I", 60000, 60000, 60000), "max_bytes"),
])
def test_malformed(data, match):
    with pytest.raises(IDXFormatError, match=match):
        parse_idx(data)


def test_corrupt_and_truncated_gzip(tmp_path):
    raw = write_idx(list(range(200)), (10, 20), 0x08)
    gz = bytearray(gzip.compress(raw))
    with pytest.raises(IDXFormatError, match="truncated|gzip"):
        parse_idx(bytes(gz[: len(gz) // 2]))
    gz[len(gz) // 2] ^= 0xFF
    with pytest.raises(IDXFormatError):
        parse_idx(bytes(gz))
    with pytest.raises(IDXFormatError, match="gzip"):
        parse_idx(b"\x1f\x8b" + b"\x00" * 20)
    p = tmp_path / "bad.gz"
    p.write_bytes(bytes(gz))
    with pytest.raises(ValueError):  # the documented error is a ValueError subclass
        read_idx(p)
    with pytest.raises(FileNotFoundError):
        read_idx(tmp_path / "nope")
    with pytest.raises(TypeError):
        parse_idx("not bytes")


def _mnist_folder(folder, n_train=20, n_test=10, gz=(), dotted=False, side=28, seed=0, labels=None):
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    content = {}
    for split, n in (("train", n_train), ("t10k", n_test)):
        img = [int(v) for v in rng.integers(0, 256, n * side * side)]
        lab = labels if labels is not None else [int(v) for v in rng.integers(0, 10, n)]
        content[f"{split}-images-idx3-ubyte"] = (write_idx(img, (n, side, side), 0x08), img)
        content[f"{split}-labels-idx1-ubyte"] = (write_idx(lab, (len(lab),), 0x08), lab)
    for name, (raw, _) in content.items():
        if dotted:
            head, _, tail = name.rpartition("-")
            name = f"{head}.{tail}"
        if name.split(".")[0] in gz or name in gz:
            (folder / (name + ".gz")).write_bytes(gzip.compress(raw))
        else:
            (folder / name).write_bytes(raw)
    return {k: v for k, (_, v) in content.items()}


def test_load_mnist(tmp_path):
    vals = _mnist_folder(tmp_path / "a", gz=("train-images-idx3-ubyte",))
    m = load_mnist(tmp_path / "a")
    assert m.x_train.shape == (20, 28, 28) and m.x_test.shape == (10, 28, 28)
    assert m.x_train.dtype == np.uint8 and m.y_train.dtype == np.int64
    assert m.x_train.ravel().tolist() == vals["train-images-idx3-ubyte"]
    assert m.y_test.tolist() == vals["t10k-labels-idx1-ubyte"]
    _mnist_folder(tmp_path / "b", dotted=True, side=5)
    assert load_mnist(tmp_path / "b").x_test.shape == (10, 5, 5)


def test_load_mnist_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load_mnist(tmp_path / "none")
    _mnist_folder(tmp_path / "a")
    (tmp_path / "a" / "t10k-labels-idx1-ubyte").unlink()
    with pytest.raises(FileNotFoundError, match="t10k-labels-idx1-ubyte"):
        load_mnist(tmp_path / "a")
    _mnist_folder(tmp_path / "b", labels=[3, 12] * 5, n_train=10)
    with pytest.raises(IDXFormatError, match="0..9"):
        load_mnist(tmp_path / "b")
    _mnist_folder(tmp_path / "c")
    (tmp_path / "c" / "t10k-labels-idx1-ubyte").write_bytes(write_idx([1, 2, 3], (3,), 0x08))
    with pytest.raises(IDXFormatError, match="10 images but 3 labels"):
        load_mnist(tmp_path / "c")
    _mnist_folder(tmp_path / "d")
    (tmp_path / "d" / "train-labels-idx1-ubyte").write_bytes(write_idx(list(range(20)), (20,), 0x0C))
    with pytest.raises(IDXFormatError, match="unsigned bytes"):
        load_mnist(tmp_path / "d")
    _mnist_folder(tmp_path / "e")
    raw = (tmp_path / "e" / "train-images-idx3-ubyte").read_bytes()
    (tmp_path / "e" / "train-images-idx3-ubyte").write_bytes(raw[:-7])
    with pytest.raises(IDXFormatError, match="truncated"):
        load_mnist(tmp_path / "e")


# ----------------------------------------------------------------- fuzz
def _only_documented_errors(data):
    try:
        out = parse_idx(data, max_bytes=1 << 20)
    except IDXFormatError:
        return
    assert isinstance(out, np.ndarray)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=300))
def test_fuzz_random_bytes(data):
    _only_documented_errors(data)


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(sorted(SPEC) + [0, 7, 0x0A, 0xFF]), st.integers(0, 6), st.binary(max_size=120))
def test_fuzz_valid_magic_random_rest(code, ndim, rest):
    """Past the magic number: random sizes and data (reaches the size and data checks)."""
    _only_documented_errors(bytes([0, 0, code, ndim]) + rest)


@settings(max_examples=100, deadline=None)
@given(st.binary(max_size=200), st.integers(0, 400))
def test_fuzz_gzip(tail, cut):
    """Random gzip-looking bytes, and valid gzip files of random bytes cut anywhere."""
    _only_documented_errors(b"\x1f\x8b" + tail)
    _only_documented_errors(gzip.compress(tail)[:cut])
