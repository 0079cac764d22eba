"""Song, Miller & Abbott (2000): STDP makes the weight distribution bimodal; Brian2 runs the same model."""

import numpy as np
import pytest
from memr_snn.networks.song_miller_abbott import song_miller_abbott, weight_fractions

DURATION = 100.0


@pytest.fixture(scope="module")
def ours():
    model = song_miller_abbott(seed=1)
    start = model.synapses.weights.copy()
    model.net.run(DURATION)
    return model, start


def test_weights_become_bimodal(ours):
    model, start = ours
    w = model.synapses.weights / model.g_max
    low0, high0 = weight_fractions(start, model.g_max)
    low, high = model.fractions()
    assert abs(low0 - 0.1) < 0.03 and abs(high0 - 0.1) < 0.03  # uniform start
    assert low > 0.18 and high > 0.15  # mass moved to both bounds ...
    hist = np.histogram(w, bins=10, range=(0, 1))[0]
    assert hist[0] > 2 * hist[4:6].mean() and hist[-1] > 2 * hist[4:6].mean()  # ... leaving the middle
    assert 10 < model.spikes.num_spikes / DURATION < 60


@pytest.mark.brian2
def test_fractions_match_brian2(ours):
    pytest.importorskip("brian2", reason="brian2 is not installed (pip install '.[peers]')")
    from memr_snn.peers.brian2_sma import run_brian2_sma

    model, _ = ours
    ref = run_brian2_sma(duration=DURATION, seed=1)
    low_b, high_b = weight_fractions(ref["weights"], 1.0)
    low, high = model.fractions()
    # one network each; the binomial spread of a fraction of 1000 synapses is about 0.013
    assert abs(low - low_b) < 0.06 and abs(high - high_b) < 0.06
    rate = model.spikes.num_spikes / DURATION
    assert rate == pytest.approx(ref["rate_hz"], rel=0.25)
