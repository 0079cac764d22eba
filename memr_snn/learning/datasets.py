"""Small built-in datasets for the learning experiments, encoded as spike trains.

:func:`load_digits_spikes` uses scikit-learn's bundled 8x8 handwritten digits (1797 images,
10 classes, pixel values 0..16; no download).  scikit-learn is imported only here, on demand
(``pip install memr_snn[datasets]``).

Encodings (per pixel, intensity ``p = value / 16`` in [0, 1], ``T`` steps of ``dt``):

* ``"rate"`` -- Bernoulli spikes: in every step a pixel spikes with probability
  ``min(1, p * max_rate * dt)``, independently (a discrete-time Poisson process), seeded
  (:func:`memr_snn.encoders.rate.bernoulli`, the Poisson rate encoder's draw);
* ``"current"`` -- deterministic: the input is the constant ``p * max_rate * dt`` every step
  (the expected value of the rate code).
"""

from __future__ import annotations

import dataclasses

import numpy as np

from .._extras import require
from .._validation import check_int_at_least, check_positive, check_probability
from ..encoders.rate import bernoulli

__all__ = ["SpikeDataset", "load_digits_spikes", "rate_encode", "CODINGS"]

CODINGS = ("rate", "current")


@dataclasses.dataclass
class SpikeDataset:
    """A classification dataset as input trains ``(N, T, n_in)`` with labels ``(N,)``."""

    x_train: np.ndarray
    """Training inputs ``(N_train, T, n_in)`` (0/1 spikes for ``"rate"``)."""
    y_train: np.ndarray
    """Training labels ``(N_train,)``."""
    x_test: np.ndarray
    """Test inputs ``(N_test, T, n_in)``."""
    y_test: np.ndarray
    """Test labels ``(N_test,)``."""
    images_train: np.ndarray
    """Training intensities in [0, 1], ``(N_train, n_in)`` (to re-encode, e.g. per epoch)."""
    images_test: np.ndarray
    """Test intensities in [0, 1], ``(N_test, n_in)``."""
    T: int
    """Steps per sample [1]."""
    dt: float
    """Time step [s]."""
    max_rate: float
    """Rate of a full-intensity pixel [Hz]."""
    coding: str
    """``"rate"`` or ``"current"``."""
    n_classes: int = 10
    """Number of classes."""


def rate_encode(images: np.ndarray, T: int, dt: float, max_rate: float, rng: np.random.Generator | None = None,
                coding: str = "rate") -> np.ndarray:
    """Encode intensities ``(N, n)`` in [0, 1] as inputs ``(N, T, n)`` (module docstring).

    ``rng`` is required for ``"rate"`` coding.
    """
    if coding not in CODINGS:
        raise ValueError(f"coding must be one of {list(CODINGS)}, got {coding!r}")
    img = np.asarray(images, dtype=np.float64)
    if img.ndim != 2:
        raise ValueError(f"images must have shape (N, n_pixels), got {img.shape}")
    check_probability("images", img)
    T = check_int_at_least("T", T, 1)
    check_positive("dt", dt, "s")
    check_positive("max_rate", max_rate, "Hz")
    p = np.minimum(1.0, img * max_rate * dt)
    if coding == "current":
        return np.repeat(p[:, None, :], T, axis=1)
    if rng is None:
        raise ValueError("rng is required for coding='rate'")
    return bernoulli(p, T, rng).astype(np.float64)


def load_digits_spikes(T: int = 20, *, dt: float = 1e-3, max_rate: float = 500.0, coding: str = "rate",
                       seed: int = 0, split_seed: int = 0, test_fraction: float = 0.25) -> SpikeDataset:
    """scikit-learn's 8x8 digits as spike trains with a fixed, seeded, stratified train/test split.

    Parameters
    ----------
    T : int
        Steps per sample.
    dt : float
        Time step [s].
    max_rate : float
        Rate of a full-intensity pixel [Hz] (``max_rate * dt`` is its spike probability per step).
    coding : str
        ``"rate"`` (Bernoulli, seeded) or ``"current"`` (deterministic); module docstring.
    seed : int
        Seed of the spike draws.
    split_seed : int
        Seed of the stratified train/test split (default 0: the same split everywhere).
    test_fraction : float
        Fraction of the 1797 samples held out for testing, in (0, 1).

    Raises
    ------
    ImportError
        If scikit-learn is not installed (the ``datasets`` extra).
    """
    load_digits = require("datasets", "sklearn.datasets", "load_digits_spikes").load_digits
    train_test_split = require("datasets", "sklearn.model_selection", "load_digits_spikes").train_test_split
    if coding not in CODINGS:
        raise ValueError(f"coding must be one of {list(CODINGS)}, got {coding!r}")
    check_int_at_least("seed", seed, 0)
    check_int_at_least("split_seed", split_seed, 0)
    if not (isinstance(test_fraction, (int, float)) and 0.0 < float(test_fraction) < 1.0):
        raise ValueError(f"test_fraction must lie in (0, 1), got {test_fraction!r}")
    digits = load_digits()
    images = digits.data.astype(np.float64) / 16.0
    labels = digits.target.astype(np.int64)
    img_tr, img_te, y_tr, y_te = train_test_split(images, labels, test_size=float(test_fraction),
                                                  random_state=int(split_seed), stratify=labels)
    rng = np.random.default_rng([int(seed), 0xD161])
    x_tr = rate_encode(img_tr, T, dt, max_rate, rng, coding)
    x_te = rate_encode(img_te, T, dt, max_rate, rng, coding)
    return SpikeDataset(x_train=x_tr, y_train=y_tr, x_test=x_te, y_test=y_te, images_train=img_tr,
                        images_test=img_te, T=int(T), dt=float(dt), max_rate=float(max_rate), coding=coding)
