r"""The recurrent / feed-forward spiking network that BPTT and e-prop both train.

One model, one configuration (:class:`RSNNConfig`), one parameter set (:class:`Weights`), one
forward pass (:func:`forward`, :func:`simulate`), one spike function and pseudo-derivative
(:func:`spike_and_psi`, :func:`pseudo_derivative`) and one optimiser family (:class:`Adam`,
:class:`SGD`).  :mod:`memr_snn.learning.surrogate` differentiates it by back-propagation through
time; :mod:`memr_snn.learning.eprop` learns it on-line with eligibility traces; both take the same
``RSNNConfig`` and ``Weights`` objects, so one network can be trained both ways without conversion.

Equations
---------
A layer of ``n_rec`` LIF or ALIF neurons driven by ``n_in`` inputs, optionally recurrent, read out
by ``n_out`` leaky integrators.  With :math:`\alpha = e^{-dt/\tau_{mem}}`,
:math:`\rho = e^{-dt/\tau_{adapt}}`, :math:`\kappa = e^{-dt/\tau_{out}}` (0 for ``tau_out = 0``)
and ``v[0] = a[0] = y[0] = 0``, every step ``t = 0 .. T-1`` does, in this order::

    A[t]   = v_th + beta * a[t]                                   # adaptive threshold (LIF: beta = 0)
    z[t]   = H(v[t] - A[t])                                       # spike (H(0) = 1)
    v[t+1] = alpha*v[t] + W_in @ x[t] + W_rec @ z[t] - v_th*z[t]  # reset by subtraction
    a[t+1] = rho*a[t] + z[t]
    y[t+1] = kappa*y[t] + W_out @ z[t] + b_out

The outputs are ``Y[t] := y[t+1]``.  ``W_rec`` has a zero diagonal; ``recurrent=False`` means no
``W_rec`` (``Weights.w_rec is None``).

Tensor layout
-------------
Every array a user passes in or gets back is **batch-major**: sequences ``(batch, time, n)``, one
step ``(batch, n)``; weights ``w_in (n_rec, n_in)``, ``w_rec (n_rec, n_rec)``,
``w_out (n_out, n_rec)``, ``b_out (n_out,)``.  :func:`simulate` returns batch-major records.  The
one exception is :class:`ForwardState`, the record the BPTT backward pass walks through in time:
its arrays are time-major ``(T, batch, n)`` (:meth:`ForwardState.batch_major` gives the
batch-major views).

Spike function and pseudo-derivative
------------------------------------
With ``u = v - A`` (:func:`spike_and_psi`):

* ``spike="heaviside"``: :math:`z = H(u)`, and :math:`\psi = \partial z/\partial v` is the surrogate

  - ``"fast_sigmoid"`` (SuperSpike): :math:`\psi = \frac{1}{v_{th}}(1 + \mathrm{slope}\,|u|/v_{th})^{-2}`;
  - ``"triangle"`` (Bellec 2020): :math:`\psi = \frac{\gamma}{v_{th}}\max(0, 1 - |u/v_{th}|)`;
  - ``"sigmoid"``: :math:`\psi = \frac{\mathrm{slope}}{v_{th}}\sigma(\mathrm{slope}\,u/v_{th})
    (1 - \sigma(\mathrm{slope}\,u/v_{th}))`;

* ``spike="sigmoid"`` (smooth test mode for gradient checks): :math:`z = \sigma(k\,u/v_{th})` with
  ``k = sigmoid_k`` and :math:`\psi` its exact derivative (``surrogate`` is not used).
"""

from __future__ import annotations

import dataclasses
import math
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

from .._validation import check_finite, check_int_at_least, check_nonnegative, check_positive
from .rsnn import RSNNDecays
from .snn_loss import decide, masked_cross_entropy, masked_logits, softmax

__all__ = [
    "RSNNConfig",
    "Weights",
    "INIT_SCHEMES",
    "init_weights",
    "ForwardState",
    "SURROGATES",
    "SPIKE_FNS",
    "spike_and_psi",
    "pseudo_derivative",
    "forward",
    "simulate",
    "softmax",
    "masked_cross_entropy",
    "masked_logits",
    "decide",
    "Adam",
    "SGD",
    "TrainingDiverged",
]

