"""Device presets: a device technology as one data file (``device_preset.json``).

A :class:`DevicePreset` bundles everything the simulator knows about a device
technology: the pulse-response model, device-to-device variability, read noise,
stuck faults, drift, retention, endurance and the programming electricals.  The
built-in presets live as JSON files next to this module (``presets/*.json``);
users write their own with :func:`save_preset` and read any with :func:`load_preset`.

File format (``format: "memr_snn.device_preset"``, ``version: 1``)::

    {
      "format": "memr_snn.device_preset", "version": 1,
      "name": "hfox_rram", "technology": "...", "description": "...", "source": "...",
      "units": {"device": {"g_min": "S", ...}, "drift": {"nu": "1", "t0": "s", ...}, ...},
      "device": {"kind": "exponential", "g_min": 5e-06, ...},
      "variability": {...}, "read_noise": {...}, "faults": {...}, "drift": {...},
      "retention": {...}, "endurance": {...}, "programming": {...}
    }

Every field of every component must be present, except the fields added after the
format's first release (the 1/f read noise ``read_noise.flicker*``, ``drift.model`` and
``drift.scale``, ``retention.fail_state`` and ``retention.relax_*``,
``programming.noise_model`` and ``programming.noise_sigma``, ``device.reset``,
``device.refresh``, ``variability.up_down_d2d`` and the write-noise and RESET-level fields
``device.dg_c2c_add``, ``device.dg_c2c_slope``, ``device.write_noise``, ``device.reset_level`` and
``device.reset_spread``), which take their defaults when left out so
that older files load unchanged; ``units`` must give, for every numeric field present, exactly the
unit string of :data:`UNITS` (``"1"`` for dimensionless).  ``endurance.cycles`` counts full
SET/RESET cycles (unit ``"cycles"``, :mod:`memr_snn.devices.endurance`) and is ``null`` for an
unlimited budget (JSON has no infinity); files written before it counted pulses (unit
``"pulses"``) load when the budget is unlimited and are refused with an explanation otherwise (a
pulse count has no exact conversion to full cycles).  Bad files raise :class:`PresetError` (a ``ValueError``) whose
message names the field path (``device.g_min``) and the value.

Provenance (optional top-level keys, added after the first release): ``references`` maps short citation
keys to full references, and ``provenance`` gives, per component and field (``device.kind`` included),
either ``{"source": key, "where": "Table 2 / Fig. 3b / a fitted preset's field"}`` (``where`` optional)
or ``{"assumed": "reason"}``; ``[key]`` inside those texts names a reference too.  Unknown components or
fields, entries of another shape and keys missing from ``references`` are refused.  Every built-in
preset gives an entry for every field (a test checks it); :func:`provenance_markdown` renders them as
the table of docs/devices.md.
"""

from __future__ import annotations

import dataclasses
import math
import re
from importlib import resources
from pathlib import Path
from typing import Any

from .._json_files import builtin_names, read_named_json, write_json
from .endurance import Endurance
from .nonideal import Drift, ReadNoise, Retention, StuckFaults, Variability
from .programming import Programming
from .pulse import ExpStepDevice, LinearStepDevice, PulseDevice, SoftBoundsDevice

__all__ = [
    "DevicePreset",
    "PresetError",
    "load_preset",
    "save_preset",
    "list_presets",
    "preset_to_dict",
    "preset_from_dict",
    "PRESET_FORMAT",
    "PRESET_VERSION",
    "UNITS",
    "DEVICE_KINDS",
    "provenance_fields",
    "missing_provenance",
    "provenance_markdown",
    "update_provenance_doc",
]

PRESET_FORMAT = "memr_snn.device_preset"
PRESET_VERSION = 1

#: ``kind`` in files -> pulse-device class
DEVICE_KINDS: dict[str, type[PulseDevice]] = {
    cls.kind: cls for cls in (LinearStepDevice, SoftBoundsDevice, ExpStepDevice)
}

#: component name -> its class (the device component dispatches on ``kind`` instead)
_COMPONENTS: dict[str, type] = {
    "device": PulseDevice,
    "variability": Variability,
    "read_noise": ReadNoise,
    "faults": StuckFaults,
    "drift": Drift,
    "retention": Retention,
    "endurance": Endurance,
    "programming": Programming,
}

