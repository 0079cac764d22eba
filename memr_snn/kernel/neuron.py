"""Per-neuron update kernels under their historical names (the models live in :mod:`memr_snn.kernel.models`).

Each neuron model is a plug-in module of :mod:`memr_snn.kernel.models` (``lif``, ``alif``,
``cond``, ``tsm``) with its parameter packing, its step and its idle/advance functions; the
run loop reaches them through the registry's dispatchers.  This module re-exports the kernels
that tests and other modules import by their names: the current-based (A)LIF step, range
step, k-step closed form (:func:`lif_advance`; its equations are in :mod:`memr_snn.kernel.models.lif`)
and idle test; the conductance-based step with its plain-arithmetic ``exp`` (Padé and polynomial); the TSM step.
"""

from .models.cond import EXP_NEG_MIN, cond_decay, cond_step_one, cond_step_range, exp_neg
from .models.lif import lif_advance, lif_can_idle, lif_step_one, lif_step_range, threshold_of
from .models.tsm import tsm_step_one, tsm_step_range

__all__ = [
    "lif_step_one", "cond_step_one", "lif_step_range", "cond_step_range",
    "lif_advance", "lif_can_idle", "threshold_of", "exp_neg", "cond_decay", "EXP_NEG_MIN",
    "tsm_step_one", "tsm_step_range",
]
