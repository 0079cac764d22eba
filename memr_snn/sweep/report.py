"""What a results folder says: its status, degradation curves (metric vs a parameter over seeds), a plot and
a markdown summary."""

from __future__ import annotations

import dataclasses
import math
import os
from collections import Counter
from pathlib import Path
from typing import Any

from ..io.atomic import save_figure
from .experiments import BUILTIN_EXPERIMENTS, code_version, resolve_experiment
from .results import read_manifest, read_results
from .spec import plan, spec_from_dict

__all__ = ["sweep_status", "CurvePoint", "degradation_curves", "plot_curves", "summary_markdown", "default_axes"]


def sweep_status(folder: str | os.PathLike) -> dict[str, Any]:
    """Points of the sweep in ``folder``: total, ok, failed, missing, and the failures by error type.

    ``same_code`` tells whether this installation has the folder's code version (a rerun here resumes it;
    otherwise ``code_note`` says which versions differ and a rerun is refused).

    The plan is recomputed from the manifest, so rows of keys the plan does not contain (none, unless the
    folder was edited by hand) are counted as ``foreign``.
    """
    manifest = read_manifest(folder)
    spec = spec_from_dict(manifest["spec"])
    keys = {p.key for p in plan(spec, manifest["code_version"])}
    table = read_results(folder)
    rows = table.select(["key", "status"] + (["error_type"] if "error_type" in table.column_names else [])).to_pylist()
    mine = [r for r in rows if r["key"] in keys]
    ok = sum(r["status"] == "ok" for r in mine)
    failed = [r for r in mine if r["status"] != "ok"]
    seconds = [s for s in (table.column("seconds").to_pylist() if "seconds" in table.column_names else [])
               if s is not None and math.isfinite(s)]
    return {"folder": str(folder), "experiment": spec.experiment, "code_version": manifest["code_version"],
            "points": len(keys), "ok": ok, "failed": len(failed), "missing": len(keys) - len(mine),
            "foreign": len(rows) - len(mine), "errors": dict(Counter(r.get("error_type") or "?" for r in failed)),
            "same_code": _code_note(manifest) is None, "code_note": _code_note(manifest),
            "point_seconds_total": sum(seconds), "point_seconds_mean": sum(seconds) / len(seconds) if seconds else None}


@dataclasses.dataclass(frozen=True)
class CurvePoint:
    """One x value of a degradation curve: the metric over the seeds that finished."""

    x: Any
    mean: float
    std: float
    """Sample standard deviation over the seeds (``ddof=1``; 0 for one seed)."""
    n: int
    """Seeds with a finite value of the metric."""
    failed: int
    """Seeds whose point failed."""


def default_axes(folder: str | os.PathLike) -> tuple[str, str]:
    """``(x, metric)`` of a folder's default curve: a built-in's declared pair (its first numeric grid axis
    when the declared x is not swept), else the first numeric grid axis and the first metric."""
    manifest = read_manifest(folder)
    spec = manifest["spec"]
    entry = BUILTIN_EXPERIMENTS.get(spec["experiment"])
    grid = list(spec.get("grid", {})) or list(spec.get("random", {}).get("params", {}))
    numeric = [n for n, values in spec.get("grid", {}).items()
               if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values)]
    if numeric:  # a curve needs numbers on its x axis; the others (true/false, names) label the curves
        grid = numeric + [n for n in grid if n not in numeric]
    if entry is not None:
        # a campaign of a built-in over another of its parameters (drift_time of sensory-faults, ...)
        return (entry.x if entry.x in grid or not grid else grid[0]), entry.metric
    if not grid:
        raise ValueError(f"{folder}: the sweep has no grid or random parameter to put on the x axis")
    metrics = sorted(c[len("metric."):] for c in read_results(folder).column_names if c.startswith("metric."))
    if not metrics:
        raise ValueError(f"{folder}: no finished point has metrics yet")
    return grid[0], metrics[0]


def degradation_curves(table, x: str, metric: str) -> dict[tuple, list[CurvePoint]]:
    """Mean and standard deviation of ``metric`` over seeds at each value of the parameter ``x``.

    Parameters
    ----------
    table : pyarrow.Table
        :func:`memr_snn.sweep.results.read_results` of a folder.
    x : str
        A parameter name (column ``param.<x>``).
    metric : str
        A metric name (column ``metric.<metric>``).

    Returns
    -------
    dict
        One curve per combination of the other parameters that vary in the table: key
        ``((name, value), ...)`` (``()`` when only ``x`` varies), value the points sorted by ``x``.

    Raises
    ------
    ValueError
        ``x`` or ``metric`` is not a column of the table (the message lists those that are).
    """
    params = [c[len("param."):] for c in table.column_names if c.startswith("param.")]
    metrics = [c[len("metric."):] for c in table.column_names if c.startswith("metric.")]
    if x not in params:
        raise ValueError(f"no parameter {x!r} in the results; parameters: {sorted(params)}")
    if metric not in metrics:
        raise ValueError(f"no metric {metric!r} in the results; metrics: {sorted(metrics)}")
    rows = table.to_pylist()
    varying = [p for p in params if p != x and len({repr(r[f"param.{p}"]) for r in rows}) > 1]
    groups: dict[tuple, dict[Any, list]] = {}
    for r in rows:
        g = tuple((p, r[f"param.{p}"]) for p in varying)
        groups.setdefault(g, {}).setdefault(r[f"param.{x}"], []).append(r)
    out = {}
    for g, by_x in sorted(groups.items(), key=lambda kv: repr(kv[0])):
        curve = []
        for xv in sorted(by_x, key=lambda v: (isinstance(v, str), v)):
            vals = [r[f"metric.{metric}"] for r in by_x[xv] if r["status"] == "ok"]
            vals = [float(v) for v in vals if v is not None and math.isfinite(float(v))]
            failed = sum(r["status"] != "ok" for r in by_x[xv])
            mean = sum(vals) / len(vals) if vals else math.nan
            std = math.sqrt(sum((v - mean) ** 2 for v in vals) / (len(vals) - 1)) if len(vals) > 1 else (
                0.0 if vals else math.nan)
            curve.append(CurvePoint(xv, mean, std, len(vals), failed))
        out[g] = curve
    return out


