"""Song, Miller & Abbott (2000) in Brian2, run in a fresh subprocess (the peer of
:mod:`memr_snn.networks.song_miller_abbott`)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

__all__ = ["run_brian2_sma"]


def run_brian2_sma(duration: float = 100.0, seed: int = 1, n_inputs: int = 1000, rate: float = 15.0,
                   g_max_rel: float = 0.01, target: str = "cpp_standalone", timeout: float = 900.0) -> dict:
    """Run Brian2's STDP example; returns final weights (in units of ``g_max``), output rate [Hz], wall time of
    ``run()`` (``wall_s``, with cpp_standalone's code generation and compilation) and the simulation alone
    (``sim_s``: cpp_standalone's timed main loop) [s].

    Raises
    ------
    RuntimeError
        If the worker fails (the message carries its output).
    """
    if target not in ("cpp_standalone", "cython", "numpy"):
        raise ValueError(f"target must be cpp_standalone, cython or numpy, got {target!r}")
    cfg = {"duration": float(duration), "seed": int(seed), "n_inputs": int(n_inputs), "rate": float(rate),
           "g_max_rel": float(g_max_rel), "target": target}
    with tempfile.TemporaryDirectory(prefix="memr_snn_sma_") as tmp:
        out = Path(tmp) / "out.npz"
        proc = subprocess.run([sys.executable, "-m", "memr_snn.bench.peers._sma_worker", json.dumps(cfg), str(out)],
                              capture_output=True, text=True, timeout=timeout, cwd=tmp,
                              env=dict(os.environ, PYTHONHASHSEED="0"))
        if proc.returncode != 0 or not out.exists():
            raise RuntimeError(
                f"Brian2 SMA worker failed ({proc.returncode}):\n{proc.stdout[-2000:]}\n{proc.stderr[-3000:]}"
            )
        data = np.load(out)
        return {"weights": data["weights"], "rate_hz": float(data["n_spikes"]) / duration,
                "wall_s": float(data["wall"]), "sim_s": float(data["sim"])}
