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
  :math:`-\frac1B \sum_b \sum_t m_{bt} \log \mathrm{softmax}(Y_b[t])_{c_b}` -- e-prop's
  classification loss: both call :func:`memr_snn.learning.snn.masked_cross_entropy`.  Its decision
  (:func:`predict`) is the argmax of :math:`\sum_t m_{bt} Y_b[t]` (:func:`memr_snn.learning.snn.decide`),
  e-prop's ``predict``;
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

import math
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

from .._validation import check_int_at_least, check_positive
from .snn import (
    SPIKE_FNS,
    SURROGATES,
    Adam,
    ForwardState,
    TrainingDiverged,
    Weights,
    _SurrogateRSNNConfig,
    forward,
)
from .snn import check_inputs as _check_inputs
from .snn import init_weights as _init_weights
from .snn import spike_and_psi as _spike_and_psi  # noqa: F401  (former private name, used by tests)

# The module is split by job: losses and the backward pass (surrogate_loss), hardware-aware training
# (surrogate_hardware), mapping to crossbars (surrogate_mapping); training stays here.  Every name is
# importable from here, as before.
from .surrogate_hardware import HardwareAware, apply_hardware, quantize
from .surrogate_loss import (
    LOSSES,
    _check_loss,
    accuracy,
    backward,
    compute_loss,
    finite_difference_gradients,
    gradients,
    logits_of,
    loss_and_grad,
    predict,
    regularizer_terms,
)
from .surrogate_mapping import READ_MODES, MappedNetwork, evaluate_mapped, map_to_crossbar

__all__ = [
    "Weights",
    "HardwareAware",
    "ForwardState",
    "Adam",
    "SURROGATES",
    "SPIKE_FNS",
    "LOSSES",
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


def init_weights(config: RSNNConfig, seed: int = 0, *, in_gain: float = 1.0, rec_gain: float = 0.5,
                 out_gain: float = 1.0) -> Weights:
    """Deprecated: :func:`memr_snn.learning.snn.init_weights` (same arguments, default ``scheme="fan_in"``:
    the same weights)."""
    warnings.warn("memr_snn.learning.surrogate.init_weights is deprecated; use memr_snn.learning.snn.init_weights "
                  "(same arguments and weights)", DeprecationWarning, stacklevel=2)
    return _init_weights(config, seed, scheme="fan_in", in_gain=in_gain, rec_gain=rec_gain, out_gain=out_gain)


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
          lr_decay: float = 1.0, callback: Callable[[int, dict], None] | None = None,
          constrain: Callable[[Weights], None] | None = None) -> dict[str, Any]:
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
    constrain : callable, optional
        ``constrain(weights)`` after every optimizer step, changing them in place: projected
        gradient descent (e.g. onto the weights a device array can hold,
        :mod:`memr_snn.bci.spiking_faults`).  Called once before the first step as well.

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
    if constrain is not None:
        constrain(weights)
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
            if constrain is not None:
                constrain(weights)
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


__all__ += ["finite_difference_gradients", "quantize", "logits_of", "READ_MODES", "TrainingDiverged"]