SURROGATES = ("fast_sigmoid", "triangle", "sigmoid")
SPIKE_FNS = ("heaviside", "sigmoid")


class TrainingDiverged(RuntimeError):
    """Training produced a non-finite loss, gradient or weight; the weights hold the last finite values."""


# --------------------------------------------------------------------------- configuration
@dataclasses.dataclass(frozen=True)
class RSNNConfig(RSNNDecays):
    """Network and neuron parameters (SI units; module docstring for the equations)."""

    n_in: int
    """Number of inputs [1]."""
    n_rec: int
    """Number of hidden (recurrent) neurons [1]."""
    n_out: int
    """Number of readout units [1]."""
    dt: float = 1e-3
    """Time step [s]."""
    tau_mem: float = 20e-3
    """Membrane time constant [s]."""
    tau_adapt: float = 200e-3
    """Threshold-adaptation time constant (ALIF) [s]."""
    beta: float | tuple[float, ...] = 0.0
    """Threshold-adaptation strength: 0 for LIF, > 0 for ALIF [1] (in units of the spike count); one value,
    or one per neuron (a sequence of ``n_rec`` values, stored as a tuple: LIF and ALIF neurons in one layer)."""
    v_th: float = 1.0
    """Firing threshold (also the reset step) [1] (dimensionless membrane units)."""
    tau_out: float = 20e-3
    """Readout time constant [s]; 0 gives a linear (memoryless) readout."""
    surrogate: str = "fast_sigmoid"
    """Pseudo-derivative: ``"fast_sigmoid"``, ``"triangle"`` or ``"sigmoid"``."""
    slope: float = 5.0
    """Steepness of the fast-sigmoid and sigmoid pseudo-derivatives [1]."""
    gamma: float = 0.3
    """Height of the triangle pseudo-derivative, times ``1/v_th`` [1]."""
    recurrent: bool = True
    """Recurrent weights ``w_rec`` present (False: feed-forward, ``w_rec`` is None)."""
    spike: str = "heaviside"
    """Forward spike: ``"heaviside"`` (the model) or ``"sigmoid"`` (smooth test mode)."""
    sigmoid_k: float = 4.0
    """Steepness ``k`` of the smooth test-mode spike ``sigmoid(k (v - A) / v_th)`` [1]."""
    reset_grad: bool = False
    """e-prop only: keep the reset term in the eligibility vectors (Bellec 2020 leaves it out; BPTT is exact)."""

    def __post_init__(self) -> None:
        for name in ("n_in", "n_rec", "n_out"):
            v = getattr(self, name)
            if isinstance(v, (bool, np.bool_)) or not isinstance(v, (int, np.integer)) or v < 1:
                raise ValueError(f"{name} must be an integer >= 1, got {v!r}")
        check_positive("dt", self.dt, "s")
        check_positive("tau_mem", self.tau_mem, "s")
        check_positive("tau_adapt", self.tau_adapt, "s")
        if isinstance(self.beta, (list, tuple, np.ndarray)):
            b = np.asarray(self.beta, dtype=np.float64)
            if b.ndim != 1 or b.shape[0] != self.n_rec:
                raise ValueError(f"beta must be one value or a sequence of n_rec={self.n_rec} values, "
                                 f"got shape {b.shape}")
            object.__setattr__(self, "beta", tuple(float(v) for v in b))
        check_nonnegative("beta", self.beta)
        check_positive("v_th", self.v_th)
        check_nonnegative("tau_out", self.tau_out, "s")
        if self.surrogate not in SURROGATES:
            raise ValueError(f"surrogate must be one of {list(SURROGATES)}, got {self.surrogate!r}")
        check_positive("slope", self.slope)
        check_positive("gamma", self.gamma)
        if not isinstance(self.recurrent, (bool, np.bool_)):
            raise ValueError(f"recurrent must be True or False, got {self.recurrent!r}")
        if self.spike not in SPIKE_FNS:
            raise ValueError(f"spike must be one of {list(SPIKE_FNS)}, got {self.spike!r}")
        check_positive("sigmoid_k", self.sigmoid_k)
        if not isinstance(self.reset_grad, (bool, np.bool_)):
            raise TypeError(f"reset_grad must be a bool, got {self.reset_grad!r}")

    @property
    def forward(self) -> str:
        """Deprecated name of :attr:`spike` (the e-prop module's former ``forward=``)."""
        warnings.warn("RSNNConfig.forward is deprecated; use RSNNConfig.spike", DeprecationWarning, stacklevel=2)
        return self.spike


