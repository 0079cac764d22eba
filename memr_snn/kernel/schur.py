r"""Boxes of a resistive grid and their pairwise merge by a dense Schur complement (nodal IR-drop solver).

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
conductances in the diagonal.  Only the upper triangle of the symmetric ``W^T W`` is formed.
The small merges write the merged box in merged order (``ext_a``, then ``ext_b``); the next level
reads it through the permutation :func:`stored_ports` keeps.  The large ones scatter it: ``pos[j]``
is where the ``j``-th merged port goes in the output.

* :func:`cell_boxes` -- every cell of the grid as a box (closed form; twin
  :func:`cell_boxes_reference`).
* :func:`leaf_boxes` -- whole leaf boxes in cache, from horizontal pairs of cells in closed form
  (twin :func:`leaf_boxes_reference`: cells, then whole levels of dense solves).
* :func:`merge_boxes` -- a whole level of small merges (twin :func:`merge_boxes_reference`).
* :func:`gather_interface` / :func:`scatter_merged` -- the gathers before and the scatter after
  the BLAS calls (Cholesky, triangular solve, symmetric rank-k update) of one large merge
  (twins :func:`gather_interface_reference`, :func:`scatter_merged_reference`).
"""

import numpy as np
from numba import njit

__all__ = ["cell_boxes", "cell_boxes_reference", "leaf_boxes", "leaf_boxes_reference", "level_ports",
           "merge_boxes", "merge_boxes_reference", "stored_ports",
           "gather_interface", "gather_interface_reference", "scatter_merged", "scatter_merged_reference"]


@njit(cache=True)
def cell_boxes(g, g_drv, g_sense, a_wire, b_wire, out):
    """Every cell of ``g`` (R x C) [S] as a box: the 4 x 4 Schur complement onto its ports into ``out``.

    Ports: left, right (word line), top, bottom (bit line).  A cell's word node ``u`` reaches its
    left and right ports through ``a_wire`` (``2 / r_wl``, half a segment), its bit node ``v`` its
    top and bottom ports through ``b_wire``; on the tile's edges the left port is the driver
    (``g_drv``), the bottom port the sense amplifier (``g_sense``), and the right and top ports are
    open (0 S).  ``u`` and ``v`` are joined by the cell ``g``.
    """
    _cells_of(g, 0, 0, g_drv, g_sense, a_wire, b_wire, out)
    return out


@njit(cache=True)
def _cells_of(g, r0, c0, g_drv, g_sense, a_wire, b_wire, out):
    """:func:`cell_boxes` of the cells ``g[r0:r0 + ny, c0:c0 + nx]`` (``out``: (ny, nx, 4, 4))."""
    n_r, n_c = g.shape
    for y in range(out.shape[0]):
        for x in range(out.shape[1]):
            r, c = r0 + y, c0 + x
            gc = g[r, c]
            al = g_drv if c == 0 else a_wire
            ar = 0.0 if c == n_c - 1 else a_wire
            bt = 0.0 if r == 0 else b_wire
            bb = g_sense if r == n_r - 1 else b_wire
            sa, sb = al + ar, bt + bb
            det = sa * sb + gc * (sa + sb)
            fa, fx, fb = (sb + gc) / det, gc / det, (sa + gc) / det
            p = (al, ar, bt, bb)
            for i in range(4):
                for j in range(4):
                    if i < 2 and j < 2:
                        f = fa
                    elif i >= 2 and j >= 2:
                        f = fb
                    else:
                        f = fx
                    out[y, x, i, j] = -p[i] * p[j] * f
                out[y, x, i, i] += p[i]


