"""numba kernels: small pure functions over flat arrays (imports only numpy and numba).

Every kernel has a plain-numpy twin in :mod:`memr_snn.kernel.reference`, used by the tests.
Compiled code is cached on disk (``cache=True``).

numba keys a cached function on its own source file only, but the kernels here inline
functions from their sibling modules; after an edit to ``neuron.py`` the cached
``loop.run_chunk`` would still hold the old code.  So, on import, the cache next to
these sources is dropped whenever the combined hash of the kernel sources changes.
"""

import hashlib
from pathlib import Path


def _drop_stale_cache() -> None:
    here = Path(__file__).resolve().parent
    cache = here / "__pycache__"
    try:
        digest = hashlib.sha256()
        for src in sorted(here.glob("*.py")):
            digest.update(src.name.encode())
            digest.update(src.read_bytes())
        stamp = cache / "memr_snn_kernel_sources.sha256"
        current = digest.hexdigest()
        if stamp.exists() and stamp.read_text().strip() == current:
            return
        if cache.is_dir():
            for f in list(cache.glob("*.nbi")) + list(cache.glob("*.nbc")):
                f.unlink(missing_ok=True)
        cache.mkdir(exist_ok=True)
        stamp.write_text(current)
    except OSError:  # read-only install: numba caches elsewhere, keyed on installed files
        pass


_drop_stale_cache()
