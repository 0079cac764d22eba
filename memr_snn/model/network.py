# Size: about 620 lines because Network is one class: its validated settings (dt, seed, engine, weights, threads), the
# structure rules of add, the run schedule and the state access, each documented where users read it.
"""The Network: an explicit container that owns dt, the seed and the schedule."""

from __future__ import annotations

import logging
import math
from collections.abc import Callable

import numpy as np

from .._validation import Fixed
from .monitors import Monitor, StateMonitor
from .population import PoissonSource, PopulationBase, SpikeSource
from .projection import Projection

__all__ = ["Network", "ENGINES", "install_runtime"]

logger = logging.getLogger(__name__)

ENGINES = ("auto", "event", "dense")
#: storage types of synaptic weights (float32 halves weight memory: 8 instead of 12 bytes per synapse)
WEIGHT_DTYPES = ("float64", "float32")

#: bytes per synapse assumed by the memory estimate (indices + weights + delay + slack)
_BYTES_PER_SYNAPSE_ESTIMATE = 14
#: transient bytes per synapse while a projection is generated and sorted
_BYTES_PER_SYNAPSE_BUILD = 48


def _available_memory() -> int | None:
    try:
        from ..info import available_memory_bytes
    except ImportError:  # pragma: no cover
        return None
    return available_memory_bytes()


#: The runtime hooks (build, save, load), installed by a higher layer (memr_snn/runtime.py): the
#: model never imports the engine or the checkpoint I/O itself.
_RUNTIME: dict[str, Callable] = {}


def install_runtime(*, build: Callable, save: Callable, load: Callable) -> None:
    """Install what runs and persists networks (``import memr_snn`` installs the engine and io).

    Parameters
    ----------
    build : callable
        ``build(net)`` returns the runtime object of a network on its first run; it holds all
        mutable state and provides ``step``, ``mode``, ``run_steps``, ``get_state``, ``set_state``,
        ``set_rates``, ``set_reward``, ``weights``, ``set_weights``, ``rebuild_recording`` and
        ``synapse_bytes`` (the engine's :class:`~memr_snn.engine.simulator.Simulator`).
    save, load : callable
        ``save(net, path)`` and ``load(path) -> Network`` (:mod:`memr_snn.io.checkpoint`).
    """
    hooks = {"build": build, "save": save, "load": load}
    for name, fn in hooks.items():
        if not callable(fn):
            raise TypeError(f"install_runtime: {name} must be callable, got {fn!r}")
    _RUNTIME.update(hooks)


def _runtime_hook(name: str) -> Callable:
    try:
        return _RUNTIME[name]
    except KeyError:
        raise RuntimeError(
            "no network runtime is installed (memr_snn.model is only a description); "
            "`import memr_snn` installs the engine and checkpoint I/O (memr_snn.runtime)"
        ) from None


#: Most steps a network may run in total: the kernels add gaps of up to 2**61 steps to the step counter
#: (int64) and use 2**62 as "never".
MAX_STEPS = 2**61