@njit(cache=True)
def _pairs_of(g, r0, c0, g_drv, g_sense, a_wire, b_wire, out):
    """The cells ``g[r0:r0 + ny, c0:c0 + 2 nx]`` merged in horizontal pairs, in closed form (``out``: (ny, nx, 6, 6)).

    Equal to :func:`cell_boxes` followed by one horizontal merge (ports in merged order: the left
    cell's left, top, bottom, the right cell's right, top, bottom).  Each cell's bit node ``v`` is a
    star (cell ``g``, top ``bt``, bottom ``bb``; ``s = g + bt + bb``): eliminated, it joins ``u`` to
    the top and bottom ports by ``g bt / s`` and ``g bb / s`` and the two ports by ``bt bb / s``.  The
    two word nodes ``u0``, ``u1`` (joined by the two half segments, ``a_wire / 2``) then form a 2 x 2
    system inverted in closed form: :math:`S = D - c c^T K^{-1}`.
    """
    n_r, n_c = g.shape
    gw = 0.5 * a_wire
    cc = np.empty(6)
    for y in range(out.shape[0]):
        r = r0 + y
        bt = 0.0 if r == 0 else b_wire
        bb = g_sense if r == n_r - 1 else b_wire
        for x in range(out.shape[1]):
            c = c0 + 2 * x
            g0, g1 = g[r, c], g[r, c + 1]
            al = g_drv if c == 0 else a_wire
            ar = 0.0 if c + 1 == n_c - 1 else a_wire
            s0, s1 = g0 + bt + bb, g1 + bt + bb
            t0, b0, x0 = g0 * bt / s0, g0 * bb / s0, bt * bb / s0
            t1, b1, x1 = g1 * bt / s1, g1 * bb / s1, bt * bb / s1
            d0 = al + t0 + b0 + gw
            d1 = ar + t1 + b1 + gw
            det = d0 * d1 - gw * gw
            k00, k01, k11 = d1 / det, gw / det, d0 / det
            cc[0], cc[1], cc[2], cc[3], cc[4], cc[5] = al, t0, b0, ar, t1, b1
            o = out[y, x]
            for p in range(6):
                for q in range(6):
                    kinv = k00 if (p < 3 and q < 3) else (k11 if (p >= 3 and q >= 3) else k01)
                    o[p, q] = -cc[p] * cc[q] * kinv
            o[1, 2] -= x0
            o[2, 1] -= x0
            o[4, 5] -= x1
            o[5, 4] -= x1
            for p in range(6):
                acc = 0.0
                for q in range(6):
                    if q != p:
                        acc += o[p, q]
                o[p, p] = -acc


@njit(cache=True)
def level_ports(horizontal, h, w):
    """Port index arrays of one merge level of ``h x w`` boxes, ports ordered left (h), right (h), top (w),
    bottom (w): ``ext_a, int_a, ext_b, int_b, pos`` (module docstring; the merged box is ``h x 2w`` or
    ``2h x w``)."""
    ar = np.arange
    if horizontal:
        int_a, int_b = ar(h, 2 * h), ar(h)
        ext_a = np.concatenate((ar(h), ar(2 * h, 2 * h + 2 * w)))
        ext_b = ar(h, 2 * h + 2 * w)
        pos = np.concatenate((ar(h), 2 * h + ar(w), 2 * h + 2 * w + ar(w),
                              h + ar(h), 2 * h + w + ar(w), 2 * h + 3 * w + ar(w)))
    else:
        int_a, int_b = ar(2 * h + w, 2 * h + 2 * w), ar(2 * h, 2 * h + w)
        ext_a = ar(2 * h + w)
        ext_b = np.concatenate((ar(2 * h), ar(2 * h + w, 2 * h + 2 * w)))
        pos = np.concatenate((ar(h), 2 * h + ar(h), 4 * h + ar(w),
                              h + ar(h), 3 * h + ar(h), 4 * h + w + ar(w)))
    return ext_a, int_a, ext_b, int_b, pos


