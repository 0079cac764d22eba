"""Transient kernel of the compact I-V memristor models (see ``memr_snn.devices.iv``).

``p`` is the parameter vector of ``StrukovDevice.kernel_params()`` / ``VTEAMDevice.kernel_params()``
(indices ``P_*`` below).  Both models share one form: a state ``x`` in ``[lo, hi]`` with
normalised state ``s = (x - lo) / (hi - lo)``, a linear resistance ``R = r_a + (r_b - r_a) s``
and a rate ``dx/dt`` times a window ``f(s, direction)``:

* Strukov (model 0): ``dx/dt = k i f(s, sign i)``, ``i = v / R``;
* VTEAM (model 1): ``dx/dt = k_off (v/v_off - 1)^a_off f(s, +1)`` for ``v > v_off``,
  ``k_on (v/v_on - 1)^a_on f(s, -1)`` for ``v < v_on``, else exactly 0.

Window codes: 0 none, 1 Joglekar, 2 Biolek, 3 Prodromakis.  Even powers are taken as
``(y**2)**p`` so that a negative base never meets a real exponent.
"""

from numba import njit

__all__ = [
    "iv_window", "iv_resistance", "iv_rate", "iv_transient", "N_PARAMS",
    "P_MODEL", "P_WINDOW", "P_P", "P_J", "P_RA", "P_RB", "P_LO", "P_HI", "P_K",
    "P_KON", "P_KOFF", "P_VON", "P_VOFF", "P_AON", "P_AOFF",
]

P_MODEL, P_WINDOW, P_P, P_J, P_RA, P_RB, P_LO, P_HI, P_K = 0, 1, 2, 3, 4, 5, 6, 7, 8
P_KON, P_KOFF, P_VON, P_VOFF, P_AON, P_AOFF = 9, 10, 11, 12, 13, 14
N_PARAMS = 15


@njit(cache=True, error_model="numpy")
def iv_window(code, s, direction, p, j):
    """Window ``f(s)`` at normalised state ``s``; ``direction > 0`` when ``s`` is increasing."""
    if code == 1:  # Joglekar & Wolf 2009
        y = 2.0 * s - 1.0
        return 1.0 - (y * y) ** p
    if code == 2:  # Biolek et al. 2009: the bound the state moves towards
        y = s if direction > 0.0 else s - 1.0
        return 1.0 - (y * y) ** p
    if code == 3:  # Prodromakis et al. 2011
        y = s - 0.5
        return j * (1.0 - (y * y + 0.75) ** p)
    return 1.0


@njit(cache=True, error_model="numpy")
def iv_resistance(p, x):
    """Resistance [Ohm] at state ``x`` (clipped into ``[lo, hi]``)."""
    lo, hi = p[P_LO], p[P_HI]
    s = (min(max(x, lo), hi) - lo) / (hi - lo)
    return p[P_RA] + (p[P_RB] - p[P_RA]) * s


@njit(cache=True, error_model="numpy")
def iv_rate(p, x, v):
    """``dx/dt`` at state ``x`` (clipped into ``[lo, hi]``) under voltage ``v`` [V]."""
    lo, hi = p[P_LO], p[P_HI]
    s = (min(max(x, lo), hi) - lo) / (hi - lo)
    win = int(p[P_WINDOW])
    if int(p[P_MODEL]) == 0:
        i = v / (p[P_RA] + (p[P_RB] - p[P_RA]) * s)
        if i == 0.0:
            return 0.0
        return p[P_K] * i * iv_window(win, s, 1.0 if i > 0.0 else -1.0, p[P_P], p[P_J])
    if v > p[P_VOFF]:
        return p[P_KOFF] * (v / p[P_VOFF] - 1.0) ** p[P_AOFF] * iv_window(win, s, 1.0, p[P_P], p[P_J])
    if v < p[P_VON]:
        return p[P_KON] * (v / p[P_VON] - 1.0) ** p[P_AON] * iv_window(win, s, -1.0, p[P_P], p[P_J])
    return 0.0


@njit(cache=True, error_model="numpy")
def iv_transient(p, t, v, x0, substeps, x, i, r):
    """Integrate the state under the piecewise-linear voltage ``v(t)``; fill ``x``, ``i``, ``r`` in place.

    Each sample interval ``[t[k], t[k+1]]`` is split into ``substeps`` equal classical RK4
    steps, with ``v`` interpolated linearly inside the interval; after every step the state
    is clipped to ``[lo, hi]``.  ``i[k] = v[k] / r[k]`` with ``r[k] = R(x[k])``.
    """
    lo, hi = p[P_LO], p[P_HI]
    xk = min(max(x0, lo), hi)
    x[0] = xk
    r[0] = iv_resistance(p, xk)
    i[0] = v[0] / r[0]
    for k in range(t.shape[0] - 1):
        h = (t[k + 1] - t[k]) / substeps
        dv = v[k + 1] - v[k]
        for m in range(substeps):
            va = v[k] + dv * (m / substeps)
            vm = v[k] + dv * ((m + 0.5) / substeps)
            vb = v[k] + dv * ((m + 1.0) / substeps)
            k1 = iv_rate(p, xk, va)
            k2 = iv_rate(p, xk + 0.5 * h * k1, vm)
            k3 = iv_rate(p, xk + 0.5 * h * k2, vm)
            k4 = iv_rate(p, xk + h * k3, vb)
            xk = xk + (h / 6.0) * (k1 + 2.0 * k2 + 2.0 * k3 + k4)
            xk = min(max(xk, lo), hi)
        x[k + 1] = xk
        r[k + 1] = iv_resistance(p, xk)
        i[k + 1] = v[k + 1] / r[k + 1]
