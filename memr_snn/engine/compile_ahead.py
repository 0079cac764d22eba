"""Compile a first-ever run's kernels on two cores: a background process fills numba's cache.

The first run of a network compiles :func:`memr_snn.kernel.loop.run_chunk` for the network's records
(about 7 s of CPU for CUBA 4000, all on one core: numba compiles one function at a time).  Most of that
time goes to the functions ``run_chunk`` calls, compiled (and cached on disk, ``cache=True``) while
``run_chunk`` is typed.  Those callees are independent of each other, so when ``run_chunk`` has no
compiled version for the network's records, in memory or in numba's on-disk cache, :func:`ahead`

1. starts a background Python process that compiles a share of the callees (:func:`plan`'s ``background``
   list; dense mode: the push, the sampling, the record, the sort, the inputs and the plasticity phase)
   into numba's on-disk cache;
2. meanwhile compiles the other callees here (``here``; dense mode: the integrate phase with the neuron
   models' range steps);
3. holds the background share's dispatchers: when ``run_chunk``'s typing reaches one of them, its
   ``compile`` first waits for the background process (at most :data:`WAIT_S` seconds; it is killed and
   reaped after that, and always by the end of the ``with`` block), then numba loads the callee from the
   cache instead of compiling it.

A cached callee keeps its LLVM module for inlining, so ``run_chunk``'s machine code is the same as without
this (up to the order of a few reference-count increments, docs/engine.md), and so is every result
(``tests/engine/test_compile_ahead.py``).  Whatever goes wrong in the
background (it fails, is killed, writes nothing, the signatures below no longer match what
``run_chunk``'s typing asks for) only costs time: numba then compiles the callee here.

The callee signatures :func:`plan` writes down mirror how ``run_chunk`` calls its phases (the step ``t``
and the slot are ``int64``, the mode flag a boolean, the spike count ``int64``, the records typed as the
dispatcher types them); ``tests/engine/test_compile_ahead.py`` checks that a cold run compiles each of
them exactly once.

Off with the environment variable ``MEMR_SNN_COMPILE_AHEAD=0``, by default when the machine does not have
two idle cores (:func:`_cores_idle`), without numba's JIT, with one usable CPU, or when numba's cache
directory is not writable (the background would compile for nothing).
"""

from __future__ import annotations

import contextlib
import importlib
import os
import pickle
import subprocess
import sys
import time
import weakref
from pathlib import Path

__all__ = ["ENV", "WAIT_S", "ahead", "enabled", "plan"]

#: environment variable: ``0`` / ``off`` / ``false`` turns compiling ahead off, ``1`` / ``on`` / ``true`` on; unset or
#: ``auto`` (the default): on when the machine has two idle cores (:func:`_cores_idle`)
ENV = "MEMR_SNN_COMPILE_AHEAD"
#: longest wait for the background process [s]; after it the process is killed and numba compiles here
WAIT_S = 120.0
#: the kernel module whose functions the plan names
LOOP = "memr_snn.kernel.loop"

#: signatures of ``run_chunk`` this process has already seen (compiled, cached, or compiled ahead)
_SEEN: set = set()
#: what the last :func:`ahead` that compiled ahead measured (``benchmarks/cold_start.py`` reports it): this
#: process's CPU time when it started the background process (``cpu_at_start``), CPU and
#: wall time of the compilations here (``here_cpu``, ``here_wall``), the wait for the background process
#: (``wait_wall``, starting when this process's CPU time was ``cpu_at_wait``), the background process's return
#: code, CPU time and lifetime (``child_rc``, ``child_cpu``, ``child_wall``; its CPU time is None if it did not
#: report it)
LAST: dict = {}
#: the simulators whose first run has been looked at: later runs skip even typing the arguments (3 ms a call,
#: which a closed loop that calls ``run_steps`` once per bin would otherwise pay every bin)
_OWNERS: weakref.WeakSet = weakref.WeakSet()


def enabled() -> bool:
    """Whether :func:`ahead` may start a background compilation, before looking at the machine's load.

    Never without numba's JIT or with one usable CPU, nor with ``MEMR_SNN_COMPILE_AHEAD=0``.  By default
    (``auto``) :func:`ahead` then also asks :func:`_cores_idle` (``MEMR_SNN_COMPILE_AHEAD=1`` skips that).
    """
    if _setting() == "off":
        return False
    try:
        from numba.core import config
    except ImportError:  # pragma: no cover - numba is a dependency
        return False
    if config.DISABLE_JIT:
        return False
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not on Linux
        cpus = os.cpu_count() or 1
    return cpus >= 2


