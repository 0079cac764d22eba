"""The old import paths of the benchmark tooling (``memr_snn.benchmarking``, ``memr_snn.peers``) still
work, give the modules of :mod:`memr_snn.bench` themselves, and warn that they are deprecated."""

from __future__ import annotations

import subprocess
import sys

import pytest


def _run(code: str) -> None:
    subprocess.run([sys.executable, "-c", code], check=True)


def test_old_benchmarking_path_is_the_bench_package():
    _run(
        "import warnings\n"
        "with warnings.catch_warnings(record=True) as w:\n"
        "    warnings.simplefilter('always')\n"
        "    import memr_snn.benchmarking as old\n"
        "    from memr_snn import benchmarking\n"
        "import memr_snn.bench as new\n"
        "assert old is new and benchmarking is new\n"
        "assert old.main is new.main and old.summarize([1.0])['n'] == 1\n"
        "assert any(issubclass(x.category, DeprecationWarning) and 'memr_snn.bench' in str(x.message) for x in w)\n"
    )


def test_old_peers_paths_are_the_bench_peers_modules():
    _run(
        "import warnings\n"
        "with warnings.catch_warnings(record=True) as w:\n"
        "    warnings.simplefilter('always')\n"
        "    import memr_snn.peers as old\n"
        "    import memr_snn.peers.brian2_runner, memr_snn.peers.nest_runner, memr_snn.peers.result\n"
        "    from memr_snn.peers.brian2_sma import run_brian2_sma\n"
        "    from memr_snn.peers import CUBA, PeerResult, run_brian2, run_nest\n"
        "import memr_snn.bench.peers as new\n"
        "import memr_snn.bench.peers.brian2_sma\n"
        "assert old is new and run_brian2 is new.run_brian2 and PeerResult is new.PeerResult\n"
        "assert run_brian2_sma is memr_snn.bench.peers.brian2_sma.run_brian2_sma\n"
        "assert memr_snn.peers.nest_runner is memr_snn.bench.peers.nest_runner\n"
        "assert any(issubclass(x.category, DeprecationWarning) and 'memr_snn.bench.peers' in str(x.message)\n"
        "           for x in w)\n"
    )


@pytest.mark.parametrize("module", ["brian2", "nest"])
def test_bench_import_leaves_simulators_alone(module):
    _run(f"import sys, memr_snn.bench, memr_snn.bench.peers\nassert {module!r} not in sys.modules\n")
