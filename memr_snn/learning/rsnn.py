"""What the e-prop and BPTT modules share: the per-step decays of the recurrent network's equations.

Both :mod:`memr_snn.learning.eprop` and :mod:`memr_snn.learning.surrogate` simulate

.. math::

    v_{t+1} = \\alpha v_t + W_{in} x_t + W_{rec} z_t - z_t v_{th},\\quad
    a_{t+1} = \\rho a_t + z_t,\\quad y_{t+1} = \\kappa y_t + W_{out} z_t + b

(their module docstrings give the exact order); their configuration classes take the
decays from this mixin so the two cannot drift apart.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["RSNNDecays"]


class RSNNDecays:
    """Properties derived from ``dt``, ``tau_mem``, ``tau_adapt``, ``tau_out``, ``beta`` and ``n_rec``."""

    dt: float
    tau_mem: float
    tau_adapt: float
    tau_out: float
    n_rec: int
    beta: float | tuple[float, ...]

    @property
    def alpha(self) -> float:
        """Membrane decay per step, ``exp(-dt/tau_mem)`` [1]."""
        return math.exp(-self.dt / self.tau_mem)

    @property
    def rho(self) -> float:
        """Adaptation decay per step, ``exp(-dt/tau_adapt)`` [1]."""
        return math.exp(-self.dt / self.tau_adapt)

    @property
    def kappa(self) -> float:
        """Readout decay per step, ``exp(-dt/tau_out)``, 0 when ``tau_out == 0`` [1]."""
        return math.exp(-self.dt / self.tau_out) if self.tau_out > 0 else 0.0

    @property
    def beta_vec(self) -> np.ndarray:
        """Adaptation strength per neuron, shape ``(n_rec,)`` [1]."""
        return np.broadcast_to(np.asarray(self.beta, dtype=np.float64), (self.n_rec,)).copy()

    @property
    def adaptive(self) -> bool:
        """True when any neuron adapts (``beta > 0``)."""
        return bool(np.any(self.beta_vec > 0))
