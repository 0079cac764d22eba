"""Event-file readers against files written here, byte by byte, from the published format descriptions
(not by inverting our readers), against tonic's N-MNIST reader and dv-processing's AEDAT 4 writer when
installed, and fuzzed with hypothesis: malformed bytes raise EventFileError only."""

from __future__ import annotations

import struct

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from memr_snn.encoders.events import EVENT_DTYPE, EventError
from memr_snn.encoders.readers import (
    EventFileError,
    _parse_aedat2,
    _parse_aedat31,
    _parse_nmnist,
    from_tonic,
    read_aedat2,
    read_aedat4,
    read_aedat31,
    read_events,
    read_nmnist,
)

# ---- independent writers ---------------------------------------------------------------------------


def nmnist_bytes(events, overflow_before=()):
    """N-MNIST README: 40 bits per event: x (8) | y (8) | polarity (1) | timestamp (23), big-endian bit order.
    A record with y = 240 is written before the events listed in ``overflow_before`` (Read_Ndataset.m)."""
    out = bytearray()
    for i, (t, x, y, p) in enumerate(events):
        if i in overflow_before:
            out += bytes([0, 240, 0, 0, 0])
        word = (x << 32) | (y << 24) | (p << 23) | (t & 0x7FFFFF)
        out += word.to_bytes(5, "big")
    return bytes(out)


def aedat2_bytes(events, external=()):
    """AEDAT 2.0: '#' header lines, then big-endian (uint32 address, int32 timestamp); DVS128 address:
    bit 0 polarity, bits 7..1 x, bits 14..8 y, bit 15 external event."""
    out = bytearray(b"#!AER-DAT2.0\r\n# This is a raw AE data file - do not edit\r\n# Data format is int32 address, "
                    b"int32 timestamp (8 bytes total)\r\n# created by a test\r\n")
    for t, x, y, p in events:
        out += struct.pack(">Ii", (y << 8) | (x << 1) | p, t)
    for t in external:
        out += struct.pack(">Ii", 0x8000, t)
    return bytes(out)


def aedat31_packet(event_type, events_bytes, event_size, capacity, number, ts_overflow=0):
    header = struct.pack("<hhiiiiii", event_type, 1, event_size, 4, ts_overflow, capacity, number, number)
    return header + events_bytes + bytes(event_size * capacity - len(events_bytes))


def polarity_event(t, x, y, p, valid=1):
    """libcaer polarity event: uint32 data (bit 0 valid, bit 1 polarity, bits 16..2 y, bits 31..17 x), int32 ts."""
    return struct.pack("<Ii", (x << 17) | (y << 2) | (p << 1) | valid, t)


AEDAT31_HEADER = b"#!AER-DAT3.1\r\n#Format: RAW\r\n#Source 1: DAVIS240C\r\n#Start-Time: 2024-01-01\r\n#!END-HEADER\r\n"


def sample_events(rng, n=50, size=(34, 34), t_max=300_000):
    t = np.sort(rng.integers(0, t_max, n))
    return [(int(t[i]), int(rng.integers(0, size[0])), int(rng.integers(0, size[1])), int(rng.integers(0, 2)))
            for i in range(n)]


def as_tuples(ev):
    return list(zip(ev["t"].tolist(), ev["x"].tolist(), ev["y"].tolist(), ev["p"].tolist(), strict=True))


# ---- N-MNIST -------------------------------------------------------------------------------------


def test_nmnist_round_trip_with_overflow_markers(tmp_path, rng):
    events = sample_events(rng, n=60, t_max=8000)  # 13-bit time + overflow markers = longer recordings
    path = tmp_path / "00001.bin"
    path.write_bytes(nmnist_bytes(events, overflow_before={20, 40}))
    s = read_nmnist(path)
    assert s.sensor_size == (34, 34)
    expected = [(t + 8192 * ((i >= 20) + (i >= 40)), x, y, p) for i, (t, x, y, p) in enumerate(events)]
    assert as_tuples(s.events) == sorted(expected, key=lambda e: e[0])
    assert read_events(path).events.size == 60


def test_nmnist_matches_tonic_reader(tmp_path, rng):
    tonic_io = pytest.importorskip("tonic.io")
    events = sample_events(rng, n=80)
    path = tmp_path / "a.bin"
    path.write_bytes(nmnist_bytes(events, overflow_before={50}))
    ref = tonic_io.read_mnist_file(str(path), dtype=tonic_io.events_struct)
    got = read_nmnist(path).events
    order = np.argsort(ref["t"], kind="stable")
    for f in "xytp":
        np.testing.assert_array_equal(got[f], ref[f][order].astype(got[f].dtype))


