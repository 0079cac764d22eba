r"""A small float convolutional network in numpy, trained with the project's loss and optimiser (no torch).

The network is ``conv1 -> ReLU -> max-pool -> flatten -> fc1`` (stride-1 convolution with
``padding = kernel // 2``, non-overlapping ``pool x pool`` max-pooling that drops a remainder row and
column, one dense readout).  The weights are a state dict in PyTorch naming (``conv1.weight``
``(C_out, C_in, k, k)``, ``conv1.bias``, ``fc1.weight`` ``(n_classes, C_out H_p W_p)``, ``fc1.bias``);
:func:`memr_snn.aimc.training.cnn_spec` turns it into the layer list of :func:`memr_snn.aimc.compile`.
Initialisation: He-uniform weights :math:`U(-\sqrt{6 / n_{in}}, \sqrt{6 / n_{in}})` with
:math:`n_{in} = C_{in} k^2` for the convolution, zero biases.  Loss: the shared softmax cross-entropy
(:func:`~memr_snn.learning.snn_loss.masked_cross_entropy` with one step); optimiser:
:class:`~memr_snn.learning.snn.Adam`.

The convolution is an *im2col* product: every output position's receptive field, flattened in
``(C_in, kh, kw)`` order, is one row of :math:`X_{col}` and the output is
:math:`X_{col} K^\top + b` with :math:`K` the kernel reshaped to ``(C_out, C_in k^2)``; its backward
pass is :math:`\partial L / \partial K = \delta^\top X_{col}` and :math:`\partial L / \partial X_{col}
= \delta K`, scattered back onto the input by *col2im* (each input pixel sums the gradients of every
receptive field it is in).  Max-pooling passes the gradient to the largest element of each window.

Hardware-aware training (``hardware=`` :class:`~memr_snn.learning.hwa.HWATraining`): the convolution
(every receptive field one input vector, as on a tile) and the readout run as
:func:`~memr_snn.learning.hwa.analog_matmul`; the weights are clipped after each step.

:func:`load_dvs_frames` turns the DVS digits (:mod:`memr_snn.encoders.datasets.dvs_digits`) into
frames for the network.
"""

from __future__ import annotations

import numpy as np

from .._validation import check_int_at_least, check_positive
from .hwa import HWATraining, analog_matmul, analog_matmul_backward, train_minibatches
from .snn_loss import masked_cross_entropy

__all__ = ["im2col", "col2im", "init_cnn", "cnn_forward", "cnn_loss_and_grads", "cnn_accuracy", "train_cnn",
           "load_dvs_frames"]


def im2col(x: np.ndarray, k: int, padding: int) -> np.ndarray:
    """Receptive fields of a stride-1 ``k x k`` convolution: ``(B Ho Wo, C k k)`` rows in ``(b, y, x)`` order."""
    b, c, h, w = x.shape
    xp = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    win = np.lib.stride_tricks.sliding_window_view(xp, (k, k), axis=(2, 3))  # (B, C, Ho, Wo, k, k)
    ho, wo = win.shape[2], win.shape[3]
    return win.transpose(0, 2, 3, 1, 4, 5).reshape(b * ho * wo, c * k * k)


def col2im(dcols: np.ndarray, shape: tuple[int, int, int, int], k: int, padding: int) -> np.ndarray:
    """Adjoint of :func:`im2col`: the gradient with respect to the input ``shape`` ``(B, C, H, W)``."""
    b, c, h, w = shape
    ho, wo = h + 2 * padding - k + 1, w + 2 * padding - k + 1
    d = dcols.reshape(b, ho, wo, c, k, k)
    dxp = np.zeros((b, c, h + 2 * padding, w + 2 * padding))
    for i in range(k):
        for j in range(k):
            dxp[:, :, i:i + ho, j:j + wo] += d[:, :, :, :, i, j].transpose(0, 3, 1, 2)
    return dxp[:, :, padding:padding + h, padding:padding + w]


