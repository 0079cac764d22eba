r"""Bio-amplitude artificial neuron: a volatile threshold-switching memristor on a capacitor.

After Fu et al., *Constructing artificial neurons with functional parameters
comprehensively matching biological values*, Nat. Commun. 16, 8599 (2025): a
diffusive (volatile threshold-switching) memristor built on protein nanowires
switches at about 60 mV with about 1.7 nA, its OFF resistance is about 200 MΩ,
its spikes carry biological energies (0.3-100 pJ) and extracellular chemical
species (Na⁺, dopamine) shift its switching and hence the firing rate.

Circuit
-------
The membrane capacitance :math:`C` sits in parallel with the device; the
device's other terminal is at ``v_rest`` (0 V by default, the resting point).
The device is a resistor whose value depends on its phase:

.. math::

    C \frac{dv}{dt} = -\frac{v - v_{rest}}{R} + i_e + i_i + i_{bias},
    \qquad R = R_{off}\ \text{(OFF)},\quad R = R_{on}\ \text{(ON)}

with exponential current synapses :math:`di_x/dt = -i_x/\tau_{syn,x}` as in
:class:`memr_snn.LIFParams` (weights on ``"exc"``/``"inh"`` are currents [A]).

* **OFF** (integration): the capacitor charges through the input against the
  OFF (leak) resistance, :math:`\tau_{off} = R_{off} C`.
* **OFF → ON** when :math:`v > v_{th,eff} = v_{th} + k_{mod}\,c` and the device
  is not refractory: the **spike event** is emitted at this step.  ``c`` is the
  neuromodulator concentration (state variable ``c_mod``; the kernel stores it
  in its generic ``a`` array, so ``"a"`` names the same value).  It does not
  decay and spikes do not change it; set it with
  ``net.set_state(pop, "c_mod", c)``.  ``k_mod > 0``: a positive
  concentration raises the threshold (lower rate), a negative one lowers it.
* **ON** (the spike's falling phase): the capacitor discharges through the
  device, :math:`\tau_{on} = R_{on} C`; the device current jumps to
  :math:`\approx v_{th}/R_{on}` (the peak current) and decays.
* **ON → OFF** when :math:`v < v_{hold}` (volatile relaxation); then for
  ``t_ref`` the device cannot switch ON again (refractory relaxation time).
  Inputs keep integrating during ON and refractory phases (nothing is clamped;
  ``v`` is never reset: the discharge *is* the reset).

A constant input above ``latch_current = (v_hold - v_rest) / r_on`` holds the
device ON forever (the discharge cannot pull ``v`` below ``v_hold``): the firing
rate rises with the input from the rheobase ``(v_th - v_rest) / r_off`` and then
collapses to a single spike, as a real threshold switch latches.

Discrete time
-------------
Within a clock step the phase is fixed and the circuit linear, so each step is
the exact propagator of that phase (the LIF formula with :math:`\tau = RC`);
phase changes are tested at the end of the step.  Kernel phase encoding in the
per-neuron ``ref`` counter: ``ref < 0`` ON, ``ref > 0`` refractory steps left,
``ref == 0`` ready (:mod:`memr_snn.kernel.layout`).  The type is clock-driven
and never idled.

Energy per spike
----------------
The energy of a spike is the energy dissipated in the device during its ON
phase, :math:`\int v_{dev}^2/R_{on}\,dt` with :math:`v_{dev} = v - v_{rest}`.
Without input during the ON phase it is what the capacitor loses,

.. math:: E = \tfrac12 C\left[(v_{th,eff}-v_{rest})^2 - (v_{hold}-v_{rest})^2\right]

and :meth:`TSMNeuronParams.energy_per_spike` gives the closed form for a
constant input ``i_in`` too (the input then supplies part of it).  Assumptions:
switching and relaxation are instantaneous (no switching energy), the device is
ohmic in each phase, and the energy of the OFF (integration) phase is leak, not
spike.  :func:`simulate_tsm` integrates the device power exactly per step and
checks this; :func:`tsm_energy` turns counted network spikes into joules.

Operating point of the defaults
-------------------------------
``v_th = 60 mV``, ``r_on = 35 MΩ`` (peak current 1.71 nA), ``r_off = 200 MΩ``
(rheobase 0.3 nA), ``v_hold = 30 mV``, ``c_mem = 300 pF``
(:math:`\tau_{on}` = 10.5 ms, :math:`\tau_{off}` = 60 ms): spike energy 0.405 pJ,
ON phase (fall) 7.3 ms, refractory 2 ms after it.  These numbers are tied by
:math:`E = \tfrac12 v_{th} I_{peak} \tau_{on} (1 - v_{hold}^2/v_{th}^2)`: at
60 mV and 1.7 nA an energy of at least 0.3 pJ needs a discharge time constant of
several ms; a smaller ``c_mem`` gives sub-ms spikes below 0.3 pJ (Fu et al.
report 0.2-37 pJ).
"""

