"""Event-driven scaling alone: ``python benchmarks/event_scaling.py [--quick] [--repeats R]``.

A fixed input (the same spikes onto the same 1000 neurons) into an idle LIF population of
10k, 100k and 1M neurons, event engine, plus the dense engine at 10k and 100k; see
:func:`memr_snn.bench.networks.scaling_network`.  Prints the markdown table of
``memr-snn bench``'s scaling section.
"""

import argparse

from memr_snn.bench import plan, report, suite


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="10k and 100k neurons, 0.2 s, one repeat")
    parser.add_argument("--repeats", type=int, default=3, help="repeats per size (median reported)")
    args = parser.parse_args()
    if args.quick:
        res = suite.run_scaling(plan.QUICK_SCALING_SIZES, plan.QUICK_SCALING_DENSE_SIZES, duration=plan.QUICK_DURATION,
                                repeats=1)
    else:
        res = suite.run_scaling(repeats=args.repeats)
    print("\n".join(report._scaling_table(res)))


if __name__ == "__main__":
    main()
