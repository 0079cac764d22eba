"""The container of a spike-coded classification task: inputs, labels, a fixed train/test split.

:class:`ClassificationData` is what every built-in dataset loader of :mod:`memr_snn.encoders.datasets`
returns and what the sensory benchmark harness (:mod:`memr_snn.learning.sensory`, which re-exports it)
trains on.  It lives here, in the data layer, so that the datasets never import the learning package
(``docs/architecture.md``).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from typing import Any

import numpy as np

from ..._validation import check_int_at_least, check_positive

__all__ = ["ClassificationData", "jsonable"]


@dataclasses.dataclass
class ClassificationData:
    """A spike-coded classification task with a fixed train/test split.

    Validated on construction (``ValueError`` naming the field).
    """

    name: str
    """Task name (e.g. ``"dvs-digits"``)."""
    x_train: np.ndarray
    """Training inputs ``(N_train, T, n_in)``: spike counts per step (uint8 or float32/64, >= 0, finite)."""
    y_train: np.ndarray
    """Training labels ``(N_train,)``, integers in ``[0, n_classes)``."""
    x_test: np.ndarray
    """Test inputs ``(N_test, T, n_in)`` (same ``T`` and ``n_in`` as the training inputs)."""
    y_test: np.ndarray
    """Test labels ``(N_test,)``."""
    dt: float
    """Time step of one input step [s]."""
    n_classes: int
    """Number of classes [1] (>= 2)."""
    meta: dict = dataclasses.field(default_factory=dict)
    """Provenance: source, generator version, encoding parameters (JSON-able values)."""
    resample: Callable[[np.random.Generator], np.ndarray] | None = None
    """Optional fresh training inputs per epoch (e.g. new Poisson draws of the same images):
    ``resample(rng)`` returns an array shaped like ``x_train``; the harness calls it once per epoch
    with a generator seeded by the network seed.  None: ``x_train`` every epoch."""

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise ValueError(f"name must be a non-empty string, got {self.name!r}")
        for split in ("train", "test"):
            x = np.asarray(getattr(self, f"x_{split}"))
            if x.ndim != 3 or min(x.shape) < 1:
                raise ValueError(f"x_{split} must have shape (N_{split}, T, n_in) with every size >= 1, got {x.shape}")
            if not (np.issubdtype(x.dtype, np.integer) or np.issubdtype(x.dtype, np.floating)
                    or x.dtype == np.bool_):
                raise ValueError(f"x_{split} must hold numbers (spike counts), got dtype {x.dtype}")
            if np.issubdtype(x.dtype, np.floating) and not np.all(np.isfinite(x)):
                raise ValueError(f"x_{split} must be finite")
            if x.size and x.min() < 0:
                raise ValueError(f"x_{split} must be >= 0 (spike counts), got minimum {x.min()}")
            setattr(self, f"x_{split}", x)
        if self.x_train.shape[1:] != self.x_test.shape[1:]:
            raise ValueError(f"x_train and x_test must share (T, n_in), got {self.x_train.shape[1:]} and "
                             f"{self.x_test.shape[1:]}")
        self.n_classes = check_int_at_least("n_classes", self.n_classes, 2)
        for split in ("train", "test"):
            y = np.asarray(getattr(self, f"y_{split}"))
            n = getattr(self, f"x_{split}").shape[0]
            if y.shape != (n,):
                raise ValueError(f"y_{split} must have shape ({n},) (one label per sample), got {y.shape}")
            if not np.issubdtype(y.dtype, np.integer):
                if not (np.issubdtype(y.dtype, np.floating) and np.all(np.isfinite(y))
                        and np.array_equal(y, np.round(y))):
                    raise ValueError(f"y_{split} must hold integer class indices, got dtype {y.dtype}")
            y = y.astype(np.int64)
            if y.min() < 0 or y.max() >= self.n_classes:
                bad = y[(y < 0) | (y >= self.n_classes)][0]
                raise ValueError(f"y_{split} must lie in [0, {self.n_classes - 1}], got {int(bad)}")
            setattr(self, f"y_{split}", y)
        check_positive("dt", self.dt, "s")
        self.dt = float(self.dt)
        if not isinstance(self.meta, dict):
            raise ValueError(f"meta must be a dict, got {type(self.meta).__name__}")
        if self.resample is not None and not callable(self.resample):
            raise ValueError(f"resample must be callable or None, got {self.resample!r}")

    @property
    def T(self) -> int:
        """Steps per sample."""
        return int(self.x_train.shape[1])

    @property
    def n_in(self) -> int:
        """Input channels."""
        return int(self.x_train.shape[2])

    def summary(self) -> dict[str, Any]:
        """Sizes, class counts and ``meta`` (JSON-able)."""
        return {"name": self.name, "n_train": int(self.x_train.shape[0]), "n_test": int(self.x_test.shape[0]),
                "T": self.T, "n_in": self.n_in, "dt": self.dt, "n_classes": self.n_classes,
                "duration_s": self.T * self.dt, "dtype": str(self.x_train.dtype), "meta": jsonable(self.meta)}


def jsonable(obj: Any) -> Any:
    """``obj`` with dicts, sequences, numpy arrays and scalars made JSON-able (non-finite floats: None)."""
    if isinstance(obj, dict):
        return {str(k): jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    if obj is None or isinstance(obj, (str, int, float, bool)):
        return obj
    return str(obj)
