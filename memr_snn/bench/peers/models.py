"""The Vogels–Abbott network constants of the peer runs (SI floats), and the worker configuration
they travel in.  Their provenance is documented in :mod:`memr_snn.bench.peers`.

The worker (:mod:`memr_snn.bench._worker`) holds no copy of them: every run passes its ``params``,
``n_exc`` and ``p_connect`` in its configuration.
"""

from __future__ import annotations

from types import MappingProxyType

__all__ = ["CUBA", "COBA", "SYNAPSES_PER_NEURON", "EXCITATORY_FRACTION", "network_config"]

SYNAPSES_PER_NEURON = 80.0
"""Mean number of synapses per neuron: the connection probability is ``80 / n_neurons``."""

EXCITATORY_FRACTION = 0.8
"""The first ``4 * n_neurons // 5`` neurons are excitatory, the rest inhibitory."""

CUBA = MappingProxyType(
    {
        "tau_mem": 20e-3,  # [s]
        "tau_exc": 5e-3,  # [s]
        "tau_inh": 10e-3,  # [s]
        "v_threshold": -50e-3,  # [V]
        "v_reset": -60e-3,  # [V]
        "v_leak": -49e-3,  # [V]
        "t_refractory": 5e-3,  # [s]
        "w_exc": 60 * 0.27 / 10 * 1e-3,  # [V] = 1.62 mV
        "w_inh": -20 * 4.5 / 10 * 1e-3,  # [V] = -9 mV
    }
)
"""CUBA (Brette et al. 2007 benchmark 2) parameters, SI units, as in Brian2 ``examples/CUBA.py``."""

COBA = MappingProxyType(
    {
        "tau_mem": 20e-3,  # [s]
        "tau_exc": 5e-3,  # [s]
        "tau_inh": 10e-3,  # [s]
        "v_threshold": -50e-3,  # [V]
        "v_reset": -60e-3,  # [V]
        "v_leak": -60e-3,  # [V]
        "e_exc": 0.0,  # [V]
        "e_inh": -80e-3,  # [V]
        "t_refractory": 5e-3,  # [s]
        "w_exc": 6.0 / 10.0,  # [1] in units of the leak conductance (6 nS / 10 nS)
        "w_inh": 67.0 / 10.0,  # [1] in units of the leak conductance (67 nS / 10 nS)
        "v_init_mean": -65e-3,  # [V] v = El + (randn()*5 - 5) mV
        "v_init_std": 5e-3,  # [V]
        "ge_init_mean": 4.0,  # [1] ge = randn()*1.5 + 4
        "ge_init_std": 1.5,  # [1]
        "gi_init_mean": 20.0,  # [1] gi = randn()*12 + 20
        "gi_init_std": 12.0,  # [1]
    }
)
"""COBA (Brette et al. 2007 benchmark 1) parameters, SI units; conductances relative to leak."""


def network_config(model: str, n_neurons: int, params=None) -> dict:
    """The network part of a worker configuration: ``model``, ``n_neurons``, ``n_exc``, ``p_connect``
    and ``params`` (:data:`CUBA` or :data:`COBA` for ``"cuba"`` / ``"coba"``, else ``params``)."""
    n = int(n_neurons)
    if params is None:
        params = {"cuba": CUBA, "coba": COBA}[model]
    return {"model": model, "n_neurons": n, "n_exc": (n * 4) // 5, "p_connect": SYNAPSES_PER_NEURON / n,
            "params": dict(params)}
