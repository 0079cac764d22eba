"""What a sweep computes: the experiment, its parameter grid and random draws, the seeds, and the plan of points.

A :class:`SweepSpec` is a pure description (a frozen dataclass, validated on construction);
:func:`plan` turns it into the ordered list of :class:`Point` s.  Everything about a point -- its
parameters, its seed, its key -- is a function of the spec and the point's position in the plan,
never of the order in which points run or of the worker that runs them.

Points
------
The grid is the Cartesian product of its axes, in the order they are given, the last axis varying
fastest.  With random draws (``draws > 0``) every grid point is combined with each of the ``draws``
parameter sets drawn from ``distributions`` (the draw varies fastest).  ``index`` numbers these
parameter sets ``0, 1, ...``; each is run ``seeds`` times (``replicate`` ``0 .. seeds-1``).

Seeds
-----
All randomness derives from one root, ``root_seed``, with :class:`numpy.random.SeedSequence`, keyed
by position (``spawn_key``), so that a point's seed depends only on where it sits in the plan:

* point seeds: ``SeedSequence(root_seed, spawn_key=(0, index, replicate))``; with
  ``common_seeds=True`` instead ``spawn_key=(1, replicate)``: replicate ``r`` of every parameter
  set gets the same seed (common random numbers, which makes differences along a degradation curve
  less noisy);
* random draw ``j``: a generator seeded with ``SeedSequence(root_seed, spawn_key=(2, j))``, drawing
  the distributions in their given order.

The experiment receives ``seed`` as an ``int`` in ``[0, 2**32)`` (``generate_state(1)[0]``).

Keys
----
A point's key is the first 20 hex digits of the SHA-256 of the canonical JSON of ``(experiment,
parameters, seed, code version)``; it names the point's result file, so a rerun finds what is done.
"""

from __future__ import annotations

import dataclasses
import hashlib
import itertools
import json
import math
import numbers
from collections.abc import Mapping
from typing import Any

import numpy as np

__all__ = ["Distribution", "SweepSpec", "Point", "plan", "point_key", "spec_from_dict", "DISTRIBUTIONS"]

#: distribution kinds of random draws -> their required fields
DISTRIBUTIONS: dict[str, tuple[str, ...]] = {
    "uniform": ("low", "high"),
    "loguniform": ("low", "high"),
    "normal": ("mean", "std"),
    "integers": ("low", "high"),
    "choice": ("values",),
}

_SCALAR = (bool, int, float, str)


def _check_scalar(where: str, value: Any) -> bool | int | float | str:
    """A parameter value: bool, int, finite float or str (numpy scalars converted); else ValueError."""
    if isinstance(value, np.generic):
        value = value.item()
    if not isinstance(value, _SCALAR):
        raise ValueError(f"{where}: parameter values must be numbers, booleans or strings, got {value!r}")
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(f"{where}: parameter values must be finite, got {value!r}")
    return value


def _canonical_axis(name: str, values: Any) -> tuple:
    """The values of one grid axis as a tuple; ints become floats on an axis that mixes the two."""
    if isinstance(values, (str, bytes)) or not isinstance(values, (list, tuple)):
        raise ValueError(f"grid axis {name!r} must be a list of values, got {values!r}")
    if len(values) == 0:
        raise ValueError(f"grid axis {name!r} is empty: give it at least one value (or remove it)")
    out = [_check_scalar(f"grid axis {name!r}", v) for v in values]
    numeric = [isinstance(v, (int, float)) and not isinstance(v, bool) for v in out]
    if all(numeric) and any(isinstance(v, float) for v in out):
        out = [float(v) for v in out]
    if len(set(map(repr, out))) != len(out):
        raise ValueError(f"grid axis {name!r} repeats a value: {out!r}")
    return tuple(out)


