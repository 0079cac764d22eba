"""Installs the engine and the checkpoint I/O as the runtime of :class:`memr_snn.Network`.

:mod:`memr_snn.model` is a pure description: it imports neither the engine nor :mod:`memr_snn.io`.
A network reaches them through the hooks of :func:`memr_snn.model.network.install_runtime`, which
this module fills (``import memr_snn`` imports it, so every user of the package has them):

* ``build(net)`` -- the object that holds and advances the network's mutable state: the engine's
  :class:`~memr_snn.engine.simulator.Simulator` (engine arrays, live weight views, crossbar state
  views, rewards, monitor drains);
* ``save(net, path)`` / ``load(path)`` -- :mod:`memr_snn.io.checkpoint`.

The engine and the I/O modules are imported on first use, so ``import memr_snn`` stays light
(numba is loaded by the first run).
"""

from __future__ import annotations

from .model.network import install_runtime

__all__ = ["install"]


def _build(net):
    from .engine.simulator import Simulator

    return Simulator(net)


def _save(net, path):
    from .io.checkpoint import save_network

    return save_network(net, path)


def _load(path):
    from .io.checkpoint import load_network

    return load_network(path)


def install() -> None:
    """(Re)install the engine and the checkpoint I/O as the network runtime (done at import)."""
    install_runtime(build=_build, save=_save, load=_load)


install()
