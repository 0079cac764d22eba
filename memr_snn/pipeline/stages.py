"""Built-in stages: a function (readout, decoder, controller), a PID controller, a dense -> spike encoder, an AIMC
model (:mod:`memr_snn.aimc`) and a spiking network (:class:`memr_snn.Network`).  Plants (gymnasium
environments) are in :mod:`.plant`.

Energy of a spiking stage (:meth:`SpikingStage.counters`), priced with a core profile of
:mod:`memr_snn.hardware` (default ``loihi1``, Davies et al. 2018, Table 2), per window:

* synaptic operations: every spike of a presynaptic population costs one ``e_synop`` per outgoing synapse;
* compartment updates: every neuron every kernel step; a neuron that receives at least one synaptic event in
  a step is *active* (``e_neuron_active``), else *inactive* (``e_neuron_inactive``), as in
  :mod:`memr_snn.hardware.partition`; the events of a window are attributed to their delivery step
  (spike step + delay) and counted within the window;
* device reads of crossbar synapses (the read energy the kernel accumulates) and device writes (program
  pulses during the run, :func:`memr_snn.devices.device_report`).

Energy of an AIMC stage: :meth:`memr_snn.aimc.AnalogModel.energy` of everything run since ``reset``, without
the programming energy (``profile``, default ``hermes_pcm``).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Mapping

import numpy as np

from .bridges import ENCODINGS, DeltaBridge, encode, exp_rate, first_spike_latency, spike_counts
from .schedule import PipelineError
from .stage import StageBase

__all__ = ["FunctionStage", "WindowSumStage", "PIDStage", "EncoderStage", "AIMCStage", "SpikingStage", "READOUTS"]

#: spike -> dense readouts of :class:`SpikingStage`
READOUTS = ("counts", "rate", "first_spike", "membrane")


def _rng_state(rng: np.random.Generator) -> dict:
    return rng.bit_generator.state


def _set_rng_state(rng: np.random.Generator, state: dict) -> None:
    rng.bit_generator.state = state


class FunctionStage(StageBase):
    """A stateless stage computing ``fn(inputs)`` (a readout, decoder or controller).

    Parameters
    ----------
    name : str
    fn : callable
        ``fn(inputs: dict[str, ndarray]) -> array of out_shape``.
    inputs, out_shape, period, latency, kind
        As :class:`~memr_snn.pipeline.stage.StageBase` (``kind`` default ``"controller"``).
    """

    def __init__(self, name: str, fn: Callable, *, inputs: Mapping | None = None, out_shape=(1,),
                 period: float, latency: float = 0.0, phase: float = 0.0, kind: str = "controller") -> None:
        super().__init__(name, kind, period=period, latency=latency, phase=phase, inputs=inputs,
                         out_shape=out_shape)
        if not callable(fn):
            raise TypeError(f"stage {name!r}: fn must be callable, got {fn!r}")
        self.fn = fn

    def step(self, inputs):
        return self.fn(inputs)


class WindowSumStage(StageBase):
    """Sum of the last ``n`` outputs its source made visible (e.g. spike counts of successive windows of a spiking
    stage: the counts over ``n`` windows), as a ``readout`` stage; fire it at the source's period.

    The sum is kept as a ring of the last ``n`` inputs (zeros before the first), so each firing costs one
    subtraction and one addition.
    """

    def __init__(self, name: str, source: str, shape, n: int, *, period: float, latency: float = 0.0,
                 phase: float = 0.0) -> None:
        super().__init__(name, "readout", period=period, latency=latency, phase=phase, inputs={source: shape},
                         out_shape=shape)
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
            raise ValueError(f"stage {name!r}: n must be an integer >= 1, got {n!r}")
        self.source, self.n = source, int(n)
        self.reset(0)

    def reset(self, seed):
        self._ring = np.zeros((self.n, *self.out_shape))
        self._k = 0
        return None

    def step(self, inputs):
        x = np.asarray(inputs[self.source], dtype=np.float64)
        self._ring[self._k % self.n] = x
        self._k += 1
        return self._ring.sum(axis=0)

    def state(self):
        return {"ring": self._ring.copy(), "k": self._k}

    def load_state(self, state):
        self._ring = np.asarray(state["ring"], dtype=np.float64).copy()
        self._k = int(state["k"])


class PIDStage(StageBase):
    r"""A discrete PID controller on the error ``e`` read from ``source``.

    .. math::  u_k = K_p e_k + K_i T \sum_{j \le k} e_j + K_d (e_k - e_{k-1}) / T,

    with :math:`T` the period, :math:`e_{-1} = e_0` (no derivative kick), ``u`` clipped to ``[-u_max, u_max]``
    and the integral frozen while the output saturates (anti-windup by conditional integration).

    Parameters
    ----------
    name : str
    source : str
        Stage whose output is the error ``(n,)``.
    n : int
        Channels (each controlled independently with the same gains).
    kp, ki, kd : float
        Gains (``ki`` in 1/s, ``kd`` in s).
    u_max : float
        Output limit (> 0; ``inf``: none).
    index : slice or array of int, optional
        Take the error from these elements of the source's output (default: all).
    """

    def __init__(self, name: str, source: str, n: int, *, kp: float, ki: float = 0.0, kd: float = 0.0,
                 u_max: float = np.inf, period: float, latency: float = 0.0, phase: float = 0.0, index=None,
                 source_shape=None) -> None:
        super().__init__(name, "controller", period=period, latency=latency, phase=phase,
                         inputs={source: source_shape}, out_shape=(n,))
        for k, v in (("kp", kp), ("ki", ki), ("kd", kd)):
            if not np.isfinite(v):
                raise ValueError(f"stage {name!r}: {k} must be finite, got {v!r}")
        if not u_max > 0:
            raise ValueError(f"stage {name!r}: u_max must be > 0, got {u_max!r}")
        self.source, self.n = source, int(n)
        self.kp, self.ki, self.kd, self.u_max = float(kp), float(ki), float(kd), float(u_max)
        self.index = slice(None) if index is None else index
        self.reset(0)

    def reset(self, seed):
        self._integral = np.zeros(self.n)
        self._prev: np.ndarray | None = None
        return None

    def step(self, inputs):
        e = np.asarray(inputs[self.source], dtype=np.float64).reshape(-1)[self.index]
        T = self.period
        prev = e if self._prev is None else self._prev
        integral = self._integral + e * T
        u = self.kp * e + self.ki * integral + self.kd * (e - prev) / T
        sat = np.abs(u) > self.u_max
        self._integral = np.where(sat, self._integral, integral)
        u = self.kp * e + self.ki * self._integral + self.kd * (e - prev) / T
        self._prev = e.copy()
        return np.clip(u, -self.u_max, self.u_max)

    def state(self):
        return {"integral": self._integral.copy(), "prev": None if self._prev is None else self._prev.copy()}

    def load_state(self, state):
        self._integral = np.asarray(state["integral"], dtype=np.float64).copy()
        self._prev = None if state["prev"] is None else np.asarray(state["prev"], dtype=np.float64).copy()


class EncoderStage(StageBase):
    """Dense -> spikes (:mod:`.bridges`): the source's values ``(n,)`` become a spike matrix ``(n_steps, n)``
    (``delta``: ``(n_steps, 2n)``, ON then OFF) for a spiking stage whose window is ``n_steps`` steps of ``dt``.

    Parameters
    ----------
    name, source : str
    n : int
        Values per firing.
    encoding : {"poisson", "regular", "latency", "delta"}
    n_steps : int
        Steps per window (the reading spiking stage's ``period / dt``).
    dt : float
        Step of the spike matrix [s] (the network's ``dt``).
    max_rate : float
        Rate codes: rate of ``x_max`` [Hz].
    x_min, x_max : float
        Value range (values are clipped to it).
    threshold : float
        ``delta``: change per spike; the reference carries over between windows.  The signal of a window
        is the value held over its steps.
    """

    def __init__(self, name: str, source: str, n: int, *, encoding: str, n_steps: int, dt: float,
                 period: float, latency: float = 0.0, phase: float = 0.0, max_rate: float = 0.0, x_min: float = 0.0,
                 x_max: float = 1.0, threshold: float = 0.1) -> None:
        if encoding not in (*ENCODINGS, "delta"):
            raise ValueError(f"stage {name!r}: encoding must be one of {(*ENCODINGS, 'delta')}, got {encoding!r}")
        n, n_steps = int(n), int(n_steps)
        width = 2 * n if encoding == "delta" else n
        super().__init__(name, "encoder", period=period, latency=latency, phase=phase, inputs={source: (n,)},
                         out_shape=(n_steps, width))
        self.source, self.n, self.encoding, self.n_steps, self.dt = source, n, encoding, n_steps, float(dt)
        self.max_rate, self.x_min, self.x_max, self.threshold = float(max_rate), float(x_min), float(x_max), \
            float(threshold)
        if encoding in ("poisson", "regular") and not (self.max_rate > 0 and self.max_rate * self.dt <= 1):
            raise ValueError(f"stage {name!r}: max_rate = {max_rate!r} Hz must be > 0 and <= 1/dt = "
                             f"{1 / self.dt:g} Hz")
        self.reset(0)

    def reset(self, seed):
        self._rng = np.random.default_rng(seed)
        self._delta = DeltaBridge(self.n, self.threshold) if self.encoding == "delta" else None
        return None

    def step(self, inputs):
        x = np.asarray(inputs[self.source], dtype=np.float64)
        if self._delta is not None:
            return self._delta(np.broadcast_to(x, (self.n_steps, self.n)))
        return encode(x, self.encoding, self.n_steps, self.dt, max_rate=self.max_rate, x_min=self.x_min,
                      x_max=self.x_max, rng=self._rng)

    def state(self):
        out = {"rng": _rng_state(self._rng)}
        if self._delta is not None:
            out["reference"] = self._delta.reference.copy()
        return out

    def load_state(self, state):
        _set_rng_state(self._rng, state["rng"])
        if self._delta is not None:
            self._delta.reference = np.asarray(state["reference"], dtype=np.float64).copy()


class AIMCStage(StageBase):
    """An AIMC model (:func:`memr_snn.aimc.compile`) run on the source's output, one vector per firing.

    Parameters
    ----------
    name, source : str
    model : memr_snn.aimc.AnalogModel
    in_shape : tuple of int
        Shape of one input (the source's ``out_shape``); the output shape is found by one forward pass of
        zeros at construction (counters are reset afterwards).
    profile : str
        Energy profile of :func:`memr_snn.aimc.load_profile` (default ``hermes_pcm``).
    transform : callable, optional
        Applied to the input before the model (e.g. a DVS frame -> flat vector); must keep ``in_shape``'s
        element count consistent with the model.

    Notes
    -----
    ``reset(seed)`` reseeds the output noise of every tile (``seed``, layer index), so the model's
    inference noise follows the pipeline seed; the programmed devices (weights) stay as compiled.
    """

    def __init__(self, name: str, model, source: str, in_shape, *, period: float, latency: float = 0.0,
                 phase: float = 0.0, profile: str = "hermes_pcm", transform: Callable | None = None) -> None:
        from ..aimc import AnalogModel, load_profile

        if not isinstance(model, AnalogModel):
            raise TypeError(f"stage {name!r}: model must be a memr_snn.aimc.AnalogModel, got {type(model).__name__}")
        self.model = model
        self.source = source
        self.transform = transform
        self.profile = load_profile(profile)
        in_shape = tuple(int(v) for v in in_shape)
        try:
            y = self._forward(np.zeros(in_shape))
        except ValueError as exc:
            raise PipelineError(f"stage {name!r}: the model does not accept inputs of shape {in_shape}: {exc}") \
                from None
        super().__init__(name, "aimc", period=period, latency=latency, phase=phase, inputs={source: in_shape},
                         out_shape=y.shape)
        self.reset(0)

    def _forward(self, x: np.ndarray) -> np.ndarray:
        if self.transform is not None:
            x = self.transform(x)
        return self.model.forward(np.asarray(x, dtype=np.float64)[None])[0]

    def reset(self, seed):
        self.model.reset_counters()
        for k, lay in enumerate(self.model.analog_layers):
            lay.matrix._rng = np.random.default_rng([int(seed), k])
        return None

    def step(self, inputs):
        return self._forward(inputs[self.source])

    def state(self):
        layers = {}
        for k, lay in enumerate(self.model.layers):
            d = {"digital_ops": lay.digital_ops}
            if lay.analog:
                d["vectors"] = lay.vectors
                d["rng"] = _rng_state(lay.matrix._rng)
                d["tiles"] = [dict(t.counters) for t in lay.matrix.tiles]
            layers[str(k)] = d
        return {"layers": layers}

    def load_state(self, state):
        for k, lay in enumerate(self.model.layers):
            d = state["layers"][str(k)]
            lay.digital_ops = float(d["digital_ops"])
            if lay.analog:
                lay.vectors = float(d["vectors"])
                _set_rng_state(lay.matrix._rng, d["rng"])
                for t, c in zip(lay.matrix.tiles, d["tiles"], strict=True):
                    t.counters = {key: float(v) for key, v in c.items()}

    def counters(self):
        rep = self.model.energy(self.profile, include_program=False)
        tot = rep.total
        return {"energy_J": tot.inference_energy, "macs": tot.macs, "writes": 0.0,
                "program_pulses": float(self.model.program_stats.get("pulses", 0))}


class SpikingStage(StageBase):
    """A spiking network (:class:`memr_snn.Network`) run for one window of ``period / net.dt`` kernel steps
    (:meth:`~memr_snn.Network.run_steps`) per firing.

    Parameters
    ----------
    name : str
    network : memr_snn.Network
        Not run yet.  The stage adds its own spike monitors (``pipeline:<stage>:<population>``, drained every
        window) to the populations it accounts for and keeps a checkpoint of the initial state, which
        :meth:`reset` restores; the network's own monitors record as usual.  The network that runs is
        :attr:`network`, restored from that checkpoint at every reset (and from a pipeline checkpoint by
        :meth:`load_state`): read monitors and state there, not on the object passed in.
    source : str
        The stage driving the input population.
    input_population : str
        Population the input drives.
    input_mode : {"current", "rates", "spikes"}
        ``"current"``: ``x`` ``(n_in,)`` sets the bias current ``i_bias = input_offset + input_gain * x`` [A]
        for the window; ``"rates"``: a :class:`~memr_snn.PoissonSource` gets rates
        ``input_gain * x`` [Hz]; ``"spikes"``: a spike matrix ``(n_steps, n_in)`` (an
        :class:`EncoderStage`) makes the input neurons fire at those steps (their membrane is set above
        threshold; one spike per neuron and step).
    output_population : str
        Population read out.
    readout : {"counts", "rate", "first_spike", "membrane"}
        Spike -> dense bridge (:mod:`.bridges`) over the window; ``"rate"`` filters with ``tau_rate``;
        ``"membrane"`` reads ``readout_variable`` at the end of the window.
    """

    def __init__(self, name: str, network, source: str, *, input_population: str, input_mode: str,
                 output_population: str, readout: str = "counts", period: float, latency: float = 0.0,
                 phase: float = 0.0, input_gain: float = 1.0, input_offset: float = 0.0, tau_rate: float = 0.02,
                 readout_variable: str = "v", profile: str = "loihi1") -> None:
        from .. import Network, PoissonSource, SpikeMonitor
        from ..hardware import load_profile
        from .schedule import steps_of

        if not isinstance(network, Network):
            raise TypeError(f"stage {name!r}: network must be a memr_snn.Network, got {type(network).__name__}")
        if network.step != 0:
            raise PipelineError(f"stage {name!r}: the network has already run {network.step} steps; give a fresh one")
        if input_mode not in ("current", "rates", "spikes"):
            raise ValueError(f"stage {name!r}: input_mode must be 'current', 'rates' or 'spikes', got {input_mode!r}")
        if readout not in READOUTS:
            raise ValueError(f"stage {name!r}: readout must be one of {READOUTS}, got {readout!r}")
        self.n_steps = steps_of(name, "period (in steps of the network's dt)", period, network.dt, 1)
        pin, pout = network.population(input_population), network.population(output_population)
        if input_mode == "rates" and not isinstance(pin, PoissonSource):
            raise ValueError(f"stage {name!r}: input_mode 'rates' needs a PoissonSource, {input_population!r} is a "
                             f"{type(pin).__name__}")
        in_shape = (self.n_steps, pin.n) if input_mode == "spikes" else (pin.n,)
        super().__init__(name, "spiking", period=period, latency=latency, phase=phase, inputs={source: in_shape},
                         out_shape=(pout.n,))
        self.source, self.input_mode, self.readout = source, input_mode, readout
        self.input_population, self.output_population = input_population, output_population
        self.input_gain, self.input_offset = float(input_gain), float(input_offset)
        self.tau_rate, self.readout_variable = float(tau_rate), readout_variable
        self.core = load_profile(profile)
        # its own spike monitors (drained every window; the network's other monitors keep recording) of every
        # population whose spikes cost synaptic ops, and of the output
        monitored = sorted({pr.pre.name for pr in network.projections} | {output_population})
        for pname in monitored:
            network.add(SpikeMonitor(network.population(pname), name=f"pipeline:{self.name}:{pname}"))
        self._monitor_names = {p: f"pipeline:{self.name}:{p}" for p in monitored}
        self._initial = self._dump(network)
        self._bind(network)
        self.reset(0)

    # -- network handling ------------------------------------------------------------------------------
    @staticmethod
    def _dump(net) -> bytes:
        fd, path = tempfile.mkstemp(suffix=".msnn")
        os.close(fd)
        try:
            net.save(path)
            with open(path, "rb") as f:
                return f.read()
        finally:
            os.unlink(path)

    @staticmethod
    def _undump(data: bytes):
        from .. import Network

        fd, path = tempfile.mkstemp(suffix=".msnn")
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
            return Network.load(path)
        finally:
            os.unlink(path)

    def _bind(self, net) -> None:
        self.network = net
        self._pin = net.population(self.input_population)
        self._pout = net.population(self.output_population)
        self._mons = {p: net.monitor(m) for p, m in self._monitor_names.items()}
        self._offset = {p.name: o for p, o in zip(net.populations, np.cumsum([0] + [q.n for q in net.populations]),
                                                   strict=False)}
        self._n_total = net.n_neurons
        # per presynaptic population: out-degree of each neuron and its synapses' (target, delay)
        self._fan = {}
        for pr in net.projections:
            deg = np.diff(np.asarray(pr.indptr))
            tgt = np.asarray(pr.indices, dtype=np.int64) + self._offset[pr.post.name]
            self._fan.setdefault(pr.pre.name, []).append((np.asarray(pr.indptr), deg, tgt, pr.delay_array()))
        if self.input_mode == "spikes":
            thr = np.max(np.asarray(self._pin.neuron.broadcast(self._pin.n)["v_threshold"]))
            self._v_force = float(thr) + 1.0

    def reset(self, seed):
        self._bind(self._undump(self._initial))
        self._rate = np.zeros(self._pout.n)
        self._acc = {"synops": 0.0, "active_updates": 0.0, "inactive_updates": 0.0, "spikes": 0.0}
        self._dev0 = self._device_totals()
        return None

    def _device_totals(self) -> tuple[float, float]:
        reads_e = writes = 0.0
        for pr in self.network.projections:
            cb = getattr(pr, "crossbar", None)
            if cb is not None:
                reads_e += float(cb.read_energy)
                writes += float(int(cb.program_pulses) + sum(cb.learning_pulses))
        return reads_e, writes

    # -- one window ------------------------------------------------------------------------------------
    def step(self, inputs):
        net, x = self.network, np.asarray(inputs[self.source], dtype=np.float64)
        n0 = net.step
        if self.input_mode == "current":
            net.set_state(self._pin, "i_bias", self.input_offset + self.input_gain * x)
            net.run_steps(self.n_steps)
        elif self.input_mode == "rates":
            net.set_rates(self._pin, np.clip(self.input_gain * x, 0.0, None))
            net.run_steps(self.n_steps)
        else:
            fire = x > 0
            for t in range(self.n_steps):  # one kernel step at a time: the forced neurons of each step
                idx = np.flatnonzero(fire[t])
                if idx.size:
                    net.set_state(self._pin, "v", self._v_force, indices=idx)
                net.run_steps(1)
        spikes = self._collect(n0)
        out = spikes[self.output_population]
        if self.readout == "counts":
            return spike_counts(out)
        if self.readout == "rate":
            self._rate = exp_rate(out, net.dt, self.tau_rate, self._rate)
            return self._rate.copy()
        if self.readout == "first_spike":
            return first_spike_latency(out, net.dt)
        return net.get_state(self._pout, self.readout_variable)

    def _collect(self, n0: int) -> dict[str, np.ndarray]:
        """Spike matrices ``(n_steps, n)`` of the window per monitored population; accounts the energy."""
        W, N = self.n_steps, self._n_total
        mats, keys = {}, []
        for p, mon in self._mons.items():
            steps, idx = mon.steps - n0, mon.i
            pop_n = self.network.population(p).n
            mats[p] = np.bincount(steps * pop_n + idx, minlength=W * pop_n).reshape(W, pop_n)
            self._acc["spikes"] += steps.size
            for indptr, deg, tgt, delay in self._fan.get(p, ()):
                self._acc["synops"] += float(deg[idx].sum())
                if idx.size:  # expand each spike to its synapses: (delivery step, target) of every event
                    starts, counts = indptr[idx], deg[idx]
                    syn = np.repeat(starts - np.cumsum(counts) + counts, counts) + np.arange(counts.sum())
                    when = np.repeat(steps, counts) + delay[syn]
                    keep = when < W
                    keys.append(when[keep] * N + tgt[syn][keep])
            mon.clear()
        active = float(np.unique(np.concatenate(keys)).size) if keys else 0.0
        self._acc["active_updates"] += active
        self._acc["inactive_updates"] += W * N - active
        return mats

    # -- checkpoints and accounting --------------------------------------------------------------------
    def state(self):
        return {"network": self._dump(self.network), "rate": self._rate.copy(), "acc": dict(self._acc),
                "dev0": list(self._dev0)}

    def load_state(self, state):
        self._bind(self._undump(state["network"]))
        self._rate = np.asarray(state["rate"], dtype=np.float64).copy()
        self._acc = {k: float(v) for k, v in state["acc"].items()}
        self._dev0 = tuple(float(v) for v in state["dev0"])

    def counters(self):
        c, a = self.core, self._acc
        read_e, writes = self._device_totals()
        e_syn = a["synops"] * c.e_synop
        e_upd = a["active_updates"] * c.e_neuron_active + a["inactive_updates"] * c.e_neuron_inactive
        e_read = read_e - self._dev0[0]
        return {"energy_J": e_syn + e_upd + e_read, "synops": a["synops"], "spikes": a["spikes"],
                "energy_synops_J": e_syn, "energy_updates_J": e_upd, "energy_device_reads_J": e_read,
                "writes": writes - self._dev0[1]}
