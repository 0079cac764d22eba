"""Decoders share one interface (scikit-learn estimator conventions), so the runner can swap them.

* ``fit(X, y)`` with spike counts ``X`` ``(n_bins, n_units)`` and velocities ``y`` ``(n_bins, 2)``
  [m/s] returns ``self``; fitted attributes end in ``_``; hyperparameters are stored unchanged.
* ``step(x)`` decodes one bin ``(n_units,)`` in closed loop and updates the internal state;
  ``predict(X)`` decodes a sequence from the reset state (``reset`` then ``step`` per bin, without
  changing the decoder's own state).
* ``partial_fit(X, y)`` adds data to the sufficient statistics and refits (online learning).
* ``reset()`` puts the filter state back to rest.

:class:`WienerFilter` is the linear (ridge) filter over a window of past bins; the Kalman family is
in :mod:`memr_snn.bci.kalman`.
"""

from __future__ import annotations

import numpy as np

from memr_snn._validation import check_int_at_least, check_nonnegative

from ._checks import as_counts, check_pair

__all__ = ["Decoder", "WienerFilter", "NotFittedError"]


class NotFittedError(RuntimeError):
    """A decoder was used before ``fit``."""


class Decoder:
    """Base of the decoders: the shared ``predict`` and the fitted-state checks."""

    #: number of units seen by fit (set by fit)
    n_units_: int

    def _check_fitted(self) -> None:
        if not hasattr(self, "n_units_"):
            raise NotFittedError(f"{type(self).__name__} is not fitted: call fit(X, y) first")

    def _check_bin(self, x) -> np.ndarray:
        self._check_fitted()
        arr = np.asarray(x, dtype=np.float64)
        if arr.shape != (self.n_units_,):
            raise ValueError(f"x must be one bin of counts, shape ({self.n_units_},), got shape {arr.shape}")
        return arr

    def fit(self, X, y) -> Decoder:  # pragma: no cover - interface
        raise NotImplementedError

    def partial_fit(self, X, y) -> Decoder:  # pragma: no cover - interface
        raise NotImplementedError

    def reset(self) -> None:  # pragma: no cover - interface
        raise NotImplementedError

    def step(self, x) -> np.ndarray:  # pragma: no cover - interface
        raise NotImplementedError

    def _get_state(self):  # pragma: no cover - interface
        raise NotImplementedError

    def _set_state(self, state) -> None:  # pragma: no cover - interface
        raise NotImplementedError

    def predict(self, X) -> np.ndarray:
        """Decode ``X`` ``(n_bins, n_units)`` bin by bin from the reset state; returns ``(n_bins, 2)`` [m/s].

        The decoder's own filter state is left as it was.
        """
        self._check_fitted()
        X = as_counts("X (spike counts)", X, self.n_units_)
        saved = self._get_state()
        try:
            self.reset()
            return np.array([self.step(x) for x in X])
        finally:
            self._set_state(saved)


class WienerFilter(Decoder):
    """Linear (Wiener) filter: velocity = ridge regression on the counts of the last ``n_lags`` bins.

    .. math::

        \\hat{\\mathbf v}_t = \\mathbf b + \\sum_{k=0}^{L-1} W_k\\,\\mathbf z_{t-k}

    fitted by ridge-regularised least squares (Warland et al. 1997; Serruya et al. 2002).  Before
    ``n_lags`` bins have been seen after a reset, the missing bins count as the training mean.

    Parameters
    ----------
    n_lags : int
        Bins of history (1 = the current bin only).
    alpha : float
        Ridge penalty, relative to the mean diagonal of the design's Gram matrix.
    """

    def __init__(self, n_lags: int = 5, alpha: float = 1e-3) -> None:
        self.n_lags = n_lags
        self.alpha = alpha

    def _lagged(self, X: np.ndarray, fill: np.ndarray) -> np.ndarray:
        L = self.n_lags
        padded = np.vstack([np.repeat(fill[None], L - 1, axis=0), X])
        cols = [padded[L - 1 - k: L - 1 - k + X.shape[0]] for k in range(L)]
        return np.hstack(cols + [np.ones((X.shape[0], 1))])

    def fit(self, X, y) -> WienerFilter:
        """Fit from counts ``(n_bins, n_units)`` and velocities ``(n_bins, 2)`` [m/s]; returns self."""
        check_int_at_least("n_lags", self.n_lags, 1)
        check_nonnegative("alpha", self.alpha)
        X, y = check_pair(X, y)
        for name in ("gram_", "cross_"):
            self.__dict__.pop(name, None)
        self.n_units_ = X.shape[1]
        self.mean_counts_ = X.mean(axis=0)
        return self.partial_fit(X, y)

    def partial_fit(self, X, y) -> WienerFilter:
        """Add ``(X, y)`` to the normal equations and re-solve (fits first if not fitted)."""
        if not hasattr(self, "n_units_"):
            return self.fit(X, y)
        X, y = check_pair(X, y, self.n_units_)
        D = self._lagged(X, self.mean_counts_)
        if not hasattr(self, "gram_"):
            self.gram_ = np.zeros((D.shape[1], D.shape[1]))
            self.cross_ = np.zeros((D.shape[1], 2))
        self.gram_ += D.T @ D
        self.cross_ += D.T @ y
        ridge = self.alpha * np.trace(self.gram_) / self.gram_.shape[0]
        reg = ridge * np.eye(self.gram_.shape[0])
        reg[-1, -1] = 0.0  # the intercept is not penalised
        self.coef_ = np.linalg.solve(self.gram_ + reg, self.cross_)  # (n_lags*n_units + 1, 2)
        self.reset()
        return self

    def reset(self) -> None:
        self._check_fitted()
        self._buffer = np.repeat(self.mean_counts_[None], self.n_lags, axis=0)

    def _get_state(self):
        return self._buffer.copy()

    def _set_state(self, state) -> None:
        self._buffer = state

    def step(self, x) -> np.ndarray:
        """Decode one bin of counts ``(n_units,)``; returns the velocity ``(2,)`` [m/s]."""
        x = self._check_bin(x)
        self._buffer = np.roll(self._buffer, 1, axis=0)
        self._buffer[0] = x
        return self._buffer.ravel() @ self.coef_[:-1] + self.coef_[-1]
