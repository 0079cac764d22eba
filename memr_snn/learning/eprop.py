# Size: about 600 lines because EProp is one ~390-line class: its step, eligibility traces, learning
# signals and (device) updates share the learner's state, and the docstring holds the equations.  Devices
# (eprop_devices.py) and the task data (evidence_task.py) are split off.
r"""e-prop: online learning for recurrent networks of LIF / ALIF neurons with a leaky readout.

Bellec, Scherr, Subramoney, Hajek, Salaj, Legenstein & Maass, "A solution to the learning
dilemma for recurrent networks of spiking neurons", Nat. Commun. 11, 3625 (2020).

Model (discrete time, step ``dt``; :mod:`memr_snn.learning.snn`, shared with the BPTT module)
----------------------------------------------------------------------------------------------
With :math:`\alpha = e^{-dt/\tau_{mem}}`, :math:`\rho = e^{-dt/\tau_{adapt}}`,
:math:`\kappa = e^{-dt/\tau_{out}}` (:math:`\kappa = 0` for ``tau_out = 0``), for step
:math:`t = 0, 1, \dots, T-1` of an input sequence :math:`x[0..T-1]`:

.. math::

    A[t] = v_{th} + \beta a[t], \qquad z[t] = H(v[t] - A[t])

    v[t+1] = \alpha v[t] + W_{in} x[t] + W_{rec} z[t] - v_{th} z[t]   \quad\text{(reset by subtraction)}

    a[t+1] = \rho a[t] + z[t]                                          \quad\text{(ALIF; LIF: } \beta = 0)

    y[t+1] = \kappa y[t] + W_{out} z[t] + b_{out}                      \quad\text{(leaky readout)}

with :math:`v[0] = a[0] = y[0] = 0`.  **Indexing**: the output of step ``t`` (what
:meth:`EProp.step` returns for input ``x[t]``, row ``t`` of every output array) is
:math:`y[t+1]`; ``z[t]`` is emitted during step ``t`` and depends on inputs up to
``x[t-1]``.  Arrays are ``(batch, time, features)`` for sequences and ``(batch, features)``
for one step.  The network is a :class:`memr_snn.learning.snn.RSNNConfig` (``recurrent=True``) with
:class:`memr_snn.learning.snn.Weights`; weights are ``w_in (n_rec, n_in)``, ``w_rec (n_rec, n_rec)`` with a zero
diagonal, ``w_out (n_out, n_rec)``, ``b_out (n_out,)``.

Pseudo-derivative :math:`\psi = \partial z / \partial v`: :func:`memr_snn.learning.snn.pseudo_derivative`
(``surrogate="triangle"`` as in Bellec 2020, ``"fast_sigmoid"`` or ``"sigmoid"``); with the smooth test
mode ``spike="sigmoid"`` (:math:`z = \sigma(k (v - A)/v_{th})`, ``k = sigmoid_k``) :math:`\psi` is its
exact derivative, used for gradient checks.

e-prop (Bellec 2020, Methods)
-----------------------------
Per synapse ``j <- i`` (``i`` over the inputs then the recurrent neurons: the
presynaptic vector of step ``t`` is :math:`p[t] = [x[t], z[t]]`), the eligibility vector
:math:`\epsilon_{ji}[t] = (\epsilon^v, \epsilon^a)` is the derivative of the neuron's own
state :math:`(v_j[t], a_j[t])` with respect to :math:`W_{ji}`, following only the
neuron's own dynamics:

.. math::

    \epsilon^v[t+1] = \alpha\,\epsilon^v[t] + p_i[t]                            \qquad (\bar x_i, \text{the }
    \alpha\text{-filtered presynaptic trace})

    \epsilon^a[t+1] = \psi_j[t]\,\epsilon^v[t] + (\rho - \psi_j[t]\,\beta_j)\,\epsilon^a[t]

    e_{ji}[t] = \psi_j[t]\,(\epsilon^v[t] - \beta_j\,\epsilon^a[t])                 \qquad\text{(LIF: } \psi_j \bar x_i)

and :math:`\epsilon[0] = 0`.  As in the paper the reset term is left out of
:math:`\partial v[t+1] / \partial (v[t], a[t])`; ``reset_grad=True`` keeps it
(:math:`\epsilon^v[t+1] = (\alpha - v_{th}\psi)\epsilon^v + v_{th}\psi\beta\epsilon^a + p_i`), which makes
e-prop exact for networks without recurrent weights also under a smooth forward pass.
Because the readout is leaky, the traces are filtered with :math:`\kappa` like the output:
:math:`\bar e[t+1] = \kappa \bar e[t] + e[t]` (aligned with :math:`y[t+1]`), and likewise
:math:`\bar z` for the readout weights and :math:`\bar 1` for the bias.  With the output
error :math:`\delta_k[t+1] = \partial E / \partial y_k[t+1]` (regression, loss
:math:`\tfrac12 \|y - y^*\|^2`: :math:`y - y^*`; classification, cross-entropy of
:math:`\mathrm{softmax}(y)` with a one-hot target: :math:`\mathrm{softmax}(y) - y^*`,
:func:`memr_snn.learning.snn.masked_cross_entropy`, shared with BPTT) and the
learning signal :math:`L_j = \sum_k B_{jk} \delta_k` (``feedback="symmetric"``:
:math:`B = W_{out}^T`; ``"random"``: a fixed random matrix), the accumulated gradients are

.. math::

    \Delta W_{ji} \mathrel{+}= L_j[t+1]\,\bar e_{ji}[t+1], \qquad
    \Delta W^{out}_{kj} \mathrel{+}= \delta_k[t+1]\,\bar z_j[t+1], \qquad
    \Delta b_k \mathrel{+}= \delta_k[t+1]\,\bar 1[t+1]

averaged over the minibatch, at the steps that carry a target.  The readout rule is the
exact gradient.  The loss is the sum over target-carrying steps of the per-step loss,
averaged over the batch.  Optional firing-rate regularisation (``c_reg > 0``) adds
:math:`c_{reg}\,(r_j[t] - f_{target})\,e_{ji}[t]` at every step, with :math:`r_j[t]` the
neuron's mean rate [Hz] since the last :meth:`EProp.reset_state` (Bellec's rate penalty
with the running rate in place of the final one).

Gradients are turned into weight changes by SGD or Adam every ``update_every`` steps, or
by :meth:`EProp.apply_update` (``update_every=None``: once per sequence in
:meth:`EProp.train`).  With a :class:`DeviceTarget`, the changes of the chosen matrices
are sent to memristive crossbars as signed pulse counts (``dw / dw_per_pulse``, rounded
stochastically or to nearest) through :meth:`memr_snn.devices.CrossbarState.apply_pulses`,
and the weights are read back from the devices.
"""

