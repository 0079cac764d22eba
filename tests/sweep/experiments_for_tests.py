"""Small experiments for the sweep tests (importable by workers as ``sweep.experiments_for_tests:NAME``)."""

import os
import time

import numpy as np


def quadratic(*, seed: int, x: float = 0.0, offset: int = 0, fail_at: float | None = None,
              sleep: float = 0.0) -> dict:
    """``x**2 + offset`` plus seeded noise; raises at ``x == fail_at``; sleeps ``sleep`` s first.

    With the environment variable SWEEP_TEST_LOG set, appends 'start KEY PID' and 'end KEY PID' lines
    (KEY: x and seed) to that file, so a test can tell which process started and finished which point.
    """
    log = os.environ.get("SWEEP_TEST_LOG")
    tag = f"{x!r}/{seed}"
    if log:
        with open(log, "a") as f:
            f.write(f"start {tag} {os.getpid()}\n")
    time.sleep(sleep)
    if fail_at is not None and x == fail_at:
        raise ValueError(f"x = {x} is where this experiment fails")
    noise = float(np.random.default_rng(seed).normal(0.0, 0.1))
    if log:
        with open(log, "a") as f:
            f.write(f"end {tag} {os.getpid()}\n")
    return {"y": x * x + offset + noise, "noise": noise, "even_seed": seed % 2 == 0}


def environment(*, seed: int) -> dict:
    """The BLAS and numba thread settings of the process that runs the point."""
    return {name: os.environ.get(name, "") for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS",
                                                        "MKL_NUM_THREADS")}


def needs_a(*, seed: int, a: float) -> dict:
    """A required parameter ``a``."""
    return {"a": a}


def not_a_mapping(*, seed: int) -> list:
    return [1, 2]


def no_seed(*, x: float) -> dict:
    return {"x": x}
