r"""A spiking CartPole controller whose synapses can be memristive crossbars.

Every control step (one plant step of CartPole-v1, 20 ms) the controller

1. **encodes** the 4-D state :math:`s = (x, \dot x, \theta, \dot\theta)` with Gaussian receptive
   fields (:func:`memr_snn.encoders.population_code.gaussian_activations`, Bohte et al. 2002):
   each coordinate, clipped to its range, activates ``n_fields`` fields :math:`a_{ck} \in (0, 1]`;
2. **drives** one LIF encoder neuron per field with the bias current :math:`I_{ck} = I_{enc}\,a_{ck}`
   (a deterministic current-to-rate code: a field fires regularly, the faster the stronger it is
   activated, and stays silent below the rheobase);
3. **runs** the memr_snn kernel for ``window_steps`` steps (``Network.run_steps``); the encoder spikes
   reach two output neurons ("push left", "push right") through an all-to-all projection whose
   weights may live in a :class:`memr_snn.devices.Crossbar` (read through the device model at every
   spike: read noise, faults, drift); each output neuron has a digital bias current;
4. **decides** from the output spike counts of the window: the neuron with more spikes wins; a tie
   (most often both silent) is broken by the larger membrane potential (a membrane readout).

Neuron state is reset at the start of each window (``reset_each_step``): a control step is one
fresh inference of the state, as a frame-based pipeline would run it.  The output neurons are
near-perfect integrators (``tau_mem`` 1 s, no refractory period), so a neuron's spike count times the
threshold distance plus its final membrane offset is the charge it received: the decision is the sign
of a linear function of the encoder spike counts, which :mod:`memr_snn.learning.control` fits.

Counters (``steps``, ``synops``, ``spikes``, ``device_writes``, ``energy_j``) accumulate from
construction; :meth:`SpikingCartPoleController.state` / :meth:`~SpikingCartPoleController.load_state`
save and restore everything (network checkpoint, counters) so that a resumed controller continues
bit for bit.  Training: :func:`networks.cartpole_training.train_offline` (imitation of an LQR expert
with faults in the loop) and :func:`networks.cartpole_training.train_rstdp` (reward-modulated STDP
online on the devices).
"""

from __future__ import annotations

import dataclasses
import os
import tempfile
from typing import Any

import numpy as np
from memr_snn.encoders.population_code import receptive_fields

from memr_snn import AllToAll, LIFParams, Network, Population, Projection, SpikeMonitor
from memr_snn._validation import check_int_at_least, check_nonnegative, check_positive
from memr_snn.learning import RewardSTDP
from memr_snn.units import ms, mV, nA, pF

__all__ = ["CartPoleEncoding", "ControllerConfig", "ControllerEnergy", "SpikingCartPoleController",
           "OBS_LOW", "OBS_HIGH"]

#: default ranges of the four coordinates: CartPole-v1's termination bounds for x (2.4 m) and theta
#: (12 degrees = 0.2095 rad); the velocities are unbounded in the environment, the ranges cover what a
#: balancing policy visits (values outside are clipped to the range)
OBS_LOW = (-2.4, -2.0, -0.2095, -2.5)
OBS_HIGH = (2.4, 2.0, 0.2095, 2.5)


