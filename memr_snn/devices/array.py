r"""Physical arrays: tiling a projection onto crossbars, and the wire / sneak-path read model.

A projection's synapse matrix is cut into tiles of at most ``rows x cols``
cross-points.  Rows are word lines driven by presynaptic spikes (a read pulse
``V_read`` for ``t_read``); columns are bit lines sensed by the postsynaptic
periphery.  Presynaptic neuron ``i`` sits on row ``i % rows`` of row block
``i // rows``; postsynaptic neuron ``j`` on column ``j % cols`` of column block
``j // cols`` (single device), or on the column pair ``2 (j % (cols/2))``,
``2 (j % (cols/2)) + 1`` for G+ and G- of a differential pair.  Only tiles that
hold a synapse are allocated.  Every cross-point holds a device; cross-points
without a synapse stay in their reset state ``G_min``.

Read model (first order, after seed section 6.1 and Liang & Wong, IEEE TED 57,
2531, 2010; Chen, "Ways to overcome sneak paths", 2013):

* **Line resistance (IR drop).**  The cell on row ``r``, column ``c`` of a tile
  with ``n_r`` used rows is reached through ``c + 1`` word-line segments (driver on
  the left) and ``n_r - r`` bit-line segments (sense amplifier at the bottom), each
  of ``r_wire`` ohms: :math:`R_s = r_{wire} ((c + 1) + (n_r - r))`.  The current
  read through it is that of :math:`G_{eff} = G / (1 + G R_s)`.  Currents of other
  simultaneously driven rows sharing the lines are neglected (single-row read).
* **Sneak paths.**  With the ``"floating"`` read scheme (unselected lines float,
  the selected column is sensed alone) a passive ``"1R"`` array adds, in parallel
  with the selected cell, the three-stage sneak network of the other cells: from
  the selected row into the ``M - 1`` other columns, through the
  ``(M - 1)(N - 1)`` cells joining them to the other rows, and back into the
  selected column through ``N - 1`` cells:

  .. math::

      G_{sneak} = \left(\frac{1}{(M-1)\bar g} + \frac{1}{(M-1)(N-1)\bar g}
                  + \frac{1}{(N-1)\bar g}\right)^{-1}

  with :math:`\bar g` the tile's mean cross-point conductance.  A ``"1S1R"``
  cell divides the conductance of the half-selected cells on a sneak path by the
  selector nonlinearity ``selector_nl`` (:math:`I(V)/I(V/2)`); a ``"1T1R"`` cell's
  transistor blocks them (:math:`G_{sneak} = 0`).  With the ``"grounded"``
  scheme all columns are held at virtual ground and there is no sneak current.
  Sneak conductance is common to both columns of a differential pair, so it
  cancels in :math:`G^+ - G^-`: one reason differential encoding is used.

Both corrections are computed when the devices are programmed (from the
programmed conductances) and applied to every read by the kernel.

**Nodal model** (``ir_drop="nodal"``): instead of the two first-order corrections
above, every tile (its used rows x used columns, empty cross-points at ``G_min``) is
solved as a resistive network by :mod:`memr_snn.devices.irdrop`: with
``read_scheme="grounded"`` the read of row ``r`` alone (other rows at 0 V, all
columns at virtual ground: the transfer matrix, exact for any set of rows read
together), with ``"floating"`` the single-cell read with every other line floating
(exact sneak paths; a ``1T1R`` tile's unselected transistors are open).  The
solution ``G_eff`` enters the kernel's read equation as an equivalent series
resistance ``R_eq = 1/G_eff - 1/G`` (or, where sneak current makes ``G_eff > G``,
an added conductance ``G_eff - G``), which reproduces the nodal read exactly at
the programmed conductances; drift and read noise then act on ``G`` in front of it.
``ir_drop="series"`` keeps the first-order model; ``"auto"`` (default) uses the
nodal model where it is cheap -- ``1T1R`` with floating lines (a closed form), or
linear cells on tiles of at most ``NODAL_AUTO_MAX_CELLS`` cross-points -- and the
series model otherwise (``1S1R``: one Newton solve per read).  The error of the series
model is measured in ``docs/devices.md`` (section "IR drop").

**Refresh.**  A plasticity rule writes devices inside a run, between programmings.  With
``ir_refresh > 0`` the simulator stops its kernel at every multiple of ``ir_refresh`` of simulated
time (absolute: ``t = k ir_refresh``, however the run is split) and, if the crossbar's conductances
changed since the wire model was last computed, computes it again from the present conductances
(:meth:`memr_snn.devices.CrossbarState.refresh_wire_model`; a nodal tile whose conductances are
unchanged reuses its solve).  Between refreshes the reads use the correction of the last refresh or
programming.  ``ir_refresh = 0`` keeps the correction of the last programming for the whole run.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np

from .._validation import check_int_at_least, check_nonnegative, check_positive

__all__ = ["ArraySpec", "Tiling", "tile_projection", "wire_model", "CELLS", "READ_SCHEMES", "IR_DROP_MODELS",
           "NODAL_AUTO_MAX_CELLS"]

CELLS = ("1T1R", "1S1R", "1R")
READ_SCHEMES = ("floating", "grounded")
IR_DROP_MODELS = ("auto", "nodal", "series")
#: largest tile (rows x cols) that ``ir_drop="auto"`` solves nodally (nested Schur complements: a 256 x 256
#: tile takes ~0.1 s of CPU per programming, 512 x 512 ~0.6 s; docs/devices.md, section "IR drop")
NODAL_AUTO_MAX_CELLS = 512 * 512


@dataclasses.dataclass(frozen=True)
class ArraySpec:
    """Geometry and cell type of the physical crossbar arrays."""

    rows: int = 256
    """Word lines per array (largest number of presynaptic inputs per tile) [1]."""
    cols: int = 256
    """Bit lines per array [1]; a differential pair uses two."""
    cell: str = "1T1R"
    """Cross-point cell: ``"1T1R"`` (transistor), ``"1S1R"`` (selector) or ``"1R"`` (passive)."""
    r_wire: float = 0.0
    """Wire resistance of one line segment between neighbouring cells [Ohm]."""
    selector_nl: float = 1000.0
    """Selector nonlinearity I(V)/I(V/2) of a 1S1R cell [1], >= 1."""
    read_scheme: str = "floating"
    """``"floating"`` (unselected lines float: sneak paths in 1R/1S1R) or ``"grounded"``."""
    ir_drop: str = "auto"
    """Wire and sneak-path model: ``"nodal"`` (network solve), ``"series"`` (first order) or ``"auto"``."""
    v_read: float = 0.2
    """Read voltage of the nodal 1S1R solve [V], > 0 (sets the selector's operating point)."""
    ir_refresh: float = 1.0
    """Plastic crossbars with wires or sneak paths: simulated time between recomputations of the wire model
    from the present conductances during a run [s], >= 0; 0 keeps the correction of the last programming
    (module docstring, "Refresh")."""

    def __post_init__(self) -> None:
        check_int_at_least("rows", self.rows, 1)
        check_int_at_least("cols", self.cols, 2)
        if self.cell not in CELLS:
            raise ValueError(f"cell must be one of {list(CELLS)}, got {self.cell!r}")
        if self.read_scheme not in READ_SCHEMES:
            raise ValueError(f"read_scheme must be one of {list(READ_SCHEMES)}, got {self.read_scheme!r}")
        check_nonnegative("r_wire", self.r_wire, "Ohm")
        if not np.isfinite(self.selector_nl) or self.selector_nl < 1.0:
            raise ValueError(f"selector_nl must be finite and >= 1, got {self.selector_nl!r}")
        if self.ir_drop not in IR_DROP_MODELS:
            raise ValueError(f"ir_drop must be one of {list(IR_DROP_MODELS)}, got {self.ir_drop!r}")
        check_positive("v_read", self.v_read, "V")
        check_nonnegative("ir_refresh", self.ir_refresh, "s")
        if self.ir_drop == "nodal" and self.cell == "1S1R" and self.has_sneak and self.rows * self.cols > 4096:
            raise ValueError(
                f"ir_drop='nodal' with cell='1S1R' and read_scheme='floating' solves one nonlinear network per "
                f"cross-point; allowed for tiles of at most 4096 cells, got rows*cols={self.rows * self.cols}")

    @property
    def ir_model(self) -> str:
        """The model used: ``"nodal"`` or ``"series"`` (``"auto"`` resolved, see the module docstring)."""
        if self.ir_drop != "auto":
            return self.ir_drop
        if self.cell == "1T1R" and self.read_scheme == "floating":
            return "nodal"
        if self.cell != "1S1R" and self.rows * self.cols <= NODAL_AUTO_MAX_CELLS:
            return "nodal"
        return "series"

    def circuit(self):
        """The :class:`~memr_snn.devices.irdrop.TileCircuit` of the nodal model."""
        from .irdrop import TileCircuit, selector_v0

        cell = self.cell
        v0 = 0.02
        if cell == "1S1R":
            if self.selector_nl > 2.0:
                v0 = selector_v0(self.selector_nl, self.v_read)
            else:
                cell = "1R"  # I(V)/I(V/2) <= 2: no selector nonlinearity left
        return TileCircuit(r_wl=self.r_wire, r_bl=self.r_wire, cell=cell, v0=v0, v_ref=self.v_read)

    @property
    def has_sneak(self) -> bool:
        """True when reads see sneak-path current."""
        return self.read_scheme == "floating" and self.cell != "1T1R"

    @property
    def is_ideal(self) -> bool:
        """True when reads see neither line resistance nor sneak paths."""
        return self.r_wire == 0.0 and not self.has_sneak


@dataclasses.dataclass
class Tiling:
    """Where every device of a projection sits.

    Arrays are per synapse in the projection's CSR order; ``col_minus`` is -1
    for single-device encoding.
    """

    spec: ArraySpec
    differential: bool
    pre: np.ndarray
    post: np.ndarray
    tile: np.ndarray
    row: np.ndarray
    col_plus: np.ndarray
    col_minus: np.ndarray
    tiles: list[dict]
    """One entry per allocated tile: id, row/column block, used rows and columns, devices."""

    def to_dict(self, projection: str = "", encoding: str = "") -> dict:
        """The ``mapping_table.json`` content (columnar per-synapse lists)."""
        return {
            "format": "memr_snn.mapping_table",
            "version": 1,
            "projection": projection,
            "encoding": encoding,
            "array": dataclasses.asdict(self.spec),
            "tiles": self.tiles,
            "synapses": {
                "pre": self.pre.tolist(),
                "post": self.post.tolist(),
                "tile": self.tile.tolist(),
                "row": self.row.tolist(),
                "col_plus": self.col_plus.tolist(),
                "col_minus": self.col_minus.tolist(),
            },
        }

    def save(self, path: str | Path, projection: str = "", encoding: str = "") -> Path:
        """Write the mapping table as JSON to ``path``."""
        path = Path(path)
        path.write_text(json.dumps(self.to_dict(projection, encoding)))
        return path


def tile_projection(pre: np.ndarray, post: np.ndarray, spec: ArraySpec, differential: bool) -> Tiling:
    """Place synapses ``(pre[k], post[k])`` onto arrays of ``spec`` (see the module docstring)."""
    pre = np.asarray(pre, dtype=np.int64)
    post = np.asarray(post, dtype=np.int64)
    cpb = spec.cols // 2 if differential else spec.cols  # postsynaptic neurons per column block
    rb, row = np.divmod(pre, spec.rows)
    cb, cl = np.divmod(post, cpb)
    n_cb = int(cb.max()) + 1 if cb.size else 1
    key = rb * n_cb + cb
    uniq, tile = np.unique(key, return_inverse=True)
    tile = tile.astype(np.int64).ravel()
    if differential:
        col_plus, col_minus = 2 * cl, 2 * cl + 1
    else:
        col_plus, col_minus = cl, np.full_like(cl, -1)
    tiles = []
    for t, k in enumerate(uniq.tolist()):
        sel = tile == t
        used_rows = int(row[sel].max()) + 1
        used_cols = int(max(col_plus[sel].max(), col_minus[sel].max())) + 1
        tiles.append({
            "id": t, "row_block": int(k // n_cb), "col_block": int(k % n_cb),
            "rows_used": used_rows, "cols_used": used_cols,
            "synapses": int(sel.sum()), "devices": int(sel.sum()) * (2 if differential else 1),
        })
    return Tiling(spec, differential, pre, post, tile, row.astype(np.int64), col_plus.astype(np.int64),
                  col_minus.astype(np.int64), tiles)


def wire_model(tiling: Tiling, g: np.ndarray, g_min: float, cache: dict | None = None
               ) -> tuple[np.ndarray, np.ndarray]:
    """Series wire resistance and sneak conductance of every device (module docstring).

    Parameters
    ----------
    tiling : Tiling
    g : ndarray
        Programmed conductance per device [S] (interleaved G+, G- when differential).
    g_min : float
        Conductance of the cross-points without a synapse [S].
    cache : dict, optional
        Nodal model only: per tile id, the conductance matrix and solution of the last solve; a tile
        whose conductances are unchanged is not solved again (the dict is updated in place).

    Returns
    -------
    rs, gs : ndarray
        Per device: series line resistance [Ohm] and parallel sneak conductance [S].
    """
    spec = tiling.spec
    per = 2 if tiling.differential else 1
    n_dev = g.size
    tile_of_dev = np.repeat(tiling.tile, per)
    row_of_dev = np.repeat(tiling.row, per)
    col_of_dev = (np.stack([tiling.col_plus, tiling.col_minus], axis=1).ravel() if tiling.differential
                  else tiling.col_plus)
    rows_used = np.array([t["rows_used"] for t in tiling.tiles], dtype=np.int64)
    cols_used = np.array([t["cols_used"] for t in tiling.tiles], dtype=np.int64)
    if spec.ir_model == "nodal":
        return _nodal_wire_model(tiling, g, g_min, tile_of_dev, row_of_dev, col_of_dev, rows_used, cols_used,
                                 {} if cache is None else cache)
    rs = spec.r_wire * ((col_of_dev + 1) + (rows_used[tile_of_dev] - row_of_dev)).astype(np.float64)
    gs = np.zeros(n_dev)
    if spec.has_sneak and n_dev:
        n_tiles = len(tiling.tiles)
        g_sum = np.bincount(tile_of_dev, weights=g, minlength=n_tiles)
        n_prog = np.bincount(tile_of_dev, minlength=n_tiles)
        cells = rows_used * cols_used
        g_bar = (g_sum + (cells - n_prog) * g_min) / cells
        if spec.cell == "1S1R":
            g_bar = g_bar / spec.selector_nl
        m1 = (cols_used - 1).astype(np.float64)
        n1 = (rows_used - 1).astype(np.float64)
        with np.errstate(divide="ignore"):
            inv = 1.0 / (m1 * g_bar) + 1.0 / (m1 * n1 * g_bar) + 1.0 / (n1 * g_bar)
            g_sneak = np.where((m1 > 0) & (n1 > 0) & (g_bar > 0), 1.0 / inv, 0.0)
        gs = g_sneak[tile_of_dev]
    return rs, gs


def _nodal_wire_model(tiling, g, g_min, tile_of_dev, row_of_dev, col_of_dev, rows_used, cols_used, cache):
    """``rs, gs`` per device from the nodal solve of every tile (module docstring, "Nodal model")."""
    from .irdrop import effective_conductance

    spec = tiling.spec
    circuit = spec.circuit()
    scheme = spec.read_scheme
    g_eff = np.empty(g.size)
    order = np.argsort(tile_of_dev, kind="stable")
    bounds = np.searchsorted(tile_of_dev[order], np.arange(len(tiling.tiles) + 1))
    for t in range(len(tiling.tiles)):
        devs = order[bounds[t]:bounds[t + 1]]
        mat = np.full((int(rows_used[t]), int(cols_used[t])), float(g_min))
        mat[row_of_dev[devs], col_of_dev[devs]] = g[devs]
        hit = cache.get(t)
        if hit is not None and np.array_equal(hit[0], mat):
            eff = hit[1]
        elif spec.r_wire == 0.0 and scheme == "grounded":
            eff = mat  # no wire, no sneak: the ideal read
        else:
            eff = effective_conductance(mat, circuit, scheme, spec.v_read)
            cache[t] = (mat, eff)
        g_eff[devs] = eff[row_of_dev[devs], col_of_dev[devs]]
    with np.errstate(divide="ignore", invalid="ignore"):
        series = (g > 0) & (g_eff > 0) & (g_eff <= g)
        rs = np.where(series, 1.0 / np.where(series, g_eff, 1.0) - 1.0 / np.where(series, g, 1.0), 0.0)
    gs = np.where(series, 0.0, g_eff - g)
    return rs, gs
