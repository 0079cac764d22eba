"""Fuzzers for the files a user can hand us: NIR graphs, dataset-cache ``.npz``, WAV, JSON parameter files.

Each reader documents one exception type for a damaged file; these tests feed it damaged files and
check that nothing else escapes: no other exception, no crash of the interpreter (NIR decoding runs
in a child through :func:`reliability.harness.run_isolated`, batching several files per child), no
huge allocation, no out-of-range values returned.  Event-camera readers are fuzzed in
``tests/encoders/test_readers.py``; the PCM WAV path in ``tests/encoders/test_audio.py``.

Budgets follow :func:`reliability.harness.fuzz_examples` (small and derandomised in CI, 40x under
``make fuzz``).
"""

from __future__ import annotations

import json
import math
import zipfile

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from reliability.harness import assert_no_crash, fuzz_examples, run_isolated

DT = 1e-4

# --------------------------------------------------------------------------------------------- NIR
#: a one-byte edit of the file below that made h5py (3.16, HDF5 1.14) segfault in nir.read: found by
#: this fuzzer against the in-process reader; (offset, new value, value it replaces, file length)
_H5PY_CRASH = (87865, 134, 1, 88096)
#: a one-byte edit of the same file that made nir.read loop forever (same versions)
_H5PY_HANG = (3328, 253, 2, 88096)

_WRITE_NIR = """
import sys
from memr_snn import AllToAll, LIFParams, Network, Population, Projection, SpikeSource
from memr_snn.adapters.nir import write_nir
net = Network(dt=1e-4, seed=0)
src = net.add(SpikeSource(4, [], [], name="in"))
a = net.add(Population(5, LIFParams(t_ref=0.0), name="a"))
b = net.add(Population(3, LIFParams(t_ref=0.0), name="b"))
net.add(Projection(src, a, AllToAll(), weights=1e-10, name="w1"))
net.add(Projection(a, b, AllToAll(), weights=1e-10, delays=2, name="w2"))
write_nir(net, sys.argv[1])
"""

#: child: read and import every file; anything but NIRImportError propagates (and fails the test)
_IMPORT_ALL = """
import sys
from memr_snn import Network
from memr_snn.adapters.nir import NIRImportError, from_nir, read_nir
paths = {paths!r}
for p in paths:
    try:
        net = from_nir(read_nir(p, timeout=20), {dt!r}, record=False)
    except NIRImportError:
        continue
    assert isinstance(net, Network)
"""


@pytest.fixture(scope="module")
def valid_nir(tmp_path_factory):
    pytest.importorskip("nir")
    path = tmp_path_factory.mktemp("nir") / "valid.nir"
    out = run_isolated(_WRITE_NIR.replace("sys.argv[1]", repr(str(path))))
    assert out.kind == "ok", out.stderr[-2000:]
    return path.read_bytes()


def _mutated(raw: bytes, edits, cut) -> bytes:
    b = bytearray(raw)
    for pos, value in edits:
        b[pos % len(b)] = value
    return bytes(b if cut is None else b[: cut % len(b)])


def _import_in_child(paths) -> None:
    out = run_isolated(_IMPORT_ALL.format(paths=[str(p) for p in paths], dt=DT), timeout=300)
    assert_no_crash(out)


def test_nir_file_that_crashed_h5py_gives_the_adapter_error(valid_nir, tmp_path):
    pos, value, before, size = _H5PY_CRASH
    if len(valid_nir) != size or valid_nir[pos] != before:
        pytest.skip("this h5py/HDF5 writes another layout; the fuzzer below still runs")
    path = tmp_path / "crash.nir"
    path.write_bytes(_mutated(valid_nir, [(pos, value)], None))
    out = run_isolated(f"from memr_snn.adapters.nir import read_nir\nread_nir({str(path)!r})", timeout=120)
    assert out.kind == "error:NIRImportError", out.kind + "\n" + out.stderr[-2000:]
    assert "not a readable NIR file" in out.message


