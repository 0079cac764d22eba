r"""Device accounting: reads, program pulses, energy and projected lifetime, per projection and per device class.

Per crossbar projection:

* **reads** -- device reads made by spikes (a differential pair is two reads), and
  their energy :math:`\sum V_{read}^2\, G_e\, t_{read}` (accumulated by the kernel);
* **program pulses** and **verify reads** -- from programming (mapping weights,
  program-and-verify) and from learning (:meth:`CrossbarState.apply_pulses`), with
  their energy (``e_set`` / ``e_reset`` per pulse, read energy per verify read) and
  latency;
* **wear** -- pulses per device (mean, max), wear in full SET/RESET cycles
  (:mod:`memr_snn.devices.endurance`: ``|dG| / (2 (G_max - G_min))`` per pulse), devices
  stuck or worn out;
* **projected lifetime** -- each device's remaining endurance budget (full cycles)
  divided by its wear rate *during the simulated run* (full cycles worn after the
  initial programming over the simulated time); the worst device sets the array's
  lifetime.  Without wear during the run the lifetime is unbounded by wear, and the
  report gives instead how many more full reprogrammings (each wearing a device as
  much as its initial programming did) the worst device can take.

Per device class (the preset name, or ``"custom"``) the rows are summed.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import numpy as np

__all__ = ["ProjectionDeviceReport", "DeviceReport", "device_report"]

_YEAR = 365.25 * 24 * 3600.0


@dataclasses.dataclass
class ProjectionDeviceReport:
    """Accounting of one crossbar projection (SI units)."""

    projection: str
    device_class: str
    encoding: str
    synapses: int
    devices: int
    tiles: int
    reads: int
    read_energy: float
    program_pulses: int
    verify_reads: int
    program_energy: float
    program_latency: float
    pulses_mean: float
    pulses_max: int
    faulty_devices: int
    wear_max: float
    """Largest wear of a device [full cycles]."""
    run_pulses: int
    simulated_time: float
    lifetime: float
    """Projected lifetime of the worst device [s] (``inf``: no wear during the run)."""
    reprogrammings_left: float
    """Full reprogrammings the worst device can still take (``inf`` without an endurance limit)."""

    @property
    def total_energy(self) -> float:
        return self.read_energy + self.program_energy


@dataclasses.dataclass
class DeviceReport:
    """Device accounting of a network: one row per crossbar projection, and totals per device class."""

    rows: list[ProjectionDeviceReport]

    def by_class(self) -> dict[str, dict[str, float]]:
        """Sums per device class (read/program energy, pulses, reads; lifetime: the worst)."""
        out: dict[str, dict[str, float]] = {}
        for r in self.rows:
            c = out.setdefault(r.device_class, {
                "projections": 0, "devices": 0, "reads": 0, "read_energy": 0.0, "program_pulses": 0,
                "verify_reads": 0, "program_energy": 0.0, "total_energy": 0.0, "lifetime": math.inf,
            })
            c["projections"] += 1
            for k in ("devices", "reads", "read_energy", "program_pulses", "verify_reads", "program_energy"):
                c[k] += getattr(r, k)
            c["total_energy"] += r.total_energy
            c["lifetime"] = min(c["lifetime"], r.lifetime)
        return out

    def totals(self) -> dict[str, float]:
        keys = ("devices", "reads", "read_energy", "program_pulses", "verify_reads", "program_energy")
        out = {k: sum(getattr(r, k) for r in self.rows) for k in keys}
        out["total_energy"] = out["read_energy"] + out["program_energy"]
        return out

    def to_dict(self) -> dict[str, Any]:
        def clean(v):
            return None if isinstance(v, float) and math.isinf(v) else v

        return {
            "projections": [{k: clean(v) for k, v in dataclasses.asdict(r).items()} | {"total_energy": r.total_energy}
                            for r in self.rows],
            "by_class": {k: {kk: clean(vv) for kk, vv in v.items()} for k, v in self.by_class().items()},
            "totals": self.totals(),
        }

    def format(self) -> str:
        """A plain-text table."""
        if not self.rows:
            return "no crossbar projections"
        header = (f"{'projection':<14}{'device':<11}{'devices':>9}{'reads':>11}{'E_read':>11}{'pulses':>11}"
                  f"{'verify':>10}{'E_prog':>11}{'max/dev':>8}{'faulty':>9}{'lifetime':>18}")
        lines = [header]
        for r in self.rows:
            lines.append(
                f"{r.projection[:13]:<14}{r.device_class[:10]:<11}{r.devices:>9}{r.reads:>11}"
                f"{_eng(r.read_energy, 'J'):>11}{r.program_pulses:>11}{r.verify_reads:>10}"
                f"{_eng(r.program_energy, 'J'):>11}{r.pulses_max:>8}{r.faulty_devices:>9}{_life(r):>18}"
            )
        t = self.totals()
        lines.append(
            f"{'total':<25}{t['devices']:>9}{t['reads']:>11}{_eng(t['read_energy'], 'J'):>11}"
            f"{t['program_pulses']:>11}{t['verify_reads']:>10}{_eng(t['program_energy'], 'J'):>11}"
        )
        lines.append("lifetime: worst device's remaining endurance / its wear rate during the run (full SET/RESET "
                     "cycles); 'N reprog.': full reprogrammings left when the run wore no device")
        return "\n".join(lines)


def _eng(x: float, unit: str) -> str:
    if x == 0:
        return f"0 {unit}"
    for scale, prefix in ((1e-15, "f"), (1e-12, "p"), (1e-9, "n"), (1e-6, "u"), (1e-3, "m"), (1.0, "")):
        if abs(x) < scale * 1000:
            return f"{x / scale:.3g} {prefix}{unit}"
    return f"{x:.3g} {unit}"


def _life(r: ProjectionDeviceReport) -> str:
    if math.isfinite(r.lifetime):
        return f"{r.lifetime / _YEAR:.3g} y" if r.lifetime > _YEAR else f"{r.lifetime:.3g} s"
    if math.isfinite(r.reprogrammings_left):
        return f"{r.reprogrammings_left:.3g} reprog."
    return "unlimited"


def _row(pr) -> ProjectionDeviceReport:
    cb = pr.crossbar
    counts = np.asarray(cb.counts)
    wear = np.asarray(cb.wear)
    wear0 = np.asarray(cb.wear0)
    run_pulses = counts - cb.counts0
    run_wear = wear - wear0
    t_sim = float(cb._now)
    with np.errstate(invalid="ignore"):  # inf - finite is inf; unlimited budgets stay unlimited
        remaining = np.maximum(np.asarray(cb.budget) - wear, 0.0)
    healthy = np.asarray(cb.fault) == 0
    lifetime = math.inf
    if t_sim > 0 and np.any(run_wear[healthy] > 0):
        rate = run_wear[healthy] / t_sim
        with np.errstate(divide="ignore", invalid="ignore"):
            life = np.where(rate > 0, remaining[healthy] / rate, np.inf)
        lifetime = float(life.min())
    with np.errstate(divide="ignore", invalid="ignore"):
        per_prog = np.where(wear0 > 0, remaining / np.where(wear0 > 0, wear0, 1.0), np.inf)
    reprog = float(per_prog[healthy].min()) if np.any(healthy) else 0.0
    return ProjectionDeviceReport(
        projection=pr.name, device_class=cb.components.get("preset_name") or "custom",
        encoding=cb.spec.encoding, synapses=cb.n_synapses, devices=cb.n_devices, tiles=len(cb.tiling.tiles),
        reads=cb.reads, read_energy=cb.read_energy, program_pulses=int(cb.program_pulses) + sum(cb.learning_pulses),
        verify_reads=int(cb.verify_reads), program_energy=float(cb.program_energy) + cb.learning_energy,
        program_latency=float(cb.program_latency), pulses_mean=float(counts.mean()) if counts.size else 0.0,
        pulses_max=int(counts.max(initial=0)), faulty_devices=int((~healthy).sum()),
        wear_max=float(wear.max(initial=0.0)),
        run_pulses=int(run_pulses.sum()), simulated_time=t_sim, lifetime=lifetime, reprogrammings_left=reprog,
    )


def device_report(net) -> DeviceReport:
    """Device accounting of every crossbar projection of ``net`` (see the module docstring)."""
    return DeviceReport([_row(pr) for pr in net.projections if getattr(pr, "crossbar", None) is not None])
