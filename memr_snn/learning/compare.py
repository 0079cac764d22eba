r"""e-prop versus BPTT on the same recurrent network and the same temporal task.

:mod:`memr_snn.learning.eprop` and :mod:`memr_snn.learning.surrogate` implement the same
discrete-time LIF/ALIF network with a leaky readout, :mod:`memr_snn.learning.snn` (row ``t`` of
every output array is :math:`y[t+1]`, a neuron spikes when :math:`v \ge A`): one
:class:`~memr_snn.learning.snn.RSNNConfig` and one :class:`~memr_snn.learning.snn.Weights` serve
both (there is nothing to convert; the former converters ``eprop_config_to_surrogate`` etc. are
deprecated shims).  This module
trains one initial network on :func:`~memr_snn.learning.eprop.evidence_accumulation` twice
(:func:`eprop_vs_bptt`): with e-prop (:class:`~memr_snn.learning.eprop.EProp`, online
eligibility traces, an approximation of the gradient) and with BPTT through the surrogate
(:func:`~memr_snn.learning.surrogate.train`, the exact gradient of the surrogate model).

What the two runs share: the network (sizes, half LIF and half ALIF neurons, time constants,
pseudo-derivative), the initial weights, the training and test sets, the loss (softmax
cross-entropy at every step of the recall window, summed over the window, averaged over the
minibatch: e-prop's classification loss, ``loss="masked_ce"`` of the surrogate module), the
optimizer (Adam, same learning rate, moment decays and epsilon, one update per minibatch), the
minibatch size and the number of epochs, and the evaluation (decision = argmax of the readout
summed over the recall window, e-prop's ``predict``; the same function scores both).  What
differs besides the gradient: the order of the minibatches (each trainer shuffles with its own
seeded generator), and the firing-rate regulariser, which each module defines its own way
(e-prop: :math:`c_{reg} (r_j[t] - f^*) e_{ji}[t]` every step with the running rate; BPTT: the
exact gradient of :math:`\lambda_r \sum_j (p_j - f^* dt)^2`).  The BPTT strength is set to
:math:`\lambda_r = c_{reg} T / (2\,dt)`, for which both are, to first order (a per-sample rate
close to the batch mean, the running rate close to the final one), the gradient of the same
penalty :math:`\frac{c_{reg} T dt}{2} \sum_j (r_j - f^*)^2` averaged over the batch.
"""

from __future__ import annotations

import dataclasses
import time
import warnings
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from .._validation import check_int_at_least, check_nonnegative, check_positive
from . import eprop as E
from . import surrogate as S
from .snn import RSNNConfig, Weights, init_weights, simulate
from .snn_loss import decide, masked_cross_entropy

__all__ = [
    "decide",
    "evaluate",
    "build_comparison",
    "eprop_vs_bptt",
    "METHODS",
]

METHODS = ("eprop", "bptt")
COMPARED_SURROGATES = ("triangle", "fast_sigmoid")


# --------------------------------------------------------------------------- deprecated converters
def _ff_to_recurrent(w: Weights) -> Weights:
    out = w.copy()
    if out.w_rec is None:
        out.w_rec = np.zeros((np.shape(out.w_in)[0],) * 2)
    return out


#: The former config / weight converters: name -> (argument name, what to use instead, what the shim does).
_CONVERTERS: dict[str, tuple[str, str, Callable[..., Any]]] = {
    "eprop_config_to_surrogate": ("cfg", "use the config itself", lambda cfg: cfg),
    "surrogate_config_to_eprop": ("cfg", "use dataclasses.replace(cfg, recurrent=True, reset_grad=...)",
                                  lambda cfg, *, reset_grad=False: dataclasses.replace(cfg, recurrent=True,
                                                                                       reset_grad=reset_grad)),
    "eprop_weights_to_surrogate": ("w", "use w.copy()", lambda w: w.copy()),
    "surrogate_weights_to_eprop": ("w", "use w.copy() (and w_rec = zeros for a feed-forward network)",
                                   _ff_to_recurrent),
}