def _beta(config: RSNNConfig) -> float | np.ndarray:
    """``beta`` for the forward pass: a float (one value for all neurons, 0.0 when none adapts) or ``(n_rec,)``."""
    if not config.adaptive:
        return 0.0
    return float(config.beta) if isinstance(config.beta, (int, float, np.floating, np.integer)) else config.beta_vec


# The former per-module configuration classes, kept as deprecated constructors of RSNNConfig.
_EPROP_FIELDS = ("n_in", "n_rec", "n_out", "dt", "tau_mem", "tau_adapt", "beta", "v_th", "tau_out", "surrogate",
                 "gamma", "slope", "forward", "reset_grad")
_SURROGATE_FIELDS = ("n_in", "n_rec", "n_out", "dt", "tau_mem", "tau_adapt", "beta", "v_th", "tau_out", "surrogate",
                     "slope", "gamma", "recurrent", "spike", "sigmoid_k")


class _LegacyConfigMeta(type):
    """``isinstance(cfg, eprop.RSNNConfig)`` is ``isinstance(cfg, snn.RSNNConfig)``; calling it builds one."""

    def __instancecheck__(cls, obj: Any) -> bool:
        return isinstance(obj, RSNNConfig)

    def __subclasscheck__(cls, sub: type) -> bool:
        return issubclass(sub, RSNNConfig)

    def __call__(cls, *args: Any, **kwargs: Any) -> RSNNConfig:
        warnings.warn(f"memr_snn.learning.{cls._module}.RSNNConfig is deprecated; use "
                      f"memr_snn.learning.snn.RSNNConfig{cls._hint}", DeprecationWarning, stacklevel=2)
        if len(args) > len(cls._fields):
            raise TypeError(f"RSNNConfig takes at most {len(cls._fields)} positional arguments, got {len(args)}")
        for name, value in zip(cls._fields, args, strict=False):
            if name in kwargs:
                raise TypeError(f"RSNNConfig got multiple values for argument {name!r}")
            kwargs[name] = value
        return cls._build(**kwargs)


class _EPropRSNNConfig(metaclass=_LegacyConfigMeta):
    """Deprecated: :class:`memr_snn.learning.snn.RSNNConfig` with the former e-prop defaults
    (``surrogate="triangle"``, ``slope=10``) and ``forward=`` for ``spike=``."""

    _module = "eprop"
    _hint = " (the e-prop defaults were surrogate='triangle', slope=10.0; forward= is now spike=)"
    _fields = _EPROP_FIELDS

    @staticmethod
    def _build(**kw: Any) -> RSNNConfig:
        if "forward" in kw:
            fwd = kw.pop("forward")
            if fwd not in SPIKE_FNS:
                raise ValueError(f"forward must be one of {list(SPIKE_FNS)}, got {fwd!r}")
            if "spike" in kw:
                raise TypeError("give spike= or its deprecated name forward=, not both")
            kw["spike"] = fwd
        kw.setdefault("surrogate", "triangle")
        kw.setdefault("slope", 10.0)
        if kw.get("spike") == "sigmoid":
            kw.setdefault("sigmoid_k", kw["slope"])  # the e-prop smooth spike used ``slope``
        return RSNNConfig(**kw)


class _SurrogateRSNNConfig(metaclass=_LegacyConfigMeta):
    """Deprecated: :class:`memr_snn.learning.snn.RSNNConfig` (same defaults)."""

    _module = "surrogate"
    _hint = " (same fields and defaults)"
    _fields = _SURROGATE_FIELDS

    @staticmethod
    def _build(**kw: Any) -> RSNNConfig:
        return RSNNConfig(**kw)


