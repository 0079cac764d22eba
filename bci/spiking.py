r"""A spiking velocity decoder that runs in the memr_snn kernel on memristive crossbars.

The network (a :class:`memr_snn.Network`, ``engine="dense"``) has three populations:

* ``relay`` -- ``copies`` LIF relay neurons per channel.  A bin with ``c`` spikes on channel ``i``
  makes copies ``0 .. min(c, copies) - 1`` of channel ``i`` fire once (a thermometer code: the
  network sees the count clipped to ``copies``); they are made to fire by setting their membrane
  far above threshold before the bin (:meth:`memr_snn.Network.set_state`);
* ``hidden`` -- ``n_hidden`` LIF neurons (reset to 0, no refractory period) whose synaptic current
  decays within one step (``tau_syn = 1 us``), so every input spike moves the membrane by a fixed
  amount in the step it arrives;
* ``readout`` -- 2 non-spiking LIF neurons whose synaptic current ``i_e``, decaying with
  ``tau_out``, is the decoded velocity (times a scale, plus a digital bias).

``relay -> hidden`` and ``hidden -> readout`` are :class:`~memr_snn.devices.Crossbar` projections
(differential pairs of ``preset`` devices, program-and-verify, the preset's drift, read noise and
faults on): every spike reads its row of devices in the kernel.  One bin is 3 kernel steps of
``bin_width / 3``: the relays fire in step 0, the hidden neurons integrate their input and fire in
step 1, the readout receives those spikes in step 2; :meth:`SpikingCrossbarDecoder.step` then
reads ``i_e``.  Per bin, with :math:`\alpha = e^{-\Delta/\tau_m}`, :math:`\kappa = e^{-\Delta/\tau_{out}}`
(:math:`\Delta` the bin width) and the read weights :math:`W^{in}, W^{out}` of the devices,

.. math::

    u_t = \alpha\,\tilde u_{t-1} + \sum_{j<\min(c_t, K)} W^{in}_{\cdot,(i,j)},\quad
    s_t = [u_t > 1],\quad \tilde u_t = u_t (1 - s_t),\qquad
    F_t = \kappa F_{t-1} + s_t,\quad \hat{\mathbf v}_t = W^{out} F_t + \mathbf b,

which :func:`reference_decode` computes in numpy from the devices' reads (the kernel path equals it
exactly, read noise included, ``tests/bci/test_spiking.py``).

**Training** (:meth:`SpikingCrossbarDecoder.fit`): the feed-forward network of
:mod:`memr_snn.learning.snn` with the same per-bin dynamics (``dt = bin_width``, reset by
subtraction, which the kernel replaces by a reset to 0) is trained offline by surrogate-gradient
BPTT (:func:`memr_snn.learning.surrogate.train`, mean-squared error on the velocity, one bin
ahead because a spike needs one step of the trained model); ``w_in`` is then programmed into the
input crossbar, the readout is solved by ridge regression on the features :math:`F_t` computed
from the programmed devices' reads (so it absorbs the reset change, the device errors and the
weight quantization), and programmed into the readout crossbar.

**Online adaptation** (:meth:`~SpikingCrossbarDecoder.partial_fit`, :meth:`~SpikingCrossbarDecoder.refit`):
the readout's ridge statistics are updated with new data (old data weighted by ``memory``) from the
features of the devices' present reads, and the readout crossbar is reprogrammed; ``refit`` uses
ReFIT-style re-aimed intentions (:func:`~memr_snn.bci.kalman.reestimate_intention`).  Device writes
are counted by the crossbars (:meth:`~SpikingCrossbarDecoder.device_stats`,
:func:`memr_snn.devices.device_report`).
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np

import memr_snn as ms
from memr_snn._validation import check_int_at_least, check_nonnegative, check_positive, check_probability
from memr_snn.devices import Crossbar, device_report
from memr_snn.learning import surrogate
from memr_snn.learning.snn import RSNNConfig, init_weights

from ._checks import as_counts, check_pair, steps_per_bin
from .decoders import Decoder
from .kalman import reestimate_intention

__all__ = ["SpikingDecoderParams", "SpikingCrossbarDecoder", "ReFITSpikingDecoder", "reference_decode", "SUBSTEPS"]

#: kernel steps per bin (relay fires, hidden integrates and fires, readout receives)
SUBSTEPS = 3
_V_TH = 10e-3  # hidden threshold [V] (the trained model's v_th = 1 is 10 mV)
_TAU_SYN = 1e-6  # hidden synaptic time constant [s]: the current is spent within the step
_C_MEM = 250e-12  # membrane capacitance [F]
_I_SCALE = 1e-12  # readout current per (m/s) [A]
_V_FORCE = 1.0  # membrane potential that makes a relay fire [V]


@dataclasses.dataclass(frozen=True)
class SpikingDecoderParams:
    """Size, time constants, training and device settings of :class:`SpikingCrossbarDecoder` (SI units)."""

    n_hidden: int = 64
    """Hidden LIF neurons."""
    copies: int = 4
    """Relay neurons per channel; counts above it are clipped."""
    bin_width: float = 0.02
    """Decoder bin [s] (three kernel steps of ``bin_width / 3``)."""
    tau_mem: float = 0.05
    """Hidden membrane time constant [s]."""
    tau_out: float = 0.1
    """Readout time constant [s]."""
    epochs: int = 40
    """Surrogate-gradient training epochs."""
    lr: float = 3e-3
    """Adam learning rate."""
    l2: float = 1e-4
    """L2 penalty of the training."""
    rate_reg: float = 1e-2
    """Firing-rate regulariser of the training (target ``rate_target``)."""
    rate_target: float = 15.0
    """Target hidden rate of the regulariser [Hz]."""
    seq_bins: int = 50
    """Bins per training sequence (windows of the training data with stride ``seq_bins // 2``)."""
    ridge: float = 1e-2
    """Ridge penalty of the readout fit, relative to the mean diagonal of the feature Gram matrix."""
    memory: float = 0.0
    """Weight in [0, 1] of the old readout statistics when ``partial_fit`` adds data (0: the new data alone)."""
    preset: str = "hfox_rram"
    """Device preset of both crossbars (``memr_snn.devices.list_presets()``)."""
    program: str = "verify"
    """Crossbar programming: ``"verify"`` or ``"direct"``."""
    device_age: float = 0.0
    """Time from programming to the start of decoding [s] (drift; e.g. 86400 for a day)."""
    readout_headroom: float = 2.0
    """Readout crossbar full scale over the largest fitted readout weight (room for adaptation)."""
    seed: int = 0
    """Seed of the initial weights, training order and devices."""

    def __post_init__(self) -> None:
        check_int_at_least("n_hidden", self.n_hidden, 1)
        check_int_at_least("copies", self.copies, 1)
        steps_per_bin(self.bin_width)
        for name in ("tau_mem", "tau_out", "lr", "rate_target"):
            check_positive(name, getattr(self, name), "s" if name.startswith("tau") else "")
        check_int_at_least("epochs", self.epochs, 1)
        check_int_at_least("seq_bins", self.seq_bins, 4)
        for name in ("l2", "rate_reg", "ridge", "device_age"):
            check_nonnegative(name, getattr(self, name))
        check_probability("memory", self.memory)
        if not self.readout_headroom >= 1.0:
            raise ValueError(f"readout_headroom must be >= 1, got {self.readout_headroom!r}")
        check_int_at_least("seed", self.seed, 0)


def _coupling(tau_s: float, tau_m: float, dt: float) -> float:
    r"""Membrane step [V] per unit synaptic current [A] arriving in a step (exact LIF propagator).

    :math:`P_{21} = \frac{\tau_s\tau_m}{C(\tau_m-\tau_s)}(e^{-dt/\tau_m} - e^{-dt/\tau_s})`
    (Rotter & Diesmann 1999, eq. for the current-based exponential synapse).
    """
    return tau_s * tau_m / (_C_MEM * (tau_m - tau_s)) * (math.exp(-dt / tau_m) - math.exp(-dt / tau_s))


def reference_decode(counts, w_in, w_out, bias, params: SpikingDecoderParams,
                     state: tuple[np.ndarray, np.ndarray] | None = None) -> tuple[np.ndarray, np.ndarray, tuple]:
    r"""Numpy reference of the decoder's per-bin dynamics (module docstring), from given read weights.

    Each spike is weighted by the read of its own bin (the kernel reads the devices at every
    spike), so the readout accumulates :math:`R_t = \kappa R_{t-1} + W^{out}_t s_t` and decodes
    :math:`R_t + \mathbf b` (equal to :math:`W^{out} F_t + \mathbf b` for fixed weights).

    Parameters
    ----------
    counts : (n_bins, n_units) array_like
        Spike counts.
    w_in : (n_bins, n_hidden, n_units * copies) or (n_hidden, n_units * copies) ndarray
        Input weights as read from the devices, in units of the threshold (per bin, or fixed);
        column ``i * copies + j`` is copy ``j`` of channel ``i``.
    w_out : (n_bins, 2, n_hidden) or (2, n_hidden) ndarray
        Readout weights [m/s per filtered spike] (per bin, or fixed).
    bias : (2,) array_like
        Digital readout bias [m/s].
    state : (u, R), optional
        Hidden membranes (after reset) and readout accumulator at the start (default zeros).

    Returns
    -------
    velocity : (n_bins, 2) ndarray
    spikes : (n_bins, n_hidden) ndarray of bool
    state : (u, R) at the end
    """
    X = as_counts("counts", counts)
    K, dt = params.copies, params.bin_width
    alpha, kappa = math.exp(-dt / params.tau_mem), math.exp(-dt / params.tau_out)
    w_in, w_out = np.asarray(w_in, dtype=np.float64), np.asarray(w_out, dtype=np.float64)
    H = w_in.shape[-2]
    u = np.zeros(H) if state is None else state[0].copy()
    R = np.zeros(2) if state is None else state[1].copy()
    b = np.asarray(bias, dtype=np.float64)
    fire = np.arange(K)[None, :] < np.minimum(X, K)[:, :, None]  # (n_bins, n_units, K)
    vel = np.empty((X.shape[0], 2))
    spikes = np.empty((X.shape[0], H), dtype=bool)
    for t in range(X.shape[0]):
        win = w_in[t] if w_in.ndim == 3 else w_in
        wout = w_out[t] if w_out.ndim == 3 else w_out
        u = alpha * u + win[:, fire[t].ravel()].sum(axis=1)
        s = u > 1.0
        u = np.where(s, 0.0, u)
        R = kappa * R + wout @ s
        vel[t] = R + b
        spikes[t] = s
    return vel, spikes, (u, R)


class SpikingCrossbarDecoder(Decoder):
    """Spiking decoder on memristive crossbars, run by the memr_snn kernel (module docstring).

    Parameters
    ----------
    params : SpikingDecoderParams, optional
        Sizes, time constants, training and device settings.

    Attributes
    ----------
    network_ : memr_snn.Network
        The network (after ``fit``); ``proj_in_``, ``proj_out_`` its crossbar projections.
    train_loss_ : list of float
        Training loss per epoch.
    readout_writes_ : int
        Program pulses sent to the readout crossbar by online adaptation.
    """

    #: whether :func:`~memr_snn.bci.protocol.run_session` adapts it after each closed-loop block
    closed_loop_refit = False

    def __init__(self, params: SpikingDecoderParams | None = None) -> None:
        self.params = params

    # -- fitting ----------------------------------------------------------------------------
    def _p(self) -> SpikingDecoderParams:
        p = self.params if self.params is not None else SpikingDecoderParams()
        if not isinstance(p, SpikingDecoderParams):
            raise TypeError(f"params must be a SpikingDecoderParams, got {type(p).__name__}")
        return p

    def fit(self, X, y) -> SpikingCrossbarDecoder:
        """Train offline, program the crossbars, solve the readout; returns self."""
        p = self._p()
        X, y = check_pair(X, y)
        if X.shape[0] < p.seq_bins:
            raise ValueError(f"X must hold at least seq_bins={p.seq_bins} bins, got {X.shape[0]}")
        self.params_ = p
        n = X.shape[1]
        Xc = np.minimum(X, p.copies)
        self.velocity_scale_ = float(np.sqrt(np.mean(y ** 2))) or 1.0
        cfg = RSNNConfig(n_in=n, n_rec=p.n_hidden, n_out=2, dt=p.bin_width, tau_mem=p.tau_mem, tau_out=p.tau_out,
                         recurrent=False)
        w = init_weights(cfg, p.seed, in_gain=2.0)
        L = p.seq_bins
        starts = np.arange(0, X.shape[0] - L + 1, max(1, L // 2))
        xs = np.stack([Xc[s:s + L] for s in starts])
        # the trained model's output Y[t] sees inputs up to t - 1: aim Y[t] at the velocity of bin t - 1
        ys = np.stack([np.vstack([np.zeros((1, 2)), y[s:s + L - 1]]) for s in starts]) / self.velocity_scale_
        mask = np.ones((len(starts), L))
        mask[:, :5] = 0.0  # warm-up of the readout filter
        hist = surrogate.train(cfg, w, xs, ys, loss="mse", epochs=p.epochs, batch_size=16, lr=p.lr, seed=p.seed,
                               mask=mask, l2=p.l2, rate_reg=p.rate_reg, rate_target=p.rate_target)
        self.train_loss_ = [float(v) for v in hist["loss"]]
        self.config_ = cfg
        self.trained_ = w
        self.n_units_ = n
        self._build(w.w_in)
        self._stats = None
        self._fit_readout(X, y, memory=0.0)
        return self

    def _crossbar(self, w_max: float | None = None) -> Crossbar:
        p = self.params_
        return Crossbar(preset=p.preset, program=p.program, encoding="differential", age=p.device_age, w_max=w_max)

    def _build(self, w_in: np.ndarray) -> None:
        p, n, H, K = self.params_, self.n_units_, self.params_.n_hidden, self.params_.copies
        dt = p.bin_width / SUBSTEPS
        net = ms.Network(dt=dt, seed=p.seed, engine="dense")
        self.relay_ = net.add(ms.Population(n * K, ms.LIFParams(tau_mem=1.0, c_mem=_C_MEM, v_rest=0.0, v_reset=0.0,
                                                                v_threshold=1e-3, t_ref=0.0), name="relay"))
        self.hidden_ = net.add(ms.Population(H, ms.LIFParams(tau_mem=p.tau_mem, c_mem=_C_MEM, v_rest=0.0, v_reset=0.0,
                                                             v_threshold=_V_TH, t_ref=0.0, tau_syn_e=_TAU_SYN,
                                                             tau_syn_i=_TAU_SYN), name="hidden"))
        self.readout_ = net.add(ms.Population(2, ms.LIFParams(tau_mem=1e-3, c_mem=_C_MEM, v_rest=0.0, v_reset=0.0,
                                                              v_threshold=1.0, t_ref=0.0, tau_syn_e=p.tau_out,
                                                              tau_syn_i=p.tau_out), name="readout"))
        self._in_scale = _V_TH / _coupling(_TAU_SYN, p.tau_mem, dt)  # [A] per threshold unit
        self._out_scale = _I_SCALE / math.exp(-dt / p.tau_out)  # [A] per (m/s) per filtered spike
        pre = np.repeat(np.arange(n * K), H)
        post = np.tile(np.arange(H), n * K)
        w = np.repeat(w_in.T, K, axis=0).ravel()  # row i*K + j of the relays -> every hidden neuron
        self.proj_in_ = net.add(ms.Projection(self.relay_, self.hidden_, ms.FromArrays(pre, post),
                                              weights=w * self._in_scale, device=self._crossbar(), name="in"))
        self.network_ = net
        self._out_pre = np.repeat(np.arange(H), 2)
        self._out_post = np.tile(np.arange(2), H)
        self.proj_out_ = None
        self._fire = np.arange(K)[None, :]
        self.readout_writes_ = 0

    # -- device reads ---------------------------------------------------------------------------
    def read_input_weights(self, step: int | None = None, noise: bool = False) -> np.ndarray:
        """Input weights the devices deliver, ``(n_hidden, n_units * copies)`` in threshold units.

        At the present time (``step=None``, without read noise) or as read by a spike of kernel step
        ``step`` (with ``noise``: exactly the kernel's draw).
        """
        self._check_fitted()
        cb = self.proj_in_.crossbar
        r = cb.read_weights() if step is None else cb.read_weights(step=step, dt=self.network_.dt, noise=noise)
        return r.reshape(self.n_units_ * self.params_.copies, self.params_.n_hidden).T / self._in_scale

    def read_output_weights(self, step: int | None = None, noise: bool = False) -> np.ndarray:
        """Readout weights the devices deliver, ``(2, n_hidden)`` [m/s per filtered spike]."""
        self._check_fitted()
        cb = self.proj_out_.crossbar
        r = cb.read_weights() if step is None else cb.read_weights(step=step, dt=self.network_.dt, noise=noise)
        return r.reshape(self.params_.n_hidden, 2).T / self._out_scale

    def features(self, X) -> np.ndarray:
        """Filtered hidden spikes ``F`` ``(n_bins, n_hidden)`` of ``X`` from rest, with the present device reads."""
        self._check_fitted()
        X = as_counts("X (spike counts)", X, self.n_units_)
        H = self.params_.n_hidden
        _, s, _ = reference_decode(X, self.read_input_weights(), np.zeros((2, H)), np.zeros(2), self.params_)
        kappa = math.exp(-self.params_.bin_width / self.params_.tau_out)
        F = np.empty(s.shape)
        f = np.zeros(H)
        for t in range(len(s)):
            f = kappa * f + s[t]
            F[t] = f
        return F

    def _fit_readout(self, X, y, memory: float) -> None:
        F = self.features(X)
        D = np.column_stack([F, np.ones(len(F))])
        new = {"gram": D.T @ D, "cross": D.T @ y}
        if self._stats is not None:
            new = {k: memory * self._stats[k] + new[k] for k in new}
        self._stats = new
        G = new["gram"]
        reg = self.params_.ridge * np.trace(G) / G.shape[0] * np.eye(G.shape[0])
        reg[-1, -1] = 0.0
        coef = np.linalg.solve(G + reg, new["cross"])  # (H + 1, 2)
        self.bias_ = coef[-1].copy()
        w = coef[:-1].T  # (2, H)
        self.readout_weights_ = w
        flat = (w.T.ravel()) * self._out_scale  # synapse (h, o) in CSR order: pre h, post o
        if self.proj_out_ is None:
            w_max = self.params_.readout_headroom * float(np.max(np.abs(flat))) or None
            self.proj_out_ = self.network_.add(ms.Projection(
                self.hidden_, self.readout_, ms.FromArrays(self._out_pre, self._out_post), weights=flat,
                device=self._crossbar(w_max), name="out"))
            self.reset()
        else:
            cb = self.proj_out_.crossbar
            before = int(cb.program_pulses)
            self.proj_out_.weights = flat
            self.readout_writes_ += int(cb.program_pulses) - before

    def partial_fit(self, X, y) -> SpikingCrossbarDecoder:
        """Add ``(X, y)`` to the readout statistics (old weighted by ``memory``), reprogram the readout."""
        if not hasattr(self, "n_units_"):
            return self.fit(X, y)
        X, y = check_pair(X, y, self.n_units_)
        saved = self._get_state()
        self._fit_readout(X, y, memory=self.params_.memory)
        self._set_state(saved)
        return self

    def refit(self, X, decoded, cursor, target, in_target) -> SpikingCrossbarDecoder:
        """ReFIT-style adaptation: re-aim the decoded velocities at the targets and ``partial_fit`` on them."""
        self._check_fitted()
        X, _ = check_pair(X, decoded, self.n_units_)
        return self.partial_fit(X, reestimate_intention(decoded, cursor, target, in_target))

    # -- decoding -------------------------------------------------------------------------------
    def reset(self) -> None:
        """Hidden membranes, relays and the readout current back to 0 (the device clock runs on)."""
        self._check_fitted()
        net = self.network_
        for pop, var in ((self.relay_, "v"), (self.hidden_, "v"), (self.hidden_, "i_e"), (self.readout_, "i_e"),
                         (self.readout_, "v")):
            net.set_state(pop, var, 0.0)

    def _get_state(self):
        net = self.network_
        return tuple(net.get_state(pop, var) for pop, var in ((self.relay_, "v"), (self.hidden_, "v"),
                                                              (self.hidden_, "i_e"), (self.readout_, "i_e"),
                                                              (self.readout_, "v")))

    def _set_state(self, state) -> None:
        net = self.network_
        for (pop, var), val in zip(((self.relay_, "v"), (self.hidden_, "v"), (self.hidden_, "i_e"),
                                    (self.readout_, "i_e"), (self.readout_, "v")), state, strict=True):
            net.set_state(pop, var, val)

    def step(self, x) -> np.ndarray:
        """Run one bin in the kernel (3 steps); returns the decoded velocity ``(2,)`` [m/s]."""
        x = self._check_bin(x)
        K = self.params_.copies
        fire = np.flatnonzero(self._fire < np.minimum(x, K)[:, None])
        net = self.network_
        if fire.size:
            net.set_state(self.relay_, "v", _V_FORCE, indices=fire)
        net.run_steps(SUBSTEPS)
        return net.get_state(self.readout_, "i_e") / _I_SCALE + self.bias_

    # -- accounting -----------------------------------------------------------------------------
    def device_stats(self) -> dict:
        """Reads, read energy, program pulses and projected lifetime per crossbar (:func:`device_report`)."""
        self._check_fitted()
        rep = device_report(self.network_)
        out = {}
        for row in rep.rows:
            out[row.projection] = {"devices": row.devices, "reads": row.reads, "read_energy_J": row.read_energy,
                                   "program_pulses": row.program_pulses, "program_energy_J": row.program_energy,
                                   "run_pulses": row.run_pulses, "lifetime_s": row.lifetime,
                                   "reprogrammings_left": row.reprogrammings_left}
        out["readout_adaptation_pulses"] = self.readout_writes_
        return out


class ReFITSpikingDecoder(SpikingCrossbarDecoder):
    """:class:`SpikingCrossbarDecoder` that the protocol adapts after every closed-loop block (:meth:`refit`),
    as it refits the ReFIT Kalman filter (decoder name ``"snn_refit"``)."""

    closed_loop_refit = True
