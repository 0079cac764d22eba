r"""The one adapter between the AIMC engine and the device layer (:mod:`memr_snn.devices`).

Everything the AIMC tiles know about devices goes through :class:`DeviceAdapter`: the device
preset, device-to-device spread, stuck faults, programming (direct or program-and-verify) with its
write noise, drift, read noise (white and accumulated 1/f), relaxation, retention loss, endurance
and the IR drop of a tile's wires.  The models are the device layer's
(:class:`~memr_snn.devices.Variability`, :class:`~memr_snn.devices.StuckFaults`,
:class:`~memr_snn.devices.Programming`, :func:`~memr_snn.devices.program_and_verify`,
:class:`~memr_snn.devices.Drift`, :class:`~memr_snn.devices.ReadNoise`,
:class:`~memr_snn.devices.Retention`, :class:`~memr_snn.devices.Endurance`,
:mod:`memr_snn.devices.irdrop`, :class:`~memr_snn.devices.DriftCompensation`); this module only calls
them, in the order a :class:`~memr_snn.devices.Crossbar` does, so that a better device model is
adopted here, in one place.

Programming (per device, targets :math:`G_t` in siemens; :meth:`DeviceAdapter.program`):

1. every device draws its own range :math:`[G_{min,d}, G_{max,d}]` (``Variability.sample``), fault
   state (``StuckFaults.sample``), retention failure age (exponential of mean ``Retention.tau``,
   when retention loss is measurable within 1e9 s) and endurance budget (``Endurance.sample``);
2. targets are clipped to the device's range and, for devices with ``levels``, rounded to the level
   grid;
3. ``method="direct"`` writes the target; pulses are counted as
   :math:`\lceil |G_t - G_{min,d}| / \delta \rceil` from the reset state, energy as pulses times
   ``e_set``, latency as pulses times ``t_pulse``.  ``method="verify"`` runs
   :func:`memr_snn.devices.program_and_verify` (ISPP, cycle-to-cycle noise, verify reads);
4. programming noise ``Programming.write_noise`` on the healthy devices, clipped to each device's
   range (as ``Crossbar`` does for every write);
5. drift exponents: ``Drift.sample_nu`` (``model="aihwkit_pcm"``: from the targets, AIHWKit's
   conductance-dependent law); stuck devices do not drift and read :math:`G_{max,d}` (ON) or
   :math:`G_{min,d}` (OFF).

A read at age :math:`t` after programming (:meth:`DeviceAdapter.read`), with one set of draws per
*noise epoch* (a new one at every evaluation time, as AIHWKit's ``drift_analog_weights`` draws one
sample per inference time):

.. math::

    G_d = G\,(t / t_0)^{-\nu}, \qquad
    G_s = \max(G_d + |G_d|\,\sigma_{1/f}(G, t)\,\zeta_1 + \sigma_r(t)\,\zeta_2,\ 0), \qquad
    G_r = \max(G_s (1 + \sigma_{read}\,\xi), 0)

with :math:`\sigma_{1/f}` = ``ReadNoise.flicker_sigma`` (accumulated 1/f noise), :math:`\sigma_r` =
``Retention.relax_std`` (relaxation), and a device whose failure age has passed reading
``Retention.fail_conductance``; these are the crossbar kernel's ``slow_noise`` and read equations.
The tile's wires then act through :meth:`DeviceAdapter.wire_model`: :math:`G_{eff} = G_r / (1 + G_r
R_{eq}) + G_{sn}`, with :math:`R_{eq}` and :math:`G_{sn}` solved once per programming state from the
programmed conductances (the representation of ``devices.array.wire_model``).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np

from ..devices import (
    ArraySpec,
    DevicePreset,
    DriftCompensation,
    PresetError,
    load_preset,
    preset_from_dict,
    preset_to_dict,
    program_and_verify,
)
from ..devices.array import NODAL_AUTO_MAX_CELLS
from ..devices.irdrop import effective_conductance, series_conductance

__all__ = ["DeviceAdapter", "Programmed", "RangeTest", "PROGRAM_METHODS", "ArraySpec", "DriftCompensation",
           "preset_to_dict", "preset_from_dict"]

PROGRAM_METHODS = ("direct", "verify")
#: retention loss below double precision over this age is not simulated [s] (as ``Crossbar``)
_RETENTION_HORIZON = 1e9


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
    counts: np.ndarray = None  # type: ignore[assignment]
    """Lifetime program pulses per device [pulses] (int64)."""
    budget: np.ndarray = None  # type: ignore[assignment]
    """Endurance budget per device [pulses] (``inf``: unlimited)."""
    t_fail: np.ndarray = None  # type: ignore[assignment]
    """Age at which the device loses its state [s] (``inf``: never)."""

    def __post_init__(self) -> None:
        n = self.g.size
        if self.counts is None:
            self.counts = np.zeros(n, np.int64)
        if self.budget is None:
            self.budget = np.full(n, np.inf)
        if self.t_fail is None:
            self.t_fail = np.full(n, np.inf)

    #: per-device arrays and their dtypes (what artifacts store)
    ARRAYS = {"g": np.float64, "nu": np.float64, "fault": np.int8, "counts": np.int64, "budget": np.float64,
              "t_fail": np.float64}
    #: totals (what artifacts store next to the arrays)
    TOTALS = {"pulses": int, "verify_reads": int, "energy": float, "latency": float, "unconverged": int}


@dataclasses.dataclass
class RangeTest:
    """Result of :meth:`DeviceAdapter.range_test`: measured bottom and top of every device and the test's cost."""

    lo: np.ndarray
    """Measured bottom (read after a full RESET) [S]."""
    hi: np.ndarray
    """Measured top (read after a full SET) [S]."""
    pulses: int
    """Pulses sent [pulses]."""
    reads: int
    """Reads [reads]."""
    energy: float
    """Pulse energy [J]."""
    latency: float
    """Pulses and reads one after another [s]."""


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
        """Relative standard deviation of a white read [1]."""
        return float(self.preset.read_noise.read_noise)

    @property
    def retention_on(self) -> bool:
        """True when retention loss is measurable within 1e9 s (~30 years)."""
        return float(self.preset.retention.survival(_RETENTION_HORIZON)) < 1.0

    @property
    def drifts(self) -> bool:
        """True when the devices drift."""
        return not self.preset.drift.is_ideal

    @property
    def ages(self) -> bool:
        """True when a read depends on the age since programming (drift, 1/f noise, relaxation, retention)."""
        p = self.preset
        return self.drifts or p.read_noise.flicker_on or p.retention.relax_sigma > 0.0 or self.retention_on

    def to_dict(self) -> dict:
        """The preset as the device layer writes it (``preset_to_dict``): artifacts reopen it exactly."""
        return preset_to_dict(self.preset)

    # ------------------------------------------------------------------ programming
    def program(self, target: np.ndarray, *, method: str = "direct", seed: int, tolerance: float = 0.01,
                max_pulses: int = 100) -> Programmed:
        """Program devices towards ``target`` [S] (flat array); see the module docstring."""
        if method not in PROGRAM_METHODS:
            raise ValueError(f"program = {method!r} is not one of {list(PROGRAM_METHODS)}")
        p = self.preset
        dev = p.device
        target = np.asarray(target, dtype=np.float64).ravel()
        n = target.size
        rng, lo, hi, fault = self._draw(n, seed)
        t_fail = rng.exponential(p.retention.tau, n) if self.retention_on else np.full(n, np.inf)
        t_fail[fault != 0] = np.inf
        budget = p.endurance.sample(n, rng)
        t = np.clip(target, lo, hi)
        if dev.levels >= 2:
            step = (dev.g_max - dev.g_min) / (dev.levels - 1)
            t = np.clip(dev.g_min + np.round((t - dev.g_min) / step) * step, lo, hi)
        prog = p.programming
        if method == "direct":
            g = t.copy()
            dg = float(dev.dg_up)
            counts = np.ceil((g - lo) / dg - 1e-9).astype(np.int64) if dg > 0 else np.zeros(n, np.int64)
            counts = np.maximum(counts, 0)
            counts[fault != 0] = 0
            n_p = int(counts.sum())
            out = Programmed(g=g, nu=np.zeros(n), fault=fault, pulses=n_p, verify_reads=0,
                             energy=n_p * float(prog.e_set), latency=n_p * float(prog.t_pulse), unconverged=0,
                             counts=counts, budget=budget, t_fail=t_fail)
        else:
            res = program_and_verify(dev, t, lo, read_noise=self.read_noise, tolerance=tolerance,
                                     max_pulses=max_pulses, programming=prog, seed=int(seed) + 1,
                                     fault=fault.copy(), budget=budget, fail_state=p.endurance.fail_state)
            healthy = fault == 0
            out = Programmed(g=res.g, nu=np.zeros(n), fault=res.fault, pulses=int(res.pulses.sum()),
                             verify_reads=int(res.verify_reads.sum()), energy=res.energy_total,
                             latency=res.latency_total, unconverged=int(np.sum(~res.converged & healthy)),
                             counts=res.counts, budget=budget, t_fail=t_fail)
        healthy = out.fault == 0
        if prog.noise_on:
            noisy = np.clip(prog.write_noise(out.g, dev.g_min, dev.g_max, np.random.default_rng([int(seed), 12])),
                            lo, hi)
            out.g = np.where(healthy, noisy, out.g)
        drift = p.drift
        if not drift.is_ideal:
            rng_nu = np.random.default_rng([int(seed), 13])
            out.nu = (drift.sample_nu(n, rng_nu, t, dev.g_max) if drift.depends_on_g else drift.sample_nu(n, rng_nu))
        out.nu = np.where(healthy, out.nu, 0.0)
        on, off = out.fault == 1, out.fault == -1
        out.g[on] = hi[on]
        out.g[off] = lo[off]
        out.t_fail[~healthy] = np.inf
        return out

    def _draw(self, n: int, seed: int) -> tuple[np.random.Generator, np.ndarray, np.ndarray, np.ndarray]:
        """The devices' own ranges and fault states (step 1 of the module docstring); the generator goes on."""
        p = self.preset
        rng = np.random.default_rng([int(seed), 7])
        d2d = p.variability.sample(p.device, n, rng)
        return rng, d2d["g_min"], d2d["g_max"], p.faults.sample(n, rng)

    def range_test(self, n: int, *, seed: int) -> RangeTest:
        r"""March-style range test of the ``n`` devices that :meth:`program` with the same ``seed`` writes.

        Every device gets a full SET pulse train of the nominal swing (:math:`\lceil R / \delta_{up}
        \rceil` pulses of ``e_set``), is read, gets a full RESET train (:math:`\lceil R / \delta_{down}
        \rceil` pulses of ``e_reset``) and is read again; the reads (white read noise) are the measured top
        and bottom.  A healthy device reaches its own ``g_max`` and ``g_min``; a stuck one stays at its
        stuck value.  The device ends in its RESET state, from which :meth:`program` writes.
        """
        p = self.preset
        dev, prog = p.device, p.programming
        _, lo, hi, fault = self._draw(n, seed)
        top = np.where(fault == -1, lo, hi)
        bottom = np.where(fault == 1, hi, lo)
        rng = np.random.default_rng([int(seed), 21])
        if self.read_noise > 0.0:
            top = np.maximum(p.read_noise.read(top, rng), 0.0)
            bottom = np.maximum(p.read_noise.read(bottom, rng), 0.0)
        r = self.g_range
        n_set = int(np.ceil(r / float(dev.dg_up) - 1e-9)) if dev.dg_up > 0 else 1
        n_reset = int(np.ceil(r / float(dev.dg_down) - 1e-9)) if dev.dg_down > 0 else 1
        pulses = n * (n_set + n_reset)
        return RangeTest(lo=bottom, hi=top, pulses=pulses, reads=2 * n,
                         energy=n * (n_set * float(prog.e_set) + n_reset * float(prog.e_reset)),
                         latency=pulses * float(prog.t_pulse) + 2 * n * float(prog.t_verify))

    # ------------------------------------------------------------------ reading
    def read(self, prog: Programmed, t: float, rng: np.random.Generator | None) -> np.ndarray:
        """Conductances read at age ``t`` [s] after programming (module docstring); a new array.

        ``rng`` draws the noise of this epoch (1/f and relaxation deviates, white read noise).
        """
        p = self.preset
        g = prog.g
        out = np.array(g, dtype=np.float64, copy=True)
        if self.drifts:
            out = p.drift.apply(out, t, prog.nu)
        rn, ret = p.read_noise, p.retention
        if t > 0.0 and (rn.flicker_on or ret.relax_sigma > 0.0):
            rng = np.random.default_rng(rng)
            dg = np.zeros_like(out)
            if rn.flicker_on:
                dg += np.abs(out) * rn.flicker_sigma(g, self.g_max, t) * rng.standard_normal(out.shape)
            if ret.relax_sigma > 0.0:
                dg += ret.relax_std(t, self.g_range) * rng.standard_normal(out.shape)
            out = np.maximum(out + dg, 0.0)
        if self.retention_on:
            out = np.where(t > prog.t_fail, ret.fail_conductance(self.g_min, self.g_max), out)
        if self.read_noise > 0.0:
            out = np.maximum(rn.read(out, rng), 0.0)
        return out

    def wire_model(self, g: np.ndarray, array: ArraySpec) -> tuple[np.ndarray, np.ndarray, str]:
        """Series resistance ``R_eq`` [Ohm] and sneak conductance ``G_sn`` [S] of every cell of a tile.

        ``g`` is the tile's programmed conductance matrix ``(rows, cols)`` [S].  The row-parallel read
        of an analog matrix-vector product drives every word line and holds every bit line at virtual
        ground, the ``"grounded"`` scheme of :func:`memr_snn.devices.irdrop.effective_conductance`,
        whose transfer matrix :math:`T` gives every column current exactly for linear cells.
        ``array.ir_drop``: ``"nodal"`` solves it, ``"series"`` uses the first-order
        ``series_conductance``, ``"auto"`` solves it for linear cells on tiles of at most
        ``NODAL_AUTO_MAX_CELLS`` cross-points.  Returns ``(r_eq, g_sn, model)`` with
        :math:`G_{eff} = G / (1 + G R_{eq}) + G_{sn}` equal to :math:`T` at the programmed ``g``.
        """
        g = np.asarray(g, dtype=np.float64)
        circuit = array.circuit()
        model = array.ir_drop
        if model == "auto":
            model = "nodal" if circuit.cell != "1S1R" and g.size <= NODAL_AUTO_MAX_CELLS else "series"
        if array.r_wire == 0.0:
            return np.zeros(g.shape), np.zeros(g.shape), model
        eff = (series_conductance(g, circuit) if model == "series"
               else effective_conductance(g, circuit, "grounded", array.v_read))
        with np.errstate(divide="ignore", invalid="ignore"):
            series = (g > 0) & (eff > 0) & (eff <= g)
            r_eq = np.where(series, 1.0 / np.where(series, eff, 1.0) - 1.0 / np.where(series, g, 1.0), 0.0)
        return r_eq, np.where(series, 0.0, eff - g), model

    def read_energy_per_siemens(self) -> tuple[float, float]:
        """``(v_read, t_read)`` of the preset's programming electricals [V], [s]."""
        return float(self.preset.programming.v_read), float(self.preset.programming.t_read)

    # ------------------------------------------------------------------ health
    def health(self, prog: Programmed, t: float) -> dict[str, float]:
        """Health of a set of devices at age ``t`` [s]: stuck and failed devices, drift state, pulses used
        and endurance left (min and mean over the healthy devices' budgets; ``inf`` when unlimited)."""
        p = self.preset
        n = prog.g.size
        healthy = prog.fault == 0
        factor = p.drift.apply(np.ones(n), t, prog.nu) if self.drifts else np.ones(n)
        left = prog.budget - prog.counts
        lh = left[healthy]
        return {
            "devices": n, "stuck_on": int(np.sum(prog.fault == 1)), "stuck_off": int(np.sum(prog.fault == -1)),
            "worn_out": int(np.sum(~healthy & (prog.counts >= prog.budget))),
            "retention_failed": int(np.sum(t > prog.t_fail)),
            "age_s": float(t), "nu_mean": float(np.mean(prog.nu[healthy])) if lh.size else 0.0,
            "drift_factor_mean": float(np.mean(factor[healthy])) if lh.size else 1.0,
            "pulses_used": int(prog.counts.sum()),
            "endurance_left_min": float(lh.min()) if lh.size else 0.0,
            "endurance_left_mean": float(lh.mean()) if lh.size else 0.0,
            "endurance_used_max": float(np.max(prog.counts / prog.budget)) if n else 0.0,
        }

