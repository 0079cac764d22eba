"""Leaky integrate-and-fire neurons with exponential synapses.

Two parameter classes live here:

* :class:`LIFParams` -- current-based synapses (CUBA);
* :class:`LIFCondParams` -- conductance-based synapses with reversal potentials (COBA).

Defaults follow NEST's ``iaf_psc_exp`` / ``iaf_cond_exp`` so that a default
population means the same thing in both simulators.
"""

from __future__ import annotations

import dataclasses
from typing import ClassVar

import numpy as np

from .._validation import check_finite, check_nonnegative, check_positive
from ..units import ms, mV, pF
from .base import NeuronParams, option_field, register_neuron_model

__all__ = ["LIFParams", "LIFCondParams"]


def _check_lif_common(p) -> None:
    check_positive("tau_mem", p.tau_mem, "s")
    check_positive("c_mem", p.c_mem, "F")
    check_positive("tau_syn_e", p.tau_syn_e, "s")
    check_positive("tau_syn_i", p.tau_syn_i, "s")
    check_nonnegative("t_ref", p.t_ref, "s")
    for name in ("v_rest", "v_reset", "v_threshold", "i_bias"):
        check_finite(name, getattr(p, name))
    bad = np.asarray(p.v_threshold) <= np.asarray(p.v_reset)
    if np.any(bad):
        th = np.broadcast_to(p.v_threshold, np.shape(bad))[bad].flat[0] if np.ndim(bad) else p.v_threshold
        rs = np.broadcast_to(p.v_reset, np.shape(bad))[bad].flat[0] if np.ndim(bad) else p.v_reset
        raise ValueError(
            f"v_threshold must be > v_reset, got v_threshold={float(th)!r} <= v_reset={float(rs)!r} [V]"
        )


@dataclasses.dataclass(frozen=True, eq=False)
class LIFParams(NeuronParams):
    r"""LIF neuron with current-based exponential synapses.

    .. math::

        C \frac{dv}{dt} = -\frac{C}{\tau_m}(v - v_{rest}) + i_e + i_i + i_{bias}

        \frac{di_e}{dt} = -\frac{i_e}{\tau_{syn,e}}, \qquad
        \frac{di_i}{dt} = -\frac{i_i}{\tau_{syn,i}}

    A spike is emitted when :math:`v > v_{threshold}` at the end of a step; then
    :math:`v \leftarrow v_{reset}` and :math:`v` is clamped for ``t_ref``.  The
    synaptic currents keep decaying during refractoriness.  A weight arriving on
    receptor ``"exc"`` (``"inh"``) is added to :math:`i_e` (:math:`i_i`); its sign
    is free.  The system is linear and is integrated exactly (propagator matrix,
    Rotter & Diesmann 1999), so an idle neuron can be advanced over any number
    of steps in closed form.
    """

    model: ClassVar[str] = "lif"
    state_variables: ClassVar[tuple[str, ...]] = ("v", "i_e", "i_i", "i_bias")
    receptors: ClassVar[tuple[str, ...]] = ("exc", "inh")

    tau_mem: float | np.ndarray = 10 * ms
    """Membrane time constant [s]."""
    c_mem: float | np.ndarray = 250 * pF
    """Membrane capacitance [F]."""
    v_rest: float | np.ndarray = -70 * mV
    """Resting (leak reversal) potential [V]."""
    v_reset: float | np.ndarray = -70 * mV
    """Potential after a spike [V]."""
    v_threshold: float | np.ndarray = -55 * mV
    """Spike threshold [V]; must exceed ``v_reset``."""
    t_ref: float | np.ndarray = 2 * ms
    """Absolute refractory period [s], rounded to whole steps."""
    tau_syn_e: float | np.ndarray = 2 * ms
    """Decay time constant of the excitatory synaptic current [s]."""
    tau_syn_i: float | np.ndarray = 2 * ms
    """Decay time constant of the inhibitory synaptic current [s]."""
    i_bias: float | np.ndarray = 0.0
    """Constant bias current [A]; writable during a run."""

    def _validate(self) -> None:
        _check_lif_common(self)