def _setting() -> str:
    """``MEMR_SNN_COMPILE_AHEAD`` as ``off``, ``on`` or ``auto``."""
    how = os.environ.get(ENV, "auto").strip().lower()
    if how in ("0", "off", "false", "no"):
        return "off"
    return "on" if how in ("1", "on", "true", "yes") else "auto"


def _cores_idle(sample_s: float = 0.1) -> bool:
    """Whether the machine has two idle cores now (one for this process, one for the background process).

    Measured over ``sample_s`` seconds from ``/proc/stat`` (idle and I/O-wait time of all CPUs; this process
    sleeps meanwhile); elsewhere from the 1-minute load average (below the CPU count minus 1.5).  On a machine
    without them the background process only competes with this one (measured on the shared 2-core machine
    at load 8-10: the first run 5-16 % slower), e.g. under ``pytest -n 2``.
    """
    def idle_total():
        with open("/proc/stat", encoding="ascii") as f:
            fields = [int(x) for x in f.readline().split()[1:]]
        return fields[3] + fields[4], sum(fields[:8])

    try:
        i0, t0 = idle_total()
        time.sleep(sample_s)
        i1, t1 = idle_total()
        return t1 > t0 and (i1 - i0) / (t1 - t0) * (os.cpu_count() or 1) >= 1.5
    except (OSError, ValueError, IndexError):
        try:
            return os.getloadavg()[0] < (os.cpu_count() or 1) - 1.5
        except (AttributeError, OSError):  # pragma: no cover - no load average on this system
            return True


def plan(args: tuple) -> dict[str, list[tuple[str, tuple]]]:
    """The callees of ``run_chunk(*args)`` to compile ahead, with the signatures its typing gives them.

    Returns ``{"background": [(name, signature), ...], "here": [...]}``, names of functions of
    :mod:`memr_snn.kernel.loop` and tuples of numba types.  Only the callees ``run_chunk`` compiles for these
    records are named (its mode and the records that are None prune the others).  The split balances the two
    processes for a plain network.  Dense mode: this process compiles the integrate phase (about 3 s CPU with
    the neuron models' range steps), the background process (which first spends about 0.8 s starting) the
    push, the state monitors' sampling, the record, the sort, the inputs and the plasticity phase (about 2 s
    without plasticity); ``run_chunk`` itself (about 1.5 s) follows here.  Event mode: the step-and-idle and
    the integrate phases and the plasticity phase in the background, the push, the delivery, the state peek,
    the sort and the inputs here.
    """
    from numba import types

    from ..kernel import loop

    if len(args) != 12:
        raise ValueError(f"plan: run_chunk takes 12 arguments, got {len(args)}")
    _t0, _n, event, _dt, nrn, inp, syn, xbr, pls, ring, rec, scr = args
    ty = loop.run_chunk.typeof_pyval
    i64, f64, b = types.int64, types.float64, types.boolean
    n_t, s_t, x_t, p_t, r_t, c_t = ty(nrn), ty(syn), ty(xbr), ty(pls), ty(ring), ty(scr)

    def elem(a):
        return ty(a).dtype

    if event is None:  # dense mode: the integrate phase here, the rest in the background
        here = [("phase_integrate", (i64, i64, n_t, s_t, x_t, r_t, c_t))]
        if xbr is None and pls is None:
            background = [("push_float_dense", (i64, ty(scr.spikes), i64, s_t, ty(ring.buf)))]
        elif pls is None:
            background = [("push_crossbar_dense", (i64, i64, f64, i64, s_t, x_t, r_t, c_t))]
        else:
            background = [("phase_push", (i64, i64, b, f64, i64, s_t, x_t, p_t, r_t, c_t))]
        background += [("flag_bias", (ty(nrn.dense_ranges), ty(nrn.gi), ty(nrn.ib), ty(scr.range_bias))),
                       ("phase_sample", (i64, n_t, ty(rec.mon))), ("phase_record", (i64, i64, i64, s_t, ty(rec), c_t)),
                       ("heap_sort", (ty(scr.spikes), i64))]  # _sort_spikes
        if inp is not None:
            background.append(("phase_inputs", (i64, f64, ty(inp), c_t)))
        if pls is not None:
            background.append(("phase_plasticity", (i64, f64, i64, s_t, x_t, p_t, c_t)))
        return {"background": background, "here": here}
    # event mode (numba prunes nothing on a boolean: the dense phases are compiled too): the integrate phases
    # in the background, the rest here
    background = [("phase_step_idle", (i64, i64, n_t, c_t)), ("phase_integrate", (i64, i64, n_t, s_t, x_t, r_t, c_t))]
    here = [("phase_push", (i64, i64, b, f64, i64, s_t, x_t, p_t, r_t, c_t)),
            ("phase_deliver", (i64, i64, b, n_t, r_t, ty(rec))),
            ("heap_sort", (ty(scr.spikes), i64))]  # _sort_spikes
    if rec.mon is not None:  # phase_sample's
        here.append(("peek_state", (elem(rec.mon.gid), elem(rec.mon.var), i64, n_t)))
    if pls is not None:
        background.append(("phase_plasticity", (i64, f64, i64, s_t, x_t, p_t, c_t)))
    if inp is not None:
        here.append(("phase_inputs", (i64, f64, ty(inp), c_t)))
    return {"background": background, "here": here}


