"""Deprecated alias of :mod:`memr_snn.bench.peers` (the peer runners moved there).

``import memr_snn.peers`` (and ``memr_snn.peers.brian2_runner``, ``.nest_runner``,
``.brian2_sma``, ``.result``) still works and gives the modules of :mod:`memr_snn.bench.peers`
themselves, with a :class:`DeprecationWarning`.
"""

import sys
import warnings

from ..bench import peers as _peers
from ..bench.peers import brian2_runner, brian2_sma, nest_runner, result

warnings.warn("memr_snn.peers is deprecated: import memr_snn.bench.peers instead", DeprecationWarning,
              stacklevel=2)
for _mod in (brian2_runner, brian2_sma, nest_runner, result):
    sys.modules[f"{__name__}.{_mod.__name__.rsplit('.', 1)[1]}"] = _mod
sys.modules[__name__] = _peers