def test_nir_file_that_made_h5py_loop_times_out_with_the_adapter_error(valid_nir, tmp_path):
    pos, value, before, size = _H5PY_HANG
    if len(valid_nir) != size or valid_nir[pos] != before:
        pytest.skip("this h5py/HDF5 writes another layout; the fuzzer below still runs")
    path = tmp_path / "hang.nir"
    path.write_bytes(_mutated(valid_nir, [(pos, value)], None))
    out = run_isolated(f"from memr_snn.adapters.nir import read_nir\nread_nir({str(path)!r}, timeout=3)", timeout=60)
    assert out.kind == "error:NIRImportError", out.kind + "\n" + out.stderr[-2000:]
    assert "longer than 3 s" in out.message


_edits = st.lists(st.tuples(st.integers(0, 2**24), st.integers(0, 255)), min_size=1, max_size=8)
_nir_batch = st.lists(st.tuples(_edits, st.none() | st.integers(0, 2**24)), min_size=5, max_size=5)


@settings(max_examples=fuzz_examples(1), deadline=None)
@example(batch=[([_H5PY_CRASH[:2]], None)])
@given(batch=_nir_batch)
def test_fuzz_nir_mutated_files_raise_only_the_adapter_error(valid_nir, tmp_path_factory, batch):
    """Overwritten bytes and cuts of a valid .nir: a network or NIRImportError, never a crash or another error."""
    folder = tmp_path_factory.mktemp("nirfuzz")
    paths = []
    for i, (edits, cut) in enumerate(batch):
        paths.append(folder / f"m{i}.nir")
        paths[-1].write_bytes(_mutated(valid_nir, edits, cut))
    _import_in_child(paths)


def test_isolated_and_in_process_reads_give_the_same_graph(valid_nir, tmp_path):
    from memr_snn.adapters.nir import read_nir

    path = tmp_path / "g.nir"
    path.write_bytes(valid_nir)
    a, b = read_nir(path), read_nir(path, isolate=False)
    assert a.nodes.keys() == b.nodes.keys() and sorted(a.edges) == sorted(b.edges)
    for key in a.nodes:
        assert type(a.nodes[key]) is type(b.nodes[key])
        for name, value in vars(b.nodes[key]).items():
            if isinstance(value, np.ndarray):
                np.testing.assert_array_equal(getattr(a.nodes[key], name), value, err_msg=f"{key}.{name}")


# ------------------------------------------------------------------------------------ dataset cache
def _valid_cache(path):
    from memr_snn.encoders.datasets.cache import save_npz

    arrays = {"x": np.arange(12, dtype=np.int64).reshape(3, 4), "f": np.asfortranarray(np.ones((2, 3), np.float32)),
              "b": np.array([True, False])}
    save_npz(path, arrays, {"n": 3})
    return arrays


def _rewrite_member(path, member: str, new: bytes) -> None:
    """Replace one member of the zip (with a correct CRC, as a consistent but wrong writer would)."""
    with zipfile.ZipFile(path) as z:
        members = {n: z.read(n) for n in z.namelist()}
    members[member] = new
    with zipfile.ZipFile(path, "w") as z:
        for n, data in members.items():
            z.writestr(n, data)


def _npy_with_header(header: str, payload: bytes) -> bytes:
    text = header.encode("latin1")
    pad = 64 - (10 + len(text) + 1) % 64
    text += b" " * pad + b"\n"
    return b"\x93NUMPY\x01\x00" + len(text).to_bytes(2, "little") + text + payload


_dims = st.integers(0, 10**13)
_descrs = st.sampled_from(["<i8", "<f4", "|b1", "|O", "<U5", ">f8", "|V0", "<c16", "|S0", "<i2", "bogus"])


@settings(max_examples=fuzz_examples(60), deadline=None)
@example(shape=(10**8, 10**7), descr="<i8", fortran=False, payload_len=96)
@given(shape=st.lists(_dims, max_size=3).map(tuple), descr=_descrs, fortran=st.booleans(),
       payload_len=st.integers(0, 200))
