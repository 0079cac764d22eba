"""A closed loop driven step by step: a controller reads the population rate and sets the input.

A Poisson input drives 500 LIF neurons; every 10 ms a proportional controller reads the spikes of the
last window and adjusts the input rate to hold the population near a target rate.  Shows the
step-wise driver (`run_steps`), reading state (`get_state`) and writing input (`set_rates`).

Run:  python examples/closed_loop.py
"""

import numpy as np

from memr_snn import FixedProbability, LIFParams, Network, PoissonSource, Population, Projection, SpikeMonitor
from memr_snn.units import Hz, ms, pA


def main(target_hz: float = 15.0, windows: int = 60) -> list[float]:
    net = Network(dt=0.1 * ms, seed=7)
    inp = net.add(PoissonSource(200, rates=5 * Hz, name="drive"))
    pop = net.add(Population(500, LIFParams(tau_mem=20 * ms), name="pop"))
    net.add(Projection(inp, pop, FixedProbability(0.1), weights=250 * pA))
    spikes = net.add(SpikeMonitor(pop))
    window = 10 * ms
    steps = net.steps_of(window, "window")
    rate_in, history = 5.0, []
    for _ in range(windows):
        before = spikes.num_spikes
        net.run_steps(steps)
        rate_out = (spikes.num_spikes - before) / (pop.n * window)
        history.append(rate_out)
        rate_in = float(np.clip(rate_in + 0.5 * (target_hz - rate_out), 0.0, 500.0))
        net.set_rates(inp, rate_in)
    v = net.get_state(pop, "v")
    last = float(np.mean(history[-5:]))
    print(f"output rate over the last 5 windows of {window * 1e3:g} ms: {last:.1f} Hz, target {target_hz} Hz "
          f"(off by {last - target_hz:+.1f} Hz; Poisson noise of a 5-window mean at the target: "
          f"+-{np.sqrt(target_hz / (pop.n * window * 5)):.1f} Hz); input now {rate_in:.1f} Hz, "
          f"mean v {v.mean() * 1e3:.2f} mV")
    return history


if __name__ == "__main__":
    main()
