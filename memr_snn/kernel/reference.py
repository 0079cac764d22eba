"""Plain-numpy twins of the kernels, for tests only.

They implement the same equations and the same step schedule with vectorised
numpy over the same flat arrays, without numba, without event-mode laziness and
without ring-buffer tricks (a dense (n_slots, 2, n) accumulator indexed
directly).  Tests run a network through both and compare spikes and states.
"""

from __future__ import annotations

import numpy as np

from . import layout as L

__all__ = [
    "mix64_ref",
    "uniform01_ref",
    "lif_step_ref",
    "cond_step_ref",
    "tsm_step_ref",
    "exp_neg_ref",
    "lif_advance_ref",
    "run_reference",
    "apply_pulses_ref",
]

_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_G = np.uint64(0x9E3779B97F4A7C15)


def mix64_ref(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.uint64)
    with np.errstate(over="ignore"):
        x = (x ^ (x >> np.uint64(30))) * _M1
        x = (x ^ (x >> np.uint64(27))) * _M2
    return x ^ (x >> np.uint64(31))


def uniform01_ref(seed, step, index) -> np.ndarray:
    seed = np.asarray(seed, dtype=np.uint64)
    step = np.asarray(step, dtype=np.uint64)
    index = np.asarray(index, dtype=np.uint64)
    with np.errstate(over="ignore"):
        x = mix64_ref(seed ^ mix64_ref(step * _G + mix64_ref(index + _G)))
    return (x >> np.uint64(11)).astype(np.float64) * (1.0 / 9007199254740992.0)


def lif_step_ref(c, v, se, si, a, ib, ref):
    """Vectorised one-step update of current-based (A)LIF neurons; c is (n, N_COEF)."""
    vinf = c[:, L.C_VREST] + c[:, L.C_R] * ib
    free = ref <= 0
    v_new = np.where(free, vinf + (v - vinf) * c[:, L.C_PM] + se * c[:, L.C_CE1] + si * c[:, L.C_CI1], v)
    return v_new, se * c[:, L.C_PE], si * c[:, L.C_PI], a * c[:, L.C_PA], np.where(free, ref, ref - 1)


def exp_neg_ref(x: np.ndarray) -> np.ndarray:
    """Twin of :func:`memr_snn.kernel.neuron.cond_decay`: polynomial exp above -8, np.exp below."""
    x = np.asarray(x, dtype=np.float64)
    y = np.maximum(x, -8.0) * 0.03125
    coefs = (
        1.0 / 39916800.0, 1.0 / 3628800.0, 1.0 / 362880.0, 1.0 / 40320.0, 1.0 / 5040.0, 1.0 / 720.0,
        1.0 / 120.0, 1.0 / 24.0, 1.0 / 6.0, 0.5, 1.0, 1.0,
    )
    p = np.full_like(y, coefs[0])
    for c in coefs[1:]:
        p = p * y + c
    for _ in range(5):
        p = p * p
    return np.where(x < -8.0, np.exp(x), p)


def cond_step_ref(c, v, ge, gi, a, ib, ref):
    """Vectorised exponential-Euler step of conductance-based LIF neurons."""
    free = ref <= 0
    gtot = c[:, L.C_GL] + ge + gi
    vinf = (c[:, L.C_GL] * c[:, L.C_VREST] + ge * c[:, L.C_EE] + gi * c[:, L.C_EI] + ib) / gtot
    v_new = np.where(free, vinf + (v - vinf) * exp_neg_ref(gtot * (-c[:, L.C_DT] / c[:, L.C_CM])), v)
    return v_new, ge * c[:, L.C_PE], gi * c[:, L.C_PI], a * c[:, L.C_PA], np.where(free, ref, ref - 1)


def tsm_step_ref(c, v, se, si, a, ib, ref, ref_steps):
    """Vectorised twin of :func:`memr_snn.kernel.neuron.tsm_step_one`.

    Returns ``(v, se, si, ref, fired)``; ``a`` (the modulator concentration) is
    only read.
    """
    on = ref < 0
    pm = np.where(on, c[:, L.C_PM_ON], c[:, L.C_PM])
    ce = np.where(on, c[:, L.C_CE1_ON], c[:, L.C_CE1])
    ci = np.where(on, c[:, L.C_CI1_ON], c[:, L.C_CI1])
    r = np.where(on, c[:, L.C_R_ON], c[:, L.C_R])
    vinf = c[:, L.C_VREST] + r * ib
    v_new = vinf + (v - vinf) * pm + se * ce + si * ci
    fired = (ref == 0) & (v_new > c[:, L.C_VTH] + c[:, L.C_BETA] * a)
    off = on & (v_new < c[:, L.C_VHOLD])
    ref_new = np.where(fired, -1, np.where(off, ref_steps, np.where(ref > 0, ref - 1, ref)))
    return v_new, se * c[:, L.C_PE], si * c[:, L.C_PI], ref_new.astype(ref.dtype), fired


