r"""Reference ("peer") simulators: the Vogels–Abbott networks in Brian2 and NEST.

memr_snn compares itself against these runs in tests and benchmarks.  Each run happens
in a fresh Python subprocess (clean timings, no leaked ``cpp_standalone`` device or NEST
kernel state); results come back through an ``.npz`` file as a :class:`PeerResult`.
Brian2 and NEST are imported only inside that subprocess, so importing
``memr_snn.bench.peers`` needs neither (they come with the ``peers`` extra).

Networks
--------
Both are the benchmarks 1 (COBA) and 2 (CUBA) of Brette et al. (2007), *Simulation of
networks of spiking neurons: a review of tools and strategies*, J. Comput. Neurosci. 23,
349–398, based on Vogels & Abbott (2005), J. Neurosci. 25, 10786–10795.  At ``N``
neurons the first ``4 * N // 5`` are excitatory, the rest inhibitory, and every ordered
pair (autapses included) is connected with probability ``p = 80 / N`` (``p = 0.02`` at
``N = 4000``, as in the examples; Brian2's own ``tests/features/speed.py`` scales CUBA
the same way).  Synaptic delay: Brian2's default, zero (a spike in step ``k`` is added to
``ge``/``gi`` in step ``k`` and acts from step ``k + 1``; memr_snn's one-step delay is the
same thing).  Default ``dt = 0.1 ms``.

**CUBA** — Brian2 ``examples/CUBA.py`` (brian-team/brian2), exact integration
(``method='exact'``, called ``'linear'`` in older copies):

.. math::

    \tau_m \frac{dv}{dt} = g_e + g_i - (v - E_l), \qquad
    \tau_e \frac{dg_e}{dt} = -g_e, \qquad \tau_i \frac{dg_i}{dt} = -g_i

with ``v``, ``ge``, ``gi`` in volts, ``taum = 20 ms``, ``taue = 5 ms``, ``taui = 10 ms``,
``Vt = -50 mV``, ``Vr = -60 mV``, ``El = -49 mV``; threshold ``v > Vt``, reset
``v = Vr``, refractory 5 ms (``v`` clamped, ``ge``/``gi`` keep decaying); on a spike
``ge += we = 60*0.27/10 mV = 1.62 mV`` (excitatory sources) or
``gi += wi = -20*4.5/10 mV = -9 mV`` (inhibitory); initially
``v = Vr + rand()*(Vt - Vr)``, ``ge = gi = 0``.

**COBA** — current Brian2 releases ship CUBA and COBAHH but no plain COBA example; the
Brian COBA benchmark is R. Brette's ``examples/COBA.py`` (Dec 2007) from Brian 1
(brian-team/brian), which was carried over into Brian2's ``examples/COBA.py`` during
Brian2's development (Brian2 syntax: ``threshold='v>10*mV'``, ``reset='v=0*mvolt'``,
``refractory=5*ms``, ``method='euler'``, ``(unless refractory)``).  That script writes
``v`` relative to rest (``El = 0``, ``Vt = 10 mV``, ``Ee = 60 mV``, ``Ei = -20 mV``);
here the identical equations are written in absolute potentials:

.. math::

    \tau_m \frac{dv}{dt} = -(v - E_l) + g_e (E_e - v) + g_i (E_i - v), \qquad
    \tau_e \frac{dg_e}{dt} = -g_e, \qquad \tau_i \frac{dg_i}{dt} = -g_i

with ``ge``, ``gi`` dimensionless, in units of the leak conductance ("NB 1" in the
script); ``taum = 20 ms``, ``taue = 5 ms``, ``taui = 10 ms``, ``El = -60 mV``,
``Ee = 0 mV``, ``Ei = -80 mV``, ``Vt = -50 mV``, ``Vr = -60 mV``; threshold ``v > Vt``,
reset ``v = Vr``, refractory 5 ms; forward Euler (``method='euler'``); on a spike
``ge += we = 6/10`` (6 nS over a 10 nS leak) or ``gi += wi = 67/10`` (67 nS); initially
``v = El + (randn()*5 - 5) mV`` (i.e. N(-65 mV, 5 mV)), ``ge = randn()*1.5 + 4``,
``gi = randn()*12 + 20`` (no external input: the initial conductances kick off the
self-sustained activity).

The same numbers as SI floats are :data:`CUBA` and :data:`COBA`.  How the NEST models
map onto these equations, and how NEST differs, is in :mod:`memr_snn.bench.peers.nest_runner`.

Examples
--------
>>> from memr_snn.bench.peers import run_brian2, run_nest
>>> b = run_brian2("cuba", 4000, 1.0, seed=1, target="cython")  # doctest: +SKIP
>>> n = run_nest("cuba", 4000, 1.0, seed=1)  # doctest: +SKIP
>>> b.mean_rate, n.mean_rate, b.run_time, n.run_time  # doctest: +SKIP
"""

from .brian2_runner import BRIAN2_TARGETS, run_brian2
from .models import COBA, CUBA, EXCITATORY_FRACTION, SYNAPSES_PER_NEURON
from .nest_runner import run_nest
from .result import MODELS, PeerResult

__all__ = [
    "run_brian2",
    "run_nest",
    "PeerResult",
    "MODELS",
    "BRIAN2_TARGETS",
    "CUBA",
    "COBA",
    "SYNAPSES_PER_NEURON",
    "EXCITATORY_FRACTION",
]
