r"""Benchmark suite: memr_snn against Brian2 and NEST on the same machine, in one run.

``memr-snn bench`` (or ``python benchmarks/run_all.py``) calls :func:`main`.  It measures

* the Vogels–Abbott **CUBA** and **COBA** networks (:mod:`memr_snn.networks`,
  :mod:`memr_snn.bench.peers`) at N = 4000 (1 s and 10 s of biological time), 16000 and
  64000 neurons, and a CUBA-like **ALIF** network (:func:`alif_network`), in memr_snn,
  Brian2 (``cython`` and ``cpp_standalone``) and NEST (one thread; CUBA and COBA only);
* synapse storage of memr_snn (``Network.synapse_bytes() / Network.n_synapses``);
* **event-driven scaling**: a fixed input (the same spikes onto the same 1000 neurons) into
  an idle LIF population of 10k, 100k and 1M neurons (:func:`scaling_network`), with the
  dense engine for contrast at the smaller sizes;
* **cold start**: time to a first result with empty compiler caches (memr_snn's numba
  cache, Brian2's Cython cache) next to the warm-cache numbers.

Methodology
-----------
Every run of every contender happens in a **fresh Python subprocess** (memr_snn in
:mod:`memr_snn.bench._worker`, the peers through :mod:`memr_snn.bench.peers`), so each one pays
its own import, build and compilation, and its peak RSS is its own.  Within one case
(model, N, T) the contenders are **alternated** (repeat ``r`` starts with contender
``r mod k``), each repeat runs every contender once, and the table reports the **median**
with the min–max range.  Ratios are memr_snn's median over the peer's median from the same
run.  Before a case is timed, caches are warmed: numba's cache once for the suite, and
Brian2's Cython cache for the case by one short unmeasured run at the same N (Brian2
freezes constants such as ``p = 80/N`` into the generated code, so each N has its own
cache entries).  Brian2 ``cpp_standalone`` compiles every run (fresh build folder).

What each time means, per contender:

build
    memr_snn: the network object with its synapses drawn.  Brian2: groups and
    ``connect``; cpp_standalone adds code generation and ``make``.  NEST: Create and
    Connect.
first run
    The first call that runs the simulation in the fresh process.  memr_snn: the first
    ``run(T)`` (engine arrays built, kernels loaded from numba's cache or compiled).
    Brian2 runtime targets: the first ``Network.run(T)``.  cpp_standalone: the binary
    (which also creates the synapses and writes its results).  NEST:
    Prepare + Run + Cleanup.
steady run
    The simulation with everything compiled.  memr_snn: ``run(T)`` of an identical,
    freshly rebuilt network in the same process, engine arrays prepared beforehand
    (``run_steps(0)``).  Brian2 runtime targets: the identical second ``run(T)`` after
    ``Network.restore``.  cpp_standalone: Brian2's ``_last_run_time`` (the loop inside
    the binary).  NEST: ``Run(T)`` after ``Prepare``.
first result
    Launch of the process to the end of its first run.  Exact for memr_snn and for the
    ALIF worker; for Brian2 runtime targets on CUBA/COBA the process time less its
    second (steady) run, marked ``≈``; for cpp_standalone and NEST the process time.
peak RSS
    The peak resident set size of the process; for cpp_standalone that of the compiled
    binary alone (the Python process's is in the JSON as ``peak_rss_python``).

For the ALIF network Brian2 runs in the suite's own worker (equations in
:func:`memr_snn.bench._worker._run_brian2`), where the first result is measured exactly.
NEST has no model with this adaptive threshold on ``iaf_psc_exp`` dynamics (its
``amat2_psc_exp`` does not reset ``V_m``), so ALIF has no NEST column.

Layout
------
Benchmark tooling, not part of the simulator API (``import memr_snn`` never imports it):

* :mod:`~memr_snn.bench.networks` -- the ALIF and event-driven scaling networks;
* :mod:`~memr_snn.bench.plan` -- contenders, sizes, targets, cases, :func:`config_from_args`;
* :mod:`~memr_snn.bench.launch` -- the fresh-process launcher of the worker;
* :mod:`~memr_snn.bench.stats` -- summaries and ratios of repeated runs;
* :mod:`~memr_snn.bench.suite` -- running the cases, cold start, scaling; :func:`main`;
* :mod:`~memr_snn.bench.report` -- the markdown report;
* :mod:`~memr_snn.bench.peers` -- the same networks in Brian2 and NEST;
* :mod:`~memr_snn.bench._worker` -- the one subprocess worker of all of them;
* :mod:`~memr_snn.bench.sparse` and its worker :mod:`~memr_snn.bench._sparse_worker` -- sparse
  activity at up to 10^6 neurons, the same synapse and input arrays in memr_snn, Brian2
  ``cpp_standalone`` and NEST (``python benchmarks/sparse_activity.py``).

``memr_snn.benchmarking`` and ``memr_snn.peers`` are deprecated aliases of this package and of
:mod:`memr_snn.bench.peers`.

Examples
--------
>>> from memr_snn.bench import summarize
>>> s = summarize([3.0, 1.0, 2.0])
>>> s["median"], s["min"], s["max"]
(2.0, 1.0, 3.0)
"""

from __future__ import annotations

from .networks import alif_network, scaling_network
from .plan import CONTENDERS, MODELS, PEERS, BenchConfig, Case, config_from_args, peer_availability, plan_cases
from .report import format_markdown
from .stats import ratio, summarize
from .suite import command_line, main, run_scaling, run_suite

__all__ = [
    "MODELS",
    "PEERS",
    "CONTENDERS",
    "Case",
    "BenchConfig",
    "alif_network",
    "scaling_network",
    "summarize",
    "ratio",
    "plan_cases",
    "config_from_args",
    "peer_availability",
    "run_suite",
    "run_scaling",
    "format_markdown",
    "command_line",
    "main",
]
