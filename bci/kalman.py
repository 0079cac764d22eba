"""Velocity Kalman filters: full (Wu et al. 2006), steady state (DARE gain), ReFIT (Gilja et al. 2012).

The state is the cursor velocity :math:`\\mathbf v_t` [m/s]; the observation is the spike-count
vector :math:`\\mathbf z_t` of one bin:

.. math::

    \\mathbf v_t = A\\,\\mathbf v_{t-1} + \\mathbf w_t,\\quad \\mathbf w_t\\sim N(0, W); \\qquad
    \\mathbf z_t = H\\,\\mathbf v_t + \\mathbf d + \\mathbf q_t,\\quad \\mathbf q_t\\sim N(0, Q).

``fit`` estimates :math:`A, W` by least squares on consecutive velocities and :math:`H, \\mathbf d, Q`
by least squares of the counts on the velocity (Wu et al. 2006, "Bayesian population decoding of
motor cortical activity using a Kalman filter", Neural Comput. 18:80).  Each bin

.. math::

    \\mathbf v^- = A\\mathbf v,\\quad P^- = A P A^T + W,\\quad
    K = P^- H^T (H P^- H^T + Q)^{-1},\\quad
    \\mathbf v = \\mathbf v^- + K(\\mathbf z - \\mathbf d - H\\mathbf v^-),\\quad P = (I - K H) P^-,

computed in information form (:math:`P = ((P^-)^{-1} + H^T Q^{-1} H)^{-1}`, :math:`K = P H^T Q^{-1}`),
so a bin costs O(n_units) instead of an ``n_units``-square solve.  :class:`SteadyStateKalmanFilter`
uses the limit gain from the discrete algebraic Riccati equation (``scipy.linalg.solve_discrete_are``);
:class:`ReFITKalmanFilter` refits on closed-loop data whose decoded velocities are re-aimed at the
target (:func:`reestimate_intention`).
"""

from __future__ import annotations

import math

import numpy as np
import scipy.linalg

from memr_snn._validation import check_index_array, check_nonnegative, check_probability

from ._checks import as_kinematics, check_pair
from .decoders import Decoder

__all__ = ["KalmanFilter", "SteadyStateKalmanFilter", "ReFITKalmanFilter", "reestimate_intention", "rescale_speed"]


