"""Connectivity rules: which (pre, post) pairs a projection connects.

Each rule is a small frozen dataclass with ``generate(n_pre, n_post, rng,
same_population)`` returning two int64 arrays (pre indices, post indices) and
``expected_synapses(n_pre, n_post)`` used to refuse networks that would not fit
in memory before anything is allocated.
"""

from __future__ import annotations

import abc
import dataclasses

import numpy as np
import scipy.sparse as sp

from .._validation import check_index_array, check_int_at_least, check_probability

__all__ = [
    "Connectivity",
    "AllToAll",
    "OneToOne",
    "FixedProbability",
    "FixedInDegree",
    "FromArrays",
    "FromSparse",
]


class Connectivity(abc.ABC):
    """Base class of connectivity rules."""

    @abc.abstractmethod
    def generate(self, n_pre: int, n_post: int, rng: np.random.Generator, same_population: bool):
        """Return (pre, post) int64 index arrays of the synapses to create."""

    @abc.abstractmethod
    def expected_synapses(self, n_pre: int, n_post: int) -> float:
        """Expected number of synapses (for the memory check before generation)."""

    def weights_hint(self) -> np.ndarray | None:
        """Per-synapse weights carried by the rule itself (``FromSparse``), else None."""
        return None


@dataclasses.dataclass(frozen=True)
class AllToAll(Connectivity):
    """Every presynaptic neuron to every postsynaptic neuron."""

    allow_autapses: bool = True
    """Keep i -> i synapses when a population projects onto itself."""

    def generate(self, n_pre, n_post, rng, same_population):
        pre = np.repeat(np.arange(n_pre, dtype=np.int64), n_post)
        post = np.tile(np.arange(n_post, dtype=np.int64), n_pre)
        if same_population and not self.allow_autapses:
            keep = pre != post
            pre, post = pre[keep], post[keep]
        return pre, post

    def expected_synapses(self, n_pre, n_post):
        return float(n_pre) * float(n_post)


@dataclasses.dataclass(frozen=True)
class OneToOne(Connectivity):
    """Neuron i to neuron i; both populations must have the same size."""

    def generate(self, n_pre, n_post, rng, same_population):
        if n_pre != n_post:
            raise ValueError(f"OneToOne needs equal sizes, got n_pre={n_pre}, n_post={n_post}")
        idx = np.arange(n_pre, dtype=np.int64)
        return idx, idx.copy()

    def expected_synapses(self, n_pre, n_post):
        return float(min(n_pre, n_post))


def _distinct_rows(counts, n_candidates, rng, exclude):
    """For row r, ``counts[r]`` distinct values in [0, n_candidates) (plus self-skip).

    Draws with replacement, then redraws the duplicates until none are left.
    ``exclude[r]`` (or -1) is a value that must not appear: values >= it are shifted
    by one, so draws come from ``n_candidates`` values out of ``n_candidates + 1``.
    Returns (row, value) sorted by row then value.
    """
    dense = counts > n_candidates // 2
    if np.any(dense):
        # rows that need more than half the candidates: redrawing duplicates would need
        # ~n draws for the last free values, so draw them without replacement directly
        sparse_rows, sparse_vals = _distinct_rows(np.where(dense, 0, counts), n_candidates, rng, exclude)
        d_rows = np.flatnonzero(dense)
        parts_r, parts_v = [sparse_rows], [sparse_vals]
        for r in d_rows:
            vals_r = np.sort(rng.choice(n_candidates, size=int(counts[r]), replace=False)).astype(np.int64)
            if exclude is not None and exclude[r] >= 0:
                vals_r = vals_r + (vals_r >= exclude[r])
            parts_r.append(np.full(vals_r.size, r, dtype=np.int64))
            parts_v.append(vals_r)
        rows, vals = np.concatenate(parts_r), np.concatenate(parts_v)
        order = np.lexsort((vals, rows))
        return rows[order], vals[order]
    rows = np.repeat(np.arange(counts.size, dtype=np.int64), counts)
    vals = rng.integers(0, n_candidates, size=rows.size, dtype=np.int64) if rows.size else rows.copy()
    width = max(int(n_candidates), 1)
    for _ in range(1000):
        key = np.sort(rows * width + vals)  # rows are fixed; sorting the keys sorts values within rows
        vals = key - rows * width
        dup = np.zeros(rows.size, dtype=bool)
        if rows.size > 1:
            dup[1:] = key[1:] == key[:-1]
        n_dup = int(dup.sum())
        if n_dup == 0:
            break
        vals[dup] = rng.integers(0, n_candidates, size=n_dup, dtype=np.int64)
    else:  # pragma: no cover - dense rows are drawn without replacement above
        raise RuntimeError("could not draw distinct targets; the connection density is too high")
    if exclude is not None:
        ex = exclude[rows]
        vals = vals + ((ex >= 0) & (vals >= ex))
        order = np.lexsort((vals, rows))
        rows, vals = rows[order], vals[order]
    return rows, vals


