"""Unit safety of the neuron parameters: Brian2 quantities in, plausibility warnings for plain floats.

Every neuron parameter is stored as a plain float (or array) in SI units.  Two mistakes are common:
a value typed in the unit of the paper (``tau_mem=20`` meaning 20 ms, ``v_threshold=-50`` meaning
-50 mV, ``c_mem=250`` meaning 250 pF), and a Brian2 quantity of the wrong kind.  This module

* converts a Brian2 ``Quantity`` (detected by its module; brian2 is never imported unless the value
  already is one) to SI after checking its dimension against the field's documented unit, and raises
  ``ValueError`` for a wrong dimension;
* warns (:class:`ImplausibleUnitWarning`) when a plain value lies outside the plausible range of its
  field, naming the unit prefix the user probably meant.

The fields, their units and plausible ranges are the table :data:`FIELDS`.  Fields of other
(user-registered) models are not checked.  Silence the warning for deliberate extreme values with
``warnings.filterwarnings("ignore", category=ImplausibleUnitWarning)``.
"""

from __future__ import annotations

import math
import warnings
from typing import NamedTuple

import numpy as np

__all__ = ["ImplausibleUnitWarning", "FIELDS", "FieldUnit", "to_si", "check_plausible"]


class ImplausibleUnitWarning(UserWarning):
    """A neuron parameter's magnitude suggests a unit mistake (e.g. milliseconds given as seconds)."""


class FieldUnit(NamedTuple):
    """Unit and plausible magnitudes of one neuron parameter."""

    unit: str
    """SI unit symbol: ``s``, ``V``, ``F``, ``A``, ``Ohm``."""
    low: float
    """Smallest plausible non-zero magnitude |value| (0: no lower bound)."""
    high: float
    """Largest plausible magnitude |value|."""
    typical: float
    """A typical magnitude, to pick the unit prefix suggested in the warning."""
    what: str
    """What the field is, for the message ("a membrane time constant")."""


# One table for every built-in neuron model (LIFParams, LIFCondParams, ALIFParams, TSMNeuronParams).
# The ranges are generous on purpose: they catch values off by a unit prefix (a factor 1e3 or more),
# not unusual but deliberate choices.  Zero is always silent (v_rest = 0, t_ref = 0, i_bias = 0).
_TIME = "s"
_TAU = FieldUnit(_TIME, 1e-7, 10.0, 10e-3, "a time constant")  # 0.1 us (accelerated hardware) .. 10 s
FIELDS: dict[str, FieldUnit] = {
    "tau_mem": _TAU._replace(what="a membrane time constant"),
    "tau_syn_e": _TAU._replace(typical=2e-3, what="a synaptic time constant"),
    "tau_syn_i": _TAU._replace(typical=2e-3, what="a synaptic time constant"),
    # e-prop's adaptation spans hundreds of ms to seconds, Diehl & Cook's homeostatic threshold decays
    # with 1e7 ms = 1e4 s (networks/diehl_cook.py): allow up to 1e5 s
    "tau_adapt": FieldUnit(_TIME, 1e-7, 1e5, 200e-3, "an adaptation time constant"),
    "t_ref": FieldUnit(_TIME, 1e-7, 1.0, 2e-3, "a refractory period"),
    # membrane or circuit capacitance: 0.1 fF (nanoscale devices) .. 1 mF; a bare 250 (pF) is 250 F
    "c_mem": FieldUnit("F", 1e-16, 1e-3, 250e-12, "a membrane capacitance"),
    # potentials: biological ones are tens of mV, circuits and normalised models up to a few volts
    "v_rest": FieldUnit("V", 0.0, 2.0, 70e-3, "a membrane potential"),
    "v_reset": FieldUnit("V", 0.0, 2.0, 70e-3, "a membrane potential"),
    "v_threshold": FieldUnit("V", 0.0, 2.0, 50e-3, "a membrane potential"),
    "e_rev_e": FieldUnit("V", 0.0, 2.0, 50e-3, "a reversal potential"),
    "e_rev_i": FieldUnit("V", 0.0, 2.0, 80e-3, "a reversal potential"),
    "beta_adapt": FieldUnit("V", 0.0, 2.0, 2e-3, "a threshold increase per adaptation unit"),
    "v_th": FieldUnit("V", 0.0, 2.0, 60e-3, "a switching voltage"),
    "v_hold": FieldUnit("V", 0.0, 2.0, 30e-3, "a hold voltage"),
    "k_mod": FieldUnit("V", 0.0, 2.0, 5e-3, "a threshold shift per unit of modulator"),
    # bias currents: pA..nA in neurons, up to mA in circuits
    "i_bias": FieldUnit("A", 0.0, 1e-3, 1e-9, "a bias current"),
    # device resistances: 1 Ohm .. 1 POhm
    "r_off": FieldUnit("Ohm", 1.0, 1e15, 100e6, "a device resistance"),
    "r_on": FieldUnit("Ohm", 1.0, 1e15, 30e6, "a device resistance"),
}

