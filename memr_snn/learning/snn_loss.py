r"""The classification loss of the shared network (:mod:`memr_snn.learning.snn`): one masked softmax
cross-entropy, its gradient, and the decision it implies, used by e-prop and BPTT alike.

Layout and mask convention
--------------------------
Readout outputs are batch-major, ``y`` of shape ``(B, T, n_out)`` as :func:`memr_snn.learning.snn.simulate`
returns them (row ``t`` is :math:`y[t+1]`).  Labels :math:`c` are integer classes, ``(B,)`` (one per
sequence) or ``(B, T)`` (one per step).  The mask gives every (sample, step) a non-negative weight
:math:`m_{bt}`: None (all ones), ``(T,)`` (shared by all samples) or ``(B, T)``; booleans are 0/1 weights.

Value and gradient
------------------
.. math::

    L = -\frac1B \sum_{b,t} m_{bt}\,\log \mathrm{softmax}(y_{bt})_{c_{bt}}, \qquad
    \frac{\partial L}{\partial y_{btk}} = \frac{m_{bt}}{B}\,\big(\mathrm{softmax}(y_{bt})_k - [k = c_{bt}]\big)

-- summed over the weighted steps, averaged over the batch.  This is e-prop's classification loss
(:meth:`memr_snn.learning.eprop.EProp.loss`; its learning signal at a target step is the gradient with
``T = 1``) and ``loss="masked_ce"`` of :mod:`memr_snn.learning.surrogate`; the BPTT losses
``"mean_membrane"`` and ``"max_over_time"`` are the same function of one pooled step.  An all-zero mask
gives :math:`L = 0` and a zero gradient (an empty sum).

Decision
--------
The class of sample ``b`` is :math:`\arg\max_k \sum_t m_{bt}\,y_{btk}` (:func:`decide`, scores
:func:`masked_logits`), e-prop's ``predict`` and ``surrogate.predict(..., "masked_ce")``.

Numerics: the softmax is :math:`e^{y - \max y} / \sum e^{y - \max y}` and the log-softmax
:math:`(y - \max y) - \log \sum e^{y - \max y}` (no overflow, no underflow to :math:`\log 0`); the value sums
only the steps with :math:`m_{bt} \ne 0`.
"""

from __future__ import annotations

import numpy as np

from .._validation import check_finite, check_nonnegative

__all__ = ["softmax", "mask_weights", "check_labels", "masked_cross_entropy", "masked_logits", "decide"]


