# Size: about 720 lines because NodalTile, its sparse reference solve and the nested Schur-complement solve
# share one node numbering and are tested against each other; splitting would export the internals.
r"""Nodal IR-drop solver for one crossbar tile (Kirchhoff's current law on every wire node).

A tile has ``R`` word lines (rows) and ``C`` bit lines (columns).  Cell ``(r, c)``
joins word-line node :math:`u_{rc}` to bit-line node :math:`v_{rc}`.  Neighbouring
nodes of a word line are joined by one segment of ``r_wl`` ohms, of a bit line by
``r_bl`` ohms.  Word line ``r`` is driven from its left end: its terminal (an ideal
source) reaches :math:`u_{r0}` through ``r_driver + r_wl``.  Bit line ``c`` is sensed
at its bottom end: :math:`v_{R-1,c}` reaches its terminal (the sense amplifier's
virtual ground) through ``r_bl + r_sense``.  The cell at row ``r``, column ``c`` is
thus ``c + 1`` word-line and ``R - r`` bit-line segments away from its terminals,
the geometry of the series approximation :func:`series_conductance`.

With the free node voltages :math:`x` and the terminal voltages :math:`t`, the
branch conductances form a Laplacian :math:`L` and KCL reads

.. math::

    L_{ff}\,x = -L_{ft}\,t, \qquad
    I_{term} = L_{tf}\,x + L_{tt}\,t ,

(:math:`I_{term}` the current each terminal pushes into the tile; a column's read
current is :math:`-I_{term}` at its sense terminal).  A zero-resistance line merges
its nodes (and, with a zero end resistance, its terminal) into one node.

Cells:

* ``"1R"`` -- a linear conductance :math:`G`.
* ``"1T1R"`` -- the device in series with an access transistor: :math:`G/(1 + G r_{on})`
  when its row's gate is on, :math:`G g_{off}/(G + g_{off})` when off (``g_off`` the
  transistor's off-state leakage conductance).
* ``"1S1R"`` -- the device with a selector, lumped as
  :math:`i(V) = G\,V_{ref}\,\sinh(V/V_0)/\sinh(V_{ref}/V_0)`: the cell conducts
  :math:`G V_{ref}` at :math:`V_{ref}` and far less at lower bias
  (:math:`I(V_{ref})/I(V_{ref}/2) = 2\cosh(V_{ref}/2V_0)`).  KCL is then nonlinear and
  is solved by Newton's method on the nodal equations (Jacobian
  :math:`L_{ff} + M\,\mathrm{diag}(i'(V))\,M^T`, one sparse LU per iteration, steps
  limited to :math:`2V_0` per cell).

Read modes:

* **row-parallel** (:meth:`NodalTile.read`) -- every word line driven (its input
  voltage, 0 V for an idle row), every bit line held at virtual ground; the outputs are
  the column currents.  For linear cells the tile is reduced onto its ``R + C``
  terminals once (the port admittance :math:`Y`, below) and every read is the product
  :math:`i = -Y_{ct} v`; :meth:`NodalTile.transfer` gives the whole transfer matrix
  :math:`T = -Y_{rc}` with :math:`i = v T` (every read is a superposition of single-row
  reads).  Node voltages (``return_voltages``) come from a sparse LU of :math:`L_{ff}`
  (``scipy.sparse.linalg.splu`` on a nested-dissection ordering of the grid).

* **single-cell, floating** (:meth:`NodalTile.floating_conductance`) -- one word line
  driven, one bit line sensed, all other lines floating, so sneak paths through the
  unselected cells add to the read.  For linear cells the tile is reduced onto its
  ``R + C`` terminals (Kron reduction :math:`Y = L_{tt} - L_{tf}L_{ff}^{-1}L_{ft}`: nested
  Schur complements, or with ``solver="splu"`` one factorisation and ``R + C`` solves) and each
  read is the two-terminal conductance
  :math:`1/((e_r - e_c)^T Y^{+} (e_r - e_c))`.  A ``"1T1R"`` tile opens the gates of
  the selected row only; with ``g_off = 0`` the unselected bit lines then carry no
  current and the read is the single series path.  ``"1S1R"`` tiles solve one Newton
  problem per cell.

Nested Schur complements (``solver="nested"``, the default for linear cells when both wires
have resistance): the grid is cut into boxes, each described by the Schur complement of its
Laplacian onto its *ports*.  A port is the midpoint of a wire segment cut by the box's edge
(joined to the box's end node by ``2 / r`` siemens, half the segment), or on the tile's edge
a terminal (driver, sense amplifier; the open far ends of the lines get a port joined by
0 S).  A single cell with its word node ``u``, bit node ``v`` and four ports is reduced in
closed form; neighbouring boxes then merge pairwise -- their shared ports are eliminated,
:math:`S' = S_{ee} - S_{ei} S_{ii}^{-1} S_{ie}` (:mod:`memr_snn.kernel.schur`) -- alternately
across columns and rows until one box, the whole tile, is left; its ports on the left and
bottom edges are the terminals, so its Schur complement is :math:`Y`.  Dimensions are padded
to powers of two with cells of 0 S (padded rows above the tile with their own drivers,
padded columns right of it with their own sense amplifiers: they carry no current).  The
diagonal of every merged box is reset to minus its row's other entries (its rows sum to
zero), which keeps the small cell currents out of the large wire conductances' rounding.
Only the upper triangle of each symmetric update is formed: 16 x 16 boxes are reduced in cache by
one numba kernel from horizontal pairs of cells solved in closed form, merges with fewer than 64
shared ports run in a numba kernel, larger ones through LAPACK/BLAS (``potrf``, ``trsm``, ``syrk``;
the ports on the tile's open top and right edges are dropped from them).  Merged boxes are stored in
merged order and the next level indexes through that permutation
(:func:`memr_snn.kernel.schur.stored_ports`).  The first :meth:`NodalTile.read` builds ``Y`` (no cheaper
single-vector solve is known here: one sparse LU solve costs more than the whole reduction);
``solver="splu"`` is the sparse-LU reference (tests: equal to ``1e-9`` relative; measured ``2e-12``).
"""

