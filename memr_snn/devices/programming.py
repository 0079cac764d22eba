r"""Program-and-verify: write energy, latency and the ISPP read-verify loop.

:class:`Programming` holds the electrical side of writing a device (SI units):
read and program voltages, pulse widths, the energy of one program pulse and the
latency of one verify read.  A read of conductance :math:`G` costs
:math:`V_{read}^2\,G\,t_{read}`.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from .._validation import check_int_at_least, check_nonnegative, check_positive

__all__ = ["Programming"]


@dataclasses.dataclass(frozen=True)
class Programming:
    """Electrical programming parameters of a device technology (SI units)."""

    v_read: float = 0.2
    """Read voltage [V]."""
    t_read: float = 10e-9
    """Read pulse width [s] (enters the read energy)."""
    v_set: float = 1.5
    """Potentiating (SET) pulse amplitude, a magnitude [V]."""
    v_reset: float = 1.5
    """Depressing (RESET) pulse amplitude, a magnitude [V]."""
    t_pulse: float = 50e-9
    """Program pulse width [s]."""
    e_set: float = 1e-12
    """Energy of one potentiating pulse [J]."""
    e_reset: float = 1e-12
    """Energy of one depressing pulse [J]."""
    t_verify: float = 100e-9
    """Latency of one verify read, sensing included [s]."""
    ispp_step: int = 1
    """ISPP growth: pulses added per verify iteration while the direction is unchanged [pulses]
    (0 = one pulse per iteration)."""
    ispp_max: int = 16
    """Most pulses sent in one verify iteration [pulses], >= 1."""

    def __post_init__(self) -> None:
        check_positive("v_read", self.v_read, "V")
        check_positive("t_read", self.t_read, "s")
        check_positive("v_set", self.v_set, "V")
        check_positive("v_reset", self.v_reset, "V")
        check_positive("t_pulse", self.t_pulse, "s")
        check_nonnegative("e_set", self.e_set, "J")
        check_nonnegative("e_reset", self.e_reset, "J")
        check_nonnegative("t_verify", self.t_verify, "s")
        object.__setattr__(self, "ispp_step", check_int_at_least("ispp_step", self.ispp_step, 0))
        object.__setattr__(self, "ispp_max", check_int_at_least("ispp_max", self.ispp_max, 1))

    def read_energy(self, g) -> np.ndarray | float:
        """Energy of one read of conductance ``g`` [S]: ``v_read**2 * g * t_read`` [J]."""
        return self.v_read**2 * np.asarray(g, dtype=np.float64) * self.t_read
