"""Unit safety of neuron parameters: Brian2 quantities, wrong dimensions, implausible magnitudes."""

import warnings

import numpy as np
import pytest

from memr_snn.neurons import ALIFParams, ImplausibleUnitWarning, LIFCondParams, LIFParams, TSMNeuronParams
from memr_snn.neurons._units import FIELDS


@pytest.mark.parametrize("klass", [LIFParams, LIFCondParams, ALIFParams, TSMNeuronParams])
def test_defaults_are_silent(klass):
    with warnings.catch_warnings():
        warnings.simplefilter("error", ImplausibleUnitWarning)
        klass()


def test_every_field_of_the_built_in_models_is_in_the_table():
    """Every numeric field has a unit; options (strings from a fixed set, e.g. ``integration``) have none."""
    for klass in (LIFParams, LIFCondParams, ALIFParams, TSMNeuronParams):
        for name in klass.numeric_names():
            assert name in FIELDS, (klass.__name__, name)
    assert LIFCondParams.option_names() == ("integration",)


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"tau_mem": 20}, "tau_mem = 20 s is implausible for a membrane time constant; did you mean 20 ms (20e-3)?"),
    ({"v_threshold": -50, "v_reset": -70, "v_rest": -70e-3},
     "v_threshold = -50 V is implausible for a membrane potential; did you mean -50 mV (-50e-3)?"),
    ({"c_mem": 250}, "c_mem = 250 F is implausible for a membrane capacitance; did you mean 250 pF (250e-12)?"),
    ({"i_bias": 300}, "i_bias = 300 A is implausible for a bias current; did you mean 300 pA (300e-12)?"),
    ({"t_ref": 2}, "t_ref = 2 s is implausible for a refractory period; did you mean 2 ms (2e-3)?"),
    ({"tau_syn_e": np.array([2e-3, 5.0, 20.0])}, "tau_syn_e = 20 s is implausible"),
    ({"tau_mem": 1e-9},
     "tau_mem = 1e-09 s is implausible for a membrane time constant; expected magnitudes from 1e-07 s (a unit prefix"),
])
def test_implausible_magnitude_warns_with_the_likely_unit(kwargs, message):
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        LIFParams(**kwargs)
    assert 1 <= len(record) <= len(kwargs)  # one warning per implausible field (v_reset = -70 V warns too)
    assert all(r.category is ImplausibleUnitWarning for r in record)
    assert all(r.filename == __file__ for r in record)  # each points at the caller's line
    assert any(message in str(r.message) for r in record), [str(r.message) for r in record]
    assert issubclass(ImplausibleUnitWarning, UserWarning)


def test_other_models_warn_too():
    with pytest.warns(ImplausibleUnitWarning, match=r"r_on = 0.035 Ohm .*expected magnitudes from 1 Ohm"):
        TSMNeuronParams(r_on=35e-3, r_off=200e6)  # 35 mOhm: below 1 Ohm
    with pytest.warns(ImplausibleUnitWarning, match=r"tau_adapt = 2e\+07 s is implausible"):
        ALIFParams(tau_adapt=2e7)
    with pytest.warns(ImplausibleUnitWarning, match="e_rev_i = -85 V"):
        LIFCondParams(e_rev_i=-85)


@pytest.mark.parametrize("kwargs", [
    {"tau_mem": 20e-3, "v_threshold": -50e-3, "c_mem": 250e-12, "i_bias": 300e-12},
    {"tau_mem": 5.0, "t_ref": 0.0, "i_bias": 0.0, "v_rest": 0.0, "v_reset": 0.0, "v_threshold": 1.0},  # normalised
    {"tau_mem": np.full(3, 10e-3), "i_bias": np.array([0.0, 1e-9, -2e-9])},
])
def test_plausible_values_are_silent(kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("error", ImplausibleUnitWarning)
        LIFParams(**kwargs)


def test_file_round_trip_is_silent(tmp_path):
    from memr_snn.neurons import load_params, save_params

    with warnings.catch_warnings():
        warnings.simplefilter("error", ImplausibleUnitWarning)
        p = load_params(save_params(ALIFParams(tau_adapt=1.5), tmp_path / "p.json"))
    assert p.tau_adapt == 1.5


# ------------------------------------------------------------------------------------ Brian2 quantities

def test_brian2_quantities_convert_to_si():
    b2 = pytest.importorskip("brian2", reason="brian2 is not installed (pip install 'memr_snn[peers]')")
    with warnings.catch_warnings():
        warnings.simplefilter("error", ImplausibleUnitWarning)
        p = LIFParams(tau_mem=20 * b2.ms, v_threshold=-50 * b2.mV, c_mem=250 * b2.pF, i_bias=[0.1, 0.2] * b2.nA,
                      t_ref=2 * b2.ms)
    assert p.tau_mem == pytest.approx(20e-3) and type(p.tau_mem) is float
    assert p.v_threshold == pytest.approx(-50e-3) and p.c_mem == pytest.approx(250e-12)
    np.testing.assert_allclose(p.i_bias, [0.1e-9, 0.2e-9])
    t = TSMNeuronParams(r_off=200 * b2.Mohm, r_on=35 * b2.Mohm, c_mem=300 * b2.pF)
    assert t.r_off == pytest.approx(200e6)


@pytest.mark.parametrize(("field", "unit", "kind"), [
    ("tau_mem", "mV", "a time"), ("v_threshold", "ms", "a voltage"), ("c_mem", "nA", "a capacitance"),
    ("i_bias", "nS", "a current"),
])
def test_brian2_wrong_dimension_raises(field, unit, kind):
    b2 = pytest.importorskip("brian2", reason="brian2 is not installed (pip install 'memr_snn[peers]')")
    with pytest.raises(ValueError, match=f"LIFParams.{field} must be {kind} "):
        LIFParams(**{field: 1 * getattr(b2, unit)})


def test_brian2_wrong_dimension_raises_for_resistance():
    b2 = pytest.importorskip("brian2", reason="brian2 is not installed (pip install 'memr_snn[peers]')")
    with pytest.raises(ValueError, match=r"TSMNeuronParams.r_off must be a resistance \[Ohm\]"):
        TSMNeuronParams(r_off=200 * b2.nS)