# --------------------------------------------------------------------------- parameters
@dataclasses.dataclass
class Weights:
    """Trainable parameters (float64 arrays)."""

    w_in: np.ndarray
    """Input weights, shape ``(n_rec, n_in)``."""
    w_rec: np.ndarray | None
    """Recurrent weights, shape ``(n_rec, n_rec)`` with zero diagonal, or None (feed-forward)."""
    w_out: np.ndarray
    """Readout weights, shape ``(n_out, n_rec)``."""
    b_out: np.ndarray
    """Readout bias, shape ``(n_out,)``."""

    def names(self) -> list[str]:
        """Names of the arrays present (``w_rec`` left out when None)."""
        return [n for n in ("w_in", "w_rec", "w_out", "b_out") if getattr(self, n) is not None]

    def as_dict(self) -> dict[str, np.ndarray]:
        """The present arrays by name (the arrays themselves, not copies)."""
        return {n: getattr(self, n) for n in self.names()}

    def copy(self) -> Weights:
        """A deep copy."""
        return Weights(**{n: (None if getattr(self, n) is None else np.array(getattr(self, n), dtype=np.float64))
                          for n in ("w_in", "w_rec", "w_out", "b_out")})

    def validate(self, config: RSNNConfig) -> None:
        """Raise ``ValueError`` naming the array unless shapes match ``config`` and all values are finite.

        Arrays that are not float64 numpy arrays (lists, other dtypes) are replaced by float64 copies.
        """
        want = {"w_in": (config.n_rec, config.n_in), "w_out": (config.n_out, config.n_rec), "b_out": (config.n_out,)}
        if config.recurrent:
            want["w_rec"] = (config.n_rec, config.n_rec)
        elif self.w_rec is not None:
            raise ValueError("w_rec must be None for a feed-forward config (recurrent=False)")
        for name, shape in want.items():
            arr = getattr(self, name)
            if arr is None:
                raise ValueError(f"{name} is missing (None) but the config needs shape {shape}")
            if np.shape(arr) != shape:
                raise ValueError(f"{name} must have shape {shape}, got {np.shape(arr)}")
            check_finite(name, arr)
            if not (isinstance(arr, np.ndarray) and arr.dtype == np.float64):
                setattr(self, name, np.array(arr, dtype=np.float64))
        if config.recurrent and np.any(np.diag(self.w_rec) != 0):
            raise ValueError("w_rec must have a zero diagonal (no self-connections)")


#: Initialisation schemes of :func:`init_weights`: default gains ``(in, rec, out)``, whether the input and
#: recurrent weights are in units of ``v_th``, and the second word of the generator's seed.
INIT_SCHEMES: dict[str, tuple[tuple[float, float, float], bool, int]] = {
    "fan_in": ((1.0, 0.5, 1.0), False, 0x5EED),
    "bellec2020": ((1.0, 1.0, 1.0), True, 0xE9),
}


