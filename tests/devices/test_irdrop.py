"""Nodal IR-drop solver (memr_snn.devices.irdrop): dense MNA solves, closed forms, Newton, the series table."""

import math
import re
from pathlib import Path

import numpy as np
import pytest
from scipy.optimize import root

from memr_snn.devices import ArraySpec, Crossbar, LinearStepDevice
from memr_snn.devices.crossbar import CrossbarState
from memr_snn.devices.irdrop import NodalTile, TileCircuit, effective_conductance, series_conductance
from memr_snn.kernel.schur import (
    cell_boxes,
    cell_boxes_reference,
    gather_interface,
    gather_interface_reference,
    leaf_boxes,
    leaf_boxes_reference,
    level_ports,
    merge_boxes,
    merge_boxes_reference,
    scatter_merged,
    scatter_merged_reference,
    stored_ports,
)

ROOT = Path(__file__).resolve().parents[2]


def dense_mna(g, v, r_wl, r_bl, r_drv=0.0, r_sense=0.0, floating=None):
    """Column currents by modified nodal analysis written out cell by cell (dense numpy.linalg.solve).

    Nodes: u[r, c], v[r, c], one driver node per row and one sense node per column; ideal voltage
    sources (extra MNA unknowns: their currents) on the driven rows' driver nodes and 0 V sources on
    the sensed columns' sense nodes.  ``floating=(row, col)``: only that row driven, that column sensed.
    Every resistance here must be > 0 (the solver's merged-node cases are tested separately).
    """
    n_r, n_c = g.shape
    nu = n_r * n_c
    U = lambda r, c: r * n_c + c  # noqa: E731
    V = lambda r, c: nu + r * n_c + c  # noqa: E731
    D = lambda r: 2 * nu + r  # noqa: E731
    S = lambda c: 2 * nu + n_r + c  # noqa: E731
    n = 2 * nu + n_r + n_c
    rows = range(n_r) if floating is None else [floating[0]]
    cols = range(n_c) if floating is None else [floating[1]]
    src = [(D(r), v[r]) for r in rows] + [(S(c), 0.0) for c in cols]
    a = np.zeros((n + len(src), n + len(src)))
    b = np.zeros(n + len(src))

    def stamp(p, q, y):
        a[p, p] += y
        a[q, q] += y
        a[p, q] -= y
        a[q, p] -= y

    for r in range(n_r):
        stamp(D(r), U(r, 0), 1.0 / (r_drv + r_wl))
        for c in range(n_c - 1):
            stamp(U(r, c), U(r, c + 1), 1.0 / r_wl)
    for c in range(n_c):
        stamp(V(n_r - 1, c), S(c), 1.0 / (r_bl + r_sense))
        for r in range(n_r - 1):
            stamp(V(r, c), V(r + 1, c), 1.0 / r_bl)
    for r in range(n_r):
        for c in range(n_c):
            stamp(U(r, c), V(r, c), g[r, c])
    for k, (node, volt) in enumerate(src):
        a[node, n + k] = a[n + k, node] = 1.0
        b[n + k] = volt
    # floating terminals with nothing else attached would be singular: tie them with their line
    for node in range(n):
        if a[node, node] == 0.0:
            a[node, node] = 1.0
    x = np.linalg.solve(a, b)
    k0 = len(list(rows))
    return x[n + k0:]  # current *into* each sensed column's source = current delivered by the tile


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("shape", [(3, 4), (5, 2), (1, 6), (6, 1)])
def test_row_parallel_read_matches_dense_mna(seed, shape):
    rng = np.random.default_rng(seed)
    g = rng.uniform(1e-6, 1e-3, shape)
    circ = dict(r_wl=rng.uniform(0.5, 200), r_bl=rng.uniform(0.5, 200), r_drv=rng.uniform(0, 50),
                r_sense=rng.uniform(0, 50))
    v = rng.uniform(-0.3, 0.3, shape[0])
    ref = dense_mna(g, v, **circ)
    tile = NodalTile(g, TileCircuit(r_wl=circ["r_wl"], r_bl=circ["r_bl"], r_driver=circ["r_drv"],
                                    r_sense=circ["r_sense"]))
    np.testing.assert_allclose(tile.read(v), ref, rtol=1e-9, atol=1e-9 * np.abs(ref).max())
    # the factorisation is reused: a batch of reads equals reads one by one, and the transfer matrix
    vs = rng.uniform(0, 0.3, (4, shape[0]))
    np.testing.assert_allclose(tile.read(vs), [dense_mna(g, x, **circ) for x in vs], rtol=1e-9, atol=1e-15)
    np.testing.assert_allclose(vs @ tile.transfer(), tile.read(vs), rtol=1e-12, atol=1e-18)


