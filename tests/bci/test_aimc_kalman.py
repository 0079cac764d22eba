"""The steady-state Kalman filter on AIMC tiles against the digital one."""

import numpy as np
import pytest
from memr_snn.bci import AIMCKalmanDecoder, CortexParams, MotorCortex, SteadyStateKalmanFilter


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    cortex = MotorCortex(CortexParams(n_units=48), rng)
    v = np.zeros((1500, 2))
    for t in range(1, len(v)):
        v[t] = 0.95 * v[t - 1] + rng.normal(scale=0.03, size=2)
    return cortex.sample(v, 0.02).astype(float), v


@pytest.mark.parametrize("analog_state", [False, True])
def test_ideal_tiles_equal_the_digital_filter(data, analog_state):
    X, v = data
    ss = SteadyStateKalmanFilter().fit(X[:1000], v[:1000])
    an = AIMCKalmanDecoder(device=None, io="ideal", analog_state=analog_state).fit(X[:1000], v[:1000])
    np.testing.assert_allclose(an.predict(X[1000:]), ss.predict(X[1000:]), rtol=0, atol=1e-12)


def test_rram_tiles_close_to_digital_and_priced(data):
    X, v = data
    ss = SteadyStateKalmanFilter().fit(X[:1000], v[:1000])
    an = AIMCKalmanDecoder().fit(X[:1000], v[:1000])
    ref = ss.predict(X[1000:])
    an.reset_counters()
    out = an.predict(X[1000:])
    rel = np.sqrt(np.mean((out - ref) ** 2) / np.mean(ref ** 2))
    assert 0 < rel < 0.2
    e = an.energy()
    assert an.steps_ == 500 and e["total_J"] > 0 and e["adc_J"] > 0
    assert e["total_J"] == pytest.approx(sum(v for k, v in e.items() if k not in ("total_J", "latency_s")))
    assert an.program_stats["devices"] >= 2 * 2 * 48  # a differential pair per gain entry


def test_negative_device_time_refused(data):
    X, v = data
    with pytest.raises(ValueError, match="device_time"):
        AIMCKalmanDecoder(device_time=-1.0).fit(X[:100], v[:100])