def test_nmnist_truncated_and_out_of_sensor(tmp_path):
    data = nmnist_bytes([(10, 1, 2, 1), (20, 3, 4, 0)])
    with pytest.raises(EventFileError, match="5-byte"):
        _parse_nmnist(data[:-2], (34, 34), "x.bin")
    with pytest.raises(EventFileError, match="outside the sensor"):
        _parse_nmnist(nmnist_bytes([(10, 40, 2, 1)]), (34, 34), "x.bin")
    assert len(_parse_nmnist(b"", (34, 34), "empty.bin")) == 0
    assert _parse_nmnist(nmnist_bytes([(10, 40, 2, 1)]), None, "x.bin").sensor_size == (41, 3)


# ---- AEDAT 2.0 -----------------------------------------------------------------------------------


def test_aedat2_round_trip_skips_external_events(tmp_path, rng):
    events = sample_events(rng, n=70, size=(128, 128), t_max=10**7)
    path = tmp_path / "rec.aedat"
    path.write_bytes(aedat2_bytes(events, external=(10**7 + 5,)))
    s = read_aedat2(path)
    assert s.sensor_size == (128, 128)
    assert as_tuples(s.events) == events
    assert as_tuples(read_events(path).events) == events


def test_aedat2_errors(tmp_path):
    data = aedat2_bytes([(5, 1, 1, 1)])
    with pytest.raises(EventFileError, match="8-byte"):
        _parse_aedat2(data[:-3], (128, 128), "f")
    with pytest.raises(EventFileError, match="AEDAT 2.0"):
        _parse_aedat2(b"#!AER-DAT3.1\r\n", (128, 128), "f")
    with pytest.raises(EventFileError, match="negative"):
        _parse_aedat2(aedat2_bytes([(-5, 1, 1, 1)]), (128, 128), "f")
    with pytest.raises(EventFileError, match="header"):
        _parse_aedat2(b"#!AER-DAT2.0 no newline", (128, 128), "f")
    assert len(_parse_aedat2(aedat2_bytes([]), (128, 128), "f")) == 0


# ---- AEDAT 3.1 -----------------------------------------------------------------------------------


def test_aedat31_round_trip_packets_overflow_invalid_and_other_types(tmp_path, rng):
    ev1 = sample_events(rng, n=20, size=(240, 180), t_max=2**31 - 1)
    ev2 = sample_events(rng, n=15, size=(240, 180), t_max=1000)
    p1 = aedat31_packet(1, b"".join(polarity_event(*e) for e in ev1) + polarity_event(7, 9, 9, 1, valid=0),
                        8, capacity=25, number=21)
    special = aedat31_packet(0, struct.pack("<Ii", 0x1234, 99) * 3, 8, capacity=3, number=3)
    imu = aedat31_packet(2, bytes(72 * 2), 72, capacity=2, number=2)
    p2 = aedat31_packet(1, b"".join(polarity_event(*e) for e in ev2), 8, capacity=15, number=15, ts_overflow=1)
    path = tmp_path / "rec.aedat"
    path.write_bytes(AEDAT31_HEADER + p1 + special + imu + p2)
    s = read_aedat31(path, sensor_size=(240, 180))
    expected = ev1 + [(t + 2**31, x, y, p) for t, x, y, p in ev2]
    assert as_tuples(s.events) == expected
    assert read_events(path).events.size == 35


def test_aedat31_out_of_order_packets_are_sorted(tmp_path):
    late = aedat31_packet(1, polarity_event(500, 1, 1, 1), 8, 1, 1)
    early = aedat31_packet(1, polarity_event(100, 2, 2, 0) + polarity_event(100, 3, 3, 1), 8, 2, 2)
    s = _parse_aedat31(AEDAT31_HEADER + late + early, None, "f")
    assert as_tuples(s.events) == [(100, 2, 2, 0), (100, 3, 3, 1), (500, 1, 1, 1)]
    assert s.sensor_size == (4, 4)


