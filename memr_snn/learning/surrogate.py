r"""Surrogate-gradient training (BPTT) of recurrent / feed-forward LIF and ALIF networks.

The model (:mod:`memr_snn.learning.snn`, shared with the e-prop module)
-----------------------------------------------------------------------
A layer of ``n_rec`` LIF or ALIF neurons driven by ``n_in`` inputs, optionally
recurrent, read out by ``n_out`` leaky integrators.  Time step ``dt``, steps
``t = 0 .. T-1``; inputs ``x[t]`` (``n_in``), spikes ``z[t]`` (``n_rec``),
readout ``y[t]`` (``n_out``).  With

.. math::

    \alpha = e^{-dt/\tau_{mem}},\quad \rho = e^{-dt/\tau_{adapt}},\quad
    \kappa = e^{-dt/\tau_{out}}\ (\kappa = 0 \text{ for } \tau_{out} = 0)

and the initial state ``v[0] = 0, a[0] = 0, y[0] = 0``, every step ``t = 0, 1, ..., T-1`` does,
**in this order**::

    A[t]   = v_th + beta * a[t]                                   # adaptive threshold (LIF: beta = 0)
    z[t]   = H(v[t] - A[t])                                       # spike of step t (Heaviside, exact)
    v[t+1] = alpha*v[t] + W_in @ x[t] + W_rec @ z[t] - v_th*z[t]  # reset by subtraction
    a[t+1] = rho*a[t] + z[t]
    y[t+1] = kappa*y[t] + W_out @ z[t] + b_out

so ``z[0] = 0`` (``v[0] = 0 < v_th``), an input ``x[t]`` first reaches a spike at ``z[t+1]``,
and the spike ``z[t]`` reaches the readout in the same step.  The network's outputs are the
``T`` readout values ``Y[t] := y[t+1]``, ``t = 0 .. T-1`` (the readout *after* step ``t``);
every loss below is a function of ``Y`` (and of ``z`` for the rate regulariser).
``v[T]``, ``a[T]`` are computed but unused, so ``x[T-1]`` has no effect on any output.
``W_rec`` has a zero diagonal (no autapses); ``recurrent=False`` means ``W_rec = 0``.

Backward pass
-------------
The spike non-linearity is replaced in the backward pass by a pseudo-derivative
:math:`\partial z/\partial v \approx \psi(v - A)` (and :math:`\partial z/\partial a = -\beta\,\psi`):

* ``"fast_sigmoid"`` (SuperSpike, Zenke & Ganguli 2018):
  :math:`\psi(x) = \frac{1}{v_{th}}\,\big(1 + \text{slope}\,|x|/v_{th}\big)^{-2}`;
* ``"triangle"`` (Bellec et al. 2020): :math:`\psi(x) = \frac{\gamma}{v_{th}}\max(0, 1 - |x/v_{th}|)`;
* ``"sigmoid"``: :math:`\psi(x) = \frac{\text{slope}}{v_{th}}\sigma(\text{slope}\,x/v_{th})
  (1 - \sigma(\text{slope}\,x/v_{th}))` (:func:`memr_snn.learning.snn.pseudo_derivative`).

Everything else is differentiated exactly, *including* the reset term ``-v_th*z[t]`` and the
threshold adaptation (no stop-gradient), by back-propagation through time (:func:`backward`).
With ``spike="sigmoid"`` (a test mode) the forward pass itself uses the smooth spike
:math:`z = \sigma(k (v - A)/v_{th})` and the backward pass its exact derivative
:math:`\frac{k}{v_{th}}\sigma(1-\sigma)`; the gradient is then the exact gradient of a smooth
function and agrees with finite differences (the module's correctness test).

Losses (``loss=``)
------------------
* ``"max_over_time"`` -- softmax cross-entropy of :math:`\max_t Y[t]` (per output);
* ``"mean_membrane"`` -- softmax cross-entropy of :math:`\frac1T\sum_t Y[t]`;
* ``"masked_ce"`` -- softmax cross-entropy of :math:`Y[t]` at *every* step, weighted by a mask
  :math:`m` (``(T,)`` shared by all samples, or ``(batch, T)``; non-negative, 0/1 for a decision
  window; default all ones) and summed over the steps:
  :math:`-\frac1B \sum_b \sum_t m_{bt} \log \mathrm{softmax}(Y_b[t])_{c_b}` -- exactly e-prop's
  classification loss (:mod:`memr_snn.learning.eprop`: summed over the target-carrying steps,
  averaged over the batch).  Its decision (:func:`predict`) is the argmax of
  :math:`\sum_t m_{bt} Y_b[t]`, e-prop's ``predict`` (argmax of the mean over the mask steps);
* ``"mse"`` -- regression: :math:`\sum m\,(Y - Y^*)^2 / \sum m` with a mask ``m`` over
  (sample, step[, output]) (default: all ones);
* ``"spike_count"`` is **not** supported: the readout here is non-spiking (leaky integrators),
  so there are no output spikes to count.  Asking for it raises ``ValueError``.

Cross-entropies are averaged over the minibatch.  Optional regularisers: L2,
:math:`\frac{\lambda_2}{2}\sum W^2` over ``w_in``, ``w_rec``, ``w_out`` (not ``b_out``), and a
firing-rate term :math:`\lambda_r \sum_i (p_i - r^* dt)^2` with :math:`p_i` the mean spike
probability per step of neuron ``i`` over batch and time, :math:`r^*` the target rate [Hz].

Hardware-aware training (:class:`HardwareAware`)
------------------------------------------------
Each minibatch the forward pass runs on *effective* weights derived from the float weights
(``w_in``, ``w_rec``, ``w_out``; the bias stays digital), in this order:

1. **quantization** to a device grid: with ``levels`` L per device and a differential pair
   per weight, weights take the values :math:`q\,w_{max}/(L-1)`, :math:`q \in \{-(L-1)..L-1\}`,
   :math:`w_{max} = \max|W|` of the layer (the crossbar's ``scale="fit"`` mapping of a device
   with levels); backward: straight-through estimator (identity);
2. **drift augmentation**: :math:`W \cdot (t/t_0)^{-\nu}` with :math:`\nu \sim
   \mathcal N(\nu_0, \nu_{std})` clipped to ``[0, 1]`` drawn per weight and ``t`` log-uniform in
   ``[t0, t_max]`` drawn per minibatch; backward: exact (times the same factor);
3. **noise injection**: :math:`W + \sigma\,\max|W|\,\xi`, :math:`\xi` standard normal per weight,
   fresh each minibatch; backward: identity (additive).

After training, :func:`map_to_crossbar` writes the weights into memristive crossbars
(:class:`~memr_snn.devices.CrossbarState`, program-and-verify by default) and
:func:`evaluate_mapped` reports the accuracy of the devices' read weights over device seeds.

The implementation is numpy, vectorised over the minibatch with a loop over time steps
(the per-step work is a few small matrix products; numba would not change that).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import numpy as np

from .._validation import check_finite, check_int_at_least, check_nonnegative, check_positive
from .snn import (
    SPIKE_FNS,
    SURROGATES,
    Adam,
    ForwardState,
    TrainingDiverged,
    Weights,
    _beta,
    _SurrogateRSNNConfig,
    forward,
)
from .snn import check_inputs as _check_inputs
from .snn import spike_and_psi as _spike_and_psi  # noqa: F401  (former private name, used by tests)

__all__ = [
    "Weights",
    "HardwareAware",
    "ForwardState",
    "Adam",
    "SURROGATES",
    "SPIKE_FNS",
    "LOSSES",
    "init_weights",
    "forward",
    "backward",
    "loss_and_grad",
    "regularizer_terms",
    "compute_loss",
    "gradients",
    "apply_hardware",
    "train",
    "predict",
    "accuracy",
    "MappedNetwork",
    "map_to_crossbar",
    "evaluate_mapped",
]

#: Deprecated: the configuration is :class:`memr_snn.learning.snn.RSNNConfig` (same fields and defaults).
#: Calling this name builds one with a ``DeprecationWarning``; ``isinstance(cfg, surrogate.RSNNConfig)`` holds
#: for every ``snn.RSNNConfig``.
RSNNConfig = _SurrogateRSNNConfig

LOSSES = ("max_over_time", "mean_membrane", "masked_ce", "mse")
_CLASSIFICATION = ("max_over_time", "mean_membrane", "masked_ce")
_MAPPED = ("w_in", "w_rec", "w_out")


def init_weights(config: RSNNConfig, seed: int = 0, *, in_gain: float = 1.0, rec_gain: float = 0.5,
                 out_gain: float = 1.0) -> Weights:
    """Seeded Gaussian initialisation: ``N(0, gain^2 / fan_in)`` per matrix, zero bias.

    Parameters
    ----------
    config : RSNNConfig
        Network sizes.
    seed : int
        Seed of the draw (the same seed gives the same weights).
    in_gain, rec_gain, out_gain : float
        Standard deviation times ``sqrt(fan_in)`` of ``w_in``, ``w_rec``, ``w_out`` [1].
    """
    check_int_at_least("seed", seed, 0)
    for name, g in (("in_gain", in_gain), ("rec_gain", rec_gain), ("out_gain", out_gain)):
        check_nonnegative(name, g)
    rng = np.random.default_rng([int(seed), 0x5EED])
    w_in = rng.standard_normal((config.n_rec, config.n_in)) * in_gain / math.sqrt(config.n_in)
    w_rec = None
    if config.recurrent:
        w_rec = rng.standard_normal((config.n_rec, config.n_rec)) * rec_gain / math.sqrt(config.n_rec)
        np.fill_diagonal(w_rec, 0.0)
    w_out = rng.standard_normal((config.n_out, config.n_rec)) * out_gain / math.sqrt(config.n_rec)
    return Weights(w_in=w_in, w_rec=w_rec, w_out=w_out, b_out=np.zeros(config.n_out))


# --------------------------------------------------------------------------- losses
def _softmax_ce(logits: np.ndarray, labels: np.ndarray) -> tuple[float, np.ndarray]:
    m = logits - logits.max(axis=1, keepdims=True)
    p = np.exp(m)
    p /= p.sum(axis=1, keepdims=True)
    B = logits.shape[0]
    idx = np.arange(B)
    loss = float(-np.mean(np.log(np.maximum(p[idx, labels], 1e-300))))
    g = p
    g[idx, labels] -= 1.0
    return loss, g / B


def _check_labels(config: RSNNConfig, labels, batch: int) -> np.ndarray:
    lab = np.asarray(labels)
    if lab.shape != (batch,):
        raise ValueError(f"labels must have shape ({batch},), got {lab.shape}")
    if lab.size and not np.issubdtype(lab.dtype, np.integer):
        as_int = lab.astype(np.int64)
        if not np.array_equal(as_int, lab):
            raise ValueError(f"labels must be integer class indices, got dtype {lab.dtype}")
        lab = as_int
    lab = lab.astype(np.int64)
    if lab.size and (lab.min() < 0 or lab.max() >= config.n_out):
        bad = lab[(lab < 0) | (lab >= config.n_out)][0]
        raise ValueError(f"labels must lie in [0, {config.n_out - 1}] (n_out classes), got {int(bad)}")
    return lab


def _check_loss(loss: str) -> None:
    if loss == "spike_count":
        raise ValueError("loss 'spike_count' is not supported: the readout is non-spiking (leaky integrators); "
                         f"use one of {list(LOSSES)}")
    if loss not in LOSSES:
        raise ValueError(f"loss must be one of {list(LOSSES)}, got {loss!r}")


def _step_mask(mask, T: int, B: int) -> np.ndarray:
    """The ``"masked_ce"`` mask as non-negative weights ``(T, B)`` (``mask``: None, ``(T,)`` or ``(B, T)``)."""
    if mask is None:
        return np.ones((T, B))
    m = np.asarray(mask, dtype=np.float64)
    if m.shape == (T,):
        m = np.broadcast_to(m[:, None], (T, B))
    elif m.shape == (B, T):
        m = m.T
    else:
        raise ValueError(f"mask must have shape (T,) = ({T},) or (batch, T) = {(B, T)} for 'masked_ce', "
                         f"got {np.shape(mask)}")
    check_nonnegative("mask", m)
    if m.sum() <= 0:
        raise ValueError("mask must select at least one step, got all zeros")
    return m


def logits_of(y: np.ndarray, loss: str, mask=None) -> np.ndarray:
    """Class scores ``(B, n_out)`` from readout outputs ``y`` ``(T, B, n_out)`` for a classification loss.

    ``"max_over_time"``: the maximum over time; ``"mean_membrane"``: the mean; ``"masked_ce"``: the sum
    over the steps weighted by ``mask`` (``(T,)`` or ``(B, T)``; None: all steps).
    """
    if loss == "masked_ce":
        return np.einsum("tb,tbk->bk", _step_mask(mask, y.shape[0], y.shape[1]), y)
    return y.max(axis=0) if loss == "max_over_time" else y.mean(axis=0)


def compute_loss(config: RSNNConfig, y: np.ndarray, target, loss: str, mask=None) -> tuple[float, np.ndarray]:
    """Task loss of readout outputs ``y`` ``(T, B, n_out)`` and its gradient ``dL/dY`` (same shape).

    ``target``: class labels ``(B,)`` for classification losses; targets ``(B, T, n_out)``
    for ``"mse"`` with optional ``mask`` ``(B, T)`` or ``(B, T, n_out)`` of non-negative weights;
    for ``"masked_ce"`` an optional ``mask`` ``(T,)`` or ``(B, T)`` of non-negative step weights.
    ``mask`` is ignored by ``"max_over_time"`` and ``"mean_membrane"``.
    """
    _check_loss(loss)
    T, B, n_out = y.shape
    g = np.zeros_like(y)
    if loss in _CLASSIFICATION:
        lab = _check_labels(config, target, B)
        if loss == "masked_ce":
            m = _step_mask(mask, T, B)
            logp = y - y.max(axis=2, keepdims=True)
            logp -= np.log(np.exp(logp).sum(axis=2, keepdims=True))
            picked = np.take_along_axis(logp, np.broadcast_to(lab[None, :, None], (T, B, 1)), axis=2)[:, :, 0]
            value = float(-(m * picked).sum() / B)
            p = np.exp(logp)
            p[:, np.arange(B), lab] -= 1.0
            return value, p * (m[:, :, None] / B)
        if loss == "max_over_time":
            idx = y.argmax(axis=0)  # (B, n_out): first maximum
            value, gl = _softmax_ce(np.take_along_axis(y, idx[None], axis=0)[0], lab)
            np.put_along_axis(g, idx[None], gl[None], axis=0)
        else:
            value, gl = _softmax_ce(y.mean(axis=0), lab)
            g[...] = gl[None] / T
        return value, g
    tgt = np.asarray(target, dtype=np.float64)
    if tgt.shape != (B, T, n_out):
        raise ValueError(f"target must have shape (batch, T, n_out) = {(B, T, n_out)}, got {tgt.shape}")
    check_finite("target", tgt)
    if mask is None:
        m = np.ones((B, T, n_out))
    else:
        m = np.asarray(mask, dtype=np.float64)
        if m.shape == (B, T):
            m = np.repeat(m[:, :, None], n_out, axis=2)
        if m.shape != (B, T, n_out):
            raise ValueError(f"mask must have shape (batch, T) or (batch, T, n_out), got {np.shape(mask)}")
        check_nonnegative("mask", m)
    total = m.sum()
    if total <= 0:
        raise ValueError("mask must select at least one (sample, step) entry, got all zeros")
    m = m.transpose(1, 0, 2)
    diff = y - tgt.transpose(1, 0, 2)
    value = float((m * diff ** 2).sum() / total)
    return value, 2.0 * m * diff / total


def regularizer_terms(config: RSNNConfig, weights: Weights, state: ForwardState, *, l2: float = 0.0,
                      rate_reg: float = 0.0, rate_target: float = 10.0
                      ) -> tuple[float, np.ndarray | None, dict[str, np.ndarray]]:
    """Regulariser value, its gradient w.r.t. the spikes ``z`` (or None) and w.r.t. the weights."""
    value, dz, gw = 0.0, None, {}
    if l2:
        for name in _MAPPED:
            w = getattr(weights, name)
            if w is not None:
                value += 0.5 * l2 * float((w * w).sum())
                gw[name] = l2 * w
    if rate_reg:
        T, B = state.z.shape[:2]
        p = state.z.mean(axis=(0, 1))
        d = p - rate_target * config.dt
        value += rate_reg * float((d * d).sum())
        dz = np.broadcast_to(2.0 * rate_reg * d / (T * B), state.z.shape)
    return value, dz, gw


# --------------------------------------------------------------------------- backward
def backward(config: RSNNConfig, weights: Weights, state: ForwardState, dy: np.ndarray,
             dz: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """Back-propagation through time of ``dL/dY`` (and a direct ``dL/dz``) to the weights.

    Adjoint recursion, ``t = T-1 .. 0`` with ``gv = dL/dv[t+1]``, ``ga = dL/da[t+1]``
    (both 0 at ``t = T-1``) and ``gy[t] = dL/dy[t+1] = dY[t] + kappa * gy[t+1]``::

        gz       = gy[t] @ W_out + gv @ W_rec - v_th*gv + ga + dz[t]     # total dL/dz[t]
        dL/dv[t] = alpha*gv + gz*psi[t]
        dL/da[t] = rho*ga - beta*gz*psi[t]

    and ``dW_in = sum_t gv[t+1]^T x[t]``, ``dW_rec = sum_t gv[t+1]^T z[t]`` (diagonal zeroed),
    ``dW_out = sum_t gy[t]^T z[t]``, ``db_out = sum_t gy[t]``.
    """
    T, B, n = state.z.shape
    alpha, rho, kappa, vth, beta = config.alpha, config.rho, config.kappa, config.v_th, _beta(config)
    adaptive = config.adaptive
    gy = np.empty_like(dy)
    acc = np.zeros(dy.shape[1:])
    for t in range(T - 1, -1, -1):
        acc = dy[t] + kappa * acc
        gy[t] = acc
    z2 = state.z.reshape(T * B, n)
    gy2 = gy.reshape(T * B, -1)
    grads = {"w_out": gy2.T @ z2, "b_out": gy2.sum(axis=0)}
    gz_all = (gy2 @ weights.w_out).reshape(T, B, n)
    if dz is not None:
        gz_all = gz_all + dz
    gvs = np.empty((T, B, n))  # gvs[t] = dL/dv[t+1]
    gv = np.zeros((B, n))
    ga = np.zeros((B, n))
    for t in range(T - 1, -1, -1):
        gvs[t] = gv
        gz = gz_all[t] - vth * gv
        if config.recurrent:
            gz = gz + gv @ weights.w_rec
        if adaptive:
            gz = gz + ga
        h = gz * state.psi[t]
        gv = alpha * gv + h
        if adaptive:
            ga = rho * ga - beta * h
    gv2 = gvs.reshape(T * B, n)
    grads["w_in"] = gv2.T @ state.x.reshape(T * B, -1)
    if config.recurrent:
        g = gv2.T @ z2
        np.fill_diagonal(g, 0.0)
        grads["w_rec"] = g
    return grads


def loss_and_grad(config: RSNNConfig, weights: Weights, x, target, loss: str = "mean_membrane", *, mask=None,
                  l2: float = 0.0, rate_reg: float = 0.0, rate_target: float = 10.0, validate: bool = True
                  ) -> tuple[float, dict[str, np.ndarray], ForwardState]:
    """Total loss (task + regularisers), its gradient per weight array, and the forward state."""
    _check_loss(loss)
    check_nonnegative("l2", l2)
    check_nonnegative("rate_reg", rate_reg)
    check_nonnegative("rate_target", rate_target, "Hz")
    state = forward(config, weights, x, validate=validate)
    value, dy = compute_loss(config, state.y, target, loss, mask)
    reg, dz, gw = regularizer_terms(config, weights, state, l2=l2, rate_reg=rate_reg, rate_target=rate_target)
    grads = backward(config, weights, state, dy, dz)
    for name, g in gw.items():
        grads[name] = grads[name] + g
    if config.recurrent and "w_rec" in grads:
        np.fill_diagonal(grads["w_rec"], 0.0)
    return value + reg, grads, state


def gradients(config: RSNNConfig, weights: Weights, x, target, loss: str = "mean_membrane", **kw
              ) -> dict[str, np.ndarray]:
    """Only the gradient of :func:`loss_and_grad`."""
    return loss_and_grad(config, weights, x, target, loss, **kw)[1]


# --------------------------------------------------------------------------- hardware-aware training
@dataclasses.dataclass(frozen=True)
class HardwareAware:
    """Hardware-aware training options (module docstring); all off by default."""

    weight_noise: float = 0.0
    """Std of additive Gaussian weight noise, relative to the layer's ``max|W|`` [1]."""
    levels: int = 0
    """Conductance levels per device (>= 2) for quantization with a straight-through estimator; 0: off."""
    drift_nu: float = 0.0
    """Mean drift exponent for drift augmentation [1]; 0 with ``drift_nu_std = 0``: off."""
    drift_nu_std: float = 0.0
    """Std of the per-weight drift exponent [1]."""
    drift_t0: float = 1.0
    """Drift reference time ``t0`` [s]."""
    drift_t_max: float = 86400.0
    """Largest time after programming drawn for drift augmentation [s] (log-uniform in [t0, t_max])."""

    def __post_init__(self) -> None:
        check_nonnegative("weight_noise", self.weight_noise)
        if isinstance(self.levels, (bool, np.bool_)) or not isinstance(self.levels, (int, np.integer)):
            raise ValueError(f"levels must be an integer (0 or >= 2), got {self.levels!r}")
        if self.levels == 1 or self.levels < 0:
            raise ValueError(f"levels must be 0 (off) or >= 2, got {self.levels!r}")
        check_nonnegative("drift_nu", self.drift_nu)
        if self.drift_nu > 1:
            raise ValueError(f"drift_nu must lie in [0, 1], got {self.drift_nu!r}")
        check_nonnegative("drift_nu_std", self.drift_nu_std)
        check_positive("drift_t0", self.drift_t0, "s")
        check_positive("drift_t_max", self.drift_t_max, "s")
        if self.drift_t_max < self.drift_t0:
            raise ValueError(f"drift_t_max must be >= drift_t0 = {self.drift_t0!r} s, got {self.drift_t_max!r}")

    @property
    def active(self) -> bool:
        """True when any option is on."""
        return bool(self.weight_noise or self.levels or self.drift_nu or self.drift_nu_std)

    @classmethod
    def from_preset(cls, preset: Any, *, weight_noise: float | None = None, drift_t_max: float = 86400.0
                    ) -> HardwareAware:
        """Options matching a device preset: its levels, drift, and (by default) a weight noise of
        ``tolerance + read_noise + dg_c2c/2`` relative to ``max|W|`` (a rough size of the programming error)."""
        from ..devices.presets import load_preset

        p = load_preset(preset) if isinstance(preset, str) else preset
        dev = p.device
        if weight_noise is None:
            weight_noise = 0.01 + float(p.read_noise.read_noise) + 0.5 * float(dev.dg_c2c)
        return cls(weight_noise=float(weight_noise), levels=int(dev.levels), drift_nu=float(p.drift.nu),
                   drift_nu_std=float(p.drift.nu_std), drift_t0=float(p.drift.t0),
                   drift_t_max=max(float(drift_t_max), float(p.drift.t0)))


