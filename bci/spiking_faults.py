r"""Fault-aware mapping of weights onto a differential crossbar: what each pair can hold, and how to ask for it.

The per-device table of a :class:`~memr_snn.devices.CrossbarState` gives every device's own
bounds ``g_min_dev``, ``g_max_dev`` (device-to-device spread) and its fault code (``fault``:
``+1`` stuck ON, ``-1`` stuck OFF, ``0`` healthy; stuck devices hold their conductance ``g``).
A synapse of a differential crossbar is the pair :math:`w = k (G^+ - G^-)`.  The crossbar maps a
requested weight :math:`w` to the targets :math:`G^\pm = g_{min} + \max(\pm w, 0)/k` (nominal
:math:`g_{min}`), each clipped to its own device's range, so with :math:`c^\pm = \mathrm{clip}(g_{min},
l^\pm, h^\pm)` (:math:`l, h` a device's bounds; both the stuck conductance for a stuck device) the
pair can deliver exactly

.. math::

    w \in [\,k (c^+ - h^-),\; k (h^+ - c^-)\,]

(:func:`synapse_bounds`), a single value when both devices are stuck, a one-signed interval when
one is (a stuck-OFF :math:`G^+` leaves only :math:`w \le k (c^+ - c^-)`), and an interval shifted by
:math:`k (c^+ - c^-)` at :math:`w = 0` when a device's own :math:`g_{min}` lies above the nominal one.
:func:`request_for` inverts that map: the weight to request so that the pair delivers a wanted
weight inside its interval (the offset of the other device compensated), up to each device's level
grid and the program-and-verify tolerance.  :func:`remap_columns` assigns trained output neurons to
physical columns so that the wanted weights fall inside the intervals as far as possible (a linear
assignment, :func:`scipy.optimize.linear_sum_assignment`).

Used by :class:`~memr_snn.bci.spiking.SpikingCrossbarDecoder` (``fault_aware=True``): after the
first programming it reads this table and retrains its input weights with every weight projected
onto its interval after each optimizer step (:func:`memr_snn.learning.surrogate.train`,
``constrain``), so the stuck devices stay what they are and the free weights adapt around them.
"""

from __future__ import annotations

import numpy as np

__all__ = ["synapse_bounds", "request_for", "remap_columns", "stuck_synapses", "bounded_ridge",
           "needs_mapping"]


def _pair_tables(cb) -> tuple[np.ndarray, np.ndarray]:
    """Each device's low and high conductance [S], stuck devices pinned at their conductance."""
    if not cb.differential:
        raise ValueError(f"crossbar {cb.name!r}: fault-aware mapping needs encoding='differential', "
                         f"got {cb.spec.encoding!r}")
    lo = np.array(cb.g_min_dev, dtype=np.float64)
    hi = np.array(cb.g_max_dev, dtype=np.float64)
    stuck = np.asarray(cb.fault) != 0
    g = np.asarray(cb.g, dtype=np.float64)
    lo[stuck] = g[stuck]
    hi[stuck] = g[stuck]
    return lo, hi


def stuck_synapses(cb) -> np.ndarray:
    """Boolean ``(n_synapses,)``: synapses with at least one stuck device (from the crossbar's fault table)."""
    f = np.asarray(cb.fault).reshape(-1, 2)
    return np.any(f != 0, axis=1)


def needs_mapping(cb, wanted) -> bool:
    """True unless the crossbar can hold ``wanted`` exactly as the plain mapping writes it: no stuck device, no
    device whose own ``g_min`` lies above the nominal one, every wanted weight inside its pair's range."""
    if stuck_synapses(cb).any() or np.any(np.asarray(cb.g_min_dev) > float(cb.device.g_min)):
        return True
    lo, hi = synapse_bounds(cb)
    w = np.asarray(wanted, dtype=np.float64).ravel()
    return bool(np.any(w < lo) or np.any(w > hi))


def synapse_bounds(cb) -> tuple[np.ndarray, np.ndarray]:
    """The weights each synapse of a differential crossbar can deliver, ``(lo, hi)`` per synapse (CSR order).

    In the crossbar's weight units (module docstring).  Reads add drift, relaxation and read noise
    on top; program-and-verify lands within its tolerance; targets are rounded to the level grid.
    """
    lo, hi = _pair_tables(cb)
    g0 = float(cb.device.g_min)
    k = float(cb.scale) * float(cb.polarity)
    lp, lm, hp, hm = lo[0::2], lo[1::2], hi[0::2], hi[1::2]
    cp, cm = np.clip(g0, lp, hp), np.clip(g0, lm, hm)
    return k * (cp - hm), k * (hp - cm)