#: expected unit string of every numeric field, per component ("1" = dimensionless)
UNITS: dict[str, dict[str, str]] = {
    "device": {
        "g_min": "S", "g_max": "S", "dg_up": "S", "dg_down": "S", "dg_c2c": "1", "levels": "1",
        "beta_up": "1", "beta_down": "1", "refresh": "1", "dg_c2c_add": "1", "dg_c2c_slope": "1",
        "write_noise": "S", "reset_level": "1", "reset_spread": "1",
    },
    "variability": {"g_min_d2d": "1", "g_max_d2d": "1", "dg_d2d": "1", "up_down_d2d": "1"},
    "read_noise": {"read_noise": "1", "flicker_scale": "1", "flicker_t_read": "s"},
    "faults": {"p_stuck_on": "1", "p_stuck_off": "1"},
    "drift": {"nu": "1", "nu_std": "1", "t0": "s", "scale": "1"},
    "retention": {"tau0": "s", "e_a": "eV", "temperature": "K", "relax_sigma": "1", "relax_t0": "s"},
    "endurance": {"cycles": "cycles", "cycles_d2d": "1"},
    "programming": {
        "v_read": "V", "t_read": "s", "v_set": "V", "v_reset": "V", "t_pulse": "s", "e_set": "J",
        "e_reset": "J", "t_verify": "s", "ispp_step": "pulses", "ispp_max": "pulses", "noise_sigma": "1",
    },
}

_INT_FIELDS = {("device", "levels"), ("programming", "ispp_step"), ("programming", "ispp_max")}
_STR_FIELDS = {("endurance", "fail_state"), ("read_noise", "flicker"), ("drift", "model"),
               ("retention", "fail_state"), ("programming", "noise_model"), ("device", "reset")}
#: fields added after version 1 was released: a file may leave them out (and their units); they then take
#: their defaults, which reproduce the behaviour of the files written before them
_OPTIONAL = {("read_noise", "flicker"), ("read_noise", "flicker_scale"), ("read_noise", "flicker_t_read"),
             ("drift", "model"), ("drift", "scale"), ("retention", "fail_state"), ("retention", "relax_sigma"),
             ("retention", "relax_t0"), ("programming", "noise_model"), ("programming", "noise_sigma"),
             ("device", "reset"), ("device", "refresh"), ("variability", "up_down_d2d"),
             ("device", "dg_c2c_add"), ("device", "dg_c2c_slope"), ("device", "write_noise"),
             ("device", "reset_level"), ("device", "reset_spread")}
_NULLABLE = {("endurance", "cycles")}  # null <-> math.inf
_TEXT_KEYS = ("name", "technology", "description", "source")
#: optional top-level keys (added after version 1 was released; files without them load unchanged)
_PROVENANCE_KEYS = ("references", "provenance")
#: a reference key inside the text of an entry: ``[gong2018]``
_REF_MENTION = re.compile(r"\[([a-z][a-z0-9_]*)\]")

#: survival over this time must round to exactly 1 for retention to count as ideal [s] (~32 years)
_IDEAL_RETENTION_HORIZON = 1e9


class PresetError(ValueError):
    """A device preset (file or dict) is malformed; the message names the field path and value."""


