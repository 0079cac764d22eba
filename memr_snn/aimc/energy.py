r"""Energy and latency of analog inference: chip profiles as data, per-layer and total reports.

A :class:`AIMCProfile` holds the per-operation costs of a chip; the built-in profiles are JSON
files next to this module (``profiles/*.json``), every number with its unit, a source and a
provenance tag (``published``: printed in the cited source; ``derived``: arithmetic on published
numbers, shown in the source text; ``assumed``: a modelling choice, argued in the source text).

The forward pass only *counts* (:mod:`.tile`); prices are applied here, so the same run can be priced
with several profiles.  For a layer (sums over its tiles and reads):

.. math::

    E = E_{array} + E_{DAC} + E_{ADC} + E_{digital} + E_{interconnect} + E_{static} + E_{program}

* :math:`E_{array} = d\, V_{read}^2 \sum_{reads} \sum_i a(x_i) G_i` with :math:`d` = ``devices_per_sign``,
  :math:`G_i` the summed conductance of row ``i`` (all devices of the row, reference column included) and the input
  activity :math:`a`: :math:`x_i^2 t_{amp}` for ``amplitude`` (the row voltage is
  :math:`x_i V_{read}` for :math:`t_{amp}`), :math:`|x_i| L\, t_{pwm}` for ``pulse_width`` (the
  row is at :math:`V_{read}` for :math:`|x_i| L` time steps, :math:`L = 2^{n-1} - 1`), and
  :math:`\sum_j |p_{ij}| t_{bit}` over the bit planes for ``bit_serial``;
* :math:`E_{DAC} = N_{DAC}\, e_{dac}` (one conversion per row per read, per bit plane when bit-serial);
* :math:`E_{ADC} = N_{ADC}\,(F_{W} 2^{m} + P_{ADC}\, t_{read})` (Walden figure of merit :math:`F_W` per
  conversion step, Walden, IEEE JSAC 17, 1999; plus the power of an ADC that runs during the whole read,
  such as a current-controlled oscillator, times the read time);
* :math:`E_{static} = P_{static}\, n_{active}\, t_{analog}` (leakage, clock and control of the active
  tiles over the layer's analog latency);
* :math:`E_{digital} = N_{ops}\, e_{op}` (input scaling, output rescaling, slice combination,
  partial-sum accumulation, bias, activations, pooling);
* :math:`E_{interconnect} = (N_{bits,in} + N_{bits,out})\, e_{bit}` (DAC codes into and ADC codes out
  of every tile);
* :math:`E_{program}`: the device layer's programming energy (one-off; the figures of merit
  exclude it).

Converters without a resolution (``bits=None``) are priced as 8 bits (:data:`UNLIMITED_BITS`).

Latency.  One read of a tile takes :math:`t_{in} + t_{conv}`: :math:`t_{in}` is
:math:`t_{amp}`, :math:`L\, t_{pwm}` or :math:`(n - 1)\, t_{bit}`; :math:`t_{conv}` is the ADC's
cycles (``bits`` for SAR, ``2**bits`` for ramp) times :math:`t_{adc}` times
``adc.columns_per_adc`` (the channels sharing an ADC convert in turn), times the bit planes when
bit-serial.  With ``adc_overlaps_read`` (counting ADCs such as
current-controlled oscillators, which digitise while the column integrates) a read takes
:math:`\max(t_{in}, t_{conv})`.  The tiles of a layer work in parallel when the chip has that many
(``n_tiles``), otherwise in :math:`\lceil n_{layer} / n_{tiles} \rceil` rounds; a layer takes
rounds times the largest (reads times read time) of its tiles plus its digital operations spread
over ``digital_lanes``; layers run one after another.

Figures of merit: MACs are the logical multiply-accumulates (vectors times ``n_in * n_out``);
``fj_per_mac`` = inference energy / MACs, ``tops_per_w`` = 2 MACs / inference energy / 1e12.
"""

from __future__ import annotations

import dataclasses
import math
from importlib import resources
from pathlib import Path
from typing import Any

from .._json_files import builtin_names, read_named_json, write_json

__all__ = [
    "AIMCProfile", "ProfileError", "load_profile", "list_profiles", "save_profile", "profile_to_dict",
    "profile_from_dict", "LayerEnergy", "EnergyReport", "UNLIMITED_BITS", "PROVENANCE", "price_layer",
]

PROFILE_FORMAT = "memr_snn.aimc_profile"
PROFILE_VERSION = 1
PROVENANCE = ("published", "derived", "assumed")
#: resolution at which unlimited converters are priced [bit]
UNLIMITED_BITS = 8


class ProfileError(ValueError):
    """An AIMC profile (file, dict or constructor call) is malformed; the message names the field and value."""


