r"""Batched merge of two resistive boxes by a dense Schur complement (nodal IR-drop solver).

A *box* is a part of a resistive network seen from its ports: the Schur complement ``S`` of
its Laplacian onto the port nodes (all inner nodes eliminated), a symmetric ``P x P`` matrix
with zero row sums.  Two boxes ``A`` and ``B`` that share ``k`` port nodes (``A``'s ports
``int_a[i]`` and ``B``'s ports ``int_b[i]`` are the same node) merge into one box whose ports
are ``A``'s ports ``ext_a`` followed by ``B``'s ports ``ext_b``:

.. math::

    K = A_{ii} + B_{ii} = L L^T, \qquad W = L^{-1} [A_{ie} \; B_{ie}], \qquad
    S' = \begin{pmatrix} A_{ee} & 0 \\ 0 & B_{ee} \end{pmatrix} - W^T W .

The diagonal of ``S'`` is then reset to minus the sum of its row's other entries (a
Laplacian's rows sum to zero), which removes the cancellation of the large wire
conductances in the diagonal.  ``pos[j]`` is where the ``j``-th merged port goes in the
output.  :func:`merge_boxes_reference` is the plain-numpy twin.
"""

import numpy as np
from numba import njit

__all__ = ["merge_boxes", "merge_boxes_reference"]


@njit(cache=True)
def merge_boxes(s, horizontal, ext_a, int_a, ext_b, int_b, pos, out):
    """Merge neighbouring boxes of the grid ``s`` (ny, nx, P, P) pairwise into ``out`` (module docstring).

    ``horizontal``: ``A = s[y, 2x]``, ``B = s[y, 2x + 1]`` merge into ``out[y, x]``; else
    ``A = s[2y, x]``, ``B = s[2y + 1, x]``.  ``out``: (my, mx, Pn, Pn), every entry written when ``pos``
    is a permutation of ``range(Pn)``.  Returns False if an interface matrix is not positive definite.
    """
    my, mx = out.shape[0], out.shape[1]
    k = int_a.size
    na = ext_a.size
    m = na + ext_b.size
    kii = np.empty((k, k))
    w = np.empty((m, k))  # row e: the e-th merged port's coupling to the interface, then L^-1 of it
    blk = np.empty((m, m))
    for q in range(my * mx):
        y, x = q // mx, q % mx
        if horizontal:
            a, b = s[y, 2 * x], s[y, 2 * x + 1]
        else:
            a, b = s[2 * y, x], s[2 * y + 1, x]
        o = out[y, x]
        for i in range(k):
            for j in range(k):
                kii[i, j] = a[int_a[i], int_a[j]] + b[int_b[i], int_b[j]]
        for j in range(k):  # Cholesky, lower triangle in place
            acc = kii[j, j]
            for p in range(j):
                acc -= kii[j, p] * kii[j, p]
            if not acc > 0.0:
                return False
            d = np.sqrt(acc)
            kii[j, j] = d
            for i in range(j + 1, k):
                acc = kii[i, j]
                for p in range(j):
                    acc -= kii[i, p] * kii[j, p]
                kii[i, j] = acc / d
        for e in range(m):
            for i in range(k):
                acc = a[ext_a[e], int_a[i]] if e < na else b[ext_b[e - na], int_b[i]]
                for p in range(i):
                    acc -= kii[i, p] * w[e, p]
                w[e, i] = acc / kii[i, i]
        for e in range(m):
            for f in range(e, m):
                acc = 0.0
                for i in range(k):
                    acc += w[e, i] * w[f, i]
                if e < na and f < na:
                    base = a[ext_a[e], ext_a[f]]
                elif e >= na and f >= na:
                    base = b[ext_b[e - na], ext_b[f - na]]
                else:
                    base = 0.0
                blk[e, f] = base - acc
                blk[f, e] = base - acc
        for e in range(m):
            acc = 0.0
            for f in range(m):
                if f != e:
                    acc += blk[e, f]
            blk[e, e] = -acc
            for f in range(m):
                o[pos[e], pos[f]] = blk[e, f]
    return True


def merge_boxes_reference(s, horizontal, ext_a, int_a, ext_b, int_b, pos, out):
    """Plain-numpy twin of :func:`merge_boxes` (a dense solve per pair of boxes)."""
    na = ext_a.size
    m = na + ext_b.size
    a = s[:, 0::2] if horizontal else s[0::2]
    b = s[:, 1::2] if horizontal else s[1::2]
    a = a.reshape((-1,) + s.shape[2:])
    b = b.reshape((-1,) + s.shape[2:])
    flat = out.reshape((-1,) + out.shape[2:])
    for q in range(a.shape[0]):
        kii = a[q][np.ix_(int_a, int_a)] + b[q][np.ix_(int_b, int_b)]
        if not np.all(np.linalg.eigvalsh(kii) > 0):
            return False
        e = np.concatenate([a[q][np.ix_(int_a, ext_a)], b[q][np.ix_(int_b, ext_b)]], axis=1)
        blk = np.zeros((m, m))
        blk[:na, :na] = a[q][np.ix_(ext_a, ext_a)]
        blk[na:, na:] = b[q][np.ix_(ext_b, ext_b)]
        blk -= e.T @ np.linalg.solve(kii, e)
        blk = 0.5 * (blk + blk.T)
        np.fill_diagonal(blk, 0.0)
        np.fill_diagonal(blk, -blk.sum(axis=1))
        flat[q][np.ix_(pos, pos)] = blk
    return True