@dataclasses.dataclass(frozen=True)
class DevicePreset:
    """One device technology: pulse model, non-idealities, endurance and programming (SI units)."""

    name: str
    """Short identifier (file stem of the built-ins, e.g. ``"hfox_rram"``)."""
    technology: str = ""
    """Device class in words, e.g. ``"oxide RRAM (HfOx, filamentary)"``."""
    description: str = ""
    """What the numbers represent and how they were chosen."""
    source: str = ""
    """Citation(s) the values follow (authors, venue, year); empty for the ideal device."""
    device: PulseDevice = dataclasses.field(default_factory=LinearStepDevice)
    """Pulse-response model (its class is stored in files as ``kind``)."""
    variability: Variability = dataclasses.field(default_factory=Variability)
    """Device-to-device spread."""
    read_noise: ReadNoise = dataclasses.field(default_factory=ReadNoise)
    """Read noise."""
    faults: StuckFaults = dataclasses.field(default_factory=StuckFaults)
    """Stuck-at faults present from the start."""
    drift: Drift = dataclasses.field(default_factory=Drift)
    """Power-law conductance drift."""
    retention: Retention = dataclasses.field(default_factory=Retention)
    """Arrhenius retention."""
    endurance: Endurance = dataclasses.field(default_factory=Endurance)
    """Pulse budget and failure state."""
    programming: Programming = dataclasses.field(default_factory=Programming)
    """Programming electricals (energy, latency, ISPP)."""
    references: dict[str, str] = dataclasses.field(default_factory=dict, hash=False)
    """Citation key -> full reference, for the entries of :attr:`provenance`."""
    provenance: dict[str, dict[str, dict[str, str]]] = dataclasses.field(default_factory=dict, hash=False)
    """Where each parameter comes from: ``{component: {field: entry}}``, an entry being
    ``{"source": key, "where": "Table 2 / Fig. 3b / preset field"}`` (``where`` optional; ``key``
    in :attr:`references`) or ``{"assumed": "reason"}``.  ``device.kind`` counts as a field.
    Optional (an empty dict for files without it); complete for every built-in preset."""

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise PresetError(f"name must be a non-empty string, got {self.name!r}")
        for key in _TEXT_KEYS[1:]:
            if not isinstance(getattr(self, key), str):
                raise PresetError(f"{key} must be a string, got {getattr(self, key)!r}")
        for comp, cls in _COMPONENTS.items():
            if not isinstance(getattr(self, comp), cls):
                raise PresetError(f"{comp} must be a {cls.__name__}, got {getattr(self, comp)!r}")
        refs, prov = _check_provenance(self, self.references, self.provenance)
        object.__setattr__(self, "references", refs)  # private copies: the preset stays immutable in practice
        object.__setattr__(self, "provenance", prov)

    @property
    def is_ideal(self) -> bool:
        """True when every component is ideal: the ideal linear device, no spread (bounds, steps,
        asymmetry), no read noise (white or 1/f), no faults, no drift, unlimited endurance, retention
        that loses nothing measurable within ~30 years (survival rounds to 1.0) and no relaxation, and
        exact writes (no programming noise).  Energy and latency do not enter."""
        return (
            self.device.is_ideal
            and self.variability.is_ideal
            and self.read_noise.read_noise == 0.0 and not self.read_noise.flicker_on
            and self.faults.p_stuck_on == 0.0 and self.faults.p_stuck_off == 0.0
            and self.drift.is_ideal
            and self.endurance.is_ideal
            and float(self.retention.survival(_IDEAL_RETENTION_HORIZON)) == 1.0
            and self.retention.relax_sigma == 0.0
            and not self.programming.noise_on
        )

    def replace(self, **changes: Any) -> DevicePreset:
        """A copy with some fields replaced (:func:`dataclasses.replace`).

        Provenance entries of parameters whose value changed are dropped (a cited source no longer
        vouches for a value someone else chose), unless ``provenance`` is among the changes."""
        new = dataclasses.replace(self, **changes)
        if "provenance" in changes:
            return new
        kept = {comp: {name: entry for name, entry in entries.items()
                       if _field_value(new, comp, name) == _field_value(self, comp, name)}
                for comp, entries in self.provenance.items()}
        kept = {comp: entries for comp, entries in kept.items() if entries}
        return new if kept == self.provenance else dataclasses.replace(new, provenance=kept)


# ---------------------------------------------------------------------------- provenance
_MISSING = object()


def _component_fields(preset: DevicePreset, comp: str) -> list[str]:
    names = [f.name for f in dataclasses.fields(getattr(preset, comp))]
    return ["kind", *names] if comp == "device" else names


def _field_value(preset: DevicePreset, comp: str, name: str) -> Any:
    if comp == "device" and name == "kind":
        return preset.device.kind
    return getattr(getattr(preset, comp), name, _MISSING)


def provenance_fields(preset: DevicePreset) -> list[tuple[str, str]]:
    """Every parameter field of ``preset`` as ``(component, field)``, in file order (``device.kind`` first)."""
    return [(comp, name) for comp in _COMPONENTS for name in _component_fields(preset, comp)]


def missing_provenance(preset: DevicePreset) -> list[str]:
    """Field paths (``"device.g_min"``) of ``preset`` that have no provenance entry."""
    return [f"{comp}.{name}" for comp, name in provenance_fields(preset)
            if name not in preset.provenance.get(comp, {})]


