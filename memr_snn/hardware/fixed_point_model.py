"""The Loihi fixed-point network description: integer LIF parameters, populations, spike inputs, 8-bit connections.

Part of :mod:`memr_snn.hardware.fixed_point` (its docstring gives the model); import the names from there.
"""

from __future__ import annotations

import dataclasses
import warnings
from collections.abc import Sequence
from typing import Literal

import numpy as np

SIGN_MODES = ("auto", "mixed", "excitatory", "inhibitory")
"""Accepted ``sign_mode`` values (Lava ``SignMode`` names; ``auto`` = Lava's
``determine_sign_mode``)."""

MAX_DELAY = 63
"""Largest per-synapse delay of ``DelayDense`` (6 bits) [steps]."""

# Ranges documented in PyLifModelBitAcc / AbstractPyLifModelFixed.
_RANGES = {
    "du": (0, 4095),  # 12-bit unsigned
    "dv": (0, 4095),  # 12-bit unsigned
    "vth": (0, 131071),  # 17-bit unsigned
    "bias_mant": (-4096, 4095),  # 13-bit signed
    "bias_exp": (0, 7),  # 3-bit unsigned
    "u": (-(2**23), 2**23),  # 24-bit state (+2**23 is reachable through Lava's wrap rule)
    "v": (-(2**23) + 1, 2**23 - 1),  # 24-bit state, clipped
    "weight_exp": (-8, 7),  # Loihi weight exponent
    "num_weight_bits": (1, 8),
}


class FixedPointRangeError(ValueError):
    """A parameter does not fit its fixed-point field."""


class FixedPointSaturationWarning(UserWarning):
    """Out-of-range values were saturated because the caller asked for it."""


def _int_field(name: str, value, *, saturate: bool, scalar: bool = False):
    """Validate an integer field against ``_RANGES[name]``; returns int or int64 array."""
    lo, hi = _RANGES[name]
    arr = np.asarray(value)
    if arr.dtype == bool or not (np.issubdtype(arr.dtype, np.integer) or np.issubdtype(arr.dtype, np.floating)):
        raise TypeError(f"{name} must be an integer or an integer array, got {value!r}")
    if scalar and arr.ndim != 0:
        raise ValueError(f"{name} must be one integer per population (Lava has a single {name}), got shape {arr.shape}")
    if np.issubdtype(arr.dtype, np.floating):
        if not np.all(np.isfinite(arr)) or np.any(arr != np.round(arr)):
            raise TypeError(f"{name} must hold integers, got {value!r}")
    arr = arr.astype(np.int64)
    bad = (arr < lo) | (arr > hi)
    if np.any(bad):
        first = int(arr[bad].flat[0]) if arr.ndim else int(arr)
        if not saturate:
            raise FixedPointRangeError(
                f"{name}={first} is outside the fixed-point range [{lo}, {hi}]; "
                f"rescale it, or pass saturate=True to clip with a warning"
            )
        warnings.warn(
            f"{name}: {int(np.count_nonzero(bad))} value(s) outside [{lo}, {hi}] saturated (e.g. {first})",
            FixedPointSaturationWarning,
            stacklevel=3,
        )
        arr = np.clip(arr, lo, hi)
    if arr.ndim == 0:
        return int(arr)
    arr = np.ascontiguousarray(arr)
    arr.setflags(write=False)
    return arr


@dataclasses.dataclass(frozen=True, eq=False)
class LoihiLIFParams:
    """Integer parameters of a Loihi CUBA LIF population (Lava ``LIF``).

    All fields are dimensionless integers in Loihi's units (see the module
    docstring for the equations).
    """

    du: int = 0
    """Current decay, 12-bit unsigned (0..4095); factor ``(4095 - du) / 4096`` per step."""
    dv: int = 0
    """Voltage decay, 12-bit unsigned (0..4095); factor ``(4096 - dv) / 4096`` per step."""
    vth: int = 10
    """Threshold mantissa, 17-bit unsigned (0..131071); compared as ``vth << 6``."""
    bias_mant: int | np.ndarray = 0
    """Bias mantissa, 13-bit signed (-4096..4095), scalar or per neuron."""
    bias_exp: int | np.ndarray = 0
    """Bias exponent, 3-bit unsigned (0..7), scalar or per neuron."""
    saturate: bool = False
    """Clip out-of-range values with a :class:`FixedPointSaturationWarning` instead of raising."""

    def __post_init__(self):
        for name in ("du", "dv", "vth"):
            object.__setattr__(self, name, _int_field(name, getattr(self, name), saturate=self.saturate, scalar=True))
        for name in ("bias_mant", "bias_exp"):
            object.__setattr__(self, name, _int_field(name, getattr(self, name), saturate=self.saturate))

    @property
    def decay_u(self) -> int:
        """Effective current factor ``4096 - (du + 1)`` (Lava ``ds_offset = 1``)."""
        return 4096 - (self.du + 1)

    @property
    def decay_v(self) -> int:
        """Effective voltage factor ``4096 - dv`` (Lava ``dm_offset = 0``)."""
        return 4096 - self.dv

    def effective_bias(self, n: int) -> np.ndarray:
        """``bias_mant << bias_exp`` broadcast to ``(n,)`` int64."""
        return np.broadcast_to(np.left_shift(np.asarray(self.bias_mant, np.int64), self.bias_exp), (n,)).copy()


