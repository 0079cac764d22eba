r"""Endurance in full SET/RESET cycles: a per-device budget, after which the device fails.

**The rule.**  Endurance in the literature counts full switching cycles: one full SET
(G_min -> G_max) plus one full RESET (G_max -> G_min).  Analog synapses mostly take partial
pulses, so every pulse is converted into its *full-cycle equivalent*: a pulse that moves
device ``k`` by :math:`\Delta G` wears it by

.. math::

    \Delta w_k = \frac{|\Delta G|}{2\,(G_{max,k} - G_{min,k})}

(its own range, device-to-device spread included), so a full SET swing is half a cycle, a
full RESET swing the other half, and e.g. 100 pulses of 1 % of the range up and 100 down are
one cycle.  Equivalently: accumulate the SET and RESET swings per polarity in units of the
range, and one cycle is one unit of each.  A pulse that does not move G (at a bound, on a
level it cannot leave) does not wear the device; a PCM RESET from the top of the range is a
full half cycle in one pulse.  Program-and-verify, direct programming (``|G_target - G_0|``)
and the refresh of one-sided pairs wear devices by the same rule.

Device ``k`` has a budget :math:`B_k = \text{cycles}\; e^{\sigma Z_k}` (log-normal around the
median ``cycles``, ``sigma = cycles_d2d``); when its wear reaches or exceeds :math:`B_k` after
a pulse, the device wears out and sticks at ``g_min`` (``fail_state="off"``), ``g_max``
(``"on"``) or the conductance it had after that last pulse (``"last"``).  A worn-out device
still receives and counts pulses (they cost energy) but its conductance no longer changes.
Pulse counts are kept separately (energy, latency, reports).

Seed §5.1.2 gives typical budgets in full cycles: oxide RRAM 1e3-1e8, PCM 1e6-1e9,
CBRAM 1e5-1e8, FeFET 1e6-1e9.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np

from .._validation import check_nonnegative
from ._bounds import SIGMA_LOG_MAX, check_range

__all__ = ["Endurance", "full_cycles", "FAIL_CODES", "FAULT_HEALTHY", "FAULT_ON", "FAULT_OFF", "FAULT_LAST"]

#: fault states per device (int8), shared with :meth:`memr_snn.devices.StuckFaults.sample`
FAULT_HEALTHY, FAULT_ON, FAULT_OFF, FAULT_LAST = 0, 1, -1, 2

#: ``fail_state`` -> the kernel's ``fail_code`` (the fault state a worn-out device takes)
FAIL_CODES = {"off": FAULT_OFF, "on": FAULT_ON, "last": FAULT_LAST}


@dataclasses.dataclass(frozen=True)
class Endurance:
    """Per-device budget of full SET/RESET cycles (log-normal) and the state a worn-out device sticks at."""

    cycles: float = math.inf
    """Median number of full SET/RESET cycles a device survives [cycles]; ``math.inf`` = unlimited."""
    cycles_d2d: float = 0.0
    """Device-to-device spread of the budget: standard deviation of its log [1]."""
    fail_state: str = "last"
    """Conductance of a worn-out device: ``"off"`` (g_min), ``"on"`` (g_max) or ``"last"``."""

    def __post_init__(self) -> None:
        c = self.cycles
        if isinstance(c, (bool, np.bool_)) or not isinstance(c, (int, float, np.integer, np.floating)):
            raise TypeError(f"cycles must be a number > 0 [cycles] (math.inf = unlimited), got {c!r}")
        if not (c > 0) or math.isnan(c):
            raise ValueError(f"cycles must be > 0 [cycles] (math.inf = unlimited), got {c!r}")
        if not math.isinf(c):
            # the most enduring devices reach ~1e12 cycles (FeFET, PCM); unlimited is math.inf
            check_range("cycles", c, 1.0, 1e16, "cycles", why="the best devices endure ~1e12; math.inf = unlimited")
        check_nonnegative("cycles_d2d", self.cycles_d2d)
        check_range("cycles_d2d", self.cycles_d2d, 0.0, SIGMA_LOG_MAX,
                    why="sigma of the log: 3 is a factor 20 per standard deviation; measured 0.3-1")
        if self.fail_state not in FAIL_CODES:
            raise ValueError(f"fail_state must be one of {sorted(FAIL_CODES)}, got {self.fail_state!r}")

    @property
    def fail_code(self) -> int:
        """The kernel code of ``fail_state``: -1 off, +1 on, 2 last."""
        return FAIL_CODES[self.fail_state]

    @property
    def is_ideal(self) -> bool:
        """True when no device ever wears out."""
        return math.isinf(self.cycles)

    def sample(self, n: int, rng=None) -> np.ndarray:
        """Budgets of ``n`` devices [full cycles], float64 (``inf`` when unlimited).

        Parameters
        ----------
        n : int
            Number of devices.
        rng : int, numpy.random.Generator or None
            Seed or generator (the draws are made even when the spread is 0,
            so the stream consumed does not depend on the parameters).
        """
        z = np.random.default_rng(rng).standard_normal(n)
        if math.isinf(self.cycles):
            return np.full(n, math.inf)
        return float(self.cycles) * np.exp(self.cycles_d2d * z)


def full_cycles(delta_g, g_min, g_max) -> np.ndarray:
    """Full-cycle equivalents of conductance swings: ``|delta_g| / (2 (g_max - g_min))`` [cycles].

    The wear rule of the module docstring, vectorised (``g_min``, ``g_max`` per device or scalars).
    """
    span = np.asarray(g_max, dtype=np.float64) - np.asarray(g_min, dtype=np.float64)
    return np.abs(np.asarray(delta_g, dtype=np.float64)) * (0.5 / span)