def _check_text(path: str, value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise _fail(path, f"must be a non-empty string, got {value!r}")
    return value


def _check_provenance(preset: DevicePreset, references: Any, provenance: Any
                      ) -> tuple[dict[str, str], dict[str, dict[str, dict[str, str]]]]:
    """Validated copies of ``references`` and ``provenance`` for ``preset`` (see :attr:`DevicePreset.provenance`)."""
    if not isinstance(references, dict):
        raise _fail("references", f"must be an object of citation key -> full reference, got {references!r}")
    refs = {}
    for key, text in references.items():
        if not isinstance(key, str) or not re.fullmatch(r"[a-z][a-z0-9_]*", key):
            raise _fail(f"references.{key}", "a citation key is lower-case letters, digits and '_' "
                        "(starting with a letter)")
        refs[key] = _check_text(f"references.{key}", text)
    if not isinstance(provenance, dict):
        raise _fail("provenance", f"must be an object of component -> field -> entry, got {provenance!r}")
    prov: dict[str, dict[str, dict[str, str]]] = {}
    for comp, entries in provenance.items():
        if comp not in _COMPONENTS:
            raise _fail(f"provenance.{comp}", f"unknown component; allowed: {list(_COMPONENTS)}")
        if not isinstance(entries, dict):
            raise _fail(f"provenance.{comp}", f"must be an object of field -> entry, got {entries!r}")
        allowed = _component_fields(preset, comp)
        prov[comp] = {}
        for name, entry in entries.items():
            path = f"provenance.{comp}.{name}"
            if name not in allowed:
                kind = f" ({preset.device.kind})" if comp == "device" else ""
                raise _fail(path, f"unknown field; fields of {comp}{kind}: {allowed}")
            if not isinstance(entry, dict):
                raise _fail(path, f"must be an object {{'source': key, 'where': text}} or {{'assumed': reason}}, "
                            f"got {entry!r}")
            keys = set(entry)
            if keys == {"assumed"}:
                _check_text(f"{path}.assumed", entry["assumed"])
            elif keys in ({"source"}, {"source", "where"}):
                key = _check_text(f"{path}.source", entry["source"])
                if key not in refs:
                    raise _fail(f"{path}.source", f"{key!r} is not a key of references; known: {sorted(refs)}")
                if "where" in entry:
                    _check_text(f"{path}.where", entry["where"])
            else:
                raise _fail(path, "an entry has exactly 'source' (and optionally 'where') or exactly 'assumed', "
                            f"got keys {sorted(keys)}")
            for text in (entry.get("where", ""), entry.get("assumed", "")):
                for key in _REF_MENTION.findall(text):
                    if key not in refs:
                        raise _fail(path, f"mentions [{key}], which is not a key of references; known: {sorted(refs)}")
            prov[comp][name] = dict(entry)
    return refs, prov


def _cited_keys(preset: DevicePreset) -> set[str]:
    """Reference keys an entry cites as its source or mentions as ``[key]``."""
    keys = set()
    for entries in preset.provenance.values():
        for entry in entries.values():
            if "source" in entry:
                keys.add(entry["source"])
            for text in (entry.get("where", ""), entry.get("assumed", "")):
                keys.update(_REF_MENTION.findall(text))
    return keys


# ---------------------------------------------------------------------------- to / from dict
def preset_to_dict(preset: DevicePreset) -> dict[str, Any]:
    """JSON-ready dict of ``preset`` in the ``device_preset.json`` format."""
    out: dict[str, Any] = {"format": PRESET_FORMAT, "version": PRESET_VERSION}
    for key in _TEXT_KEYS:
        out[key] = getattr(preset, key)
    units: dict[str, dict[str, str]] = {}
    comps: dict[str, dict[str, Any]] = {}
    for comp in _COMPONENTS:
        obj = getattr(preset, comp)
        data: dict[str, Any] = {}
        if comp == "device":
            data["kind"] = obj.kind
        for name in (f.name for f in dataclasses.fields(obj)):
            v = getattr(obj, name)
            if (comp, name) in _NULLABLE and math.isinf(v):
                v = None
            elif (comp, name) in _INT_FIELDS:
                v = int(v)
            elif (comp, name) not in _STR_FIELDS:
                v = float(v)
            data[name] = v
        comps[comp] = data
        units[comp] = {name: UNITS[comp][name] for name in data if name in UNITS[comp]}
    out["units"] = units
    out.update(comps)
    out["references"] = dict(preset.references)
    out["provenance"] = {comp: {name: dict(entry) for name, entry in preset.provenance[comp].items()}
                         for comp in _COMPONENTS if comp in preset.provenance}
    return out


def _fail(path: str, msg: str) -> PresetError:
    return PresetError(f"{path}: {msg}")


def _is_number(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _parse_component(comp: str, data, units) -> Any:
    if not isinstance(data, dict):
        raise _fail(comp, f"must be an object, got {data!r}")
    if comp == "device":
        kind = data.get("kind")
        if "kind" not in data:
            raise _fail("device.kind", f"missing; known kinds: {sorted(DEVICE_KINDS)}")
        if kind not in DEVICE_KINDS:
            raise _fail("device.kind", f"unknown kind {kind!r}; known kinds: {sorted(DEVICE_KINDS)}")
        cls: type = DEVICE_KINDS[kind]
        data = {k: v for k, v in data.items() if k != "kind"}
    else:
        cls = _COMPONENTS[comp]
    names = [f.name for f in dataclasses.fields(cls)]
    unknown = sorted(set(data) - set(names))
    if unknown:
        raise _fail(f"{comp}.{unknown[0]}", f"unknown field (value {data[unknown[0]]!r}); allowed: {names}")
    if not isinstance(units, dict):
        raise _fail(f"units.{comp}", f"must be an object of field -> unit string, got {units!r}")
    unknown_units = sorted(set(units) - set(UNITS[comp]))
    if unknown_units:
        raise _fail(f"units.{comp}.{unknown_units[0]}", f"no such numeric field; allowed: {sorted(UNITS[comp])}")
    kwargs = {}
    for name in names:
        path = f"{comp}.{name}"
        if name not in data:
            if (comp, name) in _OPTIONAL:
                continue
            raise _fail(path, "missing")
        v = data[name]
        key = (comp, name)
        if key in _STR_FIELDS:
            if not isinstance(v, str):
                raise _fail(path, f"must be a string, got {v!r}")
        else:
            want = UNITS[comp][name]
            if name not in units:
                raise _fail(f"units.{path}", f"missing; expected {want!r}")
            if key == ("endurance", "cycles") and units[name] == "pulses" and want == "cycles":
                if v is not None:  # files written before the full-cycle rule counted every pulse
                    raise _fail(f"units.{path}", "'pulses' is the unit of files written before endurance was "
                                "counted in full SET/RESET cycles; a pulse count has no exact conversion: give "
                                "the budget in full cycles with the unit 'cycles' (see docs/devices.md, Endurance)")
            elif units[name] != want:
                raise _fail(f"units.{path}", f"expected {want!r}, got {units[name]!r}")
            if key in _NULLABLE and v is None:
                v = math.inf
            elif key in _INT_FIELDS:
                if not isinstance(v, int) or isinstance(v, bool):
                    raise _fail(path, f"must be an integer [{want}], got {v!r}")
            elif not _is_number(v):
                null = " or null (unlimited)" if key in _NULLABLE else ""
                raise _fail(path, f"must be a number{null} [{want}], got {v!r}")
            else:
                try:
                    v = float(v)
                except OverflowError:  # an integer literal beyond the float range
                    raise _fail(path, f"must be a finite number [{want}], got an integer of {len(str(v))} digits"
                                ) from None
        kwargs[name] = v
    try:
        return cls(**kwargs)
    except (ValueError, TypeError) as exc:
        raise PresetError(f"{comp}.{exc}") from None


def preset_from_dict(data: Any) -> DevicePreset:
    """Inverse of :func:`preset_to_dict`; checks every field, type and unit first.

    Raises
    ------
    PresetError
        Naming the field path and the offending value.
    """
    if not isinstance(data, dict):
        raise PresetError(f"a device preset must be a JSON object at the top level, got {type(data).__name__}")
    fmt = data.get("format")
    if fmt != PRESET_FORMAT:
        raise _fail("format", f"expected {PRESET_FORMAT!r}, got {fmt!r}")
    version = data.get("version")
    if version != PRESET_VERSION or isinstance(version, bool):
        raise _fail("version", f"expected {PRESET_VERSION}, got {version!r}")
    allowed = {"format", "version", "units", *_TEXT_KEYS, *_COMPONENTS, *_PROVENANCE_KEYS}
    unknown = sorted(set(data) - allowed)
    if unknown:
        raise _fail(unknown[0], f"unknown top-level key; allowed: {sorted(allowed)}")
    for key in _TEXT_KEYS:
        if key not in data:
            raise _fail(key, "missing")
        if not isinstance(data[key], str):
            raise _fail(key, f"must be a string, got {data[key]!r}")
    if "units" not in data:
        raise _fail("units", "missing")
    units = data["units"]
    if not isinstance(units, dict):
        raise _fail("units", f"must be an object, got {units!r}")
    unknown = sorted(set(units) - set(_COMPONENTS))
    if unknown:
        raise _fail(f"units.{unknown[0]}", f"unknown component; allowed: {list(_COMPONENTS)}")
    comps = {}
    for comp in _COMPONENTS:
        if comp not in data:
            raise _fail(comp, "missing")
        if comp not in units:
            raise _fail(f"units.{comp}", "missing")
        comps[comp] = _parse_component(comp, data[comp], units[comp])
    extra = {key: data[key] for key in _PROVENANCE_KEYS if key in data}
    return DevicePreset(**{key: data[key] for key in _TEXT_KEYS}, **comps, **extra)


# ---------------------------------------------------------------------------- files
def _builtin_dir():
    return resources.files(__package__).joinpath("presets")


def list_presets() -> list[str]:
    """Names of the built-in presets (sorted)."""
    return builtin_names(_builtin_dir())


def save_preset(preset: DevicePreset, path: str | Path) -> Path:
    """Write ``preset`` as a ``device_preset.json`` file; returns the path."""
    return write_json(preset_to_dict(preset), path)


def _md(text: str) -> str:
    return text.replace("|", "\\|")


def _md_value(value: Any) -> str:
    if isinstance(value, str):
        return f"`{value}`"
    if isinstance(value, float) and math.isinf(value):
        return "unlimited"
    return f"{value:g}" if isinstance(value, float) else str(value)


def provenance_markdown() -> str:
    """The generated block of ``docs/devices.md`` ("Provenance of the presets"): for every built-in
    preset a table of its parameters (value, unit, source and where, or the reason it is assumed),
    then the references.  A test checks that the block in the docs equals this text."""
    lines: list[str] = []
    references: dict[str, str] = {}
    for name in list_presets():
        p = load_preset(name)
        fields = provenance_fields(p)
        n_src = sum("source" in p.provenance.get(c, {}).get(f, {}) for c, f in fields)
        summary = (f"{p.technology or 'no technology'}: {n_src} of {len(fields)} parameters from a published "
                   f"source, {len(fields) - n_src} assumed.")
        lines += [f"### Provenance of `{name}`", "", summary, "",
                  "| parameter | value | unit | source |", "|---|---|---|---|"]
        for comp, field in fields:
            entry = p.provenance.get(comp, {}).get(field)
            if entry is None:
                text = "(none)"
            elif "assumed" in entry:
                text = f"assumed: {entry['assumed']}"
            else:
                text = f"[{entry['source']}]" + (f" {entry['where']}" if "where" in entry else "")
            unit = UNITS[comp].get(field, "")
            lines.append(f"| `{comp}.{field}` | {_md_value(_field_value(p, comp, field))} | {unit} | {_md(text)} |")
        lines.append("")
        for key, text in p.references.items():
            if references.setdefault(key, text) != text:
                raise PresetError(f"references.{key}: differs between built-in presets ({name!r} and another)")
    lines += ["### References", ""]
    lines += [f"- **[{key}]** {_md(references[key])}" for key in sorted(references)]
    return "\n".join(lines) + "\n"


PROVENANCE_BEGIN = "<!-- provenance:begin -->"
PROVENANCE_END = "<!-- provenance:end -->"


def update_provenance_doc(path: str | Path) -> bool:
    """Replace the text between the provenance markers of the markdown file ``path`` (docs/devices.md)
    with :func:`provenance_markdown`; returns True when the file changed.

    Raises
    ------
    ValueError
        The file lacks the begin or end marker (each exactly once, in that order).
    """
    path = Path(path)
    text = path.read_text(encoding="utf-8")
    if text.count(PROVENANCE_BEGIN) != 1 or text.count(PROVENANCE_END) != 1 or \
            text.index(PROVENANCE_BEGIN) > text.index(PROVENANCE_END):
        raise ValueError(f"{path}: needs one {PROVENANCE_BEGIN!r} line followed by one {PROVENANCE_END!r} line")
    head, rest = text.split(PROVENANCE_BEGIN)
    _, tail = rest.split(PROVENANCE_END)
    new = f"{head}{PROVENANCE_BEGIN}\n{provenance_markdown()}{PROVENANCE_END}{tail}"
    if new != text:
        path.write_text(new, encoding="utf-8")
    return new != text


def load_preset(name_or_path: str | Path) -> DevicePreset:
    """A built-in preset by name (see :func:`list_presets`) or a preset file by path.

    A string is a path when it ends in ``.json`` or contains a path separator.

    Raises
    ------
    PresetError
        Unknown name (the message lists the known ones), unreadable or malformed file.
    """
    data, where = read_named_json(name_or_path, _builtin_dir(), kind="device preset", short="preset", error=PresetError)
    try:
        return preset_from_dict(data)
    except PresetError as exc:
        raise PresetError(f"{where}: {exc}") from None