@dataclasses.dataclass(frozen=True, eq=False)
class FixedPointPopulation:
    """``n`` Loihi LIF neurons with their initial state."""

    name: str
    n: int
    params: LoihiLIFParams = dataclasses.field(default_factory=LoihiLIFParams)
    u0: int | np.ndarray = 0
    """Initial current (24-bit signed)."""
    v0: int | np.ndarray = 0
    """Initial voltage (24-bit signed, ``|v0| < 2**23``)."""

    def __post_init__(self):
        if not isinstance(self.name, str) or not self.name:
            raise ValueError(f"name must be a non-empty string, got {self.name!r}")
        if isinstance(self.n, bool) or not isinstance(self.n, (int, np.integer)) or self.n < 1:
            raise ValueError(f"n must be a positive integer, got {self.n!r}")
        object.__setattr__(self, "n", int(self.n))
        if not isinstance(self.params, LoihiLIFParams):
            raise TypeError(f"params must be LoihiLIFParams, got {type(self.params).__name__}")
        for name, key in (("u0", "u"), ("v0", "v")):
            val = _int_field(key, getattr(self, name), saturate=self.params.saturate)
            if np.ndim(val) and np.shape(val) != (self.n,):
                raise ValueError(f"{name} must be a scalar or have shape ({self.n},), got {np.shape(val)}")
            object.__setattr__(self, name, val)
        for name in ("bias_mant", "bias_exp"):
            val = getattr(self.params, name)
            if np.ndim(val) and np.shape(val) != (self.n,):
                raise ValueError(f"params.{name} must be a scalar or have shape ({self.n},), got {np.shape(val)}")


@dataclasses.dataclass(frozen=True, eq=False)
class SpikeInput:
    """A spike source: ``spikes[t, i]`` is True when channel ``i`` fires at step ``t``.

    Rows beyond ``spikes.shape[0]`` are silent.
    """

    name: str
    spikes: np.ndarray

    def __post_init__(self):
        if not isinstance(self.name, str) or not self.name:
            raise ValueError(f"name must be a non-empty string, got {self.name!r}")
        s = np.asarray(self.spikes)
        if s.ndim != 2 or s.shape[1] < 1:
            raise ValueError(f"spikes must be a 2-D (n_steps, n) array, got shape {s.shape}")
        if s.dtype != bool:
            if not np.all((s == 0) | (s == 1)):
                raise ValueError("spikes must hold only 0/1 (binary spikes; graded spikes are not supported)")
            s = s.astype(bool)
        s = np.ascontiguousarray(s)
        s.setflags(write=False)
        object.__setattr__(self, "spikes", s)

    @property
    def n(self) -> int:
        return int(self.spikes.shape[1])


def determine_sign_mode(weights) -> str:
    """Lava's ``determine_sign_mode``: ``excitatory`` if min >= 0, ``inhibitory``
    if max <= 0, else ``mixed`` (all-zero weights are ``excitatory``)."""
    w = np.asarray(weights)
    if w.size == 0 or np.min(w) >= 0:
        return "excitatory"
    if np.max(w) <= 0:
        return "inhibitory"
    return "mixed"