@pytest.mark.parametrize("seed", [0, 1])
def test_floating_reads_match_dense_mna(seed):
    rng = np.random.default_rng(seed)
    g = rng.uniform(1e-6, 1e-3, (4, 3))
    circ = dict(r_wl=rng.uniform(1, 100), r_bl=rng.uniform(1, 100), r_drv=5.0, r_sense=3.0)
    tile = NodalTile(g, TileCircuit(r_wl=circ["r_wl"], r_bl=circ["r_bl"], r_driver=5.0, r_sense=3.0))
    kron = tile.floating_conductance(0.2)
    for r in range(4):
        for c in range(3):
            ref = dense_mna(g, np.full(4, 0.2), floating=(r, c), **circ)[0] / 0.2
            assert kron[r, c] == pytest.approx(ref, rel=1e-9)
            assert tile.floating_read(r, c, 0.2) / 0.2 == pytest.approx(ref, rel=1e-9)


def test_one_row_ladder_closed_form():
    """1 x N, uniform G: u_k = V cosh((k - N + 1/2) theta) / cosh((N + 1/2) theta), 2 cosh(theta) = 2 + h r."""
    n, gc, r_wl, r_bl, vin = 40, 50e-6, 3.0, 2.0, 0.2
    h = gc / (1.0 + gc * r_bl)  # each cell reaches virtual ground through one bit-line segment
    theta = math.acosh(1.0 + h * r_wl / 2.0)
    k = np.arange(n)
    u = vin * np.cosh((k - n + 0.5) * theta) / np.cosh((n + 0.5) * theta)
    i_ref = h * u
    tile = NodalTile(np.full((1, n), gc), TileCircuit(r_wl=r_wl, r_bl=r_bl))
    i, vw, _vb = tile.read(np.array([vin]), return_voltages=True)
    np.testing.assert_allclose(i, i_ref, rtol=1e-12)
    np.testing.assert_allclose(vw[0], u, rtol=1e-12)


def test_two_by_two_closed_form():
    """2 x 2 with word-line resistance only (bit lines at virtual ground): each row is a two-cell ladder,
    u1 = u0 / (1 + G01 r), u0 = V / (2 + G00 r - 1 / (1 + G01 r)); the columns sum their cells."""
    g = np.array([[30e-6, 70e-6], [90e-6, 20e-6]])
    r, v = 7.0, np.array([0.2, 0.15])
    i_ref = np.zeros(2)
    for row in range(2):
        u0 = v[row] / (2.0 + g[row, 0] * r - 1.0 / (1.0 + g[row, 1] * r))
        u1 = u0 / (1.0 + g[row, 1] * r)
        i_ref += g[row] * np.array([u0, u1])
    tile = NodalTile(g, TileCircuit(r_wl=r, r_bl=0.0))
    np.testing.assert_allclose(tile.read(v), i_ref, rtol=1e-12)
    # the same by symmetry with bit-line resistance only: columns are ladders from the sense end upward
    gt = np.array([[20e-6, 90e-6], [70e-6, 30e-6]])  # cell (r, c) of this tile is g[1 - c, 1 - r]
    # column c sees its cells in order of distance from the sense amplifier: rows 1, 0
    tile_b = NodalTile(gt, TileCircuit(r_wl=0.0, r_bl=r))
    vb = np.array([0.2, 0.2])
    i_b = np.zeros(2)
    for c in range(2):
        g_near, g_far = gt[1, c], gt[0, c]  # row 1 is next to the sense amplifier
        # v_near node: (v - x1) g_near + (x0 - x1)/r = x1 / r ... solved as a 2-node linear system
        a = np.array([[g_far + 1.0 / r, -1.0 / r], [-1.0 / r, 2.0 / r + g_near]])
        x0, x1 = np.linalg.solve(a, [g_far * vb[0], g_near * vb[1]])
        i_b[c] = x1 / r
    np.testing.assert_allclose(tile_b.read(vb), i_b, rtol=1e-12)