from __future__ import annotations

import dataclasses
import math
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np

from .._validation import check_finite, check_int_at_least, check_nonnegative, check_positive
from . import snn as _snn

# Split by job: learning on devices (eprop_devices) and the evidence-accumulation task (evidence_task) live in
# their own modules; every name stays importable from here.
from .eprop_devices import MATRICES, ROUNDINGS, DeviceTarget, _choice, _DeviceMatrix, _round  # noqa: F401
from .evidence_task import evidence_accumulation
from .snn import SGD, Adam, TrainingDiverged, Weights, _EPropRSNNConfig, simulate, spike_and_psi
from .snn_loss import decide, masked_cross_entropy

__all__ = [
    "simulate",
    "DeviceTarget",
    "EProp",
    "SURROGATES",
    "evidence_accumulation",
    "train_eprop_task",
]

SURROGATES = _snn.SURROGATES
#: Deprecated: the configuration is :class:`memr_snn.learning.snn.RSNNConfig`.  Calling this name builds one
#: with the former e-prop defaults (``surrogate="triangle"``, ``slope=10``; ``forward=`` is ``spike=``) and a
#: ``DeprecationWarning``; ``isinstance(cfg, eprop.RSNNConfig)`` holds for every ``snn.RSNNConfig``.
RSNNConfig = _EPropRSNNConfig
TASKS = ("regression", "classification")
FEEDBACKS = ("symmetric", "random")
OPTIMIZERS = ("adam", "sgd")


