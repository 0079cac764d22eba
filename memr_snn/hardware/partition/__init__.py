r"""Map a memr_snn network onto the cores of a Loihi-style chip and estimate energy and time per step.

:func:`map_network` places every neuron of every :class:`~memr_snn.Population`
on a core of a :class:`~memr_snn.hardware.CoreProfile`, splitting populations
into core-sized pieces so that every per-core limit holds, then moves single
neurons between cores to cut spike traffic between cores.  It returns a
:class:`Mapping`: utilisation per core, cores and chips used, spike traffic,
and energy and time per step from the profile's per-operation costs.

Resource model (per core)
-------------------------
* **compartments** ``<= neurons_per_core``.  A neuron takes one compartment,
  plus one per further distinct synaptic time constant it receives when the
  profile's compartments integrate only one (Loihi 1: a LIF neuron fed on both
  receptors with ``tau_syn_e != tau_syn_i`` takes two), plus one auxiliary
  compartment for threshold adaptation when ``adaptation ==
  "auxiliary_compartment"``.
* **input axons** ``<= fan_in_axons_per_core``: one slot per distinct
  presynaptic source (on-chip neuron or input) with at least one synapse on the
  core -- axons are shared by all the synapses of a source on that core, over
  every projection -- and ``plastic_in_axon_slots`` slots for a source with
  plastic synapses there.
* **output axons** ``<= fan_out_axons_per_core``: one per (neuron on the core,
  destination core it reaches), its own core included.
* **synaptic memory** ``<= synaptic_memory_bits_per_core``.  The synapses of one
  source on one core form a list stored in blocks of ``list_block_synapses``;
  a block of ``k`` synapses takes ``ceil((k * b + header) / word) * word`` bits
  with ``b = weight_bits + delay_bits + index_bits`` (nengo-loihi's
  ``SynapseConfig.bits_per_axon``).  ``index_bits`` addresses the core's
  compartments (clipped to the profile's range); ``delay_bits`` is 0 when every
  synapse into the core has ``delays == 1`` and otherwise the bits of the
  largest hardware delay.
* **delay units** (when the profile has a budget): compartments x
  ``max(min_delay_units, largest hardware delay + 2)`` -- a compartment with
  ``n`` dendritic accumulators holds delays up to ``n - 2`` (NxSDK's
  ``numDendriticAccumulators``), so 8 units per compartment fill a Loihi 1 core
  of 1024 and a delay of 62 leaves room for 128.

Inputs (:class:`~memr_snn.PoissonSource`, :class:`~memr_snn.SpikeSource`) live
off-chip (host or sensor): they take input axons and synaptic memory on the
cores they reach, and their spikes cost synaptic operations there; their
injection into the mesh is counted (``input_messages``) but not priced, since
no per-spike host-injection cost is published.

Algorithm
---------
1. *Greedy fill*: neurons in network order (populations contiguous) fill core
   after core; the largest block that meets the core-local limits is found by
   bisection (every local resource grows with the block).
2. *Output axons* depend on where every target lives.  The greedy fill is
   repeated with each neuron's destination-core count taken from the previous
   placement as an extra limit (a few rounds, to a fixed point); a core that
   still has too many output axons is then split into ``ceil(used / limit)``
   equal parts until every core fits.
3. *Refinement*: single-neuron moves to a core its synaptic partners live on,
   accepted only when they lower the rate-weighted inter-core traffic and keep
   every limit (a Kernighan-Lin-style local search without swaps).

Energy and time per step
------------------------
With ``p_i = min(1, rate_i * dt)`` the spike probability of source ``i`` per
step, ``S[i, c]`` its synapses on core ``c`` and ``D_i`` the cores it reaches:

* synaptic ops ``= sum_i p_i sum_c S[i, c]`` at ``e_synop`` / ``t_synop``;
* compartment updates: every compartment every step; it is *active* with
  probability ``1 - exp(-lambda_j)`` (at least one synaptic event, Poisson,
  ``lambda_j`` its expected input events) at ``e_neuron_active``, else
  *inactive* at ``e_neuron_inactive``;
* spike messages: one per (spike, destination core) pair at ``e_spike_tile``
  plus ``e_hop_ew`` / ``e_hop_ns`` per tile hop on the chip mesh (cores fill
  tiles in order, tiles fill the grid row by row); messages between chips are
  counted but not priced;
* learning: a plastic synapse is updated when its pre- or postsynaptic neuron
  spikes, at ``e_synupdate`` / ``t_synupdate``.

Time per step is barrier-synchronised: the slowest core's compute time
(synaptic ops + compartment updates + learning updates) plus the longest
on-chip message latency plus the barrier, interpolated linearly between
``t_barrier_min`` (one tile in use) and ``t_barrier_max`` (all tiles).
"""

from __future__ import annotations

from .mapper import map_network
from .problem import DEFAULT_RATE
from .records import CoreUsage, Mapping, MappingError, UnsupportedFeature, list_block_bits, rates_from_monitors

__all__ = [
    "map_network",
    "rates_from_monitors",
    "Mapping",
    "CoreUsage",
    "MappingError",
    "UnsupportedFeature",
    "list_block_bits",
    "DEFAULT_RATE",
]
