"""Learning benchmarks: ``python benchmarks/learning.py [--repeats R] [--quick]``.

1. Song, Miller & Abbott (2000), 1000 inputs, 100 s of STDP: memr_snn's run time against Brian2
   ``cpp_standalone`` running its own STDP example (the simulation alone: its timed C++ main loop,
   code generation and compilation excluded; memr_snn's kernels are compiled and cached beforehand
   by a short warm-up run).  Contenders alternate, ``repeats`` rounds, medians and their ratio.
   Target: memr_snn <= 0.5x Brian2 cpp_standalone.
2. Surrogate-gradient training of the digits classifier: seconds per epoch (128 hidden LIF neurons,
   20 steps, 1347 training samples, minibatch 32), median over epochs.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np


def sma(repeats: int, duration: float) -> dict:
    from memr_snn.networks.song_miller_abbott import song_miller_abbott

    from memr_snn.bench.peers.brian2_sma import run_brian2_sma

    song_miller_abbott(seed=99).net.run(0.2)  # compile / load the cached kernels
    ours, theirs, theirs_wall = [], [], []
    for r in range(repeats):
        model = song_miller_abbott(seed=1 + r)
        t = time.perf_counter()
        model.net.run(duration)
        ours.append(time.perf_counter() - t)
        ref = run_brian2_sma(duration=duration, seed=1 + r)
        theirs.append(ref["sim_s"])
        theirs_wall.append(ref["wall_s"])
    m, b = statistics.median(ours), statistics.median(theirs)
    return {"memr_snn_s": m, "brian2_cpp_sim_s": b, "brian2_cpp_wall_s": statistics.median(theirs_wall),
            "ratio": m / b}


def surrogate_epoch(epochs: int) -> dict:
    from memr_snn.learning.datasets import load_digits_spikes, rate_encode
    from memr_snn.learning.snn import RSNNConfig, init_weights
    from memr_snn.learning.surrogate import train

    ds = load_digits_spikes(20, dt=1e-3, max_rate=500.0, seed=0)
    cfg = RSNNConfig(n_in=64, n_rec=128, n_out=10, dt=1e-3, recurrent=False)
    w = init_weights(cfg, 0, in_gain=2.0)
    rng = np.random.default_rng(0)
    times = []
    last = [time.perf_counter()]

    def tick(epoch, rec):
        now = time.perf_counter()
        times.append(now - last[0])
        last[0] = now

    train(cfg, w, lambda e: rate_encode(ds.images_train, 20, 1e-3, 500.0, rng), ds.y_train, "mean_membrane",
          epochs=epochs, batch_size=32, lr=5e-3, seed=0, callback=tick)
    return {"seconds_per_epoch": statistics.median(times), "samples": len(ds.y_train)}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--quick", action="store_true", help="10 s of STDP, one round, 2 epochs")
    a = p.parse_args()
    reps, dur, ep = (1, 10.0, 2) if a.quick else (a.repeats, 100.0, 5)
    s = sma(reps, dur)
    print(f"Song-Miller-Abbott, 1000 inputs, {dur:g} s, median of {reps}:")
    print("| contender | run [s] | ratio |")
    print("|---|---|---|")
    print(f"| memr_snn | {s['memr_snn_s']:.2f} | {s['ratio']:.2f}x |")
    print(f"| Brian2 cpp_standalone (simulation) | {s['brian2_cpp_sim_s']:.2f} | 1.00x |")
    print(f"| Brian2 cpp_standalone (run() incl. build) | {s['brian2_cpp_wall_s']:.2f} | |")
    e = surrogate_epoch(ep)
    print(f"\nSurrogate-gradient digits: {e['seconds_per_epoch']:.2f} s per epoch ({e['samples']} samples, "
          "128 hidden LIF, 20 steps, batch 32; median over epochs)")


if __name__ == "__main__":
    main()