def test_aedat31_errors():
    good = AEDAT31_HEADER + aedat31_packet(1, polarity_event(5, 1, 1, 1), 8, 1, 1)
    with pytest.raises(EventFileError, match="truncated"):
        _parse_aedat31(good[:-4], None, "f")
    with pytest.raises(EventFileError, match="truncated packet header"):
        _parse_aedat31(good + b"\x01\x00", None, "f")
    with pytest.raises(EventFileError, match="END-HEADER"):
        _parse_aedat31(b"#!AER-DAT3.1\r\n#Format: RAW\r\n", None, "f")
    bad = AEDAT31_HEADER + struct.pack("<hhiiiiii", 1, 1, 8, 4, 0, 1, 5, 5) + bytes(8)
    with pytest.raises(EventFileError, match="corrupted packet header"):
        _parse_aedat31(bad, None, "f")
    with pytest.raises(EventFileError, match="eventSize"):
        _parse_aedat31(AEDAT31_HEADER + aedat31_packet(1, bytes(12), 12, 1, 1), None, "f")
    with pytest.raises(EventFileError, match="outside"):
        _parse_aedat31(good, (1, 1), "f")


# ---- AEDAT 4 (optional aedat package; writer: iniVation's dv-processing) ----------------------------


def test_aedat4_round_trip_with_dv_processing_writer(tmp_path, rng):
    pytest.importorskip("aedat")
    dv = pytest.importorskip("dv_processing")
    events = sample_events(rng, n=40, size=(64, 48), t_max=10**6)
    path = tmp_path / "rec.aedat4"
    writer = dv.io.MonoCameraWriter(str(path), dv.io.MonoCameraWriter.EventOnlyConfig("DVXplorer_test", (64, 48)))
    store = dv.EventStore()
    for t, x, y, p in events:
        store.push_back(t + 1, x, y, bool(p))  # dv-processing needs increasing timestamps; +1 keeps t > 0
    writer.writeEvents(store)
    del writer
    expected = [(t + 1, x, y, p) for t, x, y, p in events]
    s = read_events(path)
    assert s.sensor_size == (64, 48)
    assert as_tuples(s.events) == expected
    assert as_tuples(read_aedat4(path, isolate=False).events) == expected


def test_aedat4_corrupted_file_is_an_error_not_a_crash(tmp_path):
    pytest.importorskip("aedat")
    path = tmp_path / "bad.aedat4"
    path.write_bytes(b"#!AER-DAT4.0\r\n" + bytes(range(200)))
    with pytest.raises(EventFileError, match="AEDAT 4"):
        read_events(path)


# ---- dispatch and unsupported formats -------------------------------------------------------------


def test_unsupported_formats(tmp_path):
    cases = {"old.aedat": b"#!AER-DAT1.0\r\n" + bytes(12), "x.txt": b"1 2 3 4\n", "evt.raw": b"% evt 3.0\n"}
    for name, data in cases.items():
        (tmp_path / name).write_bytes(data)
        with pytest.raises(EventFileError, match="unsupported"):
            read_events(tmp_path / name)
    with pytest.raises(FileNotFoundError):
        read_events(tmp_path / "missing.bin")


# ---- tonic input ---------------------------------------------------------------------------------


def test_from_tonic_structured_arrays_and_samples():
    tonic_dtype = np.dtype([("x", "<i2"), ("y", "<i2"), ("t", "<i8"), ("p", "?")])  # tonic.io.events_struct
    arr = np.array([(3, 1, 50, True), (0, 2, 10, False), (1, 1, 30, True)], dtype=tonic_dtype)
    s = from_tonic(arr, sensor_size=(4, 3, 2))
    assert s.sensor_size == (4, 3)
    assert as_tuples(s.events) == [(10, 0, 2, 0), (30, 1, 1, 1), (50, 3, 1, 1)]
    assert as_tuples(from_tonic((arr, 7)).events) == as_tuples(s.events)
    pm = np.array([(1, 1, 5, -1), (2, 0, 6, 1)], dtype=[("t", "<i8"), ("x", "<i4"), ("y", "<i4"), ("p", "<i1")])
    assert from_tonic(pm).events["p"].tolist() == [0, 1]
    with pytest.raises(EventError, match="outside"):
        from_tonic(arr, sensor_size=(2, 2, 2))
    with pytest.raises(EventError, match="fields"):
        from_tonic(np.zeros((3, 4)))
    assert from_tonic(np.empty(0, dtype=tonic_dtype)).events.dtype == EVENT_DTYPE