class KalmanFilter(Decoder):
    """Velocity Kalman filter decoder (Wu et al. 2006).

    Parameters
    ----------
    q_reg : float
        Ridge added to the diagonal of Q, relative to its mean diagonal (keeps Q invertible when a
        channel is silent in the training data).
    memory : float
        Weight in [0, 1] of the old sufficient statistics when ``partial_fit`` adds new data
        (1: plain accumulation; 0: the new data alone).
    track_innovation : bool
        Compute the normalized innovation squared of every bin (:attr:`last_nis_`), O(n_units^2).

    Attributes
    ----------
    A_, W_ : (2, 2) ndarray
        State transition and its noise covariance.
    H_ : (n_units, 2) ndarray
        Observation matrix [counts per (m/s)].
    d_ : (n_units,) ndarray
        Count offset per bin.
    Q_ : (n_units, n_units) ndarray
        Observation noise covariance.
    state_ : (2,) ndarray
        Current velocity estimate [m/s]; ``cov_`` its covariance.
    last_nis_ : float
        Normalized innovation squared of the last bin (if ``track_innovation``), chi-square with
        ``n_units`` degrees of freedom under the model.
    """

    def __init__(self, q_reg: float = 1e-3, memory: float = 1.0, track_innovation: bool = False) -> None:
        self.q_reg = q_reg
        self.memory = memory
        self.track_innovation = track_innovation

    # -- fitting ----------------------------------------------------------------------------
    @classmethod
    def from_matrices(cls, A, W, H, Q, d=None, **hyper) -> KalmanFilter:
        """A filter with given model matrices (``d`` defaults to 0), e.g. for a hand-computed case."""
        kf = cls(**hyper)
        kf._set_model(*(np.array(m, dtype=np.float64) for m in (A, W, H, Q)),
                      np.zeros(np.shape(H)[0]) if d is None else np.array(d, dtype=np.float64))
        return kf

    def _set_model(self, A, W, H, Q, d) -> None:
        n = H.shape[0]
        if A.shape != (2, 2) or W.shape != (2, 2) or H.shape != (n, 2) or Q.shape != (n, n) or d.shape != (n,):
            raise ValueError(f"model shapes must be A (2, 2), W (2, 2), H (n, 2), Q (n, n), d (n,), got "
                             f"{A.shape}, {W.shape}, {H.shape}, {Q.shape}, {d.shape}")
        self.A_, self.W_, self.H_, self.Q_, self.d_ = A, W, H, Q, d
        self.n_units_ = n
        Qi = np.linalg.inv(Q)
        self._Qi = Qi if self.track_innovation else None
        self._HtQi = H.T @ Qi
        self._HtQiH = self._HtQi @ H
        self._HtQid = self._HtQi @ d
        self._solve()
        self.reset()

    def _solve(self) -> None:
        """Hook for subclasses: derived quantities after the model changed."""

    def fit(self, X, y) -> KalmanFilter:
        """Fit from counts ``(n_bins, n_units)`` and velocities ``(n_bins, 2)`` [m/s]; returns self."""
        X, y = check_pair(X, y)
        if X.shape[0] < 3:
            raise ValueError(f"X must hold at least 3 bins to fit a Kalman filter, got {X.shape[0]}")
        self._stats = None
        self.n_units_ = X.shape[1]
        return self.partial_fit(X, y)

    def partial_fit(self, X, y) -> KalmanFilter:
        """Add ``(X, y)`` to the sufficient statistics (old ones weighted by ``memory``) and refit."""
        check_nonnegative("q_reg", self.q_reg)
        check_probability("memory", self.memory)
        if not hasattr(self, "n_units_"):
            return self.fit(X, y)
        X, y = check_pair(X, y, self.n_units_)
        yt = np.column_stack([y, np.ones(len(y))])
        new = {"zz": X.T @ X, "zy": X.T @ yt, "yy": yt.T @ yt, "n": float(len(y)),
               "s11": y[:-1].T @ y[:-1], "s10": y[1:].T @ y[:-1], "s00": y[1:].T @ y[1:], "m": len(y) - 1.0}
        old = getattr(self, "_stats", None)
        if old is not None:
            new = {k: self.memory * old[k] + new[k] for k in new}
        self._stats = new
        s = new
        A = np.linalg.solve(s["s11"].T, s["s10"].T).T
        W = (s["s00"] - A @ s["s10"].T) / s["m"]
        C = np.linalg.solve(s["yy"].T, s["zy"].T).T  # (n_units, 3): [H d]
        Q = (s["zz"] - C @ s["zy"].T) / s["n"]
        Q = 0.5 * (Q + Q.T)
        diag = np.mean(np.diag(Q))
        Q = Q + self.q_reg * (diag if diag > 0 else 1.0) * np.eye(len(Q))
        W = 0.5 * (W + W.T) + 1e-12 * np.eye(2)
        self._set_model(A, W, C[:, :2], Q, C[:, 2])
        return self

    def with_channels(self, keep) -> KalmanFilter:
        """The filter restricted to the channels ``keep`` (same A, W; rows of H, d; block of Q).

        For the least-squares fit this is exactly the filter fitted on those channels alone: each
        channel's regression is separate and Q's block is the residual covariance of those channels.
        """
        self._check_fitted()
        keep = check_index_array("keep", keep, self.n_units_)
        kf = type(self).__new__(type(self))
        kf.__dict__.update({k: v for k, v in self.get_params().items()})
        kf._set_model(self.A_, self.W_, self.H_[keep], self.Q_[np.ix_(keep, keep)], self.d_[keep])
        return kf

    def get_params(self) -> dict:
        """The hyperparameters (scikit-learn convention)."""
        return {"q_reg": self.q_reg, "memory": self.memory, "track_innovation": self.track_innovation}

    # -- filtering --------------------------------------------------------------------------
    def reset(self) -> None:
        """Velocity at rest and known (zero covariance)."""
        self._check_fitted()
        self.state_ = np.zeros(2)
        self.cov_ = np.zeros((2, 2))
        self.last_nis_ = float("nan")

    def _get_state(self):
        return self.state_.copy(), self.cov_.copy(), self.last_nis_

    def _set_state(self, state) -> None:
        self.state_, self.cov_, self.last_nis_ = state

    @property
    def gain_(self) -> np.ndarray:
        """Kalman gain of the last bin, ``(2, n_units)``."""
        return self.cov_ @ self._HtQi

    def step(self, x) -> np.ndarray:
        """Predict and update with one bin of counts ``(n_units,)``; returns the velocity ``(2,)`` [m/s]."""
        z = self._check_bin(x)
        A = self.A_
        v_prior = A @ self.state_
        P_prior = A @ self.cov_ @ A.T + self.W_
        P = np.linalg.inv(np.linalg.inv(P_prior) + self._HtQiH)
        u = self._HtQi @ z - self._HtQid - self._HtQiH @ v_prior  # H^T Q^-1 (z - d - H v_prior)
        self.state_ = v_prior + P @ u
        self.cov_ = P
        if self.track_innovation:
            r = z - self.d_ - self.H_ @ v_prior
            self.last_nis_ = float(r @ (self._Qi @ r) - u @ (P @ u))
        return self.state_.copy()


