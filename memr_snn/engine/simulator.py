"""The engine: flat arrays built from the model, and the chunked run loop.

:class:`Simulator` owns every array the kernels touch.  It is built from a :class:`memr_snn.Network` when
the network first runs; Python only runs between chunks of steps (draining monitors, the progress bar).
"""

from __future__ import annotations

import logging

import numpy as np

from .._validation import read_only
from ..kernel import layout as L
from ..kernel import models as KM
from ..kernel.loop import activate_many, mode_arg, peek_many, rebuild_touched, run_chunk, sync_all
from ..model.monitors import RateMonitor, SpikeMonitor, StateMonitor
from ..model.population import PoissonSource, Population, SpikeSource
from ..model.projection import check_weight_range
from . import compile_ahead, records
from .checks import check_model_arrays, check_monitor_arrays
from .coefficients import group_tables, input_tables, plasticity_row
from .placement import staggered_zeros
from .threads import ThreadedChunks, threads_for

__all__ = ["Simulator", "VAR_CODES", "STATE_ARRAYS", "check_model_arrays"]

logger = logging.getLogger(__name__)

#: state variable name -> kernel code
VAR_CODES = {
    "v": L.V_V,
    "i_e": L.V_SE, "g_e": L.V_SE,
    "i_i": L.V_SI, "g_i": L.V_SI,
    "a": L.V_A, "c_mod": L.V_A,
    "i_bias": L.V_IB,
}

#: names of the arrays that make up the dynamic state (saved in checkpoints)
STATE_ARRAYS = (
    "v", "se", "si", "a", "ib", "ref", "last", "active", "act_list", "act_n",
    "buf", "touched", "tcount", "pending", "sq_cursor", "pq_rates",
    "tr1", "tr2", "trl", "elig", "reward", "pq_next", "pq_cnt", "pq_dirty",
)

#: state arrays added after the first checkpoint format: absent in older files, then left as built
OPTIONAL_STATE = ("tr1", "tr2", "trl", "elig", "reward", "pq_next", "pq_cnt", "pq_dirty")

_VAR_ARRAY = {L.V_V: "v", L.V_SE: "se", L.V_SI: "si", L.V_A: "a", L.V_IB: "ib"}

#: steps per compiled call; Python drains monitors in between
CHUNK_STEPS = 2000