def quantize(w: np.ndarray, levels: int, w_max: float | None = None) -> np.ndarray:
    """Round ``w`` to the grid ``q * w_max / (levels - 1)``, ``|q| <= levels - 1`` (differential pair)."""
    w_max = float(np.abs(w).max()) if w_max is None else float(w_max)
    if w_max == 0.0:
        return np.zeros_like(w)
    step = w_max / (levels - 1)
    return np.clip(np.round(w / step), -(levels - 1), levels - 1) * step


def apply_hardware(weights: Weights, hw: HardwareAware, rng: np.random.Generator
                   ) -> tuple[Weights, dict[str, np.ndarray | float]]:
    """Effective weights for one minibatch and the backward factor per array (``dW = factor * dW_eff``)."""
    eff = weights.copy()
    factors: dict[str, np.ndarray | float] = {}
    t_draw = None
    if hw.drift_nu or hw.drift_nu_std:
        t_draw = math.exp(rng.uniform(math.log(hw.drift_t0), math.log(hw.drift_t_max)))
    for name in _MAPPED:
        w = getattr(weights, name)
        if w is None:
            continue
        w_max = float(np.abs(w).max())
        out = quantize(w, hw.levels, w_max) if hw.levels else w.copy()
        factor: np.ndarray | float = 1.0
        if t_draw is not None:
            nu = np.clip(hw.drift_nu + hw.drift_nu_std * rng.standard_normal(w.shape), 0.0, 1.0)
            factor = (t_draw / hw.drift_t0) ** (-nu)
            out = out * factor
        if hw.weight_noise:
            out = out + hw.weight_noise * w_max * rng.standard_normal(w.shape)
        if name == "w_rec":
            np.fill_diagonal(out, 0.0)
        setattr(eff, name, out)
        factors[name] = factor
    return eff, factors


