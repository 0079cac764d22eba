r"""Export to and import from NIR, the Neuromorphic Intermediate Representation.

NIR (https://neuroir.org, Pedersen et al. 2024, Nat. Commun. 15:8122) describes a
network as a graph of continuous-time primitives.  This module converts a
memr_snn :class:`~memr_snn.Network` to a ``nir.NIRGraph`` (:func:`to_nir`,
:func:`write_nir`) and back (:func:`from_nir`, :func:`read_nir`, :func:`run_nir`).
``nir`` is imported inside the functions only (optional extra ``nir``).

Mapping
-------
memr_snn element -> NIR node(s):

* ``SpikeSource`` / ``PoissonSource`` -> ``Input`` of shape ``(n,)`` (spike times/rates are input
  data, not part of the graph; supply them to :func:`from_nir` / :func:`run_nir`);
* ``Population(LIFParams)``, one synaptic time constant in use -> ``CubaLIF``: ``tau_mem``,
  ``tau_syn``, ``r = tau_mem / c_mem``, ``v_leak = v_rest + r i_bias``, ``v_threshold``,
  ``v_reset``, ``w_in = tau_syn / A`` (see *spikes*);
* ``Population(LIFParams)`` using both receptors with different taus -> ``LIF`` (membrane) fed by
  two ``LI`` nodes (the synaptic currents: ``tau = tau_syn_e`` or ``tau_syn_i``, ``r = tau / A``,
  ``v_leak = 0``); inputs of several ``LI`` nodes into one ``LIF`` are summed, exactly as
  :math:`i_e + i_i` in the membrane equation;
* ``Projection`` weights ``(n_post, n_pre)`` -> ``Linear`` (dense weight matrix; one per distinct
  delay);
* ``delays = d`` -> ``Delay`` of ``(d - 1) dt`` after the ``Linear`` (no ``Delay`` node when
  ``d = 1``);
* population observed -> ``Output`` fed by the population.

On import, ``Affine`` with a zero bias, ``Linear``, ``Scale`` and ``Delay``
nodes may be chained in any order between spiking nodes; each path is folded
into projections (one per total delay).

Why these maps are exact
~~~~~~~~~~~~~~~~~~~~~~~~
memr_snn's LIF (:class:`~memr_snn.LIFParams`) is
:math:`C\,dv/dt = -(C/\tau_m)(v - v_{rest}) + i_e + i_i + i_{bias}`, i.e.
:math:`\tau_m\,dv/dt = (v_{rest} + R\,i_{bias} - v) + R\,(i_e + i_i)` with
:math:`R = \tau_m / C`: NIR's membrane equation with :math:`v_{leak} = v_{rest} + R\,i_{bias}`.
A spike of weight :math:`w` makes the synaptic current jump by :math:`w`.  In NIR's
:math:`\tau_{syn}\,dI/dt = -I + w_{in} W S`, a spike of area :math:`A` makes
:math:`I` jump by :math:`w_{in} W A / \tau_{syn}`; with :math:`w_{in} = \tau_{syn}/A`
the ``Linear`` weight :math:`W` is the current jump itself.  memr_snn integrates
these linear ODEs exactly between steps (propagator), so a graph's dynamics do
not depend on the discretisation except for spikes being placed on the dt grid.

Spikes
~~~~~~
NIR's equations do not fix the area of a spike ``S``.  Two readings exist and
``spike_model`` chooses one, recorded in the metadata:

* ``"dirac"`` (default): a spike is :math:`\delta(t)`, area 1 (the literal
  reading of the ODEs; the weights do not depend on dt);
* ``"step"``: a spike is a pulse of height 1 lasting one step, area ``dt``
  (the reading of snnTorch and Norse, which Euler-integrate the per-step input;
  snnTorch writes ``w_in = tau_syn / dt`` for this reason).

Units and dt
~~~~~~~~~~~~
memr_snn is SI (s, V, A, F, Ω).  NIR stores bare numbers; its primitives table
lists τ in ms, v in mV and R in Ω, while snnTorch and Norse write τ in seconds.
The graph's units are therefore an explicit argument, :class:`NIRUnits`
(size of one graph unit of time, voltage and current, in SI; resistance is
voltage / current).  :data:`SI_UNITS` (default) writes s, V, A, Ω;
:data:`NIR_DOC_UNITS` writes ms, mV, mA and Ω (the table's units, made
consistent: mV / Ω = mA).  The conversion happens once, here; the graph's
metadata records ``dt``, the units, the spike model and the delay convention.
NIR asks backends not to rely on metadata, so :func:`from_nir` takes ``dt``,
``units`` and ``spike_model`` as arguments and falls back on the metadata only
when they are omitted.

Delays
~~~~~~
memr_snn delivers a spike emitted in step ``n`` at the start of step ``n + d``
(``d >= 1``), so ``d = 1`` is the smallest latency a clocked simulator has (as
Brian2's zero delay).  An NIR edge without ``Delay`` therefore imports as
``delays = 1`` and a ``Delay`` of τ as ``delays = τ / dt + 1``; τ must be
a whole number of steps.

Refused (:class:`NIRExportError` names the element and the reason)
~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~
Conductance synapses (``LIFCondParams``), adaptive thresholds (``ALIFParams``),
threshold-switching memristor neurons, and any other neuron model without a
registered converter; with ``lossy=False`` (default) also a refractory period
``t_ref > 0`` (NIR neurons have none), memristive devices on a projection (read
noise, drift, wires) and plasticity rules.  ``lossy=True`` exports these
anyway (ideal weights at export time, no refractory period) and lists what was
dropped in the metadata entry ``memr_snn_dropped``.  Initial states and monitors
are not part of NIR and are not exported.

On import (:class:`NIRImportError`): ``IF`` and ``I`` (no leak: memr_snn's
neurons need a finite ``tau_mem``), ``LIF`` fed by spikes directly
(instantaneous synapses, which memr_snn does not have), ``LI``/``CubaLI`` that do
not feed a ``LIF`` (non-spiking readouts), ``Affine`` with a non-zero bias (a
constant drive of the synaptic current), convolutions, pooling, ``Flatten``,
``Threshold``, and malformed or unreadable files.  Nested graphs are expanded in
place (their ``Input``/``Output`` nodes are ports; inner nodes become ``<subgraph>.<key>``).

Examples
--------
>>> from memr_snn import Network, Population, LIFParams, SpikeSource, Projection, AllToAll
>>> from memr_snn.units import ms, pA
>>> net = Network(dt=0.1 * ms, seed=1)
>>> src = net.add(SpikeSource(2, times=[1 * ms, 2 * ms], indices=[0, 1], name="in"))
>>> pop = net.add(Population(3, LIFParams(t_ref=0.0), name="pop"))
>>> _ = net.add(Projection(src, pop, AllToAll(), weights=500 * pA, name="in->pop"))
>>> graph = to_nir(net)  # doctest: +SKIP
>>> sorted(graph.nodes)  # doctest: +SKIP
['in', 'in->pop', 'pop', 'pop.out']
"""
from .common import NIR_DOC_UNITS, SI_UNITS, SPIKE_MODELS, NIRExportError, NIRImportError, NIRUnits
from .export import to_nir, write_nir
from .importer import from_nir, run_nir
from .reader import read_nir

__all__ = [
    "NIRUnits",
    "SI_UNITS",
    "NIR_DOC_UNITS",
    "SPIKE_MODELS",
    "NIRExportError",
    "NIRImportError",
    "to_nir",
    "from_nir",
    "run_nir",
    "write_nir",
    "read_nir",
]