class Simulator:
    """Flat-array form of a network plus its dynamic state."""

    def __init__(self, net):
        self.net = net
        self.dt = net.dt
        self.step = 0
        self.pops = pops = net.populations
        self.pop_lo = np.concatenate([[0], np.cumsum([p.n for p in pops], dtype=np.int64)]).astype(np.int64)
        self.n_total = n = int(self.pop_lo[-1])
        check_model_arrays(net)
        self._build_neurons()
        self._build_inputs(net.seed)
        self._build_synapses()
        self._build_buffers()
        self.spikes = np.zeros(max(n, 1), dtype=np.int64)
        self.fired = staggered_zeros(-(-max(n, 1) // 8) * 8, np.uint8, 6)  # whole 64-bit words (loop._collect)
        self.scratch = staggered_zeros(max(n, 1), np.float64, 8)
        self.mode = None  # "dense" or "event", chosen per run
        self.rebuild_recording()

    # ------------------------------------------------------------------ build
    def pop_index(self, pop) -> int:
        for k, p in enumerate(self.pops):
            if p is pop:
                return k
        raise ValueError(f"population {pop.name!r} is not part of this network")

    def gids(self, pop, indices=None) -> np.ndarray:
        lo = self.pop_lo[self.pop_index(pop)]
        local = np.arange(pop.n) if indices is None else np.asarray(indices, dtype=np.int64)
        return (lo + local).astype(np.int64)

    def _build_neurons(self):
        n = self.n_total
        gcs, gis = [], []
        self.group = np.zeros(n, dtype=np.int64)
        self.v = staggered_zeros(n, np.float64, 0)  # the arrays a dense step streams: apart in the cache (placement)
        self.se = staggered_zeros(n, np.float64, 1)
        self.si = staggered_zeros(n, np.float64, 2)
        self.a = staggered_zeros(n, np.float64, 3)
        self.ib = staggered_zeros(n, np.float64, 4)
        self.ref = staggered_zeros(n, np.int32, 5)
        self.last = np.zeros(n, dtype=np.int64)
        self.pop_of = np.zeros(n, dtype=np.int64)
        neuron_ids = []
        ranges = []
        n_groups = 0
        for k, p in enumerate(self.pops):
            lo, hi = self.pop_lo[k], self.pop_lo[k + 1]
            self.pop_of[lo:hi] = k
            if isinstance(p, Population):
                gc, gi, grp = group_tables(p.neuron, p.n, self.dt)
                cols = p.neuron.broadcast(p.n)
                self.v[lo:hi] = cols["v_rest"]
                self.ib[lo:hi] = cols["i_bias"]
                for var, values in p.initial.items():
                    getattr(self, _VAR_ARRAY[VAR_CODES[var]])[lo:hi] = values
                neuron_ids.append(np.arange(lo, hi, dtype=np.int64))
                ranges.append((lo, hi, n_groups if gc.shape[0] == 1 else -1))
            else:
                gc, gi = input_tables()
                grp = np.zeros(p.n, dtype=np.int64)
            self.group[lo:hi] = grp + n_groups
            n_groups += gc.shape[0]
            gcs.append(gc)
            gis.append(gi)
        self.gc = np.ascontiguousarray(np.concatenate(gcs)) if gcs else np.zeros((0, L.N_COEF))
        self.gi = np.ascontiguousarray(np.concatenate(gis)) if gis else np.zeros((0, L.N_ICOEF), np.int64)
        self.neuron_ids = np.concatenate(neuron_ids) if neuron_ids else np.zeros(0, dtype=np.int64)
        self.dense_ranges = np.array(ranges, dtype=np.int64).reshape(-1, 3)
        self.active = np.ones(n, dtype=np.uint8)
        self.act_list = np.zeros(max(n, 1), dtype=np.int64)
        self.act_n = np.zeros(1, dtype=np.int64)
        self.auto = np.zeros(n, dtype=np.uint8)
        self.refresh_autonomous()

    def refresh_autonomous(self, gids: np.ndarray | None = None) -> None:
        """Recompute which neurons can reach threshold unaided (never idle)."""
        sel = np.arange(self.n_total) if gids is None else gids
        grp = self.group[sel]
        typ = self.gi[grp, L.I_TYPE]
        vinf = self.gc[grp, L.C_VREST] + self.gc[grp, L.C_R] * self.ib[sel]
        linear = np.isin(typ, KM.LAZY_TYPES)  # models that may idle (kernel.models: LAZY)
        driven = vinf >= self.gc[grp, L.C_VTH] - L.IDLE_MARGIN
        # the other models (conductance-based, TSM) are clock-driven: never idle; spike sources are never active
        clocked = ~linear & (typ != L.T_INPUT)
        self.auto[sel] = (clocked | (linear & driven)).astype(np.uint8)

    def _build_inputs(self, seed):
        pq = [(k, p) for k, p in enumerate(self.pops) if isinstance(p, PoissonSource)]
        self.pq_lo = np.array([self.pop_lo[k] for k, _ in pq], dtype=np.int64)
        self.pq_hi = np.array([self.pop_lo[k + 1] for k, _ in pq], dtype=np.int64)
        self.pq_seed = np.array(
            [np.random.SeedSequence([seed, 2, k]).generate_state(1, np.uint64)[0] for k, _ in pq],
            dtype=np.uint64,
        )
        offs, rows, row_steps, rates = [], [], [], []
        off = 0
        for _, p in pq:
            offs.append(off)
            rows.append(p._rates.shape[0])
            if p._rates.shape[0] > 1:
                row_steps.append(self.net.steps_of(p.rate_interval, "rate_interval"))
            else:
                row_steps.append(1)
            rates.append(p._rates.ravel())
            off += p._rates.size
        self.pq_rate_off = np.array(offs, dtype=np.int64)
        self.pq_rows = np.array(rows, dtype=np.int64)
        self.pq_row_steps = np.array(row_steps, dtype=np.int64)
        self.pq_rates = np.concatenate(rates) if rates else np.zeros(0)
        # next spike step and draw counter per input neuron (global index); 1 = draw before the next step
        self.pq_next = np.zeros(max(int(self.pop_lo[-1]), 1), dtype=np.int64)
        self.pq_cnt = np.zeros(max(int(self.pop_lo[-1]), 1), dtype=np.int64)
        self.pq_dirty = np.ones(max(len(pq), 1), dtype=np.int64)

        sq = [(k, p) for k, p in enumerate(self.pops) if isinstance(p, SpikeSource)]
        steps, gids, lo, hi = [], [], [], []
        off = 0
        for k, p in sq:
            st = np.round(p.times / self.dt).astype(np.int64)  # on the grid: checked by Network.add
            order = np.lexsort((p.indices, st))
            steps.append(st[order])
            gids.append(p.indices[order] + self.pop_lo[k])
            lo.append(off)
            off += st.size
            hi.append(off)
        self.sq_lo = np.array(lo, dtype=np.int64)
        self.sq_hi = np.array(hi, dtype=np.int64)
        self.sq_cursor = self.sq_lo.copy()
        self.sq_steps = np.concatenate(steps) if steps else np.zeros(0, dtype=np.int64)
        self.sq_gids = np.concatenate(gids) if gids else np.zeros(0, dtype=np.int64)

    def _build_synapses(self):
        projs = self.net.projections
        n_pops = len(self.pops)
        by_pop = [[] for _ in range(n_pops)]
        for k, pr in enumerate(projs):
            by_pop[self.pop_index(pr.pre)].append(k)
        self.pop_out_ptr = np.zeros(n_pops + 1, dtype=np.int64)
        for k in range(n_pops):
            self.pop_out_ptr[k + 1] = self.pop_out_ptr[k] + len(by_pop[k])
        self.pop_out_proj = np.array([k for lst in by_pop for k in lst], dtype=np.int64)
        n_proj = len(projs)
        self.proj_pre_lo = np.zeros(n_proj, dtype=np.int64)
        self.proj_ipo = np.zeros(n_proj, dtype=np.int64)
        self.proj_so = np.zeros(n_proj, dtype=np.int64)
        self.proj_rec = np.zeros(n_proj, dtype=np.int64)
        self.proj_delay = np.ones(n_proj, dtype=np.int64)
        self.proj_doff = np.full(n_proj, -1, dtype=np.int64)
        n_syn = sum(pr.n_synapses for pr in projs)
        n_ip = sum(pr.pre.n for pr in projs)
        n_het = sum(pr.n_synapses for pr in projs if pr.delays is not None)
        self.syn_indptr = np.zeros(n_ip + n_proj, dtype=np.int64)
        self.syn_post = np.zeros(n_syn, dtype=np.int32)
        self.syn_w = np.zeros(n_syn, dtype=self.net.weight_dtype)
        self.syn_delay = np.zeros(max(n_het, 1), dtype=np.int16)
        ip = so = do = 0
        for k, pr in enumerate(projs):
            self.proj_pre_lo[k] = self.pop_lo[self.pop_index(pr.pre)]
            self.proj_ipo[k] = ip
            self.proj_so[k] = so
            self.proj_rec[k] = pr.receptor_index
            m = pr.n_synapses
            self.syn_indptr[ip:ip + pr.pre.n + 1] = pr.indptr
            self.syn_post[so:so + m] = pr.indices + self.pop_lo[self.pop_index(pr.post)]
            weights = pr._initial_weights()
            check_weight_range(f"weights of projection {pr.name!r}", weights, self.syn_w.dtype)
            self.syn_w[so:so + m] = weights
            if pr.delays is not None:
                self.proj_doff[k] = do
                self.syn_delay[do:do + m] = pr.delays
                do += m
            else:
                self.proj_delay[k] = pr.delay_uniform
            ip += pr.pre.n + 1
            so += m
        self.max_delay = max([pr.max_delay for pr in projs], default=1)
        self._build_crossbars()
        self._build_plasticity()
        records.refresh_uniform(self)  # projections whose weights are all equal (the dense push adds a constant)

    def _build_plasticity(self):
        """Tables of the plastic projections: rule rows, trace offsets, column (CSC) indices, eligibilities."""
        from ..kernel import plasticity as K
        from ..model.plasticity import RewardSTDP

        projs = self.net.projections
        plastic = [k for k, pr in enumerate(projs) if getattr(pr, "plasticity", None) is not None]
        n_pl = len(plastic)
        self.proj_pl = np.full(len(projs), -1, dtype=np.int64)
        self.pf = np.zeros((max(n_pl, 1), K.N_PF))
        self.pi = np.zeros((n_pl, K.N_PI), dtype=np.int64)
        in_lists = [[] for _ in self.pops]
        n_tr = sum(projs[k].pre.n + projs[k].post.n for k in plastic)
        self.tr1 = np.zeros(max(n_tr, 1))
        self.tr2 = np.zeros(max(n_tr, 1))
        self.trl = np.zeros(max(n_tr, 1), dtype=np.int64)
        csc_ptr, csc_syn, csc_pre = [], [], []
        n_elig = sum(projs[k].n_synapses for k in plastic if isinstance(projs[k].plasticity, RewardSTDP))
        self.elig = np.zeros(max(n_elig, 1))
        self.reward = np.zeros(max(n_pl, 1))
        tro = cso = eo = sco = 0
        for p, k in enumerate(plastic):
            pr = projs[k]
            self.proj_pl[k] = p
            pf, mult, nearest = plasticity_row(pr.plasticity, self.dt)
            self.pf[p] = pf
            reward = isinstance(pr.plasticity, RewardSTDP)
            post_lo = int(self.pop_lo[self.pop_index(pr.post)])
            row = np.zeros(K.N_PI, dtype=np.int64)
            row[K.PI_PROJ], row[K.PI_MULT], row[K.PI_NEAREST] = k, mult, nearest
            row[K.PI_PRE], row[K.PI_POST], row[K.PI_POSTLO] = tro, tro + pr.pre.n, post_lo
            row[K.PI_CSC], row[K.PI_REWARD], row[K.PI_ELIG], row[K.PI_NSYN] = cso, int(reward), eo, pr.n_synapses
            self.pi[p] = row
            tro += pr.pre.n + pr.post.n
            # columns: synapses onto each postsynaptic neuron, in presynaptic order
            post = pr.indices.astype(np.int64)
            order = np.argsort(post, kind="stable")
            ptr = np.zeros(pr.post.n + 1, dtype=np.int64)
            np.cumsum(np.bincount(post, minlength=pr.post.n), out=ptr[1:])
            csc_ptr.append(ptr + sco)
            sco += pr.n_synapses
            csc_syn.append(order)
            csc_pre.append(pr.pre_indices()[order])
            cso += pr.post.n + 1
            if reward:
                eo += pr.n_synapses
            in_lists[self.pop_index(pr.post)].append(p)
        self.csc_ptr = np.concatenate(csc_ptr) if csc_ptr else np.zeros(1, dtype=np.int64)
        self.csc_syn = np.concatenate(csc_syn) if csc_syn else np.zeros(1, dtype=np.int64)
        self.csc_pre = np.concatenate(csc_pre) if csc_pre else np.zeros(1, dtype=np.int64)
        self.ch_syn, self.ch_row, self.ch_dw = K.change_buffer(self.csc_ptr, [projs[k].indptr for k in plastic])
        self.pop_pin_ptr = np.zeros(len(self.pops) + 1, dtype=np.int64)
        for q, lst in enumerate(in_lists):
            self.pop_pin_ptr[q + 1] = self.pop_pin_ptr[q] + len(lst)
        self.pop_pin = np.array([p for lst in in_lists for p in lst], dtype=np.int64)

    def _build_crossbars(self):
        """Concatenate the crossbar projections' device arrays; their states become views into them."""
        from ..kernel import crossbar as X
        from ..kernel import device as KD

        projs = self.net.projections
        xbs = [(k, pr.crossbar) for k, pr in enumerate(projs) if getattr(pr, "crossbar", None) is not None]
        self.proj_xb = np.full(len(projs), -1, dtype=np.int64)
        n_dev = sum(cb.n_devices for _, cb in xbs)
        self.xf = np.zeros((max(len(xbs), 1), X.N_XF))
        self.xi = np.zeros((max(len(xbs), 1), X.N_XI), dtype=np.int64)
        self.xacc = np.zeros((max(len(xbs), 1), X.N_ACC))
        need = {
            "g": True,
            "nu": any(cb.drift_on or cb.retention_on for _, cb in xbs),
            "tp": any(cb.uses_age for _, cb in xbs),
            "tf": any(cb.retention_on for _, cb in xbs),
            "rs": any(cb.wire_on for _, cb in xbs),
            "gs": any(cb.wire_on for _, cb in xbs),
        }
        # arrays no crossbar reads stay length 1 (the kernel never indexes them)
        arrays = {name: np.zeros(max(n_dev, 1) if need[name] else 1, dtype=np.float32 if name == "nu" else np.float64)
                  for name in need}
        off = 0
        longest = 1
        for x, (k, cb) in enumerate(xbs):
            self.proj_xb[k] = x
            xf, xi = cb.kernel_rows()
            xi[X.XI_OFF] = off
            self.xf[x], self.xi[x] = xf, xi
            cb._xf_row, cb._xi_row = self.xf[x], self.xi[x]  # live rows (drift compensation, noise epoch)
            m = cb.n_devices
            for name, arr in arrays.items():
                if need[name]:
                    arr[off:off + m] = getattr(cb, name)
                    setattr(cb, name, arr[off:off + m])  # live view
            self.xacc[x] = cb.acc
            cb.acc = self.xacc[x]
            cb._now = self.step * self.dt
            off += m
            if projs[k].pre.n:
                longest = max(longest, int(np.diff(projs[k].indptr).max(initial=0)))
        n_rows = sum(cb.n_pre for _, cb in xbs) if need["tp"] else 0
        self.xrtp = np.zeros(max(n_rows, 1))
        self.xrft = np.zeros(max(n_rows, 1))
        roff = 0
        for x, (_, cb) in enumerate(xbs):
            self.xi[x, X.XI_ROFF] = roff
            if need["tp"]:
                for name, arr in (("rtp", self.xrtp), ("rft", self.xrft)):
                    arr[roff:roff + cb.n_pre] = getattr(cb, name)
                    setattr(cb, name, arr[roff:roff + cb.n_pre])  # live view
                roff += cb.n_pre
        # wear state and update laws (plastic crossbars pulse their devices inside the kernel)
        self.xp = np.zeros((max(len(xbs), 1), KD.N_P))
        self.xcount = np.zeros(max(n_dev, 1), dtype=np.int64)
        self.xdv = np.zeros((max(n_dev, 1), KD.N_DV))  # per-device bounds, steps, endurance budget and wear
        self.xdv[:, KD.DV_GMAX] = 1.0
        self.xdv[:, KD.DV_LIFE] = np.inf
        self.xfault = np.zeros(max(n_dev, 1), dtype=np.int8)
        for x, (_, cb) in enumerate(xbs):
            self.xp[x] = cb.device.kernel_params()
            o, m = int(self.xi[x, X.XI_OFF]), cb.n_devices
            for name, arr in (("counts", self.xcount), ("dv", self.xdv), ("fault", self.xfault)):
                arr[o:o + m] = getattr(cb, name)
                setattr(cb, name, arr[o:o + m])  # live view
        self.xg, self.xnu, self.xtp = arrays["g"], arrays["nu"], arrays["tp"]
        self.xtf, self.xrs, self.xgs = arrays["tf"], arrays["rs"], arrays["gs"]
        self.wrow = np.zeros(longest)
        self.xbuf = np.zeros(2 * longest)
        self._crossbars = [cb for _, cb in xbs]
        # plastic crossbars' wire models follow the device writes: (crossbar, steps between refreshes); the
        # others ("still") get per-run read caches: ideal weights, 1/f factors (kernel.crossbar)
        still = [(k, cb) for k, cb in xbs if getattr(projs[k], "plasticity", None) is None]
        self._wire_refresh = [(cb, max(1, round(cb.spec.array.ir_refresh / self.dt))) for k, cb in xbs
                              if cb.wire_on and cb.spec.array.ir_refresh > 0
                              and getattr(projs[k], "plasticity", None) is not None]
        self.proj_xc = np.zeros(len(projs), dtype=np.int64)
        self.xw = np.zeros(self.syn_w.size if still else 1)
        self.xwtot = np.full(self.syn_indptr.size - 1 if still else 1, np.nan)
        self.xqs = np.zeros(n_dev if any(self.xf[self.proj_xb[k], X.XF_FLICK] > 0.0 for k, _ in still) else 1)

    #: threads of the last run (engine.threads)
    threads_used = 1

    #: False: every crossbar row is read from its devices, no read cache, no prefetch (``proj_xc = 3``; same numbers)
    read_caches = True

    def _reset_read_cache(self) -> None:
        """Before a run: choose how each crossbar projection is read (``proj_xc``, see ``kernel.loop.run_chunk``)
        and mark every cached row stale (devices and scales may have been written since the last run)."""
        from ..kernel.crossbar import XF_FLICK, ideal_read
        for k, x in enumerate(self.proj_xb.tolist()):
            flick = x >= 0 and self.xf[x, XF_FLICK] > 0.0 and self.xqs.size > 1
            code = 0 if x < 0 or self.proj_pl[k] >= 0 else 1 if ideal_read(x, self.xf, self.xi) else 2 if flick else 0
            self.proj_xc[k] = 3 if x >= 0 and not self.read_caches else code
        self.xwtot[:] = np.nan

    def _build_buffers(self):
        n_slots = self.max_delay + 1
        n = max(self.n_total, 1)
        self.buf = staggered_zeros((n_slots, 2, n), np.float64, 7)
        self.touched = np.zeros((n_slots, n), dtype=np.int32)
        self.tcount = np.zeros(n_slots, dtype=np.int64)
        self.pending = np.zeros((n_slots, n), dtype=np.uint8)

    # ------------------------------------------------------------- recording
    def rebuild_recording(self):
        """(Re)derive the recording tables from the network's monitors."""
        check_monitor_arrays(self.net)
        n = self.n_total
        self.rec_flag = np.zeros(max(n, 1), dtype=np.uint8)
        self._spike_mons = []
        for mon in self.net.monitors:
            if isinstance(mon, SpikeMonitor):
                gids = self.gids(mon.population, mon.indices)
                self.rec_flag[gids] = 1
                lookup = np.zeros(mon.population.n, dtype=bool)
                lookup[np.arange(mon.population.n) if mon.indices is None else mon.indices] = True
                self._spike_mons.append((mon, int(self.pop_lo[self.pop_index(mon.population)]), lookup))
        self.n_rec_max = int(self.rec_flag.sum())
        cap = max(1 << 16, 4 * self.n_rec_max)
        self.spk_step = np.zeros(cap, dtype=np.int64)
        self.spk_id = np.zeros(cap, dtype=np.int64)
        self.spk_n = np.zeros(1, dtype=np.int64)
        self._state_mons = [m for m in self.net.monitors if isinstance(m, StateMonitor)]
        self._rate_mons = [(m, self.pop_index(m.population)) for m in self.net.monitors if isinstance(m, RateMonitor)]
        eptr, gid, var = [0], [], []
        for mon in self._state_mons:
            g = self.gids(mon.population, mon.indices)
            for name in mon.variables:
                gid.append(g)
                var.append(np.full(g.size, VAR_CODES[name], dtype=np.int64))
            eptr.append(eptr[-1] + g.size * len(mon.variables))
        self.mon_every = np.array([m.every for m in self._state_mons], dtype=np.int64)
        self.mon_eptr = np.array(eptr, dtype=np.int64)
        self.mon_gid = np.concatenate(gid) if gid else np.zeros(0, dtype=np.int64)
        self.mon_var = np.concatenate(var) if var else np.zeros(0, dtype=np.int64)

    def _drain(self, t0: int, done: int, pop_counts, mon_out, mon_ooff, mon_nsamp):
        ns = int(self.spk_n[0])
        if ns:
            steps = self.spk_step[:ns].copy()
            gids = self.spk_id[:ns].copy()
            for mon, lo, lookup in self._spike_mons:
                local = gids - lo
                inside = (local >= 0) & (local < lookup.size)
                sel = np.zeros(ns, dtype=bool)
                sel[inside] = lookup[local[inside]]
                mon._append(steps[sel], local[sel])
            self.spk_n[0] = 0
        for mon, k in self._rate_mons:
            mon._append(t0, pop_counts[:done, k].copy())
        for m, mon in enumerate(self._state_mons):
            ns_m = int(mon_nsamp[m])
            if ns_m == 0:
                continue
            width = int(self.mon_eptr[m + 1] - self.mon_eptr[m])
            data = mon_out[mon_ooff[m]:mon_ooff[m] + ns_m * width].reshape(ns_m, width).copy()
            first = -(-t0 // mon.every) * mon.every
            mon._append(first + mon.every * np.arange(ns_m, dtype=np.int64), data)

    # ------------------------------------------------------------------- run
    def choose_mode(self, engine: str) -> str:
        if engine in ("dense", "event"):
            return engine
        ids = self.neuron_ids
        if ids.size == 0:
            return "dense"
        frac_auto = float(self.auto[ids].mean())
        return "dense" if frac_auto > 0.5 else "event"

    def set_mode(self, mode: str) -> None:
        if mode == self.mode:
            return
        if mode == "dense":
            self._sync_everything()
            self.tcount[:] = 0  # dense mode keeps no touched lists
            self.pending[:] = 0
        else:  # entering event mode: everything is current and active
            if self.mode is not None:
                self._sync_everything()
            rebuild_touched(self.buf, self.touched, self.tcount, self.pending)
            ids = self.neuron_ids
            self.active[:] = 1
            self.act_list[: ids.size] = ids
            self.act_n[0] = ids.size
            self.last[:] = self.step
        self.mode = mode

    def _sync_everything(self):
        if not self.active.all():  # nothing idle (e.g. a new network): sync_all would not change anything
            sync_all(self.step, self.neuron_record())
        self.active[:] = 1

    def neuron_record(self):
        """The neuron tables and state as the kernels' :class:`memr_snn.kernel.records.Neurons` record."""
        return records.neurons(self)

    def run_steps(self, n_steps: int, engine: str = "auto", progress=None) -> None:
        """Advance the network by ``n_steps`` steps."""
        self.set_mode(self.choose_mode(engine))
        dense = self.mode == "dense"
        n_pops = len(self.pops)
        for cb in self._crossbars:
            cb.begin_run(self.step * self.dt)
        self._reset_read_cache()
        threaded = self._threaded()
        done_total = 0
        while done_total < n_steps:
            chunk = min([CHUNK_STEPS, n_steps - done_total] + [n - self.step % n for _, n in self._wire_refresh])
            t0 = self.step
            pop_counts = np.zeros((chunk, n_pops), dtype=np.int64)
            widths = np.diff(self.mon_eptr)
            nsamp_max = np.array([len(range(-(-t0 // e) * e, t0 + chunk, e)) for e in self.mon_every], dtype=np.int64)
            mon_ooff = np.zeros(len(self._state_mons), dtype=np.int64)
            if mon_ooff.size:
                mon_ooff[1:] = np.cumsum(widths * nsamp_max)[:-1]
            mon_out = np.zeros(int((widths * nsamp_max).sum()))
            mon_nsamp = np.zeros(len(self._state_mons), dtype=np.int64)
            recs = records.run_records(self, pop_counts, mon_out, mon_ooff, mon_nsamp)
            if threaded is None:  # a first-ever run's first chunk compiles on two cores (compile_ahead)
                args = (t0, chunk, mode_arg(dense), self.dt, *recs)
                with compile_ahead.ahead(run_chunk, args, done_total == 0, self):
                    done = run_chunk(*args)
            else:  # the same steps, integration and delivery on several threads (kernel.threads)
                done = threaded.run(t0, chunk, dense, self.dt, recs)
            self._drain(t0, done, pop_counts, mon_out, mon_ooff, mon_nsamp)
            self.step += done
            done_total += done
            for cb in self._crossbars:
                cb._now = self.step * self.dt
            for cb in [cb for cb, n in self._wire_refresh if self.step % n == 0]:
                cb.refresh_wire_model()
            if progress is not None:
                progress.update(done)

    def _threaded(self):
        """The threaded runner for this run (None: one thread); kept while the thread count stays the same."""
        self.threads_used = n = threads_for(getattr(self.net, "threads", 1), int(self.neuron_ids.size), sim=self)
        if n <= 1:
            return None
        if getattr(self, "_threads", None) is None or self._threads.n_threads != n:
            self._threads = ThreadedChunks(self, n)
        return self._threads

    # ----------------------------------------------------------------- state
    def _proj_index(self, proj) -> int:
        for k, pr in enumerate(self.net.projections):  # by identity: ids change under copy.deepcopy
            if pr is proj:
                return k
        raise ValueError(f"projection {getattr(proj, 'name', proj)!r} is not part of this network")

    def weights(self, proj) -> np.ndarray:
        """The simulated weights of ``proj`` (CSR order): a writable view into the engine's storage."""
        so = int(self.proj_so[self._proj_index(proj)])
        return self.syn_w[so:so + proj.n_synapses]

    def set_weights(self, proj, values: np.ndarray) -> None:
        """Write validated weights of ``proj`` (reprogramming its crossbar first, if any)."""
        view = self.weights(proj)
        if proj.crossbar is not None:  # validate and map before anything changes
            proj.crossbar.program(values)
        view[...] = values
        records.refresh_uniform(self, [self._proj_index(proj)])

    def set_reward(self, proj, reward: float) -> None:
        """Set the reward signal of the plastic projection ``proj`` (a rule with a reward input)."""
        p = int(self.proj_pl[self._proj_index(proj)])
        if p < 0:
            raise ValueError(f"projection {proj.name!r} has no plasticity rule")
        self.reward[p] = float(reward)

    def get_state(self, pop, var: str, indices=None) -> np.ndarray:
        gids = self.gids(pop, indices)
        out = np.zeros(gids.size)
        peek_many(gids, VAR_CODES[var], self.step, self.neuron_record(), out)
        return out

    def set_state(self, pop, var: str, values, indices=None) -> None:
        gids = self.gids(pop, indices)
        activate_many(gids, self.step, self.mode != "event", self.neuron_record())
        arr = getattr(self, _VAR_ARRAY[VAR_CODES[var]])
        arr[gids] = np.broadcast_to(np.asarray(values, dtype=np.float64), gids.shape)
        if var == "i_bias":
            self.refresh_autonomous(gids)

    def set_rates(self, pop: PoissonSource, rates) -> None:
        k = [i for i, p in enumerate(self.pops) if isinstance(p, PoissonSource)].index(self.pop_index(pop))
        off, size = self.pq_rate_off[k], pop._rates.size
        self.pq_rates[off:off + size] = np.broadcast_to(rates, pop._rates.shape).ravel()
        self.pq_dirty[k] = 1  # redraw the next spikes from the present step

    def rates(self, pop: PoissonSource) -> np.ndarray:
        """The live rate table of ``pop`` (a read-only view into the engine's storage)."""
        k = [i for i, p in enumerate(self.pops) if isinstance(p, PoissonSource)].index(self.pop_index(pop))
        off, shape = int(self.pq_rate_off[k]), pop._rates.shape
        return read_only(self.pq_rates[off:off + shape[0] * shape[1]].reshape(shape))

    # ------------------------------------------------------------ accounting
    def synapse_bytes(self) -> int:
        delay_bytes = self.syn_delay.nbytes if np.any(self.proj_doff >= 0) else 0
        return int(self.syn_indptr.nbytes + self.syn_post.nbytes + self.syn_w.nbytes + delay_bytes)

    def state_arrays(self) -> dict[str, np.ndarray]:
        return {name: getattr(self, name) for name in STATE_ARRAYS}