class Network:
    """A spiking network: populations, projections, monitors, and their state.

    Parameters
    ----------
    dt : float
        Time step [s]; finite and > 0.
    seed : int, optional
        Seed of every random choice (connectivity, Poisson inputs, random
        initial states drawn by network builders).  ``None`` draws one from the
        OS; it is then available as ``net.seed`` so the run can be repeated.
    engine : {"auto", "event", "dense"}
        ``"event"`` updates only neurons that can change (lazy, exact decay for
        idle neurons); ``"dense"`` updates every neuron every step; ``"auto"``
        picks dense when more than half the neurons are driven above threshold
        or conductance-based, else event.
    weight_dtype : {"float64", "float32"}
        Storage of synaptic weights as simulated.  ``float64`` (default) costs
        12 bytes per synapse with the 4-byte target index, ``float32`` 8 bytes;
        weights are rounded to the storage type when the network is built, and
        accumulated in float64 either way.
    name : str, optional
        A label (1 to 200 characters) used by reports and the command line;
        checkpoints save and restore it.
    threads : int or "auto", optional
        Threads of the compiled run loop (integration and delivery split over
        blocks of neurons; results identical to one thread, spike for spike).
        ``None`` or ``"auto"`` (default): decided at each run from the network
        and the machine (``memr_snn.engine.threads``; ``MEMR_SNN_THREADS=1``:
        one thread).  Assignable; checkpoints save it.

    Notes
    -----
    **Schedule of one step** ``n`` (time ``n*dt`` to ``(n+1)*dt``):

    1. spike sources emit the spikes of step ``n``;
    2. events due at ``n`` are added to the synaptic state of their targets
       (event mode first brings an idle target up to date with its exact decay);
    3. state monitors sample (state at ``n*dt``, these events included);
    4. neurons integrate one step, then threshold (``v > v_threshold``) and reset;
    5. the step's spikes (source and neuron, sorted by index) are counted,
       recorded with time ``n*dt`` and pushed to their targets at ``n + delay``;
    6. event mode: neurons that provably cannot reach threshold without new
       input go idle.

    A delay of 1 step therefore means a spike acts on the next step's
    integration, as Brian2's default zero delay does.

    Examples
    --------
    >>> from memr_snn import Network, Population, LIFParams, SpikeMonitor
    >>> from memr_snn.units import ms, mV, pA
    >>> net = Network(dt=0.1 * ms, seed=1)
    >>> pop = net.add(Population(10, LIFParams(i_bias=400 * pA), name="exc"))
    >>> mon = net.add(SpikeMonitor(pop))
    >>> net.run(50 * ms)
    >>> int(mon.num_spikes) > 0
    True
    """

    def __init__(self, dt: float, seed: int | None = None, engine: str = "auto", weight_dtype: str = "float64",
                 name: str | None = None, threads: int | str | None = None):
        if isinstance(dt, bool) or not isinstance(dt, (int, float, np.floating, np.integer)):
            raise TypeError(f"dt must be a number of seconds, got {dt!r}")
        if not (math.isfinite(dt) and dt > 0):
            raise ValueError(f"dt must be finite and > 0 [s], got {dt!r}")
        self._dt = float(dt)
        if seed is None:
            seed = int(np.random.SeedSequence().entropy % (2**63))
        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
            raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
        self.seed = int(seed)
        self._engine = self._check_engine(engine)
        try:
            dtype_name = str(np.dtype(weight_dtype))
        except TypeError:
            dtype_name = None
        if dtype_name not in WEIGHT_DTYPES:
            raise ValueError(f"weight_dtype must be one of {WEIGHT_DTYPES}, got {weight_dtype!r}")
        self._weight_dtype = dtype_name
        self.name = name
        self.threads = threads
        self.populations: list[PopulationBase] = []
        self.projections: list[Projection] = []
        self.monitors: list[Monitor] = []
        self._sim = None

    dt = Fixed("the time step is set at construction; make a new Network")

    @property
    def name(self) -> str | None:
        """A label for the network (reports, the CLI, file names); saved and restored by checkpoints."""
        return self._name

    @name.setter
    def name(self, value: str | None) -> None:
        if value is not None and (not isinstance(value, str) or not 0 < len(value) <= 200):
            raise ValueError(f"name must be None or a string of 1 to 200 characters, got {value!r:.80}")
        self._name = value
    weight_dtype = Fixed("the weight storage is set at construction; make a new Network")

    @property
    def engine(self) -> str:
        """Default engine of :meth:`run`: ``"auto"``, ``"event"`` or ``"dense"`` (assignable, validated)."""
        return self._engine

    @engine.setter
    def engine(self, value: str) -> None:
        self._engine = self._check_engine(value)

    @property
    def threads(self) -> int | None:
        """Threads of the run loop: an integer in ``[1, NUMBA_NUM_THREADS]``, or None: the automatic count."""
        return self._threads

    @threads.setter
    def threads(self, value: int | str | None) -> None:
        value = None if isinstance(value, str) and value == "auto" else value  # the automatic count
        if value is not None:
            from ..info import max_threads
            hi = max_threads()
            if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)) or not 1 <= value <= hi:
                raise ValueError(f"threads must be None, 'auto' or an integer in [1, {hi}] (NUMBA_NUM_THREADS of "
                                 f"this machine), got {value!r}")
            value = int(value)
        self._threads = value

    @staticmethod
    def _check_engine(engine: str) -> str:
        if engine not in ENGINES:
            raise ValueError(f"engine must be one of {ENGINES}, got {engine!r}")
        return engine

    # ------------------------------------------------------------------ build
    def add(self, obj, *more):
        """Add a population, projection or monitor and return it: ``pop = net.add(Population(...))``.

        A projection's synapses are generated here, from the network seed.  To add several objects
        at once use :meth:`add_all`, which always returns a tuple; passing several objects to
        ``add`` still works (it returns the tuple) but is deprecated, because the return type
        would depend on the number of arguments.
        """
        if more:
            import warnings

            warnings.warn("Network.add(a, b, ...) with several objects is deprecated: call add once per object, "
                          "or add_all(a, b, ...), which always returns a tuple", DeprecationWarning, stacklevel=2)
            return self.add_all(obj, *more)
        self._add_one(obj)
        return obj

    def add_all(self, *objects) -> tuple:
        """Add several populations, projections and monitors in order; returns them as a tuple."""
        for obj in objects:
            self._add_one(obj)
        return objects

    def _add_one(self, obj) -> None:
        if isinstance(obj, PopulationBase):
            self._add_population(obj)
        elif isinstance(obj, Projection):
            self._add_projection(obj)
        elif isinstance(obj, Monitor):
            self._add_monitor(obj)
        else:
            raise TypeError(f"cannot add {obj!r}: expected a population, projection or monitor")

    def _owned(self, obj, what: str):
        if obj._network is self:
            raise ValueError(f"{what} {getattr(obj, 'name', obj)!r} was already added to this network")
        if obj._network is not None:
            raise ValueError(f"{what} {getattr(obj, 'name', obj)!r} belongs to another network")

    def _structure_frozen(self, what: str):
        if self._sim is not None:
            raise RuntimeError(
                f"cannot add a {what} after the network has run; build the whole network "
                "before the first run (monitors may still be added)"
            )

    def _add_population(self, pop: PopulationBase):
        self._owned(pop, "population")
        self._structure_frozen("population")
        if pop.name is None:
            pop.name = f"pop{len(self.populations)}"
        if any(p.name == pop.name for p in self.populations):
            raise ValueError(f"a population named {pop.name!r} already exists in this network")
        if isinstance(pop, PoissonSource):
            if pop.rate_interval is not None:
                self.steps_of(pop.rate_interval, "rate_interval")
            self._check_rate_limit(pop.rates)
        if isinstance(pop, SpikeSource):
            self._check_spike_times(pop)
        self._check_memory(extra_neurons=pop.n)
        pop._network = self
        self.populations.append(pop)

    def _add_projection(self, proj: Projection, restore: bool = False):
        self._owned(proj, "projection")
        self._structure_frozen("projection")
        for side, pop in (("pre", proj.pre), ("post", proj.post)):
            if pop._network is None:
                raise ValueError(
                    f"{side} population {pop.name!r} is not part of this network; add it first"
                )
            if pop._network is not self:
                raise ValueError(
                    f"cannot connect populations of different networks: {side} population "
                    f"{pop.name!r} belongs to another network"
                )
        if not restore:
            expected = proj.connectivity.expected_synapses(proj.pre.n, proj.post.n)
            scalar_delay = proj._delay_spec if isinstance(proj._delay_spec, int) else 1
            self._check_memory(extra_synapses=expected, building=True, max_delay=scalar_delay)
            rng = np.random.default_rng([self.seed, 1, len(self.projections)])
            proj.build(rng)
            self._check_memory(max_delay=proj.max_delay)  # ring buffers, before they exist
        if proj.name is None:
            proj.name = f"{proj.pre.name}->{proj.post.name}"
        if proj.device is not None and not restore:
            seed = proj.device.seed
            if seed is None:
                seed = int(np.random.default_rng([self.seed, 3, len(self.projections)]).integers(2**62))
            proj.crossbar = proj.device.make_state(proj.pre_indices(), proj.indices, proj.weights, seed,
                                                   name=proj.name, n_pre=proj.pre.n)
        proj._network = self
        self.projections.append(proj)

    def _add_monitor(self, mon: Monitor):
        self._owned(mon, "monitor")
        if mon.population._network is not self:
            raise ValueError(f"monitored population {mon.population.name!r} is not part of this network")
        if isinstance(mon, StateMonitor):
            mon._every = 1 if mon.interval is None else self.steps_of(mon.interval, "interval")
        if mon.name is None:  # a default name, so that monitors are reachable by name (also after load)
            base = {"SpikeMonitor": "spikes", "StateMonitor": "state", "RateMonitor": "rate"}.get(
                type(mon).__name__, type(mon).__name__.lower())
            name, taken, k = f"{base}:{mon.population.name}", {x.name for x in self.monitors}, 2
            while name in taken:
                name, k = f"{base}:{mon.population.name}#{k}", k + 1
            mon.name = name
        mon._network = self
        self.monitors.append(mon)
        if self._sim is not None:
            self._sim.rebuild_recording()

    # --------------------------------------------------------------- checks
    def steps_of(self, duration: float, name: str = "duration") -> int:
        """``duration`` in whole steps; refuses durations off the dt grid."""
        if isinstance(duration, bool) or not isinstance(duration, (int, float, np.floating, np.integer)):
            raise TypeError(f"{name} must be a number of seconds, got {duration!r}")
        if not (math.isfinite(duration) and duration >= 0):
            raise ValueError(f"{name} must be finite and >= 0 [s], got {duration!r}")
        steps = duration / self.dt
        n = int(round(steps))
        if abs(steps - n) > 1e-6:
            raise ValueError(
                f"{name} = {duration!r} s is not a whole number of steps of dt = {self.dt!r} s "
                f"({steps:.6g} steps); use {n * self.dt!r} s ({n} steps) or "
                f"{(n + (1 if steps > n else -1)) * self.dt!r} s"
            )
        return n

    def estimate_memory(self, extra_neurons: int = 0, extra_synapses: float = 0.0, max_delay: int = 1) -> int:
        """Estimated bytes the simulation will need (state, ring buffers, synapses)."""
        n = sum(p.n for p in self.populations) + extra_neurons
        syn = sum(pr.n_synapses for pr in self.projections) + extra_synapses
        max_delay = max([pr.max_delay for pr in self.projections] + [max_delay])
        per_neuron = 8 * 12 + (max_delay + 1) * (16 + 4 + 1)
        return int(n * per_neuron + syn * _BYTES_PER_SYNAPSE_ESTIMATE)

    def _check_memory(self, extra_neurons: int = 0, extra_synapses: float = 0.0, building=False, max_delay: int = 1):
        need = self.estimate_memory(extra_neurons, extra_synapses, max_delay)
        if building:
            need += int(extra_synapses * _BYTES_PER_SYNAPSE_BUILD)
        avail = _available_memory()
        if avail is not None and need > avail:
            raise MemoryError(
                f"the network needs about {need / 2**30:.2f} GiB (estimate: "
                f"{sum(p.n for p in self.populations) + extra_neurons} neurons, "
                f"{sum(pr.n_synapses for pr in self.projections) + extra_synapses:.3g} synapses) "
                f"but only {avail / 2**30:.2f} GiB are available; nothing was allocated"
            )

    def _check_recording_memory(self, n_steps: int) -> None:
        """Refuse a run whose :class:`StateMonitor` samples cannot fit in the available memory.

        Estimated before anything is simulated: recorded neurons x variables x samples x 8 bytes
        per monitor (:meth:`StateMonitor.estimate_bytes`), summed over the state monitors.
        """
        mons = [m for m in self.monitors if isinstance(m, StateMonitor)]
        if not mons or n_steps <= 0:
            return
        start = self.step
        sizes = [m.estimate_bytes(n_steps, start) for m in mons]
        need = sum(sizes)
        avail = _available_memory()
        if avail is None or need <= avail:
            return
        big = mons[int(np.argmax(sizes))]
        label = big.name or f"on {big.population.name!r}"
        max_steps = int(n_steps * avail / need)
        raise MemoryError(
            f"recording the state monitors over {n_steps} steps ({n_steps * self.dt:g} s) needs about "
            f"{need / 2**30:.2f} GiB but only {avail / 2**30:.2f} GiB are available (largest: StateMonitor {label}, "
            f"{len(big.variables)} variable(s) x {big.indices.size} neurons x {big.n_samples(n_steps, start)} "
            f"samples x 8 bytes); the duration must be <= about {max_steps * self.dt:g} s ({max_steps} steps) "
            f"with these monitors, or record fewer neurons (indices=) or variables, sample less often "
            f"(interval=), or run in pieces and clear() the monitor between them; nothing was simulated"
        )

    # ----------------------------------------------------------------- run
    @property
    def t(self) -> float:
        """Current simulation time [s]."""
        return self.step * self.dt

    @property
    def step(self) -> int:
        """Number of steps simulated so far."""
        return 0 if self._sim is None else self._sim.step

    def _ensure_built(self):
        if self._sim is None:
            if not self.populations:
                raise ValueError("the network is empty: add at least one population before running")
            self._check_memory()
            self._sim = _runtime_hook("build")(self)
            for proj in self.projections:  # the engine holds the weights from now on
                proj._release_weights()
        return self._sim

    def run(self, duration: float, progress: bool | None = None, engine: str | None = None) -> None:
        """Simulate ``duration`` seconds (a whole number of steps).

        Repeated calls continue where the last one stopped: two runs of T/2
        give exactly the spikes of one run of T.

        Parameters
        ----------
        duration : float
            Time to simulate [s].
        progress : bool, optional
            Show a progress bar; default: only when stderr is a terminal and
            the run is long (> 100 000 steps).
        engine : {"auto", "event", "dense"}, optional
            Override the network's engine for this run.
        """
        n_steps = self.steps_of(duration)
        self.run_steps(n_steps, progress=progress, engine=engine)

    def run_steps(self, n_steps: int, progress: bool | None = None, engine: str | None = None) -> None:
        """Simulate ``n_steps`` steps (the step-wise driver for closed loops)."""
        if isinstance(n_steps, bool) or not isinstance(n_steps, (int, np.integer)) or n_steps < 0:
            raise ValueError(f"n_steps must be an integer >= 0, got {n_steps!r}")
        engine = self.engine if engine is None else self._check_engine(engine)
        if self.step + int(n_steps) > MAX_STEPS:
            raise ValueError(
                f"n_steps = {int(n_steps):.4g} would take the step counter past 2**61 steps "
                f"({MAX_STEPS * self.dt:.3g} s at dt = {self.dt!r} s), the most the kernels' int64 arithmetic allows"
            )
        self._check_recording_memory(int(n_steps))
        sim = self._ensure_built()
        bar = None
        if progress or (progress is None and n_steps > 100_000):
            from ..progress import ProgressBar

            bar = ProgressBar(int(n_steps), desc="simulating", enabled=None if progress is None else True)
        try:
            sim.run_steps(int(n_steps), engine=engine, progress=bar)
        finally:
            if bar is not None:
                bar.close()

    # ----------------------------------------------------- closed-loop access
    def get_state(self, population, var: str, indices=None) -> np.ndarray:
        """Current value of state variable ``var`` of ``population`` (a copy)."""
        self._check_pop_var(population, var)
        sim = self._ensure_built()
        return sim.get_state(population, var, self._local(population, indices))

    def set_state(self, population, var: str, values, indices=None) -> None:
        """Write state variable ``var`` (before the first run: the initial state)."""
        self._check_pop_var(population, var)
        if isinstance(values, (str, bytes)) or np.asarray(values).dtype.kind not in "iuf":
            raise TypeError(f"set_state({var!r}): values must be numbers, got {values!r:.80}")
        values = np.asarray(values, dtype=np.float64)
        if not np.all(np.isfinite(values)):
            raise ValueError(f"{var} values must be finite")
        idx = self._local(population, indices)
        n_target = population.n if idx is None else idx.size
        if values.ndim > 1 or (values.ndim == 1 and values.size not in (1, n_target)):
            what = "the population" if idx is None else "indices"
            raise ValueError(
                f"set_state({var!r}): values of shape {values.shape} do not fit {what} ({n_target} neurons); "
                f"pass a scalar or a ({n_target},) array"
            )
        if self._sim is None:
            full = population.initial.get(var)
            if full is None:
                full = self._default_initial(population, var)
            full = full.copy()
            full[slice(None) if idx is None else idx] = values
            population.set_initial(var, full)
            return
        self._sim.set_state(population, var, values, idx)

    def set_rates(self, population, rates) -> None:
        """Replace the rates [Hz] of a Poisson source (same shape as before)."""
        if not isinstance(population, PoissonSource) or population._network is not self:
            raise ValueError("set_rates needs a PoissonSource of this network")
        arr = np.asarray(rates, dtype=np.float64)
        if not np.all(np.isfinite(arr)) or np.any(arr < 0):
            raise ValueError("rates must be finite and >= 0 [Hz]")
        try:
            np.broadcast_to(arr, population.rates.shape)
        except ValueError:
            raise ValueError(
                f"rates of shape {arr.shape} do not fit the source's rate table of shape {population.rates.shape}"
            ) from None
        self._check_rate_limit(arr)
        self._ensure_built().set_rates(population, arr)

    def set_reward(self, projection, reward: float) -> None:
        """Set the reward (neuromodulator) signal of a projection with a :class:`~memr_snn.learning.RewardSTDP`
        rule; it holds until the next call (drive it between ``run_steps`` calls in a closed loop)."""
        from .plasticity import RewardSTDP

        if projection not in self.projections or not isinstance(projection.plasticity, RewardSTDP):
            raise ValueError("set_reward needs a projection of this network with a RewardSTDP rule")
        r = float(reward)
        if not np.isfinite(r):
            raise ValueError(f"reward must be finite, got {reward!r}")
        self._ensure_built().set_reward(projection, r)

    def _check_spike_times(self, pop) -> None:
        """Spike times must sit on the dt grid, at most one spike per neuron and step."""
        steps = pop.times / self.dt
        st = np.round(steps).astype(np.int64)
        off = np.abs(steps - st)
        if off.size and off.max() > 1e-6:
            bad = float(pop.times[np.argmax(off)])
            raise ValueError(
                f"SpikeSource {pop.name!r}: spike time {bad!r} s is not on the dt grid (dt = {self.dt!r} s); "
                f"round the times to multiples of dt"
            )
        key = st * pop.n + pop.indices
        uniq, counts = np.unique(key, return_counts=True)
        if np.any(counts > 1):
            k = int(uniq[np.argmax(counts > 1)])
            raise ValueError(
                f"SpikeSource {pop.name!r}: neuron {k % pop.n} has {int(counts.max())} spikes in step "
                f"{k // pop.n} (t = {k // pop.n * self.dt!r} s): duplicate spike times; a neuron spikes at most once "
                f"per step"
            )

    def _check_rate_limit(self, rates) -> None:
        top = float(np.max(rates)) if np.size(rates) else 0.0
        if top * self.dt > 1.0:
            raise ValueError(
                f"rates must be <= 1/dt = {1.0 / self.dt:g} Hz (at most one spike per step), got {top:g} Hz"
            )

    def _check_pop_var(self, population, var):
        from .population import Population

        if not isinstance(population, Population) or population._network is not self:
            raise ValueError("expected a neuron Population of this network")
        population.check_variable(var)

    @staticmethod
    def _local(population, indices):
        if indices is None:
            return None
        from .._validation import check_index_array

        return check_index_array("indices", indices, population.n)

    @staticmethod
    def _default_initial(population, var):
        cols = population.neuron.broadcast(population.n)
        if var == "v":
            return cols["v_rest"]
        if var == "i_bias":
            return cols["i_bias"]
        return np.zeros(population.n)

    # ---------------------------------------------------------- checkpoints
    def save(self, path) -> None:
        """Save the network, its full state and its monitors' data to one file.

        ``Network.load(path)`` in any process continues the run bit for bit.
        """
        _runtime_hook("save")(self, path)

    @staticmethod
    def load(path) -> Network:
        """Load a network saved by :meth:`save` (refuses truncated or altered files)."""
        return _runtime_hook("load")(path)

    # ---------------------------------------------------------------- info
    def population(self, name: str) -> PopulationBase:
        """The population called ``name``."""
        for p in self.populations:
            if p.name == name:
                return p
        raise KeyError(f"no population named {name!r}; known: {[p.name for p in self.populations]}")

    def projection(self, name: str) -> Projection:
        """The projection called ``name`` (by default ``"pre->post"``)."""
        for pr in self.projections:
            if pr.name == name:
                return pr
        raise KeyError(f"no projection named {name!r}; known: {[pr.name for pr in self.projections]}")

    def monitor(self, name: str) -> Monitor:
        """The monitor called ``name``; unnamed monitors are called ``"spikes:POP"``, ``"state:POP"`` or
        ``"rate:POP"`` when added (``#2``, ``#3`` ... for more of one kind on one population), and keep
        their names through ``save``/``load``."""
        for mon in self.monitors:
            if mon.name == name:
                return mon
        raise KeyError(f"no monitor named {name!r}; known: {[mon.name for mon in self.monitors]}")

    @property
    def n_neurons(self) -> int:
        return sum(p.n for p in self.populations)

    @property
    def n_synapses(self) -> int:
        return sum(pr.n_synapses for pr in self.projections)

    def synapse_bytes(self) -> int:
        """Bytes of synapse storage (CSR arrays), as simulated."""
        if self._sim is not None:
            return self._sim.synapse_bytes()
        return sum(pr.synapse_bytes() for pr in self.projections)

    def __repr__(self) -> str:
        return (
            f"Network(dt={self.dt!r}, seed={self.seed}, engine={self.engine!r}, "
            f"{len(self.populations)} populations, {self.n_neurons} neurons, "
            f"{self.n_synapses} synapses)"
        )
