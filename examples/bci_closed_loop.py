"""Closed-loop BCI: calibrate a Kalman filter, use it, refit it with ReFIT, lose units, fall back safely.

A 192-unit synthetic motor cortex encodes the velocity a simulated user intends while it watches the
decoded cursor in an 8-target centre-out task.  The script runs an observation block, fits a ReFIT
Kalman filter guarded by the safety layer, runs two closed-loop blocks (refitting after the first),
then silences 20 units mid-block and shows the fallback taking over.

Run:  python examples/bci_closed_loop.py [--quick]
"""

from __future__ import annotations

import argparse

import numpy as np
from memr_snn.bci import CortexParams, FaultParams, SessionConfig, run_block, run_session, target_sequence


def main(quick: bool = False, seed: int = 0) -> dict:
    cfg = SessionConfig(cortex=CortexParams(n_units=96 if quick else 192), decoder="refit", safety=FaultParams(),
                        observation_trials=16 if quick else 24, closed_loop_blocks=2,
                        trials_per_block=8 if quick else 16)
    res = run_session(cfg, seed=seed)
    for i, blk in enumerate(res.blocks):
        m = blk.metrics
        print(f"block {i} ({blk.kind:>11}): success {m['success_rate']:.0%}, time to target "
              f"{m['time_to_target']:.2f} s, dial-in {m['dial_in_time']:.2f} s, path efficiency "
              f"{m['path_efficiency']:.2f}, decode {m['latency_median'] * 1e6:.0f} us/bin (median)")
    # unit loss: silence 20 well-firing units 2 s into a new block
    dec, cortex, task, user = res.decoder, res.cortex, res.task, res.user
    lost = dec.monitored_[:20]
    cortex.lose_units(lost, at=cortex.time + 2.0)
    blk = run_block(cortex, task, user, target_sequence(cfg.task, cfg.trials_per_block, seed), dec, day=0)
    print(f"after losing {lost.size} units: success {blk.metrics['success_rate']:.0%}, switches:")
    for ev in dec.switches:
        print(f"  bin {ev.bin}: -> {ev.source} ({ev.reason[:60]}...), fallback on {ev.n_channels} channels")
    print(f"bins in {dec.n_in}, out {dec.n_out}: {dec.counts}")
    return {"blocks": res.blocks, "after_loss": blk, "switches": list(dec.switches), "counts": dec.counts,
            "lost": np.asarray(lost)}


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="96 units and fewer trials")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    main(args.quick, args.seed)