class SteadyStateKalmanFilter(KalmanFilter):
    """Kalman filter with the constant limit gain :math:`K_\\infty` (same fitting as the full filter).

    The prior covariance :math:`P_\\infty^-` solves the discrete algebraic Riccati equation
    :math:`P = APA^T - APH^T(HPH^T + Q)^{-1}HPA^T + W` (``solve_discrete_are(A.T, H.T, W, Q)``);
    then :math:`K_\\infty = P_\\infty^- H^T (H P_\\infty^- H^T + Q)^{-1}` and each bin is
    :math:`\\mathbf v \\leftarrow (I - K_\\infty H) A \\mathbf v + K_\\infty (\\mathbf z - \\mathbf d)`
    (Malik et al. 2011, "Efficient decoding with steady-state Kalman filter in neural interface
    systems", IEEE TNSRE 19:25).
    """

    def _solve(self) -> None:
        P_prior = scipy.linalg.solve_discrete_are(self.A_.T, self.H_.T, self.W_, self.Q_)
        P_post = np.linalg.inv(np.linalg.inv(P_prior) + self._HtQiH)
        self.prior_cov_ = P_prior
        self.steady_cov_ = P_post
        self.steady_gain_ = P_post @ self._HtQi  # (2, n_units)
        self._F = (np.eye(2) - self.steady_gain_ @ self.H_) @ self.A_
        self._Kd = self.steady_gain_ @ self.d_

    @property
    def gain_(self) -> np.ndarray:
        return self.steady_gain_

    def step(self, x) -> np.ndarray:
        z = self._check_bin(x)
        v_prior = self.A_ @ self.state_
        self.state_ = self._F @ self.state_ + self.steady_gain_ @ z - self._Kd
        self.cov_ = self.steady_cov_
        if self.track_innovation:
            r = z - self.d_ - self.H_ @ v_prior
            u = self._HtQi @ r
            self.last_nis_ = float(r @ (self._Qi @ r) - u @ (self.steady_cov_ @ u))
        return self.state_.copy()


