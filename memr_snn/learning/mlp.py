r"""A float multilayer perceptron trained with the project's loss and optimiser.

``fc1 .. fcL`` are dense layers, ReLU between them, a linear readout; the loss is the shared softmax
cross-entropy (:func:`~memr_snn.learning.snn_loss.masked_cross_entropy` with one step) and the
optimiser :class:`~memr_snn.learning.snn.Adam`.  The weights are a state dict in PyTorch naming
(``fc1.weight`` of shape ``(n_out, n_in)``, ``fc1.bias``, ...), which
:func:`memr_snn.aimc.compile` maps onto analog tiles as it is.  Initialisation: He-uniform
:math:`U(-\sqrt{6 / n_{in}}, \sqrt{6 / n_{in}})` weights (He et al., ICCV 2015), zero biases.

Backpropagation, per minibatch of size :math:`B` with :math:`h_0 = x`:

.. math::

    a_l = h_{l-1} W_l^\top + b_l,\quad h_l = \max(a_l, 0);\qquad
    \delta_L = \partial L / \partial a_L,\quad
    \partial L / \partial W_l = \delta_l^\top h_{l-1},\quad
    \delta_{l-1} = (\delta_l W_l) \odot [a_{l-1} > 0].

Hardware-aware training (``hardware=`` :class:`~memr_snn.learning.hwa.HWATraining`): every product
:math:`h_{l-1} W_l^\top` of a training step runs as :func:`~memr_snn.learning.hwa.analog_matmul`
(weight noise, DAC and ADC quantization, output noise; straight-through backward) and every weight
array is clipped after each step (:func:`~memr_snn.learning.hwa.clip_weights`); biases stay digital.
"""

from __future__ import annotations

import numpy as np

from .._validation import check_int_at_least, check_positive
from .hwa import HWATraining, analog_matmul, analog_matmul_backward, train_minibatches
from .snn_loss import masked_cross_entropy

__all__ = ["init_mlp", "mlp_forward", "mlp_loss_and_grads", "train_mlp", "mlp_accuracy"]


def init_mlp(sizes: tuple[int, ...] | list[int], seed: int = 0) -> dict[str, np.ndarray]:
    """He-uniform weights and zero biases for layer widths ``sizes`` (inputs first, classes last)."""
    sizes = [check_int_at_least("sizes[i]", s, 1) for s in sizes]
    if len(sizes) < 2:
        raise ValueError(f"sizes must name at least the inputs and the outputs, got {sizes}")
    rng = np.random.default_rng([int(seed), 0x3A1])
    out = {}
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:], strict=True), start=1):
        lim = np.sqrt(6.0 / a)
        out[f"fc{i}.weight"] = rng.uniform(-lim, lim, (b, a))
        out[f"fc{i}.bias"] = np.zeros(b)
    return out


def _n_layers(state: dict[str, np.ndarray]) -> int:
    n = 0
    while f"fc{n + 1}.weight" in state:
        n += 1
    if n == 0:
        raise ValueError("state holds no 'fc1.weight'")
    return n


def mlp_forward(state: dict[str, np.ndarray], x: np.ndarray, *, keep: bool = False):
    """Logits ``(B, n_classes)`` of inputs ``x`` ``(B, n_in)``; with ``keep`` also the pre-activations and
    activations of every layer."""
    h = np.asarray(x, dtype=np.float64)
    acts, pres = [h], []
    n = _n_layers(state)
    for i in range(1, n + 1):
        a = h @ state[f"fc{i}.weight"].T + state[f"fc{i}.bias"]
        pres.append(a)
        h = np.maximum(a, 0.0) if i < n else a
        acts.append(h)
    return (h, pres, acts) if keep else h


def mlp_loss_and_grads(state: dict[str, np.ndarray], x: np.ndarray, labels: np.ndarray, *,
                       hardware: HWATraining | None = None, rng: np.random.Generator | None = None
                       ) -> tuple[float, dict[str, np.ndarray]]:
    """Mean cross-entropy of a batch and its gradient for every array of ``state`` (module docstring).

    With ``hardware`` the forward pass is the hardware-aware one (its noise drawn from ``rng``)."""
    n = _n_layers(state)
    h = np.asarray(x, dtype=np.float64)
    caches, pres = [], []
    for i in range(1, n + 1):
        a, cache = analog_matmul(h, state[f"fc{i}.weight"], hardware, rng)
        a = a + state[f"fc{i}.bias"]
        caches.append(cache)
        pres.append(a)
        h = np.maximum(a, 0.0) if i < n else a
    loss, dy = masked_cross_entropy(h[:, None, :], labels)
    delta = dy[:, 0, :]
    grads = {}
    for i in range(n, 0, -1):
        dx, grads[f"fc{i}.weight"] = analog_matmul_backward(delta, caches[i - 1])
        grads[f"fc{i}.bias"] = delta.sum(axis=0)
        if i > 1:
            delta = dx * (pres[i - 2] > 0)
    return loss, grads


def mlp_accuracy(state: dict[str, np.ndarray], x: np.ndarray, labels: np.ndarray) -> float:
    """Fraction of ``x`` whose largest logit is its label."""
    return float(np.mean(np.argmax(mlp_forward(state, x), axis=1) == np.asarray(labels)))


def train_mlp(x: np.ndarray, labels: np.ndarray, *, hidden: tuple[int, ...] = (64,), n_classes: int | None = None,
              epochs: int = 60, lr: float = 3e-3, batch_size: int = 32, seed: int = 0,
              hardware: HWATraining | None = None) -> dict[str, np.ndarray]:
    """Train an MLP on ``x`` ``(N, n_in)`` and integer ``labels`` with Adam on shuffled minibatches.

    ``hardware``: hardware-aware training (module docstring; noise seeded by ``seed``).
    Returns the state dict (``fc1.weight``, ``fc1.bias``, ...).
    """
    x = np.asarray(x, dtype=np.float64)
    labels = np.asarray(labels)
    if x.ndim != 2 or labels.shape != (x.shape[0],):
        raise ValueError(f"x must be (N, n_in) and labels (N,), got {x.shape} and {labels.shape}")
    epochs = check_int_at_least("epochs", epochs, 1)
    batch_size = check_int_at_least("batch_size", batch_size, 1)
    check_positive("lr", lr)
    k = int(labels.max()) + 1 if n_classes is None else check_int_at_least("n_classes", n_classes, 1)
    state = init_mlp([x.shape[1], *hidden, k], seed)
    return train_minibatches(state, x, labels, mlp_loss_and_grads, epochs=epochs, batch_size=batch_size, lr=lr,
                             order_rng=np.random.default_rng([int(seed), 0x3A2]),
                             noise_rng=np.random.default_rng([int(seed), 0x3A3]), hardware=hardware)
