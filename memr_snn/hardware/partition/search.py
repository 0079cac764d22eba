"""Placing neurons on cores: greedy blocks, output-axon fitting and the refinement pass (:class:`_Refiner`)."""

from __future__ import annotations

import math

import numpy as np
import scipy.sparse as sp

from .problem import _describe_neuron, _Problem
from .records import MappingError, list_block_bits


def _greedy_blocks(prob: _Problem, out_prefix: np.ndarray | None = None) -> list[tuple[int, int]]:
    cap = prob.profile.neurons_per_core
    blocks, a, size = [], 0, cap
    while a < prob.n:
        bad = prob.violation(prob.block_local(a, a + 1))
        if bad is None and out_prefix is not None and prob.violation(prob.block_local(a, a + 1, out_prefix)):
            blocks.append((a, a + 1))  # its estimated destinations alone exceed the limit: the exact check decides
            a += 1
            continue
        if bad:
            key, lim, need = bad
            detail = "even alone on a core"
            if key == "fan_in_axons_per_core":
                detail += f"; it receives synapses from {need} distinct sources"
            raise MappingError(_describe_neuron(prob, a), key, lim, need, detail)

        def fits(b, a=a):
            return prob.violation(prob.block_local(a, b, out_prefix)) is None

        lo, hi = a + 1, min(prob.n, a + cap)
        guess = min(hi, a + size) if blocks else hi  # neighbouring blocks tend to have the same size
        if guess > lo:  # bracket the answer next to the guess before bisecting
            if fits(guess):
                lo = guess
                if guess < hi and not fits(guess + 1):
                    hi = guess
            else:
                hi = guess - 1
                if hi > lo and fits(hi):
                    lo = hi
        while lo < hi:  # largest b in [lo, hi] that fits (every local resource grows with b)
            mid = (lo + hi + 1) // 2
            if fits(mid):
                lo = mid
            else:
                hi = mid - 1
        blocks.append((a, lo))
        size = lo - a
        a = lo
    return blocks


def _core_table(prob: _Problem, core_of: np.ndarray, n_cores: int):
    """(S, Sp) synapse counts per (source, core), sparse."""
    A = prob.A.tocoo()
    S = sp.csr_matrix((A.data, (A.row, core_of[A.col])), shape=(prob.n_src, n_cores))
    S.sum_duplicates()
    Ap = prob.Ap.tocoo()
    Sp = sp.csr_matrix((Ap.data, (Ap.row, core_of[Ap.col])), shape=(prob.n_src, n_cores))
    Sp.sum_duplicates()
    return S, Sp


def _out_axons(prob: _Problem, S, core_of: np.ndarray, n_cores: int) -> np.ndarray:
    ndest = np.diff(S.indptr)[: prob.n]
    return np.bincount(core_of, weights=ndest, minlength=n_cores).astype(np.int64)


def _max_cores(prob: _Problem) -> int:
    return prob.profile.max_chips * prob.profile.cores_per_chip


def _check_core_count(prob: _Problem, n_cores: int) -> None:
    if n_cores > _max_cores(prob):
        prof = prob.profile
        raise MappingError(
            "the network", "cores (max_chips x cores_per_chip)", _max_cores(prob), n_cores,
            f"{math.ceil(n_cores / prof.cores_per_chip)} chips needed, profile {prof.name!r} allows "
            f"{prof.max_chips}")