def __getattr__(name: str) -> Any:
    """The former converters, kept as deprecated shims: each warns when called and does what it did."""
    if name not in _CONVERTERS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    arg, instead, convert = _CONVERTERS[name]

    def shim(*args: Any, **kw: Any) -> Any:
        warnings.warn(f"memr_snn.learning.compare.{name} is deprecated: there is nothing to convert any more, "
                      "e-prop and BPTT share memr_snn.learning.snn.RSNNConfig and Weights; " + instead,
                      DeprecationWarning, stacklevel=2)
        if len(args) + (arg in kw) != 1:
            raise TypeError(f"{name}() takes one {arg} argument")
        obj = args[0] if args else kw.pop(arg)
        cls = RSNNConfig if arg == "cfg" else Weights
        if not isinstance(obj, cls):
            raise TypeError(f"{arg} must be a memr_snn.learning.snn.{cls.__name__}, got {type(obj).__name__}")
        return convert(obj, **kw)

    shim.__name__ = shim.__qualname__ = name
    shim.__doc__ = f"Deprecated (nothing to convert any more): {instead}."
    return shim


# --------------------------------------------------------------------------- evaluation
def evaluate(cfg: RSNNConfig, w: Weights, x: np.ndarray, labels: np.ndarray, mask: np.ndarray
             ) -> dict[str, float]:
    """Accuracy (:func:`decide`) and masked cross-entropy (e-prop's loss, no regulariser) of a network.

    Parameters
    ----------
    cfg, w : snn.RSNNConfig, snn.Weights
        The network.
    x : ndarray, shape (N, T, n_in)
    labels : ndarray, shape (N,)
    mask : ndarray, shape (T,), bool

    Returns
    -------
    dict
        ``accuracy`` (fraction), ``loss`` (summed over the mask steps, mean over samples), ``rate`` [Hz].
    """
    rec = simulate(cfg, w, x)
    y = rec["y"]
    return {"accuracy": float(np.mean(decide(y, mask) == np.asarray(labels))),
            "loss": masked_cross_entropy(y, labels, np.asarray(mask, dtype=bool))[0],
            "rate": float(rec["z"].mean() / cfg.dt)}


# --------------------------------------------------------------------------- the comparison
@dataclasses.dataclass
class _Setup:
    cfg: RSNNConfig
    w0: Weights
    x_tr: np.ndarray
    y_tr: np.ndarray
    x_te: np.ndarray
    y_te: np.ndarray
    mask: np.ndarray

    @property
    def scfg(self) -> RSNNConfig:
        """Deprecated: the BPTT twin of ``cfg``, now ``cfg`` itself."""
        warnings.warn("build_comparison(...).scfg is deprecated: both trainers use .cfg", DeprecationWarning,
                      stacklevel=2)
        return self.cfg


def build_comparison(seed: int = 0, *, n_rec: int = 40, n_adaptive: int | None = None, n_train: int = 512,
                     n_test: int = 256, beta: float = 0.1, tau_adapt: float = 500e-3, w_in_scale: float = 2.0,
                     w_rec_scale: float = 0.5, surrogate: str = "triangle", task_kwargs: dict | None = None
                     ) -> _Setup:
    """The network, initial weights and data of :func:`eprop_vs_bptt` (the same as
    :func:`~memr_snn.learning.eprop.train_eprop_task` for equal arguments).

    Returns an object with ``cfg`` (the network, trained by both), ``w0`` (initial weights),
    ``x_tr, y_tr, x_te, y_te`` and ``mask`` (the recall window).
    """
    seed = check_int_at_least("seed", seed, 0)
    n_rec = check_int_at_least("n_rec", n_rec, 1)
    n_adaptive = n_rec // 2 if n_adaptive is None else check_int_at_least("n_adaptive", n_adaptive, 0)
    if n_adaptive > n_rec:
        raise ValueError(f"n_adaptive must be <= n_rec={n_rec}, got {n_adaptive}")
    check_nonnegative("beta", beta)
    if surrogate not in COMPARED_SURROGATES:
        raise ValueError(f"surrogate must be one of {list(COMPARED_SURROGATES)}, got {surrogate!r}")
    if task_kwargs is not None and not isinstance(task_kwargs, dict):
        raise ValueError(f"task_kwargs must be a dict or None, got {task_kwargs!r}")
    kw = dict(task_kwargs or {})
    x_tr, y_tr, mask = E.evidence_accumulation(n_train, 2 * seed, **kw)
    x_te, y_te, _ = E.evidence_accumulation(n_test, 2 * seed + 1, **kw)
    betas = tuple([0.0] * (n_rec - n_adaptive) + [float(beta)] * n_adaptive)
    cfg = RSNNConfig(n_in=x_tr.shape[2], n_rec=n_rec, n_out=2, tau_adapt=tau_adapt, beta=betas,
                     dt=kw.get("dt", 1e-3), surrogate=surrogate, slope=10.0)
    w0 = init_weights(cfg, seed, scheme="bellec2020", in_gain=w_in_scale, rec_gain=w_rec_scale)
    return _Setup(cfg, w0, x_tr, y_tr, x_te, y_te, mask)