def test_zero_wire_resistance_is_ohms_law():
    rng = np.random.default_rng(3)
    g = rng.uniform(0.0, 1e-4, (7, 9))
    v = rng.uniform(0, 0.3, 7)
    for circ in (TileCircuit(r_wl=0.0, r_bl=0.0), TileCircuit(r_wl=0.0, r_bl=0.0, cell="1T1R")):
        np.testing.assert_allclose(NodalTile(g, circ).read(v), v @ g, rtol=1e-15, atol=0)
    np.testing.assert_allclose(series_conductance(g, TileCircuit(r_wl=0.0, r_bl=0.0)), g, rtol=0, atol=0)


def _kcl_1s1r(x_free, tile, vfix):
    """KCL residual of a 1S1R tile, written independently of the solver (per cell, per wire)."""
    c = tile.circuit
    x = np.zeros(tile.n_nodes)
    x[:tile.n_free] = x_free
    x[tile.n_free:] = vfix
    f = np.zeros(tile.n_nodes)
    n_r, n_c = tile.shape
    k = tile.g * c.v_ref / math.sinh(c.v_ref / c.v0)
    i_cell = k * np.sinh((x[tile.word] - x[tile.bit]) / c.v0)
    np.add.at(f, tile.word, i_cell)
    np.add.at(f, tile.bit, -i_cell)
    w, b = tile.word, tile.bit
    for p, q, y in ((w[:, :-1], w[:, 1:], 1 / c.r_wl), (b[:-1, :], b[1:, :], 1 / c.r_bl),
                    (tile.row_t, w[:, 0], 1 / (c.r_wl + c.r_driver)), (b[-1, :], tile.col_t, 1 / (c.r_bl + c.r_sense))):
        cur = y * (x[p] - x[q])
        np.add.at(f, p, cur)
        np.add.at(f, q, -cur)
    return f


def test_1s1r_newton_satisfies_kcl_and_matches_scipy_root():
    rng = np.random.default_rng(4)
    g = rng.uniform(5e-6, 1e-4, (4, 5))
    circ = TileCircuit(r_wl=40.0, r_bl=60.0, r_driver=10.0, cell="1S1R", v0=0.03, v_ref=0.2)
    tile = NodalTile(g, circ)
    v = np.array([0.25, 0.0, 0.2, 0.1])
    i, vw, vb = tile.read(v, return_voltages=True)
    vfix = np.concatenate([v, np.zeros(5)])
    x = np.zeros(tile.n_nodes)
    x[tile.word] = vw
    x[tile.bit] = vb
    f = _kcl_1s1r(x[:tile.n_free], tile, vfix)
    assert np.max(np.abs(f[:tile.n_free])) <= 1e-9 * np.max(np.abs(i))
    np.testing.assert_allclose(-f[tile.col_t], i, rtol=1e-9)
    sol = root(lambda z: _kcl_1s1r(z, tile, vfix)[:tile.n_free], np.zeros(tile.n_free), method="hybr",
               options=dict(xtol=1e-12))
    assert sol.success
    np.testing.assert_allclose(sol.x, x[:tile.n_free], rtol=1e-8, atol=1e-12)
    # the nonlinearity matters: linear cells at the same conductances read differently
    lin = NodalTile(g, TileCircuit(r_wl=40.0, r_bl=60.0, r_driver=10.0)).read(v)
    assert np.max(np.abs(lin - i) / np.abs(lin)) > 1e-3


