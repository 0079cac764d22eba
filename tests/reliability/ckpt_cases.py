"""A small network with every part a checkpoint stores, saved after an event-mode run.

Shared by the checkpoint reliability tests and by their child processes (``tests/`` is on the
path): delays (uniform and per synapse), a SpikeSource, a Poisson source, Spike/State/Rate
monitors, STDP, RewardSTDP and a crossbar projection.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from memr_snn import (
    AllToAll,
    FixedProbability,
    LIFParams,
    Network,
    PoissonSource,
    Population,
    Projection,
    RateMonitor,
    SpikeMonitor,
    SpikeSource,
    StateMonitor,
)
from memr_snn.devices import Crossbar, LinearStepDevice
from memr_snn.learning import STDP, RewardSTDP
from memr_snn.units import ms, pA

W_MAX = 400 * pA
RULE = STDP(a_plus=0.05 * W_MAX, a_minus=0.05 * W_MAX, tau_plus=10 * ms, tau_minus=10 * ms, w_max=W_MAX)


def build(n_inp: int = 20, n_a: int = 12) -> Network:
    """The network (not yet run); ``n_inp`` / ``n_a`` scale it."""
    net = Network(dt=0.1 * ms, seed=5, engine="event")
    inp = net.add(PoissonSource(n_inp, rates=np.linspace(50, 300, n_inp), name="inp"))
    src = net.add(SpikeSource(3, [0.0005, 0.0012, 0.0031, 0.004], [0, 2, 1, 0], name="src"))
    a = net.add(Population(n_a, LIFParams(i_bias=np.linspace(0, 300, n_a) * pA, t_ref=1 * ms), name="a"))
    b = net.add(Population(6, LIFParams(), name="b"))
    net.add(Projection(inp, a, FixedProbability(0.5), weights=lambda r, n: r.random(n) * W_MAX,
                       delays=lambda r, n: r.integers(1, 6, n), plasticity=RULE, name="inp_a"))
    net.add(Projection(src, a, AllToAll(), weights=300 * pA, delays=2, name="src_a"))
    net.add(Projection(a, b, AllToAll(), weights=lambda r, n: r.random(n) * W_MAX,
                       plasticity=RewardSTDP(stdp=RULE, tau_e=20 * ms, learning_rate=1.0), name="a_b"))
    dev = LinearStepDevice(g_min=0.0, g_max=1e-4, dg_up=1e-7, dg_down=1e-7)
    net.add(Projection(inp, b, FixedProbability(0.3), weights=lambda r, n: r.random(n) * W_MAX,
                       device=Crossbar(device=dev, encoding="single"), plasticity=RULE, name="inp_b_xb"))
    net.add(SpikeMonitor(a, name="spk_a"))
    net.add(SpikeMonitor(inp, indices=[0, 3, 7], name="spk_inp"))
    net.add(StateMonitor(a, ("v", "i_e"), indices=[0, 5, n_a - 1], interval=0.5 * ms, name="st_a"))
    net.add(RateMonitor(b, name="rate_b"))
    return net


def saved(path: str | Path, duration: float = 0.01, **kw) -> Path:
    """Build, run in event mode for ``duration`` seconds, set a reward, save to ``path``."""
    net = build(**kw)
    net.run(duration)
    pr = next(p for p in net.projections if p.name == "a_b")
    net.set_reward(pr, 0.5)
    net.run(0.002)
    from memr_snn.io.checkpoint import save_network

    return save_network(net, path)


def finite_state(net: Network) -> bool:
    """True if every float engine-state array of ``net`` is finite."""
    sim = net._sim
    return all(np.all(np.isfinite(arr)) for arr in sim.state_arrays().values() if arr.dtype.kind == "f")