def test_fuzz_cache_npy_headers_never_allocate_or_escape(tmp_path_factory, shape, descr, fortran, payload_len):
    """A cache member whose npy header claims any shape/dtype/order: CacheCorruptError, never MemoryError."""
    from memr_snn.encoders.datasets.cache import CacheCorruptError, load_npz

    path = tmp_path_factory.mktemp("cache") / "c.npz"
    _valid_cache(path)
    header = f"{{'descr': {descr!r}, 'fortran_order': {fortran}, 'shape': {shape!r}, }}"
    _rewrite_member(path, "x.npy", _npy_with_header(header, bytes(payload_len)))
    with pytest.raises(CacheCorruptError):
        load_npz(path)


@settings(max_examples=fuzz_examples(60), deadline=None)
@given(data=st.data())
def test_fuzz_cache_bytes(tmp_path_factory, data):
    """Random byte edits and cuts of a cache file: the original arrays (checksum) or CacheCorruptError."""
    from memr_snn.encoders.datasets.cache import CacheCorruptError, load_npz

    path = tmp_path_factory.mktemp("cache") / "c.npz"
    arrays = _valid_cache(path)
    raw = bytearray(path.read_bytes())
    for _ in range(data.draw(st.integers(1, 6))):
        raw[data.draw(st.integers(0, len(raw) - 1))] = data.draw(st.integers(0, 255))
    raw = raw[: data.draw(st.integers(0, len(raw)))]
    path.write_bytes(bytes(raw))
    try:
        got, meta = load_npz(path)
    except CacheCorruptError:
        return
    assert got.keys() == arrays.keys() and meta == {"n": 3}
    for k in arrays:
        np.testing.assert_array_equal(got[k], arrays[k])


def test_cached_rebuilds_a_file_whose_header_claims_petabytes(tmp_path):
    from memr_snn.encoders.datasets.cache import cache_path, cached

    def build():
        return {"x": np.arange(10)}

    cached("demo", 1, {"n": 1}, build, root=tmp_path)
    path = cache_path("demo", 1, {"n": 1}, root=tmp_path)
    with zipfile.ZipFile(path) as z:
        npy = z.read("x.npy")
    _rewrite_member(path, "x.npy", _npy_with_header("{'descr': '<i8', 'fortran_order': False, "
                                                    "'shape': (100000000, 10000000), }", npy[-80:]))
    arrays, meta = cached("demo", 1, {"n": 1}, build, root=tmp_path)
    np.testing.assert_array_equal(arrays["x"], np.arange(10))
    assert meta["path"] == str(path)


# --------------------------------------------------------------------------------------------- WAV
def _float_wav(path, dtype, channels: int) -> bytes:
    from scipy.io import wavfile

    t = np.arange(400) / 8000
    x = 0.5 * np.sin(2 * np.pi * 440 * t)
    wavfile.write(path, 8000, np.stack([x] * channels, axis=1).astype(dtype) if channels > 1 else x.astype(dtype))
    return path.read_bytes()


@settings(max_examples=fuzz_examples(50), deadline=None)
@given(dtype=st.sampled_from([np.float32, np.float64]), channels=st.sampled_from([1, 2]), data=st.data())
def test_fuzz_float_wav(tmp_path_factory, dtype, channels, data):
    """Edits of a float WAV (mostly in its samples): a finite signal within the documented peak, or WavFormatError."""
    from memr_snn.encoders.audio import FLOAT_PEAK_LIMIT, WavFormatError, load_wav

    folder = tmp_path_factory.mktemp("wav")
    raw = bytearray(_float_wav(folder / "ok.wav", dtype, channels))
    for _ in range(data.draw(st.integers(1, 8))):
        lo = data.draw(st.sampled_from([0, 44]))  # header or samples
        raw[data.draw(st.integers(lo, len(raw) - 1))] = data.draw(st.integers(0, 255))
    path = folder / "f.wav"
    path.write_bytes(bytes(raw))
    try:
        y, rate = load_wav(path)
    except WavFormatError:
        return
    assert y.ndim == 1 and y.dtype == np.float64 and y.size > 0 and rate > 0
    assert np.all(np.isfinite(y)) and np.max(np.abs(y)) <= FLOAT_PEAK_LIMIT