@dataclasses.dataclass(frozen=True)
class CartPoleEncoding:
    """Gaussian receptive fields over the 4-D CartPole state (module docstring, step 1).

    Field ``k`` of coordinate ``c`` is channel ``c * n_fields + k``, as in
    :func:`memr_snn.encoders.population_code.population`.
    """

    n_fields: int = 10
    """Receptive fields per coordinate (>= 3)."""
    low: tuple[float, ...] = OBS_LOW
    """Lower end of each coordinate's range [m, m/s, rad, rad/s]."""
    high: tuple[float, ...] = OBS_HIGH
    """Upper end of each coordinate's range."""
    beta: float = 1.5
    """Width factor of the fields (Bohte et al.'s 1.5; larger: narrower)."""

    def __post_init__(self) -> None:
        check_int_at_least("n_fields", self.n_fields, 3)
        object.__setattr__(self, "low", tuple(float(v) for v in self.low))
        object.__setattr__(self, "high", tuple(float(v) for v in self.high))
        if len(self.low) != 4 or len(self.high) != 4:
            raise ValueError(f"low and high need 4 values (x, x_dot, theta, theta_dot), got {self.low}, {self.high}")
        for c, (lo, hi) in enumerate(zip(self.low, self.high, strict=True)):
            if not (np.isfinite(lo) and np.isfinite(hi) and lo < hi):
                raise ValueError(f"coordinate {c}: need finite low < high, got low={lo!r}, high={hi!r}")
        check_positive("beta", self.beta)
        centres, sigmas = [], []
        for lo, hi in zip(self.low, self.high, strict=True):
            c, s = receptive_fields(self.n_fields, lo, hi, self.beta)
            centres.append(c)
            sigmas.append(s)
        object.__setattr__(self, "_centres", np.array(centres))
        object.__setattr__(self, "_sigmas", np.array(sigmas)[:, None])

    @property
    def n_channels(self) -> int:
        """Number of encoder neurons, ``4 * n_fields``."""
        return 4 * self.n_fields

    def activations(self, obs) -> np.ndarray:
        """Field activations ``(..., 4 * n_fields)`` in (0, 1] of observations ``(..., 4)`` (clipped to the ranges)."""
        x = np.asarray(obs, dtype=np.float64)
        if x.shape[-1:] != (4,):
            raise ValueError(f"observations must have 4 values (x, x_dot, theta, theta_dot), got shape {x.shape}")
        if not np.all(np.isfinite(x)):
            raise ValueError(f"observations must be finite, got {x!r}")
        x = np.clip(x, self.low, self.high)[..., None]
        a = np.exp(-((x - self._centres) ** 2) / (2.0 * self._sigmas ** 2))
        return a.reshape(x.shape[:-2] + (self.n_channels,))


@dataclasses.dataclass(frozen=True)
class ControllerConfig:
    """Sizes, time constants and currents of the controller network (SI units)."""

    encoding: CartPoleEncoding = dataclasses.field(default_factory=CartPoleEncoding)
    dt: float = 1 * ms
    """Simulation time step [s]."""
    window_steps: int = 20
    """Simulation steps per control step (20 x 1 ms = CartPole-v1's 20 ms plant step)."""
    i_enc: float = 3 * nA
    """Bias current of a fully activated encoder neuron [A] (8 rheobases of the default encoder LIF)."""
    enc_tau_mem: float = 10 * ms
    """Membrane time constant of the encoder neurons [s]."""
    enc_t_ref: float = 1 * ms
    """Refractory period of the encoder neurons [s]."""
    out_tau_mem: float = 1.0
    """Membrane time constant of the output neurons [s] (long: near-perfect integrators)."""
    out_tau_syn: float = 1 * ms
    """Synaptic time constant of the output neurons [s]."""
    reset_each_step: bool = True
    """Reset every neuron's membrane and synaptic current at the start of each control step."""

    def __post_init__(self) -> None:
        if not isinstance(self.encoding, CartPoleEncoding):
            raise TypeError(f"encoding must be a CartPoleEncoding, got {self.encoding!r}")
        check_positive("dt", self.dt, "s")
        check_int_at_least("window_steps", self.window_steps, 1)
        for name in ("i_enc", "enc_tau_mem", "out_tau_mem", "out_tau_syn"):
            check_positive(name, getattr(self, name))
        check_nonnegative("enc_t_ref", self.enc_t_ref, "s")

    @property
    def encoder_neuron(self) -> LIFParams:
        return LIFParams(tau_mem=self.enc_tau_mem, c_mem=250 * pF, v_rest=-70 * mV, v_reset=-70 * mV,
                         v_threshold=-55 * mV, t_ref=self.enc_t_ref)

    @property
    def output_neuron(self) -> LIFParams:
        return LIFParams(tau_mem=self.out_tau_mem, c_mem=250 * pF, v_rest=-70 * mV, v_reset=-70 * mV,
                         v_threshold=-55 * mV, t_ref=0.0, tau_syn_e=self.out_tau_syn)

    @property
    def charge_unit(self) -> float:
        """Charge [C] that a weight of 1 A delivers per presynaptic spike (``tau_syn`` times 1 A; the
        readout's features are spike counts, so a weight ``w`` [A] moves an output by ``w tau_syn / C``)."""
        return self.out_tau_syn