# --------------------------------------------------------------------------- optimizer and training
_PARAM_NAMES = ("w_in", "w_rec", "w_out", "b_out")


def _check_step(value: float, grads: dict[str, np.ndarray], weights: Weights, epoch: int, batch: int) -> None:
    """Refuse a minibatch whose loss or gradients are not finite (before any weight changes)."""
    if not math.isfinite(value):
        raise TrainingDiverged(f"training diverged: loss is {value!r} at epoch {epoch}, minibatch {batch}; "
                               "the weights are the last finite ones (lower the learning rate)")
    for name, g in grads.items():
        if not np.all(np.isfinite(g)):
            raise TrainingDiverged(f"training diverged: the gradient of {name} is non-finite at epoch {epoch}, "
                                   f"minibatch {batch}; the weights are the last finite ones (lower the learning "
                                   "rate)")


def _restore(weights: Weights, good: Weights) -> None:
    for name in _PARAM_NAMES:
        dst, src = getattr(weights, name), getattr(good, name)
        if dst is not None:
            dst[...] = src


def train(config: RSNNConfig, weights: Weights, x: np.ndarray | Callable[[int], np.ndarray], target,
          loss: str = "mean_membrane", *, epochs: int = 10, batch_size: int = 32, lr: float = 1e-3,
          seed: int = 0, mask=None, l2: float = 0.0, rate_reg: float = 0.0, rate_target: float = 10.0,
          hardware: HardwareAware | None = None, optimizer: Adam | None = None,
          lr_decay: float = 1.0, callback: Callable[[int, dict], None] | None = None) -> dict[str, Any]:
    """Train ``weights`` in place with Adam on shuffled minibatches (BPTT through the surrogate).

    Parameters
    ----------
    x : ndarray (N, T, n_in) or callable
        Training inputs, or ``x(epoch)`` returning them (e.g. fresh rate-coded spikes each epoch).
    target : ndarray
        Labels ``(N,)`` or, for ``"mse"``, targets ``(N, T, n_out)``; ``mask`` ``(N, T[, n_out])``
        (``"masked_ce"``: ``(N, T)``, or ``(T,)`` shared by all samples).
    epochs, batch_size : int
    lr : float
        Adam learning rate (ignored when ``optimizer`` is given).
    seed : int
        Seed of the shuffling and of the hardware-aware draws.
    l2, rate_reg, rate_target : float
        Regularisers (module docstring); ``rate_target`` in Hz.
    hardware : HardwareAware, optional
        Noise / quantization / drift applied to the forward weights each minibatch.
    lr_decay : float
        Learning rate multiplied by this factor after every epoch.
    callback : callable, optional
        ``callback(epoch, record)`` after every epoch.

    Returns
    -------
    dict
        ``{"loss": [mean training loss per epoch], "optimizer": Adam}``.

    Raises
    ------
    TrainingDiverged
        When a loss, gradient or updated weight is not finite; the message names the epoch,
        the minibatch and the array, and ``weights`` keep their last finite values.
    """
    _check_loss(loss)
    epochs = check_int_at_least("epochs", epochs, 1)
    batch_size = check_int_at_least("batch_size", batch_size, 1)
    check_int_at_least("seed", seed, 0)
    check_positive("lr_decay", lr_decay)
    weights.validate(config)
    hw = hardware if hardware is not None and hardware.active else None
    opt = optimizer if optimizer is not None else Adam(lr)
    rng = np.random.default_rng([int(seed), 0xB977])
    tgt = np.asarray(target)
    mask_all = None if mask is None else np.asarray(mask)
    shared_mask = mask_all is not None and loss == "masked_ce" and mask_all.ndim == 1  # (T,): same for all samples
    history: list[float] = []
    for epoch in range(epochs):
        xe = _check_inputs(config, x(epoch) if callable(x) else x)
        N = xe.shape[0]
        if tgt.shape[0] != N:
            raise ValueError(f"target has {tgt.shape[0]} samples but x has {N}")
        order = rng.permutation(N)
        total, count = 0.0, 0
        for start in range(0, N, batch_size):
            idx = order[start:start + batch_size]
            mb_mask = None if mask_all is None else (mask_all if shared_mask else mask_all[idx])
            if hw is None:
                value, grads, _ = loss_and_grad(config, weights, xe[idx], tgt[idx], loss, mask=mb_mask, l2=l2,
                                                rate_reg=rate_reg, rate_target=rate_target, validate=False)
            else:
                eff, factors = apply_hardware(weights, hw, rng)
                value, grads, _ = loss_and_grad(config, eff, xe[idx], tgt[idx], loss, mask=mb_mask, l2=0.0,
                                                rate_reg=rate_reg, rate_target=rate_target, validate=False)
                for name, f in factors.items():
                    grads[name] = grads[name] * f
                    if l2:
                        grads[name] = grads[name] + l2 * getattr(weights, name)
            _check_step(value, grads, weights, epoch, start // batch_size)
            good = weights.copy()
            opt.step(weights, grads)
            bad = [n for n in _PARAM_NAMES if getattr(weights, n) is not None
                   and not np.all(np.isfinite(getattr(weights, n)))]
            if bad:
                _restore(weights, good)
                raise TrainingDiverged(f"training diverged: {bad[0]} became non-finite after the update of epoch "
                                       f"{epoch}, minibatch {start // batch_size}; the weights are the last finite "
                                       "ones (lower the learning rate)")
            total += value * len(idx)
            count += len(idx)
        history.append(total / count)
        opt.lr *= lr_decay
        if callback is not None:
            callback(epoch, {"loss": history[-1]})
    return {"loss": history, "optimizer": opt}


def predict(config: RSNNConfig, weights: Weights, x, loss: str = "mean_membrane", *, batch_size: int = 512,
            step_weights: Callable[[int, int], Weights] | None = None, mask=None) -> np.ndarray:
    """Predicted class per sample: argmax of the loss's logits (:func:`logits_of`).

    ``step_weights(batch_index, t)``, if given, returns the weights of step ``t`` of minibatch
    ``batch_index`` (device reads with noise).  ``mask`` (``"masked_ce"`` only): the decision
    window, ``(T,)`` or ``(N, T)``; None: all steps.
    """
    if loss not in _CLASSIFICATION:
        raise ValueError(f"loss must be a classification loss {list(_CLASSIFICATION)} for predict, got {loss!r}")
    x = _check_inputs(config, x)
    weights.validate(config)
    batch_size = check_int_at_least("batch_size", batch_size, 1)
    m = None if mask is None or loss != "masked_ce" else np.asarray(mask)
    if m is not None and m.shape not in ((x.shape[1],), x.shape[:2]):
        raise ValueError(f"mask must have shape (T,) = ({x.shape[1]},) or (N, T) = {x.shape[:2]}, got {m.shape}")
    out = []
    for b, start in enumerate(range(0, x.shape[0], batch_size)):
        sw = None if step_weights is None else (lambda t, b=b: step_weights(b, t))
        st = forward(config, weights, x[start:start + batch_size], validate=False, step_weights=sw)
        mb = None if m is None else (m if m.ndim == 1 else m[start:start + batch_size])
        out.append(logits_of(st.y, loss, mb).argmax(axis=1))
    return np.concatenate(out)


def accuracy(config: RSNNConfig, weights: Weights, x, labels, loss: str = "mean_membrane", **kw) -> float:
    """Fraction of samples classified correctly."""
    pred = predict(config, weights, x, loss, **kw)
    lab = _check_labels(config, labels, pred.shape[0])
    return float(np.mean(pred == lab))


# --------------------------------------------------------------------------- crossbar mapping
def _dense_synapses(n_post: int, n_pre: int, no_diagonal: bool) -> tuple[np.ndarray, np.ndarray]:
    """``pre``, ``post`` of every synapse of a dense ``(n_post, n_pre)`` matrix in CSR order (by pre)."""
    pre = np.repeat(np.arange(n_pre), n_post)
    post = np.tile(np.arange(n_post), n_pre)
    if no_diagonal:
        keep = pre != post
        pre, post = pre[keep], post[keep]
    return pre, post


class MappedNetwork:
    """A trained network whose ``w_in``, ``w_rec``, ``w_out`` live in crossbars (``b_out`` stays digital)."""

    def __init__(self, config: RSNNConfig, layers: dict[str, Any], synapses: dict[str, tuple[np.ndarray, np.ndarray]],
                 b_out: np.ndarray, dt: float):
        self.config = config
        self.layers = layers
        self.synapses = synapses
        self.b_out = np.array(b_out, dtype=np.float64)
        self.dt = float(dt)

    def read(self, step: int | None = None, *, noise: bool = False) -> Weights:
        """The weights the devices hold: an expected read (``noise=False``) or the noisy read of ``step``.

        Read ``step`` is at time ``step * dt`` after the start (``age`` after programming plus that);
        ``step=None`` reads at time 0 without noise.
        """
        arrays: dict[str, np.ndarray | None] = {"w_rec": None}
        for name, state in self.layers.items():
            if step is None:
                w = state.read_weights(0.0)
            else:
                w = state.read_weights(step=int(step), dt=self.dt, noise=noise)
            pre, post = self.synapses[name]
            shape = {"w_in": (self.config.n_rec, self.config.n_in), "w_rec": (self.config.n_rec, self.config.n_rec),
                     "w_out": (self.config.n_out, self.config.n_rec)}[name]
            dense = np.zeros(shape)
            dense[post, pre] = w
            arrays[name] = dense
        return Weights(w_in=arrays["w_in"], w_rec=arrays["w_rec"], w_out=arrays["w_out"], b_out=self.b_out.copy())

    def stats(self) -> dict[str, Any]:
        """Programming statistics per layer (pulses, energy, unconverged and clipped devices)."""
        return {name: {"devices": s.n_devices, "program_pulses": s.program_pulses,
                       "program_energy_J": s.program_energy, "unconverged": s.unconverged, "clipped": s.clipped,
                       "stuck": int(np.sum(s.fault != 0))}
                for name, s in self.layers.items()}


def map_to_crossbar(config: RSNNConfig, weights: Weights, preset: Any = "hfox_rram", *, seed: int = 0,
                    program: str = "verify", encoding: str = "differential", age: float = 0.0,
                    **crossbar_kw: Any) -> MappedNetwork:
    """Write ``w_in``, ``w_rec``, ``w_out`` into memristive crossbars of a device preset.

    Every matrix becomes one :class:`~memr_snn.devices.CrossbarState` (presynaptic index = input
    column of the matrix, postsynaptic index = output row; synapses in CSR order by presynaptic
    index; the diagonal of ``w_rec`` has no synapse).  Device draws (variability, faults, drift
    exponents, programming and read noise) follow ``seed``; each layer gets its own stream.

    Parameters
    ----------
    preset : str or DevicePreset
        Device technology (``memr_snn.devices.list_presets()``).
    seed : int
        Device seed.
    program : str
        ``"verify"`` (program-and-verify, default) or ``"direct"``.
    encoding : str
        ``"differential"`` (default; any sign) or ``"single"``.
    age : float
        Time from programming to the first read [s] (drift, retention).
    **crossbar_kw
        Further :class:`~memr_snn.devices.Crossbar` fields (``tolerance``, ``max_pulses``, ``array`` ...).
    """
    from ..devices.crossbar import Crossbar, CrossbarState

    weights.validate(config)
    check_int_at_least("seed", seed, 0)
    spec = Crossbar(preset=preset, program=program, encoding=encoding, age=age, **crossbar_kw)
    layers, synapses = {}, {}
    for k, name in enumerate(_MAPPED):
        w = getattr(weights, name)
        if w is None:
            continue
        pre, post = _dense_synapses(w.shape[0], w.shape[1], name == "w_rec")
        layer_seed = int(np.random.default_rng([int(seed), k, 0xC0DE]).integers(0, 2 ** 62))
        state = CrossbarState(spec, pre, post, w[post, pre], layer_seed, name=name, n_pre=w.shape[1])
        layers[name] = state  # programmed ``age`` seconds before t = 0 (Crossbar.age)
        synapses[name] = (pre, post)
    return MappedNetwork(config, layers, synapses, weights.b_out, config.dt)


READ_MODES = ("per_step", "static", "off")


def evaluate_mapped(config: RSNNConfig, weights: Weights, x, labels, preset: Any = "hfox_rram", *,
                    device_seeds: Iterable[int] = (0, 1, 2, 3, 4), loss: str = "mean_membrane",
                    read_noise: str = "per_step", batch_size: int = 512, **map_kw: Any) -> dict[str, Any]:
    """Accuracy of the network mapped to devices, over device seeds.

    For every seed the weights are programmed (:func:`map_to_crossbar`) and the test set is
    classified with the devices' read weights.  ``read_noise``:

    * ``"per_step"`` -- every time step of every minibatch uses a fresh noisy read of all devices
      (:meth:`CrossbarState.read_weights` with ``step = batch * T + t``, exactly the kernel's read
      draw at that step; drift advances with the step time); the samples of a minibatch share a read;
    * ``"static"`` -- one noisy read (step 0) for the whole test set;
    * ``"off"`` -- the expected read (programming error, variability, faults and drift only).

    Returns
    -------
    dict
        ``accuracy`` (per seed), ``mean``, ``std`` (population std over seeds), ``float_accuracy``
        (the unmapped weights), ``weight_rmse`` (per seed, relative to ``max|W|``, per layer),
        ``stats`` (programming statistics per seed).
    """
    if read_noise not in READ_MODES:
        raise ValueError(f"read_noise must be one of {list(READ_MODES)}, got {read_noise!r}")
    seeds = [check_int_at_least("device_seeds", s, 0) for s in device_seeds]
    if not seeds:
        raise ValueError("device_seeds must hold at least one seed, got none")
    x = _check_inputs(config, x)
    T = x.shape[1]
    accs, rmse, stats = [], [], []
    for s in seeds:
        net = map_to_crossbar(config, weights, preset, seed=s, **map_kw)
        expected = net.read()
        rmse.append({n: float(np.sqrt(np.mean((getattr(expected, n) - getattr(weights, n)) ** 2))
                              / max(float(np.abs(getattr(weights, n)).max()), 1e-300)) for n in net.layers})
        stats.append(net.stats())
        if read_noise == "off":
            accs.append(accuracy(config, expected, x, labels, loss, batch_size=batch_size))
        elif read_noise == "static":
            accs.append(accuracy(config, net.read(0, noise=True), x, labels, loss, batch_size=batch_size))
        else:
            cache: dict[int, Weights] = {}

            def step_weights(b: int, t: int, net: MappedNetwork = net, cache: dict = cache) -> Weights:
                k = b * T + t
                if k not in cache:
                    cache.clear()
                    cache[k] = net.read(k, noise=True)
                return cache[k]

            accs.append(accuracy(config, expected, x, labels, loss, batch_size=batch_size, step_weights=step_weights))
    a = np.array(accs)
    return {"accuracy": accs, "mean": float(a.mean()), "std": float(a.std()),
            "float_accuracy": accuracy(config, weights, x, labels, loss, batch_size=batch_size),
            "weight_rmse": rmse, "stats": stats, "device_seeds": seeds, "read_noise": read_noise}


def finite_difference_gradients(config: RSNNConfig, weights: Weights, x, target, loss: str = "mean_membrane",
                                eps: float = 1e-6, names: Sequence[str] | None = None, **kw: Any
                                ) -> dict[str, np.ndarray]:
    """Central finite differences of :func:`loss_and_grad`'s loss (for gradient checks; slow)."""
    out = {}
    for name in names or weights.names():
        w = getattr(weights, name)
        g = np.zeros_like(w)
        it = np.nditer(w, flags=["multi_index"])
        for _ in it:
            i = it.multi_index
            if name == "w_rec" and i[0] == i[1]:
                continue
            old = w[i]
            w[i] = old + eps
            lp = loss_and_grad(config, weights, x, target, loss, **kw)[0]
            w[i] = old - eps
            lm = loss_and_grad(config, weights, x, target, loss, **kw)[0]
            w[i] = old
            g[i] = (lp - lm) / (2 * eps)
        out[name] = g
    return out


__all__ += ["finite_difference_gradients", "quantize", "logits_of", "READ_MODES", "TrainingDiverged"]