def test_float_wav_rule_keeps_overs_and_refuses_absurd_peaks(tmp_path):
    from memr_snn.encoders.audio import WavFormatError, load_wav
    from scipy.io import wavfile

    over = np.array([0.0, 1.5, -2.0, 0.25], dtype=np.float32)  # +6 dBFS overs of a float mix
    wavfile.write(tmp_path / "over.wav", 8000, over)
    y, _ = load_wav(tmp_path / "over.wav")
    np.testing.assert_array_equal(y, over.astype(np.float64))
    wavfile.write(tmp_path / "bad.wav", 8000, np.array([0.0, 1e35, 0.1], dtype=np.float32))
    with pytest.raises(WavFormatError, match=r"magnitude 1e\+35.*16"):
        load_wav(tmp_path / "bad.wav")


# ------------------------------------------------------------------------------- JSON parameter files
_json_scalars = (st.none() | st.booleans() | st.integers(-(10**30), 10**30) | st.floats(allow_nan=True)
                 | st.text(max_size=8))
_json_values = st.recursive(_json_scalars, lambda kids: st.lists(kids, max_size=4)
                            | st.dictionaries(st.text(max_size=6), kids, max_size=4), max_leaves=12)


def _loaders():
    from memr_snn import load_params
    from memr_snn.devices.presets import PresetError, load_preset
    from memr_snn.hardware.profiles import ProfileError, load_profile

    return [(load_preset, PresetError), (load_profile, ProfileError), (load_params, ValueError)]


def _only_documented_error(path) -> None:
    for load, error in _loaders():
        try:
            load(path)
        except error as exc:
            assert str(path) in str(exc), f"{load.__name__}: message does not name the file: {exc}"


@pytest.mark.parametrize("text", ["[" * 100_000 + "]" * 100_000, '{"a":' * 50_000 + "1" + "}" * 50_000,
                                  "[1, 2, 3]", '"preset"', "null", "1" + "0" * 5000, '{"model": "lif", "params": 3}',
                                  '{"model": ["lif"], "params": {}}', '{"model": "lif", "params": {"tau_mem": "x"}}'],
                         ids=["deep-list", "deep-object", "list", "string", "null", "huge-int", "params-int",
                              "model-list", "param-string"])
def test_hostile_json_gives_the_loaders_error_naming_the_file(tmp_path, text):
    path = tmp_path / "p.json"
    path.write_text(text)
    for load, error in _loaders():
        with pytest.raises(error) as info:
            load(path)
        assert type(info.value) is error or issubclass(type(info.value), error)
        assert str(path) in str(info.value)


@settings(max_examples=fuzz_examples(30), deadline=None)
@given(value=_json_values)
def test_fuzz_random_json_values(tmp_path_factory, value):
    path = tmp_path_factory.mktemp("json") / "p.json"
    path.write_text(json.dumps(value))
    _only_documented_error(path)


def _paths(d, prefix=()):
    for k, v in d.items():
        yield (*prefix, k)
        if isinstance(v, dict):
            yield from _paths(v, (*prefix, k))


