r"""Layers of an analog model: analog linear and convolution layers, and the digital operations between them.

Analog layers (:class:`AnalogLinear`, :class:`AnalogConv2d`) hold float weights until
:meth:`~memr_snn.aimc.AnalogModel` compiles them onto tiles (:class:`~memr_snn.aimc.tile.TiledMatrix`);
their bias is added digitally after the ADC (AIHWKit ``digital_bias=True``).  A convolution is
computed as a matrix product on the same tiles (im2col): every output position is one input vector
of ``C_in * kh * kw`` values, so a ``(C_out, C_in, kh, kw)`` kernel is the matrix
``(C_out, C_in * kh * kw)`` (row-major flattening of the last three axes).

Digital layers work on numpy arrays and count their operations for the energy model: ReLU,
max/average pooling, batch normalisation (per channel, axis 1; folded into the preceding analog
layer by :func:`~memr_snn.aimc.compile` when it directly follows one), flatten and argmax.

Shapes: linear ``(batch, features)``; convolution and pooling ``(batch, channels, height, width)``.
"""

from __future__ import annotations

import numpy as np

from .tile import TiledMatrix

__all__ = ["Layer", "AnalogLinear", "AnalogConv2d", "ReLU", "MaxPool2d", "AvgPool2d", "BatchNorm", "Flatten",
           "Argmax", "im2col"]


def _finite(name: str, arr: np.ndarray) -> np.ndarray:
    a = np.asarray(arr, dtype=np.float64)
    if not np.all(np.isfinite(a)):
        i = tuple(int(v) for v in np.argwhere(~np.isfinite(a))[0])
        raise ValueError(f"{name} must be finite, got {float(a[i])!r} at index {i}")
    return a


def _pos_int(name: str, v, low: int = 1, high: int = 4096) -> int:
    if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or not low <= v <= high:
        raise ValueError(f"{name} = {v!r} is outside the allowed range [{low}, {high}] (integers)")
    return int(v)


class Layer:
    """Base of all layers: a name, a forward pass over numpy arrays, a count of digital operations."""

    analog = False

    def __init__(self, name: str = "") -> None:
        self.name = name or type(self).__name__.lower()
        self.digital_ops = 0.0

    def forward(self, x: np.ndarray) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    def reset_counters(self) -> None:
        """Zero the operation counters."""
        self.digital_ops = 0.0


class _Analog(Layer):
    analog = True

    def __init__(self, weight, bias, name: str) -> None:
        super().__init__(name)
        self.weight = _finite(f"{self.name}.weight", weight)
        self.bias = None if bias is None else _finite(f"{self.name}.bias", bias)
        self.matrix: TiledMatrix | None = None
        self.vectors = 0.0
        self.overrides: dict = {}

    @property
    def n_out(self) -> int:
        """Output features (channels)."""
        return int(self.weight.shape[0])

    def matrix_weight(self) -> np.ndarray:
        """The ``(n_out, n_in)`` matrix the tiles hold."""
        return self.weight.reshape(self.n_out, -1)

    def _check_bias(self) -> None:
        if self.bias is not None and self.bias.shape != (self.n_out,):
            raise ValueError(f"{self.name}.bias must have shape ({self.n_out},), got {self.bias.shape}")

    def _mvm(self, cols: np.ndarray) -> np.ndarray:
        if self.matrix is None:
            raise RuntimeError(f"{self.name} is not compiled onto tiles: build the model with memr_snn.aimc.compile")
        y = self.matrix.matmul(cols)
        self.vectors += cols.shape[0]
        if self.bias is not None:
            y += self.bias
            self.digital_ops += y.size
        return y

    def reset_counters(self) -> None:
        """Zero the operation counters of the layer and of its tiles."""
        super().reset_counters()
        self.vectors = 0.0
        if self.matrix is not None:
            self.matrix.reset_counters()

    @property
    def macs(self) -> float:
        """Logical multiply-accumulates done so far."""
        w = self.matrix_weight()
        return self.vectors * w.shape[0] * w.shape[1]


class AnalogLinear(_Analog):
    """``y = x @ W.T + b`` on analog tiles; ``weight`` ``(n_out, n_in)``, ``bias`` ``(n_out,)`` or None."""

    def __init__(self, weight, bias=None, *, name: str = "") -> None:
        super().__init__(weight, bias, name or "linear")
        if self.weight.ndim != 2:
            raise ValueError(f"{self.name}.weight must be 2-D (n_out, n_in), got shape {self.weight.shape}")
        self._check_bias()

    @property
    def n_in(self) -> int:
        """Input features."""
        return int(self.weight.shape[1])

    def forward(self, x: np.ndarray) -> np.ndarray:
        """``x`` of shape ``(batch, n_in)``."""
        x = np.asarray(x, dtype=np.float64)
        if x.ndim != 2 or x.shape[1] != self.n_in:
            raise ValueError(f"{self.name}: input must have shape (batch, {self.n_in}), got {x.shape}")
        return self._mvm(x)


def im2col(x: np.ndarray, kh: int, kw: int, stride: int, padding: int) -> tuple[np.ndarray, int, int]:
    """Patches of ``x`` ``(B, C, H, W)`` as rows ``(B * Ho * Wo, C * kh * kw)``, and ``(Ho, Wo)``."""
    if padding:
        x = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    win = np.lib.stride_tricks.sliding_window_view(x, (kh, kw), axis=(2, 3))[:, :, ::stride, ::stride]
    b, c, ho, wo = win.shape[:4]
    cols = win.transpose(0, 2, 3, 1, 4, 5).reshape(b * ho * wo, c * kh * kw)
    return cols, ho, wo


