"""Reports of a pipeline run: per stage and per step CPU latency, modelled energy and device writes; a summary
table and a timeline plot.

* **latency** -- CPU time (:func:`time.process_time_ns`) of each stage's ``step``, summed, per firing and per
  pipeline step (``dt``); the **overhead** is the CPU time of the run loop not spent inside stages
  (gathering inputs, buffering, the clock reads), as a fraction of the loop's total;
* **energy** -- each stage's ``counters()["energy_J"]`` (AIMC: :meth:`memr_snn.aimc.AnalogModel.energy`;
  spiking: synaptic ops, compartment updates and device reads priced with a Loihi core profile, see
  :mod:`.stages`), per firing and per step;
* **writes** -- device programming pulses during the run (``counters()["writes"]``).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

__all__ = ["pipeline_report", "summary_table", "plot_timeline", "mean_std", "format_mean_std"]


def mean_std(values) -> dict:
    """``{"mean", "std"}`` of ``values`` over seeds (sample std, ``ddof=1``; 0 for one value)."""
    v = np.asarray(values, dtype=np.float64)
    return {"mean": float(v.mean()), "std": float(v.std(ddof=1)) if v.size > 1 else 0.0}


def format_mean_std(d: dict, scale: float = 1.0, fmt: str = ".3g") -> str:
    """``"mean ± std"`` of a :func:`mean_std` record, both multiplied by ``scale``."""
    return f"{d['mean'] * scale:{fmt}} ± {d['std'] * scale:{fmt}}"


def pipeline_report(pipe) -> dict:
    """The accounting of everything ``pipe`` ran since its reset (module docstring), JSON-able.

    Returns
    -------
    dict
        ``steps``, ``dt``, ``cpu_s`` (the run loop), ``stage_cpu_s`` (inside stages), ``overhead_s``,
        ``overhead_fraction`` and ``stages``: one dict per stage with ``name``, ``kind``, ``period_s``,
        ``latency_s``, ``firings``, ``cpu_s``, ``cpu_s_per_firing``, ``cpu_s_per_step``, ``energy_J``,
        ``energy_J_per_firing``, ``energy_J_per_step``, ``writes`` and the stage's other ``counters``.
    """
    steps = max(int(pipe.step_count), 1)
    counters = pipe.counters()
    rows = []
    for i, st in enumerate(pipe.stages):
        c = dict(counters[st.name])
        f = int(pipe.firings[i])
        cpu = float(pipe.cpu_ns[i]) * 1e-9
        e = float(c.pop("energy_J", 0.0))
        w = float(c.pop("writes", 0.0))
        rows.append({"name": st.name, "kind": st.kind, "period_s": st.period, "latency_s": st.latency,
                     "firings": f, "cpu_s": cpu, "cpu_s_per_firing": cpu / f if f else 0.0,
                     "cpu_s_per_step": cpu / steps, "energy_J": e, "energy_J_per_firing": e / f if f else 0.0,
                     "energy_J_per_step": e / steps, "writes": w, "counters": c})
    total = float(pipe.step_cpu_ns) * 1e-9
    inside = float(np.sum(pipe.cpu_ns)) * 1e-9
    over = max(total - inside, 0.0)
    return {"steps": int(pipe.step_count), "dt": pipe.dt, "cpu_s": total, "stage_cpu_s": inside,
            "overhead_s": over, "overhead_fraction": over / total if total > 0 else 0.0,
            "energy_J": sum(r["energy_J"] for r in rows), "writes": sum(r["writes"] for r in rows), "stages": rows}


def summary_table(report: dict) -> str:
    """A markdown table of :func:`pipeline_report`: one row per stage, then the pipeline's overhead."""
    head = ("| stage | kind | period [ms] | latency [ms] | firings | CPU per firing [us] | CPU per step [us] "
            "| energy per firing [nJ] | energy per step [nJ] | writes |\n|---|---|---|---|---|---|---|---|---|---|\n")
    lines = [f"| {r['name']} | {r['kind']} | {r['period_s'] * 1e3:g} | {r['latency_s'] * 1e3:g} | {r['firings']} "
             f"| {r['cpu_s_per_firing'] * 1e6:.1f} | {r['cpu_s_per_step'] * 1e6:.1f} "
             f"| {r['energy_J_per_firing'] * 1e9:.4g} | {r['energy_J_per_step'] * 1e9:.4g} | {r['writes']:g} |"
             for r in report["stages"]]
    steps = max(report["steps"], 1)
    tail = (f"\n\n{report['steps']} steps of {report['dt'] * 1e3:g} ms: run loop "
            f"{report['cpu_s'] * 1e6 / steps:.1f} us CPU per step, of which pipeline overhead "
            f"{report['overhead_s'] * 1e6 / steps:.2f} us "
            f"({100 * report['overhead_fraction']:.1f} %); energy {report['energy_J'] * 1e9 / steps:.4g} nJ per step.")
    return head + "\n".join(lines) + tail


