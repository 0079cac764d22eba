"""One-line plots of monitor data and device traces (matplotlib, imported lazily)."""

from __future__ import annotations

import numpy as np

__all__ = ["raster_plot", "rate_plot", "plot_iv", "plot_conductances", "plot_pulse_counts", "plot_drift"]


def _axes(ax):
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots(figsize=(8, 4))
    return ax


def raster_plot(monitor, ax=None, markersize: float = 1.0, color: str = "k", title: str | None = None):
    """Raster of a :class:`~memr_snn.SpikeMonitor`: time [s] vs neuron index.

    Returns the matplotlib Axes.
    """
    ax = _axes(ax)
    ax.plot(monitor.t, monitor.i, ".", markersize=markersize, color=color, rasterized=True)
    ax.set_xlabel("time [s]")
    ax.set_ylabel(f"neuron index ({monitor.population.name})")
    ax.set_ylim(-0.5, monitor.population.n - 0.5)
    if title:
        ax.set_title(title)
    return ax


def rate_plot(monitor, ax=None, width: float = 5e-3, color: str = "C0", title: str | None = None):
    """Population rate [Hz] of a :class:`~memr_snn.RateMonitor`, smoothed over ``width`` seconds."""
    ax = _axes(ax)
    rate = monitor.smooth_rate(width) if monitor.counts.size else np.zeros(0)
    ax.plot(monitor.t, rate, color=color, lw=1)
    ax.set_xlabel("time [s]")
    ax.set_ylabel(f"rate [Hz] ({monitor.population.name})")
    if title:
        ax.set_title(title)
    return ax


def plot_iv(trace, ax=None, color: str = "C0", title: str | None = None, label: str | None = None):
    """Current [A] against voltage [V] of an :class:`~memr_snn.devices.IVTrace` (the pinched loop).

    ``label`` names the loop in a later ``ax.legend()``; the zero axes drawn here never get a
    legend entry.  Returns the matplotlib Axes.
    """
    ax = _axes(ax)
    ax.plot(trace.v, trace.i, color=color, lw=1, label=label)
    ax.axhline(0.0, color="0.7", lw=0.5, label="_nolegend_")
    ax.axvline(0.0, color="0.7", lw=0.5, label="_nolegend_")
    ax.set_xlabel("voltage [V]")
    ax.set_ylabel("current [A]")
    if title:
        ax.set_title(title)
    return ax


def plot_conductances(crossbar, ax=None, t: float | None = None, bins: int = 80, title: str | None = None):
    """Histogram of a crossbar's device conductances [S]: programmed, and as read at time ``t`` [s].

    ``crossbar`` is a :class:`~memr_snn.devices.CrossbarState` (``projection.crossbar``);
    the read histogram (drift and retention at ``t``, no read noise) is drawn when ``t`` is given.
    """
    ax = _axes(ax)
    g = np.asarray(crossbar.g)
    ax.hist(g * 1e6, bins=bins, histtype="step", color="C0", label="programmed")
    if t is not None:
        ax.hist(crossbar.read_conductances(t) * 1e6, bins=bins, histtype="step", color="C3", label=f"read at {t:g} s")
    ax.set_xlabel("conductance [uS]")
    ax.set_ylabel("devices")
    ax.legend(frameon=False)
    if title:
        ax.set_title(title)
    return ax


def plot_pulse_counts(crossbar, ax=None, bins: int = 50, title: str | None = None):
    """Histogram of program pulses per device of a crossbar (wear)."""
    ax = _axes(ax)
    counts = np.asarray(crossbar.counts)
    ax.hist(counts, bins=bins, color="C1")
    ax.set_xlabel("program pulses per device")
    ax.set_ylabel("devices")
    ax.set_yscale("log")
    if title:
        ax.set_title(title)
    return ax


def plot_drift(crossbar, times, ax=None, n_devices: int = 20, title: str | None = None):
    """Conductance of ``n_devices`` devices and the mean over all against time [s] on log-log axes."""
    ax = _axes(ax)
    times = np.asarray(times, dtype=np.float64)
    reads = np.array([crossbar.read_conductances(t) for t in times])
    pick = np.linspace(0, reads.shape[1] - 1, min(n_devices, reads.shape[1])).astype(int)
    ax.loglog(times, reads[:, pick] * 1e6, color="0.7", lw=0.7)
    ax.loglog(times, reads.mean(axis=1) * 1e6, color="C3", lw=2, label="mean")
    ax.set_xlabel("time since programming [s]")
    ax.set_ylabel("conductance [uS]")
    ax.legend(frameon=False)
    if title:
        ax.set_title(title)
    return ax