def test_1s1r_floating_read_residual():
    g = np.random.default_rng(5).uniform(5e-6, 1e-4, (3, 3))
    tile = NodalTile(g, TileCircuit(r_wl=5.0, r_bl=5.0, cell="1S1R", v0=0.02))
    cur, res = tile.floating_read(1, 2, 0.2, return_residual=True)
    assert res <= 1e-9 * cur and 0 < cur < g[1, 2] * 0.2 * 1.001 + 1e-6


def test_1t1r_gates_and_floating_single_path():
    rng = np.random.default_rng(6)
    g = rng.uniform(1e-6, 1e-4, (4, 5))
    c = TileCircuit(r_wl=20.0, r_bl=30.0, r_driver=3.0, r_sense=4.0, cell="1T1R", r_on=2e3)
    tile = NodalTile(g, c)
    # gates open, unselected transistors without leakage: the read is the series path, exactly
    np.testing.assert_allclose(tile.floating_conductance(), series_conductance(g, c), rtol=1e-12)
    # with leakage the general path (per-row networks) reads more than the single path
    leaky = NodalTile(g, TileCircuit(r_wl=20.0, r_bl=30.0, cell="1T1R", r_on=2e3, g_off=1e-7))
    assert np.all(leaky.floating_conductance() > series_conductance(g, leaky.circuit))