@dataclasses.dataclass(frozen=True)
class Distribution:
    """One parameter's distribution for random draws.

    Parameters
    ----------
    kind : str
        ``"uniform"`` (``low``, ``high``), ``"loguniform"`` (``low > 0``, ``high``: uniform in log),
        ``"normal"`` (``mean``, ``std >= 0``), ``"integers"`` (``low`` .. ``high`` inclusive) or
        ``"choice"`` (``values``, equally likely).
    low, high, mean, std : float, optional
        The fields of ``kind`` (see :data:`DISTRIBUTIONS`).
    values : tuple, optional
        The candidates of ``"choice"``.
    """

    kind: str
    low: float | None = None
    high: float | None = None
    mean: float | None = None
    std: float | None = None
    values: tuple | None = None

    def __post_init__(self) -> None:
        if self.kind not in DISTRIBUTIONS:
            raise ValueError(f"distribution kind must be one of {sorted(DISTRIBUTIONS)}, got {self.kind!r}")
        needed = DISTRIBUTIONS[self.kind]
        for field in ("low", "high", "mean", "std", "values"):
            given = getattr(self, field) is not None
            if given != (field in needed):
                raise ValueError(f"a {self.kind!r} distribution takes {', '.join(needed)}; "
                                 f"{field!r} is {'not allowed' if given else 'missing'}")
        if self.kind == "choice":
            if not isinstance(self.values, tuple) or not self.values:
                raise ValueError(f"a 'choice' distribution needs a non-empty tuple of values, got {self.values!r}")
            for v in self.values:
                _check_scalar("choice", v)
            return
        for field in needed:
            v = getattr(self, field)
            if isinstance(v, bool) or not isinstance(v, numbers.Real) or not math.isfinite(v):
                raise ValueError(f"{field} of a {self.kind!r} distribution must be a finite number, got {v!r}")
        if self.kind == "normal":
            if self.std < 0:
                raise ValueError(f"std of a 'normal' distribution must be >= 0, got {self.std!r}")
            return
        if self.kind == "integers" and not (float(self.low).is_integer() and float(self.high).is_integer()):
            raise ValueError(f"low and high of an 'integers' distribution must be integers, got "
                             f"{self.low!r}, {self.high!r}")
        if not self.low <= self.high:
            raise ValueError(f"a {self.kind!r} distribution needs low <= high, got low={self.low!r}, "
                             f"high={self.high!r}")
        if self.kind == "loguniform" and self.low <= 0:
            raise ValueError(f"low of a 'loguniform' distribution must be > 0, got {self.low!r}")

    def draw(self, rng: np.random.Generator) -> bool | int | float | str:
        """One value drawn with ``rng`` (exactly one call on the generator per draw)."""
        if self.kind == "uniform":
            return float(rng.uniform(self.low, self.high))
        if self.kind == "loguniform":
            return float(math.exp(rng.uniform(math.log(self.low), math.log(self.high))))
        if self.kind == "normal":
            return float(rng.normal(self.mean, self.std))
        if self.kind == "integers":
            return int(rng.integers(int(self.low), int(self.high), endpoint=True))
        return self.values[int(rng.integers(len(self.values)))]

    def to_dict(self) -> dict[str, Any]:
        """``{"dist": kind, field: value, ...}`` (the config-file form)."""
        out: dict[str, Any] = {"dist": self.kind}
        for field in DISTRIBUTIONS[self.kind]:
            value = getattr(self, field)
            out[field] = list(value) if isinstance(value, tuple) else value
        return out


