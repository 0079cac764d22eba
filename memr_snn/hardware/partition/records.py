"""Results and errors of :func:`memr_snn.hardware.partition.map_network`: :class:`Mapping`, :class:`CoreUsage`,
:class:`MappingError`, :class:`UnsupportedFeature`; synapse-list memory and measured rates."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import numpy as np

from ...io.atomic import write_text
from ..profiles import CoreProfile


class MappingError(ValueError):
    """The network cannot fit the target: names the element, the limit, its value and what is required."""

    def __init__(self, element: str, limit: str, value: float, required: float, detail: str = ""):
        self.element, self.limit, self.value, self.required = element, limit, value, required
        msg = f"{element} cannot be mapped: it needs {limit} = {required:g} but the profile allows {value:g}"
        super().__init__(msg + (f" ({detail})" if detail else ""))


class UnsupportedFeature(ValueError):
    """The network uses a feature the target cannot express: names the element and the reason."""

    def __init__(self, element: str, reason: str):
        self.element, self.reason = element, reason
        super().__init__(f"{element}: {reason}")


def list_block_bits(n_synapses, bits_per_synapse: int, profile: CoreProfile) -> np.ndarray:
    """Synaptic memory taken by synapse lists of ``n_synapses`` each [bit] (array in, array out).

    A list is stored in blocks of ``list_block_synapses``; a block of ``k``
    synapses takes ``ceil((k * bits_per_synapse + list_block_header_bits) /
    synapse_word_bits)`` words.  An empty list takes nothing.
    """
    n = np.asarray(n_synapses, dtype=np.int64)
    size, head, word = profile.list_block_synapses, profile.list_block_header_bits, profile.synapse_word_bits

    def block(k):
        return -(-(k * bits_per_synapse + head) // word) * word

    full, rem = n // size, n % size
    return full * block(size) + np.where(rem > 0, block(rem), 0)


# ============================================================================ results
@dataclasses.dataclass(frozen=True)
class CoreUsage:
    """What one core holds and does per step."""

    index: int
    """Core number (cores of chip ``k`` are ``k * cores_per_chip ...``)."""
    chip: int
    """Chip number."""
    tile: tuple[int, int]
    """(x, y) position of the core's tile on its chip's mesh."""
    neurons: int
    """Neurons on the core."""
    compartments: int
    """Compartments used (neurons plus auxiliary compartments)."""
    in_axons: int
    """Input axon slots used."""
    out_axons: int
    """Output axon slots used."""
    synapses: int
    """Synapses stored."""
    synapse_bits: int
    """Synaptic memory used [bit]."""
    delay_units: int
    """Dendritic delay units used (0 when the profile has no such budget)."""
    pieces: tuple[tuple[str, int], ...]
    """(population name, neurons of it on this core)."""
    synops_per_step: float
    """Expected synaptic operations per step."""
    compute_time: float
    """Expected compute time per step [s]."""

    def utilisation(self, profile: CoreProfile) -> dict[str, float]:
        """Fraction of each per-core limit used."""
        out = {
            "compartments": self.compartments / profile.neurons_per_core,
            "in_axons": self.in_axons / profile.fan_in_axons_per_core,
            "out_axons": self.out_axons / profile.fan_out_axons_per_core,
            "synaptic_memory": self.synapse_bits / profile.synaptic_memory_bits_per_core,
        }
        if profile.delay_units_per_core:
            out["delay_units"] = self.delay_units / profile.delay_units_per_core
        return out


@dataclasses.dataclass
class Mapping:
    """A network placed on cores, with traffic, energy and time per step (SI units).

    Attributes
    ----------
    profile : CoreProfile
        The target.
    dt : float
        Length of one step [s] (rates become spike probabilities ``rate * dt``).
    weight_bits : int
        Synaptic weight precision assumed for the memory budget [bit].
    cores : list of CoreUsage
        One entry per core used.
    core_of : dict
        Population name -> (n,) int array: the core of each neuron.
    traffic : dict
        Expected spike messages per step: ``messages`` (all (spike, destination
        core) pairs of on-chip neurons), ``inter_core`` (to another core),
        ``inter_chip`` (to another chip), ``input_messages`` (from off-chip
        inputs), and ``spikes`` (on-chip spikes).
    counts : dict
        Expected operations per step: ``synops``, ``active_updates``,
        ``inactive_updates``, ``learning_updates``, ``messages``.
    energy : dict
        Energy per step by part [J]: ``synops``, ``neuron_updates``,
        ``routing``, ``learning``, ``total``.
    time : dict
        Time per step [s]: ``compute`` (slowest core), ``routing`` (longest
        on-chip message), ``barrier``, ``total``.
    rates : dict
        Population name -> mean firing rate used [Hz].
    warnings : list of str
        Unsupported features reported under ``strict=False``, assumed rates,
        unpriced terms.
    """

    profile: CoreProfile
    dt: float
    weight_bits: int
    cores: list[CoreUsage]
    core_of: dict[str, np.ndarray]
    traffic: dict[str, float]
    counts: dict[str, float]
    energy: dict[str, float]
    time: dict[str, float]
    rates: dict[str, float]
    warnings: list[str]

    @property
    def n_cores(self) -> int:
        return len(self.cores)

    @property
    def n_chips(self) -> int:
        return len({c.chip for c in self.cores})

    @property
    def power(self) -> float:
        """Average dynamic power when one step takes ``dt`` of real time [W]."""
        return self.energy["total"] / self.dt

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict of the report (``mapping.json``)."""
        p = self.profile
        return {
            "format": "memr_snn.mapping", "version": 1,
            "profile": p.name, "chip": p.chip, "dt_s": self.dt, "weight_bits": self.weight_bits,
            "n_cores": self.n_cores, "n_chips": self.n_chips,
            "limits": {
                "neurons_per_core": p.neurons_per_core, "fan_in_axons_per_core": p.fan_in_axons_per_core,
                "fan_out_axons_per_core": p.fan_out_axons_per_core,
                "synaptic_memory_bits_per_core": p.synaptic_memory_bits_per_core,
                "delay_units_per_core": p.delay_units_per_core, "cores_per_chip": p.cores_per_chip,
            },
            "cores": [
                {**{k: v for k, v in dataclasses.asdict(c).items() if k not in ("pieces", "tile")},
                 "tile": list(c.tile), "pieces": [list(x) for x in c.pieces], "utilisation": c.utilisation(p)}
                for c in self.cores
            ],
            "traffic_per_step": self.traffic, "operations_per_step": self.counts,
            "energy_per_step_J": self.energy, "time_per_step_s": self.time, "power_W": self.power,
            "rates_hz": self.rates,
            "not_published": p.not_published(),
            "warnings": list(self.warnings),
        }

    def to_json(self, path: str | Path) -> Path:
        """Write :meth:`to_dict` as JSON; returns the path."""
        path = Path(path)
        write_text(path, json.dumps(self.to_dict(), indent=2, allow_nan=False) + "\n")
        return path

    def format(self, max_cores: int = 40) -> str:
        """The report as text: summary, per-core table (first ``max_cores``), traffic, energy, time."""
        p = self.profile
        lines = [
            f"mapping on {p.name} ({p.chip})",
            (f"cores used {self.n_cores} on {self.n_chips} chip(s) of {p.cores_per_chip} cores; "
            f"dt = {self.dt * 1e3:g} ms; weights {self.weight_bits} bit"),
            "",
            (f"{'core':>5}{'chip':>5}{'tile':>7}{'neurons':>9}{'compart':>9}{'in_ax':>7}{'out_ax':>8}"
            f"{'synapses':>10}{'mem [%]':>9}{'delay [%]':>10}{'synops/step':>13}  populations"),
        ]
        for c in self.cores[:max_cores]:
            u = c.utilisation(p)
            pieces = ", ".join(f"{n}:{k}" for n, k in c.pieces)
            dl = f"{100 * u['delay_units']:>10.1f}" if "delay_units" in u else f"{'-':>10}"
            lines.append(
                f"{c.index:>5}{c.chip:>5}{f'{c.tile[0]},{c.tile[1]}':>7}{c.neurons:>9}{c.compartments:>9}"
                f"{c.in_axons:>7}{c.out_axons:>8}{c.synapses:>10}{100 * u['synaptic_memory']:>9.1f}{dl}"
                f"{c.synops_per_step:>13.2f}  {pieces}"
            )
        if self.n_cores > max_cores:
            lines.append(f"  ... {self.n_cores - max_cores} more cores (see mapping.json)")
        util = np.array([[v for v in c.utilisation(p).values()] for c in self.cores])
        names = list(self.cores[0].utilisation(p))
        lines += ["", "utilisation (mean / max over cores): " + ", ".join(
            f"{n} {100 * util[:, k].mean():.1f}% / {100 * util[:, k].max():.1f}%" for k, n in enumerate(names))]
        t, e, tm, n = self.traffic, self.energy, self.time, self.counts
        lines += [
            (f"spikes per step: {t['spikes']:.3f} on chip, {t['input_messages']:.3f} input messages; messages "
            f"{t['messages']:.3f} (inter-core {t['inter_core']:.3f}, inter-chip {t['inter_chip']:.3f})"),
            (f"operations per step: {n['synops']:.1f} synaptic ops, {n['active_updates']:.1f} active + "
            f"{n['inactive_updates']:.1f} inactive compartment updates, {n['learning_updates']:.1f} learning updates"),
            (f"energy per step: {e['total'] * 1e9:.4g} nJ = synops {e['synops'] * 1e9:.4g} + neuron updates "
            f"{e['neuron_updates'] * 1e9:.4g} + routing {e['routing'] * 1e9:.4g} + learning "
            f"{e['learning'] * 1e9:.4g} nJ  ({self.power * 1e3:.4g} mW at one step per dt)"),
            (f"time per step: {tm['total'] * 1e6:.4g} us = slowest core {tm['compute'] * 1e6:.4g} + routing "
            f"{tm['routing'] * 1e6:.4g} + barrier {tm['barrier'] * 1e6:.4g} us  (real-time factor "
            f"{tm['total'] / self.dt:.3g})"),
        ]
        np_ = p.not_published()
        if np_:
            lines.append("not published for this chip (borrowed/assumed): " + ", ".join(sorted(np_)))
        for w in self.warnings:
            lines.append(f"warning: {w}")
        return "\n".join(lines)

    def plot(self, ax=None, title: str | None = None):
        """Bar chart of the utilisation of every per-core limit, per core; returns the axes."""
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots(figsize=(max(7.0, 0.35 * self.n_cores + 2), 3.8))
        util = [c.utilisation(self.profile) for c in self.cores]
        names = list(util[0])
        width = 0.8 / len(names)
        x = np.arange(self.n_cores)
        for k, name in enumerate(names):
            ax.bar(x + (k - (len(names) - 1) / 2) * width, [100 * u[name] for u in util], width, label=name)
        ax.axhline(100, color="k", lw=0.8, ls="--")
        ax.set_xlabel("core")
        ax.set_ylabel("utilisation [%]")
        ax.set_title(title or f"{self.profile.name}: {self.n_cores} cores, {self.n_chips} chip(s)")
        ax.set_ylim(0, 130)
        ax.set_xticks(x if self.n_cores <= 40 else x[:: max(1, self.n_cores // 20)])
        ax.legend(frameon=False, fontsize=7, ncol=3, loc="upper center")
        return ax


# ============================================================================ rates
def rates_from_monitors(monitors, duration: float | None = None) -> dict[str, np.ndarray]:
    """Per-neuron firing rates [Hz] from the spike monitors of a previous run.

    Parameters
    ----------
    monitors : iterable of SpikeMonitor
        Monitors recording whole populations.
    duration : float, optional
        Recorded time [s]; default: the time simulated by the monitors' network.
    """
    out = {}
    for mon in monitors:
        net = mon.population.network
        t = duration if duration is not None else (net.t if net is not None else 0.0)
        if not (t > 0):
            raise ValueError(f"duration must be > 0 [s] to turn spike counts into rates, got {t!r}")
        out[mon.population.name] = mon.count() / t
    return out