def _f(unit: str, low: float, high: float, kind: type = float, **default):
    return dataclasses.field(metadata={"unit": unit, "range": (low, high), "kind": kind}, **default)


@dataclasses.dataclass(frozen=True)
class AIMCProfile:
    """Per-operation costs of an analog in-memory-computing chip (SI units)."""

    name: str
    """Short identifier."""
    tile_rows: int = _f("1", 2, 8192, int)
    """Word lines per tile (core) of the chip [1]."""
    tile_cols: int = _f("1", 2, 8192, int)
    """Device columns per tile [1]."""
    n_tiles: int = _f("1", 1, 10**6, int)
    """Tiles on the chip [1]: more tiles per layer are used in rounds."""
    v_read: float = _f("V", 1e-3, 5.0)
    """Full-scale read voltage on a row [V]."""
    t_amp: float = _f("s", 1e-12, 1e-3)
    """Duration of one amplitude-mode read [s]."""
    t_pwm: float = _f("s", 1e-12, 1e-3)
    """Time step of pulse-width input [s]."""
    t_bit: float = _f("s", 1e-12, 1e-3)
    """Duration of one bit-plane read (bit-serial input) [s]."""
    e_dac: float = _f("J", 0.0, 1e-9)
    """Energy of one DAC conversion (one row, one read or bit plane) [J]."""
    adc_fom: float = _f("J", 0.0, 1e-9)
    """Walden figure of merit: ADC energy per conversion step, :math:`E = F_W 2^m` [J]."""
    t_adc: float = _f("s", 1e-13, 1e-3)
    """ADC cycle: a conversion takes ``bits`` (SAR) or ``2**bits`` (ramp) cycles [s]."""
    adc_overlaps_read: bool = _f("1", 0, 1, bool)
    """True when the ADC converts while the column integrates (read time = max, not sum)."""
    e_digital_op: float = _f("J", 0.0, 1e-9)
    """Energy of one digital operation (add, multiply, compare) [J]."""
    t_digital_op: float = _f("s", 0.0, 1e-3)
    """Time of one digital operation in one lane [s]."""
    digital_lanes: int = _f("1", 1, 10**6, int)
    """Digital operations done in parallel [1]."""
    e_interconnect_bit: float = _f("J", 0.0, 1e-9)
    """Energy of moving one bit between a tile and the digital units [J]."""
    devices_per_sign: int = _f("1", 1, 16, int, default=1)
    """Devices of one sign of a weight read in parallel (a unit cell of ``2 * devices_per_sign`` devices);
    multiplies the array energy [1] (optional in files: 1)."""
    p_adc: float = _f("W", 0.0, 1e-1, default=0.0)
    """Power of one ADC while a read lasts (a counting or oscillator ADC runs during the whole read) [W]
    (optional in files: 0)."""
    p_static_tile: float = _f("W", 0.0, 10.0, default=0.0)
    """Static power of one active tile: leakage, clock distribution and control, over the layer's analog
    latency [W] (optional in files: 0)."""
    chip: str = ""
    """The chip in words."""
    description: str = ""
    """What the numbers represent."""
    sources: dict = dataclasses.field(default_factory=dict)
    """Field -> citation or (for ``assumed``) the argument."""
    provenance: dict = dataclasses.field(default_factory=dict)
    """Field -> ``published``, ``derived`` or ``assumed``."""

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise ProfileError(f"name must be a non-empty string, got {self.name!r}")
        for f in _numeric_fields():
            v = getattr(self, f.name)
            kind = f.metadata["kind"]
            low, high = f.metadata["range"]
            if kind is bool:
                if not isinstance(v, bool):
                    raise ProfileError(f"{f.name} must be true or false, got {v!r}")
                continue
            if kind is int and (isinstance(v, bool) or not isinstance(v, int)):
                raise ProfileError(f"{f.name} must be an integer in [{low}, {high}], got {v!r}")
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) or not low <= v <= high:
                raise ProfileError(f"{f.name} = {v!r} [{f.metadata['unit']}] is outside the allowed range "
                                   f"[{low:g}, {high:g}]")

    def e_adc(self, bits: int | None) -> float:
        """Energy of one conversion at ``bits`` [J] (Walden: ``adc_fom * 2**bits``)."""
        return self.adc_fom * 2.0 ** (bits or UNLIMITED_BITS)

    def replace(self, **changes: Any) -> AIMCProfile:
        """A copy with some fields replaced."""
        return dataclasses.replace(self, **changes)


def _numeric_fields() -> list[dataclasses.Field]:
    return [f for f in dataclasses.fields(AIMCProfile) if "unit" in f.metadata]