def lif_advance_ref(c, k, v, se, si, a, ib, ref):
    """k input-free steps by repeated one-step updates (the definition the closed form must meet)."""
    c2 = np.atleast_2d(c)
    arrs = [np.atleast_1d(np.asarray(x, dtype=np.float64)) for x in (v, se, si, a, ib)]
    r = np.atleast_1d(np.asarray(ref, dtype=np.int64))
    v_, se_, si_, a_, ib_ = arrs
    for _ in range(int(k)):
        v_, se_, si_, a_, r = lif_step_ref(c2, v_, se_, si_, a_, ib_, r)
    return v_, se_, si_, a_, r


def run_reference(sim, n_steps: int):
    """Simulate ``n_steps`` from the state held by ``sim`` (a built Simulator), in numpy.

    Reads ``sim``'s arrays without modifying them and returns
    ``(spike_steps, spike_gids, state)`` with ``state`` a dict of the final
    ``v, se, si, a, ref`` arrays.
    """
    n = sim.n_total
    c = sim.gc[sim.group]
    typ = sim.gi[sim.group, L.I_TYPE]
    ref_steps = sim.gi[sim.group, L.I_REF]
    v, se, si, a = sim.v.copy(), sim.se.copy(), sim.si.copy(), sim.a.copy()
    ib, ref = sim.ib.copy(), sim.ref.copy()
    n_slots = sim.buf.shape[0]
    buf = sim.buf.copy()
    is_lin = (typ == L.T_LIF) | (typ == L.T_ALIF)
    is_cond = typ == L.T_COND
    is_alif = typ == L.T_ALIF
    is_tsm = typ == L.T_TSM
    # synapse list in global terms
    pre_g, post_g, w_g, d_g, rec_g = [], [], [], [], []
    for k in range(sim.proj_so.size):
        pop = sim.pop_of[sim.proj_pre_lo[k]]
        n_pre = int(sim.pop_lo[pop + 1] - sim.pop_lo[pop])
        ip = sim.syn_indptr[sim.proj_ipo[k]: sim.proj_ipo[k] + n_pre + 1]
        m = int(ip[-1])
        so = sim.proj_so[k]
        pre_g.append(sim.proj_pre_lo[k] + np.repeat(np.arange(n_pre), np.diff(ip)))
        post_g.append(sim.syn_post[so:so + m].astype(np.int64))
        w_g.append(sim.syn_w[so:so + m])
        if sim.proj_doff[k] >= 0:
            d_g.append(sim.syn_delay[sim.proj_doff[k]: sim.proj_doff[k] + m].astype(np.int64))
        else:
            d_g.append(np.full(m, sim.proj_delay[k], dtype=np.int64))
        rec_g.append(np.full(m, sim.proj_rec[k], dtype=np.int64))
    def cat(xs, dtype):
        return np.concatenate(xs) if xs else np.zeros(0, dtype=dtype)

    pre_g, post_g = cat(pre_g, np.int64), cat(post_g, np.int64)
    w_g, d_g, rec_g = cat(w_g, np.float64), cat(d_g, np.int64), cat(rec_g, np.int64)
    order = np.argsort(pre_g, kind="stable")
    pre_g, post_g, w_g, d_g, rec_g = pre_g[order], post_g[order], w_g[order], d_g[order], rec_g[order]
    starts = np.searchsorted(pre_g, np.arange(n))
    ends = np.searchsorted(pre_g, np.arange(n), side="right")
    sq_cursor = sim.sq_cursor.copy()
    out_steps, out_gids = [], []
    for s in range(n_steps):
        t = sim.step + s
        slot = t % n_slots
        fired = np.zeros(n, dtype=bool)
        # 1. inputs
        for q in range(sim.pq_lo.size):
            lo, hi = sim.pq_lo[q], sim.pq_hi[q]
            row = min(t // sim.pq_row_steps[q], sim.pq_rows[q] - 1)
            base = sim.pq_rate_off[q] + row * (hi - lo)
            p = sim.pq_rates[base: base + hi - lo] * sim.dt
            u = uniform01_ref(sim.pq_seed[q], t, np.arange(hi - lo))
            fired[lo:hi] |= (p > 0) & (u < p)
        for q in range(sim.sq_lo.size):
            cur = sq_cursor[q]
            while cur < sim.sq_hi[q] and sim.sq_steps[cur] < t:
                cur += 1
            while cur < sim.sq_hi[q] and sim.sq_steps[cur] == t:
                fired[sim.sq_gids[cur]] = True
                cur += 1
            sq_cursor[q] = cur
        # 2. deliver
        se += buf[slot, 0]
        si += buf[slot, 1]
        buf[slot] = 0.0
        # 4. integrate
        if is_lin.any():
            out = lif_step_ref(c[is_lin], v[is_lin], se[is_lin], si[is_lin], a[is_lin], ib[is_lin], ref[is_lin])
            v[is_lin], se[is_lin], si[is_lin], a[is_lin], ref[is_lin] = out
        if is_cond.any():
            out = cond_step_ref(c[is_cond], v[is_cond], se[is_cond], si[is_cond], a[is_cond], ib[is_cond], ref[is_cond])
            v[is_cond], se[is_cond], si[is_cond], a[is_cond], ref[is_cond] = out
        neur = is_lin | is_cond
        spk = neur & (v > c[:, L.C_VTH] + c[:, L.C_BETA] * a)
        v[spk] = c[spk, L.C_VRESET]
        ref[spk] = np.maximum(ref_steps[spk] - 1, 0)
        a[spk & is_alif] += 1.0
        fired |= spk
        if is_tsm.any():  # phase logic inside the step, no reset
            v[is_tsm], se[is_tsm], si[is_tsm], ref[is_tsm], f_tsm = tsm_step_ref(
                c[is_tsm], v[is_tsm], se[is_tsm], si[is_tsm], a[is_tsm], ib[is_tsm], ref[is_tsm], ref_steps[is_tsm]
            )
            fired[is_tsm] |= f_tsm
        # 5. push
        gids = np.flatnonzero(fired)
        for g in gids:
            sl = slice(starts[g], ends[g])
            np.add.at(buf, ((t + d_g[sl]) % n_slots, rec_g[sl], post_g[sl]), w_g[sl])
        out_steps.append(np.full(gids.size, t, dtype=np.int64))
        out_gids.append(gids.astype(np.int64))
    return (
        np.concatenate(out_steps) if out_steps else np.zeros(0, np.int64),
        np.concatenate(out_gids) if out_gids else np.zeros(0, np.int64),
        {"v": v, "se": se, "si": si, "a": a, "ref": ref},
    )


def apply_pulses_ref(p, g, pulses, counts, seed, counter):
    """Twin of :func:`memr_snn.kernel.device.apply_pulses`, vectorised over devices.

    Returns new ``(g, counts)`` arrays instead of writing in place.
    """
    g = np.array(g, dtype=np.float64)
    counts = np.array(counts, dtype=np.int64)
    pulses = np.asarray(pulses, dtype=np.int64)
    kind, gmin, gmax, dup, ddown, c2c, levels, bup, bdown = (float(x) for x in p)
    kind, levels = int(kind), int(levels)
    span = gmax - gmin
    up = pulses > 0
    m = np.abs(pulses)
    counts += m
    if kind == 0 and c2c == 0.0 and levels < 2:
        g = np.where(up, g + m * dup, g - m * ddown)
        g = np.where(m > 0, np.minimum(np.maximum(g, gmin), gmax), g)
        return g, counts
    k_idx = np.arange(g.size, dtype=np.uint64)
    for q in range(int(m.max(initial=0))):
        act = m > q
        x = (g - gmin) / span
        if kind == 0:
            step = np.where(up, dup, -ddown)
        elif kind == 1:
            step = np.where(up, dup * (1.0 - x), -ddown * x)
        else:
            step = np.where(up, dup * np.exp(-bup * x), -ddown * np.exp(-bdown * (1.0 - x)))
        if c2c > 0.0:
            base = (k_idx << np.uint64(32)) + np.uint64(2 * q)
            u1 = uniform01_ref(seed, counter, base)
            u2 = uniform01_ref(seed, counter, base + np.uint64(1))
            xi = np.sqrt(-2.0 * np.log(1.0 - u1)) * np.cos(2.0 * np.pi * u2)
            step = step * (1.0 + c2c * xi)
        new = np.minimum(np.maximum(g + step, gmin), gmax)
        if levels >= 2:
            new = gmin + np.round((new - gmin) / span * (levels - 1)) * (span / (levels - 1))
        g = np.where(act, new, g)
    return g, counts