from __future__ import annotations

import dataclasses
import math
from typing import ClassVar

import numpy as np

from .._validation import check_finite, check_nonnegative, check_positive
from ..units import MOhm, ms, mV, pF
from .base import NeuronParams, register_neuron_model

__all__ = ["TSMNeuronParams", "TSMTransient", "simulate_tsm", "tsm_energy"]


def _first_bad(mask, *arrays):
    mask = np.asarray(mask)
    if mask.ndim == 0:
        return tuple(float(np.asarray(a)) for a in arrays)
    return tuple(float(np.broadcast_to(a, mask.shape)[mask][0]) for a in arrays)


@dataclasses.dataclass(frozen=True, eq=False)
class TSMNeuronParams(NeuronParams):
    """Threshold-switching-memristor (diffusive memristor) neuron; see the module docstring."""

    model: ClassVar[str] = "tsm"
    state_variables: ClassVar[tuple[str, ...]] = ("v", "i_e", "i_i", "c_mod", "a", "i_bias")
    receptors: ClassVar[tuple[str, ...]] = ("exc", "inh")

    c_mem: float | np.ndarray = 300 * pF
    """Membrane capacitance in parallel with the device [F]."""
    r_off: float | np.ndarray = 200 * MOhm
    """Device resistance while OFF (the membrane leak) [Ohm]."""
    r_on: float | np.ndarray = 35 * MOhm
    """Device resistance while ON; must be < ``r_off`` [Ohm]."""
    v_rest: float | np.ndarray = 0.0
    """Potential of the device's other terminal; v relaxes to it [V]."""
    v_th: float | np.ndarray = 60 * mV
    """Switching (threshold) voltage at zero modulator [V]."""
    v_hold: float | np.ndarray = 30 * mV
    """Hold voltage: an ON device turns OFF when v falls below it; v_rest < v_hold < v_th [V]."""
    t_ref: float | np.ndarray = 2 * ms
    """Relaxation (refractory) time after the device turns OFF, rounded to whole steps [s]."""
    tau_syn_e: float | np.ndarray = 2 * ms
    """Decay time constant of the excitatory synaptic current [s]."""
    tau_syn_i: float | np.ndarray = 2 * ms
    """Decay time constant of the inhibitory synaptic current [s]."""
    k_mod: float | np.ndarray = 5 * mV
    """Threshold shift per unit of modulator concentration ``c_mod`` [V]."""
    i_bias: float | np.ndarray = 0.0
    """Constant bias current [A]; writable during a run."""

    def _validate(self) -> None:
        for name, unit in (("c_mem", "F"), ("r_off", "Ohm"), ("r_on", "Ohm"),
                           ("tau_syn_e", "s"), ("tau_syn_i", "s")):
            check_positive(name, getattr(self, name), unit)
        check_nonnegative("t_ref", self.t_ref, "s")
        for name in ("v_rest", "v_th", "v_hold", "k_mod", "i_bias"):
            check_finite(name, getattr(self, name))
        bad = np.asarray(self.r_on) >= np.asarray(self.r_off)
        if np.any(bad):
            on, off = _first_bad(bad, self.r_on, self.r_off)
            raise ValueError(f"r_on must be < r_off, got r_on={on!r} >= r_off={off!r} [Ohm]")
        bad = np.asarray(self.v_hold) >= np.asarray(self.v_th)
        if np.any(bad):
            h, th = _first_bad(bad, self.v_hold, self.v_th)
            raise ValueError(f"v_hold must be < v_th, got v_hold={h!r} >= v_th={th!r} [V]")
        bad = np.asarray(self.v_hold) <= np.asarray(self.v_rest)
        if np.any(bad):
            h, r = _first_bad(bad, self.v_hold, self.v_rest)
            raise ValueError(f"v_hold must be > v_rest, got v_hold={h!r} <= v_rest={r!r} [V]")

    # -- derived quantities ------------------------------------------------
    @property
    def tau_on(self):
        """Discharge time constant r_on * c_mem [s]."""
        return np.asarray(self.r_on) * np.asarray(self.c_mem)

    @property
    def tau_off(self):
        """Integration (leak) time constant r_off * c_mem [s]."""
        return np.asarray(self.r_off) * np.asarray(self.c_mem)

    def threshold(self, c_mod=0.0):
        """Effective switching voltage v_th + k_mod * c_mod [V]."""
        return np.asarray(self.v_th) + np.asarray(self.k_mod) * np.asarray(c_mod)

    @property
    def spike_amplitude(self):
        """Spike peak above rest, v_th - v_rest (= v_th for v_rest = 0) [V]."""
        return np.asarray(self.v_th) - np.asarray(self.v_rest)

    @property
    def peak_current(self):
        """Device current just after switching ON, (v_th - v_rest) / r_on [A]."""
        return self.spike_amplitude / np.asarray(self.r_on)

    @property
    def rheobase(self):
        """Smallest constant total input (bias included) that makes the neuron fire [A]."""
        return self.spike_amplitude / np.asarray(self.r_off)

    @property
    def latch_current(self):
        """Constant input above which an ON device never turns OFF again [A]."""
        return (np.asarray(self.v_hold) - np.asarray(self.v_rest)) / np.asarray(self.r_on)

    def _on_phase(self, i_in, c_mod):
        """(tau, A, B, T): v_dev(s) = A + B exp(-s/tau) during the ON phase, lasting T."""
        tau = self.tau_on
        a = np.asarray(self.r_on) * (np.asarray(i_in) + np.asarray(self.i_bias))
        u0 = self.threshold(c_mod) - np.asarray(self.v_rest)
        u1 = np.asarray(self.v_hold) - np.asarray(self.v_rest)
        b = u0 - a
        with np.errstate(divide="ignore", invalid="ignore"):
            t_on = np.where(a < u1, tau * np.log(b / np.where(a < u1, u1 - a, 1.0)), np.inf)
        return tau, a, b, t_on

    def spike_width(self, i_in=0.0, c_mod=0.0):
        """Duration of the ON phase (the spike's fall from v_th to v_hold) under constant input [s].

        ``inf`` when the input is at or above :attr:`latch_current`.
        """
        return self._on_phase(i_in, c_mod)[3]

    def energy_per_spike(self, i_in=0.0, c_mod=0.0):
        r"""Energy dissipated in the device during one ON phase [J].

        With a constant external input ``i_in`` [A] (plus ``i_bias``) during the
        ON phase, :math:`v_{dev}(s) = A + B e^{-s/\tau_{on}}` and the phase lasts
        :math:`T = \tau_{on}\ln\frac{B}{v_{hold}-v_{rest}-A}`, so

        .. math:: E = \frac{1}{R_{on}}\left[A^2 T + 2AB\tau_{on}(1-e^{-T/\tau_{on}})
                  + \tfrac12 B^2\tau_{on}(1-e^{-2T/\tau_{on}})\right]

        which for ``i_in = 0`` is :math:`\tfrac12 C(v_{th,eff}^2 - v_{hold}^2)`
        (both relative to ``v_rest``).  Assumes the spike starts exactly at the
        effective threshold (the clock step's overshoot is ignored) and ohmic,
        instantaneous switching.  ``inf`` at or above :attr:`latch_current`.
        """
        tau, a, b, t_on = self._on_phase(i_in, c_mod)
        with np.errstate(invalid="ignore"):
            x = np.exp(-t_on / tau)
            e = (a * a * t_on + 2 * a * b * tau * (1 - x) + 0.5 * b * b * tau * (1 - x * x)) / np.asarray(self.r_on)
        e = np.where(np.isfinite(t_on), e, np.inf)
        return float(e) if e.ndim == 0 else e


