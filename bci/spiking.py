# Size: about 690 lines because SpikingCrossbarDecoder is one class whose jobs (training, fault-aware mapping,
# kernel decoding, online adaptation of both crossbars, health checks, accounting) act on the same network and
# crossbars; the device-table arithmetic, the read-verify and the energy model are in spiking_faults.py,
# health.py and spiking_energy.py.
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

**Faults in the loop** (``fault_aware=True``, the default): after the first programming the decoder
reads the input crossbar's per-device table (each device's own bounds, its fault code and, for stuck
devices, the conductance they hold) and turns it into the interval of weights each device pair can
deliver (:func:`~memr_snn.bci.spiking_faults.synapse_bounds`: a point when both devices are stuck,
one-signed when one is).  The trained model is moved to the thermometer code (one input per relay,
so each device row gets its own weight), its hidden neurons are placed on the columns whose intervals
suit their weights (:func:`~memr_snn.bci.spiking_faults.remap_columns`), and it is retrained for
``fault_epochs`` by surrogate gradients with every input weight projected onto its interval after
each step (``surrogate.train(constrain=...)``): stuck devices stay what they are, the free weights
adapt around them.  The result is programmed with each pair's offset compensated
(:func:`~memr_snn.bci.spiking_faults.request_for`), read back, and the readout is solved by
ridge regression on the features of those reads with every readout weight inside its own pair's
interval (:func:`~memr_snn.bci.spiking_faults.bounded_ridge`).  With devices that can hold the weights
as the plain mapping writes them (no fault, no device whose ``g_min`` lies above the nominal one,
every weight in range) nothing changes: the plain path, bit for bit.  The second programming's
pulses are ``fault_aware_pulses_``; it counts as part of the deployment programming in the device
report (its lifetime projection starts after it).

**Online adaptation** (:meth:`~SpikingCrossbarDecoder.partial_fit`, :meth:`~SpikingCrossbarDecoder.refit`):
the readout's ridge statistics are updated with new data (old data weighted by ``memory``) from the
features of the devices' present reads, and the readout crossbar is reprogrammed; ``refit`` uses
ReFIT-style re-aimed intentions (:func:`~memr_snn.bci.kalman.reestimate_intention`), by default
(``intention_speed="calibration"``) rescaled to the RMS speed of the moving bins of the calibration data
(``calibration_speed_``, :func:`~memr_snn.bci.kalman.rescale_speed`): after a unit loss the decoder
barely moves while the user pushes at full speed, and intentions at the decoded speed would keep it
slow (docs/bci.md, "Unit loss and recovery").  With
``adapt_input=True`` the input weights are first retrained on the new data (``adapt_epochs``, the
same projected surrogate gradients within the devices' present intervals, worn-out devices
included) and the input crossbar is reprogrammed (``input_writes_`` pulses; the old readout
statistics are then dropped).  Device writes are counted by the crossbars
(:meth:`~SpikingCrossbarDecoder.device_stats`, :func:`memr_snn.devices.device_report`, whose
lifetime projects the wear of the simulated schedule with the endurance model);
:meth:`~SpikingCrossbarDecoder.input_adaptations_left` projects how many input retrainings the worst
device can still take.

