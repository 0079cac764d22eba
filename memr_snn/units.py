"""SI scale constants.

memr_snn stores every quantity as a plain float in SI base units: seconds, volts,
amperes, siemens, farads, ohms, hertz, joules.  There is no units library in the
core; these constants only make user code read naturally::

    >>> from memr_snn.units import ms, mV
    >>> tau_mem = 20 * ms
    >>> tau_mem
    0.02

Every parameter docstring ends with its unit in brackets, e.g. "Membrane time
constant [s]."  Conversions to other conventions (Brian2 quantities, NEST's ms/mV/pA,
Lava integers, NIR) happen only at the edges: in ``adapters/`` and in test helpers.
"""

__all__ = [
    "second", "ms", "us", "ns",
    "volt", "mV", "uV",
    "amp", "mA", "uA", "nA", "pA",
    "siemens", "mS", "uS", "nS", "pS",
    "farad", "uF", "nF", "pF",
    "ohm", "kOhm", "MOhm", "GOhm",
    "hertz", "Hz", "kHz",
    "joule", "pJ", "fJ", "nJ",
]

second = 1.0
ms = 1e-3
us = 1e-6
ns = 1e-9

volt = 1.0
mV = 1e-3
uV = 1e-6

amp = 1.0
mA = 1e-3
uA = 1e-6
nA = 1e-9
pA = 1e-12

siemens = 1.0
mS = 1e-3
uS = 1e-6
nS = 1e-9
pS = 1e-12

farad = 1.0
uF = 1e-6
nF = 1e-9
pF = 1e-12

ohm = 1.0
kOhm = 1e3
MOhm = 1e6
GOhm = 1e9

hertz = 1.0
Hz = 1.0
kHz = 1e3

joule = 1.0
nJ = 1e-9
pJ = 1e-12
fJ = 1e-15
