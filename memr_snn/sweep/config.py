"""Sweep config files (TOML): the spec plus where the results go and how the points run.

::

    experiment = "cuba-stuck-faults"     # a built-in (memr-snn sweep list) or "package.module:function"
    seeds = 5                            # replicates per parameter set
    root_seed = 2024
    common_seeds = true
    out = "sweep_output/cuba_stuck"      # results folder, relative to the config file (--out overrides)

    [grid]
    fault_rate = [0.0, 0.05, 0.1, 0.2]

    [fixed]
    n = 2000

    [random]                             # optional: random parameter sets, combined with every grid point
    draws = 4
    [random.params]
    on_fraction = { dist = "uniform", low = 0.2, high = 0.8 }

    [executor]                           # optional; the command line's options override it
    kind = "dask"                        # "serial" or "dask"
    workers = 2                          # embedded LocalCluster; or
    # scheduler = "tcp://10.0.0.5:8786"  # an existing scheduler
    retries = 2
    connect_timeout = 10.0
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .spec import SweepSpec, spec_from_dict

__all__ = ["SweepConfig", "load_config", "EXECUTOR_KEYS"]

#: keys of the ``[executor]`` table
EXECUTOR_KEYS = ("kind", "workers", "scheduler", "retries", "connect_timeout")


def _tomllib():
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        try:
            import tomli as tomllib
        except ModuleNotFoundError:
            raise ValueError("reading a TOML config on Python 3.10 needs tomli: pip install tomli") from None
    return tomllib


@dataclasses.dataclass(frozen=True)
class SweepConfig:
    """A parsed config file."""

    spec: SweepSpec
    out: Path | None
    """Results folder (relative paths resolved against the config file's folder), or None."""
    executor: dict[str, Any]
    """The ``[executor]`` table (keys of :data:`EXECUTOR_KEYS`), validated for types."""


def _check_executor(table: Any) -> dict[str, Any]:
    if not isinstance(table, Mapping):
        raise ValueError(f"[executor] must be a table, got {table!r}")
    unknown = sorted(set(table) - set(EXECUTOR_KEYS))
    if unknown:
        raise ValueError(f"unknown key(s) {unknown} in [executor]; known: {list(EXECUTOR_KEYS)}")
    out = dict(table)
    if out.get("kind", "dask") not in ("serial", "dask"):
        raise ValueError(f"[executor] kind must be 'serial' or 'dask', got {out['kind']!r}")
    return out


def config_from_dict(data: Mapping[str, Any], base: Path | None = None) -> SweepConfig:
    """A :class:`SweepConfig` from the parsed TOML document ``data`` (``base``: folder of relative ``out``)."""
    spec = spec_from_dict(data, ignore=("out", "executor"))
    out = data.get("out")
    if out is not None:
        if not isinstance(out, str) or not out.strip():
            raise ValueError(f"out must be a folder path, got {out!r}")
        out = Path(out)
        if base is not None and not out.is_absolute():
            out = base / out
    return SweepConfig(spec, out, _check_executor(data.get("executor", {})))


def load_config(path: str | os.PathLike) -> SweepConfig:
    """Read a sweep config file (TOML).

    Raises
    ------
    FileNotFoundError
        No such file.
    ValueError
        Not valid TOML (with the line), or a spec the sweep refuses.
    """
    path = Path(path)
    tomllib = _tomllib()
    text = path.read_text(encoding="utf-8")
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"{path}: not valid TOML ({exc})") from None
    try:
        return config_from_dict(data, path.parent)
    except ValueError as exc:
        raise ValueError(f"{path}: {exc}") from None
