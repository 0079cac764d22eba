"""Run the Vogels–Abbott CUBA/COBA networks in Brian2, each run in a fresh subprocess.

Brian2 is imported only inside the worker subprocess; importing this module never
imports it.  The network definitions are documented in :mod:`memr_snn.bench.peers`.
"""

from __future__ import annotations

from .models import network_config
from .result import PeerResult, _check_common, _run_worker

__all__ = ["run_brian2", "BRIAN2_TARGETS"]

BRIAN2_TARGETS = ("numpy", "cython", "cpp_standalone")
"""Brian2 code-generation targets accepted by :func:`run_brian2`."""


def run_brian2(
    model: str,
    n_neurons: int,
    duration: float,
    seed: int,
    dt: float = 1e-4,
    target: str = "cython",
    record_spikes: bool = True,
    cache_dir: str | None = None,
    timeout: float | None = None,
    threads: int = 1,
) -> PeerResult:
    """Simulate a Vogels–Abbott network in Brian2 in a fresh Python process.

    Parameters
    ----------
    model : {"cuba", "coba"}
        Which benchmark network (see :mod:`memr_snn.bench.peers`).
    n_neurons : int
        Number of neurons, >= 80; connection probability is ``80 / n_neurons``.
    duration : float
        Simulated time [s].
    seed : int
        Seed passed to ``brian2.seed`` (numpy and C++ generators).
    dt : float, optional
        Time step [s]; sets ``defaultclock.dt``.
    target : {"numpy", "cython", "cpp_standalone"}, optional
        Code-generation target.  ``cpp_standalone`` builds in a fresh temporary directory
        (deleted afterwards) with ``build_on_run=True``.
    record_spikes : bool, optional
        If False the ``SpikeMonitor`` only counts spikes and the spike arrays are empty.
    cache_dir : str, optional
        Cython cache directory (``prefs.codegen.runtime.cython.cache_dir``).  Default:
        Brian2's own (``~/.cython/brian_extensions``), so only the first run ever on a
        machine pays for Cython compilation.  Pass a fresh directory to measure a cold run.
    timeout : float, optional
        Kill the subprocess after this many seconds [s].
    threads : int, optional
        OpenMP threads of ``cpp_standalone`` (``prefs.devices.cpp_standalone.openmp_threads``); the
        runtime targets run on one thread.

    Returns
    -------
    PeerResult
        Spikes (times are Brian2's: the start ``t`` of the step in which ``v > Vt`` was
        detected) and costs.  What each time measures:

        * runtime targets (numpy, cython): ``build_time`` is group and synapse
          construction (``connect`` runs generated code, so it includes compiling that
          code object when not cached); ``first_run_time`` is the first
          ``Network.run(duration)`` (code generation and compilation included);
          ``run_time`` is a second, identical ``run(duration)`` after
          ``Network.restore`` to the pre-run state (all code already compiled).
          ``extra["repeat_identical"]`` says whether both runs gave the same spikes.
          ``peak_rss`` is the worker's own peak RSS.
        * ``cpp_standalone``: ``build_time`` = Python construction + code generation
          (``extra["codegen_time"]``) + ``make`` (``compile_time``, parallel ``make -j``);
          ``first_run_time`` is the wall time of executing the binary (which also
          creates the synapses and writes results); ``run_time`` is Brian2's
          ``device._last_run_time``, the simulation loop inside the binary.
          ``peak_rss`` is the binary's own peak RSS (not the compiler's);
          ``extra["peak_rss_python"]`` is the Python process's.

    Raises
    ------
    ValueError
        For an unknown model or target, or an out-of-range size, duration, step or seed.
    RuntimeError
        If the worker subprocess fails; the message carries its output.

    Examples
    --------
    >>> r = run_brian2("cuba", 400, 0.1, seed=1, target="numpy")  # doctest: +SKIP
    >>> r.mean_rate  # doctest: +SKIP
    """
    _check_common(model, n_neurons, duration, seed, dt)
    if target not in BRIAN2_TARGETS:
        raise ValueError(f"target must be one of {BRIAN2_TARGETS}, got {target!r}")
    if int(threads) != threads or threads < 1 or (threads > 1 and target != "cpp_standalone"):
        raise ValueError(f"threads must be 1, or an integer >= 1 with target='cpp_standalone', got {threads!r}")
    config = {
        "mode": "brian2",
        **network_config(model, n_neurons),
        "duration": float(duration),
        "dt": float(dt),
        "seed": int(seed),
        "target": target,
        "record_spikes": bool(record_spikes),
        "cache_dir": cache_dir,
        "threads": int(threads),
    }
    return _run_worker(config, timeout)
