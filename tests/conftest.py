"""Shared test configuration: hypothesis profiles and small fixtures.

Hypothesis profiles (numpy ``conftest.py`` pattern):

* ``ci`` (default): ``deadline=None`` because the first call of a numba kernel
  compiles it (seconds), and ``derandomize=True`` so that every run of the suite
  draws the same examples;
* ``dev``: randomised, more examples, for hunting bugs locally
  (``HYPOTHESIS_PROFILE=dev pytest``);
* ``fuzz``: randomised, used by ``make fuzz``; the fuzzers in ``tests/reliability`` scale their
  example budget up 40x under it (see ``tests/reliability/harness.py``).
"""

from __future__ import annotations

import os

import numpy as np
import pytest
from hypothesis import HealthCheck, settings

import memr_snn.kernel



def pytest_configure(config: pytest.Config) -> None:
    """numba caches each kernel keyed on its own file, but the kernels inline their siblings: drop the compiled
    cache when any kernel source changed (importing memr_snn.kernel only warns, it never deletes).  Done once,
    by the controlling process, before pytest-xdist's workers start compiling into the same cache."""
    if not hasattr(config, "workerinput"):
        memr_snn.kernel.clear_stale_cache()

settings.register_profile(
    "ci",
    deadline=None,
    derandomize=True,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile(
    "dev",
    deadline=None,
    max_examples=200,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile(
    "fuzz",
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture
def rng() -> np.random.Generator:
    """A fresh, seeded generator per test (function scope: no state leaks between tests)."""
    return np.random.default_rng(20240613)


def global_spikes(net, monitors) -> tuple[np.ndarray, np.ndarray]:
    """(steps, global ids) of the spikes recorded by one SpikeMonitor per population.

    ``monitors`` maps each population to its SpikeMonitor; the result is sorted
    by step, then global index (the order the kernel records them in).
    """
    sim = net._ensure_built()
    steps, gids = [], []
    for k, pop in enumerate(net.populations):
        mon = monitors.get(pop.name)
        if mon is None:
            continue
        steps.append(mon.steps)
        gids.append(mon.i + int(sim.pop_lo[k]))
    if not steps:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    s, g = np.concatenate(steps), np.concatenate(gids)
    order = np.lexsort((g, s))
    return s[order], g[order]


@pytest.fixture
def spikes_of():
    """The :func:`global_spikes` helper, as a fixture (conftest is not importable as a module)."""
    return global_spikes


# --------------------------------------------------------------------------- random networks
#
# A network *spec* is a plain dict of concrete numbers (so hypothesis can print
# and shrink it, and two builds of one spec are identical networks):
#
#   {"dt": float, "seed": int,
#    "pops": [{"kind": "lif"|"alif"|"cond"|"tsm", "n": int, "params": {field: float|list},
#              "initial": {var: list} | None},
#             {"kind": "poisson", "n": int, "rates": list | list of lists, "rate_interval": float|None},
#             {"kind": "spikes", "n": int, "times": list, "indices": list}],
#    "projs": [{"pre": int, "post": int, "conn": tuple, "weight": tuple, "delay": int | tuple,
#               "receptor": "exc"|"inh"}]}
#
# conn: ("prob", p, autapses) | ("indeg", k, autapses) | ("arrays", pre, post) | ("all",) | ("one",)
# weight: ("const", w) | ("uniform", lo, hi)  (drawn from the network's projection rng)
# delay: int | ("random", lo, hi)  (per synapse, drawn from the network's projection rng)


def build_network(spec, engine="auto", spike_monitors=True):
    """Build the network a spec describes; returns ``(net, populations, {name: SpikeMonitor})``."""
    from memr_snn import (
        ALIFParams,
        AllToAll,
        FixedInDegree,
        FixedProbability,
        FromArrays,
        LIFCondParams,
        LIFParams,
        Network,
        OneToOne,
        PoissonSource,
        Population,
        Projection,
        SpikeMonitor,
        SpikeSource,
        TSMNeuronParams,
    )

    models = {"lif": LIFParams, "alif": ALIFParams, "cond": LIFCondParams, "tsm": TSMNeuronParams}
    net = Network(dt=spec["dt"], seed=spec["seed"], engine=engine)
    pops = []
    for k, ps in enumerate(spec["pops"]):
        name = f"p{k}"
        kind = ps["kind"]
        if kind == "poisson":
            pop = PoissonSource(ps["n"], np.asarray(ps["rates"]), rate_interval=ps.get("rate_interval"), name=name)
        elif kind == "spikes":
            pop = SpikeSource(ps["n"], np.asarray(ps["times"], dtype=float), np.asarray(ps["indices"], dtype=np.int64),
                              name=name)
        else:
            params = models[kind](**{f: (np.asarray(v) if isinstance(v, list) else v) for f, v in ps["params"].items()})
            initial = {var: np.asarray(v) for var, v in (ps.get("initial") or {}).items()}
            pop = Population(ps["n"], params, name=name, initial=initial)
        pops.append(net.add(pop))
    for pr in spec["projs"]:
        kind = pr["conn"][0]
        if kind == "prob":
            conn = FixedProbability(pr["conn"][1], allow_autapses=pr["conn"][2])
        elif kind == "indeg":
            conn = FixedInDegree(pr["conn"][1], allow_autapses=pr["conn"][2])
        elif kind == "arrays":
            conn = FromArrays(np.asarray(pr["conn"][1], dtype=np.int64), np.asarray(pr["conn"][2], dtype=np.int64))
        elif kind == "all":
            conn = AllToAll()
        else:
            conn = OneToOne()
        wspec = pr["weight"]
        if wspec[0] == "const":
            weight = wspec[1]
        else:
            lo, hi = wspec[1], wspec[2]

            def weight(rng, n, lo=lo, hi=hi):
                return rng.uniform(lo, hi, n)

        dspec = pr["delay"]
        if isinstance(dspec, tuple):

            def delay(rng, n, lo=dspec[1], hi=dspec[2]):
                return rng.integers(lo, hi + 1, n)
        else:
            delay = dspec
        net.add(Projection(pops[pr["pre"]], pops[pr["post"]], conn, weights=weight, delays=delay,
                           receptor=pr["receptor"]))
    mons = {p.name: net.add(SpikeMonitor(p)) for p in pops} if spike_monitors else {}
    return net, pops, mons


@pytest.fixture(scope="session")
def network_builder():
    """:func:`build_network` as a (stateless) fixture, usable inside ``@given`` tests."""
    return build_network


#: kernel state array -> state variable name, per neuron model
STATE_NAMES = {
    "lif": {"v": "v", "se": "i_e", "si": "i_i"},
    "alif": {"v": "v", "se": "i_e", "si": "i_i", "a": "a"},
    "cond": {"v": "v", "se": "g_e", "si": "g_i"},
    "tsm": {"v": "v", "se": "i_e", "si": "i_i", "a": "c_mod"},
}


def neuron_state(net, spec) -> dict[str, np.ndarray]:
    """Global ``v, se, si, a`` arrays read through ``Network.get_state`` (NaN for spike sources)."""
    sim = net._ensure_built()
    out = {k: np.full(sim.n_total, np.nan) for k in ("v", "se", "si", "a")}
    for k, (pop, ps) in enumerate(zip(net.populations, spec["pops"], strict=True)):
        names = STATE_NAMES.get(ps["kind"])
        if names is None:
            continue
        lo, hi = int(sim.pop_lo[k]), int(sim.pop_lo[k + 1])
        for arr, var in names.items():
            out[arr][lo:hi] = net.get_state(pop, var)
        if "a" not in names:
            out["a"][lo:hi] = 0.0
    return out


@pytest.fixture(scope="session")
def state_reader():
    """:func:`neuron_state` as a fixture."""
    return neuron_state


@pytest.fixture(scope="session")
def spike_reader():
    """:func:`global_spikes` as a session fixture (usable inside ``@given`` tests)."""
    return global_spikes
