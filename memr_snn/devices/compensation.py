r"""Global drift compensation: one scale factor per array from a reference read.

Drift lowers every conductance of a PCM array by roughly the same factor
:math:`(t/t_0)^{-\bar\nu}`, so the outputs of an analog matrix-vector product shrink
together.  Global drift compensation (Le Gallo et al., "Collective structural relaxation
in phase-change memories", Adv. Electron. Mater. 2018; Joshi et al., Nat. Commun. 11,
2473, 2020; AIHWKit ``GlobalDriftCompensation``) measures that factor with the array
itself:

1. right after programming (at the drift reference time :math:`t_0`) read the array
   with an all-ones input and keep the readout
   :math:`r_0 = \max(\langle |y_j(t_0)| \rangle_j, 10^{-30})`, :math:`y = W^\top \mathbf{1}`
   (:meth:`DriftCompensation.calibrate`);
2. at inference time :math:`t` make the same read, :math:`r(t)`, and multiply every
   output by :math:`\alpha(t) = r_0 / r(t)` (:meth:`DriftCompensation.factor`,
   :meth:`DriftCompensation.apply`).

For a uniformly drifted array (one :math:`\nu` for every device, no offset conductance
subtracted) :math:`\alpha` undoes the drift exactly, up to the read noise of the two
reference reads; spread of :math:`\nu` and noise that does not scale with :math:`G` stay.
The reads are the array's own noisy reads, so the factor carries their noise, as on chip.

The class works on any output vector, so an engine that computes the reference read
another way (a dense analog matrix-vector product) uses it the same way; crossbar
projections take ``Crossbar(drift_compensation=True)`` and the state's
:meth:`~memr_snn.devices.CrossbarState.compensate`, which read through
:func:`ones_read`.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from .._validation import check_positive

__all__ = ["DriftCompensation", "ones_read"]

#: smallest readout, so a silent array gives a finite factor (AIHWKit clamps at 1e-4 in its units)
_READOUT_FLOOR = 1e-30


@dataclasses.dataclass
class DriftCompensation:
    """Global drift compensation (module docstring): ``calibrate`` once, then ``factor``/``apply``."""

    reference: float | None = None
    """Readout of the reference read made at programming, or None before :meth:`calibrate`."""

    def __post_init__(self) -> None:
        if self.reference is not None:
            check_positive("reference", self.reference)

    @staticmethod
    def readout(outputs) -> float:
        """Mean absolute output of an all-ones read, floored at 1e-30."""
        y = np.asarray(outputs, dtype=np.float64)
        if y.size == 0 or not np.all(np.isfinite(y)):
            raise ValueError(f"the reference read must be a non-empty finite array, got {y!r}")
        return max(float(np.mean(np.abs(y))), _READOUT_FLOOR)

    def calibrate(self, outputs) -> float:
        """Keep the readout of the reference read ``outputs`` (at programming); returns it."""
        self.reference = self.readout(outputs)
        return self.reference

    def factor(self, outputs) -> float:
        """The compensation factor ``reference / readout(outputs)`` for an all-ones read made now."""
        if self.reference is None:
            raise ValueError("DriftCompensation.factor before calibrate: no reference read yet")
        return self.reference / self.readout(outputs)

    def apply(self, outputs, reference_read) -> np.ndarray:
        """``outputs`` scaled by the factor of the all-ones read ``reference_read`` made at the same time."""
        return np.asarray(outputs, dtype=np.float64) * self.factor(reference_read)


def ones_read(state, t: float) -> np.ndarray:
    """All-ones input read of a crossbar at time ``t`` [s]: the column sums ``y_j = sum_i w_ij`` of the
    weights every row delivers, with read noise and without any compensation factor applied.

    ``state`` is a :class:`~memr_snn.devices.CrossbarState`; its columns are the postsynaptic neurons.
    """
    from ..kernel import crossbar as X
    from ..kernel.reference import read_row_ref

    xf, xi = state.kernel_rows(compensated=False)
    w = np.zeros(state.n_synapses)
    acc = np.zeros((1, X.N_ACC))
    read_row_ref(0, None, 0, state.n_synapses, 1, float(t), xf[None, :], xi[None, :], state.g, state.nu, state.tp,
                 state.rtp, state.tf, state.rft, state.rs, state.gs, acc, w)
    post = np.asarray(state.tiling.post, dtype=np.int64)
    n_post = int(post.max()) + 1 if post.size else 0
    return np.bincount(post, weights=w, minlength=n_post)[np.unique(post)]
