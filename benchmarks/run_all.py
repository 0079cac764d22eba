"""Run the whole benchmark suite: ``python benchmarks/run_all.py [bench options]``.

The same as ``memr-snn bench`` (see ``memr-snn bench --help`` and docs/benchmarks.md):
memr_snn, Brian2 (cython, cpp_standalone) and NEST on the CUBA, COBA and ALIF networks,
synapse memory and event-driven scaling.  The report goes to stdout and to
``<out>/bench.md``, raw numbers to ``<out>/bench.json``.

    python benchmarks/run_all.py --quick          # smoke test, well under 2 minutes
    python benchmarks/run_all.py --out bench_full # the full suite (about half an hour on 2 cores)
"""

import sys

from memr_snn.cli import main

if __name__ == "__main__":
    sys.exit(main(["bench", *sys.argv[1:]]))
