r"""The one adapter between the AIMC engine and the device layer (:mod:`memr_snn.devices`).

Everything the AIMC tiles know about devices goes through :class:`DeviceAdapter`: the device
preset, per-device variability and stuck faults, programming (direct or program-and-verify),
drift and read noise.  The models themselves are the device layer's (:class:`~memr_snn.devices.
Variability`, :class:`~memr_snn.devices.StuckFaults`, :class:`~memr_snn.devices.Drift`,
:class:`~memr_snn.devices.ReadNoise`, :func:`~memr_snn.devices.program_and_verify`); this module
only calls them, so that a better device model is adopted here, in one place.

Programming (per device, targets :math:`G_t` in siemens):

* every device draws its own range :math:`[G_{min,d}, G_{max,d}]` (``Variability.sample``) and
  fault state (``StuckFaults.sample``); targets are clipped to the device's range and, for devices
  with ``levels``, rounded to the level grid, as :class:`memr_snn.devices.Crossbar` does;
* ``method="direct"`` writes the target exactly (the device layer has no write-noise model for a
  direct write); pulses are counted as :math:`\lceil |G_t - G_{min,d}| / \delta \rceil` from the
  reset state, energy as pulses times ``e_set`` (``e_reset`` for depressing steps), latency as
  pulses times ``t_pulse``;
* ``method="verify"`` runs :func:`memr_snn.devices.program_and_verify` (ISPP with the device's
  update law, cycle-to-cycle noise, read noise on every verify read, pulse limit) from the reset
  state; its pulses, verify reads, energy and latency are reported as they are;
* stuck devices read :math:`G_{max,d}` (ON) or :math:`G_{min,d}` (OFF).

Reads at time :math:`t` after programming apply ``Drift.apply`` with per-device exponents drawn by
``Drift.sample_nu`` (stuck devices do not drift), then ``ReadNoise.read``.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np

from ..devices import DevicePreset, PresetError, load_preset, program_and_verify

__all__ = ["DeviceAdapter", "Programmed", "PROGRAM_METHODS"]

PROGRAM_METHODS = ("direct", "verify")


@dataclasses.dataclass
class Programmed:
    """Devices after programming (arrays per device, SI units)."""

    g: np.ndarray
    """Programmed conductance [S]."""
    nu: np.ndarray
    """Drift exponent [1] (0 for stuck devices)."""
    fault: np.ndarray
    """0 healthy, +1 stuck ON, -1 stuck OFF (int8)."""
    pulses: int
    """Program pulses sent [pulses]."""
    verify_reads: int
    """Verify reads (program-and-verify only) [reads]."""
    energy: float
    """Programming energy [J]."""
    latency: float
    """Programming latency when the devices are written one after another [s]."""
    unconverged: int
    """Healthy devices whose verify loop ended outside the tolerance."""


class DeviceAdapter:
    """A device technology as the AIMC tiles see it.

    Parameters
    ----------
    preset : str, Path, DevicePreset or None
        Built-in preset name (``memr_snn.devices.list_presets()``), a ``device_preset.json`` path,
        a loaded :class:`~memr_snn.devices.DevicePreset`, or ``None`` for the ``"ideal"`` preset.

    Raises
    ------
    ValueError
        Unknown preset (the message lists the known ones) or a malformed file.
    """

    def __init__(self, preset: str | Path | DevicePreset | None = None) -> None:
        if preset is None:
            preset = "ideal"
        if isinstance(preset, DevicePreset):
            self.preset = preset
        elif isinstance(preset, (str, Path)):
            try:
                self.preset = load_preset(preset)
            except PresetError as exc:
                raise ValueError(f"device = {str(preset)!r}: {exc}") from None
        else:
            raise TypeError(f"device must be a preset name, a path or a DevicePreset, got {preset!r}")
        dev = self.preset.device
        self.g_min = float(dev.g_min)
        self.g_max = float(dev.g_max)

    @property
    def name(self) -> str:
        """The preset's name."""
        return self.preset.name

    @property
    def g_range(self) -> float:
        """Nominal conductance range ``g_max - g_min`` [S]."""
        return self.g_max - self.g_min

    @property
    def is_ideal(self) -> bool:
        """True for a device that stores and reads targets exactly (no spread, noise, faults, drift, levels)."""
        return bool(self.preset.is_ideal)

    @property
    def read_noise(self) -> float:
        """Relative standard deviation of a read [1]."""
        return float(self.preset.read_noise.read_noise)

    def program(self, target: np.ndarray, *, method: str = "direct", seed: int, tolerance: float = 0.01,
                max_pulses: int = 100) -> Programmed:
        """Program devices towards ``target`` [S] (flat array); see the module docstring."""
        if method not in PROGRAM_METHODS:
            raise ValueError(f"program = {method!r} is not one of {list(PROGRAM_METHODS)}")
        p = self.preset
        dev = p.device
        target = np.asarray(target, dtype=np.float64).ravel()
        n = target.size
        rng = np.random.default_rng([int(seed), 7])
        d2d = p.variability.sample(dev, n, rng)
        lo, hi = d2d["g_min"], d2d["g_max"]
        fault = p.faults.sample(n, rng)
        nu = p.drift.sample_nu(n, rng)
        nu[fault != 0] = 0.0
        t = np.clip(target, lo, hi)
        if dev.levels >= 2:
            step = (dev.g_max - dev.g_min) / (dev.levels - 1)
            t = np.clip(dev.g_min + np.round((t - dev.g_min) / step) * step, lo, hi)
        prog = p.programming
        if method == "direct":
            g = t.copy()
            delta = g - lo
            dg = float(dev.dg_up)
            pulses = np.ceil(delta / dg - 1e-9).astype(np.int64) if dg > 0 else np.zeros(n, np.int64)
            pulses[fault != 0] = 0
            n_p = int(pulses.sum())
            out = Programmed(g=g, nu=nu, fault=fault, pulses=n_p, verify_reads=0,
                             energy=n_p * float(prog.e_set), latency=n_p * float(prog.t_pulse), unconverged=0)
        else:
            res = program_and_verify(dev, t, lo, read_noise=self.read_noise, tolerance=tolerance,
                                     max_pulses=max_pulses, programming=prog, seed=int(seed) + 1,
                                     fault=fault.copy())
            healthy = fault == 0
            out = Programmed(g=res.g, nu=nu, fault=fault, pulses=int(res.pulses.sum()),
                             verify_reads=int(res.verify_reads.sum()), energy=res.energy_total,
                             latency=res.latency_total, unconverged=int(np.sum(~res.converged & healthy)))
        out.g[fault == 1] = hi[fault == 1]
        out.g[fault == -1] = lo[fault == -1]
        return out

    def read(self, g: np.ndarray, nu: np.ndarray, t: float, rng: np.random.Generator | None) -> np.ndarray:
        """Conductances read ``t`` seconds after programming: drift, then read noise (a new array)."""
        p = self.preset
        out = np.asarray(g, dtype=np.float64)
        if p.drift.nu > 0.0 or p.drift.nu_std > 0.0:
            out = p.drift.apply(out, t, nu)
        if self.read_noise > 0.0:
            out = p.read_noise.read(out, rng)
        return np.array(out, dtype=np.float64, copy=True)

    def read_energy_per_siemens(self) -> tuple[float, float]:
        """``(v_read, t_read)`` of the preset's programming electricals [V], [s]."""
        return float(self.preset.programming.v_read), float(self.preset.programming.t_read)