_KIND = {"s": "a time", "V": "a voltage", "F": "a capacitance", "A": "a current", "Ohm": "a resistance",
         "S": "a conductance"}
_PREFIXES = ((1e-3, "m", "e-3"), (1e-6, "u", "e-6"), (1e-9, "n", "e-9"), (1e-12, "p", "e-12"), (1e-15, "f", "e-15"))


# ------------------------------------------------------------------------------------ Brian2 quantities

def _is_brian2_quantity(value) -> bool:
    return type(value).__module__.startswith("brian2") and hasattr(value, "dim")


def to_si(owner: str, name: str, value):
    """``value`` unchanged, or a Brian2 quantity as its SI magnitude (float or array) after a dimension check.

    Raises
    ------
    ValueError
        If ``value`` is a Brian2 quantity whose dimension is not the unit of ``name`` in :data:`FIELDS`
        (or ``name`` has no documented unit).
    """
    if not _is_brian2_quantity(value):
        return value
    import brian2  # already imported: the value is one of its quantities

    field = FIELDS.get(name)
    if field is None:
        raise ValueError(f"{owner}.{name} has no documented unit to check a Brian2 quantity against; "
                         f"pass a plain number in SI units, got {value!r}")
    si_unit = {"s": brian2.second, "V": brian2.volt, "F": brian2.farad, "A": brian2.amp, "Ohm": brian2.ohm,
               "S": brian2.siemens}[field.unit]
    if value.dim != si_unit.dim:
        got = "dimensionless" if value.dim == brian2.units.fundamentalunits.DIMENSIONLESS else f"in {value.dim}"
        raise ValueError(f"{owner}.{name} must be {_KIND[field.unit]} [{field.unit}], got {value!r} ({got})")
    return np.asarray(value / si_unit, dtype=np.float64)[()]


# ------------------------------------------------------------------------------------ plausibility

def _suggestion(v: float, field: FieldUnit) -> str:
    """The message's "did you mean" part for a magnitude above the plausible range."""
    fits = [(abs(math.log10(abs(v) * f) - math.log10(field.typical)), p, e) for f, p, e in _PREFIXES
            if field.low <= abs(v) * f <= field.high]
    if not fits:
        return f"expected magnitudes up to {field.high:g} {field.unit}"
    _, prefix, exponent = min(fits)
    return f"did you mean {v:g} {prefix}{field.unit} ({v:g}{exponent})?"


def check_plausible(params, stacklevel: int = 2) -> None:
    """Warn (:class:`ImplausibleUnitWarning`) once per field of ``params`` whose magnitude is implausible."""
    owner = type(params).__name__
    for name, field in FIELDS.items():
        if not hasattr(params, name):
            continue
        raw = np.asarray(getattr(params, name), dtype=np.float64).ravel()
        values = raw[np.isfinite(raw) & (raw != 0)]
        if values.size == 0:
            continue
        mags = np.abs(values)
        if mags.max() > field.high:
            v = float(values[np.argmax(mags)])
            advice = _suggestion(v, field)
        elif mags.min() < field.low:
            v = float(values[np.argmin(mags)])
            advice = f"expected magnitudes from {field.low:g} {field.unit} (a unit prefix applied twice?)"
        else:
            continue
        warnings.warn(f"{owner}: {name} = {v:g} {field.unit} is implausible for {field.what}; {advice}",
                      ImplausibleUnitWarning, stacklevel=stacklevel + 1)