class AnalogConv2d(_Analog):
    """2-D convolution (cross-correlation, as PyTorch) on analog tiles through im2col.

    ``weight`` ``(C_out, C_in, kh, kw)``, ``bias`` ``(C_out,)`` or None; ``stride`` and ``padding``
    (zeros) in pixels.
    """

    def __init__(self, weight, bias=None, *, stride: int = 1, padding: int = 0, name: str = "") -> None:
        super().__init__(weight, bias, name or "conv2d")
        if self.weight.ndim != 4:
            raise ValueError(f"{self.name}.weight must be 4-D (C_out, C_in, kh, kw), got shape {self.weight.shape}")
        self._check_bias()
        self.stride = _pos_int(f"{self.name}.stride", stride)
        self.padding = _pos_int(f"{self.name}.padding", padding, 0)

    def forward(self, x: np.ndarray) -> np.ndarray:
        """``x`` of shape ``(batch, C_in, H, W)``; returns ``(batch, C_out, Ho, Wo)``."""
        x = np.asarray(x, dtype=np.float64)
        c_in, kh, kw = self.weight.shape[1:]
        if x.ndim != 4 or x.shape[1] != c_in:
            raise ValueError(f"{self.name}: input must have shape (batch, {c_in}, H, W), got {x.shape}")
        if x.shape[2] + 2 * self.padding < kh or x.shape[3] + 2 * self.padding < kw:
            raise ValueError(f"{self.name}: input {x.shape[2]}x{x.shape[3]} (padding {self.padding}) is smaller "
                             f"than the kernel {kh}x{kw}")
        cols, ho, wo = im2col(x, kh, kw, self.stride, self.padding)
        y = self._mvm(cols)
        return y.reshape(x.shape[0], ho, wo, self.n_out).transpose(0, 3, 1, 2)


class ReLU(Layer):
    """``max(x, 0)``."""

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.digital_ops += x.size
        return np.maximum(x, 0.0)


class _Pool(Layer):
    def __init__(self, kernel: int, stride: int | None = None, name: str = "") -> None:
        super().__init__(name)
        self.kernel = _pos_int(f"{self.name}.kernel", kernel)
        self.stride = self.kernel if stride is None else _pos_int(f"{self.name}.stride", stride)

    def _windows(self, x: np.ndarray) -> np.ndarray:
        if x.ndim != 4 or x.shape[2] < self.kernel or x.shape[3] < self.kernel:
            raise ValueError(f"{self.name}: input must be (batch, C, H, W) with H, W >= {self.kernel}, got {x.shape}")
        self.digital_ops += x.size
        k, s = self.kernel, self.stride
        return np.lib.stride_tricks.sliding_window_view(x, (k, k), axis=(2, 3))[:, :, ::s, ::s]


class MaxPool2d(_Pool):
    """Maximum over ``kernel x kernel`` windows (stride = kernel unless given)."""

    def forward(self, x: np.ndarray) -> np.ndarray:
        return self._windows(x).max(axis=(4, 5))


class AvgPool2d(_Pool):
    """Mean over ``kernel x kernel`` windows (stride = kernel unless given)."""

    def forward(self, x: np.ndarray) -> np.ndarray:
        return self._windows(x).mean(axis=(4, 5))


class BatchNorm(Layer):
    r"""Per-channel (axis 1) inference batch normalisation.

    .. math:: y = \gamma (x - \mu) / \sqrt{\sigma^2 + \epsilon} + \beta
    """

    def __init__(self, gamma, beta, mean, var, eps: float = 1e-5, name: str = "") -> None:
        super().__init__(name or "batchnorm")
        self.gamma = _finite(f"{self.name}.gamma", gamma)
        self.beta = _finite(f"{self.name}.beta", beta)
        self.mean = _finite(f"{self.name}.mean", mean)
        self.var = _finite(f"{self.name}.var", var)
        n = self.gamma.shape
        for k in ("beta", "mean", "var"):
            if getattr(self, k).shape != n or len(n) != 1:
                raise ValueError(f"{self.name}.{k} must have shape {n} like gamma (1-D), got {getattr(self, k).shape}")
        if np.any(self.var < 0):
            raise ValueError(f"{self.name}.var must be >= 0, got {float(self.var.min())!r}")
        if not (np.isfinite(eps) and eps > 0):
            raise ValueError(f"{self.name}.eps = {eps!r} must be finite and > 0")
        self.eps = float(eps)

    @property
    def scale(self) -> np.ndarray:
        """Per-channel multiplier :math:`\\gamma / \\sqrt{\\sigma^2 + \\epsilon}`."""
        return self.gamma / np.sqrt(self.var + self.eps)

    @property
    def shift(self) -> np.ndarray:
        """Per-channel offset :math:`\\beta - \\mu \\gamma / \\sqrt{\\sigma^2 + \\epsilon}`."""
        return self.beta - self.mean * self.scale

    def forward(self, x: np.ndarray) -> np.ndarray:
        if x.ndim < 2 or x.shape[1] != self.gamma.size:
            raise ValueError(f"{self.name}: input must have {self.gamma.size} channels on axis 1, got {x.shape}")
        shape = (1, -1) + (1,) * (x.ndim - 2)
        self.digital_ops += 2 * x.size
        return x * self.scale.reshape(shape) + self.shift.reshape(shape)


class Flatten(Layer):
    """``(batch, ...) -> (batch, features)``."""

    def forward(self, x: np.ndarray) -> np.ndarray:
        return x.reshape(x.shape[0], -1)


class Argmax(Layer):
    """Index of the largest feature of every sample, ``(batch,)`` int64."""

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.digital_ops += x.size
        return np.argmax(x.reshape(x.shape[0], -1), axis=1)