def preprocess_weights(weights, sign_mode: str, num_weight_bits: int) -> np.ndarray:
    """Lava's one-time weight pre-processing (``clip_weights`` then ``truncate_weights``).

    1. Clip to the 8-bit range of the sign mode: mixed ``[-256, 255]``,
       excitatory ``[0, 255]``, inhibitory ``[-255, 0]``.
    2. Drop ``8 - num_weight_bits + is_mixed`` least significant bits with an
       arithmetic shift (floor); inhibitory weights are negated first, so they
       round toward zero.  Mixed-sign weights thus lose their LSB even with
       ``num_weight_bits = 8`` (``3 -> 2``, ``-3 -> -4``).

    Parameters
    ----------
    weights : array of int
    sign_mode : {'mixed', 'excitatory', 'inhibitory'}
    num_weight_bits : int (1..8)

    Returns
    -------
    int64 array of the same shape.
    """
    w = np.asarray(weights).astype(np.int64)
    mixed = int(sign_mode == "mixed")
    inh = sign_mode == "inhibitory"
    if inh:
        w = -w
    lo = -256 * mixed
    hi = 255
    w = np.clip(w, lo, hi)
    nt = 8 - num_weight_bits + mixed
    w = (w >> nt) << nt
    if inh:
        w = -w
    return w


@dataclasses.dataclass(frozen=True, eq=False)
class FixedPointConnection:
    """8-bit synapses from ``pre`` (a population or input name) to ``post`` (a population name).

    ``weights`` has shape ``(n_post, n_pre)`` (Lava's convention): a numpy array
    (zeros are absent synapses) or a ``scipy.sparse`` matrix.  The weights seen
    by the neurons are :func:`preprocess_weights` of them, shifted by
    ``weight_exp`` after summation.
    """

    pre: str
    post: str
    weights: object
    weight_exp: int = 0
    """Shared exponent (-8..7): the per-step weight sum is multiplied by ``2**weight_exp`` (floor for < 0)."""
    num_weight_bits: int = 8
    """Weight precision (1..8); lower bits are truncated."""
    sign_mode: Literal["auto", "mixed", "excitatory", "inhibitory"] = "auto"
    """Lava ``SignMode``; ``auto`` applies Lava's ``determine_sign_mode`` to the weights."""
    delays: int | np.ndarray = 0
    """Extra delay of each synapse (0..63) [steps] on top of the one-step Dense latency."""
    saturate: bool = False
    """Clip out-of-range weights/delays with a warning instead of raising."""

    def __post_init__(self):
        for nm in ("pre", "post"):
            if not isinstance(getattr(self, nm), str):
                raise TypeError(f"{nm} must be a population or input name, got {getattr(self, nm)!r}")
        if self.sign_mode not in SIGN_MODES:
            raise ValueError(f"sign_mode must be one of {SIGN_MODES}, got {self.sign_mode!r}")
        object.__setattr__(self, "weight_exp", _int_field("weight_exp", self.weight_exp, saturate=False, scalar=True))
        object.__setattr__(
            self, "num_weight_bits", _int_field("num_weight_bits", self.num_weight_bits, saturate=False, scalar=True)
        )
        try:
            import scipy.sparse as sp
        except ImportError:  # pragma: no cover - scipy is a core dependency
            sp = None
        if sp is not None and sp.issparse(self.weights):
            csr = sp.csr_matrix(self.weights)
            csr.sum_duplicates()
            rows = np.repeat(np.arange(csr.shape[0]), np.diff(csr.indptr))
            post, pre, vals = rows.astype(np.int64), csr.indices.astype(np.int64), csr.data
            shape = csr.shape
        else:
            w = np.asarray(self.weights)
            if w.ndim != 2:
                raise ValueError(f"weights must be a 2-D (n_post, n_pre) array, got shape {w.shape}")
            post, pre = np.nonzero(w)
            vals = w[post, pre]
            shape = w.shape
        vals = np.asarray(vals)
        if vals.dtype == bool or not (np.issubdtype(vals.dtype, np.integer) or np.issubdtype(vals.dtype, np.floating)):
            raise TypeError(f"weights must be integers, got dtype {vals.dtype}")
        if np.issubdtype(vals.dtype, np.floating) and (
            not np.all(np.isfinite(vals)) or np.any(vals != np.round(vals))
        ):
            raise TypeError("weights must hold integers (quantize float weights with to_fixed_point)")
        vals = vals.astype(np.int64)
        d = np.asarray(self.delays)
        if d.ndim == 0:
            dv = np.full(vals.shape, int(d), np.int64)
        else:
            if d.shape != tuple(shape):
                raise ValueError(f"delays must be a scalar or have the weights' shape {tuple(shape)}, got {d.shape}")
            dv = d[post, pre]
        if np.any(dv < 0) or (dv.size and np.any(dv > MAX_DELAY)):
            bad = int(dv[(dv < 0) | (dv > MAX_DELAY)][0])
            if not self.saturate or bad < 0:
                raise FixedPointRangeError(
                    f"delays={bad} of connection {self.pre!r}->{self.post!r} is outside [0, {MAX_DELAY}] "
                    f"(DelayDense has 6-bit delays)"
                )
            warnings.warn(f"delays above {MAX_DELAY} saturated", FixedPointSaturationWarning, stacklevel=2)
            dv = np.minimum(dv, MAX_DELAY)
        mode = determine_sign_mode(vals) if self.sign_mode == "auto" else self.sign_mode
        lo = -256 if mode == "mixed" else (-255 if mode == "inhibitory" else 0)
        hi = 0 if mode == "inhibitory" else 255
        out = (vals < lo) | (vals > hi)
        if np.any(out):
            bad = int(vals[out][0])
            if not self.saturate:
                raise FixedPointRangeError(
                    f"weights={bad} of connection {self.pre!r}->{self.post!r} is outside [{lo}, {hi}] "
                    f"for sign_mode={mode!r}; pass saturate=True to clip like Lava (with a warning)"
                )
            warnings.warn(
                f"{int(np.count_nonzero(out))} weight(s) of {self.pre!r}->{self.post!r} clipped to [{lo}, {hi}]",
                FixedPointSaturationWarning,
                stacklevel=2,
            )
        order = np.lexsort((post, pre))
        object.__setattr__(self, "_shape", (int(shape[0]), int(shape[1])))
        object.__setattr__(self, "_pre_idx", pre[order])
        object.__setattr__(self, "_post_idx", post[order])
        object.__setattr__(self, "_raw", vals[order])
        object.__setattr__(self, "_delay", dv[order].astype(np.int64))
        object.__setattr__(self, "_mode", mode)

    @property
    def shape(self) -> tuple[int, int]:
        """``(n_post, n_pre)``."""
        return self._shape

    @property
    def resolved_sign_mode(self) -> str:
        """The sign mode after ``auto`` resolution."""
        return self._mode

    @property
    def max_delay(self) -> int:
        return int(self._delay.max(initial=0))

    def synapses(self):
        """``(pre, post, effective_weight, delay)`` int64 arrays, sorted by pre."""
        w = preprocess_weights(self._raw, self._mode, self.num_weight_bits)
        return self._pre_idx, self._post_idx, w, self._delay

    def dense_weights(self, effective: bool = True) -> np.ndarray:
        """``(n_post, n_pre)`` int64 matrix of raw or pre-processed weights."""
        out = np.zeros(self._shape, np.int64)
        vals = preprocess_weights(self._raw, self._mode, self.num_weight_bits) if effective else self._raw
        out[self._post_idx, self._pre_idx] = vals
        return out

    def dense_delays(self) -> np.ndarray:
        """``(n_post, n_pre)`` int64 delay matrix (0 where no synapse)."""
        out = np.zeros(self._shape, np.int64)
        out[self._post_idx, self._pre_idx] = self._delay
        return out


