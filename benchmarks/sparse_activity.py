"""Where event-driven wins: ``python benchmarks/sparse_activity.py [--sizes N ...] [--duration T] [--repeats R]``.

A million current-based LIF neurons at about 0.5 Hz, driven by sparse Poisson input, the same network
(the same synapse and input-spike arrays) in memr_snn (event and dense engines), Brian2
``cpp_standalone`` and NEST (one thread; only up to 200k neurons by default: memory); every run a
fresh process, contenders alternated, medians, ratios from the same run.  The network and how each
simulator maps it: :mod:`memr_snn.bench.sparse`.
Prints a markdown table; ``--json FILE`` keeps every measurement.
"""

import argparse
import json
from pathlib import Path

from memr_snn.bench.sparse import NEST_MAX_NEURONS, SPARSE_CONTENDERS, run_sparse, sparse_table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000], help="population sizes")
    parser.add_argument("--duration", type=float, default=0.2, help="simulated time [s] (default 0.2)")
    parser.add_argument("--repeats", type=int, default=3, help="fresh processes per contender and size")
    parser.add_argument("--contenders", nargs="+", default=list(SPARSE_CONTENDERS), choices=SPARSE_CONTENDERS)
    parser.add_argument("--input-rate", type=float, default=5.0, help="Poisson rate of the inputs [Hz]")
    parser.add_argument("--nest-max-neurons", type=int, default=NEST_MAX_NEURONS,
                        help="run NEST only up to this size (default %(default)s: it needs > 22 GB at 10^6)")
    parser.add_argument("--json", help="write every measurement to this JSON file")
    args = parser.parse_args()
    res = run_sparse(args.sizes, duration=args.duration, repeats=args.repeats, contenders=args.contenders,
                     input_rate=args.input_rate, nest_max_neurons=args.nest_max_neurons)
    print("\n".join(sparse_table(res)))
    if args.json:
        Path(args.json).write_text(json.dumps(res, indent=1))


if __name__ == "__main__":
    main()