def request_for(cb, wanted) -> np.ndarray:
    """Weights to program (``projection.weights = ...``) so that each pair delivers ``wanted`` (clipped
    to its :func:`synapse_bounds`), compensating the other device's offset from the nominal ``g_min``.

    With ideal devices (every device's range the nominal one, no faults) the request equals ``wanted``.
    """
    w = np.asarray(wanted, dtype=np.float64).ravel()
    if w.size != cb.n_synapses:
        raise ValueError(f"wanted has {w.size} values but crossbar {cb.name!r} holds {cb.n_synapses} synapses")
    lo_w, hi_w = synapse_bounds(cb)
    w = np.clip(w, lo_w, hi_w)
    lo, hi = _pair_tables(cb)
    g0 = float(cb.device.g_min)
    k = float(cb.scale) * float(cb.polarity)
    lp, lm, hp, hm = lo[0::2], lo[1::2], hi[0::2], hi[1::2]
    cp, cm = np.clip(g0, lp, hp), np.clip(g0, lm, hm)
    w0 = k * (cp - cm)  # what the pair holds for a request of 0
    up = w >= w0
    g_plus = np.clip(cm + w / k, lp, hp)  # G- stays at c-, G+ carries the weight
    g_minus = np.clip(cp - w / k, lm, hm)  # G+ stays at c+, G- carries it
    req = np.where(up, k * (g_plus - g0), -k * (g_minus - g0))
    return np.where(w == w0, 0.0, req)


def remap_columns(wanted: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Assignment of trained output neurons to physical columns that keeps the wanted weights in range.

    Parameters
    ----------
    wanted : (n_out, n_in) ndarray
        Wanted weight of output neuron ``h`` from input ``r``.
    lo, hi : (n_out, n_in) ndarray
        Deliverable interval of the synapse in physical column ``c`` and row ``r``.

    Returns
    -------
    perm : (n_out,) ndarray of int
        ``perm[c]`` is the trained neuron placed on column ``c``; it minimises
        :math:`\\sum_c \\sum_r d(w_{perm[c], r}, [lo_{c r}, hi_{c r}])^2` (``d`` the distance to the interval).
    """
    from scipy.optimize import linear_sum_assignment

    W = np.asarray(wanted, dtype=np.float64)
    lo, hi = np.asarray(lo, dtype=np.float64), np.asarray(hi, dtype=np.float64)
    if W.shape != lo.shape or W.shape != hi.shape:
        raise ValueError(f"wanted {W.shape}, lo {lo.shape} and hi {hi.shape} must have one shape (n_out, n_in)")
    # cost[h, c] = sum_r (max(lo[c]-w[h], 0) + max(w[h]-hi[c], 0))^2, one output neuron at a time
    cost = np.empty((W.shape[0], W.shape[0]))
    for h in range(W.shape[0]):
        d = np.maximum(lo - W[h], 0.0) + np.maximum(W[h] - hi, 0.0)
        cost[h] = np.sum(d * d, axis=1)
    rows, cols = linear_sum_assignment(cost)
    perm = np.empty(W.shape[0], dtype=np.int64)
    perm[cols] = rows
    return perm


def bounded_ridge(A: np.ndarray, b: np.ndarray, lo_w: np.ndarray, hi_w: np.ndarray) -> np.ndarray:
    r"""Ridge readout with every weight inside the range its device pair can deliver.

    Minimises :math:`c^T A c - 2 b_j^T c` for each column ``j`` of ``b`` (``A`` symmetric positive definite:
    the regularised normal equations :math:`(D^T D + \Lambda) c = D^T y`) subject to
    ``lo_w[:, j] <= c[:-1] <= hi_w[:, j]``; the last coefficient (the digital bias) is free.  Written as
    the least-squares problem :math:`\|R c - R^{-T} b_j\|^2` with :math:`A = R^T R` (Cholesky) and solved by
    :func:`scipy.optimize.lsq_linear` (bounded-variable least squares); coefficients whose bounds coincide
    (both devices stuck) are fixed there.  Without active bounds this is ``solve(A, b)``.

    Parameters
    ----------
    A : (n, n) ndarray
    b : (n, n_out) ndarray
    lo_w, hi_w : (n - 1, n_out) ndarray

    Returns
    -------
    (n, n_out) ndarray
    """
    from scipy.linalg import cholesky, solve_triangular
    from scipy.optimize import lsq_linear

    A, b = np.asarray(A, dtype=np.float64), np.asarray(b, dtype=np.float64)
    n = A.shape[0]
    if A.shape != (n, n) or b.ndim != 2 or b.shape[0] != n or np.shape(lo_w) != (n - 1, b.shape[1]) \
            or np.shape(hi_w) != (n - 1, b.shape[1]):
        raise ValueError(f"A must be (n, n), b (n, n_out), lo_w and hi_w (n - 1, n_out); got {A.shape}, {b.shape}, "
                         f"{np.shape(lo_w)}, {np.shape(hi_w)}")
    R = cholesky(A, lower=False)
    out = np.empty_like(b)
    for j in range(b.shape[1]):
        rhs = solve_triangular(R, b[:, j], trans="T", lower=False)
        lb = np.append(lo_w[:, j], -np.inf)
        ub = np.append(hi_w[:, j], np.inf)
        fixed = lb >= ub
        c = np.where(fixed, lb, 0.0)
        free = ~fixed
        res = lsq_linear(R[:, free], rhs - R[:, fixed] @ c[fixed], bounds=(lb[free], ub[free]), method="bvls")
        c[free] = res.x
        out[:, j] = c
    return out
