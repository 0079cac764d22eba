"""memr_snn's Vogels–Abbott networks against the same networks in Brian2 and NEST.

Statistical comparison at the benchmark size (N = 4000, 1 s, dt = 0.1 ms): the simulators
draw connectivity and initial states from different random streams, so spike trains are
not comparable, only their statistics.

* Brian2 (cython target; ``memr_snn.peers.run_brian2``), seeds 1-5 in both simulators:
  the network mean rate averaged over the 5 seeds agrees within ``RATE_RTOL_BRIAN2`` (5 %),
  and the per-neuron ISI coefficients of variation (pooled over the 5 seeds, neurons with
  >= 3 spikes) are not distinguishable by the two-sample KS statistic at ``KS_ALPHA``
  (p > 0.01), its p-value taken over seed relabellings because neurons of one network are
  not independent (see the test's docstring).
* NEST (``memr_snn.peers.run_nest``): rates only, with a wider tolerance (see
  ``RATE_RTOL_NEST``), CUBA on 5 seeds, COBA on 2 (NEST's RKF45 COBA costs ~9 s a run).

Every reference run happens once per module: the module-scoped fixtures cache the runs
per model, and memr_snn's own runs are shared between the Brian2 and NEST tests.  The
reference runs are launched concurrently (one subprocess per seed, up to the number of
usable CPUs).  A cold Brian2 Cython cache (``~/.cython``) adds the compilation to the
first runs (measured on a shared 2-core machine: about +60 s for CUBA, +8 s for COBA).
Tests skip with a visible reason where Brian2 or NEST is missing (the ``peers`` extra).
"""

from __future__ import annotations

import functools
import importlib.util
import itertools
import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from memr_snn.networks import coba, cuba
from scipy import stats

from memr_snn.analysis import isi_cv

N_NEURONS = 4000
DURATION = 1.0  # [s]
DT = 1e-4  # [s]
SEEDS = (1, 2, 3, 4, 5)
MIN_SPIKES = 3  # neurons with fewer spikes have no ISI CV

RATE_RTOL_BRIAN2 = 0.05
KS_ALPHA = 0.01

#: NEST seeds per model (COBA: iaf_cond_exp with GSL's RKF45 takes ~9 s a run).
NEST_SEEDS = {"cuba": (1, 2, 3, 4, 5), "coba": (1, 2)}
#: Relative tolerance of |mean rate NEST - mean rate memr_snn| / mean rate memr_snn.
#:
#: Systematic part: NEST's minimum delay puts every synaptic event one step (0.1 ms) later
#: than Brian2 / memr_snn, thresholds with ``>=``, and integrates COBA with adaptive RKF45
#: instead of a fixed-step scheme; measured over 10 (CUBA) and 4 (COBA) NEST seeds against
#: 60 memr_snn seeds these shift the mean rate by +1.4 % (CUBA: 5.70 vs 5.62 Hz) and
#: -0.7 % (COBA: 19.05 vs 19.19 Hz); allow 2 %.
#: Statistical part: the rate of one seed (one network realisation) scatters with a
#: relative sd s of ~4 % (CUBA: 3.9 % memr_snn, 3.8 % Brian2, 4.4 % NEST) and ~6 % (COBA:
#: 6.5 % memr_snn, 5.7 % Brian2, 4.6 % NEST) between seeds, so the difference of a NEST mean
#: over k seeds and a memr_snn mean over 5 seeds has a relative sd of sqrt(s^2/k + s^2/5):
#: 2.5 % for CUBA (k = 5), 5.0 % for COBA (k = 2).  Three of these plus the 2 % systematic
#: allowance give 10 % (CUBA) and 17 % (COBA: wide, it catches only gross errors in the
#: conductance model, weights or reversal potentials).
RATE_RTOL_NEST = {"cuba": 0.10, "coba": 0.17}

