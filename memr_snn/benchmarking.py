"""Deprecated alias of :mod:`memr_snn.bench` (the benchmark suite moved there).

``import memr_snn.benchmarking`` still works and gives the :mod:`memr_snn.bench` package itself
(the same module object, so its public names are the same objects), with a
:class:`DeprecationWarning`.  Private helpers live in the submodules of :mod:`memr_snn.bench`.
"""

import sys
import warnings

from . import bench as _bench

warnings.warn("memr_snn.benchmarking is deprecated: import memr_snn.bench instead", DeprecationWarning,
              stacklevel=2)
sys.modules[__name__] = _bench
