"""Projections: synapses from one population to another, stored as CSR by presynaptic neuron."""

from __future__ import annotations

import warnings
from collections.abc import Callable

import numpy as np
import scipy.sparse as sp

from .._protocols import SynapticStorage
from .._validation import Fixed, ReadOnlyArray, check_finite, check_int_at_least, read_only
from .connectivity import Connectivity
from .population import Population, PopulationBase

__all__ = ["Projection"]

WeightSpec = float | np.ndarray | Callable[[np.random.Generator, int], np.ndarray] | None
DelaySpec = int | np.ndarray | Callable[[np.random.Generator, int], np.ndarray]

#: Largest delay in steps (int16 storage).
MAX_DELAY_STEPS = 32767


def check_weight_range(name: str, values: np.ndarray, dtype) -> None:
    """Refuse weights that the storage dtype cannot hold (float32 turns 1e39 into inf)."""
    top = float(np.finfo(dtype).max)
    arr = np.asarray(values, dtype=np.float64)
    if arr.size and np.abs(arr).max() > top:
        bad = arr.ravel()[np.argmax(np.abs(arr.ravel()) > top)].item()
        raise ValueError(f"{name} must lie within +-{top:.4g} for {np.dtype(dtype).name} storage, got {bad!r}")


_UNSET = object()


def _renamed(old: str, old_value, new: str, new_value, default):
    """``new_value``, or ``old_value`` given under the deprecated keyword ``old`` (warns)."""
    if old_value is _UNSET:
        return new_value
    if new_value is not default:
        raise TypeError(f"Projection got both {new}= and its deprecated spelling {old}=; pass {new}= only")
    warnings.warn(f"Projection({old}=...) is deprecated; use Projection({new}=...), the name of the attribute "
                  f"(projection.{new})", DeprecationWarning, stacklevel=3)
    return old_value


def _is_numeric(value) -> bool:
    """True for real numbers and arrays of them (bool and object/str arrays are not weights)."""
    if isinstance(value, (bool, np.bool_)):
        return False
    try:
        arr = np.asarray(value)
    except Exception:  # noqa: BLE001 - ragged sequences and odd objects are not numeric
        return False
    return arr.dtype.kind in "iuf"