MODELS = ("cuba", "coba")
#: the Brian2 comparisons also run memr_snn's COBA with the peer's own method, forward Euler
#: (``coba_euler``: memr_snn's ``LIFCondParams(integration="euler")`` against the same Brian2 runs as ``coba``)
BRIAN2_MODELS = ("cuba", "coba", "coba_euler")
_BUILD = {"cuba": cuba, "coba": coba, "coba_euler": functools.partial(coba, integration="euler")}
#: the Brian2 network of each memr_snn model (Brian2's COBA integrates with forward Euler)
_BRIAN2_NET = {"cuba": "cuba", "coba": "coba", "coba_euler": "coba"}


def _workers(n_jobs: int) -> int:
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        cpus = os.cpu_count() or 1
    return max(1, min(n_jobs, cpus))


def _run_concurrently(fn, seeds) -> dict:
    """``{seed: fn(seed)}``; each ``fn`` starts its own subprocess, so threads suffice."""
    with ThreadPoolExecutor(max_workers=_workers(len(seeds))) as pool:
        return dict(zip(seeds, pool.map(fn, seeds), strict=True))


class _Runs:
    """Spike statistics of one model over several seeds in one simulator."""

    def __init__(self, rates: dict, cvs: dict):
        self.rates = rates  # seed -> mean rate [Hz]
        self.cvs = cvs  # seed -> ISI CVs of neurons with >= MIN_SPIKES spikes

    @property
    def mean_rate(self) -> float:
        return float(np.mean(list(self.rates.values())))

    @property
    def pooled_cv(self) -> np.ndarray:
        return np.concatenate([self.cvs[s] for s in sorted(self.cvs)])

    def describe(self) -> str:
        per_seed = ", ".join(f"{s}: {r:.3f}" for s, r in sorted(self.rates.items()))
        return f"mean {self.mean_rate:.4f} Hz ({per_seed})"


def _peer_runs(results: dict) -> _Runs:
    return _Runs(
        {s: r.mean_rate for s, r in results.items()},
        {s: isi_cv(r.spike_times, r.spike_indices, MIN_SPIKES) for s, r in results.items()},
    )


@pytest.fixture(scope="module")
def memr_runs():
    """``get(model)``: memr_snn's runs of ``model`` over ``SEEDS``, cached for the module."""
    cache: dict[str, _Runs] = {}

    def get(model: str) -> _Runs:
        if model not in cache:
            rates, cvs = {}, {}
            for seed in SEEDS:
                va = _BUILD[model](n=N_NEURONS, seed=seed, dt=DT)
                va.net.run(DURATION)
                t, i = va.spikes()
                rates[seed] = va.mean_rate()
                cvs[seed] = isi_cv(t, i, MIN_SPIKES)
            cache[model] = _Runs(rates, cvs)
        return cache[model]

    return get


@pytest.fixture(scope="module")
def brian2_runs():
    """``get(model)``: Brian2 (cython) runs of ``model`` over ``SEEDS``, once per module."""
    pytest.importorskip("brian2", reason="brian2 is not installed (pip install '.[peers]')")
    from memr_snn.peers import run_brian2

    cache: dict[str, _Runs] = {}

    def get(model: str) -> _Runs:
        peer = _BRIAN2_NET[model]
        if peer not in cache:
            results = _run_concurrently(
                lambda seed: run_brian2(peer, N_NEURONS, DURATION, seed=seed, dt=DT, target="cython"),
                SEEDS,
            )
            cache[peer] = _peer_runs(results)
        return cache[peer]

    return get


@pytest.fixture(scope="module")
def nest_runs():
    """``get(model)``: NEST runs of ``model`` over ``NEST_SEEDS[model]``, once per module."""
    # find_spec, not importorskip: NEST runs only in the worker subprocess, and importing
    # it here would start a NEST kernel (and print its banner) inside the test process.
    if importlib.util.find_spec("nest") is None:
        pytest.skip("nest is not installed (pip install '.[peers]')")
    from memr_snn.peers import run_nest

    cache: dict[str, _Runs] = {}

    def get(model: str) -> _Runs:
        if model not in cache:
            results = _run_concurrently(
                lambda seed: run_nest(model, N_NEURONS, DURATION, seed=seed, dt=DT),
                NEST_SEEDS[model],
            )
            cache[model] = _peer_runs(results)
        return cache[model]

    return get


