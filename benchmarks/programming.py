"""Program-and-verify convergence per preset: ``python benchmarks/programming.py [--n N] [--seed S]``.

For every built-in preset, ``n`` devices (each with its own bounds and steps drawn from the preset's
device-to-device spread, fresh in the reset state ``g_min``) are programmed with
:func:`memr_snn.devices.program_and_verify` under the preset's cycle-to-cycle noise, read noise, levels
and ISPP settings, with the ``Crossbar`` defaults (tolerance 1 % of the range, at most 100 pulses).
Targets are uniform over each device's own range: over the FULL range ``[g_min, g_max]`` and over the
central 80 % ``[g_min + 0.1 span, g_max - 0.1 span]``.  Stuck-at faults and endurance are left out (a
stuck device cannot converge whatever the algorithm does; the stuck fraction is the preset's
``p_stuck_on + p_stuck_off``).

Printed per preset and range: the converged fraction (the last verify read was within tolerance;
read noise lets a few through whose true error is larger), the fraction whose true error is within
2x the tolerance, and the mean pulses and verify reads per device.  ``--no-spread`` programs nominal
devices; ``--max-pulses`` changes the pulse limit.
"""

from __future__ import annotations

import argparse

import numpy as np

from memr_snn.devices import Variability, list_presets, load_preset, program_and_verify

RANGES = {"full": (0.0, 1.0), "central 80 %": (0.1, 0.9)}


def measure(name: str, n: int, seed: int, spread: bool = True, tolerance: float = 0.01,
            max_pulses: int = 100) -> list[dict]:
    """Convergence of program-and-verify for preset ``name`` over both target ranges."""
    p = load_preset(name)
    dev = p.device
    rng = np.random.default_rng([seed, 1])
    var = p.variability if spread else Variability()
    d2d = var.sample(dev, n, rng)
    lo, hi = d2d["g_min"], d2d["g_max"]
    rows = []
    for label, (a, b) in RANGES.items():
        u = np.random.default_rng([seed, 2]).uniform(a, b, n)
        target = lo + u * (hi - lo)
        table = dev.table(n, **d2d)
        r = program_and_verify(dev, target, lo, read_noise=p.read_noise.read_noise, tolerance=tolerance,
                               max_pulses=max_pulses, programming=p.programming, seed=seed, table=table)
        err = np.abs(r.g - target) / (hi - lo)
        rows.append({
            "preset": name, "range": label, "converged": r.converged_fraction,
            "within_2tol": float(np.mean(err <= 2 * tolerance)), "pulses": float(r.pulses.mean()),
            "reads": float(r.verify_reads.mean()),
        })
    return rows


def table(rows: list[dict], n: int, spread: bool, max_pulses: int = 100) -> str:
    lines = [
        (f"program-and-verify, {n} devices per preset and range, tolerance 1 % of each device's range, "
         f"<= {max_pulses} pulses, {'with' if spread else 'without'} device-to-device spread, from g_min"),
        "",
        "| preset | targets | converged | within 2x tol | pulses/device | reads/device |",
        "|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(f"| {r['preset']} | {r['range']} | {100 * r['converged']:.1f} % | {100 * r['within_2tol']:.1f} % "
                     f"| {r['pulses']:.1f} | {r['reads']:.1f} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=10_000, help="devices per preset and range (default 10000)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-spread", action="store_true", help="nominal devices (no device-to-device spread)")
    parser.add_argument("--presets", nargs="*", default=None, help="preset names (default: all built-ins)")
    parser.add_argument("--max-pulses", type=int, default=100, help="pulse limit per device (Crossbar default 100)")
    args = parser.parse_args()
    names = args.presets or list_presets()
    rows = [r for name in names
            for r in measure(name, args.n, args.seed, spread=not args.no_spread, max_pulses=args.max_pulses)]
    print(table(rows, args.n, not args.no_spread, args.max_pulses))


if __name__ == "__main__":
    main()