def test_series_error_table_in_docs_is_reproduced():
    """docs/devices.md, section "IR drop": the rows with N <= 64 are recomputed here (the rest: slow test)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("bench_irdrop", ROOT / "benchmarks" / "irdrop.py")
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    rows = _doc_table()
    assert len(rows) == len(bench.TABLE)
    for (n, g, r, loss_n, loss_s, ratio, err), key in zip(rows, bench.TABLE, strict=True):
        assert (n, g, r) == (key[0], pytest.approx(key[1]), key[2])
        if n > 64:
            continue
        got = bench.error_row(n, g, r)
        assert got["loss_nodal"] == pytest.approx(loss_n, rel=1e-3)
        assert got["loss_series"] == pytest.approx(loss_s, rel=1e-3)
        assert got["max_err"] == pytest.approx(err, rel=1e-3)
        assert got["ratio"] == pytest.approx(ratio, abs=0.06)


@pytest.mark.slow
def test_series_error_table_large_rows():
    import importlib.util

    spec = importlib.util.spec_from_file_location("bench_irdrop", ROOT / "benchmarks" / "irdrop.py")
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    for n, g, r, loss_n, loss_s, _ratio, err in _doc_table():
        got = bench.error_row(n, g, r)
        assert got["loss_nodal"] == pytest.approx(loss_n, rel=1e-3)
        assert got["loss_series"] == pytest.approx(loss_s, rel=1e-3)
        assert got["max_err"] == pytest.approx(err, rel=1e-3)


def _doc_table():
    text = (ROOT / "docs" / "devices.md").read_text()
    section = text[text.index("## IR drop"):]
    out = []
    num, pct = r"([\d.]+)", r"([\d.]+)%"
    row = rf"^\| (\d+) x \d+ \| {num} \| {num} \| {pct} \| {pct} \| {num} \| {pct} \|$"
    for m in re.finditer(row, section, flags=re.M):
        n, g, r, ln, ls, ratio, err = m.groups()
        out.append((int(n), float(g) * 1e-6, float(r), float(ln) / 100, float(ls) / 100, float(ratio),
                    float(err) / 100))
    return out


def test_crossbar_nodal_read_matches_solver_and_cache():
    n_pre, n_post = 12, 10
    pre, post = np.divmod(np.arange(n_pre * n_post), n_post)
    w = np.random.default_rng(7).uniform(0.1, 1.0, pre.size)
    dev = LinearStepDevice(g_min=1e-6, g_max=1e-4, dg_up=1e-6, dg_down=1e-6)
    spec = Crossbar(device=dev, encoding="single", scale="fit",
                    array=ArraySpec(16, 16, cell="1R", r_wire=20.0, read_scheme="grounded", ir_drop="nodal"))
    cb = CrossbarState(spec, pre, post, w, seed=0)
    g = cb.g.reshape(n_pre, n_post)
    t = effective_conductance(g, TileCircuit(r_wl=20.0, r_bl=20.0), "grounded")
    np.testing.assert_allclose(cb.read_conductances(), t.ravel(), rtol=1e-12)
    # row-parallel reads are superpositions of the kernel's per-row reads
    v = np.full(n_pre, 0.2)
    np.testing.assert_allclose(v @ cb.read_conductances().reshape(n_pre, n_post),
                               NodalTile(g, TileCircuit(r_wl=20.0, r_bl=20.0)).read(v), rtol=1e-12)
    series = CrossbarState(Crossbar(device=dev, encoding="single", scale="fit",
                                    array=ArraySpec(16, 16, cell="1R", r_wire=20.0, read_scheme="grounded",
                                                    ir_drop="series")), pre, post, w, seed=0)
    assert np.all(series.read_conductances() > cb.read_conductances())
    # cached per tile: unchanged conductances are not solved again; a write invalidates
    cache = cb._nodal_cache
    before = cache[0][1]
    cb._after_write()
    assert cb._nodal_cache[0][1] is before
    cb.apply_pulses(np.r_[5, np.zeros(pre.size - 1, dtype=np.int64)])
    assert cb._nodal_cache[0][1] is not before
    g2 = cb.g.reshape(n_pre, n_post)
    np.testing.assert_allclose(cb.read_conductances(),
                               effective_conductance(g2, TileCircuit(r_wl=20.0, r_bl=20.0)).ravel(), rtol=1e-12)


def test_array_spec_validation_names_parameter():
    with pytest.raises(ValueError, match=r"ir_drop must be one of \['auto', 'nodal', 'series'\], got 'exact'"):
        ArraySpec(ir_drop="exact")
    with pytest.raises(ValueError, match="v_read"):
        ArraySpec(v_read=0.0)
    with pytest.raises(ValueError, match=r"rows\*cols=65536"):
        ArraySpec(cell="1S1R", ir_drop="nodal")
    with pytest.raises(ValueError, match="r_wl"):
        TileCircuit(r_wl=-1.0)
    with pytest.raises(ValueError, match="cell must be one of"):
        TileCircuit(cell="2T2R")
    assert ArraySpec().ir_model == "nodal"  # 1T1R, floating: the single-path closed form
    assert ArraySpec(cell="1R").ir_model == "nodal" and ArraySpec(512, 512, cell="1R").ir_model == "nodal"
    assert ArraySpec(1024, 512, cell="1R").ir_model == "series"
    assert ArraySpec(16, 16, cell="1S1R").ir_model == "series"


def _nested_vs_splu(g, circ):
    nested, splu = NodalTile(g, circ, solver="nested"), NodalTile(g, circ, solver="splu")
    t_n, t_s = nested.transfer(), splu.transfer()
    np.testing.assert_allclose(t_n, t_s, rtol=1e-9, atol=0)
    y_n, y_s = nested.port_admittance(), splu.port_admittance()
    np.testing.assert_allclose(y_n, y_s, rtol=0, atol=1e-9 * np.abs(y_s).max())
    return nested, t_s


# regimes: G r N^2 from ~0.02 (weak IR drop) to ~400 (far cells lose most of their signal)
@pytest.mark.parametrize("shape, r, g_hi, seed", [
    ((64, 64), 0.5, 1e-5, 0), ((64, 64), 2.0, 1e-4, 1), ((64, 64), 100.0, 1e-3, 2),
    ((37, 53), 1.0, 1e-4, 3), ((100, 80), 2.5, 1e-4, 4), ((128, 128), 1.0, 1e-4, 5), ((3, 130), 4.0, 1e-4, 6),
])
def test_nested_solver_matches_sparse_lu(shape, r, g_hi, seed):
    rng = np.random.default_rng(seed)
    g = rng.uniform(0.0, g_hi, shape)
    g[rng.random(shape) < 0.05] = 0.0  # empty cross-points: the Schur complements must stay definite
    circ = TileCircuit(r_wl=r, r_bl=1.7 * r, r_driver=rng.uniform(0, 20), r_sense=rng.uniform(0, 20))
    nested, t = _nested_vs_splu(g, circ)
    v = rng.uniform(0.0, 0.3, (3, shape[0]))
    np.testing.assert_allclose(nested.read(v), v @ t, rtol=1e-9, atol=1e-9 * np.abs(v @ t).max())
    assert np.max(1.0 - t.sum(axis=0) / np.maximum(g.sum(axis=0), 1e-30)) > 1e-4  # the wires matter here


def test_nested_solver_1t1r_and_floating():
    rng = np.random.default_rng(8)
    g = rng.uniform(1e-6, 1e-4, (24, 40))
    leaky = TileCircuit(r_wl=3.0, r_bl=5.0, r_driver=10.0, cell="1T1R", r_on=1e3, g_off=1e-8)
    _nested_vs_splu(g, leaky)
    circ = TileCircuit(r_wl=3.0, r_bl=5.0, r_sense=7.0)
    np.testing.assert_allclose(NodalTile(g, circ).floating_conductance(),
                               NodalTile(g, circ, solver="splu").floating_conductance(), rtol=1e-9)
    assert NodalTile(g, TileCircuit(r_wl=0.0, r_bl=5.0)).solver == "splu"  # merged word lines: sparse LU
    with pytest.raises(ValueError, match="solver='nested' needs"):
        NodalTile(g, TileCircuit(r_wl=0.0, r_bl=5.0), solver="nested")
    with pytest.raises(ValueError, match="solver must be one of"):
        NodalTile(g, circ, solver="cg")


@pytest.mark.parametrize("horizontal", [True, False])
def test_merge_kernel_matches_reference(horizontal):
    """The numba merge equals a dense solve per pair of boxes (random boxes: Schur complements of random
    connected Laplacians, 2 x 3 of them, 6 ports each, 2 shared)."""
    rng = np.random.default_rng(9)
    s = np.empty((2, 4, 6, 6)) if horizontal else np.empty((4, 2, 6, 6))
    for idx in np.ndindex(s.shape[:2]):
        w = rng.uniform(0.1, 2.0, (9, 9))
        lap = np.diag((w + w.T).sum(1)) - (w + w.T)
        ii, ee = np.arange(6, 9), np.arange(6)
        s[idx] = lap[np.ix_(ee, ee)] - lap[np.ix_(ee, ii)] @ np.linalg.solve(lap[np.ix_(ii, ii)], lap[np.ix_(ii, ee)])
    ext_a, int_a = np.array([0, 1, 2, 3]), np.array([4, 5])
    ext_b, int_b = np.array([2, 3, 4, 5]), np.array([0, 1])
    shape = (2, 2, 8, 8)
    out, ref = np.full(shape, np.nan), np.full(shape, np.nan)
    assert merge_boxes(s, horizontal, ext_a, int_a, ext_b, int_b, out)
    assert merge_boxes_reference(s, horizontal, ext_a, int_a, ext_b, int_b, ref)
    np.testing.assert_allclose(out, ref, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(out.sum(-1), 0.0, atol=1e-12)
    bad = s.copy()
    bad[..., 4, 4] = bad[..., 0, 0] = -1.0  # an indefinite interface is reported, not factorised
    assert not merge_boxes(bad, horizontal, ext_a, int_a, ext_b, int_b, out)


@pytest.mark.parametrize("horizontal", [True, False])
def test_stored_ports_follow_the_merged_order(horizontal):
    """Boxes stored with their ports permuted (as the nested solve keeps them, in merged order) merge
    through :func:`stored_ports` to the same box as the canonical boxes through :func:`level_ports`."""
    h, w, n_p = 2, 2, 8
    rng = np.random.default_rng(13)
    s = np.empty((2, 4, n_p, n_p)) if horizontal else np.empty((4, 2, n_p, n_p))
    for idx in np.ndindex(s.shape[:2]):  # Schur complements of random connected Laplacians onto n_p ports
        wts = rng.uniform(0.1, 2.0, (n_p + 3, n_p + 3))
        lap = np.diag((wts + wts.T).sum(1)) - (wts + wts.T)
        ii, ee = np.arange(n_p, n_p + 3), np.arange(n_p)
        s[idx] = lap[np.ix_(ee, ee)] - lap[np.ix_(ee, ii)] @ np.linalg.solve(lap[np.ix_(ii, ii)], lap[np.ix_(ii, ee)])
    perm = rng.permutation(n_p)
    stored = np.empty_like(s)
    stored[..., perm[:, None], perm] = s  # canonical port q at row perm[q]
    ext_a, int_a, ext_b, int_b, pos = level_ports(horizontal, h, w)
    s_ext_a, s_int_a, s_ext_b, s_int_b, s_pos, new = stored_ports(horizontal, h, w, perm)
    shape = (2, 2, pos.size, pos.size)
    out, ref = np.full(shape, np.nan), np.full(shape, np.nan)
    assert merge_boxes(stored, horizontal, s_ext_a, s_int_a, s_ext_b, s_int_b, out)
    assert merge_boxes_reference(s, horizontal, ext_a, int_a, ext_b, int_b, ref)
    np.testing.assert_allclose(out, ref, rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(s_pos, pos)
    np.testing.assert_array_equal(new[pos], np.arange(pos.size))  # merged port e is canonical port pos[e]


@pytest.mark.slow
def test_nested_solver_matches_sparse_lu_256():
    rng = np.random.default_rng(10)
    _nested_vs_splu(rng.uniform(1e-6, 1e-4, (256, 256)), TileCircuit(r_wl=1.0, r_bl=1.0))


def test_cell_and_leaf_kernels_match_reference():
    """Cells in closed form, and 8 x 8 leaf boxes reduced in one go, equal their numpy twins (which run
    whole levels of dense solves); every box is a Laplacian (rows sum to zero, symmetric)."""
    rng = np.random.default_rng(11)
    g = rng.uniform(0.0, 1e-3, (16, 32))
    g[3, 5] = 0.0
    args = (g, 0.4, 0.3, 2.0, 1.5)
    np.testing.assert_allclose(cell_boxes(*args, np.empty((16, 32, 4, 4))), cell_boxes_reference(*args),
                               rtol=1e-14, atol=1e-15)
    out = np.full((2, 4, 32, 32), np.nan)
    assert leaf_boxes(*args, 8, out)
    ref = leaf_boxes_reference(*args, 8)
    np.testing.assert_allclose(out, ref, rtol=1e-11, atol=1e-12 * np.abs(ref).max())
    np.testing.assert_allclose(out.sum(-1), 0.0, atol=1e-12)
    np.testing.assert_allclose(out, np.swapaxes(out, -1, -2), rtol=0, atol=1e-15)


def test_blas_merge_gather_scatter_match_reference():
    """The gather before and the scatter after the BLAS calls of a large merge equal their numpy twins."""
    rng = np.random.default_rng(12)
    a, b = rng.normal(size=(10, 10)), rng.normal(size=(10, 10))
    a, b = a + a.T, b + b.T  # boxes are symmetric
    int_a, int_b = np.array([7, 8, 9]), np.array([0, 1, 2])
    ext_a, ext_b = np.array([0, 2, 4, 6]), np.array([3, 5, 9])
    kii, e_t = np.empty((3, 3)), np.empty((7, 3))
    gather_interface(a, b, int_a, int_b, ext_a, ext_b, kii, e_t)
    k_ref, e_ref = gather_interface_reference(a, b, int_a, int_b, ext_a, ext_b)
    np.testing.assert_array_equal(kii, k_ref)
    np.testing.assert_array_equal(e_t, e_ref)
    wtw = rng.normal(size=(7, 7))  # only its upper triangle may be read
    wtw_low = np.triu(wtw) + np.tril(np.full((7, 7), np.nan), -1)
    pos = rng.permutation(9)[:7]
    out, ref = np.zeros((9, 9)), np.zeros((9, 9))
    scatter_merged(a, b, ext_a, ext_b, wtw_low, pos, out)
    scatter_merged_reference(a, b, ext_a, ext_b, np.triu(wtw), pos, ref)
    np.testing.assert_allclose(out, ref, rtol=1e-14, atol=1e-14)
    np.testing.assert_allclose(out.sum(-1), 0.0, atol=1e-12)
