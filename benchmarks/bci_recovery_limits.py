"""What limits the spiking decoder's recovery from a 60 % unit loss: labels, data, devices, input retraining.

    python benchmarks/bci_recovery_limits.py [--seeds 100 101 102] [--variants refit_decoded ...] [--preset ideal]

Per seed, the unit-loss protocol of :func:`memr_snn.bci.experiments.unit_loss_recovery` (harder
condition, ``snn_input``: fit, intact block, 60 % of the units silenced, lost block) and then, for each
variant, three adapted blocks, the decoder adapted (``partial_fit``) before each on labels of its
closed-loop data.  The session is rerun from its seed for every variant, so all variants share the
intact and the lost block.  Variants (``name``: labels, data per adaptation, input crossbar retrained):

* ``refit_decoded``: ReFIT re-aimed intentions at the decoded speed, last block, yes;
* ``refit_decoded_all``: the same on every block since the loss;
* ``refit_calibration``: ReFIT re-aimed intentions rescaled to the calibration's RMS moving speed
  (:func:`memr_snn.bci.rescale_speed`; what ``refit`` does by default), last block, yes;
* ``target``: the unit vector to the target times the calibration's RMS moving speed (zero inside the
  target), last block, yes; ``target_all``: on every block since the loss;
* ``intention``: the simulated user's true intention (not observable in an experiment: a bound);
* ``readout_decoded``, ``readout_calibration``, ``readout_target``: the labels above, readout only.

Printed: one JSON line per (seed, variant) with the success of the three adapted blocks, ``adapted`` (the mean
of blocks 2 and 3, as the protocol), ``recovery`` and the program pulses sent to the input and the readout
crossbar.  ``--preset`` builds the decoder on another device preset (e.g. ``ideal``); the session then differs
from the fit on.  The table of docs/bci.md ("Measured: fourth increment") was made with the default seeds.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import replace

import numpy as np
from memr_snn.bci import reestimate_intention, rescale_speed, run_block, run_session
from memr_snn.bci.experiments import hard_config
from memr_snn.bci.spiking import InputAdaptingSpikingDecoder
from memr_snn.bci.task import target_sequence

#: variant -> (labels, every block since the loss, retrain the input crossbar)
VARIANTS = {
    "refit_decoded": ("decoded", False, True),
    "refit_decoded_all": ("decoded", True, True),
    "refit_calibration": ("calibration", False, True),
    "target": ("target", False, True),
    "target_all": ("target", True, True),
    "intention": ("intention", False, True),
    "readout_decoded": ("decoded", False, False),
    "readout_calibration": ("calibration", False, False),
    "readout_target": ("target", False, False),
}


def _after_loss(seed: int):
    """The unit-loss protocol up to the lost block (as unit_loss_recovery runs it)."""
    config = replace(hard_config(), decoder="snn_input", closed_loop_blocks=1, days=1)
    res = run_session(config, seed=seed)
    rng = np.random.default_rng([seed, 0x1055])
    cortex = res.cortex
    lost = np.sort(rng.choice(cortex.n_units, size=int(round(0.6 * cortex.n_units)), replace=False))
    intact = res.closed_loop()[0].metrics["success_rate"]
    cortex.lose_units(lost)
    blk = run_block(cortex, res.task, res.user, target_sequence(config.task, config.trials_per_block, rng), res.decoder)
    return config, res, rng, intact, blk


def _labels(blk, kind: str, speed: float) -> np.ndarray:
    hold = blk.in_target.astype(bool)
    if kind == "intention":
        return blk.intended
    if kind == "target":
        g = blk.target - blk.cursor
        d = np.linalg.norm(g, axis=1)
        out = g * (speed / np.where(d > 0, d, 1.0))[:, None]
        out[hold | (d == 0)] = 0.0
        return out
    v = reestimate_intention(blk.velocity, blk.cursor, blk.target, hold)
    return rescale_speed(v, hold, speed) if kind == "calibration" else v


def run_variant(seed: int, name: str, blocks: int = 3) -> dict:
    kind, every, adapt_input = VARIANTS[name]
    config, res, rng, intact, blk = _after_loss(seed)
    dec = res.decoder
    dec.params_ = replace(dec.params_, adapt_input=adapt_input)
    history, success = [blk], []
    for _ in range(blocks):
        use = history if every else history[-1:]
        dec.partial_fit(np.concatenate([b.counts for b in use]),
                        np.concatenate([_labels(b, kind, dec.calibration_speed_) for b in use]))
        history.append(run_block(res.cortex, res.task, res.user,
                                 target_sequence(config.task, config.trials_per_block, rng), dec))
        success.append(history[-1].metrics["success_rate"])
    lost = blk.metrics["success_rate"]
    adapted = float(np.mean(success[1:]))
    return {"seed": seed, "variant": name, "intact": intact, "lost": lost, "blocks": success, "adapted": adapted,
            "recovery": (adapted - lost) / (intact - lost) if intact > lost else float("nan"),
            "input_pulses": dec.input_writes_, "readout_pulses": dec.readout_writes_}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seeds", type=int, nargs="+", default=[100, 101, 102])
    ap.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=list(VARIANTS))
    ap.add_argument("--preset", default=None, help="device preset of the decoder (default: the decoder's, hfox_rram)")
    args = ap.parse_args()
    if args.preset is not None:
        InputAdaptingSpikingDecoder._defaults = {**InputAdaptingSpikingDecoder._defaults, "preset": args.preset}
    for seed in args.seeds:
        for name in args.variants:
            print(json.dumps(run_variant(seed, name)), flush=True)


if __name__ == "__main__":
    main()