@dataclasses.dataclass(frozen=True, eq=False)
class FixedPointNetwork:
    """Populations, inputs and connections of a fixed-point network."""

    populations: Sequence[FixedPointPopulation]
    inputs: Sequence[SpikeInput] = ()
    connections: Sequence[FixedPointConnection] = ()

    def __post_init__(self):
        object.__setattr__(self, "populations", tuple(self.populations))
        object.__setattr__(self, "inputs", tuple(self.inputs))
        object.__setattr__(self, "connections", tuple(self.connections))
        if not self.populations:
            raise ValueError("a FixedPointNetwork needs at least one population")
        sizes = {}
        for obj in (*self.populations, *self.inputs):
            if obj.name in sizes:
                raise ValueError(f"duplicate name {obj.name!r}: population and input names must be unique")
            sizes[obj.name] = obj.n
        pops = {p.name for p in self.populations}
        for c in self.connections:
            if c.pre not in sizes:
                raise ValueError(f"connection pre={c.pre!r} is not a population or input of this network")
            if c.post not in pops:
                raise ValueError(f"connection post={c.post!r} is not a population of this network")
            if c.shape != (sizes[c.post], sizes[c.pre]):
                raise ValueError(
                    f"connection {c.pre!r}->{c.post!r} weights have shape {c.shape}, "
                    f"expected (n_post, n_pre) = ({sizes[c.post]}, {sizes[c.pre]})"
                )

    @property
    def n_neurons(self) -> int:
        return sum(p.n for p in self.populations)