def reestimate_intention(decoded, cursor, target, in_target) -> np.ndarray:
    """ReFIT intention estimates (Gilja et al. 2012, Nat. Neurosci. 15:1752).

    The user is assumed to intend, in every bin, to move straight at the target at the decoded
    speed, and to intend zero velocity while the cursor is inside the target (holding):

    .. math::

        \\tilde{\\mathbf v}_t = \\lVert\\hat{\\mathbf v}_t\\rVert
            \\frac{\\mathbf g_t - \\mathbf p_t}{\\lVert\\mathbf g_t - \\mathbf p_t\\rVert}
        \\;\\text{outside the target},\\qquad \\tilde{\\mathbf v}_t = 0 \\;\\text{inside}.

    Parameters
    ----------
    decoded : (n_bins, 2) array_like
        Decoded velocity of each bin [m/s].
    cursor : (n_bins, 2) array_like
        Cursor position when the bin's velocity was decoded [m].
    target : (n_bins, 2) array_like
        The target of the bin's trial [m].
    in_target : (n_bins,) array_like of bool
        Whether the cursor was inside the target.

    Returns
    -------
    (n_bins, 2) ndarray
        Re-estimated intended velocities [m/s].
    """
    v = as_kinematics("decoded", decoded)
    n = v.shape[0]
    p = as_kinematics("cursor", cursor, n, "m")
    g = as_kinematics("target", target, n, "m")
    hold = np.asarray(in_target)
    if hold.shape != (n,) or hold.dtype != np.bool_:
        raise ValueError(f"in_target must be a boolean array of shape ({n},), got {hold.dtype} {hold.shape}")
    to_target = g - p
    dist = np.linalg.norm(to_target, axis=1)
    speed = np.linalg.norm(v, axis=1)
    out = np.where(dist[:, None] > 0, to_target * (speed / np.where(dist > 0, dist, 1.0))[:, None], 0.0)
    out[hold] = 0.0
    return out


class ReFITKalmanFilter(KalmanFilter):
    """ReFIT Kalman filter: a velocity Kalman filter refitted on re-aimed closed-loop data.

    :meth:`refit` turns a closed-loop block's decoded velocities into intention estimates
    (:func:`reestimate_intention`) and refits on them.  ``memory`` defaults to 0: as in Gilja et
    al. (2012) the refit uses the closed-loop data alone.  (The other ReFIT change, treating the
    cursor position as known, holds by construction for this velocity-only state.)
    """

    def __init__(self, q_reg: float = 1e-3, memory: float = 0.0, track_innovation: bool = False) -> None:
        super().__init__(q_reg=q_reg, memory=memory, track_innovation=track_innovation)

    def refit(self, X, decoded, cursor, target, in_target) -> ReFITKalmanFilter:
        """Refit on closed-loop counts ``X`` with intentions re-estimated from the decoded velocities."""
        self._check_fitted()
        X, _ = check_pair(X, decoded, self.n_units_)
        return self.partial_fit(X, reestimate_intention(decoded, cursor, target, in_target))


def rescale_speed(intended, in_target, speed: float) -> np.ndarray:
    r"""Intentions rescaled so that their RMS speed over the bins outside the target equals ``speed``.

    ReFIT's intention estimate (:func:`reestimate_intention`) takes each bin's speed from the
    decoder.  When the decoder has lost its gain (after a unit loss it barely moves the cursor while
    the user pushes at full speed) the re-aimed intentions inherit the small speeds and a decoder
    refitted on them stays slow.  This keeps their directions and their relative speeds (slowing near
    the target, zero while holding) and gives them the calibration's speed scale:

    .. math::

        \tilde{\mathbf v}'_t = \tilde{\mathbf v}_t\,
            \frac{s}{\sqrt{\langle \lVert\tilde{\mathbf v}_t\rVert^2 \rangle_{t \notin \text{target}}}}

    with ``s`` e.g. the RMS speed of the moving bins of the calibration data.  Intentions whose
    speeds outside the target are all zero (or no bin outside the target) are returned unchanged.

    Parameters
    ----------
    intended : (n_bins, 2) array_like
        Re-estimated intended velocities [m/s].
    in_target : (n_bins,) array_like of bool
        Whether the cursor was inside the target (the hold bins; left out of the RMS).
    speed : float
        The RMS speed to rescale to [m/s], > 0.

    Returns
    -------
    (n_bins, 2) ndarray
    """
    v = as_kinematics("intended", intended)
    hold = np.asarray(in_target)
    if hold.shape != (v.shape[0],) or hold.dtype != np.bool_:
        raise ValueError(f"in_target must be a boolean array of shape ({v.shape[0]},), got {hold.dtype} {hold.shape}")
    if not (isinstance(speed, (int, float, np.floating)) and math.isfinite(speed) and speed > 0):
        raise ValueError(f"speed must be a finite number > 0 [m/s], got {speed!r}")
    moving = v[~hold]
    rms = float(np.sqrt(np.mean(np.sum(moving ** 2, axis=1)))) if moving.size else 0.0
    return v * (float(speed) / rms) if rms > 0 else v.copy()
