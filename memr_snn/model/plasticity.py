"""Plasticity rules as data: pair STDP, triplet STDP and reward-modulated STDP.

These are descriptions (parameters, validation, JSON dicts); the engine turns them into kernel
coefficients (:func:`memr_snn.engine.coefficients.plasticity_row`) and the kernel
(:mod:`memr_snn.kernel.plasticity`) applies them.  The user-facing home is
:mod:`memr_snn.learning.stdp` (``from memr_snn.learning import STDP``), which re-exports them.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any, ClassVar

import numpy as np

from .._validation import check_finite, check_nonnegative, check_positive

__all__ = ["STDP", "TripletSTDP", "RewardSTDP", "PlasticityRule", "rule_from_dict", "DEPENDENCES", "PAIRINGS"]

DEPENDENCES = ("additive", "multiplicative")
PAIRINGS = ("all", "nearest")


class PlasticityRule:
    """Base of the rules: validation helpers, kernel rows and JSON dicts."""

    kind: ClassVar[str] = ""

    def _check_common(self) -> None:
        check_finite("w_min", self.w_min)
        check_finite("w_max", self.w_max)
        if not self.w_max > self.w_min:
            raise ValueError(f"w_max must be > w_min, got w_max={self.w_max!r} <= w_min={self.w_min!r}")
        if self.dependence not in DEPENDENCES:
            raise ValueError(f"dependence must be one of {list(DEPENDENCES)}, got {self.dependence!r}")
        if self.pairing not in PAIRINGS:
            raise ValueError(f"pairing must be one of {list(PAIRINGS)}, got {self.pairing!r}")

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"kind": self.kind}
        for f in dataclasses.fields(self):
            v = getattr(self, f.name)
            out[f.name] = v.to_dict() if isinstance(v, PlasticityRule) else v
        return out

    def check_weights(self, w: np.ndarray, name: str) -> None:
        """Refuse initial weights outside ``[w_min, w_max]`` (before any run)."""
        w = np.asarray(w)
        bad = (w < self.w_min) | (w > self.w_max)
        if np.any(bad):
            raise ValueError(
                f"projection {name!r}: weight {w[bad][0]!r} lies outside the rule's [w_min, w_max] = "
                f"[{self.w_min!r}, {self.w_max!r}]"
            )


@dataclasses.dataclass(frozen=True)
class STDP(PlasticityRule):
    """Pair STDP with exponential windows."""

    kind: ClassVar[str] = "stdp"

    a_plus: float = 0.01
    """Potentiation per pre-before-post pair at zero lag [weight unit]."""
    a_minus: float = 0.0105
    """Depression per post-before-pre pair at zero lag (a magnitude) [weight unit]."""
    tau_plus: float = 20e-3
    """Potentiation window [s]."""
    tau_minus: float = 20e-3
    """Depression window [s]."""
    w_min: float = 0.0
    """Lower weight bound [weight unit]."""
    w_max: float = 1.0
    """Upper weight bound [weight unit]."""
    dependence: str = "additive"
    """``"additive"`` or ``"multiplicative"`` (steps scaled by the distance to the bound they approach)."""
    pairing: str = "all"
    """``"all"`` (all-to-all: traces add 1 per spike) or ``"nearest"`` (traces reset to 1)."""

    def __post_init__(self) -> None:
        check_nonnegative("a_plus", self.a_plus)
        check_nonnegative("a_minus", self.a_minus)
        check_positive("tau_plus", self.tau_plus, "s")
        check_positive("tau_minus", self.tau_minus, "s")
        self._check_common()

    def window(self, lag) -> np.ndarray:
        """Weight change of one isolated pair at ``lag = t_post - t_pre`` [s] (additive, away from bounds)."""
        lag = np.asarray(lag, dtype=np.float64)
        return np.where(lag >= 0, self.a_plus * np.exp(-lag / self.tau_plus),
                        -self.a_minus * np.exp(lag / self.tau_minus))


@dataclasses.dataclass(frozen=True)
class TripletSTDP(PlasticityRule):
    """Triplet STDP (Pfister & Gerstner 2006)."""

    kind: ClassVar[str] = "triplet"

    a2_plus: float = 5e-10
    """Pair potentiation at a post spike, per unit pre trace r1 [weight unit]."""
    a3_plus: float = 6.2e-3
    """Triplet potentiation, per unit r1 times the slow post trace o2 [weight unit]."""
    a2_minus: float = 7e-3
    """Pair depression at a pre spike, per unit post trace o1 (a magnitude) [weight unit]."""
    a3_minus: float = 2.3e-4
    """Triplet depression, per unit o1 times the slow pre trace r2 (a magnitude) [weight unit]."""
    tau_plus: float = 16.8e-3
    """Pre trace r1 [s]."""
    tau_minus: float = 33.7e-3
    """Post trace o1 [s]."""
    tau_x: float = 101e-3
    """Slow pre trace r2 [s]."""
    tau_y: float = 125e-3
    """Slow post trace o2 [s]."""
    w_min: float = 0.0
    """Lower weight bound [weight unit]."""
    w_max: float = 1.0
    """Upper weight bound [weight unit]."""
    dependence: str = "additive"
    """``"additive"`` or ``"multiplicative"``."""
    pairing: str = "all"
    """``"all"`` or ``"nearest"``."""

    def __post_init__(self) -> None:
        for name in ("a2_plus", "a3_plus", "a2_minus", "a3_minus"):
            check_nonnegative(name, getattr(self, name))
        for name in ("tau_plus", "tau_minus", "tau_x", "tau_y"):
            check_positive(name, getattr(self, name), "s")
        self._check_common()

    @classmethod
    def visual_cortex(cls, pairing: str = "all", **kw) -> TripletSTDP:
        """Pfister & Gerstner's fit to visual-cortex data (Sjöström et al. 2001), Table 4.

        All-to-all ("all"): A2+ = 5e-10, A3+ = 6.2e-3, A2- = 7e-3, A3- = 2.3e-4, tau_x = 101 ms,
        tau_y = 125 ms; nearest-spike: A2+ = 8.8e-11, A3+ = 5.3e-2, A2- = 6.6e-3, A3- = 3.1e-3,
        tau_x = 714 ms, tau_y = 40 ms; ``tau_+`` = 16.8 ms, ``tau_-`` = 33.7 ms for both.
        """
        if pairing == "nearest":
            base = dict(a2_plus=8.8e-11, a3_plus=5.3e-2, a2_minus=6.6e-3, a3_minus=3.1e-3, tau_x=714e-3,
                        tau_y=40e-3)
        else:
            base = dict(a2_plus=5e-10, a3_plus=6.2e-3, a2_minus=7e-3, a3_minus=2.3e-4, tau_x=101e-3, tau_y=125e-3)
        base.update(kw)
        return cls(pairing=pairing, **base)

    def pairing_rate(self, rho: float, lag: float = 10e-3) -> float:
        """Mean weight change per second for the pairing protocol at frequency ``rho`` [Hz].

        Pre-post pairs with lag ``lag`` [s] (negative: post-pre), repeated at ``rho`` (all-to-all
        interactions of the whole periodic train), as in Pfister & Gerstner 2006 Fig. 5; computed
        from the rule's trace equations in closed form (geometric sums over past spikes).
        """
        if self.pairing != "all":
            raise ValueError("pairing_rate is the closed form of all-to-all pairing")
        T = 1.0 / rho

        def past(tau: float, offset: float) -> float:
            # sum over spikes at times -offset - n T, n >= 0 (offset >= 0), evaluated at 0
            return math.exp(-offset / tau) / (1.0 - math.exp(-T / tau))

        pre_first = lag >= 0
        d = abs(lag)
        if pre_first:
            # post at 0, pre at -d: potentiation at post uses r1 (pre at -d, -d-T, ...), o2 of posts at -T, -2T...
            r1 = past(self.tau_plus, d)
            o2 = past(self.tau_y, T)
            pot = r1 * (self.a2_plus + self.a3_plus * o2)
            # depression at pre (time -d): o1 of posts at -d-(T-d)... posts before it: at -T, -2T (relative to 0)
            o1 = past(self.tau_minus, T - d)
            r2 = past(self.tau_x, T)
            dep = o1 * (self.a2_minus + self.a3_minus * r2)
        else:
            # pre at 0, post at -d: depression at pre uses o1 (posts at -d, -d-T...), r2 of pres at -T...
            o1 = past(self.tau_minus, d)
            r2 = past(self.tau_x, T)
            dep = o1 * (self.a2_minus + self.a3_minus * r2)
            r1 = past(self.tau_plus, T - d)
            o2 = past(self.tau_y, T)
            pot = r1 * (self.a2_plus + self.a3_plus * o2)
        return (pot - dep) * rho


@dataclasses.dataclass(frozen=True)
class RewardSTDP(PlasticityRule):
    """Reward-modulated STDP: STDP fills an eligibility trace, the reward turns it into weight change."""

    kind: ClassVar[str] = "reward_stdp"

    stdp: STDP | TripletSTDP = dataclasses.field(default_factory=STDP)
    """The rule whose changes are gated (its bounds bound the weights)."""
    tau_e: float = 0.5
    """Eligibility time constant [s]."""
    learning_rate: float = 1.0
    """eta in dw/dt = eta R e [1/s per unit reward], >= 0 (a negative reward reverses the change)."""

    def __post_init__(self) -> None:
        if not isinstance(self.stdp, (STDP, TripletSTDP)):
            raise TypeError(f"stdp must be an STDP or TripletSTDP rule, got {self.stdp!r}")
        check_positive("tau_e", self.tau_e, "s")
        check_nonnegative("learning_rate", self.learning_rate)

    @property
    def w_min(self) -> float:  # type: ignore[override]
        return self.stdp.w_min

    @property
    def w_max(self) -> float:  # type: ignore[override]
        return self.stdp.w_max

_KINDS = {"stdp": STDP, "triplet": TripletSTDP, "reward_stdp": RewardSTDP}


def rule_from_dict(data: dict[str, Any]) -> PlasticityRule:
    """Rebuild a rule from :meth:`PlasticityRule.to_dict` (validated)."""
    if not isinstance(data, dict) or data.get("kind") not in _KINDS:
        raise ValueError(f"unknown plasticity rule {data!r}; known kinds: {sorted(_KINDS)}")
    kw = {k: v for k, v in data.items() if k != "kind"}
    if data["kind"] == "reward_stdp":
        kw["stdp"] = rule_from_dict(kw["stdp"])
    return _KINDS[data["kind"]](**kw)
