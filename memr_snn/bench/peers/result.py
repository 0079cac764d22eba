"""Result record of a peer-simulator run."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..launch import run_worker

__all__ = ["PeerResult", "MODELS"]

MODELS = ("cuba", "coba")
"""Network names understood by the peer runners."""

@dataclass(frozen=True)
class PeerResult:
    """Spikes and costs of one Vogels–Abbott run in a reference simulator.

    Every time is wall-clock time in seconds measured with ``time.perf_counter`` inside a
    fresh subprocess, except ``total_time``, which the parent measures around the whole
    subprocess.
    """

    simulator: str
    """``"brian2"`` or ``"nest"``."""
    version: str
    """Version string of the simulator."""
    target: str
    """Brian2 code-generation target (``"numpy"``, ``"cython"``, ``"cpp_standalone"``) or
    ``"nest"``."""
    model: str
    """``"cuba"`` or ``"coba"``."""
    n_neurons: int
    """Number of neurons (the first ``4 * n_neurons // 5`` are excitatory)."""
    n_synapses: int
    """Number of synapses actually drawn."""
    duration: float
    """Simulated time [s]."""
    dt: float
    """Time step [s]."""
    seed: int
    """Seed given to the simulator's random number generator."""
    threads: int
    """Threads used by the simulator (always 1 for Brian2)."""
    spike_indices: np.ndarray = field(repr=False)
    """``(n_spikes,)`` int64 ndarray of neuron indices, 0-based, sorted by (time, index).
    Empty when ``record_spikes=False``."""
    spike_times: np.ndarray = field(repr=False)
    """``(n_spikes,)`` float64 ndarray of spike times [s]; see the runner for the time
    stamp convention. Empty when ``record_spikes=False``."""
    n_spikes: int
    """Number of spikes emitted by the whole network during ``duration``."""
    import_time: float
    """Importing the simulator's Python package [s]."""
    build_time: float
    """Constructing the network [s]; for ``cpp_standalone`` this includes code generation
    and compilation."""
    compile_time: float | None
    """C++ compilation (``make``) alone [s]; ``None`` where not separately measurable."""
    first_run_time: float
    """First call that runs the simulation [s] (runtime targets: including code
    generation and compilation)."""
    run_time: float
    """Steady-state simulation time [s] (see the runner for what exactly is measured)."""
    total_time: float
    """Wall time of the whole subprocess from launch to result, including interpreter
    start and imports [s]: the time to a first result in a fresh process."""
    peak_rss: int
    """Peak resident set size of the process holding the simulation [bytes]."""
    extra: dict = field(default_factory=dict, repr=False)
    """Further measurements (e.g. ``codegen_time``, ``prepare_time``, ``worker_time``,
    ``peak_rss_python``, ``repeat_identical``)."""

    @property
    def mean_rate(self) -> float:
        """Mean firing rate per neuron [Hz]."""
        return self.n_spikes / (self.n_neurons * self.duration)


def _check_common(model: str, n_neurons: int, duration: float, seed: int, dt: float) -> None:
    if model not in MODELS:
        raise ValueError(f"model must be one of {MODELS}, got {model!r}")
    if int(n_neurons) != n_neurons or n_neurons < 80:
        raise ValueError(
            f"n_neurons must be an integer >= 80 (connection probability 80/n_neurons), "
            f"got {n_neurons!r}"
        )
    if not duration > 0:
        raise ValueError(f"duration must be > 0 s, got {duration!r}")
    if not dt > 0:
        raise ValueError(f"dt must be > 0 s, got {dt!r}")
    if int(seed) != seed or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")


def _run_worker(config: dict, timeout: float | None) -> PeerResult:
    """Run the worker (:func:`memr_snn.bench.launch.run_worker`) and wrap its result."""
    arrays, meta, total_time, _ = run_worker(config, timeout)
    known = {
        "version", "n_spikes", "n_synapses", "import_time", "build_time", "compile_time",
        "first_run_time", "run_time", "peak_rss",
    }
    return PeerResult(
        simulator=config["mode"],
        version=meta["version"],
        target=config.get("target", config["mode"]),
        model=config["model"],
        n_neurons=int(config["n_neurons"]),
        n_synapses=int(meta["n_synapses"]),
        duration=float(config["duration"]),
        dt=float(config["dt"]),
        seed=int(config["seed"]),
        threads=int(config.get("threads", 1)),
        spike_indices=arrays["spike_indices"].astype(np.int64),
        spike_times=arrays["spike_times"].astype(np.float64),
        n_spikes=int(meta["n_spikes"]),
        import_time=float(meta["import_time"]),
        build_time=float(meta["build_time"]),
        compile_time=None if meta.get("compile_time") is None else float(meta["compile_time"]),
        first_run_time=float(meta["first_run_time"]),
        run_time=float(meta["run_time"]),
        total_time=total_time,
        peak_rss=int(meta["peak_rss"]),
        extra={k: v for k, v in meta.items() if k not in known},
    )
