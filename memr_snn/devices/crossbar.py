# Size: about 810 lines because CrossbarState is one class whose jobs (mapping, programming with its noise,
# lazy reads, drift compensation, faults and ageing during a session, checkpoints) all act on the same
# per-device arrays the kernel shares.
r"""Crossbar projections: synaptic weights stored as device conductances.

Give a :class:`~memr_snn.Projection` a ``device=Crossbar(...)`` and its weights
live in memristive devices:

* **encoding** -- ``"single"``: one device per synapse, :math:`w = \pm k (G - G_{ref})`
  with :math:`G_{ref} = G_{min}` (a reference column subtracted by the periphery;
  all weights must share one sign, which becomes the projection's polarity);
  ``"differential"``: a pair per synapse, :math:`w = k (G^+ - G^-)`, any sign.
* **mapping** -- :math:`k = w_{max} / (G_{max} - G_{min})` with ``w_max`` the
  largest ``|w|`` (or given).  ``scale="pow2"`` rounds ``k`` up to a power of two,
  which makes ``w -> G -> w`` exact in floating point (the ideal device then
  reproduces float weights bit for bit) at the cost of using between half and
  all of the range; ``"fit"`` uses the whole range; ``"auto"`` is ``"pow2"`` for
  continuous devices and ``"fit"`` for devices with discrete levels.  Targets
  are clipped to each device's own range (device-to-device variability) and
  rounded to its level grid; stuck devices take their stuck value.
* **programming** -- ``"direct"`` writes the targets (pulses counted as
  ``ceil(|G - G_0| / dG)`` from the reset state); ``"verify"`` runs
  program-and-verify (:func:`memr_snn.devices.program_and_verify`) with read noise,
  cycle-to-cycle noise and the pulse limit.  Either way the written state then takes
  the programming noise of ``Programming.noise_model`` (none by default), and a
  conductance-dependent drift model draws each device's exponent from its target.
* **reads** -- at every presynaptic spike the kernel reads the row's devices
  with read noise, drift, accumulated 1/f noise and relaxation at the present time,
  retention loss, and the wire / sneak-path model of the physical arrays
  (:mod:`memr_snn.devices.array`); see :mod:`memr_snn.kernel.crossbar` for the exact
  read equation.
* **faults and ageing during a session** -- :meth:`CrossbarState.inject_stuck` makes chosen devices
  stuck ON or OFF from now on (a device that fails after programming), :meth:`CrossbarState.age_devices`
  moves every programming time back (a pause without reprogramming); both act on the arrays the kernel
  reads, so the next run sees them.
* **drift compensation** -- ``drift_compensation=True`` makes a reference read of an
  all-ones input ``t0`` after each programming and scales the outputs of every later run
  by the ratio of that reference to the same read at the run's start
  (:class:`memr_snn.devices.DriftCompensation`).
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import numpy as np

from .._protocols import SynapticStorage
from .._validation import (
    check_finite,
    check_int_at_least,
    check_nonnegative,
    check_positive,
    check_stuck_request,
)
from ..kernel.device import DV_DOWN, DV_GMAX, DV_GMIN, DV_HIDDEN, DV_LIFE, DV_SHOWN, DV_UP, DV_WEAR, N_DV
from .array import ArraySpec, Tiling, tile_projection, wire_model
from .compensation import DriftCompensation, ones_read
from .endurance import FAIL_CODES, full_cycles
from .nonideal import Drift, ReadNoise, Retention, StuckFaults, Variability
from .pulse import LinearStepDevice, PulseDevice, direct_write

__all__ = ["Crossbar", "CrossbarState", "ENCODINGS", "PROGRAM_METHODS", "DEFAULT_V_READ", "DEFAULT_T_READ"]

ENCODINGS = ("single", "differential")
PROGRAM_METHODS = ("direct", "verify")
SCALES = ("auto", "pow2", "fit")
#: read pulse used for read energy when no programming parameters are given
DEFAULT_V_READ = 0.2  # [V]
DEFAULT_T_READ = 10e-9  # [s]

_COMPONENTS = ("device", "variability", "read_noise", "faults", "drift", "retention", "endurance", "programming")


@dataclasses.dataclass(frozen=True)
class Crossbar(SynapticStorage):
    """How a projection's weights are stored in devices (a specification; see the module docstring).

    Any component left ``None`` comes from ``preset`` (a built-in name, a path to a
    ``device_preset.json`` or a loaded preset), or is ideal without a preset.
    """

    preset: Any = None
    """Device preset: name (``memr_snn.devices.list_presets()``), path, or preset object."""
    device: PulseDevice | None = None
    """Pulse-response model with ``g_min``, ``g_max`` [S], steps and levels."""
    encoding: str = "differential"
    """``"single"`` or ``"differential"``."""
    w_max: float | None = None
    """Weight magnitude mapped to the full conductance range; default the largest ``|w|``."""
    scale: str = "auto"
    """``"auto"``, ``"pow2"`` or ``"fit"`` (module docstring)."""
    program: str = "direct"
    """``"direct"`` or ``"verify"`` (program-and-verify)."""
    tolerance: float = 0.01
    """Program-and-verify tolerance, relative to ``g_max - g_min`` [1]."""
    max_pulses: int = 100
    """Program-and-verify pulse limit per device [1]."""
    array: ArraySpec = dataclasses.field(default_factory=ArraySpec)
    """Physical array geometry, cell type and wires."""
    age: float = 0.0
    """Time from programming to the start of the simulation [s] (drift, retention)."""
    variability: Variability | None = None
    read_noise: ReadNoise | None = None
    faults: StuckFaults | None = None
    drift: Drift | None = None
    retention: Retention | None = None
    endurance: Any = None
    programming: Any = None
    seed: int | None = None
    """Seed of the device draws (variability, faults, drift exponents, read noise); default from the network."""
    drift_compensation: bool = False
    """Global drift compensation: scale each run's outputs by a reference read at programming over the
    same read at the run's start (module docstring)."""

    def __post_init__(self) -> None:
        if self.encoding not in ENCODINGS:
            raise ValueError(f"encoding must be one of {list(ENCODINGS)}, got {self.encoding!r}")
        if self.scale not in SCALES:
            raise ValueError(f"scale must be one of {list(SCALES)}, got {self.scale!r}")
        if self.program not in PROGRAM_METHODS:
            raise ValueError(f"program must be one of {list(PROGRAM_METHODS)}, got {self.program!r}")
        if self.w_max is not None:
            check_positive("w_max", self.w_max)
        check_positive("tolerance", self.tolerance)
        check_int_at_least("max_pulses", self.max_pulses, 1)
        check_nonnegative("age", self.age, "s")
        if not isinstance(self.array, ArraySpec):
            raise TypeError(f"array must be an ArraySpec, got {self.array!r}")
        if self.device is not None and not isinstance(self.device, PulseDevice):
            raise TypeError(f"device must be a PulseDevice (e.g. LinearStepDevice), got {self.device!r}")
        for name, cls in (("variability", Variability), ("read_noise", ReadNoise), ("faults", StuckFaults),
                          ("drift", Drift), ("retention", Retention)):
            value = getattr(self, name)
            if value is not None and not isinstance(value, cls):
                raise TypeError(f"{name} must be a {cls.__name__} or None, got {value!r}")
        if self.seed is not None:
            check_int_at_least("seed", self.seed, 0)
        if not isinstance(self.drift_compensation, bool):
            raise TypeError(f"drift_compensation must be True or False, got {self.drift_compensation!r}")

    def resolve(self) -> dict[str, Any]:
        """The effective components: explicit fields over the preset's, ideal defaults last."""
        preset = None
        if self.preset is not None:
            from .presets import load_preset

            preset = self.preset if not isinstance(self.preset, str) else load_preset(self.preset)
        out: dict[str, Any] = {}
        for name in _COMPONENTS:
            value = getattr(self, name)
            if value is None and preset is not None:
                value = getattr(preset, name)
            out[name] = value
        if out["device"] is None:
            out["device"] = LinearStepDevice(g_min=0.0, g_max=100e-6, dg_up=1e-6, dg_down=1e-6)
        out["preset_name"] = getattr(preset, "name", None)
        return out

    def make_state(self, pre: np.ndarray, post: np.ndarray, weights: np.ndarray, seed: int, name: str,
                   n_pre: int) -> CrossbarState:
        """Program devices for one projection's synapses (called by the network when the projection is added)."""
        return CrossbarState(self, pre, post, weights, seed, name=name, n_pre=n_pre)


