"""Atomics and a barrier for compiled threads that run a whole chunk of steps (:mod:`memr_snn.kernel.threads`).

The block loop of :mod:`memr_snn.kernel.threads` runs one compiled call per thread (``nogil``) for a whole
chunk and meets the other threads at a **barrier** between phases, instead of starting a ``prange``
region per step.  A barrier here is a generation counter in an ``int64`` array (``sync``, one cache line
per counter): each thread atomically increments the arrival count; the last one resets it and bumps the
generation; the others wait until the generation changes.  Waiting spins briefly with ``pause`` (on a
quiet machine the other thread arrives within microseconds), then sleeps: on Linux in the kernel on the
generation word (``futex``; the last thread to arrive wakes the sleepers, and only calls into the kernel when
some thread sleeps), elsewhere by giving its core away with ``sched_yield`` between checks.  So on a
machine with more runnable threads than cores a waiting thread does not hold the core the thread it waits
for needs (the failure mode of GNU OpenMP's default spinning, docs/engine.md).

The atomics are LLVM instructions (``atomicrmw``, ``load atomic``, sequentially consistent, so every
write before a barrier is seen by every thread after it), emitted by numba intrinsics; ``syscall`` and
``sched_yield`` are the C library's.  Without numba (``NUMBA_DISABLE_JIT=1``) the same functions are plain
Python on a lock (:data:`_LOCK`), and the waiting thread sleeps between checks.
"""

import platform
import sys
import threading
import time

import numpy as np
from numba import config, njit

__all__ = ["SYNC_STRIDE", "SPIN_TICKS", "SPIN_NOW", "new_sync", "atomic_add", "atomic_load", "barrier", "cycles"]

#: int64 entries between two counters of ``sync`` (64 bytes: one cache line each)
SYNC_STRIDE = 8
#: cycle-counter ticks a waiting thread spins by default before it sleeps (about 20 us at 2.6 GHz, a
#: third of a step's work per thread at 64 000 neurons: a thread that arrives later than that has usually
#: been descheduled; the ``spin`` argument of :func:`barrier`, ``MEMR_SNN_SPIN`` in the engine).  Counted in
#: ticks, not ``pause`` instructions: a ``pause`` took 85 ns in the reference virtual machine (220 ticks)
#: against a few ns on bare metal
SPIN_TICKS = 50000
#: slots of ``sync``: arrival count, generation, threads asleep on the generation, the cycle counter when the
#: last thread arrived
_ARRIVED, _GEN, _ASLEEP, _STAMP = 0, SYNC_STRIDE, 2 * SYNC_STRIDE, 3 * SYNC_STRIDE
#: the futex system call's number (Linux on x86-64 and on 64-bit ARM, both little-endian: the futex word is
#: the low half of the int64 generation); None elsewhere, where waiting threads yield instead
_SYS_FUTEX = {"x86_64": 202, "amd64": 202, "aarch64": 98, "arm64": 98}.get(platform.machine().lower()) \
    if sys.platform.startswith("linux") and not config.DISABLE_JIT else None
_FUTEX = _SYS_FUTEX is not None
_FUTEX_NR = _SYS_FUTEX or 0
_FUTEX_WAIT, _FUTEX_WAKE = 128, 129  # FUTEX_WAIT_PRIVATE, FUTEX_WAKE_PRIVATE


def new_sync() -> np.ndarray:
    """A fresh barrier state (all counters zero)."""
    return np.zeros(4 * SYNC_STRIDE, dtype=np.int64)


if config.DISABLE_JIT:  # plain Python: the GIL and a lock stand in for the atomics
    _LOCK = threading.Lock()

    def atomic_add(arr, i, value):
        """``arr[i] += value`` atomically; returns the old value."""
        with _LOCK:
            old = int(arr[i])
            arr[i] = old + value
        return old

    def atomic_load(arr, i):
        """``arr[i]``, read atomically."""
        with _LOCK:
            return int(arr[i])

    def _pause():
        pass

    def _yield():
        time.sleep(1e-5)

    def _futex(arr, i, op, value):
        raise NotImplementedError("no futex without numba")
