"""Song, Miller & Abbott (2000) in Brian2, run in a fresh subprocess (the peer of
:mod:`memr_snn.networks.song_miller_abbott`)."""

from __future__ import annotations

from ..launch import run_worker

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
    cfg = {"mode": "sma", "duration": float(duration), "seed": int(seed), "n_inputs": int(n_inputs),
           "rate": float(rate), "g_max_rel": float(g_max_rel), "target": target}
    arrays, meta, _, _ = run_worker(cfg, timeout, env_extra={"PYTHONHASHSEED": "0"})
    return {"weights": arrays["weights"], "rate_hz": float(meta["n_spikes"]) / duration,
            "wall_s": float(meta["wall"]), "sim_s": float(meta["sim"])}