def _cache_of(dispatcher):
    """The dispatcher's numba cache object, or None if it has none (no ``cache=True``)."""
    cache = getattr(dispatcher, "_cache", None)
    return cache if cache is not None and type(cache).__name__ != "NullCache" else None


def _on_disk(dispatcher, sig) -> bool:
    """Whether numba's on-disk cache holds ``dispatcher`` compiled for ``sig`` (numba's index, not loaded)."""
    cache = _cache_of(dispatcher)
    key = cache._index_key(sig, dispatcher.targetctx.codegen())
    return key in cache._cache_file._load_index()


def _writable(dispatcher) -> bool:
    """Whether numba can write the dispatcher's cache directory (else the background would compile for nothing)."""
    path = Path(_cache_of(dispatcher).cache_path)
    while not path.exists() and path != path.parent:
        path = path.parent
    return os.access(path, os.W_OK)


def _needs_compile(run_chunk, sig) -> bool:
    """Whether calling ``run_chunk`` for ``sig`` would compile it: not in memory, not on disk, and its
    compilation can be cached (a writable cache directory)."""
    if sig in run_chunk.overloads or _cache_of(run_chunk) is None:
        return False
    return not _on_disk(run_chunk, sig) and _writable(run_chunk)


@contextlib.contextmanager
def ahead(run_chunk, args: tuple, first: bool = True, owner: object = None):
    """Around the first ``run_chunk(*args)``: if it compiles, compile its callees on two cores (module docstring).

    Nothing is done unless ``first`` (the first chunk of a run), nor for an ``owner`` (the simulator) seen
    before: its later runs reuse the loop its first run compiled or loaded.  Cheap when ``run_chunk`` is compiled or
    cached (one look at numba's cache index per new signature in a process).  Never raises for a failure of
    the background process (numba then compiles what is missing); the background process never outlives
    the block.
    """
    if first and owner is not None:
        try:
            first = owner not in _OWNERS
            _OWNERS.add(owner)
        except TypeError:  # not weakly referenceable: judge by the signature as before
            pass
    child, held, here = _prepare(run_chunk, args) if first else (None, [], [])
    try:
        _compile_here(here)
        yield
    finally:
        for dispatcher in held:
            dispatcher.__dict__.pop("compile", None)
        _reap(child)
        if child is not None and "child_rc" not in LAST:
            LAST.update(child_rc=child.returncode, child_cpu=None)