**Health** (:meth:`~SpikingCrossbarDecoder.device_health`): each call read-verifies the next rows of both
crossbars (or, with ``full=True``, every row: the safety layer's confirmation read) against their last
programming (:class:`~memr_snn.bci.health.CrossbarVerifier`, ``verify`` settings): devices newly stuck since
then and the weight error of drift and relaxation, in a :class:`~memr_snn.bci.health.HealthReport`;
:class:`~memr_snn.bci.safety.SafeDecoder` polls it.  The verify reads are counted in the decode counters and
priced in :meth:`~SpikingCrossbarDecoder.energy` (``verify``).

**Energy** (:meth:`~SpikingCrossbarDecoder.energy`): every :meth:`~SpikingCrossbarDecoder.step` counts the
rows it drives and the bins in which each crossbar is active; with the device layer's read energy they
are priced by :func:`~memr_snn.bci.spiking_energy.spiking_energy` (row drivers, column conversions and
digital op of the ``hermes_pcm`` AIMC profile, neuron updates of the ``loihi1`` core profile).
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np

import memr_snn as ms
from memr_snn._validation import check_int_at_least, check_nonnegative, check_positive, check_probability
from memr_snn.devices import Crossbar, device_report
from memr_snn.learning import surrogate
from memr_snn.learning.snn import RSNNConfig, Weights, init_weights

from ._checks import as_counts, check_pair, steps_per_bin
from .decoders import Decoder
from .health import CrossbarVerifier, HealthReport, VerifyParams
from .kalman import reestimate_intention, rescale_speed
from .spiking_energy import COUNTER_KEYS, VERIFY_KEYS, SpikingEnergyProfile, spiking_energy
from .spiking_faults import bounded_ridge, needs_mapping, remap_columns, request_for, synapse_bounds

__all__ = ["SpikingDecoderParams", "SpikingCrossbarDecoder", "ReFITSpikingDecoder", "PlainSpikingDecoder",
           "InputAdaptingSpikingDecoder", "reference_decode", "SUBSTEPS"]

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
    fault_aware: bool = True
    """After the first programming, read the crossbars' per-device tables (faults, bounds) and retrain with
    them in the loop: input weights by projected surrogate gradients, readout by bounded ridge regression
    (module docstring).  False: the plain path (train, program, ridge readout on the reads)."""
    remap: bool = True
    """With ``fault_aware``: place the trained hidden neurons on the input crossbar's columns whose
    deliverable ranges suit their weights best (:func:`~memr_snn.bci.spiking_faults.remap_columns`)."""
    fault_epochs: int = 20
    """Epochs of the fault-aware retraining of the input weights."""
    fault_lr: float = 1e-3
    """Adam learning rate of the fault-aware retraining."""
    adapt_input: bool = False
    """Online adaptation (``partial_fit``, ``refit``) retrains and reprograms the input crossbar too
    (projected surrogate gradients on the new data, ``adapt_epochs`` epochs), not only the readout."""
    adapt_epochs: int = 20
    """Epochs of each online retraining of the input weights (unit loss, 5 seeds, intentions at the decoded speed:
    20 recovered 47 %, 40 41 %, 5 at ``adapt_lr = 1e-3`` 22 %; docs/bci.md)."""
    adapt_lr: float = 3e-3
    """Adam learning rate of the online retraining of the input weights."""
    intention_speed: str = "calibration"
    """Speed of the re-aimed intentions :meth:`~SpikingCrossbarDecoder.refit` adapts on: ``"decoded"`` (ReFIT:
    each bin's decoded speed) or ``"calibration"`` (those speeds rescaled to the RMS speed of the moving bins of
    the fit's data, :func:`~memr_snn.bci.kalman.rescale_speed`; module docstring)."""
    verify: VerifyParams = VerifyParams()
    """Read-verify of :meth:`~SpikingCrossbarDecoder.device_health`: devices per poll and crossbar, stuck tolerance."""
    seed: int = 0
    """Seed of the initial weights, training order and devices."""

    def __post_init__(self) -> None:
        if not isinstance(self.verify, VerifyParams):
            raise TypeError(f"verify must be a VerifyParams, got {self.verify!r}")
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
        for name in ("fault_aware", "remap", "adapt_input"):
            if not isinstance(getattr(self, name), bool):
                raise TypeError(f"{name} must be True or False, got {getattr(self, name)!r}")
        check_int_at_least("fault_epochs", self.fault_epochs, 1)
        check_int_at_least("adapt_epochs", self.adapt_epochs, 1)
        check_positive("fault_lr", self.fault_lr)
        check_positive("adapt_lr", self.adapt_lr)
        if self.intention_speed not in ("decoded", "calibration"):
            raise ValueError(f"intention_speed must be 'decoded' or 'calibration', got {self.intention_speed!r}")


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
    #: parameters that differ from :class:`SpikingDecoderParams`'s defaults when ``params`` is None
    _defaults: dict = {}

    def _p(self) -> SpikingDecoderParams:
        p = self.params if self.params is not None else SpikingDecoderParams(**self._defaults)
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
        self.n_units_ = n
        self.velocity_scale_ = float(np.sqrt(np.mean(y ** 2))) or 1.0
        speed = np.linalg.norm(y, axis=1)
        self.calibration_speed_ = float(np.sqrt(np.mean(speed[speed > 0] ** 2))) if np.any(speed > 0) else 1.0
        cfg = RSNNConfig(n_in=n, n_rec=p.n_hidden, n_out=2, dt=p.bin_width, tau_mem=p.tau_mem, tau_out=p.tau_out,
                         recurrent=False)
        w = init_weights(cfg, p.seed, in_gain=2.0)
        xs, ys, mask = self._windows(X, y, thermometer=False)
        hist = surrogate.train(cfg, w, xs, ys, loss="mse", epochs=p.epochs, batch_size=16, lr=p.lr, seed=p.seed,
                               mask=mask, l2=p.l2, rate_reg=p.rate_reg, rate_target=p.rate_target)
        self.train_loss_ = [float(v) for v in hist["loss"]]
        self.config_ = cfg
        self.trained_ = w
        # the same model on the thermometer code (one input per relay, each copy its own weight): the
        # retraining with the devices in the loop gives every device row its own weight
        self.surrogate_ = Weights(w_in=np.repeat(w.w_in, p.copies, axis=1), w_rec=None, w_out=w.w_out.copy(),
                                  b_out=w.b_out.copy())
        self._therm_config = dataclasses.replace(cfg, n_in=n * p.copies)
        self._build(self.surrogate_.w_in)
        self.fault_retrain_loss_: list[float] = []
        self.fault_retrained_ = False
        self.column_perm_ = np.arange(p.n_hidden)
        self.fault_map_ = np.array(self.proj_in_.crossbar.fault)
        if p.fault_aware:
            self._fault_aware_input(*self._windows(X, y, thermometer=True))
        self._stats = None
        self._fit_readout(X, y, memory=0.0)
        v = p.verify
        self._verifiers = (CrossbarVerifier(self.proj_in_.crossbar, v, "in"),
                           CrossbarVerifier(self.proj_out_.crossbar, dataclasses.replace(v, seed=v.seed + 1), "out"))
        return self

    def _windows(self, X: np.ndarray, y: np.ndarray, thermometer: bool):
        """Training windows ``(xs, ys, mask)`` of ``seq_bins`` bins (stride ``seq_bins // 2``): clipped counts
        (or their thermometer code), velocities one bin late over ``velocity_scale_``, a 5-bin warm-up mask."""
        p = self.params_
        K, L = p.copies, p.seq_bins
        Xc = np.minimum(X, K)
        if thermometer:
            Xc = (Xc[:, :, None] > np.arange(K)).reshape(len(X), -1).astype(np.float64)
        starts = np.arange(0, X.shape[0] - L + 1, max(1, L // 2))
        xs = np.stack([Xc[s:s + L] for s in starts])
        # the trained model's output Y[t] sees inputs up to t - 1: aim Y[t] at the velocity of bin t - 1
        ys = np.stack([np.vstack([np.zeros((1, 2)), y[s:s + L - 1]]) for s in starts]) / self.velocity_scale_
        mask = np.ones((len(starts), L))
        mask[:, :5] = 0.0  # warm-up of the readout filter
        return xs, ys, mask

    # -- faults in the loop ----------------------------------------------------------------------
    def input_bounds(self) -> tuple[np.ndarray, np.ndarray]:
        """Input weights each device pair can deliver, ``(lo, hi)`` each ``(n_hidden, n_units * copies)`` in
        threshold units, from the input crossbar's per-device table (:func:`~.spiking_faults.synapse_bounds`)."""
        self._check_fitted()
        nk, H = self.n_units_ * self.params_.copies, self.params_.n_hidden
        lo, hi = synapse_bounds(self.proj_in_.crossbar)
        return (lo / self._in_scale).reshape(nk, H).T, (hi / self._in_scale).reshape(nk, H).T

    def _retrain_input(self, xs, ys, mask, epochs: int, lr: float, seed: int) -> list[float]:
        """Projected surrogate-gradient training of ``surrogate_`` with every input weight kept in the range its
        device pair can deliver (stuck devices included); the other weights of the surrogate train freely."""
        lo, hi = self.input_bounds()
        p = self.params_

        def constrain(w: Weights) -> None:
            np.clip(w.w_in, lo, hi, out=w.w_in)

        hist = surrogate.train(self._therm_config, self.surrogate_, xs, ys, loss="mse", epochs=epochs, batch_size=16,
                               lr=lr, seed=seed, mask=mask, l2=p.l2, rate_reg=p.rate_reg, rate_target=p.rate_target,
                               constrain=constrain)
        return [float(v) for v in hist["loss"]]

    def _program_input(self) -> int:
        """Program ``surrogate_.w_in`` into the input crossbar, offsets compensated (:func:`request_for`);
        returns the program pulses sent."""
        cb = self.proj_in_.crossbar
        before = int(cb.program_pulses)
        self.proj_in_.weights = request_for(cb, self.surrogate_.w_in.T.ravel() * self._in_scale)
        return int(cb.program_pulses) - before

    def _fault_aware_input(self, xs, ys, mask) -> None:
        cb = self.proj_in_.crossbar
        lo, hi = self.input_bounds()
        W = self.surrogate_.w_in
        if not needs_mapping(cb, W.T.ravel() * self._in_scale):
            return  # ideal devices: nothing to be aware of, the plain path
        perm = remap_columns(W, lo, hi) if self.params_.remap else np.arange(W.shape[0])
        self.column_perm_ = perm
        self.surrogate_.w_in = np.ascontiguousarray(W[perm])
        self.surrogate_.w_out = np.ascontiguousarray(self.surrogate_.w_out[:, perm])
        self.fault_retrain_loss_ = self._retrain_input(xs, ys, mask, self.params_.fault_epochs,
                                                       self.params_.fault_lr, self.params_.seed)
        self.fault_aware_pulses_ += self._program_input()
        self.fault_retrained_ = True
        _deployment_baseline(cb)

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
        w = w_in.T.ravel()  # row i*K + j of the relays (copy j of channel i) -> every hidden neuron
        self.proj_in_ = net.add(ms.Projection(self.relay_, self.hidden_, ms.FromArrays(pre, post),
                                              weights=w * self._in_scale, device=self._crossbar(), name="in"))
        self.network_ = net
        self._out_pre = np.repeat(np.arange(H), 2)
        self._out_post = np.tile(np.arange(2), H)
        self.proj_out_ = None
        self._fire = np.arange(K)[None, :]
        self.readout_writes_ = 0
        self.input_writes_ = 0
        self.input_adaptations_ = 0
        self.fault_aware_pulses_ = 0
        self._input_wear = np.zeros(self.proj_in_.crossbar.n_devices)
        self.reset_counters()

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
        request = coef[:-1].ravel() * self._out_scale  # synapse (h, o) in CSR order: pre h, post o
        first = self.proj_out_ is None
        if first:
            w_max = self.params_.readout_headroom * float(np.max(np.abs(request))) or None
            self.proj_out_ = self.network_.add(ms.Projection(
                self.hidden_, self.readout_, ms.FromArrays(self._out_pre, self._out_post), weights=request,
                device=self._crossbar(w_max), name="out"))
            self.reset()
        cb = self.proj_out_.crossbar
        if self.params_.fault_aware and needs_mapping(cb, request):
            # each readout weight inside the range its device pair can deliver (stuck devices included)
            lo, hi = (b / self._out_scale for b in synapse_bounds(cb))
            coef = bounded_ridge(G + reg, new["cross"], lo.reshape(-1, 2), hi.reshape(-1, 2))
            request = request_for(cb, coef[:-1].ravel() * self._out_scale)
        elif first:
            self._set_readout(coef)
            return
        self._set_readout(coef)
        before = int(cb.program_pulses)
        self.proj_out_.weights = request
        if first:  # the fault-aware second programming
            self.fault_aware_pulses_ += int(cb.program_pulses) - before
            _deployment_baseline(cb)
        else:
            self.readout_writes_ += int(cb.program_pulses) - before

    def _set_readout(self, coef: np.ndarray) -> None:
        self.bias_ = coef[-1].copy()
        self.readout_weights_ = coef[:-1].T  # (2, H)

    def partial_fit(self, X, y) -> SpikingCrossbarDecoder:
        """Add ``(X, y)`` to the readout statistics (old weighted by ``memory``), reprogram the readout."""
        if not hasattr(self, "n_units_"):
            return self.fit(X, y)
        X, y = check_pair(X, y, self.n_units_)
        saved = self._get_state()
        memory = self.params_.memory
        if self.params_.adapt_input and X.shape[0] >= self.params_.seq_bins:
            self._adapt_input(X, y)
            memory = 0.0  # the old statistics were features of the old input weights
        self._fit_readout(X, y, memory=memory)
        self._set_state(saved)
        return self

    def _adapt_input(self, X: np.ndarray, y: np.ndarray) -> None:
        """Retrain the input weights on ``(X, y)`` within the devices' present ranges and reprogram the input
        crossbar; counts the pulses (``input_writes_``) and the wear of every device."""
        p = self.params_
        cb = self.proj_in_.crossbar
        wear = np.array(cb.wear)
        self.adapt_loss_ = self._retrain_input(*self._windows(X, y, thermometer=True), epochs=p.adapt_epochs,
                                               lr=p.adapt_lr, seed=p.seed + 1 + self.input_adaptations_)
        self.input_writes_ += self._program_input()
        self._input_wear += np.asarray(cb.wear) - wear
        self.input_adaptations_ += 1

    def refit(self, X, decoded, cursor, target, in_target) -> SpikingCrossbarDecoder:
        """ReFIT-style adaptation: re-aim the decoded velocities at the targets (with ``intention_speed="calibration"``
        at the calibration's speed scale, ``calibration_speed_``) and ``partial_fit`` on them."""
        self._check_fitted()
        X, _ = check_pair(X, decoded, self.n_units_)
        labels = reestimate_intention(decoded, cursor, target, in_target)
        if self.params_.intention_speed == "calibration":
            labels = rescale_speed(labels, in_target, self.calibration_speed_)
        return self.partial_fit(X, labels)

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
        cin, cout = self.proj_in_.crossbar, self.proj_out_.crossbar
        r_in, r_out, e_read = cin.reads, cout.reads, cin.read_energy + cout.read_energy
        net.run_steps(SUBSTEPS)
        c = self._counters
        rows_in = (cin.reads - r_in) // (2 * self.params_.n_hidden)  # a row: n_hidden pairs of devices
        rows_out = (cout.reads - r_out) // 4  # a hidden neuron's row: 2 pairs
        c["bins"] += 1
        c["rows_in"] += rows_in
        c["rows_out"] += rows_out
        c["active_in"] += int(rows_in > 0)
        c["active_out"] += int(rows_out > 0)
        c["reads"] += cin.reads - r_in + cout.reads - r_out
        c["read_energy"] += cin.read_energy + cout.read_energy - e_read
        return net.get_state(self.readout_, "i_e") / _I_SCALE + self.bias_

    # -- health ---------------------------------------------------------------------------------
    def device_health(self, full: bool = False) -> HealthReport:
        """Read-verify the next rows of both crossbars (with ``full``: every row) at the present time against their
        last programming (:class:`~memr_snn.bci.health.CrossbarVerifier`); the reads, rows and read energy go into
        the decode counters (:meth:`energy`'s ``verify`` term).  Returns the poll's
        :class:`~memr_snn.bci.health.HealthReport`."""
        self._check_fitted()
        t = self.network_.t
        rep = HealthReport(tuple(v.poll(t, full=full) for v in self._verifiers))
        c = self._counters
        c["verify_reads"] += rep.checked
        c["verify_rows"] += rep.rows
        c["verify_energy"] += rep.read_energy
        return rep

    @property
    def health_sweep_polls(self) -> int:
        """Polls of :meth:`device_health` per full sweep of the larger crossbar's rows."""
        self._check_fitted()
        return max(v.sweep_polls for v in self._verifiers)

    # -- accounting -----------------------------------------------------------------------------
    def reset_counters(self) -> None:
        """Zero the decode counters behind :meth:`energy` (rows driven, active bins, device reads, verify reads)."""
        self._counters = dict.fromkeys(COUNTER_KEYS + VERIFY_KEYS, 0)
        self._counters["read_energy"] = 0.0
        self._counters["verify_energy"] = 0.0

    def energy(self, profile: SpikingEnergyProfile | None = None) -> dict[str, float]:
        """Energy of the bins decoded since the last :meth:`reset_counters` (:func:`~.spiking_energy.spiking_energy`:
        device reads, row drivers, column conversions, neuron updates, digital bias), total and ``per_bin`` [J]."""
        self._check_fitted()
        return spiking_energy(dict(self._counters), self.params_.n_hidden, profile)

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
        out["input_adaptation_pulses"] = self.input_writes_
        out["input_adaptations"] = self.input_adaptations_
        out["fault_aware_pulses"] = self.fault_aware_pulses_
        out["input_adaptations_left"] = self.input_adaptations_left()
        return out

    def input_adaptations_left(self) -> float:
        """Online retrainings of the input crossbar its worst healthy device can still take: remaining endurance
        budget [full cycles] over its mean wear per retraining so far (``inf`` before any, or without wear)."""
        self._check_fitted()
        if not self.input_adaptations_:
            return math.inf
        cb = self.proj_in_.crossbar
        healthy = np.asarray(cb.fault) == 0
        per = self._input_wear / self.input_adaptations_
        with np.errstate(divide="ignore", invalid="ignore"):
            left = np.where(per > 0, np.maximum(np.asarray(cb.budget) - np.asarray(cb.wear), 0.0) / per, np.inf)
        return float(left[healthy].min()) if np.any(healthy) else 0.0


class ReFITSpikingDecoder(SpikingCrossbarDecoder):
    """:class:`SpikingCrossbarDecoder` that the protocol adapts after every closed-loop block (:meth:`refit`),
    as it refits the ReFIT Kalman filter (decoder name ``"snn_refit"``)."""

    closed_loop_refit = True


class PlainSpikingDecoder(SpikingCrossbarDecoder):
    """:class:`SpikingCrossbarDecoder` without the faults in the loop (``fault_aware=False`` by default; decoder
    name ``"snn_plain"``): train, program, ridge readout on the reads."""

    _defaults = {"fault_aware": False}


class InputAdaptingSpikingDecoder(SpikingCrossbarDecoder):
    """:class:`SpikingCrossbarDecoder` whose online adaptation also retrains and reprograms the input crossbar
    (``adapt_input=True`` by default; decoder name ``"snn_input"``)."""

    _defaults = {"adapt_input": True}


def _deployment_baseline(cb) -> None:
    """Count the fault-aware reprogramming as part of the deployment programming: the device report's wear
    during the run (and so the projected lifetime) starts after it."""
    cb.counts0 = np.array(cb.counts)
    cb.wear0 = np.array(cb.wear)