@dataclasses.dataclass(frozen=True, eq=False)
class LIFCondParams(NeuronParams):
    r"""LIF neuron with conductance-based exponential synapses.

    .. math::

        C \frac{dv}{dt} = g_L (v_{rest} - v) + g_e (E_e - v) + g_i (E_i - v) + i_{bias},
        \qquad g_L = C / \tau_m

        \frac{dg_e}{dt} = -\frac{g_e}{\tau_{syn,e}}, \qquad
        \frac{dg_i}{dt} = -\frac{g_i}{\tau_{syn,i}}

    ``integration`` selects the numerical method:

    * ``"exp_euler"`` (the default): conductances decay exactly; :math:`v` is advanced by the
      exponential-Euler step with the conductances of the step start (Brian2's
      ``exponential_euler``);
    * ``"euler"``: forward Euler on all three equations (Brian2's ``euler``, the method of its
      published COBA example): :math:`v \leftarrow v + \frac{dt}{C}(g_L (v_{rest} - v) + g_e (E_e - v)
      + g_i (E_i - v) + i_{bias})`, :math:`g \leftarrow g (1 - dt/\tau_{syn})`.  Less accurate (its
      relaxation factor :math:`1 + x` is off by about :math:`x^2/2`, :math:`x = -g_{tot} dt / C`) and
      stable only for :math:`g_{tot} dt / C < 2`; it needs ``dt`` below every time constant (checked
      when the network is built).

    During the refractory period :math:`v` is held (Brian2's ``(unless refractory)``) and the
    conductances keep decaying, with either method.  Weights are conductance increments [S] and
    must be >= 0 for physical meaning (not enforced: the sign is the user's).  The dynamics are not
    linear in closed form, so these neurons always take the clock-driven update.
    """

    model: ClassVar[str] = "lif_cond"
    state_variables: ClassVar[tuple[str, ...]] = ("v", "g_e", "g_i", "i_bias")
    receptors: ClassVar[tuple[str, ...]] = ("exc", "inh")

    tau_mem: float | np.ndarray = 10 * ms
    """Membrane time constant [s] (sets g_L = c_mem / tau_mem)."""
    c_mem: float | np.ndarray = 250 * pF
    """Membrane capacitance [F]."""
    v_rest: float | np.ndarray = -70 * mV
    """Leak reversal potential [V]."""
    v_reset: float | np.ndarray = -60 * mV
    """Potential after a spike [V]."""
    v_threshold: float | np.ndarray = -55 * mV
    """Spike threshold [V]; must exceed ``v_reset``."""
    t_ref: float | np.ndarray = 2 * ms
    """Absolute refractory period [s], rounded to whole steps."""
    tau_syn_e: float | np.ndarray = 0.2 * ms
    """Decay time constant of the excitatory conductance [s]."""
    tau_syn_i: float | np.ndarray = 2 * ms
    """Decay time constant of the inhibitory conductance [s]."""
    e_rev_e: float | np.ndarray = 0 * mV
    """Excitatory reversal potential [V]."""
    e_rev_i: float | np.ndarray = -85 * mV
    """Inhibitory reversal potential [V]."""
    i_bias: float | np.ndarray = 0.0
    """Constant bias current [A]; writable during a run."""
    integration: str = option_field("exp_euler", ("exp_euler", "euler"), "numerical method")
    """Numerical method: ``"exp_euler"`` (exponential Euler, the default) or ``"euler"`` (forward Euler)."""

    def _validate(self) -> None:
        _check_lif_common(self)
        check_finite("e_rev_e", self.e_rev_e)
        check_finite("e_rev_i", self.e_rev_i)

    @property
    def g_leak(self):
        """Leak conductance c_mem / tau_mem [S]."""
        return np.asarray(self.c_mem) / np.asarray(self.tau_mem)


register_neuron_model(LIFParams)
register_neuron_model(LIFCondParams)
