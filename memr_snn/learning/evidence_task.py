"""The evidence-accumulation task of Bellec et al. (2020), the temporal benchmark of e-prop.

Part of :mod:`memr_snn.learning.eprop`; import :func:`evidence_accumulation` from there.
"""

from __future__ import annotations

import numpy as np

from .._validation import check_int_at_least, check_nonnegative, check_positive


# --------------------------------------------------------------------------- temporal task
def evidence_accumulation(n_samples: int, seed: int = 0, *, n_cues: int = 3, n_per_group: int = 10,
                          cue_steps: int = 20, gap_steps: int = 10, delay_steps: int = 200, recall_steps: int = 30,
                          f_cue: float = 100.0, f_noise: float = 10.0,
                          dt: float = 1e-3) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Evidence accumulation (Bellec et al. 2020, Fig. 3, scaled down): which side had more cues?

    Four input groups of ``n_per_group`` Poisson channels: left cues, right cues, recall
    cue, background noise.  ``n_cues`` cues (each ``cue_steps`` long at ``f_cue`` on the
    left or right group, side drawn fairly, ``gap_steps`` apart) are followed by a delay of
    ``delay_steps`` and a recall cue of ``recall_steps`` (recall group at ``f_cue``); the
    noise group fires at ``f_noise`` throughout.  The label is the side of the majority
    of cues (``n_cues`` odd: no ties).

    Returns
    -------
    x : numpy.ndarray, shape (n_samples, T, 4 * n_per_group)
        Spikes (0 / 1).
    labels : numpy.ndarray, shape (n_samples,)
        0 (left) or 1 (right).
    mask : numpy.ndarray, shape (T,)
        The recall steps (where the decision is read and learned).
    """
    n_samples = check_int_at_least("n_samples", n_samples, 1)
    check_int_at_least("seed", seed, 0)
    n_cues = check_int_at_least("n_cues", n_cues, 1)
    if n_cues % 2 == 0:
        raise ValueError(f"n_cues must be odd (no ties), got {n_cues}")
    n_per_group = check_int_at_least("n_per_group", n_per_group, 1)
    cue_steps = check_int_at_least("cue_steps", cue_steps, 1)
    gap_steps = check_int_at_least("gap_steps", gap_steps, 0)
    delay_steps = check_int_at_least("delay_steps", delay_steps, 0)
    recall_steps = check_int_at_least("recall_steps", recall_steps, 1)
    check_nonnegative("f_cue", f_cue, "Hz")
    check_nonnegative("f_noise", f_noise, "Hz")
    check_positive("dt", dt, "s")
    rng = np.random.default_rng([int(seed), 0xEA])
    period = cue_steps + gap_steps
    nt = n_cues * period + delay_steps + recall_steps
    g = n_per_group
    sides = rng.integers(0, 2, size=(n_samples, n_cues))
    labels = (sides.sum(axis=1) * 2 > n_cues).astype(np.int64)
    rate = np.zeros((n_samples, nt, 4 * g))
    rate[:, :, 3 * g:] = f_noise * dt
    for c in range(n_cues):
        t0 = c * period
        for side in (0, 1):
            rows = sides[:, c] == side
            rate[np.ix_(rows, np.arange(t0, t0 + cue_steps), np.arange(side * g, (side + 1) * g))] = f_cue * dt
    rate[:, nt - recall_steps:, 2 * g:3 * g] = f_cue * dt
    x = (rng.random(rate.shape) < rate).astype(np.float64)
    mask = np.zeros(nt, dtype=bool)
    mask[nt - recall_steps:] = True
    return x, labels, mask