def profile_to_dict(p: AIMCProfile) -> dict[str, Any]:
    """JSON-ready dict of ``p`` (format ``memr_snn.aimc_profile`` version 1)."""
    params = {}
    for f in _numeric_fields():
        params[f.name] = {"value": getattr(p, f.name), "unit": f.metadata["unit"],
                          "source": p.sources.get(f.name, ""), "provenance": p.provenance.get(f.name, "assumed")}
    return {"format": PROFILE_FORMAT, "version": PROFILE_VERSION, "name": p.name, "chip": p.chip,
            "description": p.description, "params": params}


def profile_from_dict(data: Any, where: str = "profile") -> AIMCProfile:
    """Inverse of :func:`profile_to_dict`; every field needs its value, unit, a non-empty source and a provenance.

    Raises
    ------
    ProfileError
        Naming the field and the offending value.
    """
    if not isinstance(data, dict):
        raise ProfileError(f"{where}: must be a JSON object, got {type(data).__name__}")
    if data.get("format") != PROFILE_FORMAT:
        raise ProfileError(f"{where}: format must be {PROFILE_FORMAT!r}, got {data.get('format')!r}")
    if data.get("version") != PROFILE_VERSION:
        raise ProfileError(f"{where}: version must be {PROFILE_VERSION}, got {data.get('version')!r}")
    params = data.get("params")
    if not isinstance(params, dict):
        raise ProfileError(f"{where}: params must be an object, got {params!r}")
    names = {f.name: f for f in _numeric_fields()}
    unknown = sorted(set(params) - set(names))
    if unknown:
        raise ProfileError(f"{where}: params.{unknown[0]} is not a profile field; allowed: {sorted(names)}")
    kwargs: dict[str, Any] = {}
    sources, prov = {}, {}
    for name, f in names.items():
        entry = params.get(name)
        path = f"{where}: params.{name}"
        if entry is None and f.default is not dataclasses.MISSING:
            continue  # a field added after version 1: older files take its default
        if not isinstance(entry, dict):
            raise ProfileError(f"{path} missing or not an object with value, unit, source, provenance")
        if entry.get("unit") != f.metadata["unit"]:
            raise ProfileError(f"{path}.unit must be {f.metadata['unit']!r}, got {entry.get('unit')!r}")
        src = entry.get("source")
        if not isinstance(src, str) or not src.strip():
            raise ProfileError(f"{path}.source must be a non-empty citation or reason, got {src!r}")
        pv = entry.get("provenance")
        if pv not in PROVENANCE:
            raise ProfileError(f"{path}.provenance must be one of {list(PROVENANCE)}, got {pv!r}")
        if pv == "assumed" and not src.lower().startswith("assumed"):
            raise ProfileError(f"{path}.source of an assumed value must start with 'assumed' and give the reason, "
                               f"got {src!r}")
        kwargs[name] = entry.get("value")
        sources[name], prov[name] = src, pv
    for key in ("name", "chip", "description"):
        if not isinstance(data.get(key, ""), str):
            raise ProfileError(f"{where}: {key} must be a string, got {data.get(key)!r}")
    try:
        return AIMCProfile(name=data.get("name", ""), chip=data.get("chip", ""),
                           description=data.get("description", ""), sources=sources, provenance=prov, **kwargs)
    except ProfileError as exc:
        raise ProfileError(f"{where}: {exc}") from None


def _builtin_dir():
    return resources.files(__package__).joinpath("profiles")


def list_profiles() -> list[str]:
    """Names of the built-in AIMC profiles."""
    return builtin_names(_builtin_dir())


def load_profile(name_or_path: str | Path | AIMCProfile) -> AIMCProfile:
    """A built-in profile by name (:func:`list_profiles`), a profile file by path, or a profile as given.

    Raises
    ------
    ProfileError
        Unknown name (the message lists the known ones), unreadable or malformed file.
    """
    if isinstance(name_or_path, AIMCProfile):
        return name_or_path
    data, where = read_named_json(name_or_path, _builtin_dir(), kind="AIMC profile", short="profile",
                                  error=ProfileError)
    return profile_from_dict(data, where)


def save_profile(p: AIMCProfile, path: str | Path) -> Path:
    """Write ``p`` as JSON; returns the path."""
    return write_json(profile_to_dict(p), path)


COMPONENTS = ("array", "dac", "adc", "digital", "interconnect", "static", "program")


@dataclasses.dataclass
class LayerEnergy:
    """Energy [J] by component, latency [s] and MACs of one layer (or the total)."""

    name: str
    energy: dict[str, float]
    latency: float
    macs: float
    reads: float = 0.0
    bm_rereads: float = 0.0

    @property
    def inference_energy(self) -> float:
        """Energy without programming [J]."""
        return sum(v for k, v in self.energy.items() if k != "program")

    @property
    def total_energy(self) -> float:
        """Energy with programming [J]."""
        return sum(self.energy.values())


