"""Unsupervised digit learning after Diehl & Cook (2015), on scikit-learn's 8x8 digits.

Diehl, P. U. & Cook, M. (2015), *Unsupervised learning of digit recognition using
spike-timing-dependent plasticity*, Front. Comput. Neurosci. 9:99.

The architecture is the paper's, scaled to the 8x8 images of
:func:`sklearn.datasets.load_digits` (1797 samples, pixel values 0-16):

* 64 Poisson inputs, rate proportional to pixel intensity (``max_rate`` at 16),
  shown for 350 ms, then 150 ms of silence so the network relaxes;
* all-to-all plastic input -> excitatory projection (pair STDP, see below);
* excitatory -> inhibitory one to one (each excitatory spike makes its partner fire),
  inhibitory -> excitatory to all but the partner (lateral inhibition: soft
  winner-take-all);
* adaptive thresholds of the excitatory neurons (the paper's theta): ALIF neurons
  whose threshold rises by ``beta_adapt`` per spike and decays with a very long
  ``tau_adapt`` (current-based synapses: ALIF is the project's adaptive neuron);
* after each sample, every excitatory neuron's incoming weights are rescaled to
  the fixed sum ``w_total`` (:func:`memr_snn.learning.homeostasis.normalize_incoming`,
  the paper's weight normalization), and membrane and synaptic currents are reset;
* a sample that made fewer than ``min_spikes`` excitatory spikes is shown again
  with ``rate_step`` more input rate (at most ``max_repeats`` times), as in the paper.

Learning rule.  The paper's favoured rule potentiates on a postsynaptic spike by
``eta_post (x_pre - x_tar) (w_max - w)^mu`` and depresses on a presynaptic spike by
``eta_pre x_post``, with exponential pre- and postsynaptic traces.  The kernel's
:class:`~memr_snn.learning.STDP` has the same structure: on a postsynaptic spike
``+a_plus x_pre``, on a presynaptic spike ``-a_minus x_post``; here with all-to-all
pairing (traces add 1 per spike, so the presynaptic trace tracks the input rate and
the learned weights the pixel intensities; nearest-spike pairing saturates the trace
at high rates and learned blurrier fields, about 4 points lower on a validation
split) and multiplicative weight dependence (potentiation scaled by
``(w_max - w) / w_max``, the paper's ``mu = 1``; depression by ``w / w_max``).  The
paper's ``x_tar`` (depression of inputs that did not fire) is replaced by the weight
normalization: potentiating the active inputs takes weight from the inactive ones.

Parameters were tuned on a validation split carved from the 1200 training samples
(first 900 to learn and label, last 300 to validate); the test set was used only to
report (validation accuracy 0.90-0.91 with two epochs, seeds 0 and 1).  Test accuracy with the
defaults and two epochs (``train_diehl_cook(seed=s, epochs=2)``, 100 excitatory neurons):
0.874, 0.881, 0.881 for seeds 0, 1, 2 (0.879 +- 0.003), with about 6 excitatory spikes per
test sample; about a minute per seed on one idle core (1200 x 2 training, 1200 labelling and
597 test presentations of 0.5 s at dt = 0.5 ms).

Evaluation, as in the paper: the learned weights and thresholds are frozen (a second
network without plasticity and with the thresholds fixed at their learned values),
the training set is shown once to assign each excitatory neuron the class for which
its mean response is highest, then each test sample is classified as the class whose
assigned neurons fire most on average.
"""

from __future__ import annotations

import dataclasses
import time
from typing import Any

import numpy as np

from memr_snn import (
    ALIFParams,
    AllToAll,
    FromArrays,
    LIFParams,
    Network,
    OneToOne,
    PoissonSource,
    Population,
    Projection,
    SpikeMonitor,
)
from memr_snn._extras import require
from memr_snn.learning import STDP
from memr_snn.learning.homeostasis import normalize_incoming
from memr_snn.units import ms, mV, nA, pA, pF

