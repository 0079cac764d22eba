"""Hardware-aware training settings measured through the device layer, the CNN on tiles, and the accuracy driver's
hardware-aware, CNN and column-calibration modes."""

from __future__ import annotations

import numpy as np
import pytest

from memr_snn import aimc
from memr_snn.aimc.training import cnn_spec, hwa_for_device, measure_weight_noise
from memr_snn.learning.cnn import cnn_forward, init_cnn
from memr_snn.learning.hwa import HWATraining


def test_cnn_on_ideal_tiles_is_the_float_cnn():
    rng = np.random.default_rng(0)
    state = init_cnn((2, 9, 9), 5, channels=4, seed=1)
    state["conv1.bias"] += 0.1
    x = rng.random((6, 2, 9, 9))
    model = aimc.compile(cnn_spec(state), io="ideal")
    np.testing.assert_allclose(model(x), cnn_forward(state, x), rtol=1e-10, atol=1e-12)


def test_weight_noise_is_measured_from_the_device():
    assert measure_weight_noise("ideal", t=86400.0) < 1e-12
    early, late = (measure_weight_noise("hfox_rram", t=t) for t in (1.0, 86400.0))
    # relaxation adds rho * log10(1 + t / t_r) of the range per device: 4.9 % at one day, 0.3 % at 1 s
    assert 0.0 < early < late
    hw = hwa_for_device("pcm_aihwkit", io="aihwkit_inference")
    assert (hw.dac_bits, hw.adc_bits, hw.adc_bound, hw.out_noise, hw.clip_sigma) == (7, 9, 12.0, 0.06, 2.5)
    assert hw.weight_noise > 0.01
    assert hwa_for_device("ideal", io="ideal").active is False


def test_inactive_hardware_aware_training_is_plain_training_and_modes_are_reported():
    pytest.importorskip("sklearn")
    from memr_snn.aimc.experiment import accuracy_vs_time

    kw = dict(devices=("pcm_aihwkit",), times=(1.0, 86400.0), seeds=(0,), hidden=(16,), epochs=3)
    plain = accuracy_vs_time(column_calibration=True, **kw)
    same = accuracy_vs_time(training="hwa", hardware=HWATraining(), column_calibration=True, **kw)
    assert plain.acc == same.acc and plain.float_acc == same.float_acc == same.software_acc["pcm_aihwkit"]
    assert set(plain.acc["pcm_aihwkit"]) == {"uncompensated", "compensated", "column"}
    md = same.markdown()
    assert "| pcm_aihwkit | yes + column calibration |" in md and "Hardware-aware MLPs in software" in md
    with pytest.raises(ValueError, match="model = 'rnn' is not one of"):
        accuracy_vs_time(model="rnn", **kw)