def softmax(y: np.ndarray) -> np.ndarray:
    """Softmax over the last axis, :math:`e^{y - \\max y} / \\sum e^{y - \\max y}` (a new array)."""
    e = np.exp(y - y.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def _readout(y) -> np.ndarray:
    arr = np.asarray(y, dtype=np.float64)
    if arr.ndim != 3 or 0 in arr.shape:
        raise ValueError(f"y must have shape (batch, T, n_out) with all sizes >= 1, got {arr.shape}")
    check_finite("y", arr)
    return arr


def mask_weights(mask, batch: int, steps: int) -> np.ndarray | None:
    """The mask as non-negative step weights ``(batch, steps)`` (module docstring); None stays None.

    Raises ``ValueError`` naming ``mask`` for another shape, a negative or a non-finite weight.
    """
    if mask is None:
        return None
    m = np.asarray(mask, dtype=np.float64)
    if m.shape == (steps,):
        m = np.broadcast_to(m[None, :], (batch, steps))
    elif m.shape != (batch, steps):
        raise ValueError(f"mask must have shape (T,) = ({steps},) or (batch, T) = {(batch, steps)}, "
                         f"got {np.shape(mask)}")
    check_finite("mask", m)
    check_nonnegative("mask", m)
    return m


def check_labels(labels, batch: int, steps: int, n_classes: int) -> np.ndarray:
    """``labels`` as int64 ``(batch,)`` or ``(batch, steps)`` classes in ``[0, n_classes)``.

    Integer-valued floats are accepted; anything else raises ``ValueError`` naming ``labels``.
    """
    lab = np.asarray(labels)
    if lab.shape not in ((batch,), (batch, steps)):
        raise ValueError(f"labels must have shape ({batch},) or ({batch}, {steps}), got {lab.shape}")
    if lab.size and not np.issubdtype(lab.dtype, np.integer):
        if not np.issubdtype(lab.dtype, np.number) or not np.array_equal(lab, np.round(lab)):
            raise ValueError(f"labels must be integer class indices, got dtype {lab.dtype}")
    lab = lab.astype(np.int64)
    bad = (lab < 0) | (lab >= n_classes)
    if np.any(bad):
        raise ValueError(f"labels must lie in [0, {n_classes - 1}] (n_out classes), got {int(lab[bad][0])}")
    return lab


def masked_cross_entropy(y, labels, mask=None, *, validate: bool = True) -> tuple[float, np.ndarray]:
    """The masked softmax cross-entropy of readout outputs and its gradient (module docstring).

    Parameters
    ----------
    y : array_like, shape (B, T, n_out)
        Readout outputs, batch-major.
    labels : array_like of int, shape (B,) or (B, T)
        Target class per sequence or per step.
    mask : array_like, shape (T,) or (B, T), optional
        Non-negative step weights (bool: 0/1); None: every step weighs 1.
    validate : bool
        Check shapes, finiteness and label range (callers that have checked pass False).

    Returns
    -------
    value : float
        :math:`L`, summed over the weighted steps, averaged over the batch.
    grad : numpy.ndarray, shape (B, T, n_out)
        :math:`\\partial L / \\partial y`.
    """
    if validate:
        y = _readout(y)
        lab = check_labels(labels, *y.shape)
    else:
        y = np.asarray(y, dtype=np.float64)
        lab = np.asarray(labels)
    B, T, _ = y.shape
    m = mask_weights(mask, B, T)
    bi, ti = np.arange(B)[None, :], np.arange(T)[:, None]  # step-major (T, B) index grids
    lab_tb = lab[None, :] if lab.ndim == 1 else lab.T
    shifted = y - y.max(axis=-1, keepdims=True)
    e = np.exp(shifted)
    s = e.sum(axis=-1, keepdims=True)
    # log softmax of the label, (T, B); summed step-major (t outer, b inner) over the weighted entries only
    picked = shifted[bi, ti, lab_tb] - np.log(s[bi, ti, 0])
    if m is None:
        value = float(-picked.sum() / B)
    else:
        sel = (m != 0).T
        value = float(-(m.T[sel] * picked[sel]).sum() / B)
    grad = e / s
    grad[bi, ti, lab_tb] -= 1.0
    return value, (grad / B if m is None else grad * m[:, :, None] / B)


def masked_logits(y, mask=None) -> np.ndarray:
    """Class scores ``(B, n_out)``: the readout ``y`` ``(B, T, n_out)`` summed over the steps, weighted by ``mask``."""
    y = np.asarray(y, dtype=np.float64)
    if y.ndim != 3:
        raise ValueError(f"y must have shape (batch, T, n_out), got {y.shape}")
    B, T, _ = y.shape
    m = mask_weights(mask, B, T)
    if m is None:
        return y.sum(axis=1)
    if mask is not None and np.ndim(mask) == 1:  # one window for all samples: sum the selected steps only
        sel = m[0] != 0
        return (m[0, sel][None, :, None] * y[:, sel]).sum(axis=1)
    return (m[:, :, None] * y).sum(axis=1)


def decide(y, mask=None) -> np.ndarray:
    """Class per sample: argmax of :func:`masked_logits` (first maximum on ties).

    ``ValueError`` naming ``mask`` when it selects no step of some sample.
    """
    y = np.asarray(y, dtype=np.float64)
    if y.ndim == 3 and mask is not None:
        m = mask_weights(mask, y.shape[0], y.shape[1])
        if not np.all(m.any(axis=1)):
            raise ValueError(f"mask must select at least one step of every sample (shape {np.shape(mask)}), "
                             "got a sample without one")
    return np.argmax(masked_logits(y, mask), axis=1)
