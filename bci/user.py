"""A simulated BCI user: a delayed visual-feedback controller that points its intention at the target.

After the closed-loop simulator of Willett et al. (2019, "Principled BCI decoder design and parameter
selection using a feedback control model", Sci. Rep. 9:8881): the user sees the *decoded* cursor
with a visual delay :math:`D`, estimates where it is now with a forward model, and intends a
velocity toward the target whose speed grows with the distance and saturates,

.. math::

    \\hat{\\mathbf p}_t = \\mathbf p_{t-D} + \\Delta t \\sum_{j=t-D}^{t-1} \\mathbf c_j, \\qquad
    \\mathbf u_t = \\min(v_{max}, k\\,\\lVert\\mathbf g - \\hat{\\mathbf p}_t\\rVert)\\,
        \\frac{\\mathbf g - \\hat{\\mathbf p}_t}{\\lVert\\mathbf g - \\hat{\\mathbf p}_t\\rVert}, \\qquad
    \\mathbf c_t = \\mathbf c_{t-1} + (1 - e^{-\\Delta t/\\tau})(\\mathbf u_t - \\mathbf c_{t-1})
        + \\boldsymbol\\epsilon_t

with the target :math:`\\mathbf g`, gain :math:`k` [1/s], smoothing time constant :math:`\\tau` and
optional intention noise :math:`\\boldsymbol\\epsilon_t \\sim N(0, \\sigma^2 I)`.  The forward model
adds the user's own recent intentions (an efference copy that assumes the cursor follows the
intention; Willett et al. use the decoder's mean dynamics instead); ``forward_model=False`` uses the
delayed position alone.  Near the target the intended speed falls linearly to zero, which is how the
user holds.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass

import numpy as np

from memr_snn._validation import check_nonnegative, check_positive

from ._checks import steps_per_bin

__all__ = ["UserParams", "SimulatedUser"]


@dataclass(frozen=True)
class UserParams:
    """Parameters of the simulated user (SI units)."""

    visual_delay: float = 0.2
    """Visual feedback delay [s] (rounded to whole bins)."""
    gain: float = 5.0
    """Intended speed per distance to the target [1/s] (inverse time constant of the approach)."""
    max_speed: float = 0.25
    """Saturation of the intended speed [m/s]."""
    smoothing: float = 0.05
    """Time constant of the first-order smoothing of the intention [s] (0: none)."""
    noise: float = 0.0
    """Standard deviation of the intention noise per axis and bin [m/s]."""
    forward_model: bool = True
    """Estimate the current cursor position from the delayed one plus the recent intentions."""

    def __post_init__(self) -> None:
        check_nonnegative("visual_delay", self.visual_delay, "s")
        check_positive("gain", self.gain, "1/s")
        check_positive("max_speed", self.max_speed, "m/s")
        check_nonnegative("smoothing", self.smoothing, "s")
        check_nonnegative("noise", self.noise, "m/s")


class SimulatedUser:
    """The closed-loop user: call :meth:`reset` at each trial start, then :meth:`intend` once per bin.

    Parameters
    ----------
    params : UserParams
        Controller parameters.
    bin_width : float
        Bin [s].
    rng : numpy.random.Generator or int or None
        Seeds the intention noise.
    """

    def __init__(self, params: UserParams, bin_width: float, rng: np.random.Generator | int | None = None) -> None:
        if not isinstance(params, UserParams):
            raise TypeError(f"params must be a UserParams, got {type(params).__name__}")
        steps_per_bin(bin_width)
        self.params = params
        self.bin_width = float(bin_width)
        self.delay_bins = int(round(params.visual_delay / bin_width))
        self.alpha = 1.0 - math.exp(-bin_width / params.smoothing) if params.smoothing > 0 else 1.0
        self.rng = np.random.default_rng(rng)
        self.reset(np.zeros(2))

    def reset(self, position) -> None:
        """Start a trial with the cursor at ``position`` [m]; the intention starts at rest."""
        p = np.asarray(position, dtype=np.float64).copy()
        self._seen: deque[np.ndarray] = deque([p] * (self.delay_bins + 1), maxlen=self.delay_bins + 1)
        self._intents: deque[np.ndarray] = deque([np.zeros(2)] * self.delay_bins, maxlen=max(self.delay_bins, 1))
        self._seen_velocity: deque[np.ndarray] = deque([np.zeros(2)] * (self.delay_bins + 1),
                                                       maxlen=self.delay_bins + 1)
        self.intention = np.zeros(2)

    def follow(self, cursor_velocity) -> np.ndarray:
        """Open loop: the intention follows the cursor velocity the user sees, delayed and smoothed [m/s].

        In an observation block the cursor moves by itself and the user imagines moving it; the user
        can only follow what it sees, ``visual_delay`` late: :math:`\\mathbf u_t = \\mathbf v_{t-D}`,
        smoothed like :meth:`intend`.
        """
        v = np.asarray(cursor_velocity, dtype=np.float64).copy()
        self._seen_velocity.append(v)
        u = self._seen_velocity[0]
        c = self.intention + self.alpha * (u - self.intention)
        if self.params.noise:
            c = c + self.params.noise * self.rng.standard_normal(2)
        self.intention = c
        return c.copy()

    def estimate(self) -> np.ndarray:
        """The user's estimate of the current cursor position [m]."""
        p_hat = self._seen[0].copy()
        if self.params.forward_model and self.delay_bins:
            p_hat += self.bin_width * np.sum(self._intents, axis=0)
        return p_hat

    def intend(self, cursor, target) -> np.ndarray:
        """The intended velocity [m/s] for the next bin, given the cursor now and the target."""
        self._seen.append(np.asarray(cursor, dtype=np.float64).copy())
        p = self.params
        err = np.asarray(target, dtype=np.float64) - self.estimate()
        dist = float(np.linalg.norm(err))
        u = err * (min(p.max_speed, p.gain * dist) / dist) if dist > 0 else np.zeros(2)
        c = self.intention + self.alpha * (u - self.intention)
        if p.noise:
            c = c + p.noise * self.rng.standard_normal(2)
        self.intention = c
        if self.delay_bins:
            self._intents.append(c.copy())
        return c.copy()
