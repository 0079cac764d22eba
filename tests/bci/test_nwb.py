"""NWB round trip of a simulated session, reading other layouts, and clear errors on missing content."""

import datetime

import numpy as np
import pytest
from memr_snn.bci import SessionConfig, run_session

pynwb = pytest.importorskip("pynwb")
from memr_snn.bci.nwb import NWBContentError, read_recording, write_session  # noqa: E402

T0 = datetime.datetime(2000, 1, 1, tzinfo=datetime.timezone.utc)


@pytest.fixture(scope="module")
def session():
    return run_session(SessionConfig(observation_trials=4, closed_loop_blocks=1, trials_per_block=3), seed=0)


def test_round_trip(session, tmp_path):
    path = write_session(tmp_path / "s.nwb", session, seed=1)
    rec = read_recording(path, 0.02)
    counts = np.vstack([b.counts for b in session.blocks])
    np.testing.assert_array_equal(rec.counts, counts)
    np.testing.assert_allclose(rec.velocity, np.vstack([b.velocity for b in session.blocks]))
    assert rec.velocity_source == "cursor_velocity"
    with pynwb.NWBHDF5IO(str(path), "r") as io:
        nwb = io.read()
        trials = nwb.trials.to_dataframe()
        assert len(trials) == sum(len(b.records) for b in session.blocks)
        assert list(trials["success"]) == [r.success for b in session.blocks for r in b.records]
        dec = nwb.processing["behavior"]["decoded_velocity"].data[:]
        np.testing.assert_allclose(dec[-session.blocks[-1].n_bins:], session.blocks[-1].velocity)
    # a decoder fitted on the file equals one fitted on the session's arrays
    from memr_snn.bci import KalmanFilter
    a = KalmanFilter().fit(rec.counts, rec.velocity)
    b = KalmanFilter().fit(counts, np.vstack([b.velocity for b in session.blocks]))
    np.testing.assert_allclose(a.H_, b.H_)


def _file(tmp_path, units=True, behavior="hand_position"):
    from pynwb.behavior import Position, SpatialSeries

    nwb = pynwb.NWBFile(session_description="t", identifier="x", session_start_time=T0)
    if units:
        nwb.add_unit(spike_times=[0.105, 0.11, 0.35])
        nwb.add_unit(spike_times=[0.2])
    if behavior:
        mod = nwb.create_processing_module("behavior", "b")
        t = 0.1 + np.arange(400) * 1e-3  # 1 kHz
        x = np.column_stack([0.5 * t, -0.25 * t])  # constant velocity (0.5, -0.25) m/s
        pos = Position(name="Position")
        pos.add_spatial_series(SpatialSeries(name=behavior, data=x, timestamps=t, reference_frame="r", unit="m"))
        mod.add(pos)
    path = tmp_path / "r.nwb"
    with pynwb.NWBHDF5IO(str(path), "w") as io:
        io.write(nwb)
    return path


def test_read_position_at_1khz(tmp_path):
    rec = read_recording(_file(tmp_path), 0.02)
    assert rec.counts.shape == (20, 2) and rec.velocity_source == "hand_position (differentiated)"
    np.testing.assert_allclose(rec.velocity, np.tile([0.5, -0.25], (20, 1)), atol=1e-9)
    assert rec.counts[0].tolist() == [2, 0] and rec.counts[5].tolist() == [0, 1] and rec.counts[12, 0] == 1


def test_missing_units_named(tmp_path):
    with pytest.raises(NWBContentError, match="no units table"):
        read_recording(_file(tmp_path, units=False))


@pytest.mark.parametrize("behavior", [None, "eye_position"])
def test_missing_kinematics_named(tmp_path, behavior):
    with pytest.raises(NWBContentError, match="hand_velocity|behavior"):
        read_recording(_file(tmp_path, behavior=behavior))


def test_missing_extra_error(monkeypatch, session, tmp_path):
    import sys

    from memr_snn._extras import MissingExtraError

    monkeypatch.setitem(sys.modules, "pynwb", None)
    with pytest.raises(MissingExtraError, match=r"memr_snn\[nwb\]"):
        write_session(tmp_path / "x.nwb", session)
    with pytest.raises(MissingExtraError, match="pynwb"):
        read_recording(tmp_path / "x.nwb")


def test_signal_stream_written(tmp_path):
    from memr_snn.bci import SignalParams

    res = run_session(SessionConfig(observation_trials=4, closed_loop_blocks=1, trials_per_block=3,
                                    signal=SignalParams()), seed=0)
    path = write_session(tmp_path / "q.nwb", res, seed=1)
    with pynwb.NWBHDF5IO(str(path), "r") as io:
        ts = io.read().processing["ecephys"]["broadband_rms"]
        np.testing.assert_allclose(ts.data[:], np.vstack([b.signal for b in res.blocks]))
        assert ts.conversion == 1e-6
    np.testing.assert_array_equal(read_recording(path, 0.02).counts, np.vstack([b.counts for b in res.blocks]))
