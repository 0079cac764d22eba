"""The records the run loop's phase functions take: named tuples of the engine's flat arrays.

A record bundles the arrays one part of the simulation owns, so that a phase function
(:mod:`memr_snn.kernel.loop`) takes a few records instead of dozens of positional arrays.
numba types a named tuple of arrays as a heterogeneous tuple: fields are read at compile
time (``nrn.v`` is a plain array access, no lookup at run time) and a record passed to an
inlined phase costs nothing.  Records hold only arrays and a few scalars that never change
inside a call; every mutable counter is a length-1 array (``act_n``, ``spk_n``), since a
tuple field cannot be assigned.  The engine (``memr_snn.engine.simulator``) builds them
before each compiled call from its arrays (they are cheap: references, no copies).

Field meanings are those of :mod:`memr_snn.kernel.loop` and :mod:`memr_snn.engine.simulator`.
"""

from collections import namedtuple

__all__ = ["Neurons", "Inputs", "Synapses", "Crossbars", "Plastic", "Ring", "Record", "Monitors", "Scratch"]

#: neuron tables and state: coefficient tables ``gc``/``gi`` and each neuron's ``group``; state
#: ``v, se, si, a, ib, ref``; ``last`` (step an idle neuron's state refers to); ``auto`` (never idles);
#: ``dense_ranges`` (lo, hi, group or -1); the event-mode active set ``active``, ``act_list``, ``act_n``;
#: ``models``, the model selector (:func:`memr_snn.kernel.models.selector`: which neuron models the network
#: uses, a tuple of type codes and None; its numba type decides which model kernels are compiled)
Neurons = namedtuple("Neurons", [
    "gc", "gi", "group", "v", "se", "si", "a", "ib", "ref", "last", "auto", "dense_ranges",
    "active", "act_list", "act_n", "models",
])

#: spike sources: Poisson inputs per population ``q`` (``pq_*``) and explicit spike times (``sq_*``)
Inputs = namedtuple("Inputs", [
    "pq_lo", "pq_hi", "pq_seed", "pq_rate_off", "pq_rows", "pq_row_steps", "pq_rates", "pq_next", "pq_cnt",
    "pq_dirty", "sq_lo", "sq_hi", "sq_cursor", "sq_steps", "sq_gids",
])

#: synapses: outgoing projections per population, per-projection offsets, global CSR arrays; ``proj_wu[pr]`` (uint8)
#: is 1 where projection ``pr`` has float weights that are all ``proj_wc[pr]`` (bit for bit) and no plasticity
Synapses = namedtuple("Synapses", [
    "pop_of", "pop_out_ptr", "pop_out_proj", "proj_pre_lo", "proj_ipo", "proj_so", "proj_rec", "proj_delay",
    "proj_doff", "syn_indptr", "syn_post", "syn_w", "syn_delay", "proj_wu", "proj_wc",
])

#: crossbar storage (``proj_xb[pr]`` = crossbar index or -1; :mod:`memr_snn.kernel.crossbar`; None without), its read
#: caches (``proj_xc``, ``xw``, ``xwtot``, ``xqs``) and device wear state (``xp``, ``xcount``, ``xdv``, ``xfault``)
Crossbars = namedtuple("Crossbars", [
    "proj_xb", "xf", "xi", "xg", "xnu", "xtp", "xrtp", "xtf", "xrft", "xrs", "xgs", "xacc", "wrow", "xbuf",
    "proj_xc", "xw", "xwtot", "xqs", "xp", "xcount", "xdv", "xfault",
])

#: plasticity (``proj_pl[pr]`` = plastic index or -1; :mod:`memr_snn.kernel.plasticity`); None without plasticity;
#: ``ch_syn, ch_row, ch_dw``: the change buffer a rule fills for one event and hands to the storage (synapse,
#: presynaptic neuron, change; as long as the longest row or column of a plastic projection)
Plastic = namedtuple("Plastic", [
    "proj_pl", "pf", "pi", "pop_pin_ptr", "pop_pin", "csc_ptr", "csc_syn", "csc_pre", "tr1", "tr2", "trl", "elig",
    "reward", "ch_syn", "ch_row", "ch_dw",
])

#: the ring buffer ``buf[slot, receptor, neuron]`` with its per-slot touched lists (event mode)
Ring = namedtuple("Ring", ["buf", "touched", "tcount", "pending"])

#: recording: spike record (``rec_flag``, ``n_rec_max``, ``spk_*``), population counts per step, the state monitors
#: (``mon``: a :data:`Monitors` record, None without state monitors: their kernels are then not compiled)
Record = namedtuple("Record", ["rec_flag", "n_rec_max", "spk_step", "spk_id", "spk_n", "pop_counts", "mon"])

#: state monitors: sampling period per monitor (``every``, steps), each monitor's entries (``eptr``) of neuron
#: ``gid`` and variable ``var``; the chunk's output ``out``, each monitor's offset in it and samples taken
Monitors = namedtuple("Monitors", ["every", "eptr", "gid", "var", "out", "ooff", "nsamp"])

#: per-step scratch: the step's spikes, dense-mode spike flags, a float scratch row; ``range_bias`` (uint8, one per
#: dense range): whether a range's neurons have bias currents (set at the start of each call, ``loop.flag_bias``)
Scratch = namedtuple("Scratch", ["spikes", "fired", "scratch", "range_bias"])
