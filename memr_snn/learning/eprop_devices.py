"""e-prop on memristive synapses: weight changes become device pulses (:class:`DeviceTarget`).

Part of :mod:`memr_snn.learning.eprop`; import the names from there.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

import numpy as np

from .._validation import check_int_at_least

ROUNDINGS = ("stochastic", "nearest")
MATRICES = ("w_in", "w_rec", "w_out")


def _choice(name: str, value: Any, allowed: Sequence[str]) -> None:
    if value not in allowed:
        raise ValueError(f"{name} must be one of {list(allowed)}, got {value!r}")


# --------------------------------------------------------------------------- device target
@dataclasses.dataclass(frozen=True)
class DeviceTarget:
    """Learn on memristive synapses: weight changes become device pulses.

    Each matrix in ``matrices`` is stored in a crossbar built from ``crossbar`` (a
    :class:`memr_snn.devices.Crossbar`; ``w_rec`` without its diagonal).  An update
    ``dw`` becomes ``n = dw / dw_per_pulse`` pulses, rounded to an integer
    (``"stochastic"``: up with probability equal to the fraction, seeded; ``"nearest"``),
    sent with ``apply_pulses``; the weights are then read back from the devices.
    ``dw_per_pulse = k * dg_up`` with ``k`` the crossbar's weight per siemens
    (differential pairs move only up: a negative change potentiates G-).  ``b_out`` stays digital.
    Pulses are applied, and the weights read back, at the learner's time ``n_steps * dt``
    (drift acts from there; the weights are not re-read between updates).
    """

    crossbar: Any
    """A ``memr_snn.devices.Crossbar`` specification."""
    matrices: tuple[str, ...] = MATRICES
    """Which of ``"w_in"``, ``"w_rec"``, ``"w_out"`` live on devices."""
    rounding: str = "stochastic"
    """``"stochastic"`` or ``"nearest"``."""
    seed: int = 0
    """Seed of the crossbars' device draws and of the stochastic rounding."""

    def __post_init__(self) -> None:
        from ..devices import Crossbar

        if not isinstance(self.crossbar, Crossbar):
            raise TypeError(f"crossbar must be a memr_snn.devices.Crossbar, got {self.crossbar!r}")
        object.__setattr__(self, "matrices", tuple(self.matrices))
        for m in self.matrices:
            _choice("matrices", m, MATRICES)
        _choice("rounding", self.rounding, ROUNDINGS)
        check_int_at_least("seed", self.seed, 0)


def _round(n: np.ndarray, mode: str, rng: np.random.Generator) -> np.ndarray:
    if mode == "nearest":
        return np.rint(n).astype(np.int64)
    lo = np.floor(n)
    return (lo + (rng.random(n.shape) < (n - lo))).astype(np.int64)


class _DeviceMatrix:
    """One weight matrix held by a crossbar (synapses in CSR order: by presynaptic index)."""

    def __init__(self, spec, w: np.ndarray, mask: np.ndarray, seed: int, name: str):
        from ..devices import CrossbarState

        self.post, self.pre = (idx.astype(np.int64) for idx in np.nonzero(mask.T)[::-1])
        order = np.lexsort((self.post, self.pre))
        self.post, self.pre = self.post[order], self.pre[order]
        self.shape = w.shape
        self.state = CrossbarState(spec, self.pre, self.post, w[self.post, self.pre], seed=seed, name=name,
                                   n_pre=w.shape[1])
        st = self.state
        if st.differential:
            self.q_up = self.q_down = st.scale * st.device.dg_up
        else:
            self.q_up = st.scale * (st.device.dg_up if st.polarity > 0 else st.device.dg_down)
            self.q_down = st.scale * (st.device.dg_down if st.polarity > 0 else st.device.dg_up)
        if not (self.q_up > 0 and self.q_down > 0):
            raise ValueError(f"crossbar of {name}: the device needs dg_up > 0 and dg_down > 0 to learn")

    def read(self, now: float = 0.0) -> np.ndarray:
        w = np.zeros(self.shape)
        w[self.post, self.pre] = self.state.read_weights(t=now)
        return w

    def pulses(self, dw: np.ndarray, rounding: str, rng: np.random.Generator) -> np.ndarray:
        d = dw[self.post, self.pre]
        q = np.where(d >= 0, self.q_up, self.q_down)
        n = _round(d / q, rounding, rng)
        if not self.state.differential:
            n = n * int(self.state.polarity)
        return n

    def apply(self, dw: np.ndarray, rounding: str, rng: np.random.Generator, now: float = 0.0) -> int:
        n = self.pulses(dw, rounding, rng)
        self.state.apply_pulses(n, now=now)
        return int(np.abs(n).sum())
