"""What a benchmark run does: the contenders, sizes and targets, the cases, and the configuration
built from the ``memr-snn bench`` arguments (:func:`config_from_args`)."""

from __future__ import annotations

import dataclasses
import importlib.util
import shutil

from .networks import DT, SEED
from .stats import THREADED_SUFFIX

__all__ = ["MODELS", "PEERS", "THREADED", "CONTENDERS", "Case", "BenchConfig", "plan_cases", "peer_availability",
           "config_from_args"]

MODELS = ("cuba", "coba", "alif")
"""Networks the suite knows."""

PEERS = ("brian2-cython", "brian2-cpp", "nest")
"""Default contenders besides memr_snn."""

THREADED = ("memr_snn" + THREADED_SUFFIX, "brian2-cpp" + THREADED_SUFFIX, "nest" + THREADED_SUFFIX)
"""Two-thread contenders (on request, ``--peers``; ``make bench`` runs them at 64000 neurons): memr_snn with
``Network(threads=2)``, Brian2 ``cpp_standalone`` with 2 OpenMP threads, NEST with ``local_num_threads=2``.
Their one-thread selves stay the tables' reference; ``two_threads_speedup`` and ``two_threads_vs`` compare them."""

CONTENDERS = ("memr_snn", "brian2-cython", "brian2-cpp", "nest", "brian2-numpy", *THREADED)
"""Every contender name :func:`config_from_args` accepts (``brian2-numpy`` and the two-thread ones on request only)."""

_BRIAN2_TARGET = {"brian2-cython": "cython", "brian2-cpp": "cpp_standalone", "brian2-numpy": "numpy"}

DEFAULT_SIZES = (4000, 16000, 64000)
DURATION = 1.0  # [s] biological time of every case
LONG_DURATION = 10.0  # [s] the extra long case at the smallest size
QUICK_SIZES = (1000,)
QUICK_DURATION = 0.2  # [s]
BIG_NEURONS = 64000
"""Cases with at least this many neurons, or with ``LONG_DURATION``, are "big": they run
``max(1, repeats // 3)`` repeats so that a full run stays near 25 minutes on a 2-core
machine (NEST's COBA alone takes minutes there)."""

SCALING_SIZES = (10_000, 100_000, 1_000_000)
SCALING_DENSE_SIZES = (10_000, 100_000)
QUICK_SCALING_SIZES = (10_000, 100_000)
QUICK_SCALING_DENSE_SIZES = (10_000,)
SCALING_GROWTH_TARGET = 1.5

TARGETS = {
    "steady_vs_fastest_peer": 0.5,
    "steady_vs_nest": 0.1,
    "first_result_vs_brian2_cpp": 0.2,
    "bytes_per_synapse": 12.0,
    "event_growth": SCALING_GROWTH_TARGET,
}
"""Goals from the benchmark issue; the tables mark each measured value against them."""
RUN_TIMEOUT = 3600.0  # [s] per subprocess


@dataclasses.dataclass(frozen=True)
class Case:
    """One network configuration, run ``repeats`` times by every contender."""

    model: str
    n_neurons: int
    duration: float
    """Biological time [s]."""
    repeats: int

    @property
    def key(self) -> str:
        return f"{self.model}-{self.n_neurons}-{self.duration:g}s"


@dataclasses.dataclass(frozen=True)
class BenchConfig:
    """Everything one suite run does (built from the CLI by :func:`config_from_args`)."""

    cases: tuple[Case, ...]
    contenders: tuple[str, ...]
    """memr_snn first, then the peers that will run."""
    skipped: dict
    """Peer name -> why it does not run."""
    scaling_sizes: tuple[int, ...] = SCALING_SIZES
    scaling_dense_sizes: tuple[int, ...] = SCALING_DENSE_SIZES
    scaling_duration: float = 1.0
    scaling_repeats: int = 3
    cold_repeats: int = 3
    """Repeats of the cold-cache measurement (0: skip it)."""
    quick: bool = False
    seed: int = SEED
    dt: float = DT
    timeout: float = RUN_TIMEOUT
    notes: tuple[str, ...] = ()