def plot_timeline(pipe, path: str | Path | None = None, steps: int | None = None):
    """Timeline of the first ``steps`` recorded steps (default: up to 60): per stage, each firing as a bar from the
    firing to the moment its output is visible (its latency; a firing of zero latency is drawn 0.2 steps wide),
    coloured by its CPU time (scale clipped at the 95th percentile: the first firings include one-time setup);
    below, the CPU time per step stacked by stage (axis clipped likewise).  Saves to ``path`` if given
    (:func:`memr_snn.io.atomic.save_figure`); returns the figure."""
    import matplotlib.pyplot as plt

    tl = pipe.timeline()
    if steps is None:
        steps = min(int(pipe.step_count), 60)
    keep = tl["step"] < steps
    step, stage, cpu = tl["step"][keep], tl["stage"][keep], tl["cpu_s"][keep]
    dt = pipe.dt
    fig, (ax, ax2) = plt.subplots(2, 1, figsize=(9, 2.2 + 0.45 * len(pipe.stages)), sharex=True,
                                  gridspec_kw={"height_ratios": [len(pipe.stages), 2]})
    cmap = plt.get_cmap("viridis")
    # colour and height scales from the 95th percentile: the first firings carry one-time setup (engine build)
    top = float(np.percentile(cpu, 95)) if cpu.size else 1.0
    for i, st in enumerate(pipe.stages):
        sel = stage == i
        width = max(st.latency, 0.2 * dt) * 1e3
        for n, c in zip(step[sel], cpu[sel], strict=True):
            ax.broken_barh([(n * dt * 1e3, width)], (i - 0.35, 0.7),
                           color=cmap(min(c / top, 1.0) if top > 0 else 0.0))
    ax.set_yticks(range(len(pipe.stages)), [f"{st.name} ({st.kind})" for st in pipe.stages])
    ax.invert_yaxis()
    ax.set_title("firings: bar = firing -> output visible (latency); colour = CPU time")
    per_step = np.zeros((len(pipe.stages), steps))
    np.add.at(per_step, (stage, step), cpu)
    x = np.arange(steps) * dt * 1e3
    ax2.stackplot(x, per_step * 1e6, labels=[st.name for st in pipe.stages], step="post")
    totals = per_step.sum(axis=0)
    if totals.size and np.percentile(totals, 95) > 0:
        ax2.set_ylim(0, 1.5e6 * float(np.percentile(totals, 95)))
    ax2.set_ylabel("CPU per step [us]")
    ax2.set_xlabel("time [ms]")
    ax2.legend(fontsize=7, ncol=min(len(pipe.stages), 6), loc="upper right")
    fig.tight_layout()
    if path is not None:
        from ..io.atomic import save_figure

        save_figure(fig, path, dpi=110)
        plt.close(fig)
    return fig
