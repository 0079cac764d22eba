"""Python-side homeostasis between runs: synaptic scaling of incoming weights.

These steps act on a built projection's weights from Python, between
``Network.run`` calls (e.g. after each stimulus presentation), not inside the
compiled loop.  Writes go through :attr:`memr_snn.Projection.weights`, so they
reach the kernel (and reprogram the devices of a crossbar projection).
"""

from __future__ import annotations

import numpy as np

__all__ = ["normalize_incoming"]


def normalize_incoming(projection, total: float) -> np.ndarray:
    r"""Rescale each postsynaptic neuron's incoming weights to sum to ``total``.

    For every postsynaptic neuron :math:`j` with incoming weight sum
    :math:`S_j > 0`, all its incoming weights are multiplied by
    :math:`total / S_j` (multiplicative synaptic scaling, as the weight
    normalization of Diehl & Cook 2015).  Neurons whose incoming weights sum to
    zero (or that have no incoming synapses) are left unchanged.  When the
    projection has a plasticity rule, the scaled weights are clipped to the
    rule's ``[w_min, w_max]``, so a sum may then fall short of ``total``.

    Parameters
    ----------
    projection : memr_snn.Projection
        A projection already added to a network (its synapses exist).
    total : float
        Target sum of each neuron's incoming weights [weight unit]; finite and > 0.

    Returns
    -------
    numpy.ndarray
        ``(n_post,)`` factors applied to each postsynaptic neuron's weights
        (1 where nothing was changed).

    Raises
    ------
    ValueError
        If ``total`` is not finite and > 0, or ``projection`` has no synapses yet.
    """
    from ..model.projection import Projection

    if not isinstance(projection, Projection):
        raise ValueError(f"projection must be a memr_snn.Projection, got {projection!r}")
    if isinstance(total, bool) or not isinstance(total, (int, float, np.integer, np.floating)):
        raise ValueError(f"total must be a finite number > 0, got {total!r}")
    if not (np.isfinite(total) and total > 0):
        raise ValueError(f"total must be finite and > 0, got {total!r}")
    if projection.indices is None:
        raise ValueError(f"projection {projection.name!r} has no synapses yet: add it to a network first")
    # on a crossbar the present weights are in the devices (learning moved them); the write reprograms
    w = projection.crossbar.read_weights() if projection.crossbar is not None else projection.weights
    post = projection.indices
    sums = np.bincount(post, weights=w, minlength=projection.post.n)
    factors = np.ones(projection.post.n)
    ok = sums > 0
    factors[ok] = float(total) / sums[ok]
    new = w * factors[post]
    rule = projection.plasticity
    if rule is not None:
        np.clip(new, rule.w_min, rule.w_max, out=new)
    projection.weights = new
    return factors
