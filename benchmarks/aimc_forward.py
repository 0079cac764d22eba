"""AIMC forward pass vs numpy float matmul: ``python benchmarks/aimc_forward.py [--repeats R] [--quick]``.

For square layers of 512 x 512 and 2048 x 2048 (tiles of 512 x 512 device columns, differential:
1 and 16 x 2 tiles... see ``MappingConfig``) and batches of 1, 64 and 256, three variants are timed:

* ``numpy``  -- ``x @ W.T`` in float64 (the reference);
* ``ideal``  -- ``aimc.compile(..., io="ideal")``: ideal device, unlimited converters, no noise
  (per-tile products with digital accumulation of the partial sums, energy counters on);
* ``noisy``  -- every non-ideality: the ``pcm_gst`` device preset (variability, faults, read
  noise, drift read at t = 1 h), AIHWKit's default periphery (7-bit DAC, 9-bit ADC, output noise,
  noise and bound management).

The variants run in turn, ``repeats`` rounds, so machine noise hits all alike; printed are the
median times and the ratios to numpy.  Programming is done once before timing and not timed.
Run with ``OPENBLAS_NUM_THREADS=1`` for single-thread numbers.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

from memr_snn import aimc


def _time(f, x) -> float:
    t = time.perf_counter()
    f(x)
    return time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=11)
    ap.add_argument("--quick", action="store_true", help="512 x 512 only, 3 repeats")
    args = ap.parse_args()
    sizes = (512,) if args.quick else (512, 2048)
    repeats = 3 if args.quick else args.repeats
    rng = np.random.default_rng(0)
    print(f"{'n':>6}{'batch':>7}{'numpy_ms':>11}{'ideal_ms':>11}{'noisy_ms':>11}{'ideal/np':>10}{'noisy/np':>10}"
          f"{'tiles':>7}")
    for n in sizes:
        w = rng.standard_normal((n, n)) / np.sqrt(n)
        spec = [{"type": "linear", "weight": w}]
        ideal = aimc.compile(spec, io="ideal")
        noisy = aimc.compile(spec, io="aihwkit_inference", device="pcm_gst", seed=1)
        noisy.set_time(3600.0)
        for b in (1, 64, 256):
            x = rng.standard_normal((b, n))
            runs = {"numpy": lambda v, w=w: v @ w.T, "ideal": ideal, "noisy": noisy}
            for f in runs.values():  # warm up
                f(x)
            times: dict[str, list[float]] = {k: [] for k in runs}
            for _ in range(repeats):
                for k, f in runs.items():
                    times[k].append(_time(f, x))
            med = {k: statistics.median(v) for k, v in times.items()}
            print(f"{n:>6}{b:>7}{med['numpy'] * 1e3:>11.3f}{med['ideal'] * 1e3:>11.3f}{med['noisy'] * 1e3:>11.3f}"
                  f"{med['ideal'] / med['numpy']:>10.2f}{med['noisy'] / med['numpy']:>10.2f}{ideal.n_tiles:>7}")


if __name__ == "__main__":
    main()