@dataclasses.dataclass(frozen=True)
class SweepSpec:
    """A sweep: one experiment over a grid and/or random draws, each point run for several seeds.

    Parameters
    ----------
    experiment : str
        A built-in experiment (:data:`memr_snn.sweep.experiments.BUILTIN_EXPERIMENTS`) or an importable
        ``"module:function"``.
    grid : tuple of (str, tuple)
        The grid axes ``(name, values)``, in order (use :func:`spec_from_dict` to give a dict).
    draws : int
        Number of random parameter sets drawn from ``distributions`` (0: none), ``>= 0``.
    distributions : tuple of (str, Distribution)
        The randomly drawn parameters (required when ``draws > 0``, refused otherwise).
    fixed : tuple of (str, value)
        Parameters held constant over the sweep.
    seeds : int
        Replicates per parameter set, ``>= 1``.
    root_seed : int
        The root of every seed of the sweep, ``>= 0``.
    common_seeds : bool
        Replicate ``r`` of every parameter set gets the same seed (see the module docstring).
    version : str
        A version string of the experiment's code, part of every point's key (bump it when the
        experiment changes so that old results are not reused).

    Raises
    ------
    ValueError
        Empty axes, repeated values, a parameter given twice, ``seed`` as a parameter, a sweep of zero
        points, invalid counts.
    """

    experiment: str
    grid: tuple = ()
    draws: int = 0
    distributions: tuple = ()
    fixed: tuple = ()
    seeds: int = 1
    root_seed: int = 0
    common_seeds: bool = False
    version: str = ""

    def __post_init__(self) -> None:
        if not isinstance(self.experiment, str) or not self.experiment.strip():
            raise ValueError(f"experiment must be a built-in name or 'module:function', got {self.experiment!r}")
        for name, value, low in (("draws", self.draws, 0), ("seeds", self.seeds, 1), ("root_seed", self.root_seed, 0)):
            if isinstance(value, bool) or not isinstance(value, int) or value < low:
                raise ValueError(f"{name} must be an integer >= {low}, got {value!r}")
        if not isinstance(self.common_seeds, bool):
            raise ValueError(f"common_seeds must be true or false, got {self.common_seeds!r}")
        if not isinstance(self.version, str):
            raise ValueError(f"version must be a string, got {self.version!r}")
        grid = tuple((str(n), _canonical_axis(str(n), v)) for n, v in self.grid)
        object.__setattr__(self, "grid", grid)
        fixed = tuple((str(n), _check_scalar(f"fixed parameter {n!r}", v)) for n, v in self.fixed)
        object.__setattr__(self, "fixed", fixed)
        for name, dist in self.distributions:
            if not isinstance(dist, Distribution):
                raise ValueError(f"distribution of {name!r} must be a Distribution, got {dist!r}")
        if self.draws and not self.distributions:
            raise ValueError(f"draws = {self.draws} but no distributions to draw from")
        if self.distributions and not self.draws:
            raise ValueError("distributions are given but draws = 0: set draws to the number of random parameter sets")
        names = [n for n, _ in self.grid] + [n for n, _ in self.distributions] + [n for n, _ in self.fixed]
        repeated = sorted({n for n in names if names.count(n) > 1})
        if repeated:
            raise ValueError(f"parameter(s) {repeated} given more than once (grid, random and fixed must not overlap)")
        if "seed" in names:
            raise ValueError("'seed' cannot be a parameter: every point gets its seed from root_seed and seeds")

    @property
    def parameter_names(self) -> list[str]:
        """Every parameter the experiment receives (besides ``seed``)."""
        return [n for n, _ in self.grid] + [n for n, _ in self.distributions] + [n for n, _ in self.fixed]

    @property
    def n_parameter_sets(self) -> int:
        """Grid points times draws (each run ``seeds`` times)."""
        return math.prod(len(v) for _, v in self.grid) * max(self.draws, 1)

    @property
    def n_points(self) -> int:
        """Parameter sets times seeds: the rows of the result table."""
        return self.n_parameter_sets * self.seeds

    def to_dict(self) -> dict[str, Any]:
        """The config-file form (:func:`spec_from_dict` reads it back to an equal spec)."""
        out: dict[str, Any] = {"experiment": self.experiment, "seeds": self.seeds, "root_seed": self.root_seed,
                               "common_seeds": self.common_seeds}
        if self.version:
            out["version"] = self.version
        if self.grid:
            out["grid"] = {n: list(v) for n, v in self.grid}
        if self.fixed:
            out["fixed"] = dict(self.fixed)
        if self.draws:
            out["random"] = {"draws": self.draws, "params": {n: d.to_dict() for n, d in self.distributions}}
        return out

    def fingerprint(self) -> str:
        """SHA-256 of the canonical JSON of :meth:`to_dict` (what a results folder belongs to)."""
        return hashlib.sha256(_canonical_json(self.to_dict()).encode()).hexdigest()


@dataclasses.dataclass(frozen=True)
class Point:
    """One row of a sweep: a parameter set and a seed.

    Attributes
    ----------
    index : int
        Position of the parameter set in the plan (grid, then draws; module docstring).
    replicate : int
        Which of the spec's ``seeds`` runs, ``0 .. seeds-1``.
    params : dict
        The experiment's keyword arguments (grid, drawn and fixed parameters).
    seed : int
        The experiment's ``seed``, in ``[0, 2**32)``.
    key : str
        20 hex digits naming the point (:func:`point_key`).
    """

    index: int
    replicate: int
    params: dict
    seed: int
    key: str


def _canonical_json(obj: Any) -> str:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), allow_nan=False)


def point_key(experiment: str, params: Mapping[str, Any], seed: int, code_version: str) -> str:
    """The key of a point: 20 hex digits of the SHA-256 of ``(experiment, params, seed, code_version)``.

    Parameters
    ----------
    experiment : str
        The spec's experiment name.
    params : mapping
        The point's parameters (order does not matter; ``1`` and ``1.0`` differ).
    seed : int
        The point's seed.
    code_version : str
        :func:`memr_snn.sweep.experiments.code_version` of the experiment.
    """
    typed = {k: [type(v).__name__, v] for k, v in params.items()}
    doc = {"experiment": experiment, "params": typed, "seed": int(seed), "code_version": code_version}
    return hashlib.sha256(_canonical_json(doc).encode()).hexdigest()[:20]


def _seed(root: int, spawn_key: tuple[int, ...]) -> int:
    return int(np.random.SeedSequence(root, spawn_key=spawn_key).generate_state(1, np.uint32)[0])


def _parameter_sets(spec: SweepSpec) -> list[dict]:
    draws = []
    for j in range(spec.draws):
        rng = np.random.default_rng(np.random.SeedSequence(spec.root_seed, spawn_key=(2, j)))
        draws.append({name: dist.draw(rng) for name, dist in spec.distributions})
    names = [n for n, _ in spec.grid]
    out = []
    for combo in itertools.product(*(v for _, v in spec.grid)):
        for drawn in draws or [{}]:
            out.append({**dict(zip(names, combo, strict=True)), **drawn, **dict(spec.fixed)})
    return out