def _prepare(run_chunk, args: tuple) -> tuple:
    """Start the background process and hold the background share's dispatchers if ``run_chunk`` would compile.

    Returns (the background process or None, the dispatchers whose ``compile`` waits for it, the ``here``
    share of :func:`plan`).
    """
    nothing = (None, [], [])
    if not enabled() or not hasattr(run_chunk, "overloads"):
        return nothing
    try:
        sig = tuple(run_chunk.typeof_pyval(a) for a in args)
    except Exception:  # noqa: BLE001 - an argument numba cannot type: run_chunk reports it
        return nothing
    if sig in _SEEN:
        return nothing
    _SEEN.add(sig)
    try:
        if not _needs_compile(run_chunk, sig):
            return nothing
        jobs = plan(args)
    except Exception:  # noqa: BLE001 - numba internals changed: compile as before
        return nothing
    if _setting() == "auto" and not _cores_idle():
        return nothing
    LAST.clear()
    LAST.update(cpu_at_start=time.process_time())
    t_start = time.perf_counter()
    child = _start(jobs["background"])
    loop = importlib.import_module(LOOP)
    held = []
    if child is not None:  # run_chunk's typing waits for the background's callees when it reaches them
        waited = []

        def wait_once():
            if not waited:
                waited.append(True)
                w0 = time.perf_counter()
                LAST.update(cpu_at_wait=time.process_time())
                try:
                    child.wait(timeout=WAIT_S)
                except subprocess.TimeoutExpired:
                    pass
                _reap(child)
                LAST.update(wait_wall=time.perf_counter() - w0, child_rc=child.returncode,
                            child_wall=time.perf_counter() - t_start, child_cpu=_reported_cpu(child))

        for name, _ in jobs["background"]:
            held.append(_hold(getattr(loop, name), wait_once))
    return child, held, jobs["here"]


def _compile_here(jobs: list) -> None:
    """Compile the ``here`` share (a failure is left to ``run_chunk``'s own compilation to report)."""
    if not jobs:
        return
    loop = importlib.import_module(LOOP)
    c0, w1 = time.process_time(), time.perf_counter()
    for name, callee_sig in jobs:
        try:
            getattr(loop, name).compile(callee_sig)
        except Exception:  # noqa: BLE001 - run_chunk's own compilation reports real errors
            pass
    LAST.update(here_cpu=time.process_time() - c0, here_wall=time.perf_counter() - w1)


def _hold(dispatcher, wait):
    """Make ``dispatcher.compile`` call ``wait()`` first (an instance attribute, removed by :func:`ahead`)."""
    original = type(dispatcher).compile.__get__(dispatcher)

    def compile(sig):
        wait()
        return original(sig)

    dispatcher.compile = compile
    return dispatcher


#: the background process: reads the jobs (pickled) from stdin, compiles them, prints its CPU time.  It imports
#: the kernel package without running ``memr_snn/__init__.py`` (the facade and the model take about 0.5 s CPU;
#: ``kernel/`` imports nothing else of memr_snn, tests/test_architecture.py), from the directory it is given
_CHILD = """
import importlib, pickle, sys, time, types
jobs = pickle.load(sys.stdin.buffer)
pkg = types.ModuleType("memr_snn")
pkg.__path__ = [jobs["package"]]
sys.modules["memr_snn"] = pkg
module = importlib.import_module(jobs["module"])
for name, sig in jobs["jobs"]:
    getattr(module, name).compile(sig)
print(time.process_time(), flush=True)
"""


def _start(jobs: list) -> subprocess.Popen | None:
    """Start the background process compiling ``jobs`` (None if it cannot start)."""
    if not jobs:
        return None
    env = dict(os.environ)
    env[ENV] = "0"  # the background process never starts one of its own
    try:
        package = str(Path(__file__).resolve().parents[1])  # this memr_snn: the child compiles the same files
        payload = pickle.dumps({"package": package, "module": LOOP, "jobs": jobs})
        child = subprocess.Popen([sys.executable, "-c", _CHILD], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                 stderr=subprocess.DEVNULL, env=env, close_fds=True)
    except (OSError, pickle.PicklingError, TypeError, AttributeError):
        return None
    try:
        child.stdin.write(payload)
        child.stdin.close()
    except OSError:  # it died at once: nothing to wait for
        _reap(child)
        child.stdout.close()
        return None
    return child


def _reported_cpu(child: subprocess.Popen) -> float | None:
    """The CPU time the finished background process printed (None if it did not)."""
    try:
        return float(child.stdout.read().strip()) if child.returncode == 0 else None
    except (OSError, ValueError):
        return None
    finally:
        child.stdout.close()


def _reap(child: subprocess.Popen | None) -> None:
    """Kill the background process if it still runs, and wait for it (no zombie)."""
    if child is None:
        return
    if child.poll() is None:
        child.kill()
    child.wait()
    if child.stdin is not None and not child.stdin.closed:
        try:
            child.stdin.close()
        except OSError:
            pass