@dataclasses.dataclass(frozen=True)
class ControllerEnergy:
    """Per-operation energies [J] of the digital neuromorphic part of a control step.

    Build it from a neuromorphic-core profile with :meth:`from_profile` (e.g.
    ``memr_snn.hardware.load_profile("loihi1")``: Davies et al. 2018, Table 2).  The device read and
    write energies come from the crossbar's device preset, not from here.
    """

    e_synop: float
    """Energy of one synaptic operation (one spike delivered through one synapse) [J]."""
    e_neuron_update: float
    """Energy of one neuron (compartment) update per time step [J]."""
    source: str = "given"
    """Where the numbers come from."""

    def __post_init__(self) -> None:
        check_nonnegative("e_synop", self.e_synop, "J")
        check_nonnegative("e_neuron_update", self.e_neuron_update, "J")

    @classmethod
    def from_profile(cls, profile) -> ControllerEnergy:
        """Energies of a :class:`memr_snn.hardware.CoreProfile`: ``e_synop``, and every neuron update priced
        as *active* (``e_neuron_active``, an upper bound: the encoders integrate a bias current every step)."""
        return cls(e_synop=float(profile.e_synop), e_neuron_update=float(profile.e_neuron_active),
                   source=f"core profile {getattr(profile, 'name', '?')}")