def init_weights(config: RSNNConfig, seed: int = 0, *, scheme: str = "fan_in", in_gain: float | None = None,
                 rec_gain: float | None = None, out_gain: float | None = None) -> Weights:
    r"""Seeded Gaussian weights scaled by the fan-in, zero readout bias.

    Every weight is drawn independently from :math:`\mathcal N(0, \sigma^2)` with

    * ``w_in``:  :math:`\sigma = g_{in}\,u / \sqrt{n_{in}}`,
    * ``w_rec``: :math:`\sigma = g_{rec}\,u / \sqrt{n_{rec}}`, diagonal set to 0 (only when
      ``config.recurrent``; otherwise ``w_rec`` is None),
    * ``w_out``: :math:`\sigma = g_{out} / \sqrt{n_{rec}}`,

    in this order from ``numpy.random.default_rng([seed, key])``.  The scheme fixes the unit :math:`u`,
    the default gains and ``key`` (:data:`INIT_SCHEMES`):

    ================== ====================== =============== ============
    scheme             :math:`u`              default gains   ``key``
    ================== ====================== =============== ============
    ``"fan_in"``       1                      1, 0.5, 1       ``0x5EED``
    ``"bellec2020"``   ``v_th`` (Bellec 2020) 1, 1, 1         ``0xE9``
    ================== ====================== =============== ============

    ``"fan_in"`` is the BPTT trainer's initialisation (:mod:`memr_snn.learning.surrogate`, the sensory
    benchmark), ``"bellec2020"`` e-prop's (:class:`memr_snn.learning.eprop.EProp`'s default weights,
    :func:`~memr_snn.learning.eprop.train_eprop_task`, :mod:`memr_snn.learning.compare`); each gives
    the weights of the former ``surrogate.init_weights`` / ``eprop.init_weights`` bit for bit.

    Parameters
    ----------
    config : RSNNConfig
        Network sizes, ``v_th`` and ``recurrent``.
    seed : int
        Seed of the draws (>= 0; the same seed and scheme give the same weights).
    scheme : {"fan_in", "bellec2020"}
        Unit, default gains and generator stream (above).
    in_gain, rec_gain, out_gain : float, optional
        Gains :math:`g` of ``w_in``, ``w_rec``, ``w_out`` (>= 0) [1]; None: the scheme's default.

    Returns
    -------
    Weights
    """
    check_int_at_least("seed", seed, 0)
    if scheme not in INIT_SCHEMES:
        raise ValueError(f"scheme must be one of {list(INIT_SCHEMES)}, got {scheme!r}")
    defaults, threshold_units, key = INIT_SCHEMES[scheme]
    gains = [d if g is None else g for g, d in zip((in_gain, rec_gain, out_gain), defaults, strict=True)]
    for name, g in zip(("in_gain", "rec_gain", "out_gain"), gains, strict=True):
        check_nonnegative(name, g)
    g_in, g_rec, g_out = gains
    unit = config.v_th if threshold_units else 1.0
    rng = np.random.default_rng([int(seed), key])
    # (draw * gain * unit) / sqrt(fan_in), in this order: unit = 1.0 multiplies exactly
    w_in = rng.standard_normal((config.n_rec, config.n_in)) * g_in * unit / math.sqrt(config.n_in)
    w_rec = None
    if config.recurrent:
        w_rec = rng.standard_normal((config.n_rec, config.n_rec)) * g_rec * unit / math.sqrt(config.n_rec)
        np.fill_diagonal(w_rec, 0.0)
    w_out = rng.standard_normal((config.n_out, config.n_rec)) * g_out / math.sqrt(config.n_rec)
    return Weights(w_in=w_in, w_rec=w_rec, w_out=w_out, b_out=np.zeros(config.n_out))