def _dv_column(col: int, doc: str) -> property:
    """A per-device array that is column ``col`` of ``CrossbarState.dv`` (a view; assignment writes the table)."""
    return property(lambda self: self.dv[:, col], lambda self, value: self.dv.__setitem__((slice(None), col), value),
                    doc=doc)


def _pow2_at_least(x: float) -> float:
    k = 2.0 ** math.ceil(math.log2(x))
    while k < x:
        k *= 2.0
    return k


class CrossbarState:
    """The devices of one crossbar projection: conductances, drift exponents, wear, placement, counters.

    Built by the network when the projection is added; the simulator swaps its
    per-device arrays for views into the kernel's flat arrays, so what the kernel
    reads and what this object shows are the same memory.
    """

    def __init__(self, spec: Crossbar, pre: np.ndarray, post: np.ndarray, weights: np.ndarray,
                 seed: int, name: str = "", n_pre: int | None = None):
        self.spec = spec
        self.name = name
        comp = spec.resolve()
        self.components = comp
        self.device: PulseDevice = comp["device"]
        self.differential = spec.encoding == "differential"
        self.n_synapses = int(np.asarray(weights).size)
        self.per = 2 if self.differential else 1
        self.n_devices = self.per * self.n_synapses
        self.seed = int(seed) & ((1 << 63) - 1)
        rng = np.random.default_rng([self.seed, 11])
        dev = self.device
        n = self.n_devices
        var = comp["variability"]
        d2d = var.sample(dev, n, rng) if var is not None else {}
        # per-device table of the pulse kernels: own bounds and steps, endurance budget and wear (full cycles)
        self.dv = dev.table(n, g_min=d2d.get("g_min"), g_max=d2d.get("g_max"), dg_up=d2d.get("dg_up"),
                            dg_down=d2d.get("dg_down"))
        self.step_spread = var is not None and (var.dg_d2d > 0.0 or var.up_down_d2d > 0.0)
        faults = comp["faults"]
        self.fault = faults.sample(n, rng) if faults is not None else np.zeros(n, dtype=np.int8)
        drift = comp["drift"]
        self.drift_on = drift is not None and not drift.is_ideal
        # drift exponents are stored as float32 (half the memory traffic of the read; 1e-7 relative);
        # conductance-dependent ones are drawn at every programming instead
        fixed_nu = self.drift_on and not drift.depends_on_g
        self.nu = (drift.sample_nu(n, rng) if fixed_nu else np.zeros(n)).astype(np.float32)
        self.nu[self.fault != 0] = 0.0  # a stuck device holds its value
        ret = comp["retention"]
        # retention loss that stays below double precision over 1e9 s (30 years) is not simulated
        self.retention_on = ret is not None and float(ret.survival(1e9)) < 1.0
        self.tf = rng.exponential(ret.tau, n) if self.retention_on else np.full(n, np.inf)
        self.tf[self.fault != 0] = np.inf
        endu = comp["endurance"]
        self.budget = endu.sample(n, rng) if endu is not None else np.full(n, np.inf)
        self.counts = np.zeros(n, dtype=np.int64)
        self.refreshes = 0
        self._fail_state = getattr(endu, "fail_state", "last")
        self._counter = 0
        self.unconverged = 0
        self.g = np.zeros(n)
        self.g_target = np.zeros(n)
        self.tp = np.full(n, -float(spec.age))
        self.tiling: Tiling = tile_projection(pre, post, spec.array, self.differential)
        self.n_pre = int(n_pre) if n_pre is not None else (int(np.max(pre)) + 1 if np.size(pre) else 0)
        self.rtp = np.full(self.n_pre, np.nan)  # programming time shared by a row's devices, NaN if mixed
        self.rft = np.full(self.n_pre, np.inf)  # earliest state loss in the row: min(tp + tf)
        self.rs = np.zeros(n)
        self.gs = np.zeros(n)
        self.wire_on = not spec.array.is_ideal
        self.noise_epoch = 0  # bumped at every programming: the slow (1/f, relaxation) draws and write noise
        self.comp_alpha = 1.0  # drift-compensation factor applied to the outputs
        self.comp_ref = 0.0  # reference readout of the drift compensation (0: not calibrated)
        self._xf_row = self._xi_row = None  # the simulator's live table rows, once built
        rn = comp["read_noise"]
        self.read_sigma = float(rn.read_noise) if rn is not None else 0.0
        prog = comp["programming"]
        self.v_read = float(getattr(prog, "v_read", DEFAULT_V_READ))
        self.t_read = float(getattr(prog, "t_read", DEFAULT_T_READ))
        # accounting
        self.program_pulses = 0
        self.verify_reads = 0
        self.program_energy = 0.0
        self.program_latency = 0.0
        self.clipped = 0
        self.acc = np.zeros(4)  # reads, read energy, learning pulses up/down: a view into the simulator's table
        self._now = 0.0
        self.scale, self.g_ref, self.polarity = self._choose_scale(np.asarray(weights, dtype=np.float64))
        self.program(weights, now=-float(spec.age))  # programmed ``age`` seconds before t = 0
        self.counts0 = self.counts.copy()  # pulses of the initial programming (the report's baseline)
        self.wear0 = self.wear.copy()  # wear of the initial programming [full cycles]

    # ------------------------------------------------------- per-device table
    # columns of ``dv`` (kernel/device.py) as named per-device arrays (views: writing them writes the table)
    g_min_dev = _dv_column(DV_GMIN, "Each device's lower bound [S].")
    g_max_dev = _dv_column(DV_GMAX, "Each device's upper bound [S].")
    dg_up_dev = _dv_column(DV_UP, "Each device's potentiation step scale [S].")
    dg_down_dev = _dv_column(DV_DOWN, "Each device's depression step scale [S].")
    budget = _dv_column(DV_LIFE, "Each device's endurance budget [full cycles] (``inf``: unlimited).")
    wear = _dv_column(DV_WEAR, "Each device's wear so far [full cycles] (:mod:`memr_snn.devices.endurance`).")
    g_hidden = _dv_column(DV_HIDDEN, "Each device's hidden state under write noise [S] (module ``devices.pulse``).")
    g_shown = _dv_column(DV_SHOWN, "The conductance each device's last noisy write left [S] (write noise).")

    # ------------------------------------------------------------- mapping
    def _choose_scale(self, w: np.ndarray) -> tuple[float, float, float]:
        check_finite("weights", w)
        dev, spec = self.device, self.spec
        polarity = 1.0
        if not self.differential:
            if np.any(w > 0) and np.any(w < 0):
                raise ValueError(
                    f"projection {self.name!r}: single-device encoding needs weights of one sign, got both "
                    f"(min {w.min()!r}, max {w.max()!r}); use encoding='differential'"
                )
            polarity = -1.0 if np.any(w < 0) else 1.0
        w_max = spec.w_max if spec.w_max is not None else (float(np.abs(w).max()) if w.size else 1.0)
        if w_max == 0.0:
            w_max = 1.0
        k = w_max / (dev.g_max - dev.g_min)
        mode = spec.scale
        if mode == "auto":
            mode = "fit" if dev.levels >= 2 else "pow2"
        if mode == "pow2":
            k = _pow2_at_least(k)
        g_ref = 0.0 if self.differential else dev.g_min
        return k, g_ref, polarity

    def targets(self, weights) -> np.ndarray:
        """Target conductance of every device for ``weights`` (per synapse, CSR order) [S]."""
        w = np.asarray(weights, dtype=np.float64).ravel()
        if w.size != self.n_synapses:
            raise ValueError(f"weights has {w.size} values but the crossbar holds {self.n_synapses} synapses")
        check_finite("weights", w)
        dev = self.device
        if self.differential:
            t = np.empty(self.n_devices)
            t[0::2] = dev.g_min + np.maximum(w, 0.0) / self.scale
            t[1::2] = dev.g_min + np.maximum(-w, 0.0) / self.scale
        else:
            if np.any(w * self.polarity < 0):
                bad = w[w * self.polarity < 0][0]
                raise ValueError(
                    f"projection {self.name!r}: weight {bad!r} has the wrong sign for this single-device "
                    f"crossbar (polarity {self.polarity:+.0f})"
                )
            t = dev.g_min + np.abs(w) / self.scale
        return t

    def program(self, weights, method: str | None = None, now: float | None = None) -> None:
        """Program the devices to hold ``weights`` (per synapse, CSR order).

        ``method`` overrides the spec's ``program``; ``now`` is the programming time
        [s] (default: the network's present time; before the first run, ``-age``).
        Targets are validated before any device is touched.
        """
        target = self.targets(weights)
        method = method or self.spec.program
        if method not in PROGRAM_METHODS:
            raise ValueError(f"method must be one of {list(PROGRAM_METHODS)}, got {method!r}")
        dev = self.device
        lo, hi = self.g_min_dev, self.g_max_dev
        clipped = (target < lo) | (target > hi)
        self.clipped = int(clipped.sum())
        target = np.clip(target, lo, hi)
        if dev.levels >= 2:  # each device's own level grid
            step = (hi - lo) / (dev.levels - 1)
            target = np.clip(lo + np.round((target - lo) / step) * step, lo, hi)
        healthy = self.fault == 0
        g_init = np.where(self.counts == 0, lo, self.g)  # a fresh device starts in its reset state
        self.noise_epoch += 1
        if method == "direct":
            new = target.copy()
            n_set, n_reset, swing = (np.where(healthy, a, 0) for a in direct_write(
                dev, g_init, new, lo, self.dg_up_dev, self.dg_down_dev))
            self.counts += n_set + n_reset
            self.wear[...] = self.wear + full_cycles(swing, lo, hi)
            self._wear_out(healthy & (self.wear >= self.budget), new)
            prog = self.components["programming"]
            self.program_pulses += int(n_set.sum() + n_reset.sum())
            self.program_energy += float((n_set * float(getattr(prog, "e_set", 0.0))
                                          + n_reset * float(getattr(prog, "e_reset", 0.0))).sum())
            self.program_latency += float((n_set.sum() + n_reset.sum()) * getattr(prog, "t_pulse", 0.0))
            self.g[...] = np.where(healthy, new, self.g)
        else:
            from .programming import program_and_verify

            table = np.ascontiguousarray(self.dv)
            res = program_and_verify(
                dev, target, g_init, read_noise=self.read_sigma, tolerance=self.spec.tolerance,
                max_pulses=self.spec.max_pulses, programming=self.components["programming"],
                seed=self.seed + 1, table=table, fault=self.fault, counts=self.counts,
                counter=self._counter, fail_state=self._fail_state,
            )
            self.dv[...] = table
            self._counter += 1
            self.g[...] = np.where(healthy, res.g, self.g)
            self.fault[...] = res.fault
            self.counts[...] = res.counts
            self.program_pulses += int(np.sum(res.pulses))
            self.verify_reads += int(np.sum(res.verify_reads))
            self.program_energy += float(np.sum(res.energy))
            self.program_latency += float(np.sum(res.latency))
            self.unconverged = int(np.sum(~res.converged & healthy))
        self._write_noise(target, lo, hi)
        stuck_on, stuck_off = self.fault == 1, self.fault == -1
        self.g[stuck_on] = hi[stuck_on]
        self.g[stuck_off] = lo[stuck_off]
        self.g_target[...] = target
        self.tp[...] = self._now if now is None else now
        self._after_write()
        if self.spec.drift_compensation:
            self.calibrate_compensation()
        self._sync_rows()

    def _write_noise(self, target: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> None:
        """Programming noise on the healthy devices just written, and drift exponents drawn from the targets."""
        healthy = self.fault == 0
        prog, drift, dev = self.components["programming"], self.components["drift"], self.device
        if prog is not None and prog.noise_on:
            rng = np.random.default_rng([self.seed, 12, self.noise_epoch])
            noisy = np.clip(prog.write_noise(self.g, dev.g_min, dev.g_max, rng), lo, hi)
            self.g[...] = np.where(healthy, noisy, self.g)
        if self.drift_on and drift.depends_on_g:
            rng = np.random.default_rng([self.seed, 13, self.noise_epoch])
            self.nu[...] = drift.sample_nu(self.n_devices, rng, target, dev.g_max).astype(np.float32)

    def _wear_out(self, failing: np.ndarray, g_new: np.ndarray) -> None:
        """Devices in ``failing`` reached their endurance budget: they stick (``fail_state``)."""
        if not np.any(failing):
            return
        code = FAIL_CODES[self._fail_state]
        self.fault[failing] = code
        if code == -1:
            g_new[failing] = self.g_min_dev[failing]
        elif code == 1:
            g_new[failing] = self.g_max_dev[failing]
        self.nu[failing] = 0.0
        self.tf[failing] = np.inf

    def _after_write(self) -> None:
        self.nu[self.fault != 0] = 0.0
        self._update_row_times()
        if self.wire_on:
            self._wire()

    def _wire(self) -> None:
        """The wire / sneak-path correction (``rs``, ``gs``) from the present conductances."""
        cache = self.__dict__.setdefault("_nodal_cache", {})  # per tile: last nodal solve (array.wire_model)
        rs, gs = wire_model(self.tiling, self.g, self.device.g_min, cache)
        self.rs[...] = rs
        self.gs[...] = gs
        self._g_wired = np.array(self.g)

    def refresh_wire_model(self) -> bool:
        """Recompute the wire / sneak-path correction if the conductances changed since it was last computed.

        The simulator calls this every ``ArraySpec.ir_refresh`` of simulated time during a run of a plastic
        crossbar (devices written by the learning rule); programming and :meth:`apply_pulses` recompute it
        anyway.  Returns True if it was recomputed.
        """
        last = self.__dict__.get("_g_wired")
        if not self.wire_on or (last is not None and np.array_equal(last, self.g)):
            return False
        self._wire()
        return True

    def _update_row_times(self) -> None:
        """Row summaries the kernel's fast paths read: ``rtp[i]`` the programming time all devices of
        row ``i`` share (NaN if they differ), ``rft[i]`` the earliest retention loss ``min(tp + tf)``."""
        pre = self.tiling.pre  # CSR order: sorted by row
        if pre.size == 0:
            return
        tp = np.asarray(self.tp)
        starts = np.searchsorted(pre, np.arange(self.n_pre)) * self.per
        nonempty = np.diff(np.append(starts, tp.size)) > 0
        idx = starts[nonempty]
        lo = np.minimum.reduceat(tp, idx)
        hi = np.maximum.reduceat(tp, idx)
        rtp = np.full(self.n_pre, np.nan)
        rtp[nonempty] = np.where(lo == hi, lo, np.nan)
        self.rtp[...] = rtp
        rft = np.full(self.n_pre, np.inf)
        rft[nonempty] = np.minimum.reduceat(tp + np.asarray(self.tf), idx)
        self.rft[...] = rft

    def apply_pulses(self, pulses, now: float | None = None) -> None:
        """Send signed program pulses to the synapses (what a learning rule emits).

        ``pulses[k] = +n`` sends ``n`` potentiating pulses to synapse ``k`` (its G+
        device when differential), ``-n`` ``n`` depressing ones (single device) or ``n``
        potentiating pulses to its G- device (differential: both devices only ever
        move up, as in PCM pairs, until a refresh reprograms them).  Each pulse follows
        the device's update law with cycle-to-cycle noise, is counted against the
        device's endurance budget, and costs ``e_set`` / ``e_reset``.  Pulsed devices
        restart their drift clock at ``now`` (default: the network's present time).
        """
        from ..kernel.device import apply_pulses as kernel_apply
        from ..kernel.device import refresh_pairs

        n = np.asarray(pulses)
        if n.shape != (self.n_synapses,) or (n.size and not np.issubdtype(n.dtype, np.integer)):
            raise ValueError(f"pulses must be ({self.n_synapses},) integers, got shape {n.shape} dtype {n.dtype}")
        n = n.astype(np.int64)
        if self.differential:
            dev_pulses = np.zeros(self.n_devices, dtype=np.int64)
            dev_pulses[0::2] = np.maximum(n, 0)
            dev_pulses[1::2] = np.maximum(-n, 0)
        else:
            dev_pulses = n
        if not np.any(dev_pulses):
            return
        g = np.ascontiguousarray(self.g)
        fault = np.ascontiguousarray(self.fault)
        counts = np.ascontiguousarray(self.counts)
        table = np.ascontiguousarray(self.dv)
        code = FAIL_CODES[self._fail_state]
        p = self.device.kernel_params()
        kernel_apply(p, table, g, dev_pulses, counts, np.uint64(self.seed), np.uint64(self._counter), fault, code)
        touched = dev_pulses != 0
        up = int(dev_pulses[dev_pulses > 0].sum())
        down = int(-dev_pulses[dev_pulses < 0].sum())
        if self.differential and self.device.refresh > 0.0:  # one-sided pairs: refresh the saturated ones
            before, out, dev = g.copy(), np.zeros(3, dtype=np.int64), self.device
            cap = int(4.0 * (dev.g_max - dev.g_min) / dev.dg_up) + 16 if dev.dg_up > 0 else 16
            refresh_pairs(p, table, g, counts, fault, code, np.uint64(self.seed) ^ np.uint64(0x5EF5),
                          np.uint64(self._counter), float(dev.refresh), cap, out)
            self.refreshes, up, down = self.refreshes + int(out[0]), up + int(out[1]), down + int(out[2])
            touched |= g != before
        self._counter += 1
        self.g[...], self.fault[...], self.counts[...] = g, fault, counts
        self.dv[...] = table
        self.tp[touched] = self._now if now is None else now
        prog = self.components["programming"]
        self.program_pulses += up + down
        self.program_energy += up * float(getattr(prog, "e_set", 0.0)) + down * float(getattr(prog, "e_reset", 0.0))
        self.program_latency += (up + down) * float(getattr(prog, "t_pulse", 0.0))
        self._after_write()

    # ------------------------------------------------------------------- reads
    @property
    def flicker_on(self) -> bool:
        """True when reads carry accumulated 1/f noise."""
        rn = self.components["read_noise"]
        return rn is not None and rn.flicker_on

    @property
    def relax_on(self) -> bool:
        """True when conductances relax with a spread growing with log time."""
        ret = self.components["retention"]
        return ret is not None and ret.relax_sigma > 0.0

    @property
    def uses_age(self) -> bool:
        """True when reads depend on each device's time since programming (``tp``)."""
        return self.drift_on or self.retention_on or self.flicker_on or self.relax_on

    def kernel_rows(self, compensated: bool = True) -> tuple[np.ndarray, np.ndarray]:
        """This crossbar's rows of the kernel tables (``XF_*``, ``XI_*``); ``compensated=False`` leaves the
        drift-compensation factor out of the scale."""
        from ..kernel import crossbar as X

        xf = np.zeros(X.N_XF)
        xi = np.zeros(X.N_XI, dtype=np.int64)
        xf[X.XF_SCALE] = self.polarity * self.scale * (self.comp_alpha if compensated else 1.0)
        xf[X.XF_GREF] = self.g_ref
        xf[X.XF_SIGMA] = self.read_sigma
        drift = self.components["drift"]
        xf[X.XF_T0] = drift.t0 if drift is not None else 1.0
        xf[X.XF_V2T] = self.v_read ** 2 * self.t_read
        dev, ret, rn = self.device, self.components["retention"], self.components["read_noise"]
        xf[X.XF_GFAIL] = ret.fail_conductance(dev.g_min, dev.g_max) if ret is not None else dev.g_min
        xf[X.XF_GNORM] = dev.g_max
        xf[X.XF_FLICK] = rn.flicker_scale if self.flicker_on else 0.0
        xf[X.XF_TRF] = rn.flicker_t_read if rn is not None else 250e-9
        xf[X.XF_RELAX] = ret.relax_sigma * (dev.g_max - dev.g_min) if self.relax_on else 0.0
        xf[X.XF_RT0] = ret.relax_t0 if ret is not None else 1.0
        xi[X.XI_EPOCH] = self.noise_epoch
        xi[X.XI_DIFF] = int(self.differential)
        xi[X.XI_DRIFT] = int(self.drift_on)
        xi[X.XI_SEED] = int(np.uint64(self.seed ^ 0x5DEECE66D).view(np.int64))
        xi[X.XI_RET] = int(self.retention_on)
        xi[X.XI_WIRE] = int(self.wire_on)
        xi[X.XI_ANALOG] = int(self.device.is_ideal and not self.differential and not self.step_spread)
        xi[X.XI_FAIL] = FAIL_CODES[self._fail_state]
        return xf, xi

    @property
    def is_ideal(self) -> bool:
        """True when reads return exactly ``k (G - G_ref)`` of the programmed conductances."""
        return self.read_sigma == 0.0 and not (self.uses_age or self.wire_on) and self.comp_alpha == 1.0

    def read_weights(self, t: float | None = None, *, step: int | None = None, dt: float | None = None,
                     noise: bool = False) -> np.ndarray:
        """Weights a spike would deliver through every synapse (numpy twin of the read kernel).

        At time ``t`` [s] (default: now), or at ``step`` of a run with time step
        ``dt``.  Without ``noise`` the read noise (white and 1/f) is left out; the
        relaxation, a change of the conductance itself, stays in.  With it, the draw is
        exactly the kernel's at ``step`` (``t`` alone: step 1 of a run with ``dt = t``).
        """
        from ..kernel import crossbar as X
        from ..kernel.reference import read_row_ref

        if step is not None:
            if dt is None:
                raise ValueError("dt is required with step")
            t_steps, t_dt = int(step), float(dt)
        else:
            t_steps, t_dt = 1, float(self._now if t is None else t)
        xf, xi = self.kernel_rows()
        if not noise:
            xf[X.XF_SIGMA] = 0.0
            xf[X.XF_FLICK] = 0.0
        out = np.zeros(self.n_synapses)
        acc = np.zeros((1, X.N_ACC))
        read_row_ref(0, None, 0, self.n_synapses, t_steps, t_dt, xf[None, :], xi[None, :], self.g, self.nu, self.tp,
                     self.rtp, self.tf, self.rft, self.rs, self.gs, acc, out)
        return out

    def read_conductances(self, t: float | None = None, *, noise: bool = False,
                          devices: tuple[int, int] | None = None) -> np.ndarray:
        """Every device's effective read conductance at time ``t`` [s] [S] (or those of the
        contiguous range ``devices = (lo, hi)`` of device indices, e.g. the devices of one row).

        Drift, relaxation, retention loss and the wire / sneak-path model as the kernel applies
        them; the white and 1/f read noise only with ``noise`` (the white draw of step 1 of a run
        with ``dt = t``, the 1/f draw of the present noise epoch).  These reads are not counted in
        :attr:`reads` (the kernel's counters); a caller that models them as hardware reads counts them.
        """
        from ..kernel import crossbar as X
        from ..kernel.reference import read_row_ref

        xf, xi = self.kernel_rows()
        if not noise:
            xf[X.XF_SIGMA] = 0.0
            xf[X.XF_FLICK] = 0.0
        xf[X.XF_SCALE] = 1.0
        xf[X.XF_GREF] = 0.0
        xi[X.XI_DIFF] = 0  # read every device on its own
        lo, hi = (0, self.n_devices) if devices is None else (int(devices[0]), int(devices[1]))
        if not 0 <= lo <= hi <= self.n_devices:
            raise ValueError(f"devices must be a range (lo, hi) with 0 <= lo <= hi <= {self.n_devices}, "
                             f"got {devices!r}")
        out = np.zeros(hi - lo)
        acc = np.zeros((1, X.N_ACC))
        tt = float(self._now if t is None else t)
        read_row_ref(0, None, lo, hi, 1, tt, xf[None, :], xi[None, :], self.g, self.nu, self.tp,
                     self.rtp, self.tf, self.rft, self.rs, self.gs, acc, out)
        return out

    # ------------------------------------------------- faults and ageing during a session
    def inject_stuck(self, devices, state=1) -> None:
        """Make ``devices`` (indices of the per-device arrays; a synapse's G+ is ``2 k``, its G- ``2 k + 1``
        when differential) stuck from now on: ``state`` +1 stuck ON (each device's own ``g_max``), -1 stuck OFF
        (its own ``g_min``), one value or one per device.

        A fault that appears after programming (a filament that fails open or shorted): the device holds
        its bound, stops drifting and loses no state by retention, as the devices found stuck at
        programming do; the fault table :attr:`fault` shows it (so a later programming maps around it).
        Refused before any device is touched: indices out of range or repeated, devices already stuck,
        states other than +1 / -1.
        """
        idx, st = check_stuck_request(devices, state, self.n_devices, self.fault)
        st = st.astype(np.int8)
        self.fault[idx] = st
        self.g[idx] = np.where(st == 1, self.g_max_dev[idx], self.g_min_dev[idx])
        self.tf[idx] = np.inf
        self._after_write()  # drift exponent 0, row summaries, wire model

    def age_devices(self, seconds: float) -> None:
        """Make every device ``seconds`` [s] older: its programming time moves back by that much (a pause
        between sessions without reprogramming; drift, relaxation and retention follow at the next read)."""
        check_nonnegative("seconds", seconds, "s")
        self.tp[...] = np.asarray(self.tp) - float(seconds)
        self._update_row_times()

    # ------------------------------------------------------- drift compensation
    def new_noise_epoch(self) -> None:
        """Redraw the slow (1/f, relaxation) noise samples of every device, as for a new inference
        experiment (AIHWKit redraws them at every evaluation time); programming does it too."""
        self.noise_epoch += 1
        self._sync_rows()

    def calibrate_compensation(self, t: float | None = None) -> float:
        """Reference read of the drift compensation: an all-ones input at time ``t`` [s] (default: the
        drift reference time ``t0`` after the latest programming).  Returns the readout."""
        if t is None:
            drift = self.components["drift"]
            t = float(np.max(self.tp)) + (drift.t0 if drift is not None else 1.0) if self.tp.size else 0.0
        comp = DriftCompensation()
        self.comp_ref = comp.calibrate(ones_read(self, t))
        self.comp_alpha = 1.0
        return self.comp_ref

    def compensate(self, t: float | None = None) -> float:
        """Set the drift-compensation factor for reads around time ``t`` [s] (default: now) from an
        all-ones read; returns it.  Calibrates first if it never was."""
        if self.comp_ref <= 0.0:
            self.calibrate_compensation()
        comp = DriftCompensation(reference=self.comp_ref)
        self.comp_alpha = comp.factor(ones_read(self, float(self._now if t is None else t)))
        self._sync_rows()
        return self.comp_alpha

    def begin_run(self, now: float) -> None:
        """Called by the simulator before each run: re-estimates the drift compensation at ``now``."""
        self._now = float(now)
        if self.spec.drift_compensation and self.n_synapses:
            self.compensate(self._now)

    def _sync_rows(self) -> None:
        """Push the scale (compensation) and noise epoch into the simulator's tables, once it is built."""
        if self._xf_row is None:
            return
        from ..kernel import crossbar as X

        xf, xi = self.kernel_rows()
        self._xf_row[X.XF_SCALE] = xf[X.XF_SCALE]
        self._xi_row[X.XI_EPOCH] = xi[X.XI_EPOCH]

    # ------------------------------------------------------------- checkpoints
    _ARRAYS = ("g", "g_target", "nu", "tp", "rtp", "rft", "tf", "rs", "gs", "counts", "counts0", "budget", "fault",
               "g_min_dev", "g_max_dev", "dg_up_dev", "dg_down_dev", "wear", "wear0", "acc", "g_hidden", "g_shown")
    _SCALARS = ("differential", "n_synapses", "n_pre", "per", "n_devices", "seed", "drift_on", "retention_on",
                "wire_on", "read_sigma", "v_read", "t_read", "program_pulses", "verify_reads", "program_energy",
                "program_latency", "clipped", "unconverged", "scale", "g_ref", "polarity", "_now", "_counter",
                "_fail_state", "noise_epoch", "comp_alpha", "comp_ref", "step_spread", "refreshes")
    #: scalars added after the first checkpoints were written, with the value that reproduces them
    _SCALAR_DEFAULTS = {"noise_epoch": 0, "comp_alpha": 1.0, "comp_ref": 0.0, "step_spread": False, "refreshes": 0}
    #: arrays added after the first checkpoints were written (per-device steps, full-cycle wear): files
    #: without them get the nominal steps (what the engine used then) and no wear
    _LEGACY_ARRAYS = ("dg_up_dev", "dg_down_dev", "wear", "wear0")
    #: arrays added later still (the write-noise state): files without them were written without write
    #: noise, and zeros make the kernels take each device's conductance as its state, as they did
    _OPTIONAL_ARRAYS = ("g_hidden", "g_shown")

    def to_checkpoint(self) -> tuple[dict, dict[str, np.ndarray]]:
        """``(meta, arrays)``: everything needed to continue with these exact devices."""
        from .presets import DevicePreset, preset_to_dict

        comps = {name: value for name, value in self.components.items() if name in _COMPONENTS and value is not None}
        preset = DevicePreset(name=self.components.get("preset_name") or "crossbar", **comps)
        spec = {f.name: getattr(self.spec, f.name) for f in dataclasses.fields(self.spec)
                if f.name not in _COMPONENTS and f.name not in ("preset", "array")}
        meta = {
            "spec": spec,
            "array": dataclasses.asdict(self.spec.array),
            "components": preset_to_dict(preset),
            "present": sorted(comps),
            "state": {k: (v.item() if isinstance(v, np.generic) else v)
                      for k, v in ((k, getattr(self, k)) for k in self._SCALARS)},
        }
        return meta, {k: np.asarray(getattr(self, k)) for k in self._ARRAYS}

    @classmethod
    def from_checkpoint(cls, meta: dict, arrays: dict[str, np.ndarray], pre: np.ndarray, post: np.ndarray,
                        name: str = "") -> CrossbarState:
        """Rebuild a state saved by :meth:`to_checkpoint` (no device is re-drawn or re-programmed)."""
        from .presets import preset_from_dict

        preset = preset_from_dict(meta["components"])
        comps = {c: getattr(preset, c) for c in meta["present"]}
        spec = Crossbar(array=ArraySpec(**meta["array"]), **meta["spec"], **comps)
        self = cls.__new__(cls)
        self.spec, self.name = spec, name
        self.components = spec.resolve()
        self.components["preset_name"] = preset.name
        self.device = self.components["device"]
        unknown = sorted(set(meta["state"]) - set(self._SCALARS))
        if unknown:  # never set attributes a file names beyond the saved scalars
            raise ValueError(f"crossbar {name!r}: unknown state fields {unknown}; allowed: {list(self._SCALARS)}")
        self._xf_row = self._xi_row = None
        for k, v in {**self._SCALAR_DEFAULTS, **meta["state"]}.items():
            setattr(self, k, v)
        n = int(self.n_devices)
        self.dv = np.zeros((n, N_DV))
        legacy = not any(k in arrays for k in self._LEGACY_ARRAYS)
        if legacy:
            arrays = {**arrays, **self._legacy_arrays(arrays, n, name)}
        arrays = {**{k: np.zeros(n) for k in self._OPTIONAL_ARRAYS}, **arrays}
        for k in self._ARRAYS:
            arr = np.array(arrays[k], dtype=np.float32 if k == "nu" else None)
            want = (4,) if k == "acc" else ((int(self.n_pre),) if k in ("rtp", "rft") else (n,))
            if arr.shape != want:
                raise ValueError(f"crossbar {name!r}: array {k} has shape {arr.shape}, expected {want}")
            setattr(self, k, arr)
        self.tiling = tile_projection(pre, post, spec.array, self.differential)
        return self

    def _legacy_arrays(self, arrays: dict[str, np.ndarray], n: int, name: str) -> dict[str, np.ndarray]:
        """Per-device steps and wear for a checkpoint written before they existed (see ``_LEGACY_ARRAYS``).

        Such files were simulated with every device at the nominal steps, so those are exact; wear starts
        at 0.  Their endurance budgets counted pulses, which have no exact conversion to full cycles: a
        file with a finite budget is refused.
        """
        budget = np.asarray(arrays.get("budget", np.full(n, np.inf)), dtype=np.float64)
        if np.any(np.isfinite(budget)):
            raise ValueError(f"crossbar {name!r}: this checkpoint predates endurance in full SET/RESET cycles and "
                             "its budgets count pulses, which have no exact conversion; rebuild the network "
                             "(its devices' endurance is now counted in full cycles)")
        return {"dg_up_dev": np.full(n, float(self.device.dg_up)),
                "dg_down_dev": np.full(n, float(self.device.dg_down)), "wear": np.zeros(n), "wear0": np.zeros(n)}

    # -------------------------------------------------------------- reporting
    @property
    def reads(self) -> int:
        return int(self.acc[0])

    @property
    def read_energy(self) -> float:
        return float(self.acc[1])

    @property
    def learning_pulses(self) -> tuple[int, int]:
        """Potentiating and depressing pulses sent by a plasticity rule during runs."""
        return int(self.acc[2]), int(self.acc[3])

    @property
    def learning_energy(self) -> float:
        """Energy of the plasticity pulses (``e_set`` / ``e_reset`` each) [J]."""
        prog = self.components["programming"]
        up, down = self.learning_pulses
        return up * float(getattr(prog, "e_set", 0.0)) + down * float(getattr(prog, "e_reset", 0.0))

    def mapping_table(self) -> dict:
        """``mapping_table.json`` content: arrays, tiles and every synapse's array, row and columns."""
        return self.tiling.to_dict(self.name, self.spec.encoding)

    def save_mapping_table(self, path) -> Any:
        """Write :meth:`mapping_table` as JSON to ``path``; returns the path."""
        return self.tiling.save(path, self.name, self.spec.encoding)

    def __repr__(self) -> str:
        return (f"CrossbarState({self.name!r}, encoding={self.spec.encoding!r}, devices={self.n_devices}, "
                f"tiles={len(self.tiling.tiles)})")
