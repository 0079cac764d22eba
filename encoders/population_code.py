r"""Population coding with Gaussian receptive fields (Bohte, Kok & La Poutré 2002).

Each input channel with values in :math:`[I_{min}, I_{max}]` is represented by ``n_fields``
:math:`= m \ge 3` neurons with Gaussian receptive fields of centres and common width

.. math::

    c_i = I_{min} + \frac{2i - 3}{2}\,\frac{I_{max} - I_{min}}{m - 2},\quad i = 1..m,\qquad
    \sigma = \frac{1}{\beta}\,\frac{I_{max} - I_{min}}{m - 2},

(S. M. Bohte, J. N. Kok, H. La Poutré, "Error-backpropagation in temporally encoded networks of
spiking neurons", Neurocomputing 48:17-37, 2002, section 4; they use :math:`\beta = 1.5`), so the
first and last centres lie half a spacing outside the range.  A value :math:`x` activates field
:math:`i` with :math:`a_i = \exp\!\big(-(x - c_i)^2 / (2\sigma^2)\big) \in (0, 1]`.
The activations are then spike coded, ``coding="latency"`` (Bohte's choice: strong activation,
early spike; fields below ``latency_threshold`` stay silent; :func:`~memr_snn.encoders.latency_code.latency`,
linear) or ``coding="rate"`` (:func:`~memr_snn.encoders.rate.poisson_rate` with rate
:math:`a_i\,r_{max}`).

Output channels: field ``k`` of input channel ``c`` is column ``c * n_fields + k``.
"""

from __future__ import annotations

import numpy as np

from .._validation import check_int_at_least, check_positive
from ._checks import check_range, normalise
from .latency_code import latency
from .rate import poisson_rate

__all__ = ["receptive_fields", "gaussian_activations", "population", "POPULATION_CODINGS"]

POPULATION_CODINGS = ("latency", "rate")


def receptive_fields(n_fields: int, x_min: float = 0.0, x_max: float = 1.0, beta: float = 1.5
                     ) -> tuple[np.ndarray, float]:
    """Centres ``(n_fields,)`` and width ``sigma`` of the receptive fields (module docstring)."""
    m = check_int_at_least("n_fields", n_fields, 3)
    lo, hi = check_range(x_min, x_max)
    check_positive("beta", beta)
    spacing = (hi - lo) / (m - 2)
    i = np.arange(1, m + 1, dtype=np.float64)
    return lo + (2 * i - 3) / 2 * spacing, spacing / float(beta)


def gaussian_activations(x, n_fields: int, *, x_min: float = 0.0, x_max: float = 1.0, beta: float = 1.5
                         ) -> np.ndarray:
    """Activations :math:`a_i(x)` ``(..., n_channels, n_fields)`` in (0, 1] of values in ``[x_min, x_max]``."""
    normalise(x, x_min, x_max)  # validates range, finiteness, ndim
    centres, sigma = receptive_fields(n_fields, x_min, x_max, beta)
    xv = np.asarray(x, dtype=np.float64)[..., None]
    return np.exp(-((xv - centres) ** 2) / (2.0 * sigma ** 2))


def population(x, n_steps: int, dt: float, *, n_fields: int = 8, x_min: float = 0.0, x_max: float = 1.0,
               beta: float = 1.5, coding: str = "latency", max_rate: float = 200.0, latency_threshold: float = 0.1,
               rng: np.random.Generator | int | None = None) -> np.ndarray:
    """Gaussian-receptive-field population code of ``x`` (module docstring).

    Parameters
    ----------
    x : array_like, shape (..., n_channels)
        Values in ``[x_min, x_max]``.
    n_steps : int
        Steps of the spike train.
    dt : float
        Time step [s].
    n_fields : int
        Receptive fields per channel (>= 3).
    x_min, x_max : float
        Value range :math:`[I_{min}, I_{max}]`.
    beta : float
        Width factor :math:`\\beta` (larger: narrower fields).
    coding : str
        ``"latency"`` or ``"rate"``.
    max_rate : float
        Rate of a fully activated field for ``coding="rate"`` [Hz] (``max_rate * dt <= 1``).
    latency_threshold : float
        Activation below which a field stays silent for ``coding="latency"``, in [0, 1).
    rng : numpy.random.Generator, int or None
        Random source (``coding="rate"`` only).

    Returns
    -------
    ndarray of uint8, shape (..., n_steps, n_channels * n_fields)
        Spikes; field ``k`` of channel ``c`` in column ``c * n_fields + k``.

    Examples
    --------
    >>> s = population([1 / 6], 8, 1e-3, n_fields=5)  # on the centre of field 1
    >>> s.shape, s[0].tolist()
    ((8, 5), [0, 1, 0, 0, 0])
    """
    if coding not in POPULATION_CODINGS:
        raise ValueError(f"coding must be one of {list(POPULATION_CODINGS)}, got {coding!r}")
    a = gaussian_activations(x, n_fields, x_min=x_min, x_max=x_max, beta=beta)
    flat = a.reshape(a.shape[:-2] + (a.shape[-2] * a.shape[-1],))
    if coding == "rate":
        return poisson_rate(flat, n_steps, dt, max_rate=max_rate, rng=rng)
    return latency(flat, n_steps, dt, method="linear", threshold=latency_threshold)
