"""Measurements of the sensory benchmark: spike statistics, the energy estimate and the logistic-regression baseline.

Part of :mod:`memr_snn.learning.sensory` (its docstring defines the energy estimate and the baseline);
import the names from there.
"""

from __future__ import annotations

import dataclasses
import time
from typing import Any

import numpy as np

from .._validation import check_int_at_least, check_nonnegative, check_positive
from ..encoders.datasets.classification import ClassificationData
from .snn import RSNNConfig
from .surrogate import Weights, forward


# --------------------------------------------------------------------------- energy
@dataclasses.dataclass(frozen=True)
class EnergyModel:
    """Per-operation energies of the estimate (module docstring, "Energy estimate")."""

    e_synop: float = 27.1e-12
    """Energy of one synaptic operation of a digital core [J] (Loihi: 23.6 + 3.5 pJ)."""
    e_neuron_update: float = 81e-12
    """Energy of one neuron update [J] (Loihi)."""
    source: str = ("Intel Loihi: M. Davies et al., 'Loihi: a neuromorphic manycore processor with on-chip learning', "
                   "IEEE Micro 38(1):82-99, 2018, per-operation energies as tabulated by KerasSpiking "
                   "(keras_spiking.ModelEnergy, device 'loihi')")
    """Citation of the figures."""

    def __post_init__(self) -> None:
        check_nonnegative("e_synop", self.e_synop, "J")
        check_nonnegative("e_neuron_update", self.e_neuron_update, "J")


# --------------------------------------------------------------------------- counting
def spike_statistics(config: RSNNConfig, weights: Weights, x: np.ndarray, *, batch_size: int = 256
                     ) -> dict[str, Any]:
    """Spikes, synaptic operations and neuron updates per sample (module docstring, "Counting conventions").

    Parameters
    ----------
    config, weights
        The network.
    x : ndarray, shape (N, T, n_in)
        Inputs (spike counts per step).
    batch_size : int
        Samples simulated at once.

    Returns
    -------
    dict
        Per-sample means ``input_spikes``, ``hidden_spikes``, ``synops_input``, ``synops_hidden``,
        ``synops``, ``neuron_updates``, the hidden rate ``hidden_rate_hz`` [Hz] and the per-channel
        mean counts per sample ``input_counts`` ``(n_in,)`` and ``hidden_counts`` ``(n_rec,)`` (ndarrays).
    """
    batch_size = check_int_at_least("batch_size", batch_size, 1)
    x = np.asarray(x)
    if x.ndim != 3 or x.shape[2] != config.n_in or x.shape[0] < 1:
        raise ValueError(f"x must have shape (N, T, n_in={config.n_in}) with N >= 1, got {x.shape}")
    N, T = x.shape[0], x.shape[1]
    c_in = np.zeros(config.n_in)
    c_h = np.zeros(config.n_rec)
    for start in range(0, N, batch_size):
        xb = np.asarray(x[start:start + batch_size], dtype=np.float64)
        c_in += xb.sum(axis=(0, 1))
        c_h += forward(config, weights, xb).z.sum(axis=(0, 1))
    c_in /= N
    c_h /= N
    fo_in = np.count_nonzero(weights.w_in, axis=0)
    fo_h = np.count_nonzero(weights.w_out, axis=0)
    if weights.w_rec is not None:
        fo_h = fo_h + np.count_nonzero(weights.w_rec, axis=0)
    syn_in = float(c_in @ fo_in)
    syn_h = float(c_h @ fo_h)
    updates = float((config.n_rec + config.n_out) * T)
    return {"input_spikes": float(c_in.sum()), "hidden_spikes": float(c_h.sum()), "synops_input": syn_in,
            "synops_hidden": syn_h, "synops": syn_in + syn_h, "neuron_updates": updates,
            "hidden_rate_hz": float(c_h.sum() / (config.n_rec * T * config.dt)),
            "input_counts": c_in, "hidden_counts": c_h}


def device_read_energy(mapped, stats: dict[str, Any]) -> float:
    r"""Device read energy per sample [J] of a mapped network for the counts of :func:`spike_statistics`.

    Every spike of presynaptic unit ``i`` reads all devices of the synapses in its column of
    the layer's crossbar, each read costing :math:`V_{read}^2 G t_{read}` with the device's
    expected read conductance ``G`` at time 0 (:meth:`CrossbarState.read_conductances`).
    """
    per_pre = {}
    for name, state in mapped.layers.items():
        g = np.asarray(state.read_conductances(0.0), dtype=np.float64)
        g_syn = g.reshape(-1, state.per).sum(axis=1)  # differential pairs are interleaved (G+, G-)
        pre = mapped.synapses[name][0]
        n_pre = {"w_in": mapped.config.n_in}.get(name, mapped.config.n_rec)
        per_pre[name] = np.bincount(pre, weights=state.v_read ** 2 * state.t_read * g_syn, minlength=n_pre)
    e = float(stats["input_counts"] @ per_pre["w_in"]) + float(stats["hidden_counts"] @ per_pre["w_out"])
    if "w_rec" in per_pre:
        e += float(stats["hidden_counts"] @ per_pre["w_rec"])
    return e


# --------------------------------------------------------------------------- baseline
def _binned_counts(x: np.ndarray, bins: int) -> np.ndarray:
    parts = np.array_split(np.arange(x.shape[1]), min(bins, x.shape[1]))
    return np.concatenate([np.asarray(x[:, p], dtype=np.float64).sum(axis=1) for p in parts], axis=1)


def logistic_baseline(data: ClassificationData, *, bins: int = 1, C: float = 1.0, max_iter: int = 2000,
                      seed: int = 0) -> dict[str, Any]:
    """Test accuracy of a non-spiking logistic-regression baseline on binned spike counts (module docstring).

    Returns
    -------
    dict
        ``accuracy``, ``train_accuracy``, ``features``, ``bins``, ``C``, ``seconds``, ``model``.

    Raises
    ------
    ImportError
        If scikit-learn is not installed (the ``datasets`` extra).
    """
    try:
        from sklearn.linear_model import LogisticRegression
        from sklearn.preprocessing import StandardScaler
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError("the logistic baseline needs scikit-learn: pip install 'memr_snn[datasets]'") from exc
    bins = check_int_at_least("bins", bins, 1)
    check_positive("C", C)
    max_iter = check_int_at_least("max_iter", max_iter, 1)
    t0 = time.perf_counter()
    f_tr, f_te = _binned_counts(data.x_train, bins), _binned_counts(data.x_test, bins)
    scaler = StandardScaler().fit(f_tr)
    clf = LogisticRegression(C=float(C), max_iter=max_iter, random_state=int(seed))
    clf.fit(scaler.transform(f_tr), data.y_train)
    return {"accuracy": float(clf.score(scaler.transform(f_te), data.y_test)),
            "train_accuracy": float(clf.score(scaler.transform(f_tr), data.y_train)),
            "features": int(f_tr.shape[1]), "bins": min(bins, data.T), "C": float(C),
            "model": "StandardScaler + LogisticRegression(lbfgs)", "seconds": time.perf_counter() - t0}
