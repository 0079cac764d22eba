"""numba kernels: small pure functions over flat arrays (imports only numpy and numba).

Every kernel has a plain-numpy twin in :mod:`memr_snn.kernel.reference`, used by the tests.
Compiled code is cached on disk (``cache=True``).

numba keys a cached function on its own source file only, but the kernels here inline
functions from their sibling modules; after an edit to ``neuron.py`` the cached
``loop.run_chunk`` would still hold the old code.  The cache next to these sources is
stamped with the combined hash of the kernel sources:

* importing this package never deletes anything: it writes the stamp when there is no
  compiled cache yet, and warns (``RuntimeWarning``) when cached code exists under a stamp
  that is missing or differs from the sources (a kernel file was edited);
* :func:`clear_stale_cache` deletes the cached code in that case and writes the new stamp.
  The test suite calls it at start (``tests/conftest.py``); after editing a kernel file, run
  ``python -c "import memr_snn.kernel as k; k.clear_stale_cache()"``.

**No reference counting in the dense hot path.**  numba takes a reference (an atomic increment) to every
array it receives as an argument or makes as a view, and drops it (an atomic decrement) when done; a branch
between the two keeps its pruning from removing them.  The dense step's range kernels, their dispatcher, the
spike scan, ``loop.phase_integrate`` and the dense push (:mod:`.push`) pass a dozen arrays down three or four
calls per range and row, which cost more than the work at a few thousand neurons (about 0.8 us of a 4.2 us
CUBA step at 4000 neurons).  They are compiled with numba's ``_nrt=False``: no reference counting at all; so
are the phases without optional records (``loop.PHASE_NRT``: inputs, delivery, sampling, recording, the event
mode's step), which inlined into the reference-counted ``run_chunk`` took a reference to every array of their
records every step.
That is safe for a function that allocates nothing and returns no array (its caller holds the references;
numba refuses to compile an allocation without its runtime), which is what these kernels are: keep them so.
numba compiles the functions such a kernel calls without reference counting as well, so it must call
nothing that allocates (``run_chunk`` and ``phase_push`` reach the plasticity storages, which do: they stay
reference-counted).
"""

import hashlib
import warnings
from pathlib import Path

__all__ = ["clear_stale_cache", "cache_is_stale"]

_HERE = Path(__file__).resolve().parent
_STAMP = "memr_snn_kernel_sources.sha256"


def _digest() -> str:
    digest = hashlib.sha256()
    for src in sorted(_HERE.rglob("*.py")):  # the kernels and the neuron models (models/)
        digest.update(src.relative_to(_HERE).as_posix().encode())
        digest.update(src.read_bytes())
    return digest.hexdigest()


def _cached_files() -> list[Path]:
    caches = [d for d in (_HERE / "__pycache__", _HERE / "models" / "__pycache__") if d.is_dir()]
    return [f for cache in caches for f in list(cache.glob("*.nbi")) + list(cache.glob("*.nbc"))]


def cache_is_stale() -> bool:
    """Whether numba code is cached next to the kernel sources under a missing or outdated stamp."""
    stamp = _HERE / "__pycache__" / _STAMP
    if stamp.exists() and stamp.read_text().strip() == _digest():
        return False
    return bool(_cached_files())


def clear_stale_cache() -> bool:
    """Delete the numba cache next to the kernel sources if it is stale, and stamp it; True if files were deleted.

    A read-only install is left alone (numba then caches elsewhere, keyed on the installed files).
    """
    try:
        stale = cache_is_stale()
        if stale:
            for f in _cached_files():
                f.unlink(missing_ok=True)
        cache = _HERE / "__pycache__"
        cache.mkdir(exist_ok=True)
        (cache / _STAMP).write_text(_digest())
        return stale
    except OSError:
        return False


def _check_cache() -> None:
    """At import: stamp a fresh cache, warn about a stale one; never delete."""
    try:
        if not cache_is_stale():
            stamp = _HERE / "__pycache__" / _STAMP
            if not _cached_files() and not (stamp.exists() and stamp.read_text().strip() == _digest()):
                stamp.parent.mkdir(exist_ok=True)
                stamp.write_text(_digest())  # nothing compiled yet: what numba caches next is these sources'
            return
    except OSError:  # read-only install: numba caches elsewhere, keyed on installed files
        return
    warnings.warn("the numba cache of memr_snn.kernel was compiled from other kernel sources and may hold "
                  "outdated code; run `python -c \"import memr_snn.kernel as k; k.clear_stale_cache()\"`",
                  RuntimeWarning, stacklevel=2)


_check_cache()

# numba's pedantic IR check flags the per-change loop that ``kernel.plasticity.storage_apply`` inlines for
# float weights (a path compiled for typing but never taken: float weights take each change as the rule
# computes it); the compiled code is correct (tests/learning), so this one message is not shown to users.
try:
    from numba.core.errors import NumbaIRAssumptionWarning

    warnings.filterwarnings("ignore", message=r"variable '_storage_apply_compiled__locals__.*' is not in scope",
                            category=NumbaIRAssumptionWarning)
except ImportError:  # an older numba without the check
    pass
