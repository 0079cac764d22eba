"""Core profiles of neuromorphic chips: resource limits and per-operation costs as data.

A :class:`CoreProfile` says how much one neuromorphic core holds (compartments,
input and output axons, synaptic memory, delay slots), how synapses are encoded
in that memory, how cores are arranged on a chip, which neuron features the
core can express, and what each elementary operation costs in energy and time.
The built-in profiles are JSON files next to this module (``profiles/*.json``,
Loihi 1 and Loihi 2); users write their own with :func:`save_profile` and read
any with :func:`load_profile` (pattern of :mod:`memr_snn.devices.presets`).

File format (``format: "memr_snn.core_profile"``, ``version: 1``)::

    {
      "format": "memr_snn.core_profile", "version": 1,
      "name": "loihi1", "chip": "...", "description": "...", "notes": "...",
      "params":     {"neurons_per_core": 1024, ..., "e_synop": 2.36e-11, ...},
      "units":      {"neurons_per_core": "1", ..., "e_synop": "J", ...},
      "sources":    {"neurons_per_core": "Davies et al. 2018 ... \\"...\\"", ...},
      "provenance": {"neurons_per_core": "published", ...}
    }

Every field of :class:`CoreProfile` must appear in ``params``, ``units`` (exactly
the unit of :data:`UNITS`), ``sources`` (a non-empty citation) and
``provenance``, one of :data:`PROVENANCE`:

* ``published`` -- the number is printed in the cited source for this chip;
* ``derived`` -- arithmetic on published numbers, shown in the source text;
* ``borrowed`` -- no figure is published for this chip; the figure of another
  chip (named in the source) stands in for it;
* ``assumed`` -- a modelling choice (e.g. a mesh layout), stated and argued.

The mapping report lists the ``borrowed`` and ``assumed`` fields it used, so a
number resting on them is never mistaken for a published one.  Bad files raise
:class:`ProfileError` (a ``ValueError``) naming the field and its value.

Time steps: ``max_synaptic_delay`` is in the *hardware's* delay units (0 = the
spike acts in the next time step).  memr_snn's ``delays`` (1 = the next
step) is one more, so a projection fits when ``delays - 1 <=
max_synaptic_delay``.
"""

from __future__ import annotations

import dataclasses
import math
from importlib import resources
from pathlib import Path
from typing import Any

from .._json_files import builtin_names, read_named_json, write_json

__all__ = [
    "CoreProfile",
    "ProfileError",
    "load_profile",
    "save_profile",
    "list_profiles",
    "profile_to_dict",
    "profile_from_dict",
    "PROFILE_FORMAT",
    "PROFILE_VERSION",
    "UNITS",
    "PROVENANCE",
    "ADAPTATION_MODES",
]

PROFILE_FORMAT = "memr_snn.core_profile"
PROFILE_VERSION = 1
#: allowed provenance tags of a profile number
PROVENANCE = ("published", "derived", "borrowed", "assumed")
#: how a core expresses threshold adaptation (ALIF): natively, with one auxiliary compartment per neuron, or not at all
ADAPTATION_MODES = ("native", "auxiliary_compartment", "none")


class ProfileError(ValueError):
    """A core profile (file, dict or constructor call) is malformed; the message names the field and value."""


def _f(unit: str, doc: str, kind: type = float):
    return dataclasses.field(metadata={"unit": unit, "doc": doc, "kind": kind})


