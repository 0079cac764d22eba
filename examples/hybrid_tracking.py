"""Hybrid perception -> control: an event camera (DVS) -> a model-based position estimate whose linear part runs
on AIMC tiles -> a spiking stage on memristive synapses -> a PID -> a pan-tilt eye tracking a moving target,
against a PID controller given the true target position, and one given it through the same predictor and lead
(docs/pipeline.md).

Prints the tracking errors per seed, the energy per control step split by stage, the pipeline overhead, the
schedule, and writes the timeline of the first seed to ``hybrid_tracking_timeline.png``.

    python examples/hybrid_tracking.py            # seeds 0 1 2, 300 control steps (3 s) each
    python examples/hybrid_tracking.py --quick    # one seed, 50 steps

The same runs from the command line: ``memr-snn pipeline run hybrid-tracking --seeds 0 1 2``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from memr_snn.pipeline.report import plot_timeline, summary_table
from memr_snn.pipeline.tracking import HybridConfig, compare_tracking, comparison_markdown


def main(seeds=(0, 1, 2), steps: int = 300, out: Path | str = ".") -> dict:
    """Run the comparison; returns :func:`memr_snn.pipeline.tracking.compare_tracking`'s result."""
    res = compare_tracking(seeds, HybridConfig(steps=steps), progress=False)
    print(comparison_markdown(res))
    first = res["per_seed"][0]
    print()
    print(summary_table(first["report"]))
    print()
    print(first["pipeline"].schedule.format(12))
    plot_timeline(first["pipeline"], Path(out) / "hybrid_tracking_timeline.png")
    return res


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--steps", type=int, default=300)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--out", type=Path, default=Path("."))
    a = ap.parse_args()
    main(seeds=a.seeds[:1] if a.quick else a.seeds, steps=50 if a.quick else a.steps, out=a.out)