def _label(group: tuple) -> str:
    return ", ".join(f"{k} = {v}" for k, v in group) or None


def plot_curves(curves: dict[tuple, list[CurvePoint]], x: str, metric: str, path: str | os.PathLike, *,
                title: str | None = None, log_x: bool | None = None) -> Path:
    """Plot degradation curves (mean with a +- 1 std band over seeds) and save them atomically.

    Parameters
    ----------
    curves : dict
        :func:`degradation_curves`.
    x, metric : str
        Axis labels.
    path : str or os.PathLike
        Figure file (format from the suffix).
    title : str, optional
        Figure title.
    log_x : bool, optional
        Logarithmic x axis; default: when the x values are positive and span three decades or more (drift
        times 1 s .. 1 year).

    Returns
    -------
    pathlib.Path
        ``path``.
    """
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.0, 4.0), constrained_layout=True)
    try:
        for group, pts in curves.items():
            pts = [p for p in pts if p.n > 0 and not isinstance(p.x, str)]
            if not pts:
                continue
            xs = [float(p.x) for p in pts]
            ms = [p.mean for p in pts]
            lo = [p.mean - p.std for p in pts]
            hi = [p.mean + p.std for p in pts]
            line, = ax.plot(xs, ms, marker="o", label=_label(group))
            ax.fill_between(xs, lo, hi, color=line.get_color(), alpha=0.25, linewidth=0)
        n_seeds = max((p.n for pts in curves.values() for p in pts), default=0)
        if log_x is None:
            xs_all = [float(p.x) for pts in curves.values() for p in pts if p.n > 0 and not isinstance(p.x, str)]
            log_x = bool(xs_all) and min(xs_all) > 0 and max(xs_all) >= 1000 * min(xs_all)
        if log_x:
            ax.set_xscale("log")
        ax.set_xlabel(x)
        ax.set_ylabel(f"{metric} (mean ± std over {n_seeds} seeds)")
        if title:
            ax.set_title(title)
        if any(_label(g) for g in curves):
            ax.legend(fontsize="small")
        ax.grid(alpha=0.3)
        return save_figure(fig, path, dpi=120)
    finally:
        plt.close(fig)


def _fmt(v: float) -> str:
    return "nan" if not math.isfinite(v) else f"{v:.4g}"


def summary_markdown(folder: str | os.PathLike, x: str, metric: str, *, figure: str | None = None) -> str:
    """A markdown summary of a results folder: the spec, the status and the degradation table."""
    manifest = read_manifest(folder)
    status = sweep_status(folder)
    curves = degradation_curves(read_results(folder), x, metric)
    spec = manifest["spec"]
    lines = [f"# Sweep: {spec['experiment']}", "",
             (f"- points: {status['points']} ({status['ok']} ok, {status['failed']} failed, "
              f"{status['missing']} missing)"),
             (f"- seeds per parameter set: {spec['seeds']} (root seed {spec['root_seed']}, "
              f"common seeds: {str(spec['common_seeds']).lower()})"),
             f"- code version: {manifest['code_version']}",
             f"- compute time of the points: {status['point_seconds_total']:.1f} s"]
    if spec.get("fixed"):
        lines.append("- fixed: " + ", ".join(f"{k} = {v}" for k, v in spec["fixed"].items()))
    if status["errors"]:
        lines.append("- failures by error type: " + ", ".join(f"{k}: {v}" for k, v in status["errors"].items()))
    if figure:
        lines += ["", f"![{metric} vs {x}]({figure})"]
    for group, pts in curves.items():
        lines += ["", f"## {metric} vs {x}" + (f" ({_label(group)})" if group else ""), "",
                  f"| {x} | mean | std | seeds | failed |", "|---:|---:|---:|---:|---:|"]
        lines += [f"| {p.x} | {_fmt(p.mean)} | {_fmt(p.std)} | {p.n} | {p.failed} |" for p in pts]
    return "\n".join(lines) + "\n"


def _code_note(manifest: dict[str, Any]) -> str | None:
    """None if the folder's code version is this installation's (a rerun would reuse its rows), else a note."""
    try:
        exp = resolve_experiment(manifest["spec"]["experiment"], manifest["spec"].get("version", ""))
    except ValueError:
        return None
    mine = code_version(exp)
    return None if mine == manifest["code_version"] else f"made by {manifest['code_version']}, this is {mine}"
