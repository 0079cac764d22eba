"""Nodal IR-drop solver: speed and the error of the series approximation.

``python benchmarks/irdrop.py [--n 512] [--repeats 5]`` times the nodal solve of an ``n x n`` 1R tile
(random conductances 1-100 uS, 1 Ohm per wire segment), alternating the two solvers: the nested Schur
complements (build + the whole transfer matrix, which is what a crossbar's programming needs, and one
more read after it) and the sparse LU reference (build + factorisation + one row-parallel read, and
one more read with the factorisation reused); medians of ``repeats`` runs, wall-clock time and the
process's CPU time (on a shared machine the CPU time is what the solve costs when it has a core to itself).

``python benchmarks/irdrop.py --table`` prints the table of docs/devices.md (section "IR drop"):
uniform tiles of ``N x N`` cells at ``G``, ``r`` ohms per word- and bit-line segment, every row driven
at 0.2 V, bit lines at virtual ground; per tile the signal lost at the far column (the last one) by
the nodal solve and by the series model ``G / (1 + G R_s)``, their ratio, and the largest error of the
series model's column currents relative to the nodal ones.  ``error_table`` is what
tests/devices/test_irdrop.py recomputes.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

from memr_snn.devices.irdrop import NodalTile, TileCircuit, series_conductance

V_READ = 0.2
TABLE = [(32, 10e-6, 1.0), (64, 10e-6, 1.0), (64, 50e-6, 1.0), (128, 10e-6, 1.0), (128, 50e-6, 1.0),
         (256, 10e-6, 1.0), (256, 50e-6, 1.0), (256, 10e-6, 2.5)]


def error_row(n: int, g: float, r: float) -> dict:
    """Far-column losses (nodal, series) and the series model's worst column error for one tile."""
    cond = np.full((n, n), g)
    circuit = TileCircuit(r_wl=r, r_bl=r)
    v = np.full(n, V_READ)
    nodal = NodalTile(cond, circuit).read(v)
    series = v @ series_conductance(cond, circuit)
    ideal = v @ cond
    loss_nodal = 1.0 - nodal[-1] / ideal[-1]
    loss_series = 1.0 - series[-1] / ideal[-1]
    return {"n": n, "g": g, "r": r, "loss_nodal": loss_nodal, "loss_series": loss_series,
            "ratio": loss_nodal / loss_series, "max_err": float(np.max(np.abs(series - nodal) / nodal))}


def error_table(rows=TABLE) -> list[dict]:
    return [error_row(*row) for row in rows]


def timing(n: int, repeats: int, seed: int = 0) -> dict:
    rng = np.random.default_rng(seed)
    g = rng.uniform(1e-6, 100e-6, (n, n))
    v = rng.uniform(0.0, V_READ, n)
    circuit = TileCircuit(r_wl=1.0, r_bl=1.0)
    NodalTile(np.full((4, 4), 1e-5), circuit).transfer()  # compile the kernel outside the timings
    t = {"nested_transfer_s": [], "nested_transfer_cpu_s": [], "nested_read_s": [], "splu_first_read_s": [],
         "splu_first_read_cpu_s": [], "splu_read_s": []}
    for _ in range(repeats):
        t0, c0 = time.perf_counter(), time.process_time()
        tile = NodalTile(g, circuit, solver="nested")
        tile.transfer()
        t1, c1 = time.perf_counter(), time.process_time()
        tile.read(v)
        t2, c2 = time.perf_counter(), time.process_time()
        ref = NodalTile(g, circuit, solver="splu")
        ref.read(v)
        t3, c3 = time.perf_counter(), time.process_time()
        ref.read(v[::-1].copy())
        t4 = time.perf_counter()
        for key, dt in zip(t, (t1 - t0, c1 - c0, t2 - t1, t3 - t2, c3 - c2, t4 - t3), strict=True):
            t[key].append(dt)
    return {"n": n, **{k: statistics.median(x) for k, x in t.items()}}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=512)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--table", action="store_true", help="print the series-model error table instead")
    a = ap.parse_args()
    if a.table:
        print("| N x N | G [uS] | r [Ohm] | far-column loss, nodal | same, series | ratio | "
              "max column error of series |")
        print("|---|---|---|---|---|---|---|")
        for row in error_table():
            print(f"| {row['n']} x {row['n']} | {row['g'] * 1e6:g} | {row['r']:g} | {row['loss_nodal']:.4%} | "
                  f"{row['loss_series']:.4%} | {row['ratio']:.1f} | {row['max_err']:.4%} |")
        return
    t = timing(a.n, a.repeats)
    print(f"{t['n']} x {t['n']} tile ({2 * t['n'] ** 2} nodes), median of {a.repeats}, alternating: nested "
          f"build + transfer matrix {t['nested_transfer_s']:.3f} s (CPU {t['nested_transfer_cpu_s']:.3f} s), "
          f"a read after it {t['nested_read_s'] * 1e3:.2f} ms; sparse LU build + factorise + one read "
          f"{t['splu_first_read_s']:.3f} s (CPU {t['splu_first_read_cpu_s']:.3f} s), a read after it "
          f"{t['splu_read_s'] * 1e3:.1f} ms")

if __name__ == "__main__":
    main()