def init_cnn(in_shape: tuple[int, int, int], n_classes: int, *, channels: int = 8, kernel: int = 3, pool: int = 2,
             seed: int = 0) -> dict[str, np.ndarray]:
    """He-uniform weights and zero biases for inputs ``in_shape`` ``(C, H, W)``."""
    c, h, w = (check_int_at_least("in_shape[i]", v, 1) for v in in_shape)
    channels = check_int_at_least("channels", channels, 1)
    kernel = check_int_at_least("kernel", kernel, 1)
    pool = check_int_at_least("pool", pool, 1)
    n_classes = check_int_at_least("n_classes", n_classes, 1)
    if kernel % 2 == 0:
        raise ValueError(f"kernel must be odd (same-size padding kernel // 2), got {kernel}")
    if h < pool or w < pool:
        raise ValueError(f"in_shape {in_shape} is smaller than the pool {pool}")
    rng = np.random.default_rng([int(seed), 0xC11])
    lim = np.sqrt(6.0 / (c * kernel * kernel))
    n_flat = channels * (h // pool) * (w // pool)
    lim_fc = np.sqrt(6.0 / n_flat)
    return {"conv1.weight": rng.uniform(-lim, lim, (channels, c, kernel, kernel)), "conv1.bias": np.zeros(channels),
            "fc1.weight": rng.uniform(-lim_fc, lim_fc, (n_classes, n_flat)), "fc1.bias": np.zeros(n_classes)}


def _pool_size(state: dict[str, np.ndarray], h: int, w: int) -> int:
    n_flat = state["fc1.weight"].shape[1]
    c = state["conv1.weight"].shape[0]
    for p in range(1, min(h, w) + 1):
        if c * (h // p) * (w // p) == n_flat:
            return p
    raise ValueError(f"fc1.weight takes {n_flat} inputs, which no pooling of {c} x {h} x {w} gives")


def _forward(state, x, hardware, rng, pool):
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 4 or x.shape[1] != state["conv1.weight"].shape[1]:
        raise ValueError(f"x must be (B, {state['conv1.weight'].shape[1]}, H, W), got {x.shape}")
    kw = state["conv1.weight"]
    c_out, k = kw.shape[0], kw.shape[2]
    b, _, h, w = x.shape
    pool = _pool_size(state, h, w) if pool is None else pool
    cols = im2col(x, k, k // 2)
    a, conv_cache = analog_matmul(cols, kw.reshape(c_out, -1), hardware, rng)
    a = (a + state["conv1.bias"]).reshape(b, h, w, c_out).transpose(0, 3, 1, 2)
    r = np.maximum(a, 0.0)
    hp, wp = h // pool, w // pool
    win = r[:, :, :hp * pool, :wp * pool].reshape(b, c_out, hp, pool, wp, pool).transpose(0, 1, 2, 4, 3, 5)
    win = win.reshape(b, c_out, hp, wp, pool * pool)
    arg = np.argmax(win, axis=-1)
    p = np.take_along_axis(win, arg[..., None], axis=-1)[..., 0]
    flat = p.reshape(b, -1)
    y, fc_cache = analog_matmul(flat, state["fc1.weight"], hardware, rng)
    y = y + state["fc1.bias"]
    return y, (x.shape, k, pool, conv_cache, a, arg, fc_cache)


def cnn_forward(state: dict[str, np.ndarray], x: np.ndarray) -> np.ndarray:
    """Float logits ``(B, n_classes)`` of inputs ``x`` ``(B, C, H, W)``."""
    return _forward(state, x, None, None, None)[0]


def cnn_loss_and_grads(state: dict[str, np.ndarray], x: np.ndarray, labels: np.ndarray, *,
                       hardware: HWATraining | None = None, rng: np.random.Generator | None = None
                       ) -> tuple[float, dict[str, np.ndarray]]:
    """Mean cross-entropy of a batch and its gradient for every array of ``state`` and for the input
    (``"input"``, shape of ``x``) (module docstring)."""
    y, (shape, k, pool, conv_cache, a, arg, fc_cache) = _forward(state, x, hardware, rng, None)
    loss, dy = masked_cross_entropy(y[:, None, :], labels)
    dy = dy[:, 0, :]
    grads = {"fc1.bias": dy.sum(axis=0)}
    dflat, grads["fc1.weight"] = analog_matmul_backward(dy, fc_cache)
    b, c_out, h, w = a.shape
    hp, wp = h // pool, w // pool
    dwin = np.zeros((b, c_out, hp, wp, pool * pool))
    np.put_along_axis(dwin, arg[..., None], dflat.reshape(b, c_out, hp, wp, 1), axis=-1)
    dr = np.zeros_like(a)
    dr[:, :, :hp * pool, :wp * pool] = (dwin.reshape(b, c_out, hp, wp, pool, pool).transpose(0, 1, 2, 4, 3, 5)
                                        .reshape(b, c_out, hp * pool, wp * pool))
    da = (dr * (a > 0)).transpose(0, 2, 3, 1).reshape(-1, c_out)
    grads["conv1.bias"] = da.sum(axis=0)
    dcols, dk = analog_matmul_backward(da, conv_cache)
    grads["conv1.weight"] = dk.reshape(state["conv1.weight"].shape)
    grads["input"] = col2im(dcols, shape, k, k // 2)
    return loss, grads


def cnn_accuracy(state: dict[str, np.ndarray], x: np.ndarray, labels: np.ndarray, batch_size: int = 256) -> float:
    """Fraction of ``x`` whose largest logit is its label."""
    pred = np.concatenate([np.argmax(cnn_forward(state, x[s:s + batch_size]), axis=1)
                           for s in range(0, len(x), batch_size)])
    return float(np.mean(pred == np.asarray(labels)))


def train_cnn(x: np.ndarray, labels: np.ndarray, *, channels: int = 8, kernel: int = 3, pool: int = 2,
              n_classes: int | None = None, epochs: int = 30, lr: float = 3e-3, batch_size: int = 32, seed: int = 0,
              hardware: HWATraining | None = None) -> dict[str, np.ndarray]:
    """Train the CNN on ``x`` ``(N, C, H, W)`` and integer ``labels`` with Adam on shuffled minibatches.

    ``hardware``: hardware-aware training (module docstring; noise seeded by ``seed``).
    Returns the state dict (``conv1.weight``, ``conv1.bias``, ``fc1.weight``, ``fc1.bias``).
    """
    x = np.asarray(x, dtype=np.float64)
    labels = np.asarray(labels)
    if x.ndim != 4 or labels.shape != (x.shape[0],):
        raise ValueError(f"x must be (N, C, H, W) and labels (N,), got {x.shape} and {labels.shape}")
    epochs = check_int_at_least("epochs", epochs, 1)
    batch_size = check_int_at_least("batch_size", batch_size, 1)
    check_positive("lr", lr)
    k = int(labels.max()) + 1 if n_classes is None else check_int_at_least("n_classes", n_classes, 1)
    state = init_cnn(x.shape[1:], k, channels=channels, kernel=kernel, pool=pool, seed=seed)
    return train_minibatches(state, x, labels, cnn_loss_and_grads, epochs=epochs, batch_size=batch_size, lr=lr,
                             order_rng=np.random.default_rng([int(seed), 0xC12]),
                             noise_rng=np.random.default_rng([int(seed), 0xC13]), hardware=hardware)


def load_dvs_frames(*, split_seed: int = 0, n_samples: int | None = None, progress: bool | None = None):
    """DVS digits as frames ``(N, 2, 17, 17)``: the pooled event counts of each polarity summed over the 300 ms
    recording, divided by the sample's largest count (so every frame lies in [0, 1]).

    Built on :func:`memr_snn.encoders.datasets.dvs_digits.load_dvs_digits` (default recording, 2 x 2 pixel
    pooling; cached on disk, about 25 s the first time; the ``datasets`` extra).  Returns
    ``(x_train, y_train, x_test, y_test)`` on its stratified 75/25 split.
    """
    from ..encoders.datasets.dvs_digits import load_dvs_digits

    d = load_dvs_digits(split_seed=split_seed, n_samples=n_samples, progress=progress)
    side = int(round(np.sqrt(d.x_train.shape[2] // 2)))

    def frames(x):
        f = x.astype(np.float64).sum(axis=1).reshape(len(x), 2, side, side)
        m = f.reshape(len(x), -1).max(axis=1)
        return f / np.where(m > 0, m, 1.0)[:, None, None, None]

    return frames(d.x_train), d.y_train, frames(d.x_test), d.y_test