@pytest.mark.brian2
@pytest.mark.parametrize("model", BRIAN2_MODELS)
def test_mean_rate_matches_brian2(model, memr_runs, brian2_runs):
    ref = brian2_runs(model)
    ours = memr_runs(model)
    rel = abs(ours.mean_rate - ref.mean_rate) / ref.mean_rate
    assert rel <= RATE_RTOL_BRIAN2, (
        f"{model}: mean rate differs by {100 * rel:.2f} % (> {100 * RATE_RTOL_BRIAN2:.0f} %)\n"
        f"  memr_snn {ours.describe()}\n  Brian2   {ref.describe()}"
    )


@pytest.mark.brian2
@pytest.mark.parametrize("model", BRIAN2_MODELS)
def test_isi_cv_distribution_matches_brian2(model, memr_runs, brian2_runs):
    """Two-sample KS statistic of the pooled ISI CVs, with a seed-level permutation p-value.

    Neurons of one network realisation are not independent samples: the per-seed mean CV
    scatters ~3x more than the neuron count predicts (measured over 60 seeds), so scipy's
    asymptotic KS p-value, which assumes independent neurons, rejects even two disjoint
    seed sets of the *same* simulator (p < 0.01 in 47 % (CUBA) and 58 % (COBA) of 66
    memr_snn-vs-memr_snn pairs).  The independent units are the seeds, so the null
    distribution of D comes from relabelling seeds: every split of the 10 runs into two
    groups of 5 (252 splits) gives a pooled KS D; p is the fraction of splits whose D is at
    least the observed one.
    """
    ours_runs, ref_runs = memr_runs(model), brian2_runs(model)
    ours, ref = ours_runs.pooled_cv, ref_runs.pooled_cv
    # a few thousand neurons per seed have >= 3 spikes at these rates (5-20 Hz)
    assert ours.size > 1000 * len(SEEDS) and ref.size > 1000 * len(SEEDS)
    observed = stats.ks_2samp(ours, ref).statistic
    units = [ours_runs.cvs[s] for s in sorted(ours_runs.cvs)] + [ref_runs.cvs[s] for s in sorted(ref_runs.cvs)]
    n = len(units)
    null = []
    for group in itertools.combinations(range(n), n // 2):
        a = np.concatenate([units[k] for k in group])
        b = np.concatenate([units[k] for k in range(n) if k not in group])
        null.append(stats.ks_2samp(a, b).statistic)
    p_perm = float(np.mean(np.asarray(null) >= observed - 1e-12))
    assert p_perm > KS_ALPHA, (
        f"{model}: ISI CV distributions differ (KS D = {observed:.4f}, seed-permutation "
        f"p = {p_perm:.3g} <= {KS_ALPHA}; null D median {np.median(null):.4f})\n"
        f"  memr_snn: {ours.size} neurons, mean CV {ours.mean():.4f}, "
        f"quartiles {np.round(np.quantile(ours, [0.25, 0.5, 0.75]), 4)}\n"
        f"  Brian2:   {ref.size} neurons, mean CV {ref.mean():.4f}, "
        f"quartiles {np.round(np.quantile(ref, [0.25, 0.5, 0.75]), 4)}"
    )


@pytest.mark.nest
@pytest.mark.parametrize("model", MODELS)
def test_mean_rate_matches_nest(model, memr_runs, nest_runs):
    ref = nest_runs(model)
    ours = memr_runs(model)
    rel = abs(ref.mean_rate - ours.mean_rate) / ours.mean_rate
    tol = RATE_RTOL_NEST[model]
    assert rel <= tol, (
        f"{model}: mean rate differs by {100 * rel:.2f} % (> {100 * tol:.0f} %)\n"
        f"  memr_snn {ours.describe()}\n  NEST     {ref.describe()}"
    )