def test_from_tonic_with_a_real_tonic_transform(rng):
    tonic = pytest.importorskip("tonic")
    ev = np.zeros(100, dtype=tonic.io.events_struct)
    ev["x"], ev["y"] = rng.integers(0, 16, 100), rng.integers(0, 8, 100)
    ev["t"], ev["p"] = np.sort(rng.integers(0, 10**5, 100)), rng.integers(0, 2, 100).astype(bool)
    flipped = tonic.transforms.RandomFlipLR(sensor_size=(16, 8, 2), p=1.0)(ev)
    s = from_tonic(flipped, sensor_size=(16, 8, 2))
    np.testing.assert_array_equal(s.events["x"], 15 - ev["x"])


# ---- fuzzing -------------------------------------------------------------------------------------

_VALID = {
    "nmnist": nmnist_bytes([(10, 1, 2, 1), (20, 3, 4, 0), (30, 33, 33, 1)], overflow_before={1}),
    "aedat2": aedat2_bytes([(5, 1, 1, 1), (6, 120, 2, 0)], external=(7,)),
    "aedat31": AEDAT31_HEADER + aedat31_packet(1, polarity_event(5, 1, 1, 1) + polarity_event(9, 3, 2, 0), 8, 2, 2)
    + aedat31_packet(0, bytes(8), 8, 1, 1),
}
_PARSERS = {"nmnist": _parse_nmnist, "aedat2": _parse_aedat2, "aedat31": _parse_aedat31}


def _only_event_file_errors(kind, data):
    try:
        s = _PARSERS[kind](data, (34, 34) if kind == "nmnist" else None, "fuzz")
    except EventFileError:
        return
    assert s.events.dtype == EVENT_DTYPE and np.all(np.diff(s.events["t"]) >= 0)


@settings(max_examples=150, deadline=None)
@given(kind=st.sampled_from(sorted(_VALID)), cut=st.integers(0, 400), flips=st.lists(
    st.tuples(st.integers(0, 400), st.integers(0, 255)), max_size=6))
def test_fuzz_truncated_and_corrupted_files(kind, cut, flips):
    data = bytearray(_VALID[kind][: cut if cut < len(_VALID[kind]) else None])
    for pos, val in flips:
        if data:
            data[pos % len(data)] = val
    _only_event_file_errors(kind, bytes(data))


@settings(max_examples=150, deadline=None)
@given(kind=st.sampled_from(sorted(_VALID)), payload=st.binary(max_size=300))
def test_fuzz_random_payloads_after_a_valid_header(kind, payload):
    prefix = {"nmnist": b"", "aedat2": b"#!AER-DAT2.0\r\n", "aedat31": AEDAT31_HEADER}[kind]
    _only_event_file_errors(kind, prefix + payload)


@settings(max_examples=40, deadline=None)
@given(payload=st.binary(max_size=200), magic=st.sampled_from([b"", b"#!AER-DAT2.0\r\n", b"#!AER-DAT3.1\r\n",
                                                                 b"#!AER-DAT9\r\n", b"#"]))
def test_fuzz_read_events_dispatch(tmp_path_factory, payload, magic):
    path = tmp_path_factory.mktemp("fuzz") / "f.bin"
    path.write_bytes(magic + payload)
    try:
        read_events(path)
    except EventFileError:
        pass


@settings(max_examples=12, deadline=None)
@given(cut=st.integers(14, 2000), flips=st.lists(st.tuples(st.integers(14, 2000), st.integers(0, 255)), max_size=4))
def test_fuzz_aedat4_never_crashes(tmp_path_factory, cut, flips):
    """The aedat decoder aborts the interpreter on some corrupted files; the isolated reader must not."""
    pytest.importorskip("aedat")
    dv = pytest.importorskip("dv_processing")
    folder = tmp_path_factory.mktemp("a4")
    good = folder / "good.aedat4"
    writer = dv.io.MonoCameraWriter(str(good), dv.io.MonoCameraWriter.EventOnlyConfig("DVXplorer_test", (20, 10)))
    store = dv.EventStore()
    for i in range(30):
        store.push_back(100 + 10 * i, i % 20, i % 10, bool(i % 2))
    writer.writeEvents(store)
    del writer
    data = bytearray(good.read_bytes()[:cut])
    for pos, val in flips:
        data[pos % len(data)] = val
    bad = folder / "bad.aedat4"
    bad.write_bytes(bytes(data))
    try:
        s = read_events(bad)
    except EventFileError:
        return
    assert s.events.dtype == EVENT_DTYPE