def _bernoulli_positions(total: int, p: float, rng: np.random.Generator) -> np.ndarray:
    """Sorted positions of the successes of ``total`` Bernoulli(p) trials.

    The gaps between successes are geometric, so the positions are a cumulative
    sum of geometric draws: time and memory scale with the number of successes,
    not with ``total``.
    """
    expected = total * p
    chunks, pos = [], -1
    while True:
        size = int(expected - (pos + 1) * p + 6.0 * np.sqrt(expected + 1.0) + 16)
        gaps = rng.geometric(p, size=max(size, 16)).astype(np.int64)
        positions = pos + np.cumsum(gaps)
        inside = positions[positions < total]
        chunks.append(inside)
        if inside.size < positions.size:
            break
        pos = int(positions[-1])
    return np.concatenate(chunks)


@dataclasses.dataclass(frozen=True)
class FixedProbability(Connectivity):
    """Each (pre, post) pair is connected independently with probability ``p``.

    The pairs, in row-major order, form a Bernoulli process, generated from its
    geometric gaps: memory and time scale with the number of synapses, not with
    ``n_pre * n_post``, and the synapses come out sorted.
    """

    p: float
    """Connection probability, in [0, 1]."""
    allow_autapses: bool = True
    """Keep i -> i synapses when a population projects onto itself (Brian2 and NEST default)."""

    def __post_init__(self):
        check_probability("p", self.p)

    def generate(self, n_pre, n_post, rng, same_population):
        skip_self = same_population and not self.allow_autapses
        total = int(n_pre) * int(n_post)
        p = float(self.p)
        if p == 0.0 or total == 0:
            empty = np.zeros(0, dtype=np.int64)
            return empty, empty.copy()
        if p == 1.0:
            linear = np.arange(total, dtype=np.int64)
        else:
            linear = _bernoulli_positions(total, p, rng)
        pre, post = np.divmod(linear, n_post)
        if skip_self:
            keep = pre != post
            pre, post = pre[keep], post[keep]
        return pre, post

    def expected_synapses(self, n_pre, n_post):
        return float(n_pre) * float(n_post) * float(self.p)


@dataclasses.dataclass(frozen=True)
class FixedInDegree(Connectivity):
    """Each postsynaptic neuron receives exactly ``k`` synapses from distinct presynaptic neurons."""

    k: int
    """In-degree, 0 <= k <= n_pre (n_pre - 1 without autapses)."""
    allow_autapses: bool = True
    """Allow i -> i when a population projects onto itself."""

    def __post_init__(self):
        object.__setattr__(self, "k", check_int_at_least("k", self.k, 0))

    def generate(self, n_pre, n_post, rng, same_population):
        skip_self = same_population and not self.allow_autapses
        n_cand = n_pre - 1 if skip_self else n_pre
        if self.k > n_cand:
            raise ValueError(
                f"k must be <= {n_cand} (distinct presynaptic candidates), got k={self.k}"
            )
        counts = np.full(n_post, self.k, dtype=np.int64)
        exclude = np.arange(n_post, dtype=np.int64) if skip_self else None
        post, pre = _distinct_rows(counts, n_cand, rng, exclude)
        return pre, post

    def expected_synapses(self, n_pre, n_post):
        return float(self.k) * float(n_post)


@dataclasses.dataclass(frozen=True, eq=False)
class FromArrays(Connectivity):
    """Explicit synapse list: ``pre[k] -> post[k]`` (local indices)."""

    pre: np.ndarray
    """Presynaptic indices, (n_synapses,) ints."""
    post: np.ndarray
    """Postsynaptic indices, (n_synapses,) ints."""

    def __post_init__(self):
        pre = np.asarray(self.pre).ravel()
        post = np.asarray(self.post).ravel()
        if pre.shape != post.shape:
            raise ValueError(f"pre and post must have the same length, got {pre.size} and {post.size}")
        object.__setattr__(self, "pre", pre)
        object.__setattr__(self, "post", post)

    def generate(self, n_pre, n_post, rng, same_population):
        return check_index_array("pre", self.pre, n_pre), check_index_array("post", self.post, n_post)

    def expected_synapses(self, n_pre, n_post):
        return float(self.pre.size)


@dataclasses.dataclass(frozen=True, eq=False)
class FromSparse(Connectivity):
    """Synapses from a scipy sparse matrix of shape ``(n_post, n_pre)``.

    Stored entries become synapses (explicit zeros included); their values are
    the weights unless the projection is given ``weight``.
    """

    matrix: sp.spmatrix | sp.sparray
    """Sparse (n_post, n_pre) matrix; entry [post, pre] is the weight."""

    def __post_init__(self):
        if not sp.issparse(self.matrix):
            raise TypeError(f"matrix must be a scipy sparse matrix, got {type(self.matrix).__name__}")
        object.__setattr__(self, "matrix", sp.coo_matrix(self.matrix))

    def generate(self, n_pre, n_post, rng, same_population):
        if self.matrix.shape != (n_post, n_pre):
            raise ValueError(
                f"matrix must have shape (n_post, n_pre) = ({n_post}, {n_pre}), got {self.matrix.shape}"
            )
        return self.matrix.col.astype(np.int64), self.matrix.row.astype(np.int64)

    def weights_hint(self):
        return np.asarray(self.matrix.data, dtype=np.float64)

    def expected_synapses(self, n_pre, n_post):
        return float(self.matrix.nnz)