class SpikingCartPoleController:
    """The controller network, run by the memr_snn kernel once per control step (module docstring).

    Parameters
    ----------
    weights : array, shape (2, 4 * n_fields)
        Encoder -> output weights [A]; row 0 drives "push left" (action 0), row 1 "push right" (action 1).
    bias : array, shape (2,)
        Bias currents of the two output neurons [A] (digital, not on devices).
    config : ControllerConfig, optional
        Network parameters.
    device : memr_snn.devices.Crossbar, optional
        Store the weights in devices (``None``: float weights).
    plasticity : memr_snn.learning.RewardSTDP, optional
        Reward-modulated STDP on the encoder -> output projection (online learning; drive it with
        :meth:`reward`).
    energy : ControllerEnergy, optional
        Per-operation energies of the digital part (``None``: only device energies are counted).
    seed : int
        Seed of the network (device draws, read noise) and of the controller's own choices.

    Attributes
    ----------
    steps, synops, spikes : int
        Control steps taken, synaptic operations (encoder spikes x outputs), spikes of all neurons.
    """

    def __init__(self, weights, bias, config: ControllerConfig | None = None, *, device=None,
                 plasticity: RewardSTDP | None = None, energy: ControllerEnergy | None = None, seed: int = 0):
        self.config = config if config is not None else ControllerConfig()
        self.seed = check_int_at_least("seed", seed, 0)
        n_in = self.config.encoding.n_channels
        w = np.asarray(weights, dtype=np.float64)
        b = np.asarray(bias, dtype=np.float64)
        if w.shape != (2, n_in):
            raise ValueError(f"weights must have shape (2, {n_in}), got {w.shape}")
        if b.shape != (2,):
            raise ValueError(f"bias must have shape (2,), got {b.shape}")
        if not (np.all(np.isfinite(w)) and np.all(np.isfinite(b))):
            raise ValueError("weights and bias must be finite")
        if energy is not None and not isinstance(energy, ControllerEnergy):
            raise TypeError(f"energy must be a ControllerEnergy, got {energy!r}")
        self.energy = energy
        self.device = device
        self.plasticity = plasticity
        cfg = self.config
        net = Network(dt=cfg.dt, seed=self.seed, engine="dense", name="cartpole_controller")
        self.enc = net.add(Population(n_in, cfg.encoder_neuron, name="encoder"))
        self.out = net.add(Population(2, cfg.output_neuron, name="actions", initial={"i_bias": b}))
        self.proj = net.add(Projection(self.enc, self.out, AllToAll(), weights=w, device=device,
                                       plasticity=plasticity, name="readout"))
        self.enc_spikes = net.add(SpikeMonitor(self.enc, name="encoder_spikes"))
        self.out_spikes = net.add(SpikeMonitor(self.out, name="action_spikes"))
        self.net = net
        self.steps = self.synops = self.spikes = 0
        self.episode_seed: int | None = None
        self.last_counts = np.zeros(2, dtype=np.int64)
        self.last_enc_counts = np.zeros(n_in, dtype=np.int64)
        self.last_v = np.full(2, cfg.output_neuron.v_rest)
        self.online_pulses = 0
        self._chi = np.zeros((2, n_in))  # mixed-precision accumulator of weight updates [A]

    # ------------------------------------------------------------------ acting
    def reset(self, seed: int | None = None) -> None:
        """Start an episode: clear the neurons' state (the devices keep theirs); ``seed`` is recorded
        (the controller itself draws nothing per episode: its actions are a function of the seeds given
        at construction and the observations)."""
        self.episode_seed = None if seed is None else check_int_at_least("seed", seed, 0)
        self._clear_neurons()

    def _clear_neurons(self) -> None:
        cfg, net = self.config, self.net
        net.set_state(self.enc, "v", cfg.encoder_neuron.v_rest)
        net.set_state(self.enc, "i_e", 0.0)
        net.set_state(self.out, "v", cfg.output_neuron.v_rest)
        net.set_state(self.out, "i_e", 0.0)

    def act(self, observation) -> int:
        """One control step: encode ``observation``, run the window, return the action (0 left, 1 right)."""
        cfg, net = self.config, self.net
        a = cfg.encoding.activations(observation)
        if cfg.reset_each_step:
            self._clear_neurons()
        net.set_state(self.enc, "i_bias", cfg.i_enc * a)
        self.enc_spikes.clear()
        self.out_spikes.clear()
        net.run_steps(cfg.window_steps)
        self.last_enc_counts = np.bincount(np.asarray(self.enc_spikes.i, dtype=np.int64), minlength=self.enc.n)
        n_enc = int(self.last_enc_counts.sum())
        counts = np.bincount(np.asarray(self.out_spikes.i, dtype=np.int64), minlength=2)
        self.last_counts = counts
        self.last_v = v = net.get_state(self.out, "v")
        self.steps += 1
        self.synops += 2 * n_enc
        self.spikes += n_enc + int(counts.sum())
        if counts[0] != counts[1]:
            return int(counts[1] > counts[0])
        return int(v[1] > v[0])

    __call__ = act

    def encoder_counts(self, observation) -> np.ndarray:
        """Encoder spike counts ``(4 * n_fields,)`` of one control step for ``observation`` (the readout's
        features), from a fresh window of the network (counters and outputs untouched by design: the
        output projection runs too, so do not call this on a learning controller)."""
        cfg, net = self.config, self.net
        self._clear_neurons()
        net.set_state(self.enc, "i_bias", cfg.i_enc * cfg.encoding.activations(observation))
        self.enc_spikes.clear()
        net.run_steps(cfg.window_steps)
        return np.bincount(np.asarray(self.enc_spikes.i, dtype=np.int64), minlength=self.enc.n)

    def reward(self, r: float) -> None:
        """Set the reward signal of the R-STDP rule (holds until the next call)."""
        if self.plasticity is None:
            raise ValueError("reward() needs a controller built with plasticity=RewardSTDP(...)")
        self.net.set_reward(self.proj, r)

    # ---------------------------------------------------------------- weights
    @property
    def crossbar(self):
        """The readout's :class:`memr_snn.devices.CrossbarState` (``None`` with float weights)."""
        return self.proj.crossbar

    @property
    def bias(self) -> np.ndarray:
        return self.net.get_state(self.out, "i_bias")

    def weights(self) -> np.ndarray:
        """Weights a spike delivers now, ``(2, n_in)`` [A]: the devices' reads without read noise (faults,
        drift and the level grid included), or the float weights."""
        cb = self.crossbar
        csr = cb.read_weights() if cb is not None else self.proj.weights
        return np.asarray(csr, dtype=np.float64).reshape(self.enc.n, 2).T.copy()  # CSR: by encoder, then output

    def program(self, weights, bias=None) -> None:
        """Write new weights ``(2, n_in)`` [A] (to the devices, with the crossbar's programming method,
        counted as device writes) and optionally new output biases ``(2,)`` [A]."""
        w = np.asarray(weights, dtype=np.float64)
        if w.shape != (2, self.enc.n):
            raise ValueError(f"weights must have shape (2, {self.enc.n}), got {w.shape}")
        self.proj.weights = w.T.ravel()
        if bias is not None:
            self.net.set_state(self.out, "i_bias", np.asarray(bias, dtype=np.float64))

    def readout_charges(self) -> np.ndarray:
        """Charge each output neuron received in the last window [C]: ``C (n_spikes (v_th - v_reset) + v - v_rest)``
        (exact for a perfect integrator; the 1 s leak changes it by about window / tau_mem = 2 %)."""
        n = self.config.output_neuron
        return n.c_mem * (self.last_counts * (n.v_threshold - n.v_reset) + self.last_v - n.v_rest)

    def apply_update(self, dw) -> int:
        """Add ``dw`` ``(2, n_in)`` [A] to the weights; returns the device pulses sent.

        Float weights take it exactly.  On a crossbar the update is accumulated digitally and sent as
        pulses once it is worth at least one nominal step (mixed precision, Nandakumar et al., Front.
        Neurosci. 2020): ``n = trunc(chi / (k dG))`` signed pulses per synapse through
        :meth:`memr_snn.devices.CrossbarState.apply_pulses` (a differential pair potentiates G+ for a
        positive change and G- for a negative one; the device's update law, noise, wear and pair refresh
        apply), and ``chi`` keeps the remainder.
        """
        dw = np.asarray(dw, dtype=np.float64)
        if dw.shape != (2, self.enc.n) or not np.all(np.isfinite(dw)):
            raise ValueError(f"dw must be a finite (2, {self.enc.n}) array, got shape {dw.shape}")
        cb = self.crossbar
        if cb is None:
            self.proj.weights = self.proj.weights + dw.T.ravel()
            return 0
        self._chi += dw
        q = cb.scale * cb.device.dg_up
        n = np.trunc(self._chi / q).astype(np.int64)
        if not np.any(n):
            return 0
        self._chi -= n * q
        cb.apply_pulses(n.T.ravel(), now=self.net.t)
        sent = int(np.abs(n).sum())
        self.online_pulses += sent
        return sent

    # --------------------------------------------------------------- counters
    @property
    def device_writes(self) -> int:
        """Device write pulses since construction: programming (initial, program-and-verify, reprogramming)
        and learning pulses."""
        cb = self.crossbar
        if cb is None:
            return 0
        return int(cb.program_pulses) + sum(cb.learning_pulses)

    @property
    def learning_writes(self) -> int:
        """Write pulses of online learning: the R-STDP rule's (inside the kernel) and :meth:`apply_update`'s."""
        cb = self.crossbar
        return 0 if cb is None else sum(cb.learning_pulses) + self.online_pulses

    def energy_parts(self) -> dict[str, float]:
        """Energy so far by part [J]: ``synops`` and ``neuron_updates`` (digital, :class:`ControllerEnergy`),
        ``device_reads`` (the kernel's read energy, sum of V_read^2 G t_read), ``device_writes``
        (programming and learning pulses at ``e_set`` / ``e_reset``)."""
        parts = {"synops": 0.0, "neuron_updates": 0.0, "device_reads": 0.0, "device_writes": 0.0}
        if self.energy is not None:
            parts["synops"] = self.synops * self.energy.e_synop
            updates = self.steps * self.config.window_steps * (self.enc.n + self.out.n)
            parts["neuron_updates"] = updates * self.energy.e_neuron_update
        cb = self.crossbar
        if cb is not None:
            parts["device_reads"] = float(cb.read_energy)
            parts["device_writes"] = float(cb.program_energy) + float(cb.learning_energy)
        return parts

    @property
    def energy_j(self) -> float:
        """Energy of the control steps so far [J]: synops, neuron updates and device reads (the device
        writes are in :meth:`energy_parts`)."""
        p = self.energy_parts()
        return p["synops"] + p["neuron_updates"] + p["device_reads"]

    # ------------------------------------------------------------- checkpoints
    def state(self) -> dict[str, Any]:
        """Everything needed to continue bit for bit: the network checkpoint (bytes) and the counters."""
        fd, path = tempfile.mkstemp(suffix=".memr")
        os.close(fd)
        try:
            self.net.save(path)
            with open(path, "rb") as fh:
                blob = fh.read()
        finally:
            os.unlink(path)
        return {"network": blob, "steps": self.steps, "synops": self.synops, "spikes": self.spikes,
                "episode_seed": self.episode_seed, "last_counts": self.last_counts.tolist(),
                "last_enc_counts": self.last_enc_counts.tolist(), "last_v": self.last_v.tolist(),
                "online_pulses": self.online_pulses, "chi": self._chi.copy()}

    def load_state(self, state: dict[str, Any]) -> None:
        """Restore a :meth:`state` of a controller built with the same configuration."""
        fd, path = tempfile.mkstemp(suffix=".memr")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(state["network"])
            net = Network.load(path)
        finally:
            os.unlink(path)
        self.net = net
        self.enc, self.out = net.population("encoder"), net.population("actions")
        self.proj = net.projection("readout")
        self.enc_spikes, self.out_spikes = net.monitor("encoder_spikes"), net.monitor("action_spikes")
        self.steps, self.synops, self.spikes = int(state["steps"]), int(state["synops"]), int(state["spikes"])
        self.episode_seed = state["episode_seed"]
        self.last_counts = np.asarray(state["last_counts"], dtype=np.int64)
        self.last_enc_counts = np.asarray(state["last_enc_counts"], dtype=np.int64)
        self.last_v = np.asarray(state["last_v"], dtype=np.float64)
        self.online_pulses = int(state["online_pulses"])
        self._chi = np.array(state["chi"], dtype=np.float64)