__all__ = [
    "DiehlCookParams",
    "DiehlCook",
    "load_digits_split",
    "assign_labels",
    "classify",
    "train_diehl_cook",
    "N_INPUTS",
    "N_CLASSES",
]

N_INPUTS = 64
N_CLASSES = 10
#: seed of the fixed stratified train/test split (independent of the run seed)
SPLIT_SEED = 0
#: base threshold of the excitatory neurons [V] (the adaptive part is added on top)
V_TH_EXC = -52 * mV
#: test-set size of the fixed split (1797 = 1200 train + 597 test)
N_TEST_SPLIT = 597


@dataclasses.dataclass(frozen=True)
class DiehlCookParams:
    """Parameters of the network and of the presentation protocol (SI units)."""

    n_exc: int = 100
    """Excitatory (and inhibitory) neurons."""
    max_rate: float = 300.0
    """Input rate of a pixel of intensity 16 [Hz]."""
    rate_step: float = 50.0
    """Rate added to ``max_rate`` at each repetition of a sample that drew too few spikes [Hz]."""
    min_spikes: int = 5
    """Excitatory spikes a presentation must produce, else it is repeated with more input."""
    max_repeats: int = 4
    """Repetitions at most (the paper repeats until the spikes come)."""
    t_present: float = 350 * ms
    """Presentation time [s]."""
    t_rest: float = 150 * ms
    """Silent time after each presentation [s]."""
    dt: float = 0.5 * ms
    """Time step [s]."""
    w_max: float = 100 * pA
    """Upper bound of the plastic weights [A]."""
    w_total: float = 1000 * pA
    """Sum of each excitatory neuron's incoming weights after normalization [A]."""
    a_plus: float = 0.005
    """Potentiation per post spike at unit pre trace, in units of ``w_max``."""
    a_minus: float = 0.005
    """Depression per pre spike at unit post trace, in units of ``w_max``."""
    tau_plus: float = 20 * ms
    """Presynaptic trace time constant [s]."""
    tau_minus: float = 20 * ms
    """Postsynaptic trace time constant [s]."""
    pairing: str = "all"
    """STDP pairing, ``"nearest"`` (traces reset to 1 per spike) or ``"all"`` (traces add 1)."""
    dependence: str = "multiplicative"
    """STDP weight dependence, ``"multiplicative"`` (soft bounds) or ``"additive"``."""
    beta_adapt: float = 0.2 * mV
    """Threshold rise per excitatory spike (the paper's theta increment) [V]."""
    tau_adapt: float = 1e4
    """Decay of the adaptive threshold [s] (the paper: 1e7 ms, i.e. practically none)."""
    w_exc_inh: float = 12 * nA
    """Excitatory -> inhibitory weight [A] (one spike makes the partner fire)."""
    w_inh_exc: float = -3 * nA
    """Inhibitory -> excitatory weight [A] (negative: inhibition)."""

    def __post_init__(self) -> None:
        if isinstance(self.n_exc, bool) or not isinstance(self.n_exc, (int, np.integer)) or self.n_exc < 2:
            raise ValueError(f"n_exc must be an integer >= 2, got {self.n_exc!r}")
        for name in ("max_rate", "t_present", "dt", "w_max", "w_total", "a_plus", "tau_plus", "tau_minus",
                     "tau_adapt", "w_exc_inh"):
            v = getattr(self, name)
            if not (np.isfinite(v) and v > 0):
                raise ValueError(f"{name} must be finite and > 0, got {v!r}")
        for name in ("rate_step", "t_rest", "a_minus", "beta_adapt"):
            v = getattr(self, name)
            if not (np.isfinite(v) and v >= 0):
                raise ValueError(f"{name} must be finite and >= 0, got {v!r}")
        if not (np.isfinite(self.w_inh_exc) and self.w_inh_exc <= 0):
            raise ValueError(f"w_inh_exc must be finite and <= 0 (inhibition), got {self.w_inh_exc!r}")
        for name in ("min_spikes", "max_repeats"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 0:
                raise ValueError(f"{name} must be an integer >= 0, got {v!r}")
        if self.w_total > N_INPUTS * self.w_max:
            raise ValueError(f"w_total must be <= {N_INPUTS} * w_max, got {self.w_total!r}")

    def exc_neuron(self, thresholds: np.ndarray | None = None) -> LIFParams:
        """Excitatory neuron: ALIF while learning, LIF with fixed ``thresholds`` [V] when frozen."""
        common = dict(tau_mem=100 * ms, c_mem=250 * pF, v_rest=-65 * mV, v_reset=-65 * mV, t_ref=5 * ms,
                      tau_syn_e=1 * ms, tau_syn_i=2 * ms)
        if thresholds is None:
            return ALIFParams(v_threshold=V_TH_EXC, tau_adapt=self.tau_adapt, beta_adapt=self.beta_adapt, **common)
        return LIFParams(v_threshold=np.asarray(thresholds, dtype=np.float64), **common)

    @staticmethod
    def inh_neuron() -> LIFParams:
        """Inhibitory neuron (fast; driven one to one by its excitatory partner)."""
        return LIFParams(tau_mem=10 * ms, c_mem=250 * pF, v_rest=-60 * mV, v_reset=-45 * mV,
                         v_threshold=-40 * mV, t_ref=2 * ms, tau_syn_e=1 * ms, tau_syn_i=2 * ms)

    def rule(self) -> STDP:
        """The plastic input projection's rule (amplitudes in amperes)."""
        return STDP(a_plus=self.a_plus * self.w_max, a_minus=self.a_minus * self.w_max, tau_plus=self.tau_plus,
                    tau_minus=self.tau_minus, w_min=0.0, w_max=self.w_max, dependence=self.dependence,
                    pairing=self.pairing)


def load_digits_split(n_train: int | None = None, n_test: int | None = None):
    """The fixed stratified split of scikit-learn's digits: 1200 training and 597 test samples.

    Parameters
    ----------
    n_train, n_test : int, optional
        Keep only the first ``n_train`` (``n_test``) samples of the shuffled split.

    Returns
    -------
    tuple of numpy.ndarray
        ``(x_train, y_train, x_test, y_test)``; images flattened to 64 values in [0, 16].

    Raises
    ------
    ImportError
        When scikit-learn (the ``datasets`` extra) is not installed.
    ValueError
        When ``n_train`` or ``n_test`` is not an integer in ``[1, split size]``.
    """
    load_digits = require("datasets", "sklearn.datasets", "the Diehl & Cook digits task").load_digits
    train_test_split = require("datasets", "sklearn.model_selection", "the Diehl & Cook digits task").train_test_split
    data = load_digits()
    x, y = data.data.astype(np.float64), data.target.astype(np.int64)
    x_tr, x_te, y_tr, y_te = train_test_split(x, y, test_size=N_TEST_SPLIT, stratify=y, random_state=SPLIT_SEED)
    for name, n, size in (("n_train", n_train, y_tr.size), ("n_test", n_test, y_te.size)):
        if n is not None and (isinstance(n, bool) or not isinstance(n, (int, np.integer)) or not 1 <= n <= size):
            raise ValueError(f"{name} must be an integer in [1, {size}] or None, got {n!r}")
    if n_train is not None:
        x_tr, y_tr = x_tr[:n_train], y_tr[:n_train]
    if n_test is not None:
        x_te, y_te = x_te[:n_test], y_te[:n_test]
    return x_tr, y_tr, x_te, y_te


class DiehlCook:
    """The network, in learning mode (plastic, adaptive) or frozen (for labelling and testing).

    Parameters
    ----------
    params : DiehlCookParams
        Network and protocol parameters.
    seed : int
        Network seed (initial weights and Poisson inputs).
    weights : numpy.ndarray, optional
        ``(n_exc, 64)`` input weights [A]: given, the network is frozen (no plasticity,
        fixed thresholds); omitted, it learns from random initial weights.
    thresholds : numpy.ndarray, optional
        ``(n_exc,)`` fixed thresholds [V] of the frozen network (default: ``-52 mV``).
    device : optional
        Memristive crossbar for the plastic input projection (learning mode only).
    """

    def __init__(self, params: DiehlCookParams, seed: int, weights: np.ndarray | None = None,
                 thresholds: np.ndarray | None = None, device=None):
        p = params
        self.params = p
        self.frozen = weights is not None
        n = p.n_exc
        self.net = Network(dt=p.dt, seed=seed)
        self.inputs = self.net.add(PoissonSource(N_INPUTS, rates=0.0, name="inputs"))
        if self.frozen:
            weights = np.asarray(weights, dtype=np.float64)
            if weights.shape != (n, N_INPUTS):
                raise ValueError(f"weights must have shape ({n}, {N_INPUTS}), got {weights.shape}")
            th = np.full(n, V_TH_EXC) if thresholds is None else np.asarray(thresholds, dtype=np.float64)
            if th.shape != (n,):
                raise ValueError(f"thresholds must have shape ({n},), got {th.shape}")
            neuron = p.exc_neuron(th)
        else:
            neuron = p.exc_neuron()
        self.exc = self.net.add(Population(n, neuron, name="exc"))
        self.inh = self.net.add(Population(n, p.inh_neuron(), name="inh"))
        if self.frozen:  # on devices: the learned weights programmed into a fresh crossbar, read with its noise
            self.input_proj = self.net.add(Projection(self.inputs, self.exc, AllToAll(), weights=weights,
                                                      name="input", device=device))
        else:
            rng = np.random.default_rng([seed, 7])
            w0 = rng.uniform(0.0, 0.3, size=(n, N_INPUTS)) * p.w_max
            self.input_proj = self.net.add(Projection(self.inputs, self.exc, AllToAll(), weights=w0,
                                                      plasticity=p.rule(), device=device, name="input"))
            normalize_incoming(self.input_proj, p.w_total)
        self.net.add(Projection(self.exc, self.inh, OneToOne(), weights=p.w_exc_inh, name="exc->inh"))
        pre, post = np.nonzero(~np.eye(n, dtype=bool))
        self.net.add(Projection(self.inh, self.exc, FromArrays(pre, post), weights=p.w_inh_exc, receptor="inh",
                                name="inh->exc"))
        self.monitor = self.net.add(SpikeMonitor(self.exc))
        self._n_present = self.net.steps_of(p.t_present, "t_present")
        self._n_rest = self.net.steps_of(p.t_rest, "t_rest")
        self.presentations = 0

    def present(self, image: np.ndarray) -> tuple[np.ndarray, int]:
        """Show one image (64 values in [0, 16]); repeat it with more input while it draws too few spikes.

        Returns the excitatory spike counts of the last presentation and the number of presentations.
        """
        p = self.params
        rate = p.max_rate
        shown = 0
        while True:
            self._reset_membranes()
            self.monitor.clear()
            self.net.set_rates(self.inputs, np.asarray(image, dtype=np.float64) / 16.0 * rate)
            self.net.run_steps(self._n_present)
            self.net.set_rates(self.inputs, 0.0)
            self.net.run_steps(self._n_rest)
            counts = self.monitor.count()
            shown += 1
            if counts.sum() >= p.min_spikes or shown > p.max_repeats:
                break
            rate += p.rate_step
        self.presentations += shown
        if not self.frozen:
            normalize_incoming(self.input_proj, p.w_total)
        return counts, shown

    def _reset_membranes(self) -> None:
        for pop in (self.exc, self.inh):
            self.net.set_state(pop, "v", pop.neuron.v_rest)
            self.net.set_state(pop, "i_e", 0.0)
            self.net.set_state(pop, "i_i", 0.0)

    def weight_matrix(self) -> np.ndarray:
        """Input weights as a dense ``(n_exc, 64)`` matrix [A] (on a crossbar: read from the devices)."""
        pr = self.input_proj
        if pr.crossbar is None:
            return pr.to_sparse().toarray()
        out = np.zeros((self.params.n_exc, N_INPUTS))
        out[pr.indices, pr.pre_indices()] = pr.crossbar.read_weights()
        return out

    def thresholds(self) -> np.ndarray:
        """Present thresholds of the excitatory neurons [V] (learned: ``v_threshold + beta a``)."""
        if self.frozen:
            return np.asarray(self.exc.neuron.v_threshold, dtype=np.float64).copy()
        a = self.net.get_state(self.exc, "a")
        return V_TH_EXC + self.params.beta_adapt * a

    def responses(self, images: np.ndarray, progress: bool = False) -> np.ndarray:
        """Spike counts ``(n_samples, n_exc)`` for ``images`` shown one after the other."""
        out = np.zeros((len(images), self.params.n_exc), dtype=np.int64)
        bar = _bar(len(images), progress, "frozen" if self.frozen else "training")
        for k, img in enumerate(images):
            out[k] = self.present(img)[0]
            if bar is not None:
                bar.update(1)
        if bar is not None:
            bar.close()
        return out


def _bar(n: int, enabled: bool, desc: str):
    if not enabled:
        return None
    from memr_snn.progress import ProgressBar

    return ProgressBar(n, desc=desc, enabled=True)


def assign_labels(responses: np.ndarray, labels: np.ndarray, n_classes: int = N_CLASSES) -> np.ndarray:
    """Each neuron's class: the one for which its mean response is highest (ties: lowest class).

    Parameters
    ----------
    responses : numpy.ndarray
        ``(n_samples, n_neurons)`` spike counts.
    labels : numpy.ndarray
        ``(n_samples,)`` class of each sample, in ``[0, n_classes)``.
    n_classes : int
        Number of classes.

    Returns
    -------
    numpy.ndarray
        ``(n_neurons,)`` assigned classes.
    """
    responses = np.asarray(responses, dtype=np.float64)
    labels = np.asarray(labels)
    if responses.ndim != 2 or labels.shape != (responses.shape[0],):
        raise ValueError(f"responses must be (n_samples, n_neurons) and labels (n_samples,), got "
                         f"{responses.shape} and {labels.shape}")
    if labels.size and (labels.min() < 0 or labels.max() >= n_classes):
        raise ValueError(f"labels must lie in [0, {n_classes}), got range [{labels.min()}, {labels.max()}]")
    mean = np.zeros((n_classes, responses.shape[1]))
    for c in range(n_classes):
        sel = labels == c
        if np.any(sel):
            mean[c] = responses[sel].mean(axis=0)
    return np.argmax(mean, axis=0)


def classify(responses: np.ndarray, assignments: np.ndarray, n_classes: int = N_CLASSES) -> np.ndarray:
    """Predicted class per sample: the class whose assigned neurons fire most on average.

    Classes without assigned neurons are never predicted.
    """
    responses = np.asarray(responses, dtype=np.float64)
    assignments = np.asarray(assignments)
    if responses.ndim != 2 or assignments.shape != (responses.shape[1],):
        raise ValueError(f"responses must be (n_samples, n_neurons) and assignments (n_neurons,), got "
                         f"{responses.shape} and {assignments.shape}")
    score = np.full((responses.shape[0], n_classes), -np.inf)
    for c in range(n_classes):
        sel = assignments == c
        if np.any(sel):
            score[:, c] = responses[:, sel].mean(axis=1)
    return np.argmax(score, axis=1)


def train_diehl_cook(seed: int = 0, n_exc: int = 100, epochs: int = 2, n_train: int | None = None,
                     n_test: int | None = None, device=None, progress: bool = False,
                     params: DiehlCookParams | None = None) -> dict[str, Any]:
    """Train on the digits without labels, label the neurons, and test.

    Parameters
    ----------
    seed : int
        Network seed (initial weights, Poisson inputs); the data split is fixed.
    n_exc : int
        Excitatory neurons (overrides ``params.n_exc``).
    epochs : int
        Passes over the training samples (shuffled per epoch with ``seed``).
    n_train, n_test : int, optional
        Use only the first samples of the fixed split (default: all 1200 / 597).
    device : optional
        Memristive crossbar for the plastic input projection.  Reserved: plastic
        crossbar projections are not supported yet, and the projection refuses it.
    progress : bool
        Show progress bars.
    params : DiehlCookParams, optional
        Network and protocol parameters (default: :class:`DiehlCookParams`).

    Returns
    -------
    dict
        ``accuracy`` (test), ``train_accuracy`` (labelling set, frozen network),
        ``confusion`` (10 x 10, rows: true class), ``per_class_correct``, ``per_class_total``,
        ``assignments`` (class of each neuron), ``neurons_per_class``, ``weights`` ((n_exc, 64) [A]),
        ``thresholds`` [V], ``spikes_per_sample`` (mean excitatory spikes per test sample),
        ``repeats`` (mean presentations per sample while training), ``runtime`` [s] and
        ``params``.
    """
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    if isinstance(epochs, bool) or not isinstance(epochs, (int, np.integer)) or epochs < 1:
        raise ValueError(f"epochs must be an integer >= 1, got {epochs!r}")
    if isinstance(n_exc, bool) or not isinstance(n_exc, (int, np.integer)) or n_exc < 2:
        raise ValueError(f"n_exc must be an integer >= 2, got {n_exc!r}")
    params = dataclasses.replace(params or DiehlCookParams(), n_exc=int(n_exc))
    x_tr, y_tr, x_te, y_te = load_digits_split(n_train, n_test)
    t0 = time.perf_counter()
    if device is not None and device.w_max is None:
        # the device range spans [0, w_max / 2]: normalized weights rarely exceed it, and finer pulses result
        # (chosen among w_max/3.3, w_max/2 and w_max on seed 0 -- see docs/learning.md)
        device = dataclasses.replace(device, w_max=params.w_max / 2)
    model = DiehlCook(params, seed=seed, device=device)
    rng = np.random.default_rng([seed, 11])
    for _ in range(epochs):
        model.responses(x_tr[rng.permutation(len(x_tr))], progress=progress)
    repeats = model.presentations / (epochs * len(x_tr))
    weights, thresholds = model.weight_matrix(), model.thresholds()
    t_train = time.perf_counter() - t0
    device_summary = None
    if device is not None:
        from memr_snn.devices import device_report

        rep = device_report(model.net).rows[0]
        cb = model.input_proj.crossbar
        device_summary = {"pulses_per_device_mean": float(np.mean(cb.counts - cb.counts0)),
                          "pulses_per_device_max": int(np.max(cb.counts - cb.counts0)),
                          "learning_pulses": sum(cb.learning_pulses), "program_pulses": rep.program_pulses,
                          "faulty_devices": rep.faulty_devices, "lifetime_s": rep.lifetime,
                          "energy_j": rep.total_energy}
        weights = np.maximum(weights, 0.0)  # devices read below their reference (spread of G_min) count as 0
    frozen = DiehlCook(params, seed=seed + 1_000_003, weights=weights, thresholds=thresholds, device=device)
    r_tr = frozen.responses(x_tr, progress=progress)
    assignments = assign_labels(r_tr, y_tr)
    r_te = frozen.responses(x_te, progress=progress)
    pred = classify(r_te, assignments)
    confusion = np.zeros((N_CLASSES, N_CLASSES), dtype=np.int64)
    np.add.at(confusion, (y_te, pred), 1)
    return {
        "accuracy": float(np.mean(pred == y_te)),
        "train_accuracy": float(np.mean(classify(r_tr, assignments) == y_tr)),
        "confusion": confusion,
        "per_class_correct": np.diag(confusion).copy(),
        "per_class_total": confusion.sum(axis=1),
        "assignments": assignments,
        "neurons_per_class": np.bincount(assignments, minlength=N_CLASSES),
        "weights": weights,
        "thresholds": thresholds,
        "spikes_per_sample": float(r_te.sum(axis=1).mean()),
        "repeats": float(repeats),
        "runtime": time.perf_counter() - t0,
        "train_time": t_train,
        "params": params,
        "device": device_summary,
    }