class Projection:
    """Synapses from ``pre`` to ``post``.

    Parameters
    ----------
    pre : population
        Presynaptic population (neurons or a spike source).
    post : Population
        Postsynaptic neuron population.
    connectivity : Connectivity
        Which pairs are connected, e.g. ``FixedProbability(0.02)``.
    weights : float, array or callable, optional
        Synaptic weights in the unit of the target receptor ([A] for current-based
        neurons, [S] for conductance-based ones): a scalar, an (n_synapses,) array
        in the order the rule generates them, a dense (n_post, n_pre) matrix, or
        ``f(rng, n_synapses) -> array``.  ``FromSparse`` supplies its own.
    delays : int, array or callable
        Transmission delays in whole steps, >= 1.  A spike emitted in step ``n``
        reaches its targets at the start of step ``n + delay`` (Brian2's delay
        ``d*dt`` corresponds to ``delays = d + 1``; NEST adds the event one
        step later still).
    receptor : str
        Target input of the postsynaptic model, e.g. ``"exc"`` or ``"inh"``.
    name : str, optional
        Name within the network.
    weight, delay_steps
        Deprecated spellings of ``weights`` and ``delays`` (the names of the
        attributes); they still work and warn (``DeprecationWarning``).
    device : memr_snn.devices.Crossbar, optional
        Store the weights in memristive devices: they are mapped to conductances
        when the projection is added to a network, and every spike reads them
        through the device model (read noise, drift, wires...).  The programmed
        state is ``projection.crossbar`` (:class:`memr_snn.devices.CrossbarState`).

    Notes
    -----
    Synapses are generated when the projection is added to a network (the
    network's seed drives them), then stored in compressed sparse rows by
    presynaptic neuron: ``indptr`` (n_pre + 1,), ``indices`` (postsynaptic,
    local), ``weights`` and ``delays``.  Weight matrices exchanged with users
    have the documented shape ``(n_post, n_pre)``.
    """

    indptr = ReadOnlyArray("the synapse table is fixed when the projection is added; build a new Projection")
    indices = ReadOnlyArray("the synapse table is fixed when the projection is added; build a new Projection")
    delays = ReadOnlyArray("delays are fixed when the projection is added; build a new Projection with delays=")
    receptor = Fixed("the target receptor is set at construction; build a new Projection")
    receptor_index = Fixed("follows from receptor")

    def __init__(
        self,
        pre: PopulationBase,
        post: Population,
        connectivity: Connectivity,
        weights: WeightSpec = None,
        delays: DelaySpec = 1,
        receptor: str = "exc",
        name: str | None = None,
        device=None,
        plasticity=None,
        *,
        weight: WeightSpec = _UNSET,
        delay_steps: DelaySpec = _UNSET,
    ):
        weights = _renamed("weight", weight, "weights", weights, None)
        delays = _renamed("delay_steps", delay_steps, "delays", delays, 1)
        if not isinstance(pre, PopulationBase):
            raise TypeError(f"pre must be a population, got {pre!r}")
        if not isinstance(post, Population):
            raise TypeError(f"post must be a neuron Population (not a spike source), got {post!r}")
        if not isinstance(connectivity, Connectivity):
            raise TypeError(f"connectivity must be a Connectivity rule, got {connectivity!r}")
        if receptor not in post.neuron.receptors:
            raise ValueError(
                f"receptor must be one of {list(post.neuron.receptors)} for "
                f"{type(post.neuron).__name__}, got {receptor!r}"
            )
        if weights is None and connectivity.weights_hint() is None:
            raise ValueError("weights is required (a scalar, an array or a callable)")
        if isinstance(delays, (str, bytes)):
            raise TypeError(f"delays must be an integer >= 1, got {delays!r}")
        if not callable(delays) and np.ndim(delays) == 0:
            delays = check_int_at_least("delays", np.asarray(delays).item(), 1)
            if delays > MAX_DELAY_STEPS:
                raise ValueError(f"delays must be in [1, {MAX_DELAY_STEPS}], got {delays}")
        if isinstance(weights, (str, bytes)) or (
            weights is not None and not callable(weights) and not _is_numeric(weights)
        ):
            raise TypeError(
                f"weights must be a number, an array of numbers or a callable f(rng, n_synapses), got {weights!r:.80}"
            )
        if np.isscalar(weights) and not callable(weights):
            check_finite("weights", weights)
        if device is not None and not isinstance(device, SynapticStorage):
            raise TypeError(f"device must be a memr_snn.devices.Crossbar, got {device!r}")
        self.device = device
        self.crossbar = None  # CrossbarState, made by the network
        if plasticity is not None:
            from .plasticity import PlasticityRule

            if not isinstance(plasticity, PlasticityRule):
                raise TypeError(f"plasticity must be an STDP, TripletSTDP or RewardSTDP rule, got {plasticity!r}")
        self.plasticity = plasticity
        self.pre = pre
        self.post = post
        self.connectivity = connectivity
        self._receptor = receptor
        self._receptor_index = post.neuron.receptors.index(receptor)
        self.name = name
        self._weight_spec = weights
        self._delay_spec = delays
        self._network = None
        # CSR storage, filled by build()
        self._indptr: np.ndarray | None = None
        self._indices: np.ndarray | None = None
        self._weights: np.ndarray | None = None
        self._delays: np.ndarray | None = None  # (n_synapses,) int16, or None if uniform
        self.delay_uniform: int | None = None

    # -- generation ----------------------------------------------------------
    def build(self, rng: np.random.Generator) -> None:
        """Generate the synapses (called by ``Network.add``)."""
        n_pre, n_post = self.pre.n, self.post.n
        pre, post = self.connectivity.generate(n_pre, n_post, rng, self.pre is self.post)
        n_syn = pre.size
        w = self._resolve_weights(rng, pre, post, n_syn)
        if self.plasticity is not None:
            self.plasticity.check_weights(w, self.name)
        d = self._resolve_delays(rng, n_syn)
        key = pre * max(n_post, 1) + post
        if key.size > 1 and np.any(key[1:] < key[:-1]):
            order = np.argsort(key, kind="stable")
            pre, post, w = pre[order], post[order], w[order]
            if d is not None:
                d = d[order]
        indptr = np.zeros(n_pre + 1, dtype=np.int64)
        np.cumsum(np.bincount(pre, minlength=n_pre), out=indptr[1:])
        self._indptr = read_only(indptr)
        self._indices = read_only(post.astype(np.int32))
        self._weights = np.ascontiguousarray(w, dtype=np.float64)
        if d is None or d.size == 0 or np.all(d == d[0]):
            self.delay_uniform = int(self._delay_spec) if d is None else (int(d[0]) if d.size else 1)
            self._delays = None
        else:
            self.delay_uniform = None
            self._delays = read_only(d.astype(np.int16))

    def _resolve_weights(self, rng, pre, post, n_syn) -> np.ndarray:
        spec = self._weight_spec
        if spec is None:
            w = self.connectivity.weights_hint()
        elif callable(spec):
            w = np.asarray(spec(rng, n_syn), dtype=np.float64)
        else:
            arr = np.asarray(spec, dtype=np.float64)
            if arr.ndim == 0:
                w = np.full(n_syn, float(arr))
            elif arr.shape == (self.post.n, self.pre.n):
                w = arr[post, pre]
            elif arr.ndim == 1:
                w = arr
            else:
                raise ValueError(
                    f"weights must be a scalar, ({n_syn},) per synapse or (n_post, n_pre) = "
                    f"({self.post.n}, {self.pre.n}); got shape {arr.shape}"
                )
        w = np.asarray(w, dtype=np.float64).ravel()
        if w.size != n_syn:
            raise ValueError(f"weights has {w.size} values but the projection has {n_syn} synapses")
        check_finite("weights", w)
        return w

    def _resolve_delays(self, rng, n_syn) -> np.ndarray | None:
        spec = self._delay_spec
        if isinstance(spec, int):  # validated scalar
            return None
        d = np.asarray(spec(rng, n_syn) if callable(spec) else spec)
        if d.ndim != 1 or d.size != n_syn:
            raise ValueError(f"delays has shape {d.shape} but the projection has {n_syn} synapses")
        if d.size and not np.issubdtype(d.dtype, np.integer):
            if not np.all(np.isfinite(d)) or not np.array_equal(d, np.round(d)):
                bad = d[~np.isfinite(d) | (d != np.round(d))][0]
                raise ValueError(f"delays must be whole steps >= 1, got {bad!r}")
        if d.dtype == np.bool_ or not (np.issubdtype(d.dtype, np.integer) or np.issubdtype(d.dtype, np.floating)):
            raise TypeError(f"delays must hold whole numbers of steps, got dtype {d.dtype}")
        if d.size and (d.min() < 1 or d.max() > MAX_DELAY_STEPS):  # before any conversion: no wrap
            bad = d[(d < 1) | (d > MAX_DELAY_STEPS)][0]
            raise ValueError(f"delays must be in [1, {MAX_DELAY_STEPS}] steps, got {bad.item()!r}")
        return d.astype(np.int64)

    def _restore(self, indptr, indices, weights, delays, delay_uniform) -> None:
        """Install synapses read from a checkpoint (validated, no generation, no silent casts)."""
        int_arrays = [("indptr", indptr), ("indices", indices)] + ([("delays", delays)] if delays is not None else [])
        for label, arr in int_arrays:
            kind = np.asarray(arr).dtype.kind
            if kind not in "iu":
                raise ValueError(f"projection {self.name!r}: {label} must be an integer array, got dtype "
                                 f"{np.asarray(arr).dtype}")
        raw_indices = np.asarray(indices)
        if raw_indices.size and (raw_indices.min() < 0 or raw_indices.max() >= self.post.n):
            raise ValueError(f"projection {self.name!r}: postsynaptic index out of range [0, {self.post.n - 1}]")
        if delays is not None:
            raw_delays = np.asarray(delays)
            if raw_delays.size and (raw_delays.min() < 1 or raw_delays.max() > MAX_DELAY_STEPS):
                raise ValueError(f"projection {self.name!r}: delays must lie in [1, {MAX_DELAY_STEPS}] steps")
        indptr = np.asarray(indptr, dtype=np.int64)
        indices = raw_indices.astype(np.int32)
        weights = np.asarray(weights, dtype=np.float64)
        if indptr.shape != (self.pre.n + 1,) or indptr[0] != 0 or np.any(np.diff(indptr) < 0):
            raise ValueError(f"indptr of projection {self.name!r} is not a valid CSR row pointer")
        m = int(indptr[-1])
        if indices.shape != (m,) or weights.shape != (m,):
            raise ValueError(
                f"projection {self.name!r}: {m} synapses but {indices.size} indices, {weights.size} weights"
            )
        if m and (indices.min() < 0 or indices.max() >= self.post.n):
            raise ValueError(f"projection {self.name!r}: postsynaptic index out of range")
        check_finite("weights", weights)
        if delays is not None:
            delays = np.asarray(delays, dtype=np.int16)
            if delays.shape != (m,) or (m and (delays.min() < 1)):
                raise ValueError(f"projection {self.name!r}: invalid delays")
            self._delays, self.delay_uniform = read_only(delays.copy()), None
        else:
            self.delay_uniform = check_int_at_least("delay_uniform", delay_uniform, 1)
            if self.delay_uniform > MAX_DELAY_STEPS:
                raise ValueError(f"projection {self.name!r}: delay_uniform must lie in [1, {MAX_DELAY_STEPS}]")
            self._delays = None
        self._indptr, self._indices = read_only(indptr.copy()), read_only(indices.copy())
        self._weights = weights.copy()

    # -- access ----------------------------------------------------------------
    @property
    def n_synapses(self) -> int:
        return 0 if self.indices is None else int(self.indices.size)

    def _runtime(self):
        """The engine running this projection's network, or None before the first run."""
        net = self._network
        return None if net is None else net._sim

    def _initial_weights(self) -> np.ndarray | None:
        """The weights as described (before the engine is built): the engine copies them at build."""
        return self._weights

    def _release_weights(self) -> None:
        """The engine now holds the weights (one copy in memory): drop the description's copy."""
        self._weights = None

    @property
    def weights(self) -> np.ndarray:
        """Per-synapse weights in CSR order: a live, read-only view (it follows learning).

        Change weights by assigning, ``projection.weights = w`` (a scalar or an
        ``(n_synapses,)`` array, e.g. ``projection.weights = projection.weights * 2``):
        the values are validated (finite, representable in the network's
        ``weight_dtype``) and, on a crossbar projection, the devices are reprogrammed.
        On a crossbar projection these are the *wanted* weights; the kernel reads
        the devices.  Writing into the view in place raises ``ValueError``.

        Once the network has run, the weights live in the engine (which learning updates);
        before, in the projection.
        """
        if self._indices is None:
            raise RuntimeError("the projection has no synapses yet: add it to a network first")
        runtime = self._runtime()
        return read_only(self._weights if runtime is None else runtime.weights(self))

    @weights.setter
    def weights(self, values) -> None:
        if self._indices is None:
            raise RuntimeError("the projection has no synapses yet: add it to a network first")
        if not _is_numeric(values):
            raise TypeError(f"weights must be a number or an array of numbers, got {values!r:.80}")
        values = np.asarray(values, dtype=np.float64)
        m = self.n_synapses
        try:
            values = np.broadcast_to(values, (m,))
        except ValueError:
            raise ValueError(
                f"weights of shape {values.shape} do not fit projection {self.name!r} with "
                f"{m} synapses: pass a scalar or a ({m},) array in CSR order"
            ) from None
        check_finite("weights", values)
        runtime = self._runtime()
        dtype = self._weights.dtype if runtime is None else runtime.weights(self).dtype
        check_weight_range("weights", values, dtype)
        if runtime is not None:
            runtime.set_weights(self, values)
            return
        if self.crossbar is not None:  # validate and map before anything changes
            self.crossbar.program(values)
        self._weights[...] = values

    @property
    def max_delay(self) -> int:
        if self.delays is not None:
            return int(self.delays.max())
        return int(self.delay_uniform or 1)

    def pre_indices(self) -> np.ndarray:
        """Presynaptic (local) index of every synapse, in CSR order."""
        return np.repeat(np.arange(self.pre.n, dtype=np.int64), np.diff(self.indptr))

    def delay_array(self) -> np.ndarray:
        """Per-synapse delays in steps, (n_synapses,) int64."""
        if self.delays is not None:
            return self.delays.astype(np.int64)
        return np.full(self.n_synapses, self.delay_uniform, dtype=np.int64)

    def to_sparse(self) -> sp.csr_matrix:
        """Weights as a (n_post, n_pre) sparse matrix (duplicates summed)."""
        m = sp.csr_matrix(
            (self.weights.copy(), self.indices.copy(), self.indptr.copy()), shape=(self.pre.n, self.post.n)
        )
        return m.T.tocsr()

    def synapse_bytes(self) -> int:
        """Bytes held by the synapse arrays (indptr, indices, weights, delays)."""
        total = self.indptr.nbytes + self.indices.nbytes + self.weights.nbytes
        if self.delays is not None:
            total += self.delays.nbytes
        return total

    def __repr__(self) -> str:
        return (
            f"Projection({self.pre.name!r} -> {self.post.name!r}, receptor={self.receptor!r}, "
            f"n_synapses={self.n_synapses})"
        )
