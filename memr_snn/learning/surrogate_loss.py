"""Losses, regularisers and the BPTT backward pass of surrogate-gradient training; predictions.

Part of :mod:`memr_snn.learning.surrogate` (its docstring gives the model, the losses and the backward
pass); import the names from there.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from .._validation import check_finite, check_int_at_least, check_nonnegative
from .snn import ForwardState, Weights, _beta, forward
from .snn import _SurrogateRSNNConfig as RSNNConfig
from .snn import check_inputs as _check_inputs
from .snn_loss import check_labels, mask_weights, masked_cross_entropy, masked_logits

LOSSES = ("max_over_time", "mean_membrane", "masked_ce", "mse")
_CLASSIFICATION = ("max_over_time", "mean_membrane", "masked_ce")
_MAPPED = ("w_in", "w_rec", "w_out")


# --------------------------------------------------------------------------- losses
def _check_labels(config: RSNNConfig, labels, batch: int) -> np.ndarray:
    """One class label per sample, ``(batch,)`` int64 in ``[0, n_out)``."""
    lab = np.asarray(labels)
    if lab.shape != (batch,):
        raise ValueError(f"labels must have shape ({batch},), got {lab.shape}")
    return check_labels(lab, batch, 1, config.n_out)


def _check_loss(loss: str) -> None:
    if loss == "spike_count":
        raise ValueError("loss 'spike_count' is not supported: the readout is non-spiking (leaky integrators); "
                         f"use one of {list(LOSSES)}")
    if loss not in LOSSES:
        raise ValueError(f"loss must be one of {list(LOSSES)}, got {loss!r}")


def _window(mask, T: int, B: int):
    """Check a ``"masked_ce"`` mask (None, ``(T,)`` or ``(B, T)`` non-negative weights) and return it.

    The convention is :func:`memr_snn.learning.snn_loss.mask_weights`'s; BPTT also refuses a mask that
    selects no step.
    """
    m = mask_weights(mask, B, T)
    if m is not None and m.sum() <= 0:
        raise ValueError("mask must select at least one step, got all zeros")
    return mask


def logits_of(y: np.ndarray, loss: str, mask=None) -> np.ndarray:
    """Class scores ``(B, n_out)`` from readout outputs ``y`` ``(T, B, n_out)`` for a classification loss.

    ``"max_over_time"``: the maximum over time; ``"mean_membrane"``: the mean; ``"masked_ce"``: the sum
    over the steps weighted by ``mask`` (``(T,)`` or ``(B, T)``; None: all steps), i.e.
    :func:`memr_snn.learning.snn.masked_logits` of the batch-major ``y``.
    """
    if loss == "masked_ce":
        return masked_logits(y.transpose(1, 0, 2), _window(mask, y.shape[0], y.shape[1]))
    return y.max(axis=0) if loss == "max_over_time" else y.mean(axis=0)


def _pooled_ce(logits: np.ndarray, labels: np.ndarray) -> tuple[float, np.ndarray]:
    """Cross-entropy of one pooled step ``(B, n_out)``: ``snn.masked_cross_entropy`` with T = 1."""
    value, g = masked_cross_entropy(logits[:, None, :], labels, validate=False)
    return value, g[:, 0]


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
        if loss == "masked_ce":  # snn.masked_cross_entropy on the batch-major view
            value, gb = masked_cross_entropy(y.transpose(1, 0, 2), lab, _window(mask, T, B), validate=False)
            return value, gb.transpose(1, 0, 2)
        if loss == "max_over_time":
            idx = y.argmax(axis=0)  # (B, n_out): first maximum
            value, gl = _pooled_ce(np.take_along_axis(y, idx[None], axis=0)[0], lab)
            np.put_along_axis(g, idx[None], gl[None], axis=0)
        else:
            value, gl = _pooled_ce(y.mean(axis=0), lab)
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