@dataclasses.dataclass(frozen=True)
class CoreProfile:
    """Resource limits and per-operation costs of one neuromorphic core type (SI units).

    Integer fields are counts; energies are in joules and times in seconds.  See
    the module docstring for the file format and the provenance tags.
    """

    # -- resources of one core ---------------------------------------------------------------
    neurons_per_core: int = _f("1", "Compartments (neuron units) one core holds.", int)
    """Compartments (neuron units) one core holds [1]."""
    fan_in_axons_per_core: int = _f("1", "Input axon slots of one core: one per distinct presynaptic source "
                                          "(distribution list) with synapses on the core.", int)
    """Input axon slots of one core: one per distinct presynaptic source with synapses on the core [1]."""
    fan_out_axons_per_core: int = _f("1", "Output axon slots of one core: one per (source neuron on the core, "
                                           "destination core) edge.", int)
    """Output axon slots: one per (source neuron on the core, destination core) edge [1]."""
    synaptic_memory_bits_per_core: int = _f("bit", "Synaptic memory of one core.", int)
    """Synaptic memory of one core [bit]."""
    delay_units_per_core: int = _f("1", "Dendritic accumulator slots of one core shared by its compartments "
                                        "(compartments x delay units <= this); 0 = not limited.", int)
    """Dendritic accumulator slots shared by the core's compartments; 0 = no such limit [1]."""
    min_delay_units: int = _f("1", "Delay units every compartment occupies even with short delays.", int)
    """Delay units every compartment occupies, whatever its delays [1]."""
    max_synaptic_delay: int = _f("step", "Largest synaptic delay in hardware units (0 = next step).", int)
    """Largest synaptic delay in hardware time steps (0 = the next step) [step]."""
    weight_bits_max: int = _f("bit", "Largest synaptic weight precision.", int)
    """Largest synaptic weight precision [bit]."""
    weight_bits_default: int = _f("bit", "Weight precision the mapper uses unless told otherwise.", int)
    """Weight precision used by :func:`~memr_snn.hardware.map_network` unless told otherwise [bit]."""
    # -- synapse encoding in synaptic memory --------------------------------------------------
    synapse_word_bits: int = _f("bit", "Memory word: every synapse list block is rounded up to whole words.", int)
    """Synaptic memory word; each list block is rounded up to whole words [bit]."""
    list_block_synapses: int = _f("1", "Synapses per list block (a longer list takes several blocks).", int)
    """Synapses per list block; a longer list takes several blocks [1]."""
    list_block_header_bits: int = _f("bit", "Header bits of every list block.", int)
    """Header bits of every list block [bit]."""
    index_bits_min: int = _f("bit", "Smallest target-compartment index field per synapse.", int)
    """Smallest target-compartment index field of a sparse synapse [bit]."""
    index_bits_max: int = _f("bit", "Largest target-compartment index field per synapse.", int)
    """Largest target-compartment index field of a sparse synapse [bit]."""
    plastic_in_axon_slots: int = _f("1", "Input axon slots taken by a source whose synapses learn.", int)
    """Input axon slots taken by a source whose synapses on the core are plastic [1]."""
    # -- features ------------------------------------------------------------------------------
    synaptic_time_constants_per_compartment: int = _f(
        "1", "Distinct synaptic current time constants one compartment integrates (0 = any number: "
             "programmable neurons); each further one costs an extra compartment.", int)
    """Distinct synaptic time constants one compartment integrates; 0 = any (programmable) [1]."""
    adaptation: str = _f("-", "Threshold adaptation (ALIF): 'native', 'auxiliary_compartment' or 'none'.", str)
    """Threshold adaptation (ALIF): ``native``, ``auxiliary_compartment`` (one more compartment) or ``none``."""
    # -- chip and mesh -------------------------------------------------------------------------
    cores_per_chip: int = _f("1", "Neuromorphic cores on one chip.", int)
    """Neuromorphic cores on one chip [1]."""
    max_chips: int = _f("1", "Largest number of chips a mapping may use.", int)
    """Largest number of chips a mapping may use [1]."""
    cores_per_tile: int = _f("1", "Cores sharing one router (tile).", int)
    """Cores sharing one mesh router (tile) [1]."""
    tiles_x: int = _f("1", "Tiles per chip along the east-west axis.", int)
    """Tiles per chip along the east-west axis [1]."""
    tiles_y: int = _f("1", "Tiles per chip along the north-south axis.", int)
    """Tiles per chip along the north-south axis [1]."""
    # -- energy and time per operation ---------------------------------------------------------
    e_synop: float = _f("J", "Energy per synaptic spike operation.")
    """Energy per synaptic spike operation [J]."""
    t_synop: float = _f("s", "Time per synaptic spike operation.")
    """Time per synaptic spike operation [s]."""
    e_synupdate: float = _f("J", "Energy per synaptic (learning) update.")
    """Energy per synaptic learning update [J]."""
    t_synupdate: float = _f("s", "Time per synaptic (learning) update.")
    """Time per synaptic learning update [s]."""
    e_neuron_active: float = _f("J", "Energy per update of an active compartment.")
    """Energy per update of an active compartment [J]."""
    e_neuron_inactive: float = _f("J", "Energy per update of an inactive compartment.")
    """Energy per update of an inactive compartment [J]."""
    t_neuron_active: float = _f("s", "Time per update of an active compartment.")
    """Time per update of an active compartment [s]."""
    t_neuron_inactive: float = _f("s", "Time per update of an inactive compartment.")
    """Time per update of an inactive compartment [s]."""
    e_spike_tile: float = _f("J", "Energy of a spike message delivered within a tile.")
    """Energy of a spike message within a tile [J]."""
    t_spike_tile: float = _f("s", "Latency of a spike message within a tile.")
    """Latency of a spike message within a tile [s]."""
    e_hop_ew: float = _f("J", "Energy per east-west tile hop.")
    """Energy per east-west tile hop [J]."""
    e_hop_ns: float = _f("J", "Energy per north-south tile hop.")
    """Energy per north-south tile hop [J]."""
    t_hop_ew: float = _f("s", "Latency per east-west tile hop.")
    """Latency per east-west tile hop [s]."""
    t_hop_ns: float = _f("s", "Latency per north-south tile hop.")
    """Latency per north-south tile hop [s]."""
    t_barrier_min: float = _f("s", "Barrier synchronisation time with one tile in use.")
    """Mesh barrier synchronisation with one tile in use [s]."""
    t_barrier_max: float = _f("s", "Barrier synchronisation time with every tile of a chip in use.")
    """Mesh barrier synchronisation with every tile of the chip in use [s]."""
    # -- text ----------------------------------------------------------------------------------
    name: str = dataclasses.field(default="custom", metadata={"text": True})
    """Short identifier (file stem of the built-ins)."""
    chip: str = dataclasses.field(default="", metadata={"text": True})
    """The chip in words."""
    description: str = dataclasses.field(default="", metadata={"text": True})
    """What the profile represents."""
    notes: str = dataclasses.field(default="", metadata={"text": True})
    """Caveats: which numbers are not published for this chip and what stands in for them."""
    sources: dict = dataclasses.field(default_factory=dict, metadata={"text": True})
    """Field -> citation (with the quoted figure)."""
    provenance: dict = dataclasses.field(default_factory=dict, metadata={"text": True})
    """Field -> one of :data:`PROVENANCE`."""

    def __post_init__(self) -> None:
        for f in _numeric_fields():
            v = getattr(self, f.name)
            kind = f.metadata["kind"]
            if kind is int:
                if isinstance(v, bool) or not isinstance(v, int):
                    raise ProfileError(f"{f.name} must be an integer [{f.metadata['unit']}], got {v!r}")
                low = 0 if f.name in _ZERO_OK else 1
                if v < low:
                    raise ProfileError(f"{f.name} must be >= {low} [{f.metadata['unit']}], got {v!r}")
            elif kind is float:
                if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) or v < 0:
                    raise ProfileError(f"{f.name} must be a finite number >= 0 [{f.metadata['unit']}], got {v!r}")
                object.__setattr__(self, f.name, float(v))
        if self.adaptation not in ADAPTATION_MODES:
            raise ProfileError(f"adaptation must be one of {ADAPTATION_MODES}, got {self.adaptation!r}")
        if self.weight_bits_default > self.weight_bits_max:
            raise ProfileError(
                f"weight_bits_default must be <= weight_bits_max = {self.weight_bits_max}, "
                f"got {self.weight_bits_default}")
        if self.index_bits_min > self.index_bits_max:
            raise ProfileError(
                f"index_bits_min must be <= index_bits_max = {self.index_bits_max}, got {self.index_bits_min}")
        if self.t_barrier_min > self.t_barrier_max:
            raise ProfileError(
                f"t_barrier_min must be <= t_barrier_max = {self.t_barrier_max!r} s, got {self.t_barrier_min!r}")
        if self.tiles_x * self.tiles_y * self.cores_per_tile != self.cores_per_chip:
            raise ProfileError(
                f"tiles_x * tiles_y * cores_per_tile must equal cores_per_chip = {self.cores_per_chip}, got "
                f"{self.tiles_x} * {self.tiles_y} * {self.cores_per_tile}")
        if self.delay_units_per_core and self.delay_units_per_core < self.min_delay_units:
            raise ProfileError(
                f"delay_units_per_core must be 0 (no limit) or >= min_delay_units = {self.min_delay_units}, "
                f"got {self.delay_units_per_core}")
        for key in ("name", "chip", "description", "notes"):
            if not isinstance(getattr(self, key), str):
                raise ProfileError(f"{key} must be a string, got {getattr(self, key)!r}")
        if not self.name:
            raise ProfileError("name must be a non-empty string")
        for key in ("sources", "provenance"):
            table = getattr(self, key)
            if not isinstance(table, dict):
                raise ProfileError(f"{key} must be a dict of field -> string, got {table!r}")
            unknown = sorted(set(table) - set(UNITS))
            if unknown:
                raise ProfileError(f"{key}.{unknown[0]}: no such profile field; fields: {sorted(UNITS)}")
            for k, v in table.items():
                if not isinstance(v, str) or not v.strip():
                    raise ProfileError(f"{key}.{k} must be a non-empty string, got {v!r}")
        for k, v in self.provenance.items():
            if v not in PROVENANCE:
                raise ProfileError(f"provenance.{k} must be one of {PROVENANCE}, got {v!r}")
        object.__setattr__(self, "sources", dict(self.sources))
        object.__setattr__(self, "provenance", dict(self.provenance))

    @property
    def tiles_per_chip(self) -> int:
        """Tiles (routers) of one chip."""
        return self.tiles_x * self.tiles_y

    @property
    def max_delay_steps(self) -> int:
        """Largest memr_snn ``delays`` the core expresses (``max_synaptic_delay + 1``) [step]."""
        return self.max_synaptic_delay + 1

    def not_published(self) -> dict[str, str]:
        """Fields whose value is ``borrowed`` or ``assumed`` -> that tag."""
        return {k: v for k, v in self.provenance.items() if v in ("borrowed", "assumed")}

    def replace(self, **changes: Any) -> CoreProfile:
        """A copy with some fields replaced (:func:`dataclasses.replace`)."""
        return dataclasses.replace(self, **changes)