# --------------------------------------------------------------------------- neuron functions
def spike_and_psi(config: RSNNConfig, u: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Spike ``z`` and pseudo-derivative ``psi = dz/dv`` for ``u = v - A`` (module docstring)."""
    vth = config.v_th
    if config.spike == "sigmoid":
        s = 0.5 * (1.0 + np.tanh(0.5 * config.sigmoid_k * u / vth))  # overflow-free sigmoid
        return s, (config.sigmoid_k / vth) * s * (1.0 - s)
    return (u >= 0.0).astype(np.float64), pseudo_derivative(config, u)


def pseudo_derivative(config: RSNNConfig, u: np.ndarray) -> np.ndarray:
    """The pseudo-derivative ``psi`` for ``u = v - A`` (the exact derivative in the smooth ``spike="sigmoid"`` mode)."""
    vth = config.v_th
    u = np.asarray(u, dtype=np.float64)
    if config.spike == "sigmoid":
        return spike_and_psi(config, u)[1]
    if config.surrogate == "fast_sigmoid":
        return 1.0 / (vth * (1.0 + config.slope * np.abs(u) / vth) ** 2)
    if config.surrogate == "triangle":
        return (config.gamma / vth) * np.maximum(0.0, 1.0 - np.abs(u / vth))
    s = 1.0 / (1.0 + np.exp(-config.slope * (u / vth)))
    return config.slope / vth * s * (1.0 - s)


# --------------------------------------------------------------------------- forward
def check_inputs(config: RSNNConfig, x) -> np.ndarray:
    """``x`` as a float64 ``(batch, T, n_in)`` array; ``ValueError`` naming ``x`` otherwise."""
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 3 or x.shape[2] != config.n_in or x.shape[0] < 1 or x.shape[1] < 1:
        raise ValueError(f"x must have shape (batch, T, n_in={config.n_in}) with batch, T >= 1, got {x.shape}")
    check_finite("x", x)
    return x


@dataclasses.dataclass
class ForwardState:
    """Everything the backward pass needs; arrays are time-major ``(T, batch, n)``."""

    x: np.ndarray
    """Inputs ``x[t]``, ``(T, B, n_in)``."""
    v: np.ndarray
    """Membrane ``v[t]`` before the spike of step ``t``, ``(T, B, n_rec)``."""
    a: np.ndarray
    """Adaptation ``a[t]``, ``(T, B, n_rec)`` (zeros for LIF)."""
    z: np.ndarray
    """Spikes ``z[t]`` (0/1; in sigmoid mode values in (0, 1)), ``(T, B, n_rec)``."""
    psi: np.ndarray
    """Pseudo-derivative ``dz[t]/dv[t]``, ``(T, B, n_rec)``."""
    y: np.ndarray
    """Readout outputs ``Y[t] = y[t+1]``, ``(T, B, n_out)``."""

    def batch_major(self) -> dict[str, np.ndarray]:
        """``{"x", "v", "a", "z", "psi", "y"}`` as ``(batch, T, n)`` views."""
        return {k: getattr(self, k).transpose(1, 0, 2) for k in ("x", "v", "a", "z", "psi", "y")}


def forward(config: RSNNConfig, weights: Weights, x, *, validate: bool = True,
            step_weights: Callable[[int], Weights] | None = None) -> ForwardState:
    """Simulate a minibatch (module docstring, exact update order).

    Parameters
    ----------
    config : RSNNConfig
    weights : Weights
    x : array_like, shape (batch, T, n_in)
        Input per sample and step (spikes or currents).
    validate : bool
        Check shapes and finiteness (training loops validate once and pass False).
    step_weights : callable, optional
        ``step_weights(t)`` returns the weights used in step ``t`` (e.g. noisy device reads);
        overrides ``weights`` (which then only gives shapes).  Inference only: the stored
        state refers to different weights at every step.

    Returns
    -------
    ForwardState
        Time-major record (:meth:`ForwardState.batch_major` for ``(batch, T, n)`` views).
    """
    if validate:
        x = check_inputs(config, x)
        weights.validate(config)
    else:
        x = np.asarray(x, dtype=np.float64)
    xt = np.ascontiguousarray(x.transpose(1, 0, 2))
    T, B = xt.shape[0], xt.shape[1]
    n = config.n_rec
    alpha, rho, kappa, vth, beta = config.alpha, config.rho, config.kappa, config.v_th, _beta(config)
    adaptive = config.adaptive
    if step_weights is None:
        cur = (xt.reshape(T * B, -1) @ weights.w_in.T).reshape(T, B, n)
    vs = np.empty((T, B, n))
    as_ = np.zeros((T, B, n))
    zs = np.empty((T, B, n))
    ps = np.empty((T, B, n))
    ys = np.empty((T, B, config.n_out))
    v = np.zeros((B, n))
    a = np.zeros((B, n))
    y = np.zeros((B, config.n_out))
    for t in range(T):
        w = weights if step_weights is None else step_weights(t)
        z, psi = spike_and_psi(config, v - (vth + beta * a) if adaptive else v - vth)
        vs[t], zs[t], ps[t] = v, z, psi
        as_[t] = a
        drive = cur[t] if step_weights is None else xt[t] @ w.w_in.T
        if config.recurrent:
            drive = drive + z @ w.w_rec.T
        v = alpha * v + drive - vth * z
        if adaptive:
            a = rho * a + z
        if step_weights is not None:
            y = kappa * y + z @ w.w_out.T + w.b_out
            ys[t] = y
    if step_weights is None:
        out = (zs.reshape(T * B, n) @ weights.w_out.T).reshape(T, B, -1) + weights.b_out
        if kappa:
            for t in range(T):
                y = kappa * y + out[t]
                ys[t] = y
        else:
            ys[...] = out
    return ForwardState(x=xt, v=vs, a=as_, z=zs, psi=ps, y=ys)


def simulate(config: RSNNConfig, weights: Weights, x) -> dict[str, np.ndarray]:
    """Run the network on a batch of sequences (no learning); batch-major records.

    Returns
    -------
    dict
        ``y`` (batch, time, n_out): row ``t`` is :math:`y[t+1]`; ``z``, ``v``, ``a``, ``psi``
        (batch, time, n_rec): row ``t`` holds :math:`z[t], v[t], a[t], \\psi[t]`.
    """
    rec = forward(config, weights, x).batch_major()
    del rec["x"]
    return rec


# --------------------------------------------------------------------------- optimisers
class _Optimizer:
    """What Adam and SGD share: :meth:`step` from their ``tick`` and ``delta``."""

    def tick(self) -> None:  # pragma: no cover - interface
        raise NotImplementedError

    def delta(self, name: str, g: np.ndarray) -> np.ndarray:  # pragma: no cover - interface
        raise NotImplementedError

    def step(self, weights: Weights, grads: dict[str, np.ndarray]) -> None:
        """One update of every array in ``grads`` (in place; the diagonal of ``w_rec`` stays zero)."""
        self.tick()
        for name, g in grads.items():
            w = getattr(weights, name)
            w += self.delta(name, g)
        if weights.w_rec is not None:
            np.fill_diagonal(weights.w_rec, 0.0)


class Adam(_Optimizer):
    """Adam (Kingma & Ba 2015) over named arrays.

    :meth:`step` updates a :class:`Weights` in place (BPTT); :meth:`tick` then :meth:`delta` per
    array give the changes without applying them (e-prop, which may send them to devices).
    """

    def __init__(self, lr: float = 1e-3, beta1: float = 0.9, beta2: float = 0.999, eps: float = 1e-8):
        check_positive("lr", lr)
        for name, b in (("beta1", beta1), ("beta2", beta2)):
            if not (math.isfinite(b) and 0.0 <= b < 1.0):
                raise ValueError(f"{name} must lie in [0, 1), got {b!r}")
        check_positive("eps", eps)
        self.lr, self.beta1, self.beta2, self.eps = float(lr), float(beta1), float(beta2), float(eps)
        self.m: dict[str, np.ndarray] = {}
        self.v: dict[str, np.ndarray] = {}
        self.t = 0

    def tick(self) -> None:
        """Start update number ``t + 1`` (bias corrections use the new ``t``)."""
        self.t += 1

    def delta(self, name: str, g: np.ndarray) -> np.ndarray:
        """The change of array ``name`` for gradient ``g`` in the current update (moments updated)."""
        if name not in self.m:
            self.m[name] = np.zeros_like(g)
            self.v[name] = np.zeros_like(g)
        m, v = self.m[name], self.v[name]
        m *= self.beta1
        m += (1.0 - self.beta1) * g
        v *= self.beta2
        v += (1.0 - self.beta2) * g * g
        c1 = 1.0 - self.beta1 ** self.t
        c2 = 1.0 - self.beta2 ** self.t
        return -(self.lr * (m / c1) / (np.sqrt(v / c2) + self.eps))



class SGD(_Optimizer):
    """Plain gradient descent with the interface of :class:`Adam`."""

    def __init__(self, lr: float = 1e-3):
        check_positive("lr", lr)
        self.lr = float(lr)
        self.t = 0

    def tick(self) -> None:
        """Start update number ``t + 1``."""
        self.t += 1

    def delta(self, name: str, g: np.ndarray) -> np.ndarray:
        """``-lr * g``."""
        return -self.lr * g

