"""Monitors: what a run records.  Data come back as flat numpy arrays."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .._validation import Fixed, ReadOnlyArray, check_index_array, read_only
from .population import Population, PopulationBase

__all__ = ["SpikeMonitor", "StateMonitor", "RateMonitor", "Monitor"]


class Monitor:
    """Base class: a monitor watches one population of the network it is added to."""

    def __init__(self, population: PopulationBase, name: str | None = None):
        if not isinstance(population, PopulationBase):
            raise TypeError(f"population must be a population, got {population!r}")
        self.population = population
        self.name = name
        self._network = None

    def _dt(self) -> float:
        if self._network is None:
            raise RuntimeError("the monitor is not part of a network yet")
        return self._network.dt


class SpikeMonitor(Monitor):
    """Records spikes of a population (all neurons or a subset).

    Attributes
    ----------
    i : (n_spikes,) int64 ndarray
        Local neuron index of each spike, ordered by time then index.
    t : (n_spikes,) float64 ndarray
        Spike times [s] (``step * dt``).
    steps : (n_spikes,) int64 ndarray
        Spike steps.
    """

    indices = ReadOnlyArray("monitored indices are fixed at construction; add a new SpikeMonitor")

    def __init__(self, population: PopulationBase, indices: Sequence[int] | None = None, name=None):
        super().__init__(population, name)
        # read-only: the engine builds its recording tables from these
        self._indices = None if indices is None else read_only(np.unique(
            check_index_array("indices", indices, population.n)
        ))
        self._chunks_step: list[np.ndarray] = []
        self._chunks_i: list[np.ndarray] = []

    def _append(self, steps: np.ndarray, local: np.ndarray) -> None:
        if steps.size:
            self._chunks_step.append(steps.astype(np.int64))
            self._chunks_i.append(local.astype(np.int64))

    def _consolidate(self) -> None:
        if len(self._chunks_step) > 1:
            self._chunks_step = [np.concatenate(self._chunks_step)]
            self._chunks_i = [np.concatenate(self._chunks_i)]

    @property
    def steps(self) -> np.ndarray:
        self._consolidate()
        return self._chunks_step[0] if self._chunks_step else np.zeros(0, dtype=np.int64)

    @property
    def i(self) -> np.ndarray:
        self._consolidate()
        return self._chunks_i[0] if self._chunks_i else np.zeros(0, dtype=np.int64)

    @property
    def t(self) -> np.ndarray:
        return self.steps * self._dt()

    @property
    def num_spikes(self) -> int:
        return int(sum(c.size for c in self._chunks_step))

    def count(self) -> np.ndarray:
        """Spike count per neuron of the population, (n,) int64."""
        return np.bincount(self.i, minlength=self.population.n)

    def spike_trains(self) -> dict[int, np.ndarray]:
        """Spike times [s] per recorded neuron index."""
        order = np.argsort(self.i, kind="stable")
        i, t = self.i[order], self.t[order]
        keys = self.indices if self.indices is not None else np.arange(self.population.n)
        bounds = np.searchsorted(i, keys), np.searchsorted(i, keys, side="right")
        return {int(k): t[a:b] for k, a, b in zip(keys, *bounds, strict=True)}

    def clear(self) -> None:
        self._chunks_step, self._chunks_i = [], []

    def plot(self, ax=None, **kwargs):
        """Raster plot (see :func:`memr_snn.plotting.raster_plot`)."""
        from ..plotting import raster_plot

        return raster_plot(self, ax=ax, **kwargs)


class StateMonitor(Monitor):
    """Samples state variables every ``interval`` seconds.

    Samples are the state at time ``t`` with the events arriving at ``t`` added
    (Brian2's ``start`` slot).  Reading never disturbs the simulation: idle
    neurons are evaluated with their closed form without being touched.

    Attributes
    ----------
    t : (n_samples,) float64 ndarray
        Sample times [s].
    values : dict[str, (n_samples, n_recorded) ndarray]
        One array per variable; also available as attributes, e.g. ``mon.v``.
    """

    indices = ReadOnlyArray("monitored indices are fixed at construction; add a new StateMonitor")
    variables = Fixed("recorded variables are fixed at construction; add a new StateMonitor")
    interval = Fixed("the sampling interval is fixed at construction; add a new StateMonitor")
    every = Fixed("the sampling period in steps follows from interval and dt")

    def __init__(
        self,
        population: Population,
        variables: str | Sequence[str],
        indices: Sequence[int] | None = None,
        interval: float | None = None,
        name=None,
    ):
        super().__init__(population, name)
        if not isinstance(population, Population):
            raise TypeError("StateMonitor needs a neuron Population (spike sources have no state)")
        if isinstance(variables, str):
            variables = (variables,)
        variables = tuple(variables)
        if not variables:
            raise ValueError("variables must name at least one state variable")
        for var in variables:
            population.check_variable(var)
        self._variables = variables
        self._indices = read_only(  # read-only: the engine builds its recording tables from these
            np.arange(population.n, dtype=np.int64)
            if indices is None
            else check_index_array("indices", indices, population.n).copy()
        )
        if interval is not None and not (np.isfinite(interval) and interval > 0):
            raise ValueError(f"interval must be finite and > 0 [s], got {interval!r}")
        self._interval = interval
        self._every = 1  # set by the network from interval and dt
        self._chunks_steps: list[np.ndarray] = []
        self._chunks: list[np.ndarray] = []  # (n_samples, n_vars * n_idx)

    def n_samples(self, n_steps: int, start_step: int = 0) -> int:
        """Samples taken by a run of ``n_steps`` steps that starts at step ``start_step``."""
        every = self.every
        return len(range(-(-start_step // every) * every, start_step + n_steps, every))

    def estimate_bytes(self, n_steps: int, start_step: int = 0) -> int:
        """Memory the samples of a run of ``n_steps`` steps from ``start_step`` will take [bytes].

        Recorded neurons x variables x samples x 8 bytes (float64), plus the 8-byte step of
        each sample; used by :meth:`memr_snn.Network.run` to refuse a recording that cannot
        fit before anything is simulated.

        Parameters
        ----------
        n_steps : int
            Steps of the run, >= 0.
        start_step : int
            Step the run starts at (samples fall on multiples of ``every``).

        Returns
        -------
        int
            Estimated bytes.
        """
        width = self.indices.size * len(self.variables)
        return self.n_samples(n_steps, start_step) * (width + 1) * 8

    def _append(self, steps: np.ndarray, data: np.ndarray) -> None:
        if steps.size:
            self._chunks_steps.append(steps)
            self._chunks.append(data)

    def _consolidate(self):
        if len(self._chunks) > 1:
            self._chunks_steps = [np.concatenate(self._chunks_steps)]
            self._chunks = [np.concatenate(self._chunks)]

    @property
    def steps(self) -> np.ndarray:
        self._consolidate()
        return self._chunks_steps[0] if self._chunks_steps else np.zeros(0, dtype=np.int64)

    @property
    def t(self) -> np.ndarray:
        return self.steps * self._dt()

    @property
    def values(self) -> dict[str, np.ndarray]:
        self._consolidate()
        n_idx = self.indices.size
        data = self._chunks[0] if self._chunks else np.zeros((0, len(self.variables) * n_idx))
        return {var: data[:, k * n_idx:(k + 1) * n_idx] for k, var in enumerate(self.variables)}

    def __getattr__(self, item):
        if item.startswith("_") or item not in self.__dict__.get("_variables", ()):
            raise AttributeError(item)
        return self.values[item]

    def clear(self) -> None:
        self._chunks_steps, self._chunks = [], []


class RateMonitor(Monitor):
    """Population rate: spikes per step divided by (n * dt) [Hz]."""

    def __init__(self, population: PopulationBase, name=None):
        super().__init__(population, name)
        self._counts: list[np.ndarray] = []
        self._start_step: int | None = None

    def _append(self, start_step: int, counts: np.ndarray) -> None:
        if self._start_step is None:
            self._start_step = start_step
        self._counts.append(counts.astype(np.int64))

    @property
    def counts(self) -> np.ndarray:
        """Spikes per step, (n_steps,) int64."""
        if len(self._counts) > 1:
            self._counts = [np.concatenate(self._counts)]
        return self._counts[0] if self._counts else np.zeros(0, dtype=np.int64)

    @property
    def t(self) -> np.ndarray:
        start = self._start_step or 0
        return (start + np.arange(self.counts.size)) * self._dt()

    @property
    def rate(self) -> np.ndarray:
        """Instantaneous population rate [Hz], (n_steps,)."""
        return self.counts / (self.population.n * self._dt())

    def smooth_rate(self, width: float) -> np.ndarray:
        """Rate smoothed with a flat window of ``width`` seconds [Hz]."""
        k = max(1, int(round(width / self._dt())))
        return np.convolve(self.rate, np.ones(k) / k, mode="same")

    def clear(self) -> None:
        self._counts, self._start_step = [], None

    def plot(self, ax=None, **kwargs):
        """Rate plot (see :func:`memr_snn.plotting.rate_plot`)."""
        from ..plotting import rate_plot

        return rate_plot(self, ax=ax, **kwargs)