def plan_cases(models, sizes, duration: float, long_duration: float | None, repeats: int) -> tuple[Case, ...]:
    """Cases model by model: every size at ``duration``, plus ``long_duration`` at the smallest.

    Big cases (``n >= BIG_NEURONS`` or the long one) get ``max(1, repeats // 3)`` repeats.
    """
    big_repeats = max(1, repeats // 3)
    cases = []
    for model in models:
        for n in sizes:
            big = n >= BIG_NEURONS
            cases.append(Case(model, int(n), float(duration), big_repeats if big else repeats))
            if long_duration is not None and n == min(sizes):
                cases.append(Case(model, int(n), float(long_duration), big_repeats))
    return tuple(cases)


def _has_compiler() -> str | None:
    for name in ("c++", "g++", "clang++"):
        path = shutil.which(name)
        if path:
            return name
    return None


def peer_availability(peers) -> tuple[list[str], dict[str, str]]:
    """Which of ``peers`` can run here, and why the others cannot (never imports them)."""
    ok, skipped = [], {}
    have_brian2 = importlib.util.find_spec("brian2") is not None
    for name in peers:
        peer = name.removesuffix(THREADED_SUFFIX)  # a two-thread contender needs what its one-thread self needs
        if peer == "memr_snn":
            ok.append(name)
        elif peer.startswith("brian2"):
            if not have_brian2:
                skipped[name] = "brian2 is not installed (pip install 'memr_snn[peers]')"
            elif peer == "brian2-cpp" and (_has_compiler() is None or shutil.which("make") is None):
                skipped[name] = "cpp_standalone needs a C++ compiler and make on PATH"
            elif peer == "brian2-cython" and (importlib.util.find_spec("Cython") is None or _has_compiler() is None):
                skipped[name] = "the cython target needs Cython and a C compiler"
            else:
                ok.append(name)
        elif peer == "nest":
            if importlib.util.find_spec("nest") is None:
                skipped[name] = "NEST is not installed (pip install 'memr_snn[peers]')"
            else:
                ok.append(name)
        else:  # validated before
            raise ValueError(f"unknown peer {peer!r}")
    return ok, skipped


def config_from_args(args) -> BenchConfig:
    """Turn the parsed ``memr-snn bench`` arguments into a :class:`BenchConfig`."""
    quick = bool(getattr(args, "quick", False))
    repeats = getattr(args, "repeats", None)
    repeats = 3 if repeats is None else int(repeats)
    if repeats < 1:
        raise ValueError(f"--repeats must be >= 1, got {repeats}")
    models = tuple(args.models) if getattr(args, "models", None) else MODELS
    for m in models:
        if m not in MODELS:
            raise ValueError(f"--models: unknown model {m!r}; known: {', '.join(MODELS)}")
    sizes = tuple(args.sizes) if getattr(args, "sizes", None) else (QUICK_SIZES if quick else DEFAULT_SIZES)
    for n in sizes:
        if n < 80:
            raise ValueError(f"--sizes: every size must be >= 80 (connection probability 80/N), got {n}")
    notes = []
    peers_arg = getattr(args, "peers", None)
    if peers_arg is None:
        peers = list(PEERS)
        if quick:
            peers.remove("brian2-cpp")
            notes.append("--quick: brian2-cpp (cpp_standalone, ~20 s of compilation per run) is left out; "
                         "name it with --peers to include it")
    elif [p.lower() for p in peers_arg] == ["none"]:
        peers = []
        notes.append("--peers none: memr_snn only")
    else:
        peers = []
        for p in peers_arg:
            if p not in CONTENDERS or p == "memr_snn":
                raise ValueError(f"--peers: unknown peer {p!r}; known: {', '.join(CONTENDERS[1:])} or 'none'")
            if p not in peers:
                peers.append(p)
    available, skipped = peer_availability(peers)
    if quick:
        repeats = 1
        notes.append(f"--quick: sizes {', '.join(map(str, sizes))}, {QUICK_DURATION:g} s of biological time, "
                     "1 repeat, no Cython cache warm-up and no cold-cache measurement: a smoke test, not a measurement")
        cases = plan_cases(models, sizes, QUICK_DURATION, None, 1)
    else:
        cases = plan_cases(models, sizes, DURATION, LONG_DURATION, repeats)
        if any(c.repeats < repeats for c in cases):
            notes.append(f"big cases (N >= {BIG_NEURONS} or {LONG_DURATION:g} s) run max(1, repeats // 3) = "
                         f"{max(1, repeats // 3)} repeat(s) instead of {repeats}, to keep the full run near "
                         "25 minutes on a 2-core machine")
        notes.append(f"cold start (empty caches; Brian2 cython then compiles for ~40 s): "
                     f"{max(1, repeats // 3)} run(s) per contender")
    for peer, why in skipped.items():
        notes.append(f"{peer} skipped: {why}")
    return BenchConfig(
        cases=cases,
        contenders=("memr_snn", *available),
        skipped=skipped,
        scaling_sizes=QUICK_SCALING_SIZES if quick else SCALING_SIZES,
        scaling_dense_sizes=QUICK_SCALING_DENSE_SIZES if quick else SCALING_DENSE_SIZES,
        scaling_duration=QUICK_DURATION if quick else 1.0,
        scaling_repeats=1 if quick else repeats,
        cold_repeats=0 if quick else max(1, repeats // 3),
        quick=quick,
        notes=tuple(notes),
    )