@dataclasses.dataclass
class EnergyReport:
    """Per-layer energy and latency of a run and their totals, priced with one profile."""

    profile: str
    layers: list[LayerEnergy]

    @property
    def total(self) -> LayerEnergy:
        """Sum over the layers; their latencies add up, as the layers run one after another."""
        e = {k: sum(lay.energy[k] for lay in self.layers) for k in COMPONENTS}
        return LayerEnergy("total", e, sum(lay.latency for lay in self.layers), sum(lay.macs for lay in self.layers),
                           sum(lay.reads for lay in self.layers), sum(lay.bm_rereads for lay in self.layers))

    @property
    def fj_per_mac(self) -> float:
        """Inference energy per logical MAC [fJ]."""
        t = self.total
        return t.inference_energy / t.macs * 1e15 if t.macs else float("nan")

    @property
    def tops_per_w(self) -> float:
        """Operations (2 per MAC) per joule / 1e12 [TOPS/W]."""
        t = self.total
        return 2.0 * t.macs / t.inference_energy / 1e12 if t.inference_energy else float("nan")

    def table(self) -> str:
        """A text table: one row per layer and the total, energies in nJ, latency in us."""
        head = f"{'layer':<14}" + "".join(f"{k:>13}" for k in COMPONENTS) + f"{'latency_us':>12}{'MACs':>12}"
        rows = [head]
        for lay in [*self.layers, self.total]:
            rows.append(f"{lay.name:<14}" + "".join(f"{lay.energy[k] * 1e9:>13.4g}" for k in COMPONENTS)
                        + f"{lay.latency * 1e6:>12.4g}{lay.macs:>12.4g}")
        rows.append(f"profile {self.profile}: {self.fj_per_mac:.4g} fJ/MAC, {self.tops_per_w:.4g} TOPS/W "
                    f"(energies in nJ; programming excluded from the figures of merit)")
        return "\n".join(rows)


def price_layer(name: str, tiles, io, profile: AIMCProfile, macs: float, extra_digital_ops: float,
                program_energy: float) -> LayerEnergy:
    """Energy and latency of one layer from its tiles' counters (module docstring)."""
    p = profile
    dac, adc = io.dac, io.adc
    dac_bits = dac.bits or UNLIMITED_BITS
    levels = 2 ** (dac_bits - 1) - 1
    e = dict.fromkeys(COMPONENTS, 0.0)
    t_in = {"amplitude": p.t_amp, "pulse_width": levels * p.t_pwm, "bit_serial": (dac_bits - 1) * p.t_bit}[dac.mode]
    if dac.mode == "bit_serial" and dac.bits is None:
        t_in = p.t_amp  # an unlimited bit-serial DAC is read as one amplitude read
    planes = (dac_bits - 1) if (dac.mode == "bit_serial" and dac.bits is not None) else 1
    cycles = adc.bits if adc.kind == "sar" else 2 ** (adc.bits or UNLIMITED_BITS)
    cycles = cycles or UNLIMITED_BITS
    worst = 0.0
    digital = float(extra_digital_ops)
    reads = rereads = 0.0
    v2 = p.v_read**2
    v2 *= p.devices_per_sign
    for t in tiles:
        c = t.counters
        if dac.mode == "amplitude" or (dac.mode == "bit_serial" and dac.bits is None):
            e["array"] += v2 * p.t_amp * c["array_x2"]
        elif dac.mode == "pulse_width":
            e["array"] += v2 * levels * p.t_pwm * c["array_x1"]
        else:
            e["array"] += v2 * p.t_bit * c["array_bits"]
        e["dac"] += c["dac_conversions"] * p.e_dac
        # every ADC converts its ``columns_per_adc`` channels in turn, once per bit plane
        t_conv = cycles * p.t_adc * min(adc.columns_per_adc, t.n_ch) * planes
        t_read = max(t_in, t_conv) if p.adc_overlaps_read else t_in + t_conv
        e["adc"] += c["adc_conversions"] * (p.e_adc(adc.bits) + p.p_adc * t_read / planes)
        e["interconnect"] += (c["bits_in"] + c["bits_out"]) * p.e_interconnect_bit
        digital += c["digital_ops"]
        worst = max(worst, c["reads"] * t_read)
        reads += c["reads"]
        rereads += c["bm_rereads"]
    e["digital"] = digital * p.e_digital_op
    e["program"] = float(program_energy)
    rounds = math.ceil(len(tiles) / p.n_tiles) if tiles else 0
    e["static"] = p.p_static_tile * min(len(tiles), p.n_tiles) * rounds * worst
    latency = rounds * worst + digital * p.t_digital_op / p.digital_lanes
    return LayerEnergy(name, e, latency, float(macs), reads, rereads)