@settings(max_examples=fuzz_examples(100), deadline=None)
@given(data=st.data())
def test_fuzz_mutated_presets_and_profiles(tmp_path_factory, data):
    """One field of a built-in preset or profile replaced, removed or added: a valid object or the error
    class of the file kind, naming the file and the field path."""
    from memr_snn.devices.presets import PresetError, list_presets, load_preset, preset_to_dict
    from memr_snn.hardware.profiles import ProfileError, list_profiles, load_profile, profile_to_dict

    kind = data.draw(st.sampled_from(["preset", "profile"]))
    if kind == "preset":
        doc, load, error = preset_to_dict(load_preset(data.draw(st.sampled_from(list_presets())))), load_preset, \
            PresetError
    else:
        doc, load, error = profile_to_dict(load_profile(data.draw(st.sampled_from(list_profiles())))), load_profile, \
            ProfileError
    key_path = data.draw(st.sampled_from(sorted(_paths(doc))))
    parent = doc
    for k in key_path[:-1]:
        parent = parent[k]
    action = data.draw(st.sampled_from(["replace", "absurd", "delete", "add"]))
    if action == "replace":
        parent[key_path[-1]] = data.draw(_json_values)
    elif action == "absurd":
        parent[key_path[-1]] = absurd = data.draw(st.sampled_from([1e30, -1e30, 10**30, 1e308, -1]))
    elif action == "delete":
        del parent[key_path[-1]]
    else:
        parent["unexpected_field"] = 1
    path = tmp_path_factory.mktemp(kind) / f"{kind}.json"
    path.write_text(json.dumps(doc))
    try:
        load(path)
    except error as exc:
        assert str(path) in str(exc)
        return
    # no device quantity is 1e30 or negative: a preset number replaced by one must be refused
    numeric = kind == "preset" and len(key_path) == 2 and key_path[0] != "units" and key_path[1] not in (
        "kind", "fail_state")
    assert not (action == "absurd" and numeric), f"{'.'.join(key_path)} = {absurd!r} was accepted"


# ------------------------------------------------------------------------------- device parameter bounds
_ABSURD = [
    ("ReadNoise", {"read_noise": 1e6}, "read_noise"),
    ("LinearStepDevice", {"levels": 10**30}, "levels"),
    ("LinearStepDevice", {"g_max": 1e3}, "g_max"),
    ("LinearStepDevice", {"dg_c2c": 1e6}, "dg_c2c"),
    ("ExpStepDevice", {"beta_up": 1e4}, "beta_up"),
    ("Variability", {"g_min_d2d": 50.0}, "g_min_d2d"),
    ("Drift", {"nu_std": 40.0}, "nu_std"),
    ("Drift", {"t0": 1e30}, "t0"),
    ("Retention", {"temperature": 1e5}, "temperature"),
    ("Retention", {"e_a": 1e3}, "e_a"),
    ("Retention", {"tau0": 1e30}, "tau0"),
    ("Endurance", {"cycles": 1e30}, "cycles"),
    ("Endurance", {"cycles_d2d": 100.0}, "cycles_d2d"),
    ("Programming", {"v_set": 1e4}, "v_set"),
    ("Programming", {"t_pulse": 1e3}, "t_pulse"),
    ("Programming", {"e_set": 1.0}, "e_set"),
    ("Programming", {"ispp_max": 10**9}, "ispp_max"),
]


@pytest.mark.parametrize("cls, kwargs, name", _ABSURD, ids=[f"{c}.{n}" for c, _, n in _ABSURD])
def test_absurd_device_parameters_are_refused_naming_parameter_value_and_range(cls, kwargs, name):
    import memr_snn.devices as devices

    value = kwargs[name]
    with pytest.raises(ValueError, match="allowed range") as info:
        getattr(devices, cls)(**kwargs)
    msg = str(info.value)
    assert msg.startswith(f"{name} = ") and (repr(value) in msg or repr(float(value)) in msg), msg


@pytest.mark.parametrize("field, value", [("read_noise.read_noise", 1e6), ("device.levels", 10**30),
                                          ("device.g_max", 1e3), ("device.levels", 10**400)])
def test_preset_file_with_absurd_value_names_the_field(tmp_path, field, value):
    from memr_snn.devices.presets import PresetError, load_preset, preset_to_dict

    doc = preset_to_dict(load_preset("hfox_rram"))
    comp, name = field.split(".")
    doc[comp][name] = value
    path = tmp_path / "p.json"
    path.write_text(json.dumps(doc))
    with pytest.raises(PresetError, match=rf"{field}") as info:
        load_preset(path)
    assert str(path) in str(info.value)


def test_every_builtin_preset_is_within_the_bounds():
    from memr_snn.devices.presets import list_presets, load_preset

    for name in list_presets():
        assert load_preset(name).name == name
    assert math.isinf(load_preset("ideal").endurance.cycles)