def plan(spec: SweepSpec, code_version: str) -> list[Point]:
    """The points of ``spec`` in plan order (parameter set, then replicate), with seeds and keys.

    Parameters
    ----------
    spec : SweepSpec
        The sweep.
    code_version : str
        Part of every key (:func:`memr_snn.sweep.experiments.code_version`).

    Returns
    -------
    list of Point
        ``spec.n_points`` points.

    Raises
    ------
    ValueError
        Two points with the same key (e.g. two random draws of a ``choice`` that came out equal with
        ``common_seeds``): their rows would be one.
    """
    points = []
    for index, params in enumerate(_parameter_sets(spec)):
        for rep in range(spec.seeds):
            seed = _seed(spec.root_seed, (1, rep) if spec.common_seeds else (0, index, rep))
            points.append(Point(index, rep, params, seed, point_key(spec.experiment, params, seed, code_version)))
    seen: dict[str, Point] = {}
    for p in points:
        if p.key in seen:
            q = seen[p.key]
            raise ValueError(f"points {q.index}/{q.replicate} and {p.index}/{p.replicate} (parameter set/replicate) "
                             f"are the same point ({p.params}, seed {p.seed}); make the grid or draws distinct")
        seen[p.key] = p
    return points


_TOP_KEYS = {"experiment", "grid", "random", "fixed", "seeds", "root_seed", "common_seeds", "version"}


def spec_from_dict(data: Mapping[str, Any], *, ignore: tuple[str, ...] = ()) -> SweepSpec:
    """A :class:`SweepSpec` from its config-file form (the table of a ``sweep.toml``).

    Parameters
    ----------
    data : mapping
        ``experiment`` (required), ``seeds``, ``root_seed``, ``common_seeds``, ``version``, and the
        tables ``grid`` (name -> list of values), ``fixed`` (name -> value) and ``random``
        (``draws`` and ``params``: name -> ``{dist = "uniform", low = .., high = ..}``).
    ignore : tuple of str
        Top-level keys that belong to someone else (the command line's ``executor``, ``out``).

    Raises
    ------
    ValueError
        Unknown keys, wrong types, and everything :class:`SweepSpec` refuses.
    """
    if not isinstance(data, Mapping):
        raise ValueError(f"a sweep spec is a table, got {type(data).__name__}")
    unknown = sorted(set(data) - _TOP_KEYS - set(ignore))
    if unknown:
        raise ValueError(f"unknown key(s) {unknown} in the sweep spec; known: {sorted(_TOP_KEYS | set(ignore))}")
    if "experiment" not in data:
        raise ValueError("the sweep spec needs 'experiment' (a built-in name or 'module:function')")

    def table(name: str) -> Mapping[str, Any]:
        value = data.get(name, {})
        if not isinstance(value, Mapping):
            raise ValueError(f"'{name}' must be a table, got {value!r}")
        return value

    grid = table("grid")
    if "grid" in data and not grid:
        raise ValueError("the grid is empty: give at least one axis (name = [values]) or remove the [grid] table")
    rnd = dict(table("random"))
    unknown = sorted(set(rnd) - {"draws", "params"})
    if unknown:
        raise ValueError(f"unknown key(s) {unknown} in [random]; known: ['draws', 'params']")
    params = rnd.get("params", {})
    if not isinstance(params, Mapping):
        raise ValueError(f"[random] params must be a table, got {params!r}")
    dists = []
    for name, d in params.items():
        if not isinstance(d, Mapping) or "dist" not in d:
            raise ValueError(f"random parameter {name!r} must be a table with 'dist' (one of "
                             f"{sorted(DISTRIBUTIONS)}), got {d!r}")
        fields = {k: v for k, v in d.items() if k != "dist"}
        allowed = DISTRIBUTIONS.get(d["dist"], ())
        extra = sorted(set(fields) - set(allowed))
        if d["dist"] in DISTRIBUTIONS and extra:
            raise ValueError(f"random parameter {name!r}: a {d['dist']!r} distribution takes {list(allowed)}, "
                             f"not {extra}")
        if isinstance(fields.get("values"), list):
            fields["values"] = tuple(fields["values"])
        try:
            dists.append((str(name), Distribution(d["dist"], **fields)))
        except (TypeError, ValueError) as exc:
            raise ValueError(f"random parameter {name!r}: {exc}") from None
    return SweepSpec(
        experiment=data["experiment"], grid=tuple(grid.items()), draws=rnd.get("draws", 0),
        distributions=tuple(dists), fixed=tuple(table("fixed").items()), seeds=data.get("seeds", 1),
        root_seed=data.get("root_seed", 0), common_seeds=data.get("common_seeds", False),
        version=data.get("version", ""),
    )
