r"""Hardware-aware training of dense and convolutional layers for analog in-memory computing (no torch).

:class:`HWATraining` sets what the forward pass of a training step does to every analog product
:math:`y = x W^\top` (a dense layer, or a convolution as im2col), after AIHWKit's hardware-aware
training (``InferenceRPUConfig``: ``modifier`` = ``WeightModifierParameter``, ``clip`` =
``WeightClipParameter``, ``forward`` = ``IOParameters``; Rasch et al., Nat. Commun. 14, 5282, 2023),
in the normalised units of a tile (the largest weight of a layer reads 1, the DAC range is 1):

1. **weight noise** (``modifier``): with :math:`s_w = \max|W|`, additive
   :math:`\tilde W = W + \sigma_w s_w \xi` (AIHWKit ``WeightModifierType.ADD_NORMAL``, ``std_dev``
   relative to the largest weight) or multiplicative :math:`\tilde W = W (1 + \sigma_w \xi)`
   (``MULT_NORMAL``), :math:`\xi \sim \mathcal N(0, 1)` drawn per weight and minibatch;
2. **DAC** (``forward.inp_res``, ``inp_bound``, ``noise_management = ABS_MAX``): every input vector is
   divided by its largest magnitude :math:`s_x`, rounded to the step :math:`2 / (2^{b_{in}} - 2)` and
   clipped to :math:`\pm 1`;
3. the product in normalised units :math:`u = \hat x (\tilde W / s_w)^\top` plus Gaussian output
   noise of std ``out_noise`` (``forward.out_noise``);
4. **ADC** (``forward.out_res``, ``out_bound``): :math:`u` clipped to :math:`\pm` ``adc_bound`` and
   rounded to the step :math:`2\,\text{bound} / (2^{b_{out}} - 2)`; the output is :math:`y = u\,s_w s_x`.

The backward pass treats the rounding and clipping as the identity (straight-through estimator,
Bengio et al. 2013) and the noise as a constant:
:math:`\partial L/\partial W = \delta^\top \hat x s_x`, :math:`\partial L/\partial x = \delta \tilde W`
(the gradient reaches the float weights :math:`W`, as AIHWKit's modifier does).  After every optimiser
step, **weight clipping** (``clip``, ``WeightClipType.LAYER_GAUSSIAN``) sets every analog weight array to
:math:`\mathrm{clip}(W, \pm c\,\mathrm{std}(W))` with ``clip_sigma`` :math:`c`, so that a few large
weights do not set the tile range :math:`s_w` for all (:func:`clip_weights`).

The weight-noise magnitude of a device is measured by :func:`memr_snn.aimc.training.hwa_for_device`
(the mapped weights' error at an age after programming, through the device layer); this module only
takes the number.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np

from .snn import Adam

__all__ = ["HWATraining", "NOISE_TYPES", "analog_matmul", "analog_matmul_backward", "clip_weights", "train_minibatches"]

NOISE_TYPES = ("additive", "multiplicative")


@dataclasses.dataclass(frozen=True)
class HWATraining:
    """What the training forward pass does to every analog product (module docstring); all off by default."""

    weight_noise: float = 0.0
    """Std of the weight noise [1], relative to the layer's ``max|W|`` (additive) or to each weight
    (multiplicative), 0-1."""
    noise_type: str = "additive"
    """``"additive"`` (AIHWKit ``ADD_NORMAL``) or ``"multiplicative"`` (``MULT_NORMAL``)."""
    clip_sigma: float = 0.0
    """Clip every analog weight array to ``±clip_sigma * std(W)`` after each step [1], 0 (off) or 1-10."""
    dac_bits: int = 0
    """Input resolution [bit], 0 (off) or 2-16 (AIHWKit ``inp_res = 1 / (2**bits - 2)``)."""
    adc_bits: int = 0
    """Output resolution [bit], 0 (off) or 2-16 (AIHWKit ``out_res = 1 / (2**bits - 2)``)."""
    adc_bound: float = 12.0
    """Output range of the ADC in normalised units [1], > 0 (AIHWKit ``out_bound``)."""
    out_noise: float = 0.0
    """Std of the Gaussian output noise in normalised units [1], 0-1 (AIHWKit ``out_noise``)."""

    def __post_init__(self) -> None:
        def num(name, lo, hi):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) or not lo <= v <= hi:
                raise ValueError(f"hardware.{name} = {v!r} is outside the allowed range [{lo}, {hi}]")

        num("weight_noise", 0.0, 1.0)
        num("out_noise", 0.0, 1.0)
        num("adc_bound", 1e-6, 1e6)
        if self.noise_type not in NOISE_TYPES:
            raise ValueError(f"hardware.noise_type = {self.noise_type!r} is not one of {list(NOISE_TYPES)}")
        c = self.clip_sigma
        if isinstance(c, bool) or not isinstance(c, (int, float)) or not (c == 0 or 1.0 <= c <= 10.0):
            raise ValueError(f"hardware.clip_sigma = {c!r} is outside the allowed range 0 (off) or [1, 10]")
        for name in ("dac_bits", "adc_bits"):
            b = getattr(self, name)
            if isinstance(b, bool) or not isinstance(b, (int, np.integer)) or not (b == 0 or 2 <= b <= 16):
                raise ValueError(f"hardware.{name} = {b!r} [bit] is outside the allowed range 0 (off) or [2, 16]")

    @property
    def active(self) -> bool:
        """True when the forward pass differs from the float product."""
        return bool(self.weight_noise or self.dac_bits or self.adc_bits or self.out_noise)

    def to_dict(self) -> dict:
        """JSON-ready fields."""
        return dataclasses.asdict(self)


def _quantize(v: np.ndarray, bits: int, bound: float) -> np.ndarray:
    step = 2.0 * bound / (2 ** int(bits) - 2)
    return np.clip(np.round(v / step) * step, -bound, bound)


def analog_matmul(x: np.ndarray, w: np.ndarray, hw: HWATraining | None, rng: np.random.Generator | None
                  ) -> tuple[np.ndarray, tuple]:
    """``x @ w.T`` (``x`` ``(B, n_in)``, ``w`` ``(n_out, n_in)``) as the training forward pass of ``hw``.

    Returns the output ``(B, n_out)`` and the cache of :func:`analog_matmul_backward`.  ``hw`` None or
    inactive: the float product.
    """
    if hw is None or not hw.active:
        return x @ w.T, (x, w)
    s_w = float(np.abs(w).max())
    if s_w == 0.0:
        return np.zeros((x.shape[0], w.shape[0])), (x, w)
    if hw.weight_noise:
        xi = rng.standard_normal(w.shape)
        w = w + hw.weight_noise * s_w * xi if hw.noise_type == "additive" else w * (1.0 + hw.weight_noise * xi)
    s_x = np.abs(x).max(axis=1, keepdims=True)
    s_x = np.where(s_x > 0, s_x, 1.0)
    u_in = x / s_x
    if hw.dac_bits:
        u_in = _quantize(u_in, hw.dac_bits, 1.0)
    u = u_in @ (w / s_w).T
    if hw.out_noise:
        u = u + hw.out_noise * rng.standard_normal(u.shape)
    if hw.adc_bits:
        u = _quantize(u, hw.adc_bits, hw.adc_bound)
    return u * (s_w * s_x), (u_in * s_x, w)


def analog_matmul_backward(dy: np.ndarray, cache: tuple) -> tuple[np.ndarray, np.ndarray]:
    """Gradients ``(dL/dx, dL/dw)`` of :func:`analog_matmul` for ``dL/dy`` (straight-through, module docstring)."""
    x_used, w_used = cache
    return dy @ w_used, dy.T @ x_used


def clip_weights(w: np.ndarray, hw: HWATraining | None) -> np.ndarray:
    """``w`` clipped in place to ``±clip_sigma * std(w)`` (AIHWKit ``LAYER_GAUSSIAN``); unchanged when off."""
    if hw is not None and hw.clip_sigma:
        c = hw.clip_sigma * float(w.std())
        np.clip(w, -c, c, out=w)
    return w


def train_minibatches(state: dict[str, np.ndarray], x: np.ndarray, labels: np.ndarray, loss_and_grads, *,
                      epochs: int, batch_size: int, lr: float, order_rng: np.random.Generator,
                      noise_rng: np.random.Generator, hardware: HWATraining | None) -> dict[str, np.ndarray]:
    """Adam on shuffled minibatches, updating ``state`` in place (the loop of the MLP and CNN trainers).

    ``loss_and_grads(state, x, labels, hardware=, rng=)`` returns ``(loss, grads)`` with a gradient for every
    entry of ``state``; after each step every ``*.weight`` is clipped by :func:`clip_weights`.
    """
    opt = Adam(lr=lr)
    for _ in range(epochs):
        order = order_rng.permutation(x.shape[0])
        for s in range(0, x.shape[0], batch_size):
            idx = order[s:s + batch_size]
            _, grads = loss_and_grads(state, x[idx], labels[idx], hardware=hardware, rng=noise_rng)
            opt.tick()
            for name in state:  # grads may hold more (the CNN's input gradient)
                state[name] += opt.delta(name, grads[name])
                if name.endswith(".weight"):
                    clip_weights(state[name], hardware)
    return state
