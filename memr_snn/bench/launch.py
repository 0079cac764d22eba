"""Fresh-process launcher of the benchmark worker (:mod:`memr_snn.bench._worker`), and the progress clock."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

__all__ = []

_WORKER = Path(__file__).with_name("_worker.py")


class _Clock:
    """Progress lines on stderr with the suite's elapsed time."""

    def __init__(self, stream=None):
        self.t0 = time.perf_counter()
        self.stream = stream

    def __call__(self, msg: str) -> None:
        el = time.perf_counter() - self.t0
        stream = self.stream if self.stream is not None else sys.stderr
        print(f"[bench {int(el // 60):02d}:{int(el % 60):02d}] {msg}", file=stream, flush=True)


def _launch(cfg: dict, timeout: float, env_extra: dict | None = None) -> tuple[dict, float, float]:
    """Run the bench worker in a fresh interpreter; returns (meta, process time, launch wall time)."""
    env = dict(os.environ)
    env.update(env_extra or {})
    with tempfile.TemporaryDirectory(prefix="memr_snn_bench_") as tmp:
        out = os.path.join(tmp, "result.json")
        launch_wall = time.time()
        t0 = time.perf_counter()
        proc = subprocess.run([sys.executable, str(_WORKER), json.dumps(cfg), out], capture_output=True, text=True,
                              env=env, cwd=tmp, timeout=timeout, check=False)
        total = time.perf_counter() - t0
        if proc.returncode != 0 or not os.path.exists(out):
            tail = (proc.stdout[-2000:] + "\n" + proc.stderr[-4000:]).strip()
            raise RuntimeError(f"bench worker ({cfg.get('mode')}) failed with exit status {proc.returncode}:\n{tail}")
        with open(out) as fh:
            meta = json.load(fh)
    return meta, total, launch_wall


def _short(exc: Exception) -> str:
    text = f"{type(exc).__name__}: {exc}".strip()
    lines = [ln for ln in text.splitlines() if ln.strip()]
    if len(lines) <= 2:
        return " | ".join(lines)
    return lines[0] + " | ... | " + lines[-1]
