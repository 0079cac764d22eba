"""Base classes that let the model describe what higher layers implement (dependency inversion).

:mod:`memr_snn.model` accepts these kinds of objects without importing the packages that define
them: a :class:`~memr_snn.model.Projection` takes ``device=`` any :class:`SynapticStorage` (the
crossbar specification :class:`memr_snn.devices.Crossbar` is one).  This module is a leaf: it
imports nothing of memr_snn.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["SynapticStorage"]


class SynapticStorage:
    """A specification of how a projection's weights are stored in devices.

    Subclasses implement :meth:`make_state`, which the network calls when the projection is added
    (the result becomes ``projection.crossbar``), and carry a ``seed`` attribute (``None``: drawn
    from the network seed).
    """

    __slots__ = ()

    seed: int | None

    def make_state(self, pre: np.ndarray, post: np.ndarray, weights: np.ndarray, seed: int, name: str,
                   n_pre: int) -> Any:
        """The programmed devices of one projection's synapses (pre/post local indices, CSR order)."""
        raise NotImplementedError