from __future__ import annotations

import dataclasses
import functools
import math

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as sla
from scipy.linalg.blas import dsyrk, dtrsm
from scipy.linalg.lapack import dpotrf
from scipy.sparse.csgraph import connected_components

from .._validation import check_nonnegative, check_positive
from ..kernel.schur import gather_interface, leaf_boxes, merge_boxes, scatter_merged, stored_ports

__all__ = [
    "CELL_TYPES", "TileCircuit", "NodalTile", "series_conductance", "effective_conductance",
    "nested_dissection_order", "nested_port_admittance", "selector_v0", "SOLVERS",
]

CELL_TYPES = ("1R", "1T1R", "1S1R")
SCHEMES = ("grounded", "floating")
SOLVERS = ("auto", "nested", "splu")
#: interface size from which a merge runs box by box through BLAS instead of the numba kernel
_BLAS_FROM = 64
#: side of the boxes that are reduced from their cells in one go, in cache (numba kernel)
_LEAF = 16


@dataclasses.dataclass(frozen=True)
class TileCircuit:
    """Wires, periphery and cell type of one tile (see the module docstring)."""

    r_wl: float = 1.0
    """Word-line resistance of one segment between neighbouring cells [Ohm], >= 0."""
    r_bl: float = 1.0
    """Bit-line resistance of one segment between neighbouring cells [Ohm], >= 0."""
    r_driver: float = 0.0
    """Output resistance of each word-line driver [Ohm], >= 0."""
    r_sense: float = 0.0
    """Input resistance of each bit-line sense amplifier (virtual ground) [Ohm], >= 0."""
    cell: str = "1R"
    """``"1R"``, ``"1T1R"`` or ``"1S1R"``."""
    r_on: float = 0.0
    """1T1R: on-resistance of the access transistor [Ohm], >= 0."""
    g_off: float = 0.0
    """1T1R: off-state conductance of the access transistor [S], >= 0."""
    v0: float = 0.02
    """1S1R: selector voltage scale of ``sinh(V / v0)`` [V], > 0."""
    v_ref: float = 0.2
    """1S1R: voltage at which a cell of conductance ``G`` carries ``G v_ref`` [V], > 0."""

    def __post_init__(self) -> None:
        for name in ("r_wl", "r_bl", "r_driver", "r_sense", "r_on"):
            check_nonnegative(name, getattr(self, name), "Ohm")
        check_nonnegative("g_off", self.g_off, "S")
        if self.cell not in CELL_TYPES:
            raise ValueError(f"cell must be one of {list(CELL_TYPES)}, got {self.cell!r}")
        check_positive("v0", self.v0, "V")
        check_positive("v_ref", self.v_ref, "V")
        if self.v_ref / self.v0 > 600.0:
            raise ValueError(f"v_ref / v0 must be <= 600 (sinh overflows beyond), got {self.v_ref / self.v0!r}")

    def cell_current(self, g: np.ndarray, v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """1S1R cell current [A] and its derivative [S] at cell voltage ``v`` [V]."""
        k = g * self.v_ref / math.sinh(self.v_ref / self.v0)
        a = np.clip(v / self.v0, -700.0, 700.0)
        return k * np.sinh(a), k * np.cosh(a) / self.v0


def selector_v0(nonlinearity: float, v_read: float) -> float:
    """Selector scale ``v0`` whose 1S1R cell has ``I(v_read) / I(v_read / 2) = nonlinearity`` [V].

    ``2 cosh(v_read / (2 v0)) = nonlinearity``; defined for ``nonlinearity > 2`` (a linear cell has 2).
    """
    if not nonlinearity > 2.0:
        raise ValueError(f"nonlinearity must be > 2 (I(V)/I(V/2) of a linear cell is 2), got {nonlinearity!r}")
    return v_read / (2.0 * math.acosh(nonlinearity / 2.0))


def series_conductance(g: np.ndarray, circuit: TileCircuit) -> np.ndarray:
    """First-order read conductance ``G / (1 + G R_s)`` of every cell (the ``"series"`` approximation).

    :math:`R_s = r_{driver} + (c + 1) r_{wl} + (R - r) r_{bl} + r_{sense}` is the wire on the cell's own
    path; the currents of the other cells sharing its lines are neglected.  (1T1R cells add ``r_on``.)
    """
    g = np.asarray(g, dtype=np.float64)
    n_r, n_c = g.shape
    r = np.arange(n_r)[:, None]
    c = np.arange(n_c)[None, :]
    rs = circuit.r_driver + (c + 1) * circuit.r_wl + (n_r - r) * circuit.r_bl + circuit.r_sense
    if circuit.cell == "1T1R":
        rs = rs + circuit.r_on
    return g / (1.0 + g * rs)


def nested_dissection_order(word: np.ndarray, bit: np.ndarray, n_free: int, leaf: int = 8) -> np.ndarray:
    """Elimination order of the free nodes: geometric nested dissection of the tile's grid.

    A vertical cut through column ``m`` separates the tile by its word-line nodes
    ``u[:, m]`` alone, a horizontal cut through row ``m`` by its bit-line nodes
    ``v[m, :]``; the two halves are ordered first (recursively), the separator last.
    On a 512 x 512 tile this gives about half the fill of SuperLU's minimum-degree orderings.
    """
    n_r, n_c = word.shape
    reserved = np.zeros(n_free + 1, dtype=bool)
    reserved[n_free] = True  # the sink of every node that is not free
    wf = np.where(word < n_free, word, n_free)
    bf = np.where(bit < n_free, bit, n_free)
    out: list[np.ndarray] = []

    def cut(ids: np.ndarray) -> np.ndarray:
        ids = np.unique(ids)
        ids = ids[~reserved[ids]]
        reserved[ids] = True
        return ids

    stack: list = [(0, n_r, 0, n_c)]
    while stack:
        item = stack.pop()
        if isinstance(item, np.ndarray):  # a separator, after both its halves
            out.append(item)
            continue
        r0, r1, c0, c1 = item
        if (r1 - r0) * (c1 - c0) <= leaf * leaf or (r1 - r0 < 2 and c1 - c0 < 2):
            out.append(cut(np.stack([wf[r0:r1, c0:c1], bf[r0:r1, c0:c1]], axis=-1).ravel()))
            continue
        if c1 - c0 >= r1 - r0:
            m = (c0 + c1) // 2
            stack += [cut(wf[r0:r1, m]), (r0, r1, m, c1), (r0, r1, c0, m)]
        else:
            m = (r0 + r1) // 2
            stack += [cut(bf[m, c0:c1]), (m, r1, c0, c1), (r0, m, c0, c1)]
    order = np.concatenate(out) if out else np.zeros(0, dtype=np.int64)
    if order.size != n_free:
        raise AssertionError("nested dissection lost nodes")  # pragma: no cover - internal invariant
    return order.astype(np.int64)


def _merge_large(a: np.ndarray, b: np.ndarray, ext_a, int_a, ext_b, int_b, pos, o: np.ndarray) -> None:
    """One merge by LAPACK/BLAS: Cholesky of the interface, triangular solve, symmetric rank-k update."""
    k, m = int_a.size, ext_a.size + ext_b.size
    kii = np.empty((k, k))
    e_t = np.empty((m, k))
    gather_interface(a, b, int_a, int_b, ext_a, ext_b, kii, e_t)
    lo, info = dpotrf(kii.T, lower=1, clean=0, overwrite_a=1)  # kii is symmetric: its transpose is Fortran
    if info != 0:  # pragma: no cover - every interface port reaches a terminal through a wire
        raise np.linalg.LinAlgError("nested IR-drop solve: an interface matrix is not positive definite")
    wt = dtrsm(1.0, lo, e_t.T, side=0, lower=1, overwrite_b=1)  # W = L^-1 E, (k, m) Fortran
    wtw = dsyrk(1.0, wt, trans=1, lower=0)  # upper triangle of W^T W
    scatter_merged(a, b, ext_a, ext_b, wtw, pos, o)


def nested_port_admittance(gc: np.ndarray, r_wl: float, r_bl: float, g_drv: float, g_sense: float) -> np.ndarray:
    """Port admittance ``Y`` (rows' terminals first, then columns') by nested Schur complements [S].

    ``gc``: cell conductances (R x C) [S]; ``r_wl``, ``r_bl`` > 0 [Ohm] per segment; ``g_drv``
    (``1 / (r_driver + r_wl)``) and ``g_sense`` (``1 / (r_bl + r_sense)``) join the terminals to the
    first word-line and last bit-line nodes [S].  See the module docstring.
    """
    n_r, n_c = gc.shape
    rp, cp = 1 << max(0, (n_r - 1).bit_length()), 1 << max(0, (n_c - 1).bit_length())
    rp, cp = max(rp, 2), max(cp, 2)
    pad = rp - n_r
    g = np.zeros((rp, cp))
    g[pad:, :n_c] = gc
    leaf = min(_LEAF, rp, cp)
    # the level sequence (box grid and box size after each merge), to size two buffers used in turn:
    # fresh arrays per level would cost a page fault per 4 KiB
    levels, ny, nx, h, w = [], rp // leaf, cp // leaf, leaf, leaf
    while ny * nx > 1:
        horiz = nx > 1 and (ny == 1 or w <= h)
        ny, nx, h, w = (ny, nx // 2, h, 2 * w) if horiz else (ny // 2, nx, 2 * h, w)
        levels.append((horiz, ny, nx, h, w))
    size = max([16 * rp * cp] + [my * mx * (2 * nh + 2 * nw) ** 2 for _, my, mx, nh, nw in levels])
    bufs = [np.empty(size), np.empty(size)]
    s = bufs[0][:16 * rp * cp].reshape(rp // leaf, cp // leaf, 4 * leaf, 4 * leaf)
    if not leaf_boxes(g, g_drv, g_sense, 2.0 / r_wl, 2.0 / r_bl, leaf, s):  # pragma: no cover - as below
        raise np.linalg.LinAlgError("nested IR-drop solve: an interface matrix is not positive definite")
    h = w = leaf
    perm = np.arange(4 * leaf)  # boxes are stored in merged order: canonical port q at row perm[q]
    for n_lev, (horiz, my, mx, nh, nw) in enumerate(levels, start=1):
        ext_a, int_a, ext_b, int_b, pos, new_perm = stored_ports(horiz, h, w, perm)
        pn = 2 * nh + 2 * nw
        out = bufs[n_lev % 2][:my * mx * pn * pn].reshape(my, mx, pn, pn)
        if int_a.size < _BLAS_FROM:
            ok = merge_boxes(s, horiz, ext_a, int_a, ext_b, int_b, out)
            if not ok:  # pragma: no cover - every interface port reaches a terminal through a wire
                raise np.linalg.LinAlgError("nested IR-drop solve: an interface matrix is not positive definite")
        else:
            na = ext_a.size
            kinds = {}  # per (top edge, right edge): the live ports' indices
            for top in (False, True):
                for right in (False, True):
                    dead = np.zeros(pn, dtype=bool)  # ports on the tile's open top and right edges
                    dead[2 * nh:2 * nh + nw] = top
                    dead[nh:2 * nh] = right
                    live = ~dead[pos]
                    kinds[top, right] = (ext_a[live[:na]], ext_b[live[na:]], np.flatnonzero(live),
                                         np.flatnonzero(~live))
            for iy in range(my):
                for ix in range(mx):
                    e_a, e_b, keep, gone = kinds[iy == 0, ix == mx - 1]
                    o = out[iy, ix]
                    o[gone, :] = 0.0  # the merge writes the live rows and columns only
                    o[:, gone] = 0.0
                    a, b = (s[iy, 2 * ix], s[iy, 2 * ix + 1]) if horiz else (s[2 * iy, ix], s[2 * iy + 1, ix])
                    _merge_large(a, b, e_a, int_a, e_b, int_b, keep, o)
        s, h, w, perm = out, nh, nw, new_perm
    s = s[0, 0]
    idx = perm[np.concatenate([pad + np.arange(n_r), 2 * h + w + np.arange(n_c)])]
    return s[np.ix_(idx, idx)]


class NodalTile:
    """One tile's Kirchhoff system for programmed conductances ``g`` (``R x C`` [S]).

    Parameters
    ----------
    g : ndarray, shape (R, C)
        Device conductance of every cell [S] (for 1S1R: its conductance at ``v_ref``).
    circuit : TileCircuit
    gates : ndarray of bool, shape (R,), optional
        1T1R: rows whose access transistors are on (default all, as in a row-parallel read).
    solver : str
        Linear cells: ``"nested"`` (nested Schur complements onto the terminals), ``"splu"`` (sparse
        LU, the reference) or ``"auto"`` (default: nested when both wires have resistance, else splu).

    The port admittance or factorisation is made on first use and kept: build a new
    ``NodalTile`` when the conductances change.
    """

    def __init__(self, g, circuit: TileCircuit, gates=None, solver: str = "auto"):
        g = np.array(g, dtype=np.float64)
        if g.ndim != 2 or g.shape[0] < 1 or g.shape[1] < 1:
            raise ValueError(f"g must be a 2-D (rows, cols) array, got shape {g.shape}")
        if not np.all(np.isfinite(g) & (g >= 0)):
            raise ValueError(f"g must be finite and >= 0 [S], got {g[~(np.isfinite(g) & (g >= 0))].flat[0]!r}")
        if not isinstance(circuit, TileCircuit):
            raise TypeError(f"circuit must be a TileCircuit, got {circuit!r}")
        self.g, self.circuit = g, circuit
        self.shape = g.shape
        n_r, n_c = g.shape
        self.gates = np.ones(n_r, dtype=bool) if gates is None else np.asarray(gates, dtype=bool)
        if self.gates.shape != (n_r,):
            raise ValueError(f"gates must have shape ({n_r},), got {self.gates.shape}")
        self.nonlinear = circuit.cell == "1S1R"
        if solver not in SOLVERS:
            raise ValueError(f"solver must be one of {list(SOLVERS)}, got {solver!r}")
        nested_ok = not self.nonlinear and circuit.r_wl > 0 and circuit.r_bl > 0
        if solver == "nested" and not nested_ok:
            raise ValueError("solver='nested' needs linear cells (1R, 1T1R) and r_wl > 0 and r_bl > 0, got "
                             f"cell={circuit.cell!r}, r_wl={circuit.r_wl!r}, r_bl={circuit.r_bl!r}")
        self.solver = "nested" if (solver == "auto" and nested_ok) else ("splu" if solver == "auto" else solver)
        self._y = None
        self._build_nodes()
        self._lu = None
        self._order = None

    # ------------------------------------------------------------------ graph
    def _build_nodes(self) -> None:
        c = self.circuit
        n_r, n_c = self.shape
        branches: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        n = 0
        if c.r_wl > 0:
            word = np.arange(n_r * n_c).reshape(n_r, n_c)
            n = n_r * n_c
        elif c.r_driver > 0:
            word = np.repeat(np.arange(n_r)[:, None], n_c, axis=1)
            n = n_r
        else:
            word = None  # merged into the terminals, numbered below
        n_word = n
        if c.r_bl > 0:
            bit = n + np.arange(n_r * n_c).reshape(n_r, n_c)
            n += n_r * n_c
        elif c.r_sense > 0:
            bit = n + np.repeat(np.arange(n_c)[None, :], n_r, axis=0)
            n += n_c
        else:
            bit = None
        n_free = n
        row_t = n_free + np.arange(n_r)
        col_t = n_free + n_r + np.arange(n_c)
        if word is None:
            word = np.repeat(row_t[:, None], n_c, axis=1)
        if bit is None:
            bit = np.repeat(col_t[None, :], n_r, axis=0)
        if c.r_wl > 0:
            branches.append((word[:, :-1].ravel(), word[:, 1:].ravel(), np.full(n_r * (n_c - 1), 1.0 / c.r_wl)))
            branches.append((row_t, word[:, 0], np.full(n_r, 1.0 / (c.r_driver + c.r_wl))))
        elif c.r_driver > 0:
            branches.append((row_t, word[:, 0], np.full(n_r, 1.0 / c.r_driver)))
        if c.r_bl > 0:
            branches.append((bit[:-1, :].ravel(), bit[1:, :].ravel(), np.full((n_r - 1) * n_c, 1.0 / c.r_bl)))
            branches.append((bit[-1, :], col_t, np.full(n_c, 1.0 / (c.r_bl + c.r_sense))))
        elif c.r_sense > 0:
            branches.append((bit[-1, :], col_t, np.full(n_c, 1.0 / c.r_sense)))
        self.n_free, self.n_word_free = n_free, n_word
        self.n_nodes = n_free + n_r + n_c
        self.word, self.bit, self.row_t, self.col_t = word, bit, row_t, col_t
        self._wire_branches = branches

    @functools.cached_property
    def _lin(self) -> sp.csr_matrix:
        """The Laplacian of wires and (linear) cells, built on first use (the nested solver never needs it)."""
        return self._laplacian(with_cells=not self.nonlinear)

    @functools.cached_property
    def _wires(self) -> sp.csr_matrix:
        """The Laplacian of the wires alone (1S1R: the cells enter Newton's method separately)."""
        return self._laplacian(with_cells=False) if self.nonlinear else self._lin

    def cell_conductance(self) -> np.ndarray:
        """Linear conductance of every cell [S] (1T1R: with its transistor; 1S1R: ``G`` at ``v_ref``)."""
        c, g = self.circuit, self.g
        if c.cell != "1T1R":
            return g
        on = g / (1.0 + g * c.r_on)
        with np.errstate(divide="ignore", invalid="ignore"):
            off = np.where(g + c.g_off > 0, g * c.g_off / (g + c.g_off), 0.0)
        return np.where(self.gates[:, None], on, off)

    def _laplacian(self, with_cells: bool) -> sp.csr_matrix:
        a = [b[0] for b in self._wire_branches]
        b = [b[1] for b in self._wire_branches]
        w = [b[2] for b in self._wire_branches]
        if with_cells:
            a.append(self.word.ravel())
            b.append(self.bit.ravel())
            w.append(self.cell_conductance().ravel())
        a = np.concatenate(a) if a else np.zeros(0, np.int64)
        b = np.concatenate(b) if b else np.zeros(0, np.int64)
        w = np.concatenate(w) if w else np.zeros(0)
        n = self.n_nodes
        i = np.concatenate([a, b, a, b])
        j = np.concatenate([a, b, b, a])
        v = np.concatenate([w, w, -w, -w])
        return sp.csr_matrix((v, (i, j)), shape=(n, n))

    def _incidence(self) -> sp.csr_matrix:
        """``M`` (nodes x cells): +1 at a cell's word node, -1 at its bit node."""
        n_cells = self.g.size
        k = np.arange(n_cells)
        return sp.csr_matrix((np.concatenate([np.ones(n_cells), -np.ones(n_cells)]),
                              (np.concatenate([self.word.ravel(), self.bit.ravel()]), np.concatenate([k, k]))),
                             shape=(self.n_nodes, n_cells))

    # --------------------------------------------------------------- linear
    def _factor(self):
        if self._lu is None:
            nf = self.n_free
            if nf == 0:
                self._lu = False
                return self._lu
            if self._order is None:
                self._order = nested_dissection_order(self.word, self.bit, nf)
            p = self._order
            a = self._lin[:nf, :nf][p][:, p].tocsc()
            self._lu = sla.splu(a, permc_spec="NATURAL", diag_pivot_thresh=0.0,
                                options=dict(SymmetricMode=True))
        return self._lu

    def _solve_free(self, rhs: np.ndarray) -> np.ndarray:
        lu = self._factor()
        if lu is False:
            return np.zeros((0,) + rhs.shape[1:])
        p = self._order
        x = np.empty_like(rhs)
        x[p] = lu.solve(np.ascontiguousarray(rhs[p]))
        return x

    def _check_v(self, v) -> tuple[np.ndarray, bool]:
        v = np.asarray(v, dtype=np.float64)
        single = v.ndim == 1
        v2 = np.atleast_2d(v)
        if v2.ndim != 2 or v2.shape[1] != self.shape[0]:
            raise ValueError(f"v_rows must have shape ({self.shape[0]},) or (k, {self.shape[0]}), got {v.shape}")
        if not np.all(np.isfinite(v2)):
            raise ValueError("v_rows must be finite [V]")
        return v2, single

    def read(self, v_rows, return_voltages: bool = False):
        """Row-parallel read: word lines at ``v_rows`` [V], bit lines at virtual ground.

        Parameters
        ----------
        v_rows : ndarray, shape (R,) or (k, R)
            Input voltage of every word line, for one read or ``k`` reads.
        return_voltages : bool
            Also return the word- and bit-line node voltages of every cell, shape ``(..., R, C)``.

        Returns
        -------
        i_cols : ndarray, shape (C,) or (k, C)
            Current into each bit line's sense amplifier [A].
        v_word, v_bit : ndarray
            Only with ``return_voltages``.
        """
        v2, single = self._check_v(v_rows)
        nf = self.n_free
        n_r = self.shape[0]
        if self.nonlinear:
            res = [self._newton_read(v) for v in v2]
            x = np.stack([r[0] for r in res], axis=1) if nf else np.zeros((0, v2.shape[0]))
            i_cols = np.stack([r[1] for r in res])
        elif self.solver == "nested" and not return_voltages:
            i_cols = -(v2 @ self._nested_y()[:n_r, n_r:])
        else:
            lin = self._lin
            rt, ct = self.row_t, self.col_t
            t = v2.T  # (R, k)
            x = self._solve_free(-(lin[:nf][:, rt] @ t)) if nf else np.zeros((0, v2.shape[0]))
            i_cols = (-(lin[ct][:, :nf] @ x + lin[ct][:, rt] @ t)).T
        if not return_voltages:
            return i_cols[0] if single else i_cols
        full = np.zeros((self.n_nodes, v2.shape[0]))
        full[:nf] = x
        full[self.row_t] = v2.T
        vw = np.moveaxis(full[self.word], -1, 0)
        vb = np.moveaxis(full[self.bit], -1, 0)
        if single:
            return i_cols[0], vw[0], vb[0]
        return i_cols, vw, vb

    def transfer(self) -> np.ndarray:
        """Transfer matrix ``T`` (R x C) [S]: ``T[r, c]`` the current into column ``c`` per volt on row ``r``.

        A row-parallel read of linear cells is ``i_cols = v_rows @ T``; ``T[r, :]`` is also
        what a read of row ``r`` alone (all other rows at 0 V) senses.
        """
        if self.nonlinear:
            raise ValueError("transfer() needs linear cells (1R, 1T1R); a 1S1R tile is not a superposition")
        if self.solver == "nested":
            return -self._nested_y()[:self.shape[0], self.shape[0]:]
        return self.read(np.eye(self.shape[0]))

    def _nested_y(self) -> np.ndarray:
        if self._y is None:
            c = self.circuit
            self._y = nested_port_admittance(self.cell_conductance(), c.r_wl, c.r_bl,
                                             1.0 / (c.r_driver + c.r_wl), 1.0 / (c.r_bl + c.r_sense))
        return self._y

    def port_admittance(self) -> np.ndarray:
        """Kron reduction of the tile onto its ``R + C`` terminals (rows first) [S]."""
        if self.nonlinear:
            raise ValueError("port_admittance() needs linear cells (1R, 1T1R)")
        if self.solver == "nested":
            return self._nested_y().copy()
        nf = self.n_free
        lin = self._lin
        lft = lin[:nf, nf:].toarray()
        ltt = lin[nf:, nf:].toarray()
        if nf == 0:
            return ltt
        x = self._solve_free(lft)
        return ltt - lin[nf:, :nf] @ x

    # -------------------------------------------------------------- floating
    def floating_conductance(self, v_read: float = 0.2) -> np.ndarray:
        """Single-cell floating reads: ``I / v_read`` of every cell (R x C) [S].

        Row ``r`` driven at ``v_read``, column ``c`` sensed at virtual ground, all other lines
        floating (sneak paths included).  ``v_read`` matters for 1S1R cells only.
        """
        check_positive("v_read", v_read, "V")
        c = self.circuit
        n_r, n_c = self.shape
        if c.cell == "1T1R" and self.gates.sum() != 1:
            if c.g_off == 0.0:  # unselected cells open: only the selected path carries current
                r = np.arange(n_r)[:, None]
                cc = np.arange(n_c)[None, :]
                path = c.r_driver + (cc + 1) * c.r_wl + (n_r - r) * c.r_bl + c.r_sense
                g_on = self.g / (1.0 + self.g * c.r_on)
                with np.errstate(divide="ignore"):
                    return np.where(g_on > 0, g_on / (1.0 + g_on * path), 0.0)
            out = np.empty(self.shape)
            for r in range(n_r):
                gates = np.zeros(n_r, dtype=bool)
                gates[r] = True
                out[r] = NodalTile(self.g, c, gates=gates).floating_conductance(v_read)[r]
            return out
        if self.nonlinear:
            out = np.empty(self.shape)
            for r in range(n_r):
                for col in range(n_c):
                    out[r, col] = self.floating_read(r, col, v_read) / v_read
            return out
        y = self.port_admittance()
        # two-terminal resistance between terminals a, b of the Laplacian y: in each connected
        # component ground one terminal and invert the rest; terminals in different components: open
        n_comp, label = connected_components(sp.csr_matrix(y != 0), directed=False)
        z = np.zeros_like(y)
        for k in range(n_comp):
            idx = np.flatnonzero(label == k)[:-1]
            if idx.size:
                z[np.ix_(idx, idx)] = np.linalg.inv(y[np.ix_(idx, idx)])
        d = np.diag(z)
        rr, cc = np.arange(n_r)[:, None], n_r + np.arange(n_c)[None, :]
        r_eff = d[rr] + d[cc] - 2.0 * z[rr, cc]
        linked = label[rr] == label[cc]
        with np.errstate(divide="ignore"):
            return np.where(linked & (r_eff > 0), 1.0 / np.where(linked, r_eff, 1.0), 0.0)

    def floating_read(self, row: int, col: int, v_read: float = 0.2, return_residual: bool = False):
        """Current [A] of one floating read of cell ``(row, col)`` by a direct nodal solve.

        With ``return_residual`` also the largest KCL residual over the free nodes [A].
        """
        n_r, n_c = self.shape
        if not (0 <= row < n_r and 0 <= col < n_c):
            raise ValueError(f"(row, col) must be within (0..{n_r - 1}, 0..{n_c - 1}), got ({row}, {col})")
        fixed = np.array([self.row_t[row], self.col_t[col]])
        vfix = np.array([v_read, 0.0])
        tile = self
        if self.circuit.cell == "1T1R":
            gates = np.zeros(n_r, dtype=bool)
            gates[row] = True
            tile = NodalTile(self.g, self.circuit, gates=gates)
        x, inj, res = tile._solve_general(fixed, vfix)
        current = -inj[1]
        return (current, res) if return_residual else current

    # ------------------------------------------------------------- general / Newton
    def _solve_general(self, fixed: np.ndarray, vfix: np.ndarray, x0=None):
        """Solve KCL with the nodes ``fixed`` held at ``vfix`` and every other node free.

        Returns the full node-voltage vector, the currents injected at the fixed nodes and the
        largest KCL residual at the free nodes [A].
        """
        n = self.n_nodes
        is_fixed = np.zeros(n, dtype=bool)
        is_fixed[fixed] = True
        free = np.flatnonzero(~is_fixed)
        # drop free nodes with no branch at all (floating terminals merged nowhere): they are isolated
        lw = self._wires if self.nonlinear else self._lin
        deg = np.asarray(abs(lw).sum(axis=1)).ravel()
        if self.nonlinear:
            m = self._incidence()
            deg = deg + np.asarray(abs(m).sum(axis=1)).ravel()
        free = free[deg[free] > 0]
        x = np.zeros(n)
        x[fixed] = vfix
        if not self.nonlinear:
            a = lw[free][:, free].tocsc()
            if free.size:
                x[free] = sla.splu(a, permc_spec="MMD_AT_PLUS_A").solve(-(lw[free][:, fixed] @ vfix))
            f = lw @ x
            return x, f[fixed], float(np.max(np.abs(f[free]))) if free.size else 0.0
        return self._newton(free, fixed, x, m)

    def _newton(self, free, fixed, x, m, tol: float = 1e-12, max_iter: int = 200):
        c = self.circuit
        lw = self._wires
        g = self.g.ravel()
        mf = m[free]
        lff = lw[free][:, free]
        # initial guess: cells as linear conductances G (exact at v_ref)
        gl = sp.diags(g)
        a0 = (lff + mf @ gl @ mf.T).tocsc()
        if free.size:
            x[free] = sla.splu(a0, permc_spec="MMD_AT_PLUS_A").solve(
                -((lw[free][:, fixed] + (m[free] @ gl @ m[fixed].T)) @ x[fixed]))

        def residual(xv):
            i, di = c.cell_current(g, m.T @ xv)
            return lw @ xv + m @ i, i, di

        f, i, di = residual(x)
        vmax = max(float(np.max(np.abs(x))), 1e-30)
        for _ in range(max_iter):
            r = f[free]
            scale = max(float(np.max(np.abs(f[fixed]))), float(np.max(np.abs(i))) if i.size else 0.0, 1e-300)
            if not free.size or np.max(np.abs(r)) <= tol * scale:
                break
            jac = (lff + mf @ sp.diags(di) @ mf.T).tocsc()
            dx = sla.splu(jac, permc_spec="MMD_AT_PLUS_A").solve(-r)
            step = np.zeros_like(x)
            step[free] = dx
            dv = np.max(np.abs(m.T @ step)) if m.shape[1] else 0.0
            alpha = min(1.0, 2.0 * c.v0 / dv) if dv > 0 else 1.0
            x = x + alpha * step
            f, i, di = residual(x)
            if alpha == 1.0 and np.max(np.abs(dx)) <= 1e-15 * vmax:
                break  # converged to rounding: the step no longer changes the voltages
        else:
            raise RuntimeError(f"1S1R Newton solve did not converge in {max_iter} iterations "
                               f"(KCL residual {np.max(np.abs(f[free])):.3e} A)")
        return x, f[fixed], float(np.max(np.abs(f[free]))) if free.size else 0.0

    def _newton_read(self, v: np.ndarray):
        fixed = np.concatenate([self.row_t, self.col_t])
        vfix = np.concatenate([v, np.zeros(self.shape[1])])
        x, inj, res = self._solve_general(fixed, vfix)
        self.last_residual = res
        return x[:self.n_free], -inj[self.shape[0]:]

    def kcl_residual(self, v_rows) -> float:
        """Largest KCL residual at the free nodes [A] of the row-parallel solution for ``v_rows``."""
        v2, _ = self._check_v(v_rows)
        worst = 0.0
        for v in v2:
            fixed = np.concatenate([self.row_t, self.col_t])
            vfix = np.concatenate([v, np.zeros(self.shape[1])])
            worst = max(worst, self._solve_general(fixed, vfix)[2])
        return worst


def effective_conductance(g, circuit: TileCircuit, scheme: str = "grounded", v_read: float = 0.2) -> np.ndarray:
    """Read conductance ``I / v_read`` of every cell of a tile (R x C) [S], from the nodal solve.

    ``scheme="grounded"``: row ``r`` driven at ``v_read`` with every other row at 0 V and
    every column at virtual ground (the current sensed on column ``c``); for linear cells
    this is the transfer matrix, exact for any set of simultaneously driven rows.
    ``"floating"``: the single-cell floating read (:meth:`NodalTile.floating_conductance`).
    """
    if scheme not in SCHEMES:
        raise ValueError(f"scheme must be one of {list(SCHEMES)}, got {scheme!r}")
    check_positive("v_read", v_read, "V")
    tile = NodalTile(g, circuit)
    if scheme == "floating":
        return tile.floating_conductance(v_read)
    if not tile.nonlinear:
        return tile.transfer()
    n_r = tile.shape[0]
    return tile.read(v_read * np.eye(n_r)) / v_read
