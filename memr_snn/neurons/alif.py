"""Adaptive LIF neuron (ALIF), as used by e-prop (Bellec et al. 2020)."""

from __future__ import annotations

import dataclasses
from typing import ClassVar

import numpy as np

from .._validation import check_nonnegative, check_positive
from ..units import ms, mV
from .base import register_neuron_model
from .lif import LIFParams, _check_lif_common

__all__ = ["ALIFParams"]


@dataclasses.dataclass(frozen=True, eq=False)
class ALIFParams(LIFParams):
    r"""LIF neuron (current-based synapses) with an adaptive threshold.

    The membrane and synapses follow :class:`LIFParams`.  The threshold is

    .. math::

        A(t) = v_{threshold} + \beta\, a(t), \qquad
        \frac{da}{dt} = -\frac{a}{\tau_{adapt}} + \sum_s \delta(t - t_s)

    i.e. :math:`a` jumps by 1 at every spike and decays with ``tau_adapt``; in
    discrete time :math:`a_{n+1} = \rho a_n + z_n` with
    :math:`\rho = e^{-dt/\tau_{adapt}}` (Bellec et al. 2020, Nat. Commun. 11:3625,
    eq. 2).  ``beta_adapt`` >= 0, so the threshold never falls below
    ``v_threshold``.
    """

    model: ClassVar[str] = "alif"
    state_variables: ClassVar[tuple[str, ...]] = ("v", "i_e", "i_i", "a", "i_bias")

    tau_adapt: float | np.ndarray = 200 * ms
    """Time constant of threshold adaptation [s]."""
    beta_adapt: float | np.ndarray = 1.8 * mV
    """Threshold increase per unit of adaptation variable ``a`` [V]."""

    def _validate(self) -> None:
        _check_lif_common(self)
        check_positive("tau_adapt", self.tau_adapt, "s")
        check_nonnegative("beta_adapt", self.beta_adapt, "V")


register_neuron_model(ALIFParams)