def _fit_out_axons(prob: _Problem, blocks: list[tuple[int, int]]) -> list[tuple[int, int]]:
    lim = prob.profile.fan_out_axons_per_core
    while True:
        _check_core_count(prob, len(blocks))
        sizes = [b - a for a, b in blocks]
        core_of = np.repeat(np.arange(len(blocks)), sizes)
        S, _ = _core_table(prob, core_of, len(blocks))
        out = _out_axons(prob, S, core_of, len(blocks))
        bad = set(np.nonzero(out > lim)[0].tolist())
        if not bad:
            return blocks
        new = []
        for k, (a, b) in enumerate(blocks):
            if k in bad:
                if b - a == 1:
                    raise MappingError(_describe_neuron(prob, a), "fan_out_axons_per_core", lim, int(out[k]),
                                       "its synapses reach that many cores")
                parts = min(b - a, max(2, -(-int(out[k]) // lim)))  # ceil(out / limit) equal parts
                edges = np.linspace(a, b, parts + 1).round().astype(int)
                new += [(int(x), int(y)) for x, y in zip(edges[:-1], edges[1:], strict=True) if y > x]
            else:
                new.append((a, b))
        blocks = new


class _Refiner:
    """Single-neuron moves that lower rate-weighted inter-core traffic and keep every limit.

    Keeps the (sources x cores) synapse-count table dense and, per core, its input
    axons, synaptic memory, compartments, largest delay and output axons, so a
    candidate move is priced from two columns of the table only.
    """

    def __init__(self, prob: _Problem, core_of: np.ndarray, n_cores: int):
        self.p = prob
        self.C = n_cores
        self.core_of = core_of.copy()
        S, Sp = _core_table(prob, core_of, n_cores)
        self.S = S.toarray().astype(np.int64)
        self.Sp = Sp.toarray().astype(np.int64) if prob.has_plastic else None
        self.src_core = np.concatenate([self.core_of, np.full(prob.n_src - prob.n, -1)])
        self.ndest = (self.S > 0).sum(axis=1)
        self.out = np.bincount(self.core_of, weights=self.ndest[: prob.n], minlength=n_cores).astype(np.int64)
        self.comp = np.bincount(self.core_of, weights=prob.comps, minlength=n_cores).astype(np.int64)
        self.maxd = np.full(n_cores, -1, dtype=np.int64)
        np.maximum.at(self.maxd, self.core_of, prob.max_delay_in)
        self.nnz = (self.S > 0).sum(axis=0)
        self.pnnz = (self.Sp > 0).sum(axis=0) if self.Sp is not None else np.zeros(n_cores, dtype=np.int64)
        self.bits = np.array([self._column_bits(c, self.comp[c], self.maxd[c]) for c in range(n_cores)])

    def _bps(self, comp, maxd) -> int:
        return self.p.bits_per_synapse(int(comp), int(maxd))

    def _column_bits(self, c, comp, maxd, col=None) -> int:
        col = self.S[:, c] if col is None else col
        return int(list_block_bits(col[col > 0], self._bps(comp, maxd), self.p.profile).sum())

    def _maxd_without(self, c: int, j: int) -> int:
        members = self.core_of == c
        members[j] = False
        return int(self.p.max_delay_in[members].max()) if members.any() else -1

    def try_move(self, j: int, b: int) -> bool:
        p, a = self.p, int(self.core_of[j])
        prof = p.profile
        A = p.A_csc
        rows = A.indices[A.indptr[j]:A.indptr[j + 1]]
        w = A.data[A.indptr[j]:A.indptr[j + 1]].astype(np.int64)
        if not (rows == j).any():  # j's own term changes with its core even without an autapse
            rows, w = np.append(rows, j), np.append(w, 0)
        sa, sb = self.S[rows, a], self.S[rows, b]
        sa2, sb2 = sa - w, sb + w
        gone, new = (sa > 0) & (sa2 == 0), (sb == 0) & (sb2 > 0)
        nd_old = self.ndest[rows]
        nd_new = nd_old - gone + new
        own = self.src_core[rows]
        own2 = np.where(rows == j, b, own)

        def hit(own_c, col_a, col_b):
            other = self.S[rows, np.maximum(own_c, 0)] > 0
            return np.where(own_c == a, col_a > 0, np.where(own_c == b, col_b > 0, (own_c >= 0) & other))

        t_old = nd_old - hit(own, sa, sb)
        t_new = nd_new - hit(own2, sa2, sb2)
        if not float(np.dot(p.prob[rows], t_new - t_old)) < -1e-12:
            return False
        # limits of b (gains j): compartments, delay units, input axons, synaptic memory
        comp_b = self.comp[b] + p.comps[j]
        maxd_b = max(self.maxd[b], p.max_delay_in[j])
        nnz_b = self.nnz[b] + int(new.sum())
        pnnz_b, prow, pw = self.pnnz[b], None, None
        if self.Sp is not None:
            Ap = p.Ap_csc
            prow = Ap.indices[Ap.indptr[j]:Ap.indptr[j + 1]]
            pw = Ap.data[Ap.indptr[j]:Ap.indptr[j + 1]].astype(np.int64)
            pnnz_b += int(((self.Sp[prow, b] == 0) & (pw > 0)).sum())
        if self._bps(comp_b, maxd_b) == self._bps(self.comp[b], self.maxd[b]):
            bps = self._bps(comp_b, maxd_b)
            bits_b = self.bits[b] + int((list_block_bits(sb2, bps, prof) - list_block_bits(sb, bps, prof)).sum())
        else:
            col = self.S[:, b].copy()
            col[rows] = sb2
            bits_b = self._column_bits(b, comp_b, maxd_b, col)
        res = {"neurons_per_core": int(comp_b),
               "fan_in_axons_per_core": int(nnz_b) + (prof.plastic_in_axon_slots - 1) * int(pnnz_b),
               "synaptic_memory_bits_per_core": int(bits_b),
               "delay_units_per_core": p.delay_units(int(comp_b), int(maxd_b))}
        if p.violation(res) is not None:
            return False
        # output axons of every core whose sources changed destinations, and of a and b
        out = self.out.copy()
        others = (rows != j) & (own >= 0)
        np.add.at(out, own[others], (nd_new - nd_old)[others])
        jj = int(np.nonzero(rows == j)[0][0])
        out[a] -= nd_old[jj]
        out[b] += nd_new[jj]
        if out.max() > prof.fan_out_axons_per_core:
            return False
        # apply: a loses j (its resources only shrink), b gains it
        comp_a = self.comp[a] - p.comps[j]
        maxd_a = self._maxd_without(a, j)
        self.S[rows, a], self.S[rows, b] = sa2, sb2
        self.nnz[a] -= int(gone.sum())
        self.nnz[b] = nnz_b
        if self.Sp is not None:
            self.pnnz[a] -= int(((self.Sp[prow, a] > 0) & (self.Sp[prow, a] - pw == 0)).sum())
            self.Sp[prow, a] -= pw
            self.Sp[prow, b] += pw
            self.pnnz[b] = pnnz_b
        self.ndest[rows] = nd_new
        self.out = out
        self.comp[a], self.comp[b] = comp_a, comp_b
        self.maxd[a], self.maxd[b] = maxd_a, maxd_b
        self.bits[a] = self._column_bits(a, comp_a, maxd_a)
        self.bits[b] = bits_b
        self.core_of[j] = b
        self.src_core[j] = b
        return True

    def candidates(self, j: int, k: int = 3) -> np.ndarray:
        p, a = self.p, self.core_of[j]
        A = p.A_csc
        rows = A.indices[A.indptr[j]:A.indptr[j + 1]]
        w = A.data[A.indptr[j]:A.indptr[j + 1]]
        score = self.S[j].astype(np.float64) * p.prob[j]
        sc = self.src_core[rows]
        ok = sc >= 0
        np.add.at(score, sc[ok], (w * p.prob[rows])[ok])
        score[a] = 0.0
        order = np.argsort(-score, kind="stable")[:k]
        return order[score[order] > 0]

    def run(self, passes: int, rng: np.random.Generator) -> int:
        moved = 0
        for _ in range(passes):
            m = 0
            for j in rng.permutation(self.p.n):
                for b in self.candidates(int(j)):
                    if self.try_move(int(j), int(b)):
                        m += 1
                        break
            moved += m
            if m == 0:
                break
        return moved