_ZERO_OK = {"delay_units_per_core", "synaptic_time_constants_per_compartment", "list_block_header_bits",
            "index_bits_min", "min_delay_units", "max_synaptic_delay"}


def _numeric_fields():
    return [f for f in dataclasses.fields(CoreProfile) if "unit" in f.metadata]


#: unit string of every parameter ("1" = count, "-" = a word)
UNITS: dict[str, str] = {f.name: f.metadata["unit"] for f in _numeric_fields()}
_TEXT_KEYS = ("name", "chip", "description", "notes")


# ---------------------------------------------------------------------------- to / from dict
def profile_to_dict(profile: CoreProfile) -> dict[str, Any]:
    """JSON-ready dict of ``profile`` in the ``core_profile.json`` format."""
    out: dict[str, Any] = {"format": PROFILE_FORMAT, "version": PROFILE_VERSION}
    for key in _TEXT_KEYS:
        out[key] = getattr(profile, key)
    out["params"] = {name: getattr(profile, name) for name in UNITS}
    out["units"] = dict(UNITS)
    out["sources"] = {name: profile.sources[name] for name in UNITS if name in profile.sources}
    out["provenance"] = {name: profile.provenance[name] for name in UNITS if name in profile.provenance}
    return out


def _fail(path: str, msg: str) -> ProfileError:
    return ProfileError(f"{path}: {msg}")


