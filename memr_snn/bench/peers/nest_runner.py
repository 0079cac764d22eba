"""Run the Vogels–Abbott CUBA/COBA networks in NEST, each run in a fresh subprocess.

NEST is imported only inside the worker subprocess; importing this module never imports
it.  The network definitions are documented in :mod:`memr_snn.bench.peers`.

Mapping to NEST models (``C_m`` is free: the voltage dynamics do not depend on it):

* CUBA → ``iaf_psc_exp`` with ``C_m = 250 pF``, ``tau_m = 20 ms``, ``E_L = -49 mV``
  (the Brian2 drive ``El``; NEST allows ``E_L`` above ``V_th``), ``V_th = -50 mV``,
  ``V_reset = -60 mV``, ``t_ref = 5 ms``, ``tau_syn_ex/in = 5/10 ms``, ``I_e = 0``.
  Brian2's voltage-valued currents become currents ``I = ge * C_m / tau_m``, so the
  weights are ``1.62 mV * 12.5 nS = 20.25 pA`` and ``-9 mV * 12.5 nS = -112.5 pA``.
  ``V_m`` starts uniform in ``[V_reset, V_th)``.  NEST integrates exactly, like Brian2's
  ``method='exact'``.
* COBA → ``iaf_cond_exp`` with ``C_m = 200 pF`` and ``g_L = C_m / tau_m = 10 nS``, so
  Brian2's conductances (in units of the leak) map to ``g [nS] = 10 * g``: weights
  ``6 nS`` and ``-67 nS`` (negative weights go to the inhibitory port),
  ``E_ex = 0 mV``, ``E_in = -80 mV``, ``E_L = V_reset = -60 mV``, ``V_th = -50 mV``,
  ``t_ref = 5 ms``; initial ``V_m ~ N(-65, 5) mV``, ``g_ex ~ N(40, 15) nS``,
  ``g_in ~ N(200, 120) nS`` (negative draws kept, as in Brian2).  NEST integrates this
  model with GSL's adaptive RKF45, Brian2 with forward Euler at ``dt``.

Known differences from Brian2 (so compare statistics, not spike trains):

* NEST's minimum delay is one step (``delay = dt`` here): a spike emitted in step ``k``
  changes the target's input from step ``k + 2`` on, one step later than Brian2's zero
  delay (in Brian2 the ``on_pre`` runs in step ``k`` after thresholding and affects the
  state update of step ``k + 1``).  memr_snn's delay of one step equals Brian2's zero.
* NEST thresholds with ``V_m >= V_th``; Brian2 with ``v > Vt``.
* NEST stamps a spike at the *end* of its step, ``(k + 1) * dt``; Brian2 at the start,
  ``k * dt``.  The spike times are returned as NEST reports them, converted to seconds.
* Random connectivity and initial values come from NEST's generator seeded with
  ``rng_seed = seed``, so they differ from Brian2's for the same seed.
"""

from __future__ import annotations

from .models import network_config
from .result import PeerResult, _check_common, _run_worker

__all__ = ["run_nest"]


def run_nest(
    model: str,
    n_neurons: int,
    duration: float,
    seed: int,
    dt: float = 1e-4,
    threads: int = 1,
    record_spikes: bool = True,
    timeout: float | None = None,
) -> PeerResult:
    """Simulate a Vogels–Abbott network in NEST in a fresh Python process.

    Parameters
    ----------
    model : {"cuba", "coba"}
        Which benchmark network (see :mod:`memr_snn.bench.peers` and this module's docstring).
    n_neurons : int
        Number of neurons, >= 80; ``pairwise_bernoulli`` with ``p = 80 / n_neurons``,
        autapses allowed (as Brian2's ``connect(p=...)``).
    duration : float
        Simulated time [s].
    seed : int
        NEST ``rng_seed``; must be in ``[1, 2**31 - 1]``.
    dt : float, optional
        Resolution [s]; also the synaptic delay (NEST's minimum).
    threads : int, optional
        ``local_num_threads``.  Results depend on the thread count.
    record_spikes : bool, optional
        If False the spike arrays are empty (``n_spikes`` is still counted).
    timeout : float, optional
        Kill the subprocess after this many seconds [s].

    Returns
    -------
    PeerResult
        ``build_time`` covers ``ResetKernel``, kernel settings, ``Create`` and
        ``Connect``; ``first_run_time`` is ``Prepare + Run + Cleanup`` (what
        ``nest.Simulate`` does); ``run_time`` is ``nest.Run(duration)`` alone
        (``extra["prepare_time"]`` is ``Prepare``); ``compile_time`` is ``None``.
        ``peak_rss`` is the worker process's peak RSS.  Spike times are NEST's
        end-of-step stamps [s].

    Raises
    ------
    ValueError
        For an unknown model, out-of-range size, duration, step, seed or thread count.
    RuntimeError
        If the worker subprocess fails; the message carries its output.

    Examples
    --------
    >>> r = run_nest("cuba", 400, 0.1, seed=1)  # doctest: +SKIP
    >>> r.mean_rate  # doctest: +SKIP
    """
    _check_common(model, n_neurons, duration, seed, dt)
    if not 1 <= seed <= 2**31 - 1:
        raise ValueError(f"seed must be in [1, 2**31 - 1] for NEST's rng_seed, got {seed!r}")
    if int(threads) != threads or threads < 1:
        raise ValueError(f"threads must be an integer >= 1, got {threads!r}")
    config = {
        "mode": "nest",
        **network_config(model, n_neurons),
        "duration": float(duration),
        "dt": float(dt),
        "seed": int(seed),
        "threads": int(threads),
        "record_spikes": bool(record_spikes),
    }
    return _run_worker(config, timeout)
