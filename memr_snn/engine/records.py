"""The kernels' records (:mod:`memr_snn.kernel.records`) built from a :class:`~memr_snn.engine.simulator.Simulator`.

Built afresh before each compiled call (references to the simulator's arrays, no copies), so that
arrays replaced since (a checkpoint restore, new monitors) are the ones the kernels see.
"""

from __future__ import annotations

import numpy as np

from ..kernel import records as R
from ..kernel.layout import I_TYPE
from ..kernel.models import selector

__all__ = ["neurons", "run_records", "refresh_uniform"]


def neurons(sim) -> R.Neurons:
    """Neuron tables and state."""
    return R.Neurons(sim.gc, sim.gi, sim.group, sim.v, sim.se, sim.si, sim.a, sim.ib, sim.ref, sim.last, sim.auto,
                     sim.dense_ranges, sim.active, sim.act_list, sim.act_n, selector(sim.gi[:, I_TYPE]))


def run_records(sim, pop_counts, mon_out, mon_ooff, mon_nsamp) -> tuple:
    """The records ``run_chunk`` takes after ``(t0, n_steps, event, dt)``, in its order.

    ``pop_counts``, ``mon_out``, ``mon_ooff`` and ``mon_nsamp`` are the chunk's recording arrays.  The
    inputs record is None for a network without spike sources, the crossbar record None for one without
    crossbars, the plasticity record None for one without plasticity, the recording's state monitors
    (``Record.mon``) None without state monitors: the kernels are then compiled without the input, device,
    learning and sampling code.
    """
    inputs = None  # no spike sources
    if sim.pq_lo.shape[0] > 0 or sim.sq_lo.shape[0] > 0:
        inputs = R.Inputs(sim.pq_lo, sim.pq_hi, sim.pq_seed, sim.pq_rate_off, sim.pq_rows, sim.pq_row_steps,
                          sim.pq_rates, sim.pq_next, sim.pq_cnt, sim.pq_dirty, sim.sq_lo, sim.sq_hi, sim.sq_cursor,
                          sim.sq_steps, sim.sq_gids)
    synapses = R.Synapses(sim.pop_of, sim.pop_out_ptr, sim.pop_out_proj, sim.proj_pre_lo, sim.proj_ipo, sim.proj_so,
                          sim.proj_rec, sim.proj_delay, sim.proj_doff, sim.syn_indptr, sim.syn_post, sim.syn_w,
                          sim.syn_delay, sim.proj_wu, sim.proj_wc)
    crossbars = plastic = None
    if sim._crossbars:
        crossbars = R.Crossbars(sim.proj_xb, sim.xf, sim.xi, sim.xg, sim.xnu, sim.xtp, sim.xrtp, sim.xtf, sim.xrft,
                                sim.xrs, sim.xgs, sim.xacc, sim.wrow, sim.xbuf, sim.proj_xc, sim.xw, sim.xwtot, sim.xqs,
                                sim.xp, sim.xcount, sim.xdv, sim.xfault)
    if sim.pi.shape[0] > 0:
        plastic = R.Plastic(sim.proj_pl, sim.pf, sim.pi, sim.pop_pin_ptr, sim.pop_pin, sim.csc_ptr, sim.csc_syn,
                            sim.csc_pre, sim.tr1, sim.tr2, sim.trl, sim.elig, sim.reward, sim.ch_syn, sim.ch_row,
                            sim.ch_dw)
    ring = R.Ring(sim.buf, sim.touched, sim.tcount, sim.pending)
    monitors = None  # no state monitors
    if sim.mon_every.shape[0] > 0:
        monitors = R.Monitors(sim.mon_every, sim.mon_eptr, sim.mon_gid, sim.mon_var, mon_out, mon_ooff, mon_nsamp)
    record = R.Record(sim.rec_flag, sim.n_rec_max, sim.spk_step, sim.spk_id, sim.spk_n, pop_counts, monitors)
    scratch = R.Scratch(sim.spikes, sim.fired, sim.scratch, np.ones(sim.dense_ranges.shape[0], dtype=np.uint8))
    return neurons(sim), inputs, synapses, crossbars, plastic, ring, record, scratch


def refresh_uniform(sim, projections=None) -> None:
    """Set ``sim.proj_wu[k]`` / ``sim.proj_wc[k]`` for the projections ``k`` (all if None): 1 and the weight where
    projection ``k`` has float weights (no crossbar) and no plasticity and all its weights are equal bit for bit,
    else 0 and 0.0.

    The dense push then adds the constant instead of reading every synapse's weight
    (:mod:`memr_snn.kernel.push`; the same additions, so the same results).  The engine calls it when it builds
    the synapses and whenever weights are assigned (``Simulator.set_weights``): the only writers of ``syn_w``
    apart from the plasticity kernels, whose projections are never uniform.
    """
    n_proj = sim.proj_so.shape[0]
    if getattr(sim, "proj_wu", None) is None or sim.proj_wu.shape[0] != n_proj:
        sim.proj_wu = np.zeros(n_proj, dtype=np.uint8)
        sim.proj_wc = np.zeros(n_proj)
    ends = np.append(sim.proj_so[1:], sim.syn_w.shape[0])
    for k in range(n_proj) if projections is None else projections:
        w = sim.syn_w[sim.proj_so[k]:ends[k]]
        bits = w.view(np.dtype(f"u{w.dtype.itemsize}"))
        uniform = w.size > 0 and sim.proj_xb[k] < 0 and sim.proj_pl[k] < 0 and bool(np.all(bits == bits[0]))
        sim.proj_wu[k] = 1 if uniform else 0
        sim.proj_wc[k] = float(w[0]) if uniform else 0.0
