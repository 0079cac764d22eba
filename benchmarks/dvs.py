"""DVS emulator and event utilities: speed.  ``python benchmarks/dvs.py [--size S] [--frames F] [--repeats R]``.

Measures, single-threaded:

* the first-call (compile or cache-load) time of the numba kernels (``cache=True``);
* the emulator on a textured image translated along the N-MNIST saccade path: ``S x S`` pixels,
  ``F`` frames, the ideal pixel and the noisy pixel (mismatch, refractory, leak, shot noise) --
  pixel-frames per second and events per second;
* ``denoise`` and ``refractory_filter`` on the emulated stream (events per second).

Median over ``repeats`` runs.  Not run in CI.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
from memr_snn.encoders.dvs import DVSParams, emulate_dvs, saccade_path, translate_image
from memr_snn.encoders.events import denoise, refractory_filter


def _median_time(fn, repeats: int) -> tuple[float, object]:
    times, out = [], None
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), out


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", type=int, default=128, help="sensor side [pixels] (default 128)")
    ap.add_argument("--frames", type=int, default=301, help="frames over 0.3 s (default 301)")
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args(argv)
    rng = np.random.default_rng(0)
    s = args.size
    image = 0.05 + 0.95 * rng.uniform(0, 1, (s // 8, s // 8)).repeat(8, 0).repeat(8, 1)
    times = np.linspace(0, 0.3, args.frames)
    path = saccade_path(times, 3.0)
    frames = translate_image(image, path[:, 0], path[:, 1], 0.05)
    tiny = frames[:3, :4, :4]

    t0 = time.perf_counter()
    emulate_dvs(tiny, times[:3])
    ev0 = emulate_dvs(tiny, times[:3]).events
    denoise(ev0, (4, 4), 1e-3)
    refractory_filter(ev0, (4, 4), 1e-3)
    print(f"first calls (compile or load the numba cache): {time.perf_counter() - t0:.2f} s")

    noisy = DVSParams(threshold_mismatch_sigma=0.03, refractory=5e-4, leak_rate=0.1, shot_noise_rate=0.5)
    pf = frames.shape[0] * s * s
    for name, params in (("ideal", DVSParams()), ("noisy", noisy)):
        sec, stream = _median_time(lambda p=params: emulate_dvs(frames, times, p, rng=1), args.repeats)
        print(f"emulate_dvs {name}: {s}x{s} px, {frames.shape[0]} frames: {sec * 1e3:.1f} ms, "
              f"{pf / sec / 1e6:.1f} M pixel-frames/s, {len(stream)} events ({len(stream) / sec / 1e6:.2f} M events/s)")
    ev = stream.events
    for name, fn in (("denoise", lambda: denoise(ev, stream.sensor_size, 5e-3)),
                     ("refractory_filter", lambda: refractory_filter(ev, stream.sensor_size, 1e-3))):
        sec, _ = _median_time(fn, args.repeats)
        print(f"{name}: {ev.size} events in {sec * 1e3:.1f} ms ({ev.size / sec / 1e6:.1f} M events/s)")


if __name__ == "__main__":
    main()
