"""Plain-numpy twins of the kernels, for tests only.

They implement the same equations and the same step schedule with vectorised
numpy over the same flat arrays, without numba, without event-mode laziness and
without ring-buffer tricks (a dense (n_slots, 2, n) accumulator indexed
directly).  Tests run a network through both and compare spikes and states.
"""

from __future__ import annotations

import math

import numpy as np

from . import layout as L

__all__ = [
    "mix64_ref",
    "uniform01_ref",
    "lif_step_ref",
    "cond_step_ref",
    "cond_euler_v_ref",
    "relax_ref",
    "tsm_step_ref",
    "exp_neg_ref",
    "lif_advance_ref",
    "run_reference",
    "apply_pulses_ref",
    "refresh_pair_ref",
    "refresh_pairs_ref",
    "program_verify_ref",
    "normal_icdf_ref",
    "crossbar_normals_ref",
    "slow_noise_ref",
    "drift_factor_ref",
    "read_row_ref",
    "device_update_ref",
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


def relax_ref(v, num, x, k2):
    """Twin of :func:`memr_snn.kernel.models.cond.relax`: the [6/6] Padé form of the exponential-Euler update."""
    x2 = x * x
    e = ((x2 * (1.0 / 665280.0) + 1.0 / 792.0) * x2 + 5.0 / 44.0) * x2 + 1.0
    o = (x2 * (1.0 / 15840.0) + 1.0 / 66.0) * x2 + 0.5
    xo = x * o
    return (v * (e + xo) - (k2 * num) * o) / (e - xo)


def cond_euler_v_ref(c, v, ge, gi, ib):
    """Twin of :func:`memr_snn.kernel.models.cond.euler_v`: the forward-Euler membrane update."""
    dtc = c[:, L.C_DT] / c[:, L.C_CM]
    return v + dtc * (c[:, L.C_GL] * (c[:, L.C_VREST] - v) + ge * (c[:, L.C_EE] - v) + gi * (c[:, L.C_EI] - v) + ib)


def cond_step_ref(c, v, ge, gi, a, ib, ref):
    """Vectorised step of conductance-based LIF neurons (twin of
    :func:`memr_snn.kernel.models.cond.cond_step_scalar`): exponential Euler (Padé form for ``|x| <= 1``,
    else ``exp_neg``) or, where ``c[:, C_EULER]`` is set, forward Euler; the conductances decay by
    ``C_PE``/``C_PI`` (exact or forward-Euler factors, as packed)."""
    free = ref <= 0
    gtot = c[:, L.C_GL] + ge + gi
    k = -c[:, L.C_DT] / c[:, L.C_CM]
    x = gtot * k
    num = c[:, L.C_GL] * c[:, L.C_VREST] + ge * c[:, L.C_EE] + gi * c[:, L.C_EI] + ib
    vinf = num / gtot
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        exact = vinf + (v - vinf) * exp_neg_ref(x)
        pade = relax_ref(v, num, x, 2.0 * k)
    v_exp = np.where(np.abs(x) > 1.0, exact, pade)
    v_new = np.where(free, np.where(c[:, L.C_EULER] != 0.0, cond_euler_v_ref(c, v, ge, gi, ib), v_exp), v)
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
    is_cond = (typ == L.T_COND) | (typ == L.T_COND_EULER)
    is_alif = typ == L.T_ALIF
    is_tsm = typ == L.T_TSM
    # per projection: its CSR rows, delays, receptor and crossbar (if any)
    projs = []
    xacc = sim.xacc.copy()
    for k in range(sim.proj_so.size):
        pop = sim.pop_of[sim.proj_pre_lo[k]]
        n_pre = int(sim.pop_lo[pop + 1] - sim.pop_lo[pop])
        ip = sim.syn_indptr[sim.proj_ipo[k]: sim.proj_ipo[k] + n_pre + 1]
        m = int(ip[-1])
        so = sim.proj_so[k]
        if sim.proj_doff[k] >= 0:
            d = sim.syn_delay[sim.proj_doff[k]: sim.proj_doff[k] + m].astype(np.int64)
        else:
            d = np.full(m, sim.proj_delay[k], dtype=np.int64)
        projs.append((int(sim.proj_pre_lo[k]), n_pre, ip, sim.syn_post[so:so + m].astype(np.int64),
                      sim.syn_w[so:so + m].astype(np.float64), d, int(sim.proj_rec[k]), int(sim.proj_xb[k])))

    plastic = _plastic_ref_setup(sim, projs)
    sq_cursor = sim.sq_cursor.copy()
    pq_next, pq_cnt, pq_dirty = sim.pq_next.copy(), sim.pq_cnt.copy(), sim.pq_dirty.copy()
    out_steps, out_gids = [], []
    for s in range(n_steps):
        t = sim.step + s
        slot = t % n_slots
        fired = np.zeros(n, dtype=bool)
        # 1. inputs
        for q in range(sim.pq_lo.size):
            lo, hi = int(sim.pq_lo[q]), int(sim.pq_hi[q])
            row = min(t // sim.pq_row_steps[q], sim.pq_rows[q] - 1)
            base = sim.pq_rate_off[q] + row * (hi - lo)
            p = sim.pq_rates[base: base + hi - lo] * sim.dt
            boundary = sim.pq_rows[q] > 1 and t % sim.pq_row_steps[q] == 0 and t // sim.pq_row_steps[q] < sim.pq_rows[q]
            if pq_dirty[q] or boundary:
                for i in range(hi - lo):
                    pq_next[lo + i] = _poisson_next_ref(sim.pq_seed[q], pq_cnt, lo, i, p[i], t)
                pq_dirty[q] = 0
            for i in np.flatnonzero(pq_next[lo:hi] == t):
                fired[lo + i] = True
                pq_next[lo + i] = _poisson_next_ref(sim.pq_seed[q], pq_cnt, lo, i, p[i], t + 1)
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
            for pre_lo, n_pre, ip, post, w, d, rec, xb in projs:
                if not pre_lo <= g < pre_lo + n_pre:
                    continue
                lo, hi = int(ip[g - pre_lo]), int(ip[g - pre_lo + 1])
                if xb >= 0:
                    wr = np.zeros(hi - lo)
                    read_row_ref(xb, g - pre_lo, lo, hi, t, sim.dt, sim.xf, sim.xi, sim.xg, sim.xnu, sim.xtp,
                                 sim.xrtp, sim.xtf, sim.xrft, sim.xrs, sim.xgs, xacc, wr)
                else:
                    wr = w[lo:hi]
                np.add.at(buf, ((t + d[lo:hi]) % n_slots, rec, post[lo:hi]), wr)
        if plastic:
            _plastic_ref_step(plastic, projs, gids, sim.dt)
        out_steps.append(np.full(gids.size, t, dtype=np.int64))
        out_gids.append(gids.astype(np.int64))
    return (
        np.concatenate(out_steps) if out_steps else np.zeros(0, np.int64),
        np.concatenate(out_gids) if out_gids else np.zeros(0, np.int64),
        {"v": v, "se": se, "si": si, "a": a, "ref": ref, "xacc": xacc,
         "weights": {k: projs[k][4] for k in range(len(projs))}},
    )


def _poisson_next_ref(seed, cnt, lo, i, p, t_from) -> int:
    """Twin of :func:`memr_snn.kernel.loop.poisson_next` (scalar, the same libm calls)."""
    import math as _m

    never = 2 ** 62
    if p <= 0.0:
        return never
    if p >= 1.0:
        return t_from
    u = 1.0 - float(uniform01_ref(seed, np.uint64(cnt[lo + i]), np.uint64(i)))
    cnt[lo + i] += 1
    k = _m.floor(_m.log(u) / _m.log1p(-p))
    return never if k > 2.0 ** 61 else t_from + int(k)


def _plastic_ref_setup(sim, projs) -> list[dict]:
    """Per plastic projection: its rule row and per-*synapse* traces (Brian2's formulation), clock-driven
    (decayed every step), starting from zero: compare from a freshly built network."""
    from . import plasticity as K

    out = []
    for k in range(len(projs)):
        p = int(sim.proj_pl[k])
        if p < 0:
            continue
        if sim.proj_xb[k] >= 0:
            raise NotImplementedError("run_reference: plasticity on crossbar projections has no twin here; "
                                      "device_update is checked against device_update_ref")
        pre_lo, n_pre, ip, post, w, d, rec, xb = projs[k]
        m = w.size
        pre_local = np.repeat(np.arange(n_pre), np.diff(ip))
        out.append({
            "k": k, "pf": sim.pf[p], "mult": bool(sim.pi[p, K.PI_MULT]), "nearest": bool(sim.pi[p, K.PI_NEAREST]),
            "reward": bool(sim.pi[p, K.PI_REWARD]), "r": float(sim.reward[p]),
            "pre": pre_lo + pre_local, "post": post, "R1": np.zeros(m), "R2": np.zeros(m), "O1": np.zeros(m),
            "O2": np.zeros(m), "E": np.zeros(m),
        })
    return out


def _plastic_ref_step(plastic, projs, gids, dt) -> None:
    """One step of every plastic projection: decay the traces, all pre events, all post events, reward."""
    from . import plasticity as K

    fired = set(int(g) for g in gids)
    for P in plastic:
        pf, w = P["pf"], projs[P["k"]][4]
        wmin, wmax = pf[K.PF_WMIN], pf[K.PF_WMAX]
        span = wmax - wmin
        for name, col in (("R1", K.PF_LDP), ("R2", K.PF_LDX), ("O1", K.PF_LDM), ("O2", K.PF_LDY)):
            if P.get("t_started", False):
                P[name] *= np.exp(pf[col])
        P["t_started"] = True
        pre_ev = np.array([g in fired for g in P["pre"]], dtype=bool)
        post_ev = np.array([g in fired for g in P["post"]], dtype=bool)
        if pre_ev.any():
            dw = -P["O1"][pre_ev] * (pf[K.PF_A2M] + pf[K.PF_A3M] * P["R2"][pre_ev])
            if P["reward"]:
                P["E"][pre_ev] += dw
            else:
                if P["mult"]:
                    dw = dw * (w[pre_ev] - wmin) / span
                w[pre_ev] = np.clip(w[pre_ev] + dw, wmin, wmax)
            P["R1"][pre_ev] = 1.0 if P["nearest"] else P["R1"][pre_ev] + 1.0
            P["R2"][pre_ev] = 1.0 if P["nearest"] else P["R2"][pre_ev] + 1.0
        if post_ev.any():
            dw = P["R1"][post_ev] * (pf[K.PF_A2P] + pf[K.PF_A3P] * P["O2"][post_ev])
            if P["reward"]:
                P["E"][post_ev] += dw
            else:
                if P["mult"]:
                    dw = dw * (wmax - w[post_ev]) / span
                w[post_ev] = np.clip(w[post_ev] + dw, wmin, wmax)
            P["O1"][post_ev] = 1.0 if P["nearest"] else P["O1"][post_ev] + 1.0
            P["O2"][post_ev] = 1.0 if P["nearest"] else P["O2"][post_ev] + 1.0
        if P["reward"]:
            if P["r"] != 0.0:
                w[...] = np.clip(w + pf[K.PF_LR] * P["r"] * dt * P["E"], wmin, wmax)
            P["E"] *= np.exp(pf[K.PF_LDE])


# Element-wise libm calls (as the compiled kernels make them): numpy's vectorised exp/log/cos
# may differ from libm in the last bit, which would keep the device twins from matching bit for bit.
_exp = np.vectorize(math.exp, otypes=[np.float64])
_log = np.vectorize(math.log, otypes=[np.float64])
_cos = np.vectorize(math.cos, otypes=[np.float64])


def _normal_ref(seed, counter, k_idx, q) -> np.ndarray:
    base = (k_idx << np.uint64(32)) + (2 * np.asarray(q, dtype=np.uint64))
    u1 = uniform01_ref(seed, counter, base)
    u2 = uniform01_ref(seed, counter, base + np.uint64(1))
    return np.sqrt(-2.0 * _log(1.0 - u1)) * _cos(2.0 * math.pi * u2)


def _pulses_ref(p, dv, g, pulses, counts, fault, fail_code, seed, counter, q0, k_idx=None):
    """Vectorised per-pulse physics with per-device bounds/steps and wear; returns new ``(g, counts, fault, dv)``."""
    kind, c2c, levels = int(p[0]), float(p[5]), int(p[6])
    bup, bdown, abrupt = float(p[7]), float(p[8]), bool(p[9] != 0.0)
    c2c_add, c2c_slope, w_noise, r_level, r_spread = (float(v) for v in p[11:16])
    extra = c2c_add > 0.0 or c2c_slope > 0.0
    noisy = c2c > 0.0 or extra
    dv = np.array(dv, dtype=np.float64)
    gmin, gmax, dup, ddown, life, wear = (dv[:, c].copy() for c in range(6))
    span = gmax - gmin
    half = 0.5 / span
    up = pulses > 0
    m = np.abs(pulses)
    counts = counts + m
    healthy = (fault == 0) & (m > 0)
    if w_noise > 0.0:  # start from the hidden state while the device shows what its last write left
        g = np.where(healthy & (g == dv[:, 7]), dv[:, 6], g)
    fails = np.zeros(g.size, bool)
    loop = healthy.copy()
    if kind == 0 and not noisy and levels < 2:  # exact n * dg unless the device wears out on the way
        g1 = np.minimum(np.maximum(np.where(up, g + m * dup, g - m * ddown), gmin), gmax)
        w1 = wear + np.abs(g1 - g) * half
        fast = healthy & (up | (not abrupt)) & (w1 < life)
        g = np.where(fast, g1, g)
        wear = np.where(fast, w1, wear)
        loop = healthy & ~fast
    k_idx = np.arange(g.size, dtype=np.uint64) if k_idx is None else np.asarray(k_idx, dtype=np.uint64)
    active = loop.copy()
    for j in range(int(m[loop].max(initial=0))):
        act = active & (m > j)
        x = (g - gmin) / span
        if kind == 0:
            step = np.where(up, dup, -ddown)
        elif kind == 1:
            step = np.where(up, dup * (1.0 - x), -ddown * x)
        else:
            step = np.where(up, dup * _exp(-bup * x), -ddown * _exp(-bdown * (1.0 - x)))
        if noisy or (abrupt and r_spread > 0.0):
            xi = _normal_ref(seed, counter, k_idx, q0 + j)
        if noisy:
            step = step * (1.0 + c2c * xi)
            if extra:
                step = step + np.where(up, c2c_add * dup + c2c_slope * (g - gmin),
                                       -(c2c_add * ddown + c2c_slope * (g - gmin))) * xi
        new = np.minimum(np.maximum(g + step, gmin), gmax)
        if levels >= 2:
            new = gmin + np.round((new - gmin) / span * (levels - 1)) * (span / (levels - 1))
        if abrupt:
            if r_level > 0.0 or r_spread > 0.0:
                r = r_level + r_spread * xi if r_spread > 0.0 else np.full(g.size, r_level)
                landing = np.minimum(np.maximum(gmin + r * span, gmin), gmax)
            else:
                landing = gmin
            new = np.where(up, new, landing)
        wear = np.where(act, wear + np.abs(new - g) * half, wear)
        g = np.where(act, new, g)
        now = act & (wear >= life)
        fails |= now
        active &= ~now
    if fail_code == -1:
        g = np.where(fails, gmin, g)
    elif fail_code == 1:
        g = np.where(fails, gmax, g)
    fault = np.where(fails, np.int8(fail_code), fault).astype(np.int8)
    dv[:, 5] = wear
    if w_noise > 0.0:  # written devices show their hidden state plus fresh write noise (not after a failure)
        q = np.asarray(q0, dtype=np.uint64) + np.uint64(1 << 29)
        shown = np.minimum(np.maximum(g + w_noise * _normal_ref(seed, counter, k_idx, q), gmin), gmax)
        shown = np.where(fails, g, shown)
        dv[:, 6] = np.where(healthy, g, dv[:, 6])
        dv[:, 7] = np.where(healthy, shown, dv[:, 7])
        g = np.where(healthy, shown, g)
    return g, counts, fault, dv


def apply_pulses_ref(p, dv, g, pulses, counts, seed, counter, fault=None, fail_code=2):
    """Twin of :func:`memr_snn.kernel.device.apply_pulses`, vectorised over devices.

    Returns new ``(g, counts, fault, dv)`` arrays instead of writing in place (``fault=None``: all healthy).
    """
    g = np.array(g, dtype=np.float64)
    counts = np.array(counts, dtype=np.int64)
    pulses = np.asarray(pulses, dtype=np.int64)
    fault = np.zeros(g.size, np.int8) if fault is None else np.array(fault, dtype=np.int8)
    return _pulses_ref(p, dv, g, pulses, counts, fault, fail_code, seed, counter, np.zeros(g.size, np.int64))


def _one_ref(p, dv, g, counts, fault, fail_code, d, n, seed, counter, k, q):
    """``n`` signed pulses on device ``d`` alone (noise of device index ``k``, pulse ``q``), in place."""
    gd, cd, fd, dvd = _pulses_ref(p, dv[d:d + 1], g[d:d + 1].copy(), np.array([n], np.int64), counts[d:d + 1],
                                  fault[d:d + 1], fail_code, seed, counter, q, [k])
    g[d], counts[d], fault[d] = gd[0], cd[0], fd[0]
    dv[d] = dvd[0]


def refresh_pair_ref(p, dv, g, counts, fault, fail_code, dp, dn, seed, counter, kp, kn, q0, max_pulses):
    """Twin of :func:`memr_snn.kernel.device.refresh_pair` (in place, one pulse at a time through the numpy twin)."""
    if fault[dp] != 0 or fault[dn] != 0:
        return 0, 0
    diff = g[dp] - g[dn]
    _one_ref(p, dv, g, counts, fault, fail_code, dp, -1, seed, counter, kp, q0)
    _one_ref(p, dv, g, counts, fault, fail_code, dn, -1, seed, counter, kn, q0)
    if diff == 0.0:
        return 0, 2
    dw, ds, kw, want = (dp, dn, kp, diff) if diff > 0 else (dn, dp, kn, -diff)
    sets = 0
    while sets < max_pulses and fault[dw] == 0 and (g[dw] - g[ds]) < want - 0.5 * dv[dw, 2]:
        _one_ref(p, dv, g, counts, fault, fail_code, dw, 1, seed, counter, kw, q0 + 1 + sets)
        sets += 1
    return sets, 2


def refresh_pairs_ref(p, dv, g, counts, fault, fail_code, seed, counter, threshold, max_pulses):
    """Twin of :func:`memr_snn.kernel.device.refresh_pairs`; returns new ``(g, counts, fault, dv, out)``."""
    g, counts, fault, dv = (np.array(a) for a in (g, counts, fault, dv))
    out = np.zeros(3, np.int64)
    rel = (g - dv[:, 0]) >= threshold * (dv[:, 1] - dv[:, 0])
    for j in range(g.size // 2):
        dp, dn = 2 * j, 2 * j + 1
        if not (rel[dp] or rel[dn]) or fault[dp] != 0 or fault[dn] != 0:
            continue
        s, r = refresh_pair_ref(p, dv, g, counts, fault, fail_code, dp, dn, seed, counter, dp, dn, int(counts[dp]),
                                max_pulses)
        out += (1, s, r)
    return g, counts, fault, dv, out


def program_verify_ref(p, dv, g, target, counts, fault, fail_code, read_noise, tol, max_pulses,
                       ispp_step, ispp_max, seed, counter):
    """Twin of :func:`memr_snn.kernel.device.program_verify`, vectorised over devices.

    Returns ``(g, counts, fault, dv, n_up, n_down, n_reads, g_read_sum, converged)`` as new arrays.
    """
    read_q0 = 1 << 30
    g = np.array(g, dtype=np.float64)
    target = np.asarray(target, dtype=np.float64)
    counts = np.array(counts, dtype=np.int64)
    fault = np.array(fault, dtype=np.int8)
    dv = np.array(dv, dtype=np.float64)
    n = g.size
    k_idx = np.arange(n, dtype=np.uint64)
    sent = np.zeros(n, np.int64)
    reads = np.zeros(n, np.int64)
    n_iter = np.zeros(n, np.int64)
    last_dir = np.zeros(n, np.int64)
    n_up = np.zeros(n, np.int64)
    n_down = np.zeros(n, np.int64)
    gsum = np.zeros(n)
    converged = np.zeros(n, bool)
    active = np.ones(n, bool)
    while active.any():
        gr = g
        if read_noise > 0.0:
            gr = g * (1.0 + read_noise * _normal_ref(seed, counter, k_idx, read_q0 + reads))
        gsum = np.where(active, gsum + g, gsum)
        reads = reads + active
        err = target - gr
        now = active & (np.abs(err) <= tol)
        converged |= now
        active &= ~now
        active &= sent < max_pulses
        d = np.where(err > 0, 1, -1)
        n_iter = np.where(active, np.where(d == last_dir, np.minimum(n_iter + ispp_step, ispp_max), 1), n_iter)
        last_dir = np.where(active, d, last_dir)
        nn = np.minimum(n_iter, max_pulses - sent)
        step_nom = np.where(d > 0, p[3], p[4])
        with np.errstate(divide="ignore", invalid="ignore"):
            cap = np.where(step_nom > 0.0, np.maximum(np.floor(np.abs(err) / np.where(step_nom > 0, step_nom, 1.0)),
                                                      1.0), np.inf)
        nn = np.minimum(nn, cap).astype(np.int64)
        if p[9] != 0.0:
            nn = np.where(d < 0, 1, nn)
        nn = np.where(active, nn, 0)
        g, counts, fault, dv = _pulses_ref(p, dv, g, d * nn, counts, fault, fail_code, seed, counter, sent)
        sent = sent + nn
        n_up = n_up + np.where(d > 0, nn, 0)
        n_down = n_down + np.where(d < 0, nn, 0)
    return g, counts, fault, dv, n_up, n_down, reads, gsum, converged


# ----------------------------------------------------------------- crossbar reads
def normal_icdf_ref(p: np.ndarray) -> np.ndarray:
    """Twin of :func:`memr_snn.kernel.crossbar.normal_icdf` (Acklam), vectorised."""
    from . import crossbar as X

    p = np.asarray(p, dtype=np.float64)
    a = (X._A1, X._A2, X._A3, X._A4, X._A5, X._A6)
    b = (X._B1, X._B2, X._B3, X._B4, X._B5)
    c = (X._C1, X._C2, X._C3, X._C4, X._C5, X._C6)
    d = (X._D1, X._D2, X._D3, X._D4)

    def tail(q):
        num = ((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]
        return num / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1.0)

    with np.errstate(divide="ignore", invalid="ignore"):
        lo = tail(np.sqrt(-2.0 * np.log(p)))
        hi = -tail(np.sqrt(-2.0 * np.log(1.0 - p)))
        q = p - 0.5
        r = q * q
        mid = (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q / (
            ((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1.0)
    return np.where(p < X._P_LOW, lo, np.where(p > 1.0 - X._P_LOW, hi, mid))


def crossbar_normals_ref(seed, step, j) -> np.ndarray:
    """Twin of the read-noise draws: normals of crossbar devices ``j`` (within the crossbar) at ``step``."""
    seed = np.asarray(seed, dtype=np.uint64)
    step = np.asarray(step, dtype=np.uint64)
    j = np.asarray(j, dtype=np.uint64)
    with np.errstate(over="ignore"):
        key = mix64_ref(seed ^ mix64_ref(step * _G))
        h = mix64_ref(key + ((j >> np.uint64(1)) + np.uint64(1)) * _G)
    from . import crossbar as X

    bits = np.where((j & np.uint64(1)) == 0, h >> np.uint64(32), h & np.uint64(0xFFFFFFFF))
    i = (bits >> np.uint64(32 - X.Z_BITS)).astype(np.int64)
    f = ((bits & np.uint64((1 << (32 - X.Z_BITS)) - 1)).astype(np.float64) + 0.5) * (1.0 / (1 << (32 - X.Z_BITS)))
    table = X.Z_TABLE[i] + f * X.Z_STEP[i]
    tail = (i == 0) | (i == (1 << X.Z_BITS) - 1)
    exact = normal_icdf_ref((bits.astype(np.float64) + 0.5) * (1.0 / 4294967296.0))
    return np.where(tail, exact, table)


def drift_factor_ref(x: np.ndarray) -> np.ndarray:
    """Twin of :func:`memr_snn.kernel.crossbar.drift_factor` (the same operations, element-wise)."""
    from . import crossbar as X

    y = np.asarray(x, dtype=np.float64) * X._INV64
    p = np.full_like(y, X._E12)
    for c in (X._E11, X._E10, X._E9, X._E8, X._E7, X._E6, X._E5, X._E4, X._E3, X._E2, 1.0, 1.0):
        p = p * y + c
    for _ in range(6):
        p = p * p
    return p


def slow_noise_ref(gd, gp, age, j, flick, trf, gnorm, relax, rt0, seed, epoch) -> np.ndarray:
    """Twin of :func:`memr_snn.kernel.crossbar.slow_noise`: drifted conductances ``gd`` of devices ``j``
    (within the crossbar; programmed values ``gp``, ages ``age`` [s]) plus 1/f noise and relaxation."""
    from . import crossbar as X

    seed_u = np.uint64(np.int64(seed).view(np.uint64)) ^ X.SLOW_SALT
    j = np.asarray(j, dtype=np.uint64)
    z1 = crossbar_normals_ref(seed_u, np.uint64(epoch), 2 * j)
    z2 = crossbar_normals_ref(seed_u, np.uint64(epoch), 2 * j + np.uint64(1))
    gd = np.asarray(gd, dtype=np.float64)
    dg = np.zeros_like(gd)
    live = age > 0.0
    if flick > 0.0:
        with np.errstate(divide="ignore", invalid="ignore"):
            lg = np.log(np.where(live, age + trf, 2.0 * trf) / (2.0 * trf))
            xr = np.abs(gp) / gnorm
            xp = np.where(xr > 0.0, np.exp(0.65 * np.log(np.where(xr > 0.0, xr, 1.0))), 0.0)
        qs = np.minimum(0.0088 / np.maximum(xp, 1e-3), 0.2)
        dg += np.where(lg > 0.0, np.abs(gd) * flick * qs * np.sqrt(np.maximum(lg, 0.0)) * z1, 0.0)
    if relax > 0.0:
        dg += relax * np.log(1.0 + np.where(live, age, 0.0) / rt0) * X._INV_LN10 * z2
    return np.where(live, np.maximum(gd + dg, 0.0), gd)


def read_row_ref(x, row, lo, hi, t, dt, xf, xi, g, nu, tp, rtp, tf, rft, rs, gs, acc, out, buf=None):
    """Twin of :func:`memr_snn.kernel.crossbar.read_row`, vectorised over the row's devices.

    Drift and retention are evaluated per device from ``tp`` and ``tf`` (``row``, ``rtp``
    and ``rft`` are accepted for the kernel's signature; its row shortcuts give the same numbers).
    """
    from . import crossbar as X

    off, diff = int(xi[x, X.XI_OFF]), bool(xi[x, X.XI_DIFF])
    k = np.arange(lo, hi, dtype=np.int64)
    dev = off + 2 * k if diff else off + k
    devs = np.concatenate([dev, dev + 1]) if diff else dev
    gd = g[devs].astype(np.float64)
    age = t * dt - tp[devs] if (xi[x, X.XI_DRIFT] or xi[x, X.XI_RET]) else None
    if xi[x, X.XI_DRIFT]:
        old = age > xf[x, X.XF_T0]
        with np.errstate(divide="ignore", invalid="ignore"):
            gd = np.where(old, gd * drift_factor_ref(-nu[devs] * _log(np.where(old, age / xf[x, X.XF_T0], 1.0))),
                          gd)
    flick, relax = xf[x, X.XF_FLICK], xf[x, X.XF_RELAX]
    if flick > 0.0 or relax > 0.0:
        gd = slow_noise_ref(gd, g[devs], t * dt - tp[devs], (devs - off).astype(np.uint64), flick, xf[x, X.XF_TRF],
                            xf[x, X.XF_GNORM], relax, xf[x, X.XF_RT0], int(xi[x, X.XI_SEED]), int(xi[x, X.XI_EPOCH]))
    if xi[x, X.XI_RET]:
        gd = np.where(age > tf[devs], xf[x, X.XF_GFAIL], gd)
    sigma = xf[x, X.XF_SIGMA]
    if sigma > 0.0:
        seed = np.uint64(np.int64(xi[x, X.XI_SEED]).view(np.uint64))
        xi_t = crossbar_normals_ref(seed, np.uint64(t), (devs - off).astype(np.uint64))
        gd = np.maximum(gd * (1.0 + sigma * xi_t), 0.0)
    if xi[x, X.XI_WIRE]:
        gd = gd / (1.0 + gd * rs[devs]) + gs[devs]
    n = hi - lo
    if diff:
        out[:n] = xf[x, X.XF_SCALE] * (gd[:n] - gd[n:])
    else:
        out[:n] = xf[x, X.XF_SCALE] * (gd - xf[x, X.XF_GREF])
    acc[x, X.A_READS] += gd.size
    acc[x, X.A_ENERGY] += xf[x, X.XF_V2T] * gd.sum()

__all__ += ["iv_window_ref", "iv_transient_ref"]


def iv_window_ref(code: int, s, direction, p: float, j: float) -> np.ndarray:
    """Twin of :func:`memr_snn.kernel.iv.iv_window`, vectorised over ``s`` and ``direction``."""
    s = np.asarray(s, dtype=np.float64)
    if code == 1:
        return 1.0 - np.square(2.0 * s - 1.0) ** p
    if code == 2:
        y = np.where(np.asarray(direction) > 0.0, s, s - 1.0)
        return 1.0 - np.square(y) ** p
    if code == 3:
        return j * (1.0 - (np.square(s - 0.5) + 0.75) ** p)
    return np.ones_like(s)


def _iv_rate_ref(p, x, v: float) -> np.ndarray:
    """dx/dt for a batch of states under one voltage (twin of ``kernel.iv.iv_rate``)."""
    model, win, pw, j, ra, rb, lo, hi, k, k_on, k_off, v_on, v_off, a_on, a_off = (float(q) for q in p)
    s = (np.clip(x, lo, hi) - lo) / (hi - lo)
    if int(model) == 0:
        i = v / (ra + (rb - ra) * s)
        return np.where(i == 0.0, 0.0, k * i * iv_window_ref(int(win), s, np.sign(i), pw, j))
    if v > v_off:
        return k_off * (v / v_off - 1.0) ** a_off * iv_window_ref(int(win), s, 1.0, pw, j)
    if v < v_on:
        return k_on * (v / v_on - 1.0) ** a_on * iv_window_ref(int(win), s, -1.0, pw, j)
    return np.zeros_like(s)


def iv_transient_ref(p, t, v, x0, substeps: int):
    """Twin of :func:`memr_snn.kernel.iv.iv_transient` for a batch of initial states.

    ``x0`` may be a scalar or a 1-D array of ``m`` initial states; returns ``(x, i, r)``,
    each of shape ``(len(t),) + np.shape(x0)``.
    """
    p = np.asarray(p, dtype=np.float64)
    t = np.asarray(t, dtype=np.float64)
    v = np.asarray(v, dtype=np.float64)
    lo, hi, ra, rb = p[6], p[7], p[4], p[5]
    xk = np.clip(np.asarray(x0, dtype=np.float64), lo, hi)
    xs = [xk]
    for k in range(t.size - 1):
        h = (t[k + 1] - t[k]) / substeps
        dv = v[k + 1] - v[k]
        for m in range(substeps):
            va = v[k] + dv * (m / substeps)
            vm = v[k] + dv * ((m + 0.5) / substeps)
            vb = v[k] + dv * ((m + 1.0) / substeps)
            k1 = _iv_rate_ref(p, xk, va)
            k2 = _iv_rate_ref(p, xk + 0.5 * h * k1, vm)
            k3 = _iv_rate_ref(p, xk + 0.5 * h * k2, vm)
            k4 = _iv_rate_ref(p, xk + h * k3, vb)
            xk = np.clip(xk + (h / 6.0) * (k1 + 2.0 * k2 + 2.0 * k3 + k4), lo, hi)
        xs.append(xk)
    x = np.array(xs)
    r = ra + (rb - ra) * ((x - lo) / (hi - lo))
    i = v.reshape((-1,) + (1,) * (x.ndim - 1)) / r
    return x, i, r


def _touch_ref(x, d, row, t, dt, xi, tp, rtp, tf, rft):
    from . import crossbar as X

    if xi[x, X.XI_DRIFT] or xi[x, X.XI_RET]:
        tnow = t * dt
        tp[d] = tnow
        r = int(xi[x, X.XI_ROFF]) + row
        rtp[r] = np.nan
        if xi[x, X.XI_RET] and tnow + tf[d] < rft[r]:
            rft[r] = tnow + tf[d]


def device_update_ref(x, s, row, dw, wmin, wmax, t, dt, xf, xi, xp, g, counts, dv, fault, tp, rtp, tf, rft, acc):
    """Twin of :func:`memr_snn.kernel.crossbar.device_update` (scalar Python; pulses through the numpy twin)."""
    import math as _m

    from . import crossbar as X

    if dw == 0.0:
        return
    off = int(xi[x, X.XI_OFF])
    scale = xf[x, X.XF_SCALE]
    code = int(xi[x, X.XI_FAIL])
    if xi[x, X.XI_ANALOG]:
        d = off + s
        w = scale * (g[d] - xf[x, X.XF_GREF])
        w_new = min(max(w + dw, wmin), wmax)
        g_new = min(max(w_new / scale + xf[x, X.XF_GREF], dv[d, 0]), dv[d, 1])
        step = xp[x, 3] if g_new >= g[d] else xp[x, 4]
        n_eq = int(_m.ceil(abs(g_new - g[d]) / step - 1e-9)) if step > 0 else 0
        if n_eq > 0:
            counts[d] += n_eq
            acc[x, X.A_UP if g_new >= g[d] else X.A_DOWN] += n_eq
        if fault[d] != 0:
            return
        dv[d, 5] += abs(g_new - g[d]) * (0.5 / (dv[d, 1] - dv[d, 0]))
        if dv[d, 5] >= dv[d, 4]:
            fault[d] = code
            g_new = dv[d, 0] if code == -1 else (dv[d, 1] if code == 1 else g_new)
        g[d] = g_new
        _touch_ref(x, d, row, t, dt, xi, tp, rtp, tf, rft)
        return
    diff = bool(xi[x, X.XI_DIFF])
    if diff:
        d, up = (off + 2 * s, True) if dw > 0 else (off + 2 * s + 1, True)
    else:
        d, up = off + s, (dw > 0) == (scale > 0)
    step = xp[x, 3] if up else xp[x, 4]
    if step <= 0:
        return
    nf = abs(dw) / (abs(scale) * step)
    n = int(nf)
    seed = np.uint64(np.int64(xi[x, X.XI_SEED]).view(np.uint64))
    if float(uniform01_ref(seed ^ np.uint64(0xA5A5A5A5), np.uint64(t), np.uint64(d - off))) < nf - n:
        n += 1
    if n == 0:
        return
    c0 = int(counts[d])
    acc[x, X.A_UP if up else X.A_DOWN] += n
    if fault[d] != 0:
        counts[d] = c0 + n
        return
    _one_ref(xp[x], dv, g, counts, fault, code, d, n if up else -n, seed, np.uint64(t), d - off, c0)
    _touch_ref(x, d, row, t, dt, xi, tp, rtp, tf, rft)
    thr = xp[x, 10]
    if diff and thr > 0.0 and g[d] - dv[d, 0] >= thr * (dv[d, 1] - dv[d, 0]):
        dp = off + 2 * s
        cap = int(4.0 * (xp[x, 2] - xp[x, 1]) / xp[x, 3]) + 16
        sets, resets = refresh_pair_ref(xp[x], dv, g, counts, fault, code, dp, dp + 1, seed, np.uint64(t),
                                        dp - off, dp + 1 - off, int(counts[dp]), cap)
        if resets:
            acc[x, X.A_UP] += sets
            acc[x, X.A_DOWN] += resets
            _touch_ref(x, dp, row, t, dt, xi, tp, rtp, tf, rft)
            _touch_ref(x, dp + 1, row, t, dt, xi, tp, rtp, tf, rft)