register_neuron_model(TSMNeuronParams)


# ---------------------------------------------------------------- standalone transient


@dataclasses.dataclass(frozen=True)
class TSMTransient:
    """Result of :func:`simulate_tsm` (SI units; arrays sampled at ``t``)."""

    t: np.ndarray
    """Sample times k * dt, k = 0..n_steps [s]."""
    v: np.ndarray
    """Membrane (capacitor) voltage [V]."""
    i_device: np.ndarray
    """Device current (v - v_rest) / R of the phase that starts at that sample [A]."""
    on: np.ndarray
    """Phase starting at each sample (True: ON)."""
    spike_steps: np.ndarray
    """Steps in which the device switched ON (the network's spike convention)."""
    spike_times: np.ndarray
    """spike_steps * dt [s]."""
    on_durations: np.ndarray
    """Duration of each completed ON phase [s]."""
    spike_energies: np.ndarray
    """Device energy of each completed ON phase [J]."""
    device_energy: float
    """Energy dissipated in the device over the whole run, OFF leak included [J]."""

    @property
    def energy_per_spike(self) -> float:
        """Mean of :attr:`spike_energies` (NaN without a completed spike) [J]."""
        return float(np.mean(self.spike_energies)) if self.spike_energies.size else math.nan


def simulate_tsm(params: TSMNeuronParams, i_in, dt: float, n_steps: int | None = None,
                 c_mod: float = 0.0, v0: float | None = None) -> TSMTransient:
    """Fine-step transient of one TSM neuron driven by an injected current (numpy, no network).

    ``i_in`` [A] is a scalar (then ``n_steps`` is required) or one value per
    step, held constant over the step and added to ``params.i_bias``; there are
    no synaptic filters.  Each step is the exact propagator of its phase and the
    device power :math:`v_{dev}^2/R` is integrated exactly over it; phase changes
    follow the kernel's end-of-step rule (OFF→ON above ``v_th + k_mod c_mod``
    when not refractory, ON→OFF below ``v_hold``, then ``round(t_ref/dt)``
    refractory steps).  Use a small ``dt`` (µs) for device-level numbers.
    """
    if not isinstance(params, TSMNeuronParams):
        raise TypeError(f"params must be TSMNeuronParams, got {type(params).__name__}")
    if params.size() is not None:
        raise ValueError("simulate_tsm needs scalar parameters (one neuron)")
    check_positive("dt", dt, "s")
    i_arr = np.asarray(i_in, dtype=np.float64)
    if i_arr.ndim == 0:
        if n_steps is None:
            raise ValueError("n_steps is required when i_in is a scalar")
        i_arr = np.full(int(n_steps), float(i_arr))
    elif i_arr.ndim != 1:
        raise ValueError(f"i_in must be a scalar or a 1-D array per step, got shape {i_arr.shape}")
    check_finite("i_in", i_arr)
    n = i_arr.size
    c = float(params.c_mem)
    vrest, vhold = float(params.v_rest), float(params.v_hold)
    vth = float(params.threshold(c_mod))
    n_ref = int(round(float(params.t_ref) / dt))
    consts = []
    for r in (float(params.r_off), float(params.r_on)):
        tau = r * c
        p = math.exp(-dt / tau)
        consts.append((r, tau, p))
    v = np.empty(n + 1)
    i_dev = np.empty(n + 1)
    on_arr = np.zeros(n + 1, dtype=bool)
    v[0] = vrest if v0 is None else float(v0)
    ref = 0
    spikes, durations, energies = [], [], []
    e_total = 0.0
    e_spike = 0.0
    t_switch = 0
    ib = float(params.i_bias)
    for k in range(n):
        on = ref < 0
        r, tau, p = consts[1 if on else 0]
        on_arr[k] = on
        i_dev[k] = (v[k] - vrest) / r
        vinf = vrest + r * (i_arr[k] + ib)
        a = vinf - vrest
        b = v[k] - vinf
        e_step = (a * a * dt + 2 * a * b * tau * (1 - p) + 0.5 * b * b * tau * (1 - p * p)) / r
        e_total += e_step
        vn = vinf + b * p
        v[k + 1] = vn
        if on:
            e_spike += e_step
            if vn < vhold:
                durations.append((k + 1 - t_switch) * dt)
                energies.append(e_spike)
                ref = n_ref
        elif ref > 0:
            ref -= 1
        elif vn > vth:
            ref = -1
            spikes.append(k)
            t_switch = k + 1
            e_spike = 0.0
    on_arr[n] = ref < 0
    i_dev[n] = (v[n] - vrest) / (consts[1][0] if ref < 0 else consts[0][0])
    steps = np.asarray(spikes, dtype=np.int64)
    return TSMTransient(
        t=np.arange(n + 1) * dt, v=v, i_device=i_dev, on=on_arr, spike_steps=steps, spike_times=steps * dt,
        on_durations=np.asarray(durations), spike_energies=np.asarray(energies), device_energy=e_total,
    )


def tsm_energy(spikes, params: TSMNeuronParams, c_mod=0.0, i_in=0.0) -> float:
    """Spike energy [J] of counted network spikes: count x :meth:`TSMNeuronParams.energy_per_spike`.

    ``spikes`` is a spike count (int), per-neuron counts (array, matching
    per-neuron parameters), a :class:`memr_snn.SpikeMonitor` (its per-neuron
    counts) or a :class:`memr_snn.RateMonitor` (its total).  The per-spike
    energy is the analytic one (ON phase at constant ``i_in``, default none:
    the synaptic input during the ON phase and the step's threshold overshoot
    are neglected; the OFF-phase leak is not spike energy).
    """
    if hasattr(spikes, "count") and callable(spikes.count) and hasattr(spikes, "steps"):
        counts = spikes.count()
    elif hasattr(spikes, "counts"):
        counts = np.sum(spikes.counts)
    else:
        counts = np.asarray(spikes, dtype=np.float64)
    return float(np.sum(np.asarray(counts, dtype=np.float64) * params.energy_per_spike(i_in, c_mod)))