def init_weights(cfg: RSNNConfig, seed: int = 0, *, w_in_scale: float = 1.0, w_rec_scale: float = 1.0,
                 w_out_scale: float = 1.0) -> Weights:
    """Deprecated: :func:`memr_snn.learning.snn.init_weights` with ``scheme="bellec2020"`` and
    ``in_gain=w_in_scale``, ``rec_gain=w_rec_scale``, ``out_gain=w_out_scale`` (the same weights;
    ``w_rec`` is drawn also for a feed-forward ``cfg``, as before)."""
    warnings.warn("memr_snn.learning.eprop.init_weights is deprecated; use memr_snn.learning.snn.init_weights("
                  "cfg, seed, scheme='bellec2020', in_gain=w_in_scale, rec_gain=w_rec_scale, out_gain=w_out_scale) "
                  "(the same weights)", DeprecationWarning, stacklevel=2)
    for name, value in (("w_in_scale", w_in_scale), ("w_rec_scale", w_rec_scale), ("w_out_scale", w_out_scale)):
        check_nonnegative(name, value)
    if not cfg.recurrent:
        cfg = dataclasses.replace(cfg, recurrent=True)
    return _snn.init_weights(cfg, seed, scheme="bellec2020", in_gain=w_in_scale, rec_gain=w_rec_scale,
                             out_gain=w_out_scale)


# --------------------------------------------------------------------------- neuron functions
def pseudo_derivative(cfg: RSNNConfig, v: np.ndarray, thr: np.ndarray) -> np.ndarray:
    """Deprecated: :func:`memr_snn.learning.snn.pseudo_derivative` of ``u = v - thr`` (the same values)."""
    warnings.warn("memr_snn.learning.eprop.pseudo_derivative(cfg, v, thr) is deprecated; use "
                  "memr_snn.learning.snn.pseudo_derivative(cfg, v - thr)", DeprecationWarning, stacklevel=2)
    return _snn.pseudo_derivative(cfg, np.asarray(v, dtype=np.float64) - thr)


def _check_sequence(name: str, x, n: int) -> np.ndarray:
    arr = np.asarray(x, dtype=np.float64)
    if arr.ndim != 3 or arr.shape[2] != n or arr.shape[0] < 1 or arr.shape[1] < 1:
        raise ValueError(f"{name} must have shape (batch, time, {n}), got {arr.shape}")
    check_finite(name, arr)
    return arr


