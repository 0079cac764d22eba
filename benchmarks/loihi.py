"""Loihi fixed point: memr_snn vs Lava 0.10's CPU ``fixed_pt`` simulation on the same network.

``MEMR_SNN_PYTHON310=/path/to/py310-with-lava python benchmarks/loihi.py [--n 1000] [--steps 10000]
[--repeats 3] [--lava-steps N]``

Network: ``n`` Loihi LIF neurons (one population, per-neuron bias mantissa/exponent) with a dense
recurrent ``n x n`` mixed-sign 8-bit weight matrix (every pair connected), 1 input-free run of
``steps`` steps.  Both sides record the spike raster; the script checks that the rasters are identical.

* memr_snn: :func:`memr_snn.hardware.run_fixed_point` (numba kernel, compiled and cached by a warm-up
  run beforehand); the time includes flattening the network and the whole run.
* Lava: the adapter's runner (``memr_snn/adapters/_lava_runner.py``) in the Python 3.10 interpreter,
  ``Loihi2SimCfg(select_tag="fixed_pt")`` (``PyLifModelBitAcc`` + ``PyDenseModelBitAcc``, a
  ``Monitor`` on the spikes).  Graph building, compilation and process start-up are excluded: the
  runner runs 10 warm-up steps and the timed part is the remaining ``lava_steps - 10`` steps.

Contenders alternate for ``repeats`` rounds; medians of seconds per step are compared.  If Lava is
run on fewer steps than memr_snn (``--lava-steps``), the output says so and the ratio is per step.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from memr_snn.adapters.lava import RUNNER_PATH, LavaUnavailableError, find_lava_python, write_lava_artifact
from memr_snn.hardware import (
    FixedPointConnection,
    FixedPointNetwork,
    FixedPointPopulation,
    LoihiLIFParams,
    run_fixed_point,
)


def build(n: int, seed: int = 0) -> FixedPointNetwork:
    rng = np.random.default_rng(seed)
    params = LoihiLIFParams(du=300, dv=200, vth=400, bias_mant=rng.integers(100, 200, n), bias_exp=6)
    pop = FixedPointPopulation("lif", n, params, v0=rng.integers(0, 400 << 6, n))
    w = rng.integers(-20, 16, (n, n))
    return FixedPointNetwork([pop], [], [FixedPointConnection("lif", "lif", w, weight_exp=0)])


def run_lava(net, n_steps, python, warmup=10):
    with tempfile.TemporaryDirectory() as tmp:
        fin, fout = Path(tmp) / "in.npz", Path(tmp) / "out.npz"
        write_lava_artifact(net, n_steps, fin)
        with np.load(fin) as z:
            arrays = {k: z[k] for k in z.files}
        arrays["warmup_steps"] = np.int64(warmup)
        np.savez(fin, **arrays)
        t = time.perf_counter()
        subprocess.run([python, "-I", str(RUNNER_PATH), str(fin), str(fout)], check=True)
        wall = time.perf_counter() - t
        with np.load(fout) as z:
            return z["pop0_spikes"].astype(bool), float(z["steady_s"]), int(z["steady_steps"]), wall


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=1000)
    ap.add_argument("--steps", type=int, default=10_000)
    ap.add_argument("--lava-steps", type=int, default=None, help="steps for Lava (default: --steps)")
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args(argv)
    lava_steps = args.lava_steps or args.steps
    try:
        python = find_lava_python()
    except LavaUnavailableError as exc:  # nothing to compare against: say why, fail nothing else
        print(f"benchmarks/loihi.py: skipped, {exc}", file=sys.stderr)
        return 0
    net = build(args.n)
    t = time.perf_counter()
    run_fixed_point(net, 20)  # compile (first run) or load the cached kernel
    print(f"memr_snn first call (numba compile or cache load + 20 steps): {time.perf_counter() - t:.2f} s")
    ours, theirs = [], []
    same = None
    for r in range(args.repeats):
        t = time.perf_counter()
        res = run_fixed_point(net, args.steps)
        ours.append((time.perf_counter() - t) / args.steps)
        spikes_lava, steady_s, steady_steps, wall = run_lava(net, lava_steps, python)
        theirs.append(steady_s / steady_steps)
        mine = res.spikes["lif"][:lava_steps]
        same = bool(np.array_equal(mine, spikes_lava))
        print(f"round {r}: memr_snn {ours[-1] * 1e6:.2f} us/step, lava {theirs[-1] * 1e6:.1f} us/step "
              f"({steady_steps} timed steps, {wall:.1f} s wall incl. start-up), identical spikes: {same}",
              flush=True)
    m, lv = statistics.median(ours), statistics.median(theirs)
    rate = res.spikes["lif"].mean() / 1.0
    print(f"network: {args.n} LIF, dense recurrent {args.n}x{args.n} mixed-sign weights, "
          f"spike probability per neuron-step {rate:.4f}")
    print(f"memr_snn fixed point: {args.steps} steps, median {m * args.steps:.3f} s ({m * 1e6:.2f} us/step)")
    note = "" if lava_steps == args.steps else f" (Lava measured on {lava_steps} steps only, compared per step)"
    print(f"Lava 0.10 fixed_pt:   {lava_steps} steps, median {lv * (lava_steps - 10):.3f} s for {lava_steps - 10} "
          f"timed steps ({lv * 1e6:.1f} us/step){note}")
    print(f"speed-up memr_snn vs Lava: {lv / m:.1f}x per step; spikes identical: {same}")
    return 0 if same else 1


if __name__ == "__main__":
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    sys.exit(main())
