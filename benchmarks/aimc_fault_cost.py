"""Cost of mapping around stuck devices: ``python benchmarks/aimc_fault_cost.py [--device hfox_rram]``.

A 64-64-10 MLP (Gaussian weights, seed 0) compiled onto ``--device`` tiles with the default mapping and with
the fault-aware options of :class:`memr_snn.aimc.MappingConfig` (range test, pair compensation, remapping with
spare columns and rows); 256 input vectors uniform in [0, 1] priced with the ``hermes_pcm`` profile.  Prints a
markdown table of devices, programming pulses and energy (``model.program_stats``), array read energy and
inference energy (``model.energy``).
"""

from __future__ import annotations

import argparse

import numpy as np

from memr_snn.aimc import MappingConfig, compile

CONFIGS = {
    "default": MappingConfig(),
    "`fault_test`": MappingConfig(fault_test=True),
    "+ `compensate`": MappingConfig(fault_test=True, compensate=True),
    "+ `remap=\"rows_columns\"`, 32 spare columns, 16 spare rows": MappingConfig(
        fault_test=True, compensate=True, remap="rows_columns", spare_columns=32, spare_rows=16),
}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--device", default="hfox_rram")
    args = ap.parse_args()
    rng = np.random.default_rng(0)
    spec = {"fc1.weight": 0.2 * rng.standard_normal((64, 64)), "fc1.bias": np.zeros(64),
            "fc2.weight": 0.2 * rng.standard_normal((10, 64)), "fc2.bias": np.zeros(10)}
    x = rng.random((256, 64))
    print("| mapping | devices | programming pulses | programming energy | array read energy | inference energy |\n"
          "|---|---|---|---|---|---|")
    base = None
    for name, cfg in CONFIGS.items():
        model = compile(spec, device=args.device, mapping=cfg, seed=0)
        model.reset_counters()
        model(x)
        rep = model.energy("hermes_pcm")
        tot, ps = rep.total, model.program_stats
        base = tot.inference_energy if base is None else base
        print(f"| {name} | {ps['devices']} | {ps['pulses']} | {ps['energy'] * 1e6:.2f} uJ "
              f"| {tot.energy['array'] * 1e9:.1f} nJ | {tot.inference_energy * 1e9:.1f} nJ "
              f"({100 * (tot.inference_energy / base - 1):+.1f} %) |")


if __name__ == "__main__":
    main()
