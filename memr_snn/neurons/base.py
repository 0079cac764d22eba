"""Shared machinery of the neuron parameter classes.

A neuron model is a small frozen dataclass of parameters in SI units.  Each
field may be a scalar (shared by the population) or a 1-D per-neuron array.
Parameter sets are data: :meth:`NeuronParams.to_dict` / :meth:`from_dict` give a
JSON-ready form, and :func:`save_params` / :func:`load_params` write and read it.

A field may also be an *option*: a string chosen from a fixed set, shared by the whole population
(e.g. :attr:`memr_snn.LIFCondParams.integration`).  It is declared with :func:`option_field`, its
``choices`` in the field's metadata; it is validated, kept as a string (in files and checkpoints too)
and left out of :meth:`NeuronParams.broadcast`.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any, ClassVar

import numpy as np

from .._json_files import parse_json
from .._validation import as_param_array
from ._units import check_plausible, to_si

__all__ = ["NeuronParams", "save_params", "load_params", "NEURON_MODELS", "register_neuron_model", "option_field"]

_REGISTRY: dict[str, type[NeuronParams]] = {}

#: name -> class of every neuron model known to files and checkpoints (read-only: a view of the registry
#: that :func:`register_neuron_model` fills, explicitly, in the neuron modules).
NEURON_MODELS: Mapping[str, type[NeuronParams]] = MappingProxyType(_REGISTRY)


def register_neuron_model(klass: type[NeuronParams]) -> type[NeuronParams]:
    """Make ``klass`` known to :meth:`NeuronParams.from_dict` (and checkpoints) under ``klass.model``.

    Registering the same class again is a no-op; another class under a taken name raises ``ValueError``.
    Returns ``klass`` (usable as a class decorator).
    """
    if not (isinstance(klass, type) and issubclass(klass, NeuronParams)) or not klass.model:
        raise ValueError(f"a neuron model must be a NeuronParams subclass with a non-empty 'model', got {klass!r}")
    if _REGISTRY.get(klass.model, klass) is not klass:
        raise ValueError(f"neuron model {klass.model!r} is already registered by {_REGISTRY[klass.model].__name__}")
    _REGISTRY[klass.model] = klass
    return klass


def option_field(default: str, choices: tuple[str, ...], doc: str = ""):
    """A dataclass field holding one of ``choices`` (a string shared by the population), default ``default``."""
    if default not in choices:
        raise ValueError(f"option default {default!r} is not one of {choices}")
    return dataclasses.field(default=default, metadata={"choices": tuple(choices), "doc": doc})


def _check_option(owner: str, f: dataclasses.Field, value) -> str:
    choices = f.metadata["choices"]
    if not isinstance(value, str) or value not in choices:
        raise ValueError(f"{owner}.{f.name} must be one of {', '.join(map(repr, choices))}, got {value!r}")
    return value


@dataclasses.dataclass(frozen=True, eq=False)
class NeuronParams:
    """Base class of neuron parameter sets.

    Fields take plain numbers in SI units or Brian2 quantities (converted, dimension checked).  A
    plain value far outside its field's plausible range (:data:`memr_snn.neurons._units.FIELDS`, e.g.
    ``tau_mem=20``: 20 s) warns with :class:`ImplausibleUnitWarning`, naming the likely unit.

    Subclasses declare ``model`` (the name used in files), ``state_variables``
    (names of the recordable state) and ``receptors`` (names of the synaptic
    inputs a projection may target, in order).
    """

    model: ClassVar[str] = ""
    state_variables: ClassVar[tuple[str, ...]] = ()
    receptors: ClassVar[tuple[str, ...]] = ()

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):
            if "choices" in f.metadata:  # an option: a string from a fixed set
                _check_option(type(self).__name__, f, getattr(self, f.name))
                continue
            value = to_si(type(self).__name__, f.name, getattr(self, f.name))  # a Brian2 quantity -> SI
            object.__setattr__(self, f.name, as_param_array(f.name, value))
        self._validate()
        check_plausible(self, stacklevel=3)  # warn at the caller of the constructor

    def _validate(self) -> None:
        """Check the parameters; subclasses extend it (the base has nothing to check)."""

    @classmethod
    def option_names(cls) -> tuple[str, ...]:
        """Names of the option fields (strings from a fixed set, see :func:`option_field`)."""
        return tuple(f.name for f in dataclasses.fields(cls) if "choices" in f.metadata)

    @classmethod
    def numeric_names(cls) -> tuple[str, ...]:
        """Names of the numeric fields (scalars or per-neuron arrays), in declaration order."""
        return tuple(f.name for f in dataclasses.fields(cls) if "choices" not in f.metadata)

    # -- per-neuron arrays -------------------------------------------------
    def size(self) -> int | None:
        """Length of the per-neuron arrays, or None if every field is scalar."""
        sizes = {
            np.size(getattr(self, f.name))
            for f in dataclasses.fields(self)
            if isinstance(getattr(self, f.name), np.ndarray)
        }
        if len(sizes) > 1:
            raise ValueError(f"per-neuron parameter arrays of {type(self).__name__} differ in length: {sorted(sizes)}")
        return sizes.pop() if sizes else None

    def broadcast(self, n: int) -> dict[str, np.ndarray]:
        """Every numeric field as a float64 array of length ``n`` (options are left out)."""
        out = {}
        for f in dataclasses.fields(self):
            if "choices" in f.metadata:
                continue
            value = getattr(self, f.name)
            arr = np.asarray(value, dtype=np.float64)
            if arr.ndim == 1 and arr.size != n:
                raise ValueError(
                    f"{f.name} has {arr.size} per-neuron values but the population has {n} neurons"
                )
            out[f.name] = np.broadcast_to(arr, (n,)).copy()
        return out

    # -- data round trip ---------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict: ``{"model": ..., "params": {...}}`` (arrays become lists)."""
        params = {}
        for f in dataclasses.fields(self):
            v = getattr(self, f.name)
            if "choices" in f.metadata:
                params[f.name] = v
            else:
                params[f.name] = v.tolist() if isinstance(v, np.ndarray) else float(v)
        return {"model": self.model, "params": params}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> NeuronParams:
        """Inverse of :meth:`to_dict`; dispatches on ``data["model"]``."""
        if not isinstance(data, dict) or "model" not in data or "params" not in data:
            raise ValueError("neuron parameter data must be a dict with 'model' and 'params' keys")
        name = data["model"]
        if not isinstance(name, str) or name not in NEURON_MODELS:
            raise ValueError(f"unknown neuron model {name!r}; known models: {sorted(NEURON_MODELS)}")
        if not isinstance(data["params"], dict):
            raise ValueError(f"params must be an object of parameter -> value, got {type(data['params']).__name__}")
        klass = NEURON_MODELS[name]
        known = {f.name for f in dataclasses.fields(klass)}
        unknown = set(data["params"]) - known
        if unknown:
            raise ValueError(f"unknown parameters for {name!r}: {sorted(unknown)}; allowed: {sorted(known)}")
        return klass(**data["params"])

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return all(
            np.array_equal(getattr(self, f.name), getattr(other, f.name))
            for f in dataclasses.fields(self)
        )

    __hash__ = None  # type: ignore[assignment]  # holds arrays

    def __repr__(self) -> str:
        parts = []
        for f in dataclasses.fields(self):
            v = getattr(self, f.name)
            if isinstance(v, np.ndarray):
                parts.append(f"{f.name}=<array of {v.size}>")
            elif f.default is dataclasses.MISSING or v != f.default:
                parts.append(f"{f.name}={v!r}")
        return f"{type(self).__name__}({', '.join(parts)})"


def save_params(params: NeuronParams, path: str | Path) -> Path:
    """Write a parameter set as JSON (with ``"units": "SI"``)."""
    path = Path(path)
    data = params.to_dict()
    data["units"] = "SI (s, V, A, F, S)"
    path.write_text(json.dumps(data, indent=2))
    return path


def load_params(path: str | Path) -> NeuronParams:
    """Read a parameter set written by :func:`save_params`.

    Raises
    ------
    ValueError
        If the file is not valid JSON, is not a JSON object, does not describe a known model, or
        holds parameters of the wrong type or out of range; the message names the file and the field.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise ValueError(f"{path}: not a valid neuron parameter file ({exc})") from None
    data = parse_json(text, f"{path}: not a valid neuron parameter file", ValueError)
    if not isinstance(data, dict):
        raise ValueError(f"{path}: a neuron parameter file must hold a JSON object with 'model' and 'params' keys, "
                         f"got {type(data).__name__}")
    data = {k: v for k, v in data.items() if k != "units"}
    try:
        return NeuronParams.from_dict(data)
    except (TypeError, ValueError, OverflowError) as exc:
        raise ValueError(f"{path}: {exc}") from None