# --------------------------------------------------------------------------- the learner
class EProp:
    """Online e-prop learner for an :class:`RSNNConfig` network (module docstring for the rule).

    Parameters
    ----------
    cfg : RSNNConfig
        The network.
    weights : Weights, optional
        Initial parameters (copied); default ``snn.init_weights(cfg, seed, scheme="bellec2020")``.
    task : {"regression", "classification"}
        Loss: squared error, or cross-entropy of the softmax over the readout.
    feedback : {"symmetric", "random"}
        Learning-signal weights ``B``: ``w_out.T`` (current), or a fixed random matrix
        ``N(0, 1/n_out)`` drawn from ``seed``.
    optimizer : {"adam", "sgd"}
        How accumulated gradients become weight changes.
    lr : float
        Learning rate.
    update_every : int or None
        Apply the accumulated update every this many steps; ``None``: only by
        :meth:`apply_update` (:meth:`train` calls it after each minibatch).
    learn : sequence of str
        Which of ``"w_in"``, ``"w_rec"``, ``"w_out"``, ``"b_out"`` learn.
    c_reg, f_target : float
        Firing-rate regularisation strength and target rate [Hz].
    adam_betas, adam_eps : tuple of float, float
        Adam's moment decays and epsilon.
    device : DeviceTarget, optional
        Learn on memristive crossbars (pulses) instead of float weights.
    dw_quantum : float, optional
        Float weights only: round every change of ``w_in``, ``w_rec``, ``w_out`` to a multiple
        of this (what an ideal linear device does with ``dw_per_pulse = dw_quantum``).
    rounding : {"stochastic", "nearest"}
        Rounding of ``dw_quantum`` (stochastic: seeded by ``seed``).
    seed : int
        Seed of the random feedback matrix, of the default weights and of the rounding.
    """

    def __init__(self, cfg: RSNNConfig, weights: Weights | None = None, *, task: str = "regression",
                 feedback: str = "symmetric", optimizer: str = "adam", lr: float = 1e-3,
                 update_every: int | None = None, learn: Sequence[str] = ("w_in", "w_rec", "w_out", "b_out"),
                 c_reg: float = 0.0, f_target: float = 10.0, adam_betas: tuple[float, float] = (0.9, 0.999),
                 adam_eps: float = 1e-8, device: DeviceTarget | None = None, dw_quantum: float | None = None,
                 rounding: str = "stochastic", seed: int = 0):
        if not isinstance(cfg, _snn.RSNNConfig):
            raise TypeError(f"cfg must be an RSNNConfig, got {cfg!r}")
        if not cfg.recurrent:
            raise ValueError("EProp needs a recurrent config (recurrent=True); give w_rec = 0 for none")
        _choice("task", task, TASKS)
        _choice("feedback", feedback, FEEDBACKS)
        _choice("optimizer", optimizer, OPTIMIZERS)
        check_positive("lr", lr)
        if update_every is not None:
            update_every = check_int_at_least("update_every", update_every, 1)
        learn = tuple(learn)
        for name in learn:
            _choice("learn", name, (*MATRICES, "b_out"))
        check_nonnegative("c_reg", c_reg)
        check_nonnegative("f_target", f_target, "Hz")
        b1, b2 = adam_betas
        for name, b in (("adam_betas[0]", b1), ("adam_betas[1]", b2)):
            if not (0.0 <= b < 1.0):
                raise ValueError(f"{name} must lie in [0, 1), got {b!r}")
        check_positive("adam_eps", adam_eps)
        check_int_at_least("seed", seed, 0)
        if dw_quantum is not None:
            check_positive("dw_quantum", dw_quantum)
        _choice("rounding", rounding, ROUNDINGS)
        if device is not None and not isinstance(device, DeviceTarget):
            raise TypeError(f"device must be a DeviceTarget or None, got {device!r}")
        self.cfg = cfg
        self.w = (weights if weights is not None else _snn.init_weights(cfg, seed, scheme="bellec2020")).copy()
        self.w.validate(cfg)
        self.task, self.feedback, self.optimizer = task, feedback, optimizer
        self.lr, self.update_every, self.learn = float(lr), update_every, learn
        self.c_reg, self.f_target = float(c_reg), float(f_target)
        self.adam_betas, self.adam_eps = (float(b1), float(b2)), float(adam_eps)
        rng = np.random.default_rng([int(seed), 0xFB])
        self.b_random = rng.standard_normal((cfg.n_rec, cfg.n_out)) / math.sqrt(cfg.n_out)
        self._beta = cfg.beta_vec
        self._adaptive = cfg.adaptive
        self._offdiag = ~np.eye(cfg.n_rec, dtype=bool)
        self.grads = {k: np.zeros_like(v) for k, v in self.w.as_dict().items()}
        self.opt: Adam | SGD = Adam(lr, b1, b2, adam_eps) if optimizer == "adam" else SGD(lr)
        """The optimiser (:class:`memr_snn.learning.snn.Adam` or ``SGD``) that turns gradients into changes."""
        self.n_updates = 0
        self.n_steps = 0
        self.pulses = 0
        self.dw_quantum, self.rounding = dw_quantum, rounding
        self._quantum_rng = np.random.default_rng([int(seed), 0x9D])
        self.device = device
        self.crossbars: dict[str, _DeviceMatrix] = {}
        if device is not None:
            self._round_rng = np.random.default_rng([device.seed, 0x9D])
            for i, name in enumerate(device.matrices):
                w = getattr(self.w, name)
                mask = self._offdiag if name == "w_rec" else np.ones(w.shape, dtype=bool)
                self.crossbars[name] = _DeviceMatrix(device.crossbar, w, mask, device.seed * 7 + i, name)
                setattr(self.w, name, self.crossbars[name].read())
        self.reset_state(1)

    # ------------------------------------------------------------------ state
    @property
    def B(self) -> np.ndarray:
        """The feedback matrix of the learning signal, shape ``(n_rec, n_out)``."""
        return self.w.w_out.T if self.feedback == "symmetric" else self.b_random

    def reset_state(self, batch_size: int = 1) -> None:
        """Start new sequences: zero the neurons, readout and all traces (accumulated gradients are kept)."""
        nb = check_int_at_least("batch_size", batch_size, 1)
        cfg = self.cfg
        p = cfg.n_in + cfg.n_rec
        self.batch_size = nb
        self.v = np.zeros((nb, cfg.n_rec))
        self.a = np.zeros((nb, cfg.n_rec))
        self.y = np.zeros((nb, cfg.n_out))
        self.eps_v = np.zeros((nb, cfg.n_rec if cfg.reset_grad else 1, p))
        self.eps_a = np.zeros((nb, cfg.n_rec, p)) if (self._adaptive or cfg.reset_grad) else None
        self.ebar = np.zeros((nb, cfg.n_rec, p))
        self.zbar = np.zeros((nb, cfg.n_rec))
        self.bbar = 0.0
        self.spike_count = np.zeros((nb, cfg.n_rec))
        self.seq_steps = 0
        self.last_e: np.ndarray | None = None

    # ------------------------------------------------------------------ one step
    def _error(self, target_t, y: np.ndarray) -> np.ndarray | None:
        nb, cfg = self.batch_size, self.cfg
        if target_t is None:
            return None
        if self.task == "regression":
            tgt = np.asarray(target_t, dtype=np.float64)
            if tgt.shape == (cfg.n_out,) and nb == 1:
                tgt = tgt[None, :]
            if tgt.shape != (nb, cfg.n_out):
                raise ValueError(f"target_t must have shape ({nb}, {cfg.n_out}), got {tgt.shape}")
            check_finite("target_t", tgt)
            return (y - tgt) / nb
        tgt = np.asarray(target_t)
        if tgt.ndim == 0:
            tgt = tgt[None]
        if tgt.shape != (nb,) or (tgt.size and not np.issubdtype(tgt.dtype, np.integer)):
            raise ValueError(f"target_t must be ({nb},) integer class labels, got shape {tgt.shape} dtype {tgt.dtype}")
        bad = (tgt < 0) | (tgt >= cfg.n_out)
        if np.any(bad):
            raise ValueError(f"target_t must lie in [0, {cfg.n_out - 1}], got {int(tgt[bad][0])}")
        return masked_cross_entropy(y[:, None, :], tgt, validate=False)[1][:, 0]  # dL/dy of this step

    def step(self, x_t, target_t=None, *, learn: bool = True) -> np.ndarray:
        """Advance one time step, accumulate e-prop gradients, apply them when due; return the output.

        Parameters
        ----------
        x_t : array_like, shape (batch, n_in) or (n_in,)
            Input of this step (``(n_in,)`` when the batch size is 1).
        target_t : array_like or None
            Target of this step's output: ``(batch, n_out)`` floats (regression) or
            ``(batch,)`` class labels (classification); ``None``: no learning signal.
        learn : bool
            False: run only the network (no traces, no updates).

        Returns
        -------
        numpy.ndarray
            :math:`y[t+1]`, shape ``(batch, n_out)`` (``(n_out,)`` for a 1-D ``x_t``).
        """
        cfg, w, nb = self.cfg, self.w, self.batch_size
        x = np.asarray(x_t, dtype=np.float64)
        flat = x.ndim == 1
        if flat:
            x = x[None, :]
        if x.shape != (nb, cfg.n_in):
            raise ValueError(f"x_t must have shape ({nb}, {cfg.n_in}) (batch size of the last reset_state), "
                             f"got {np.shape(x_t)}")
        check_finite("x_t", x)
        beta = self._beta
        thr = cfg.v_th + beta * self.a
        z, psi = spike_and_psi(cfg, self.v - thr)
        y = cfg.kappa * self.y + z @ w.w_out.T + w.b_out
        err = self._error(target_t, y)
        if learn:
            self._trace_step(x, z, psi, err)
        self.y = y
        self.v = cfg.alpha * self.v + x @ w.w_in.T + z @ w.w_rec.T - cfg.v_th * z
        self.a = cfg.rho * self.a + z
        self.n_steps += 1
        if learn and self.update_every is not None and self.n_steps % self.update_every == 0:
            self.apply_update()
        return y[0] if flat else y

    def _trace_step(self, x: np.ndarray, z: np.ndarray, psi: np.ndarray, err: np.ndarray | None) -> None:
        """Eligibility traces and gradient accumulation of one step (numpy, vectorised over the batch)."""
        cfg = self.cfg
        kappa, beta = cfg.kappa, self._beta[None, :, None]
        ps = psi[:, :, None]
        # eligibility trace e[t] from the eligibility vector eps[t]
        if self.eps_a is not None:
            e = ps * (self.eps_v - beta * self.eps_a)
        else:
            e = ps * self.eps_v
        self.last_e = e
        self.ebar *= kappa
        self.ebar += e
        self.zbar = kappa * self.zbar + z
        self.bbar = kappa * self.bbar + 1.0
        self.spike_count += z
        self.seq_steps += 1
        g = self.grads
        n_in = cfg.n_in
        if err is not None:
            sig = err @ self.B.T  # learning signal L_j (already divided by the batch size)
            gw = np.einsum("bj,bjp->jp", sig, self.ebar)
            g["w_in"] += gw[:, :n_in]
            g["w_rec"] += gw[:, n_in:]
            g["w_out"] += err.T @ self.zbar
            g["b_out"] += err.sum(axis=0) * self.bbar
        if self.c_reg > 0.0:
            rate = self.spike_count / (self.seq_steps * cfg.dt)
            sig = self.c_reg * (rate - self.f_target) / self.batch_size
            gw = np.einsum("bj,bjp->jp", sig, e)
            g["w_in"] += gw[:, :n_in]
            g["w_rec"] += gw[:, n_in:]
        # eligibility vectors eps[t+1]
        pre = np.concatenate([x, z], axis=1)[:, None, :]
        ev, ea = self.eps_v, self.eps_a
        if cfg.reset_grad:
            new_v = (cfg.alpha - cfg.v_th * ps) * ev + (cfg.v_th * ps * beta) * ea + pre
        else:
            new_v = cfg.alpha * ev + pre
        if ea is not None:
            self.eps_a = ps * ev + (cfg.rho - ps * beta) * ea
        self.eps_v = new_v

    # ------------------------------------------------------------------ updates
    def apply_update(self) -> dict[str, np.ndarray]:
        """Turn the accumulated gradients into weight changes (SGD / Adam), zero them; return the changes."""
        g = self.grads
        g["w_rec"][~self._offdiag] = 0.0
        for name in self.learn:
            if not np.all(np.isfinite(g[name])):
                for arr in g.values():
                    arr[...] = 0.0
                raise TrainingDiverged(
                    f"training diverged: the accumulated gradient of {name} is non-finite at step {self.n_steps} "
                    f"(update {self.n_updates + 1}); the weights are the last finite ones (lower the learning rate)"
                )
        self.n_updates += 1
        changes: dict[str, np.ndarray] = {}
        self.opt.lr = self.lr
        self.opt.tick()
        for name in self.learn:
            dw = self.opt.delta(name, g[name])
            if name == "w_rec":
                dw = np.where(self._offdiag, dw, 0.0)
            if name in self.crossbars:
                cb = self.crossbars[name]
                now = self.n_steps * self.cfg.dt
                self.pulses += cb.apply(dw, self.device.rounding, self._round_rng, now)
                new = cb.read(now)
                changes[name] = new - getattr(self.w, name)
                setattr(self.w, name, new)
            else:
                if self.dw_quantum is not None and name != "b_out":
                    dw = _round(dw / self.dw_quantum, self.rounding, self._quantum_rng) * self.dw_quantum
                if not np.all(np.isfinite(getattr(self.w, name) + dw)):
                    raise TrainingDiverged(
                        f"training diverged: {name} would become non-finite at step {self.n_steps} "
                        f"(update {self.n_updates}); the weights are the last finite ones (lower the learning rate)"
                    )
                changes[name] = dw
                getattr(self.w, name)[...] += dw
        for arr in g.values():
            arr[...] = 0.0
        return changes

    # ------------------------------------------------------------------ sequences
    def _targets_at(self, targets, t: int, mask: np.ndarray | None):
        if targets is None or (mask is not None and not mask[t]):
            return None
        if self.task == "classification" and targets.ndim == 1:
            return targets
        return targets[:, t]

    def _check_targets(self, targets, nb: int, nt: int):
        if targets is None:
            return None
        if self.task == "regression":
            tg = np.asarray(targets, dtype=np.float64)
            if tg.shape != (nb, nt, self.cfg.n_out):
                raise ValueError(f"targets must have shape ({nb}, {nt}, {self.cfg.n_out}), got {tg.shape}")
            check_finite("targets", tg)
            return tg
        tg = np.asarray(targets)
        if tg.shape not in ((nb,), (nb, nt)) or (tg.size and not np.issubdtype(tg.dtype, np.integer)):
            raise ValueError(f"targets must be ({nb},) or ({nb}, {nt}) integer class labels, got shape {tg.shape}")
        if np.any((tg < 0) | (tg >= self.cfg.n_out)):
            raise ValueError(f"targets must lie in [0, {self.cfg.n_out - 1}]")
        return tg

    def _check_mask(self, mask, nt: int) -> np.ndarray | None:
        if mask is None:
            return None
        m = np.asarray(mask)
        if m.shape != (nt,) or m.dtype != bool:
            raise ValueError(f"mask must be a ({nt},) boolean array (steps with a learning signal), got {m.shape}")
        return m

    def run(self, x, targets=None, mask=None, *, learn: bool = True) -> np.ndarray:
        """Run a batch of sequences from a fresh state, learning on-line; return ``y`` (batch, time, n_out).

        ``targets``: regression ``(batch, time, n_out)``; classification ``(batch,)`` (one
        label per sequence) or ``(batch, time)``.  ``mask`` (time,) bool marks the steps
        that carry a learning signal (default: all).  Updates happen every
        ``update_every`` steps; pending gradients are left for :meth:`apply_update`.
        """
        x = _check_sequence("x", x, self.cfg.n_in)
        nb, nt, _ = x.shape
        tg = self._check_targets(targets, nb, nt)
        m = self._check_mask(mask, nt)
        self.reset_state(nb)
        ys = np.zeros((nb, nt, self.cfg.n_out))
        do_learn = learn and (tg is not None or self.c_reg > 0)
        for t in range(nt):
            ys[:, t] = self.step(x[:, t], self._targets_at(tg, t, m), learn=do_learn)
        return ys

    def gradients(self, x, targets, mask=None) -> dict[str, np.ndarray]:
        """The e-prop gradient estimate of one batch (no weight change; pending gradients are kept)."""
        saved = {k: v.copy() for k, v in self.grads.items()}
        every, self.update_every = self.update_every, None
        try:
            for v in self.grads.values():
                v[...] = 0.0
            self.run(x, targets, mask)
            out = {k: v.copy() for k, v in self.grads.items()}
            out["w_rec"][~self._offdiag] = 0.0
        finally:
            self.update_every = every
            for k, v in saved.items():
                self.grads[k][...] = v
        return out

    def loss(self, x, targets, mask=None) -> float:
        """The loss of the module docstring (sum over target steps, mean over the batch), no learning."""
        x = _check_sequence("x", x, self.cfg.n_in)
        nb, nt, _ = x.shape
        tg = self._check_targets(targets, nb, nt)
        m = self._check_mask(mask, nt)
        y = simulate(self.cfg, self.w, x)["y"]
        return _loss(self.task, y, tg, m)

    def predict(self, x, mask=None) -> np.ndarray:
        """Classification: the class with the largest readout summed over ``mask`` steps; regression: ``y``."""
        x = _check_sequence("x", x, self.cfg.n_in)
        y = simulate(self.cfg, self.w, x)["y"]
        if self.task == "regression":
            return y
        return decide(y, self._check_mask(mask, x.shape[1]))

    def train(self, x, targets, mask=None, *, batch_size: int = 32, n_epochs: int = 1, seed: int = 0,
              callback=None) -> dict[str, list]:
        """Minibatch training: every minibatch is run on-line, then :meth:`apply_update` (unless
        ``update_every`` applies updates during the run).

        Returns ``{"loss": [...]}``, the loss of each minibatch during its (learning) run.
        ``callback(epoch, batch_index, learner)`` is called after each minibatch.
        """
        x = _check_sequence("x", x, self.cfg.n_in)
        n, nt, _ = x.shape
        tg = self._check_targets(targets, n, nt)
        m = self._check_mask(mask, nt)
        batch_size = check_int_at_least("batch_size", batch_size, 1)
        n_epochs = check_int_at_least("n_epochs", n_epochs, 1)
        rng = np.random.default_rng([check_int_at_least("seed", seed, 0), 0x7A])
        history: dict[str, list] = {"loss": []}
        for epoch in range(n_epochs):
            order = rng.permutation(n)
            for k, start in enumerate(range(0, n, batch_size)):
                idx = order[start:start + batch_size]
                y = self.run(x[idx], tg[idx], m)
                history["loss"].append(_loss(self.task, y, tg[idx], m))
                if self.update_every is None:
                    self.apply_update()
                if callback is not None:
                    callback(epoch, k, self)
        return history


