"""The fresh-process launcher of the one benchmark worker (:mod:`memr_snn.bench._worker`), used by the suite
and by :mod:`memr_snn.bench.peers`; and the suite's progress clock."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

__all__ = ["run_worker"]

_WORKER = Path(__file__).with_name("_worker.py")


class _Clock:
    """Progress lines on stderr with the suite's elapsed time; ``write`` (e.g. :meth:`ProgressBar.write
    <memr_snn.progress.ProgressBar.write>`) writes them instead, so they do not break a progress bar."""

    def __init__(self, stream=None, write=None):
        self.t0 = time.perf_counter()
        self.stream = stream
        self.write = write

    def __call__(self, msg: str) -> None:
        el = time.perf_counter() - self.t0
        line = f"[bench {int(el // 60):02d}:{int(el % 60):02d}] {msg}"
        if self.write is not None:
            self.write(line)
            return
        stream = self.stream if self.stream is not None else sys.stderr
        print(line, file=stream, flush=True)


def run_worker(cfg: dict, timeout: float | None, env_extra: dict | None = None,
               worker: Path = _WORKER) -> tuple[dict, dict, float, float]:
    """Run :mod:`memr_snn.bench._worker` (or another worker script with the same interface, ``worker``)
    with ``cfg`` in a fresh interpreter and load its result.

    Returns
    -------
    arrays : dict
        The arrays the worker wrote (spikes, weights; empty for most modes).
    meta : dict
        Its JSON object of scalars (times, peak RSS, counts, versions).
    total : float
        Wall time of the whole subprocess [s], interpreter start and imports included.
    launch_wall : float
        ``time.time()`` just before the launch (the worker's ``first_result_wall`` minus this is
        the time to a first result).

    Raises
    ------
    RuntimeError
        If the worker fails; the message carries the end of its output.
    """
    env = dict(os.environ)
    env.setdefault("PYNEST_QUIET", "1")
    env.update(env_extra or {})
    with tempfile.TemporaryDirectory(prefix="memr_snn_worker_") as tmp:
        out = os.path.join(tmp, "result.npz")
        launch_wall = time.time()
        t0 = time.perf_counter()
        proc = subprocess.run([sys.executable, str(worker), json.dumps(cfg), out], capture_output=True, text=True,
                              env=env, cwd=tmp, timeout=timeout, check=False)
        total = time.perf_counter() - t0
        if proc.returncode != 0 or not os.path.exists(out):
            tail = (proc.stdout[-3000:] + "\n" + proc.stderr[-6000:]).strip()
            raise RuntimeError(f"{cfg.get('mode')} worker failed with exit status {proc.returncode} for {cfg}:\n{tail}")
        with np.load(out, allow_pickle=False) as data:
            arrays = {k: data[k] for k in data.files if k != "meta"}
            meta = json.loads(str(data["meta"]))
    return arrays, meta, total, launch_wall


def _short(exc: Exception) -> str:
    text = f"{type(exc).__name__}: {exc}".strip()
    lines = [ln for ln in text.splitlines() if ln.strip()]
    if len(lines) <= 2:
        return " | ".join(lines)
    return lines[0] + " | ... | " + lines[-1]
