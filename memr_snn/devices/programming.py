r"""Program-and-verify: write energy, latency and the ISPP read-verify loop.

:class:`Programming` holds the electrical side of writing a device (SI units):
read and program voltages, pulse widths, the energy of one program pulse and the
latency of one verify read.  A read of conductance :math:`G` costs
:math:`V_{read}^2\,G\,t_{read}`.

:func:`program_and_verify` writes target conductances with incremental step
pulse programming (ISPP) and read-verify, per device:

1. read :math:`G_r = G (1 + \sigma_{read} \xi)`; if
   :math:`|G_r - G_{target}| \le \text{tolerance}\,(G_{max} - G_{min})` stop (converged);
2. if ``max_pulses`` pulses were sent, stop (not converged);
3. send :math:`n` pulses towards the target (potentiating if :math:`G_r < G_{target}`),
   through the device's update law with its own bounds and steps (device-to-device spread),
   cycle-to-cycle noise and endurance; :math:`n = 1` on the first iteration and after every
   change of direction, and grows by ``Programming.ispp_step`` (at most ``Programming.ispp_max``)
   on each further iteration in the same direction, but never beyond the read distance in
   nominal steps, :math:`\max(\lfloor |G_{target} - G_r| / \delta \rfloor, 1)`, so the loop does
   not overshoot by design.  Real ISPP raises the pulse *amplitude* step by step; here a larger
   amplitude is modelled as more unit pulses in one iteration, so every step keeps the device's
   update law, noise and wear.  An abrupt-RESET (PCM) device above its target gets one RESET
   pulse (to its g_min) and climbs again.  Pulses never exceed ``max_pulses`` in all; go to 1.

For the ideal linear device (step :math:`\delta`, no noise), a start
:math:`\Delta = |G_{target} - G_0|` away converges after exactly
:math:`\lceil (\Delta - \tau) / \delta \rceil` pulses (0 if :math:`\Delta \le \tau`,
:math:`\tau` the absolute tolerance) whatever the ISPP growth, provided
:math:`\delta < 2\tau` (otherwise it may step over the window); with ``ispp_step = 0`` that
takes one read more than pulses.  Measured convergence per preset, over the full range and
the central 80 %: ``benchmarks/programming.py`` and ``docs/devices.md`` (Program-and-verify).

With ``levels`` L the reachable conductances are a grid of spacing
:math:`(G_{max} - G_{min}) / (L - 1)`, so a tolerance below :math:`1 / (2 (L - 1))`
cannot be met for every target (32 levels: 0.016); such devices converge only
when read noise lets a read through.  Stuck devices (``fault``) are not moved to
their bound here: pass ``g_init`` with :meth:`StuckFaults.apply` already applied.

A device that is stuck or wears out during programming keeps receiving (and
paying for) pulses until ``max_pulses``, as a verify loop that cannot see the
fault would.

**Programming noise.**  Real writes land with a spread around the target even after the
verify loop has accepted them (fast relaxation in the first seconds, read noise of the last
verify).  :class:`Programming` carries a model of it, applied by crossbars to every written
device (``program="direct"`` and the final state of ``program="verify"``;
pulse writes already draw cycle-to-cycle noise at every pulse and get no extra term):
:math:`G = G_T + \sigma_{prog}(G_T)\,Z`, :math:`Z \sim \mathcal{N}(0, 1)`, with

* ``noise_model="none"``: :math:`\sigma_{prog} = 0` (the default);
* ``"relative"``: :math:`\sigma_{prog} = s\,|G_T|`;
* ``"range"``: :math:`\sigma_{prog} = s\,(G_{max} - G_{min})`;
* ``"aihwkit_pcm"``: :math:`\sigma_{prog} = s\,(0.26348 + 1.9650 x - 1.1731 x^2)\,G_{max} / 25`,
  :math:`x = G_T / G_{max}` (AIHWKit ``PCMLikeNoiseModel``, fitted on PCM after iterative
  programming: Nandakumar et al., ICECS 2019; Joshi et al., Nat. Commun. 2020);

``s = noise_sigma``.  :meth:`Programming.write_noise` draws it (seeded); the result is floored
at 0 (AIHWKit clamps the same way) and a crossbar then clips it to each device's range.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from .._validation import check_int_at_least, check_nonnegative, check_positive
from ..kernel.device import READ_Q0, program_verify
from ._bounds import check_int_range, check_range
from .nonideal import pcm_prog_sigma
from .pulse import PulseDevice

__all__ = ["Programming", "ProgramResult", "program_and_verify", "PROGRAM_NOISE_MODELS"]

#: programming-noise models of :class:`Programming` (module docstring)
PROGRAM_NOISE_MODELS = ("none", "relative", "range", "aihwkit_pcm")


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
    ispp_max: int = 8
    """Most pulses sent in one verify iteration [pulses], >= 1."""
    noise_model: str = "none"
    """Programming-noise model: ``"none"``, ``"relative"``, ``"range"`` or ``"aihwkit_pcm"``."""
    noise_sigma: float = 0.0
    """Programming-noise size [1]: sigma / G_T (relative), sigma / (g_max - g_min) (range), or the
    multiplier of the fitted PCM polynomial (aihwkit_pcm, AIHWKit ``prog_noise_scale``; 1 = as fitted)."""

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
        # memristive devices switch at 0.1-5 V; 30 V is above the breakdown of any thin oxide
        for name in ("v_read", "v_set", "v_reset"):
            check_range(name, getattr(self, name), 1e-3, 30.0, "V", why="devices switch at 0.1-5 V")
        # pulses from picoseconds to milliseconds are reported; a second-long pulse is not programming
        for name in ("t_read", "t_pulse", "t_verify"):
            check_range(name, getattr(self, name), 0.0, 1.0, "s", why="reported pulses last ps-ms")
        # fJ-nJ per pulse; a microjoule would heat a nanoscale device to destruction
        for name in ("e_set", "e_reset"):
            check_range(name, getattr(self, name), 0.0, 1e-6, "J", why="a pulse costs fJ-nJ")
        # verify loops send a handful of pulses per iteration; 10**6 is already a million
        check_int_range("ispp_step", self.ispp_step, 0, 10**6, "pulses", why="a verify iteration sends a few pulses")
        check_int_range("ispp_max", self.ispp_max, 1, 10**6, "pulses", why="a verify iteration sends a few pulses")
        if self.noise_model not in PROGRAM_NOISE_MODELS:
            raise ValueError(f"noise_model must be one of {list(PROGRAM_NOISE_MODELS)}, got {self.noise_model!r}")
        check_nonnegative("noise_sigma", self.noise_sigma)
        # measured write spreads are 1-20 % of the range; the PCM multiplier is ~1
        check_range("noise_sigma", self.noise_sigma, 0.0, 10.0, why="measured write spreads are 1-20 % of G")

    @property
    def noise_on(self) -> bool:
        """True when writes land with a spread."""
        return self.noise_model != "none" and self.noise_sigma > 0.0

    def write_sigma(self, g_target, g_min: float, g_max: float) -> np.ndarray:
        """Standard deviation of a write to ``g_target`` [S] on a device of nominal range
        ``[g_min, g_max]`` [S] (module docstring) [S]."""
        t = np.asarray(g_target, dtype=np.float64)
        s = float(self.noise_sigma)
        if not self.noise_on:
            return np.zeros(t.shape)
        if self.noise_model == "relative":
            return s * np.abs(t)
        if self.noise_model == "range":
            return np.full(t.shape, s * (g_max - g_min))
        return s * pcm_prog_sigma(t / g_max) * g_max

    def write_noise(self, g_target, g_min: float, g_max: float, rng=None) -> np.ndarray:
        """Conductances a write to ``g_target`` [S] lands on: ``G_T + sigma(G_T) Z``, floored at 0 [S].

        ``rng``: a seed or :class:`numpy.random.Generator`; exactly ``g_target`` when the model is off.
        """
        t = np.asarray(g_target, dtype=np.float64)
        if not self.noise_on:
            return t.copy()
        z = np.random.default_rng(rng).standard_normal(t.shape)
        return np.maximum(t + self.write_sigma(t, g_min, g_max) * z, 0.0)

    def read_energy(self, g) -> np.ndarray | float:
        """Energy of one read of conductance ``g`` [S]: ``v_read**2 * g * t_read`` [J]."""
        return self.v_read**2 * np.asarray(g, dtype=np.float64) * self.t_read


@dataclasses.dataclass(frozen=True)
class ProgramResult:
    """Outcome of :func:`program_and_verify`; arrays are per device (SI units)."""

    g: np.ndarray
    """Achieved conductance, the true (noiseless) value [S]."""
    pulses: np.ndarray
    """Program pulses sent (both directions) [pulses], int64."""
    pulses_up: np.ndarray
    """Potentiating pulses [pulses], int64."""
    pulses_down: np.ndarray
    """Depressing pulses [pulses], int64."""
    verify_reads: np.ndarray
    """Verify reads [reads], int64."""
    converged: np.ndarray
    """True where the last read was within tolerance, bool."""
    energy: np.ndarray
    """``pulses_up * e_set + pulses_down * e_reset`` + the read energy of every verify read [J]."""
    latency: np.ndarray
    """``pulses * t_pulse + verify_reads * t_verify`` [s]."""
    fault: np.ndarray
    """Fault state after programming (0 healthy, +1 ON, -1 OFF, 2 last), int8."""
    counts: np.ndarray
    """Lifetime pulse counts after programming [pulses], int64."""
    n_clipped: int
    """How many targets lay outside [g_min, g_max] and were clipped to it."""

    @property
    def energy_total(self) -> float:
        """Energy of the whole programming run [J]."""
        return float(self.energy.sum())

    @property
    def latency_total(self) -> float:
        """Latency when the devices are programmed one after another [s] (the sum)."""
        return float(self.latency.sum())

    @property
    def converged_fraction(self) -> float:
        """Fraction of devices that converged."""
        return float(self.converged.mean()) if self.converged.size else 1.0


def _as_1d(name: str, value, n: int | None = None) -> np.ndarray:
    arr = np.atleast_1d(np.asarray(value, dtype=np.float64))
    if arr.ndim != 1:
        raise ValueError(f"{name} must be a scalar or a 1-D per-device array, got shape {arr.shape}")
    if n is not None and arr.size != n:
        if arr.size != 1:
            raise ValueError(f"{name} has {arr.size} values but there are {n} devices")
        arr = np.full(n, arr[0])
    return arr


def program_and_verify(
    device: PulseDevice,
    g_target,
    g_init,
    *,
    read_noise: float = 0.0,
    tolerance: float = 0.01,
    max_pulses: int = 100,
    programming: Programming,
    seed: int,
    budget=None,
    fault=None,
    counts=None,
    counter: int = 0,
    fail_state: str = "last",
    table=None,
) -> ProgramResult:
    """Program every device towards its target with ISPP read-verify (see the module docs).

    Parameters
    ----------
    device : PulseDevice
        Update law, bounds, levels and cycle-to-cycle noise (shared by all devices).
    g_target : array_like
        Target conductances [S], one per device (a scalar is broadcast).  Must be finite;
        targets outside [g_min, g_max] are clipped to it (counted in ``n_clipped``).
    g_init : array_like
        Conductances before programming [S] (a scalar is broadcast).
    read_noise : float
        Relative standard deviation of a verify read [1] (as :class:`ReadNoise`).
    tolerance : float
        Accepted error, relative to the device range ``g_max - g_min`` [1].
    max_pulses : int
        Most program pulses per device.
    programming : Programming
        Energies, latencies and the ISPP growth.
    seed : int
        Seed of the counter-based noise (pulses and reads); equal inputs give equal results.
    budget : array_like or None
        Endurance budget per device [full cycles] (``None``: unlimited); ignored with ``table``.
    fault : numpy.ndarray of int8 or None
        Fault state per device (``None``: all healthy).  An int8 array is updated in place.
    counts : numpy.ndarray of int64 or None
        Lifetime pulse counts (``None``: zeros).  An int64 array is updated in place.
    counter : int
        Call counter of the noise stream: give a new value to program the same devices again
        with fresh noise (:func:`apply_pulses` uses the same stream convention).
    fail_state : {"last", "off", "on"}
        Where a device that wears out during programming sticks (``Endurance.fail_state``).
    table : numpy.ndarray or None
        Per-device table ``(n, N_DV)`` float64 (:meth:`PulseDevice.table`: each device's bounds,
        steps, budget and wear), updated in place (wear).  ``None``: nominal devices with ``budget``.
        Targets are clipped to each device's own range.

    Returns
    -------
    ProgramResult

    Raises
    ------
    ValueError
        Before any work, on a non-finite ``g_target`` or ``g_init``, mismatched lengths,
        negative ``read_noise``/``tolerance``, or a bad ``max_pulses``.
    """
    from .endurance import FAIL_CODES

    if not isinstance(device, PulseDevice):
        raise TypeError(f"device must be a PulseDevice, got {device!r}")
    if not isinstance(programming, Programming):
        raise TypeError(f"programming must be a Programming, got {programming!r}")
    target = _as_1d("g_target", g_target)
    n = target.size
    if not np.all(np.isfinite(target)):
        bad = float(target[~np.isfinite(target)][0])
        raise ValueError(f"g_target must be finite [S], got {bad!r}")
    g = _as_1d("g_init", g_init, n).copy()
    if not np.all(np.isfinite(g)):
        raise ValueError(f"g_init must be finite [S], got {float(g[~np.isfinite(g)][0])!r}")
    check_nonnegative("read_noise", read_noise)
    check_nonnegative("tolerance", tolerance)
    max_pulses = check_int_at_least("max_pulses", max_pulses, 0)
    if max_pulses >= READ_Q0:
        raise ValueError(f"max_pulses must be < {READ_Q0}, got {max_pulses}")
    if fail_state not in FAIL_CODES:
        raise ValueError(f"fail_state must be one of {sorted(FAIL_CODES)}, got {fail_state!r}")
    if table is None:
        b = np.full(n, np.inf) if budget is None else _as_1d("budget", budget, n)
        if np.any(np.isnan(b)) or np.any(b <= 0):
            raise ValueError("budget must be > 0 [full cycles] (inf = unlimited)")
        table = device.table(n, b)
    else:
        from ..kernel.device import N_DV

        if not (isinstance(table, np.ndarray) and table.dtype == np.float64 and table.shape == (n, N_DV)
                and table.flags.c_contiguous):
            raise ValueError(f"table must be a C-contiguous float64 array of shape ({n}, {N_DV})")
    if fault is None:
        fault = np.zeros(n, np.int8)
    elif not (isinstance(fault, np.ndarray) and fault.dtype == np.int8 and fault.shape == (n,)):
        fault = np.array(_as_1d("fault", fault, n), dtype=np.int8)
    if counts is None:
        counts = np.zeros(n, np.int64)
    elif not (isinstance(counts, np.ndarray) and counts.dtype == np.int64 and counts.shape == (n,)):
        counts = np.array(_as_1d("counts", counts, n), dtype=np.int64)

    from ..kernel.device import DV_GMAX, DV_GMIN

    lo, hi = table[:, DV_GMIN], table[:, DV_GMAX]
    outside = (target < lo) | (target > hi)
    target = np.clip(target, lo, hi)
    g = np.clip(g, lo, hi)
    n_up = np.zeros(n, np.int64)
    n_down = np.zeros(n, np.int64)
    reads = np.zeros(n, np.int64)
    gsum = np.zeros(n)
    conv = np.zeros(n, np.bool_)
    tol = float(tolerance) * (device.g_max - device.g_min)
    program_verify(
        device.kernel_params(), table, g, target, counts, fault, FAIL_CODES[fail_state], float(read_noise), tol,
        max_pulses, programming.ispp_step, programming.ispp_max, np.uint64(seed), counter,
        n_up, n_down, reads, gsum, conv,
    )
    pr = programming
    pulses = n_up + n_down
    energy = n_up * pr.e_set + n_down * pr.e_reset + pr.v_read**2 * pr.t_read * gsum
    latency = pulses * pr.t_pulse + reads * pr.t_verify
    return ProgramResult(
        g=g, pulses=pulses, pulses_up=n_up, pulses_down=n_down, verify_reads=reads, converged=conv,
        energy=energy, latency=latency, fault=fault, counts=counts, n_clipped=int(outside.sum()),
    )