@njit(cache=True)
def stored_ports(horizontal, h, w, perm):
    """:func:`level_ports` for boxes stored in the order ``perm`` (canonical port ``q`` at row ``perm[q]``).

    A merge writes its box in merged order (``A``'s ports ``ext_a``, then ``B``'s ``ext_b``), not in the
    canonical order, which saves a scatter per merge; the next level then indexes through ``perm``.
    Returns ``ext_a, int_a, ext_b, int_b`` (rows of the stored boxes), ``pos`` (canonical) and the merged
    boxes' ``perm`` (the inverse of ``pos``).
    """
    ext_a, int_a, ext_b, int_b, pos = level_ports(horizontal, h, w)
    new = np.empty(pos.size, dtype=np.int64)
    for e in range(pos.size):
        new[pos[e]] = e
    return perm[ext_a], perm[int_a], perm[ext_b], perm[int_b], pos, new


@njit(cache=True)
def leaf_boxes(g, g_drv, g_sense, a_wire, b_wire, leaf, out):
    """The grid ``g`` (R x C) [S] cut into ``leaf x leaf`` boxes, each reduced onto its ``4 leaf`` ports.

    Per box, in a small scratch: its cells merged in horizontal pairs in closed form (equal to
    :func:`cell_boxes` and one merge, with the tile's edges where the box touches them), then pairwise
    merges across rows and columns in turn (the order of ``NodalTile``'s nested solve; inside, boxes
    are stored in merged order, see :func:`stored_ports`).
    ``leaf``: a power of two >= 2 dividing ``R`` and ``C``; ``out``: (R / leaf, C / leaf, 4 leaf, 4 leaf),
    ports in the canonical order.  Returns False if an interface matrix is not positive definite.
    """
    ports = []
    bufs = [np.empty((leaf, leaf // 2, 6, 6))]  # the cells merged in horizontal pairs (closed form)
    scratch = []
    _, _, _, _, _, perm = stored_ports(True, 1, 1, np.arange(4))
    h, w = 1, 2
    while h < leaf:
        for horizontal in (False, True):
            if h == leaf:
                break
            ext_a, int_a, ext_b, int_b, _, perm = stored_ports(horizontal, h, w, perm)
            ports.append((ext_a, int_a, ext_b, int_b))
            h, w = (h, 2 * w) if horizontal else (2 * h, w)
            bufs.append(np.empty((leaf // h, leaf // w, 2 * h + 2 * w, 2 * h + 2 * w)))
            k, m = int_a.size, ext_a.size + ext_b.size
            scratch.append((np.empty((k, k)), np.empty((k, m)), np.empty(m)))
    n_lev = len(ports)
    for ly in range(g.shape[0] // leaf):
        for lx in range(g.shape[1] // leaf):
            _pairs_of(g, ly * leaf, lx * leaf, g_drv, g_sense, a_wire, b_wire, bufs[0])
            for lev in range(n_lev):
                ext_a, int_a, ext_b, int_b = ports[lev]
                kii, wk, acc = scratch[lev]
                s, o = bufs[lev], bufs[lev + 1]
                for y in range(o.shape[0]):
                    for x in range(o.shape[1]):
                        if lev % 2 == 1:
                            a, b = s[y, 2 * x], s[y, 2 * x + 1]
                        else:
                            a, b = s[2 * y, x], s[2 * y + 1, x]
                        if not _merge_pair(a, b, ext_a, int_a, ext_b, int_b, o[y, x], kii, wk, acc):
                            return False
            box, dst = bufs[n_lev][0, 0], out[ly, lx]
            for q in range(perm.size):
                for r in range(perm.size):
                    dst[q, r] = box[perm[q], perm[r]]
    return True


def leaf_boxes_reference(g, g_drv, g_sense, a_wire, b_wire, leaf):
    """Plain-numpy twin of :func:`leaf_boxes`: :func:`cell_boxes_reference` of the whole grid, then
    whole levels of :func:`merge_boxes_reference` (returns the ``(R / leaf, C / leaf, P, P)`` array)."""
    s = cell_boxes_reference(g, g_drv, g_sense, a_wire, b_wire)
    h = w = 1
    while h < leaf:
        for horizontal in (True, False):
            ext_a, int_a, ext_b, int_b, pos = level_ports(horizontal, h, w)
            h, w = (h, 2 * w) if horizontal else (2 * h, w)
            merged = np.empty((g.shape[0] // h, g.shape[1] // w, 2 * h + 2 * w, 2 * h + 2 * w))
            if not merge_boxes_reference(s, horizontal, ext_a, int_a, ext_b, int_b, merged):
                raise np.linalg.LinAlgError("an interface matrix is not positive definite")
            s = np.empty_like(merged)
            s[..., pos[:, None], pos] = merged  # to the canonical port order
    return s


def cell_boxes_reference(g, g_drv, g_sense, a_wire, b_wire):
    """Plain-numpy twin of :func:`cell_boxes` (returns the ``(R, C, 4, 4)`` array)."""
    n_r, n_c = g.shape
    a_l = np.full((n_r, n_c), a_wire)
    a_l[:, 0] = g_drv
    a_r = np.full((n_r, n_c), a_wire)
    a_r[:, -1] = 0.0
    b_t = np.full((n_r, n_c), b_wire)
    b_t[0, :] = 0.0
    b_b = np.full((n_r, n_c), b_wire)
    b_b[-1, :] = g_sense
    sa, sb = a_l + a_r, b_t + b_b
    det = sa * sb + g * (sa + sb)
    a = np.stack([a_l, a_r], -1)
    b = np.stack([b_t, b_b], -1)
    s = np.empty((n_r, n_c, 4, 4))
    s[..., :2, :2] = -a[..., :, None] * a[..., None, :] * ((sb + g) / det)[..., None, None]
    s[..., :2, 2:] = -a[..., :, None] * b[..., None, :] * (g / det)[..., None, None]
    s[..., 2:, :2] = np.swapaxes(s[..., :2, 2:], -1, -2)
    s[..., 2:, 2:] = -b[..., :, None] * b[..., None, :] * ((sa + g) / det)[..., None, None]
    i4 = np.arange(4)
    s[..., i4, i4] += np.concatenate([a, b], -1)
    return s


@njit(cache=True)
def _cholesky_lower(kii):
    """In-place lower Cholesky factor of ``kii`` (upper triangle left as is); False if not positive definite."""
    k = kii.shape[0]
    for j in range(k):
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
    return True


@njit(cache=True)
def merge_boxes(s, horizontal, ext_a, int_a, ext_b, int_b, out):
    """Merge neighbouring boxes of the grid ``s`` (ny, nx, P, P) pairwise into ``out`` (module docstring).

    ``horizontal``: ``A = s[y, 2x]``, ``B = s[y, 2x + 1]`` merge into ``out[y, x]``; else
    ``A = s[2y, x]``, ``B = s[2y + 1, x]``.  ``out``: (my, mx, m, m), the merged ports in merged order
    (``A``'s ``ext_a``, then ``B``'s ``ext_b``).  Returns False if an interface matrix is not positive definite.
    """
    k, m = int_a.size, ext_a.size + ext_b.size
    kii, w, acc = np.empty((k, k)), np.empty((k, m)), np.empty(m)
    for y in range(out.shape[0]):
        for x in range(out.shape[1]):
            if horizontal:
                a, b = s[y, 2 * x], s[y, 2 * x + 1]
            else:
                a, b = s[2 * y, x], s[2 * y + 1, x]
            if not _merge_pair(a, b, ext_a, int_a, ext_b, int_b, out[y, x], kii, w, acc):
                return False
    return True


@njit(cache=True)
def _merge_pair(a, b, ext_a, int_a, ext_b, int_b, o, kii, w, acc):
    """Merge the boxes ``a`` and ``b`` into ``o`` (m x m, merged order); ``kii`` (k, k), ``w`` (k, m), ``acc`` (m):
    scratch.

    Every inner loop runs from 0 along a contiguous row (``w[i, :]``, ``blk[e, :]``) so that LLVM
    vectorises it (a loop over ``range(e, m)`` is not vectorised); the updates of a row are applied
    four at a time while it is in registers, each sum in the order of the plain formula
    (``i = 0 .. k - 1``, no fused multiply-add), so the result does not depend on the blocking.
    """
    k = int_a.size
    na = ext_a.size
    m = na + ext_b.size
    nb = m - na
    for i in range(k):
        ai, bi = int_a[i], int_b[i]
        for j in range(k):
            kii[i, j] = a[ai, int_a[j]] + b[bi, int_b[j]]
        for e in range(na):
            w[i, e] = a[ai, ext_a[e]]
        for e in range(nb):
            w[i, na + e] = b[bi, ext_b[e]]
    if not _cholesky_lower(kii):
        return False
    for i in range(k):  # forward substitution, one row of W at a time
        _rows_axpy(w, i, kii[i], i, 0, m)
        d = 1.0 / kii[i, i]
        for e in range(m):
            w[i, e] *= d
    for e in range(m):  # upper triangle, row by row: the base block diagonal ...
        if e < na:
            ae = ext_a[e]
            for j in range(na - e):
                o[e, e + j] = a[ae, ext_a[e + j]]
            for j in range(nb):
                o[e, na + j] = 0.0
        else:
            be = ext_b[e - na]
            for j in range(m - e):
                o[e, e + j] = b[be, ext_b[e - na + j]]
    _syrk_upper(w, k, m, o)  # ... minus the symmetric rank-k update
    _mirror_upper(o, m)
    _diagonal(o, m, acc)
    return True


@njit(cache=True)
def _rows_axpy(w, r, c, n, f0, m):
    """``w[r, f0:m] -= sum_p c[p] w[p, f0:m]`` over ``p = 0 .. n - 1`` in that order, four rows per pass."""
    cnt = m - f0
    p = 0
    while p + 4 <= n:
        c0, c1, c2, c3 = c[p], c[p + 1], c[p + 2], c[p + 3]
        for j in range(cnt):
            f = f0 + j
            w[r, f] = (((w[r, f] - c0 * w[p, f]) - c1 * w[p + 1, f]) - c2 * w[p + 2, f]) - c3 * w[p + 3, f]
        p += 4
    while p < n:
        c0 = c[p]
        for j in range(cnt):
            f = f0 + j
            w[r, f] = w[r, f] - c0 * w[p, f]
        p += 1


@njit(cache=True)
def _syrk_upper(w, k, m, blk):
    """``blk[e, f] -= sum_i w[i, e] w[i, f]`` for ``f >= e`` (``i = 0 .. k - 1`` in order), four ``i`` per pass."""
    for e in range(m):
        cnt = m - e
        i = 0
        while i + 4 <= k:
            c0, c1, c2, c3 = w[i, e], w[i + 1, e], w[i + 2, e], w[i + 3, e]
            for j in range(cnt):
                f = e + j
                blk[e, f] = (((blk[e, f] - c0 * w[i, f]) - c1 * w[i + 1, f]) - c2 * w[i + 2, f]) - c3 * w[i + 3, f]
            i += 4
        while i < k:
            c0 = w[i, e]
            for j in range(cnt):
                f = e + j
                blk[e, f] = blk[e, f] - c0 * w[i, f]
            i += 1


@njit(cache=True)
def _mirror_upper(blk, m):
    """Copy the upper triangle of ``blk`` onto its lower one, in 32 x 32 tiles (cache)."""
    for e0 in range(0, m, 32):
        for f0 in range(e0, m, 32):
            for e in range(e0, min(e0 + 32, m)):
                for f in range(max(f0, e + 1), min(f0 + 32, m)):
                    blk[f, e] = blk[e, f]


@njit(cache=True)
def _diagonal(blk, m, acc):
    """Reset the diagonal of the symmetric ``blk`` to minus its row's other entries, summed as column sums
    (contiguous rows; ``acc``: scratch of at least ``m``)."""
    for f in range(m):
        acc[f] = 0.0
    for e in range(m):
        blk[e, e] = 0.0
    for e in range(m):
        for f in range(m):
            acc[f] += blk[e, f]
    for e in range(m):
        blk[e, e] = -acc[e]


def merge_boxes_reference(s, horizontal, ext_a, int_a, ext_b, int_b, out):
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
        flat[q] = blk
    return True


@njit(cache=True)
def gather_interface(a, b, int_a, int_b, ext_a, ext_b, kii, e_t):
    """One large merge's inputs: ``kii = A_ii + B_ii`` (k x k) and ``e_t`` (m x k), row ``j`` the
    ``j``-th merged port's coupling to the interface (``A``'s ports ``ext_a``, then ``B``'s ``ext_b``)."""
    k = int_a.size
    na = ext_a.size
    for i in range(k):
        for j in range(k):
            kii[i, j] = a[int_a[i], int_a[j]] + b[int_b[i], int_b[j]]
    for e in range(na):
        ae = a[ext_a[e]]
        for i in range(k):
            e_t[e, i] = ae[int_a[i]]
    for e in range(ext_b.size):
        be = b[ext_b[e]]
        for i in range(k):
            e_t[na + e, i] = be[int_b[i]]


def gather_interface_reference(a, b, int_a, int_b, ext_a, ext_b):
    """Plain-numpy twin of :func:`gather_interface` (returns ``kii, e_t``)."""
    kii = a[np.ix_(int_a, int_a)] + b[np.ix_(int_b, int_b)]
    e_t = np.concatenate([a[np.ix_(ext_a, int_a)], b[np.ix_(ext_b, int_b)]], axis=0)
    return kii, e_t


@njit(cache=True)
def scatter_merged(a, b, ext_a, ext_b, wtw, pos, o):
    """One large merge's output: ``S' = diag(A_ee, B_ee) - W^T W`` from the upper triangle of ``wtw``
    (``wtw[e, f]``, ``e <= f``), written to ``o[pos][:, pos]``, diagonal reset to minus the row sums.

    ``o``: the merged box, zero outside ``o[pos][:, pos]`` (its rows are summed whole).  One pass in
    32 x 32 tiles reads ``wtw`` column by column (contiguous for the Fortran array ``dsyrk`` returns)
    and writes both mirror images; a second sums ``o``'s rows as column sums (contiguous).
    """
    na = ext_a.size
    m = na + ext_b.size
    for f0 in range(0, m, 32):
        for e0 in range(0, f0 + 1, 32):
            for f in range(f0, min(f0 + 32, m)):
                pf = pos[f]
                e1 = min(e0 + 32, f)
                if f < na:  # both in A: A's row ext_a[f] (boxes are symmetric)
                    ra = a[ext_a[f]]
                    for e in range(e0, e1):
                        v = ra[ext_a[e]] - wtw[e, f]
                        o[pf, pos[e]] = v
                        o[pos[e], pf] = v
                else:
                    for e in range(e0, min(e1, na)):  # A to B: no base
                        v = -wtw[e, f]
                        o[pf, pos[e]] = v
                        o[pos[e], pf] = v
                    rb = b[ext_b[f - na]]
                    for e in range(max(e0, na), e1):
                        v = rb[ext_b[e - na]] - wtw[e, f]
                        o[pf, pos[e]] = v
                        o[pos[e], pf] = v
    n = o.shape[0]
    acc = np.zeros(n)
    for e in range(m):
        o[pos[e], pos[e]] = 0.0
    for e in range(m):
        row = o[pos[e]]
        for f in range(n):
            acc[f] += row[f]
    for e in range(m):
        o[pos[e], pos[e]] = -acc[pos[e]]


def scatter_merged_reference(a, b, ext_a, ext_b, wtw, pos, o):
    """Plain-numpy twin of :func:`scatter_merged` (reads the upper triangle of ``wtw`` only)."""
    na = ext_a.size
    up = np.triu(wtw)
    full = up + np.triu(up, 1).T
    blk = -full
    blk[:na, :na] += a[np.ix_(ext_a, ext_a)]
    blk[na:, na:] += b[np.ix_(ext_b, ext_b)]
    np.fill_diagonal(blk, 0.0)
    np.fill_diagonal(blk, -blk.sum(axis=1))
    o[np.ix_(pos, pos)] = blk
