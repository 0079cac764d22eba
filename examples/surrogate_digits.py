"""Surrogate-gradient (BPTT) LIF classifier on rate-coded 8x8 digits, then mapped to memristive crossbars.

Trains a feed-forward layer of 128 LIF neurons with a leaky readout on scikit-learn's 8x8 digits
(rate-coded Bernoulli spikes, 20 steps of 1 ms, fixed stratified split 1347/450), one network per
seed; prints the float test accuracy per seed and mean ± std.  With ``--device`` the trained weights
are programmed (program-and-verify) into crossbars of that device preset, one draw of devices per
device seed, and classified with noisy per-step device reads; the mapped accuracy is printed as
mean ± std over all (seed, device seed) pairs.  Output: a table on stdout (one line per seed on stderr
as it finishes), and results.json, results.md and accuracy.png in --out (default digits_output/).

Run:  python examples/surrogate_digits.py --seeds 0 1 2 --device hfox_rram
      python examples/surrogate_digits.py --hw-aware hfox_rram --device hfox_rram   (hardware-aware training)
Needs scikit-learn (the ``datasets`` extra).
"""

import sys

from memr_snn.cli_experiments import digits_main as main

if __name__ == "__main__":
    main(sys.argv[1:])
