"""One-line plots of monitor data and device traces (matplotlib, imported lazily)."""

from __future__ import annotations

import numpy as np

__all__ = ["raster_plot", "rate_plot", "plot_iv"]


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


def plot_iv(trace, ax=None, color: str = "C0", title: str | None = None):
    """Current [A] against voltage [V] of an :class:`~memr_snn.devices.IVTrace` (the pinched loop).

    Returns the matplotlib Axes.
    """
    ax = _axes(ax)
    ax.plot(trace.v, trace.i, color=color, lw=1)
    ax.axhline(0.0, color="0.7", lw=0.5)
    ax.axvline(0.0, color="0.7", lw=0.5)
    ax.set_xlabel("voltage [V]")
    ax.set_ylabel("current [A]")
    if title:
        ax.set_title(title)
    return ax
