r"""STDP rules as data: pair STDP, triplet STDP and reward-modulated STDP.

Give a projection ``plasticity=STDP(...)`` and its weights learn during the run,
inside the compiled loop (:mod:`memr_snn.kernel.plasticity` has the exact update
equations).  Amplitudes are in the projection's weight unit ([A] for
current-based targets, [S] for conductance-based ones), time constants in seconds.

* :class:`STDP` -- the pair rule with exponential windows (Bi & Poo 1998; Song,
  Miller & Abbott 2000): a pre-before-post pair at lag :math:`\Delta t > 0` changes
  the weight by :math:`A_+ e^{-\Delta t/\tau_+}`, post-before-pre by
  :math:`-A_- e^{-|\Delta t|/\tau_-}`; all-to-all or nearest-spike pairing;
  additive or multiplicative weight dependence; bounds ``[w_min, w_max]``.
* :class:`TripletSTDP` -- Pfister & Gerstner (2006): pair terms plus triplet
  terms with slow traces ``tau_x`` (pre) and ``tau_y`` (post); the "minimal
  all-to-all" visual-cortex fit is :meth:`TripletSTDP.visual_cortex`.
* :class:`RewardSTDP` -- any of the two, gated by a reward: the STDP change goes
  into a per-synapse eligibility trace (``tau_e``) and the weight follows
  :math:`\dot w = \eta\, R(t)\, e(t)`; set :math:`R` with
  :meth:`memr_snn.Network.set_reward` between steps (closed loops).
"""

from __future__ import annotations

import numpy as np

from .._validation import check_finite
from ..model.plasticity import (  # the rule descriptions live with the model; re-exported here
    DEPENDENCES,
    PAIRINGS,
    STDP,
    PlasticityRule,
    RewardSTDP,
    TripletSTDP,
    rule_from_dict,
)

__all__ = ["STDP", "TripletSTDP", "RewardSTDP", "PlasticityRule", "rule_from_dict", "run_with_reward",
           "DEPENDENCES", "PAIRINGS"]


def run_with_reward(net, projection, reward, duration: float, every: float | None = None) -> None:
    """Run ``net`` for ``duration`` seconds while a reward signal drives ``projection``'s :class:`RewardSTDP`.

    Parameters
    ----------
    net : memr_snn.Network
    projection : memr_snn.Projection
        A projection of ``net`` with a :class:`RewardSTDP` rule.
    reward : array_like or callable
        Either values, one per interval of ``every`` seconds (held constant within it), or
        ``reward(t) -> float`` called at the start of every interval with the network time [s]
        (the closed-loop case: it may read the network's state or spikes).
    duration : float
        Simulated time [s]; a whole number of intervals.
    every : float, optional
        Interval of the reward updates [s]; default one time step.
    """
    every = net.dt if every is None else float(every)
    n_int = net.steps_of(every, "every")
    n_total = net.steps_of(duration, "duration")
    if n_int < 1 or n_total % n_int:
        raise ValueError(f"duration ({duration!r} s) must be a whole number of reward intervals ({every!r} s)")
    n_upd = n_total // n_int
    values = None
    if not callable(reward):
        values = np.asarray(reward, dtype=np.float64).ravel()
        if values.size != n_upd:
            raise ValueError(f"reward has {values.size} values but the run has {n_upd} intervals of {every!r} s")
        check_finite("reward", values)
    for k in range(n_upd):
        net.set_reward(projection, float(values[k]) if values is not None else float(reward(net.t)))
        net.run_steps(n_int)
