r"""Endurance: a per-device budget of program pulses, after which the device fails.

Every program pulse is counted per device (the update kernel
:func:`memr_snn.kernel.device.apply_pulses` keeps the counts).  Device ``k`` has a
budget :math:`B_k = \text{cycles}\; e^{\sigma Z_k}` (log-normal around the median
``cycles``, ``sigma = cycles_d2d``); when its count reaches or exceeds :math:`B_k`
after a pulse, the device wears out and sticks at ``g_min`` (``fail_state="off"``),
``g_max`` (``"on"``) or the conductance it had after that last pulse (``"last"``).
A worn-out device still receives and counts pulses (they cost energy) but its
conductance no longer changes.

Seed §5.1.2 gives typical budgets: oxide RRAM 1e3-1e8 cycles, PCM 1e6-1e9,
CBRAM 1e5-1e8, FeFET 1e6-1e9.  Here one cycle is one program pulse.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np

from .._validation import check_nonnegative
from ._bounds import SIGMA_LOG_MAX, check_range

__all__ = ["Endurance", "FAIL_CODES", "FAULT_HEALTHY", "FAULT_ON", "FAULT_OFF", "FAULT_LAST"]

#: fault states per device (int8), shared with :meth:`memr_snn.devices.StuckFaults.sample`
FAULT_HEALTHY, FAULT_ON, FAULT_OFF, FAULT_LAST = 0, 1, -1, 2

#: ``fail_state`` -> the kernel's ``fail_code`` (the fault state a worn-out device takes)
FAIL_CODES = {"off": FAULT_OFF, "on": FAULT_ON, "last": FAULT_LAST}


@dataclasses.dataclass(frozen=True)
class Endurance:
    """Per-device pulse budget (log-normal) and the state a worn-out device sticks at."""

    cycles: float = math.inf
    """Median number of program pulses a device survives [pulses]; ``math.inf`` = unlimited."""
    cycles_d2d: float = 0.0
    """Device-to-device spread of the budget: standard deviation of its log [1]."""
    fail_state: str = "last"
    """Conductance of a worn-out device: ``"off"`` (g_min), ``"on"`` (g_max) or ``"last"``."""

    def __post_init__(self) -> None:
        c = self.cycles
        if isinstance(c, (bool, np.bool_)) or not isinstance(c, (int, float, np.integer, np.floating)):
            raise TypeError(f"cycles must be a number > 0 [pulses] (math.inf = unlimited), got {c!r}")
        if not (c > 0) or math.isnan(c):
            raise ValueError(f"cycles must be > 0 [pulses] (math.inf = unlimited), got {c!r}")
        if not math.isinf(c):
            # the most enduring devices reach ~1e12 cycles (FeFET, PCM); unlimited is math.inf
            check_range("cycles", c, 1.0, 1e16, "pulses", why="the best devices endure ~1e12; math.inf = unlimited")
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
        """Budgets of ``n`` devices [pulses], float64 (``inf`` when unlimited).

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