def _loss(task: str, y: np.ndarray, targets, mask: np.ndarray | None) -> float:
    """The loss of ``y`` (batch, time, n_out): squared error, or :func:`~memr_snn.learning.snn.masked_cross_entropy`."""
    if task == "regression":
        steps = np.arange(y.shape[1]) if mask is None else np.flatnonzero(mask)
        return float(0.5 * np.sum((y[:, steps] - targets[:, steps]) ** 2) / y.shape[0])
    return masked_cross_entropy(y, targets, mask, validate=False)[0]


def train_eprop_task(seed: int = 0, *, n_rec: int = 40, n_adaptive: int | None = None, n_train: int = 512,
                     n_test: int = 256, n_epochs: int = 2, batch_size: int = 32, lr: float = 5e-3,
                     feedback: str = "symmetric", beta: float = 0.1, tau_adapt: float = 500e-3,
                     w_in_scale: float = 2.0, w_rec_scale: float = 0.5, c_reg: float = 1e-4, f_target: float = 10.0,
                     device: DeviceTarget | None = None, task_kwargs: dict | None = None,
                     callback=None) -> dict[str, Any]:
    """Train an ALIF network with e-prop on :func:`evidence_accumulation`; return the results.

    ``n_adaptive`` neurons (default half) are ALIF with ``beta``, the rest LIF.  Training
    and test sets are drawn from ``seed`` (disjoint generator streams).  ``callback(epoch,
    batch_index, learner)``, if given, is called after each minibatch (:meth:`EProp.train`).

    Returns
    -------
    dict
        ``test_accuracy``, ``train_accuracy`` (fractions), ``loss`` (per minibatch),
        ``rate`` (mean firing rate on the test set [Hz]), ``config``, ``weights``, ``learner``.
    """
    seed = check_int_at_least("seed", seed, 0)
    kw = dict(task_kwargs or {})
    x_tr, y_tr, mask = evidence_accumulation(n_train, 2 * seed, **kw)
    x_te, y_te, _ = evidence_accumulation(n_test, 2 * seed + 1, **kw)
    n_adaptive = n_rec // 2 if n_adaptive is None else check_int_at_least("n_adaptive", n_adaptive, 0)
    if n_adaptive > n_rec:
        raise ValueError(f"n_adaptive must be <= n_rec={n_rec}, got {n_adaptive}")
    betas = tuple([0.0] * (n_rec - n_adaptive) + [float(beta)] * n_adaptive)
    cfg = _snn.RSNNConfig(n_in=x_tr.shape[2], n_rec=n_rec, n_out=2, tau_adapt=tau_adapt, beta=betas,
                          dt=kw.get("dt", 1e-3), surrogate="triangle", slope=10.0)
    w0 = _snn.init_weights(cfg, seed, scheme="bellec2020", in_gain=w_in_scale, rec_gain=w_rec_scale)
    learner = EProp(cfg, w0, task="classification", feedback=feedback, lr=lr, c_reg=c_reg, f_target=f_target,
                    device=device, seed=seed)
    hist = learner.train(x_tr, y_tr, mask, batch_size=batch_size, n_epochs=n_epochs, seed=seed, callback=callback)
    test_acc = float(np.mean(learner.predict(x_te, mask) == y_te))
    train_acc = float(np.mean(learner.predict(x_tr, mask) == y_tr))
    z = simulate(cfg, learner.w, x_te)["z"]
    return {"test_accuracy": test_acc, "train_accuracy": train_acc, "loss": hist["loss"],
            "rate": float(z.mean() / cfg.dt), "config": cfg, "weights": learner.w.copy(), "learner": learner,
            "pulses": learner.pulses}


def __getattr__(name: str) -> Any:
    if name == "RSNNWeights":
        warnings.warn("memr_snn.learning.eprop.RSNNWeights is deprecated; use memr_snn.learning.snn.Weights "
                      "(the same class, shared with the BPTT module)", DeprecationWarning, stacklevel=2)
        return Weights
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