def profile_from_dict(data: Any) -> CoreProfile:
    """Inverse of :func:`profile_to_dict`; checks every field, unit, source and provenance first.

    Raises
    ------
    ProfileError
        Naming the field path and the offending value.
    """
    if not isinstance(data, dict):
        raise ProfileError(f"a core profile must be a JSON object at the top level, got {type(data).__name__}")
    if data.get("format") != PROFILE_FORMAT:
        raise _fail("format", f"expected {PROFILE_FORMAT!r}, got {data.get('format')!r}")
    version = data.get("version")
    if version != PROFILE_VERSION or isinstance(version, bool):
        raise _fail("version", f"expected {PROFILE_VERSION}, got {version!r}")
    tables = ("params", "units", "sources", "provenance")
    allowed = {"format", "version", *_TEXT_KEYS, *tables}
    unknown = sorted(set(data) - allowed)
    if unknown:
        raise _fail(unknown[0], f"unknown top-level key; allowed: {sorted(allowed)}")
    for key in (*_TEXT_KEYS, *tables):
        if key not in data:
            raise _fail(key, "missing")
    for key in _TEXT_KEYS:
        if not isinstance(data[key], str):
            raise _fail(key, f"must be a string, got {data[key]!r}")
    for key in tables:
        if not isinstance(data[key], dict):
            raise _fail(key, f"must be an object of field -> value, got {data[key]!r}")
        unknown = sorted(set(data[key]) - set(UNITS))
        if unknown:
            raise _fail(f"{key}.{unknown[0]}", f"no such profile field; fields: {sorted(UNITS)}")
    params, units, sources, prov = (data[k] for k in tables)
    for name, want in UNITS.items():
        if name not in params:
            raise _fail(f"params.{name}", "missing")
        if units.get(name) != want:
            raise _fail(f"units.{name}", f"expected {want!r}, got {units.get(name)!r}")
        if not isinstance(sources.get(name), str) or not sources[name].strip():
            raise _fail(f"sources.{name}", f"missing: every number needs a citation, got {sources.get(name)!r}")
        if prov.get(name) not in PROVENANCE:
            raise _fail(f"provenance.{name}", f"must be one of {PROVENANCE}, got {prov.get(name)!r}")
    try:
        return CoreProfile(**params, **{k: data[k] for k in _TEXT_KEYS}, sources=sources, provenance=prov)
    except ProfileError as exc:
        raise ProfileError(f"params.{exc}") from None


# ---------------------------------------------------------------------------- files
def _builtin_dir():
    return resources.files(__package__).joinpath("profiles")


def list_profiles() -> list[str]:
    """Names of the built-in profiles (sorted)."""
    return builtin_names(_builtin_dir())


def save_profile(profile: CoreProfile, path: str | Path) -> Path:
    """Write ``profile`` as a ``core_profile.json`` file; returns the path."""
    return write_json(profile_to_dict(profile), path)


def load_profile(name_or_path: str | Path) -> CoreProfile:
    """A built-in profile by name (see :func:`list_profiles`) or a profile file by path.

    A string is a path when it ends in ``.json`` or contains a path separator.

    Raises
    ------
    ProfileError
        Unknown name (the message lists the known ones), unreadable or malformed file.
    """
    data, where = read_named_json(name_or_path, _builtin_dir(), kind="core profile", short="profile",
                                  error=ProfileError)
    try:
        return profile_from_dict(data)
    except ProfileError as exc:
        raise ProfileError(f"{where}: {exc}") from None