def eprop_vs_bptt(seed: int = 0, *, n_rec: int = 40, n_adaptive: int | None = None, n_train: int = 512,
                  n_test: int = 256, epochs: int = 4, batch_size: int = 32, lr: float = 5e-3, beta: float = 0.1,
                  tau_adapt: float = 500e-3, w_in_scale: float = 2.0, w_rec_scale: float = 0.5,
                  c_reg: float = 1e-4, f_target: float = 10.0, feedback: str = "symmetric",
                  surrogate: str = "triangle", task_kwargs: dict | None = None,
                  methods: Sequence[str] = METHODS, progress: Callable[[str, int], None] | None = None
                  ) -> dict[str, Any]:
    """Train one initial network with e-prop and with BPTT on the same evidence-accumulation data.

    The defaults are those of :func:`~memr_snn.learning.eprop.train_eprop_task` (the e-prop run
    is that function's run for equal arguments) except ``epochs`` (``n_epochs`` there, default 2).
    The module docstring lists what the two runs share and what differs.

    Parameters
    ----------
    seed : int
        Seed of the data (training set ``2 seed``, test set ``2 seed + 1``), the initial weights,
        the minibatch order and e-prop's random feedback matrix.
    n_rec, n_adaptive : int
        Recurrent neurons, of which ``n_adaptive`` (default half) are ALIF, the rest LIF.
    n_train, n_test : int
        Training and test trials.
    epochs, batch_size : int
        Passes over the training set; trials per Adam update.
    lr : float
        Adam learning rate (both).
    beta, tau_adapt : float
        Adaptation strength of the ALIF neurons [1] and its time constant [s].
    w_in_scale, w_rec_scale : float
        Initial weight gains ``in_gain``, ``rec_gain`` of
        ``snn.init_weights(..., scheme="bellec2020")`` (:func:`~memr_snn.learning.snn.init_weights`).
    c_reg, f_target : float
        e-prop's rate regularisation and target rate [Hz]; BPTT uses ``rate_reg = c_reg T / (2 dt)``
        with the same target (0 switches both off).
    feedback : {"symmetric", "random"}
        e-prop's learning-signal weights.
    surrogate : {"triangle", "fast_sigmoid"}
        Pseudo-derivative of both.
    task_kwargs : dict, optional
        Arguments of :func:`~memr_snn.learning.eprop.evidence_accumulation`.
    methods : sequence of {"eprop", "bptt"}
        Which runs to do.
    progress : callable, optional
        ``progress(method, epoch)`` after every training epoch of each run (e.g. to advance a
        progress bar).

    Returns
    -------
    dict
        ``{"seed", "config" (e-prop), "surrogate_config", "T", "chance", "init" (test accuracy, loss,
        rate of the initial network), "eprop": {...}, "bptt": {...}, "difference"
        (eprop - bptt test accuracy, when both ran)}``; each run holds ``test_accuracy``,
        ``train_accuracy``, ``test_loss`` (final), ``rate`` [Hz] on the test set, ``curve``
        (per epoch: ``train_loss`` as the trainer reports it, the mean over the epoch's
        minibatches (BPTT's includes its regulariser), ``test_loss``, ``test_accuracy``),
        ``train_time`` [s] (training only, evaluation excluded) and ``weights`` (e-prop layout).
    """
    epochs = check_int_at_least("epochs", epochs, 1)
    batch_size = check_int_at_least("batch_size", batch_size, 1)
    check_positive("lr", lr)
    check_nonnegative("c_reg", c_reg)
    check_nonnegative("f_target", f_target, "Hz")
    methods = tuple(methods)
    if not methods or any(m not in METHODS for m in methods):
        raise ValueError(f"methods must be a non-empty sequence of {list(METHODS)}, got {methods!r}")
    setup = build_comparison(seed, n_rec=n_rec, n_adaptive=n_adaptive, n_train=n_train, n_test=n_test, beta=beta,
                             tau_adapt=tau_adapt, w_in_scale=w_in_scale, w_rec_scale=w_rec_scale,
                             surrogate=surrogate, task_kwargs=task_kwargs)
    cfg, mask = setup.cfg, setup.mask
    nt = setup.x_tr.shape[1]
    out: dict[str, Any] = {"seed": int(seed), "config": cfg, "surrogate_config": cfg, "T": nt,
                           "chance": float(max(np.mean(setup.y_te), 1 - np.mean(setup.y_te))),
                           "init": evaluate(cfg, setup.w0, setup.x_te, setup.y_te, mask)}
    n_batches = -(-setup.x_tr.shape[0] // batch_size)

    def _finish(res: dict[str, Any], w: Weights) -> dict[str, Any]:
        te = evaluate(cfg, w, setup.x_te, setup.y_te, mask)
        res.update(test_accuracy=te["accuracy"], test_loss=te["loss"], rate=te["rate"],
                   train_accuracy=evaluate(cfg, w, setup.x_tr, setup.y_tr, mask)["accuracy"], weights=w.copy())
        return res

    if "eprop" in methods:
        learner = E.EProp(cfg, setup.w0, task="classification", feedback=feedback, lr=lr, c_reg=c_reg,
                          f_target=f_target, seed=seed)
        curve: list[dict[str, float]] = []
        eval_time = 0.0

        def on_batch(epoch: int, k: int, lr_: E.EProp) -> None:
            nonlocal eval_time
            if k == n_batches - 1:
                t = time.perf_counter()
                te = evaluate(cfg, lr_.w, setup.x_te, setup.y_te, mask)
                curve.append({"test_loss": te["loss"], "test_accuracy": te["accuracy"]})
                eval_time += time.perf_counter() - t
                if progress is not None:
                    progress("eprop", epoch)

        t0 = time.perf_counter()
        hist = learner.train(setup.x_tr, setup.y_tr, mask, batch_size=batch_size, n_epochs=epochs, seed=seed,
                             callback=on_batch)
        train_time = time.perf_counter() - t0 - eval_time
        losses = np.asarray(hist["loss"]).reshape(epochs, n_batches)
        for c, row in zip(curve, losses, strict=True):
            c["train_loss"] = float(row.mean())
        out["eprop"] = _finish({"curve": curve, "train_time": train_time}, learner.w)

    if "bptt" in methods:
        w = setup.w0.copy()
        curve_b: list[dict[str, float]] = []
        eval_b = 0.0

        def on_epoch(epoch: int, record: dict) -> None:
            nonlocal eval_b
            t = time.perf_counter()
            te = evaluate(cfg, w, setup.x_te, setup.y_te, mask)
            curve_b.append({"train_loss": float(record["loss"]), "test_loss": te["loss"],
                            "test_accuracy": te["accuracy"]})
            eval_b += time.perf_counter() - t
            if progress is not None:
                progress("bptt", epoch)

        t0 = time.perf_counter()
        S.train(cfg, w, setup.x_tr, setup.y_tr, "masked_ce", epochs=epochs, batch_size=batch_size,
                optimizer=S.Adam(lr), seed=seed, mask=mask, rate_reg=c_reg * nt / (2.0 * cfg.dt),
                rate_target=f_target, callback=on_epoch)
        train_time = time.perf_counter() - t0 - eval_b
        out["bptt"] = _finish({"curve": curve_b, "train_time": train_time}, w)

    if "eprop" in out and "bptt" in out:
        out["difference"] = out["eprop"]["test_accuracy"] - out["bptt"]["test_accuracy"]
    return out
