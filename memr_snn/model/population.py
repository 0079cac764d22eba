"""Populations: groups of neurons that share a model, and spike sources."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

import numpy as np

from .._validation import (
    Fixed,
    ReadOnlyArray,
    as_param_array,
    check_finite,
    check_index_array,
    check_int_at_least,
    check_nonnegative,
    read_only,
)
from ..neurons.base import NeuronParams

__all__ = ["Population", "PoissonSource", "SpikeSource", "PopulationBase"]


class PopulationBase:
    """What every population has: a size, a name and an owning network."""

    kind: str = ""
    n = Fixed("the size of a population is set at construction")

    def __init__(self, n: int, name: str | None):
        self._n = check_int_at_least("n", n, 1)
        if name is not None and not isinstance(name, str):
            raise TypeError(f"name must be a string, got {name!r}")
        self.name = name
        self._network = None

    @property
    def network(self):
        """The network this population was added to (None before ``Network.add``)."""
        return self._network

    def __len__(self) -> int:
        return self.n

    def __repr__(self) -> str:
        return f"{type(self).__name__}(n={self.n}, name={self.name!r})"


class Population(PopulationBase):
    """``n`` neurons of one model.

    Parameters
    ----------
    n : int
        Number of neurons (>= 1).
    neuron : NeuronParams
        Parameter set, e.g. :class:`memr_snn.LIFParams`; fields may be per-neuron arrays of length n.
    name : str, optional
        Unique name within the network (default ``"pop<k>"``).
    initial : mapping, optional
        Initial state, e.g. ``{"v": array}``; variables not given start at rest
        (``v = v_rest``, synaptic state and adaptation 0).
    """

    kind = "neurons"
    neuron = Fixed("the neuron model is set at construction; make a new Population")

    def __init__(
        self,
        n: int,
        neuron: NeuronParams,
        name: str | None = None,
        initial: Mapping[str, float | np.ndarray] | None = None,
    ):
        super().__init__(n, name)
        if not isinstance(neuron, NeuronParams):
            raise TypeError(f"neuron must be a NeuronParams instance (e.g. LIFParams()), got {neuron!r}")
        size = neuron.size()
        if size is not None and size != self.n:
            raise ValueError(f"neuron parameter arrays have length {size} but n={self.n}")
        self._neuron = neuron
        self._initial: dict[str, np.ndarray] = {}
        for var, value in (initial or {}).items():
            self.set_initial(var, value)

    @property
    def initial(self) -> Mapping[str, np.ndarray]:
        """Initial state set with ``initial=`` or :meth:`set_initial`: a read-only mapping of read-only arrays."""
        return MappingProxyType(self._initial)

    @property
    def state_variables(self) -> tuple[str, ...]:
        return self.neuron.state_variables

    def check_variable(self, var: str) -> None:
        """Raise ``ValueError`` unless ``var`` is a state variable of this model."""
        if var not in self.neuron.state_variables:
            raise ValueError(
                f"unknown state variable {var!r} for {type(self.neuron).__name__}; "
                f"known: {list(self.neuron.state_variables)}"
            )

    def set_initial(self, var: str, value) -> None:
        """Set the initial value of state variable ``var`` (scalar or per-neuron array)."""
        self.check_variable(var)
        arr = as_param_array(var, value)
        check_finite(var, arr)
        if isinstance(arr, np.ndarray) and arr.size != self.n:
            raise ValueError(f"initial {var} has {arr.size} values but n={self.n}")
        self._initial[var] = read_only(np.broadcast_to(np.asarray(arr, dtype=np.float64), (self.n,)).copy())


class PoissonSource(PopulationBase):
    """``n`` independent Poisson spike trains.

    At every step neuron ``i`` spikes with probability ``rate_i * dt`` (as Brian2's
    ``PoissonGroup``).  The kernel draws the gap to each input's next spike (a
    geometric number of steps: the same process) from a counter-based stream of
    the network seed, the input and the draw number, so an input costs work only
    when it fires or its rates change; results do not depend on how a run is split.

    Parameters
    ----------
    n : int
        Number of spike trains.
    rates : float or array
        Constant rates [Hz]: a scalar or (n,) array; or time-varying rates as a
        (n_intervals, n) array, row ``r`` applying to ``[r, r+1) * rate_interval``
        (the last row holds afterwards).
    rate_interval : float, optional
        Duration of one row of a time-varying ``rates`` [s]; a whole number of steps.
    name : str, optional
        Unique name within the network.
    """

    kind = "poisson"

    @property
    def rates(self) -> np.ndarray:
        """The rate table [Hz], ``(n_intervals, n)``, read-only.

        Once the network has run, the rates live in the engine and this view follows
        :meth:`Network.set_rates`; before, it is the table given at construction.
        """
        net = self._network
        runtime = None if net is None else net._sim
        return self._rates if runtime is None else runtime.rates(self)

    @rates.setter
    def rates(self, value) -> None:
        raise AttributeError("PoissonSource.rates is read-only: change the rates of a source in a network "
                             "with Network.set_rates (validated)")

    def __init__(self, n: int, rates, rate_interval: float | None = None, name: str | None = None):
        super().__init__(n, name)
        self._rates = self._check_rates(rates)
        if self.rates.shape[0] > 1:
            if rate_interval is None:
                raise ValueError("rate_interval [s] is required when rates is a (n_intervals, n) array")
            check_nonnegative("rate_interval", rate_interval, "s")
            if rate_interval <= 0:
                raise ValueError(f"rate_interval must be > 0 [s], got {rate_interval!r}")
        self.rate_interval = rate_interval

    def _check_rates(self, rates) -> np.ndarray:
        arr = np.array(rates, dtype=np.float64)
        if arr.ndim == 0:
            arr = np.full((1, self.n), float(arr))
        elif arr.ndim == 1:
            if arr.size != self.n:
                raise ValueError(f"rates has {arr.size} values but n={self.n}")
            arr = arr[None, :]
        elif arr.ndim != 2 or arr.shape[1] != self.n:
            raise ValueError(f"rates must be a scalar, (n,) or (n_intervals, n) array; got shape {arr.shape}")
        check_nonnegative("rates", arr, "Hz")
        return read_only(np.ascontiguousarray(arr))  # change rates with Network.set_rates (validated)


class SpikeSource(PopulationBase):
    """Neurons that spike at given times.

    Parameters
    ----------
    n : int
        Number of neurons.
    times : array of float
        Spike times [s], >= 0; each is placed on the step ``round(time / dt)``.
        When the source is added to a network, a time farther than 1e-6 dt from
        the grid, or two spikes of one neuron in the same step, are refused.
    indices : array of int
        Neuron index of each spike, in [0, n).
    name : str, optional
        Unique name within the network.
    """

    kind = "spikes"

    times = ReadOnlyArray("spike times are fixed at construction; make a new SpikeSource")
    indices = ReadOnlyArray("spike indices are fixed at construction; make a new SpikeSource")

    def __init__(self, n: int, times, indices, name: str | None = None):
        super().__init__(n, name)
        times = np.array(times, dtype=np.float64).ravel()  # a copy: later edits of the caller's array do nothing
        indices = np.asarray(indices).ravel()
        if times.shape != indices.shape:
            raise ValueError(f"times and indices must have the same length, got {times.size} and {indices.size}")
        check_nonnegative("times", times, "s")
        # read-only: the engine builds its spike queue from these, validated here once
        self._indices = read_only(check_index_array("indices", indices, self.n).copy())
        self._times = read_only(times)