else:
    from llvmlite import ir
    from numba import types
    from numba.core import cgutils
    from numba.extending import intrinsic

    def _pointer(context, builder, aryty, ary, idx):
        return cgutils.get_item_pointer(context, builder, aryty, context.make_array(aryty)(context, builder, ary),
                                        [idx])

    @intrinsic
    def atomic_add(typingctx, arr, i, value):
        """``arr[i] += value`` (``arr``: int64 array) atomically, sequentially consistent; returns the old value."""
        sig = types.int64(arr, types.intp, types.int64)

        def codegen(context, builder, signature, args):
            ptr = _pointer(context, builder, signature.args[0], args[0], args[1])
            return builder.atomic_rmw("add", ptr, args[2], "seq_cst")

        return sig, codegen

    @intrinsic
    def atomic_load(typingctx, arr, i):
        """``arr[i]`` (``arr``: int64 array), an atomic, sequentially consistent load."""
        sig = types.int64(arr, types.intp)

        def codegen(context, builder, signature, args):
            ptr = _pointer(context, builder, signature.args[0], args[0], args[1])
            return builder.load_atomic(ptr, "seq_cst", 8)

        return sig, codegen

    _X86 = platform.machine().lower() in ("x86_64", "amd64", "i686", "i386")

    @intrinsic
    def _pause(typingctx):
        """The ``pause`` instruction (x86; nothing elsewhere): a spin-wait hint."""
        sig = types.void()

        def codegen(context, builder, signature, args):
            if _X86:
                fn = cgutils.get_or_insert_function(builder.module, ir.FunctionType(ir.VoidType(), []),
                                                    "llvm.x86.sse2.pause")
                builder.call(fn, [])
            return context.get_dummy_value()

        return sig, codegen

    @intrinsic
    def _yield(typingctx):
        """The C library's ``sched_yield()``: the core goes to another runnable thread, if any."""
        sig = types.int32()

        def codegen(context, builder, signature, args):
            fn = cgutils.get_or_insert_function(builder.module, ir.FunctionType(ir.IntType(32), []), "sched_yield")
            return builder.call(fn, [])

        return sig, codegen

    @intrinsic
    def _futex(typingctx, arr, i, op, value):
        """``syscall(SYS_futex, &arr[i], op, value, NULL)`` (``arr``: int64 array; the futex word is the low
        32 bits of ``arr[i]``): wait while it equals ``value``, or wake up to ``value`` waiters."""
        sig = types.int64(arr, types.intp, types.int64, types.int64)

        def codegen(context, builder, signature, args):
            i64 = ir.IntType(64)
            fn = cgutils.get_or_insert_function(builder.module, ir.FunctionType(i64, [i64], var_arg=True),
                                                "syscall")
            ptr = _pointer(context, builder, signature.args[0], args[0], args[1])
            return builder.call(fn, [ir.Constant(i64, _FUTEX_NR), builder.ptrtoint(ptr, i64), args[2], args[3],
                                     ir.Constant(i64, 0)])

        return sig, codegen


if config.DISABLE_JIT:
    def cycles():
        """A time stamp in nanoseconds (the cycle counter's stand-in without numba)."""
        return time.perf_counter_ns()
else:
    @intrinsic
    def cycles(typingctx):
        """The CPU's cycle counter (``llvm.readcyclecounter``; the time stamp counter on x86)."""
        def codegen(context, builder, signature, args):
            fn = builder.module.declare_intrinsic("llvm.readcyclecounter", fnty=ir.FunctionType(ir.IntType(64), []))
            return builder.call(fn, [])
        return types.int64(), codegen


#: the entry of a thread's ``stats`` row where :func:`barrier` keeps how far its current spin is below ``spin``
SPIN_NOW = 8


@njit(cache=True, nogil=True)
def barrier(sync, n_threads, gen, stats, spin):
    """Wait until ``n_threads`` threads have called this for generation ``gen``; returns ``gen + 1``.

    Every thread passes its own count of barriers passed (``gen``, the same in all threads). ``stats``
    (int64, at least ``SPIN_NOW + 1`` entries, the caller's own) counts the barriers at which this thread
    waited (``stats[0]``) and the times it went to sleep or yielded its core while waiting (``stats[1]``).

    A waiting thread spins (``pause``) for up to ``spin`` ticks of the cycle counter, then sleeps (module
    docstring).  The spin adapts (``spin - stats[SPIN_NOW]``): when the last thread arrived less than ``spin``
    ticks after this one it doubles (up to ``spin``: spinning catches it), else it halves (the other thread
    was descheduled, as on a machine with more runnable threads than cores, where spinning only burns a
    core).  The lateness is the last thread's stamp (``_STAMP``) against this one's arrival, not the time
    this thread waited, which includes its own wake-up after a sleep (so the spin recovers once the
    threads arrive close together again).

    No wake-up is lost: a sleeper announces itself (``_ASLEEP``) before it checks the generation one last
    time and sleeps only while the generation word is still ``gen`` (the kernel checks it atomically); the
    last thread bumps the generation before it reads the announcements (both sequentially consistent)."""
    if atomic_add(sync, _ARRIVED, 1) == n_threads - 1:  # the last to arrive releases the others
        sync[_STAMP] = cycles()  # published by the generation's atomic add below
        atomic_add(sync, _ARRIVED, -n_threads)
        atomic_add(sync, _GEN, 1)
        if _FUTEX and atomic_load(sync, _ASLEEP) > 0:
            _futex(sync, _GEN, _FUTEX_WAKE, 2147483647)
        return gen + 1
    stats[0] += 1
    now = spin - stats[SPIN_NOW]  # kept as the deficit, so that a fresh (zero) row starts at the full spin
    if now < 0 or now > spin:
        now = spin
    c0 = cycles()
    while atomic_load(sync, _GEN) == gen:
        if cycles() - c0 < now:
            _pause()
        elif _FUTEX:
            stats[1] += 1
            atomic_add(sync, _ASLEEP, 1)
            if atomic_load(sync, _GEN) == gen:
                _futex(sync, _GEN, _FUTEX_WAIT, gen & 0xFFFFFFFF)
            atomic_add(sync, _ASLEEP, -1)
        else:
            stats[1] += 1
            _yield()
    if sync[_STAMP] - c0 < spin:  # how late the last thread arrived (not how long this one slept)
        now = min(spin, 2 * now + 1024)
    else:
        now >>= 1
    stats[SPIN_NOW] = spin - now
    return gen + 1
