r"""Tiled analog matrix-vector products: one layer's weights on a grid of crossbar tiles.

:class:`TiledMatrix` cuts a weight matrix ``(n_out, n_in)`` into tiles (:mod:`.mapping`),
programs every tile's devices through :class:`~memr_snn.aimc.devices.DeviceAdapter`, and computes
``y = x @ W.T`` for a batch ``x`` of shape ``(batch, n_in)``:

1. per tile, the input slice of each vector is scaled by noise management, converted by the DAC,
   multiplied by the tile's read conductances (normalised, :mod:`.mapping`), given output noise and
   converted by the ADC (:mod:`.periphery`); bound management reads saturated vectors again;
2. the ADC outputs of a tile's channels are combined digitally (slice significance, average of the
   copies, weight scale, noise-management scale);
3. the partial sums of the tiles that share outputs are accumulated digitally in row-block order.

When the periphery is perfect (``IOConfig.is_perfect``) steps 1-2 are linear and each tile is a
single product with its folded effective weights; the accumulation of step 3 stays.  The read
conductances are a *snapshot* taken at :meth:`TiledMatrix.set_time` (drift, 1/f noise, relaxation,
retention and one read-noise draw at that age; :mod:`memr_snn.aimc.devices`), as AIHWKit's
``drift_analog_weights`` does; every snapshot is a new *noise epoch* whose draws come from
``(seed, epoch, tile)``, so a snapshot can be taken again exactly (saved models).
:meth:`TiledMatrix.resample_read` draws a new epoch at the present time.  With wires
(``MappingConfig.array`` with ``r_wire > 0``) the read conductances pass through the tile's IR-drop
model, solved once per programming state (:meth:`~memr_snn.aimc.devices.DeviceAdapter.wire_model`).
Calibrations (:mod:`.calibration`) act on the converted channel outputs.

Every tile counts what the energy model needs (:mod:`.energy`): vector reads (bound-management
re-reads included), DAC and ADC conversions, the array's input-weighted conductance sums, digital
operations and bits moved.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from .calibration import CalibrationConfig, fit_columns
from .devices import DeviceAdapter, DriftCompensation, Programmed
from .faults import detect, fault_aware_layout, pair_targets
from .mapping import MappingConfig, slice_factors, slice_weights
from .periphery import IOConfig

__all__ = ["TiledMatrix", "Tile", "FaultLayout", "COUNTERS"]

#: counters of a tile (all start at 0); see the module docstring of :mod:`.energy`
COUNTERS = ("vectors", "reads", "bm_rereads", "dac_conversions", "adc_conversions", "array_x1", "array_x2",
            "array_bits", "digital_ops", "bits_in", "bits_out", "saturated_after_bm")


def _sub_seed(*key: int) -> int:
    return int(np.random.SeedSequence([int(k) for k in key]).generate_state(1)[0])


@dataclasses.dataclass
class FaultLayout:
    """Where a fault-aware tile put its logical rows and channels, and its devices' measured ranges."""

    row_map: np.ndarray
    """Physical row of every logical row (int64, ``(n_in,)``)."""
    col_map: np.ndarray
    """Physical channel (pair) of every logical channel (int64, ``(n_ch,)``)."""
    test_lo: np.ndarray
    """Measured bottom of every device, flat device order [S]."""
    test_hi: np.ndarray
    """Measured top of every device, flat device order [S]."""


class Tile:
    """One crossbar tile: its devices, its read snapshot, its calibration and its counters (built by
    :class:`TiledMatrix`).  ``prog`` gives an already programmed state (a reopened model)."""

    def __init__(self, index: int, rows: tuple[int, int], outs: tuple[int, int], w_block: np.ndarray,
                 scale: np.ndarray, cfg: MappingConfig, device: DeviceAdapter, io: IOConfig, seed: int,
                 prog: Programmed | None = None, wires: tuple[np.ndarray, np.ndarray] | None = None,
                 layout: FaultLayout | None = None) -> None:
        self.index = index
        self.rows = rows
        self.outs = outs
        self.n_in = rows[1] - rows[0]
        self.n_out = outs[1] - outs[0]
        self.cfg = cfg
        self.device = device
        self.seed = int(seed)
        self.scale = scale  # (n_out,)
        self.factors = slice_factors(cfg)
        r = cfg.replication
        self.n_ch = self.n_out * cfg.channels_per_output
        v = slice_weights(w_block, cfg)  # (n_out, n_in, n_slices)
        v = np.repeat(np.moveaxis(v, 2, 1), r, axis=1).reshape(self.n_ch, self.n_in)  # channel order (o, k, c)
        self.v_target = v
        gmin, rng_ = device.g_min, device.g_range
        # physical geometry: spare pairs and rows only on the fault-aware path (MappingConfig checks it)
        self.n_ch_p = self.n_ch + cfg.spare_channels
        self.n_in_p = self.n_in + cfg.spare_rows
        self.layout: FaultLayout | None = layout
        if cfg.fault_test:
            self.n_devices = 2 * self.n_ch_p * self.n_in_p if cfg.encoding == "differential" else \
                self.n_ch * self.n_in + self.n_in
            if prog is None:
                prog, self.layout = self._program_fault_aware(v)
        else:
            if cfg.encoding == "differential":
                target = np.stack([gmin + rng_ * np.maximum(v, 0.0), gmin + rng_ * np.maximum(-v, 0.0)])
            else:
                g_ref = gmin + 0.5 * rng_
                target = np.concatenate([(g_ref + 0.5 * rng_ * v).ravel(), np.full(self.n_in, g_ref)])
            self.n_devices = int(target.size)
            if prog is None:
                prog = device.program(target.ravel(), method=cfg.program, seed=self.seed, tolerance=cfg.tolerance,
                                      max_pulses=cfg.max_pulses)
        self.prog = prog
        self.ir_model = "none"
        if wires is not None:
            self.r_eq, self.g_sn = wires
        elif cfg.array is not None and cfg.array.r_wire > 0.0:
            r2, s2, self.ir_model = device.wire_model(self.physical(prog.g), cfg.array)
            self.r_eq, self.g_sn = self.from_physical(r2), self.from_physical(s2)
        else:
            self.r_eq = self.g_sn = None
        if self.r_eq is not None and self.ir_model == "none":
            self.ir_model = "stored"
        mis = np.random.default_rng([self.seed, 9])
        z = mis.standard_normal((2, self.n_ch))
        self.col_gain = 1.0 + io.col_gain_std * z[0]
        self.col_offset = io.col_offset_std * z[1]
        self.counters = dict.fromkeys(COUNTERS, 0.0)
        self.w_ch = np.empty((self.n_ch, self.n_in))
        self.w_eff = np.empty((self.n_out, self.n_in))
        self.b_eff = np.zeros(self.n_out)
        self.rowsum = np.empty(self.n_in)
        # calibration state (module docstring of .calibration)
        self.cal_gain = np.ones(self.n_ch)
        self.cal_offset = np.zeros(self.n_ch)
        self.drift = DriftCompensation()
        self.alpha = 1.0
        self.use_alpha = True

    # ----------------------------------------------------------------- fault-aware programming
    def _program_fault_aware(self, v: np.ndarray) -> tuple[Programmed, FaultLayout]:
        """Range test, detection, layout and (compensated) targets, then programming (:mod:`.faults`)."""
        cfg, device = self.cfg, self.device
        gmin, rng_ = device.g_min, device.g_range
        test = device.range_test(self.n_devices, seed=self.seed)
        if cfg.encoding == "differential":
            shape = (2, self.n_ch_p, self.n_in_p)
            lo, hi = test.lo.reshape(shape), test.hi.reshape(shape)
            row_map, col_map, _ = fault_aware_layout(v, lo, hi, gmin, rng_, compensate=cfg.compensate,
                                                     remap=cfg.remap)
            target = np.full(shape, gmin)
            sel = tuple(x[col_map][:, row_map] for x in (lo[0], hi[0], lo[1], hi[1]))
            if cfg.compensate:
                gp, gm = pair_targets(v * rng_, *sel)
            else:
                gp, gm = gmin + rng_ * np.maximum(v, 0.0), gmin + rng_ * np.maximum(-v, 0.0)
            target[0][np.ix_(col_map, row_map)] = gp
            target[1][np.ix_(col_map, row_map)] = gm
        else:
            row_map, col_map = np.arange(self.n_in), np.arange(self.n_ch)
            g_ref = gmin + 0.5 * rng_
            target = np.concatenate([(g_ref + 0.5 * rng_ * v).ravel(), np.full(self.n_in, g_ref)])
        prog = device.program(target.ravel(), method=cfg.program, seed=self.seed, tolerance=cfg.tolerance,
                              max_pulses=cfg.max_pulses)
        prog.pulses += test.pulses
        prog.verify_reads += test.reads
        prog.energy += test.energy
        prog.latency += test.latency
        prog.counts = prog.counts + np.where(prog.fault == 0, test.pulses // max(self.n_devices, 1), 0)
        return prog, FaultLayout(row_map.astype(np.int64), col_map.astype(np.int64), test.lo, test.hi)

    @property
    def detected(self) -> np.ndarray | None:
        """Devices flagged stuck/unreachable by the range test (flat device order), or None without a test."""
        if self.layout is None:
            return None
        return detect(self.layout.test_lo, self.layout.test_hi, self.device.g_range, self.cfg.stuck_threshold)

    def inject_stuck(self, devices, state=1) -> None:
        """Make ``devices`` (flat device order) stuck from now on: ``state`` +1 stuck ON (each device's own top),
        -1 stuck OFF (its own bottom), one value or one per device: a device that fails after programming holds
        its bound, stops drifting and loses no state.  Refused before any change: indices out of range or
        repeated, devices already stuck, other states.  The read snapshot is not refreshed here
        (:meth:`TiledMatrix.inject_stuck` does it)."""
        from .._validation import check_stuck_request

        prog = self.prog
        idx, st = check_stuck_request(devices, state, self.n_devices, prog.fault)
        _, lo, hi, _ = self.device._draw(self.n_devices, self.seed)  # the devices' own ranges, as programmed
        prog.fault[idx] = st.astype(np.int8)
        prog.g[idx] = np.where(st == 1, hi[idx], lo[idx])
        prog.nu[idx] = 0.0
        prog.t_fail[idx] = np.inf

    # ----------------------------------------------------------------- layout
    def physical(self, g: np.ndarray) -> np.ndarray:
        """Device values in the tile's physical layout ``(rows, device columns)``: physical channel ``c`` on
        columns ``2c`` (G+) and ``2c + 1`` (G-) when differential (spare pairs and rows included), on column
        ``c`` with the reference column last otherwise."""
        if self.cfg.encoding == "differential":
            n_ch, n_in = self.n_ch_p, self.n_in_p
            return g.reshape(2, n_ch, n_in).transpose(2, 1, 0).reshape(n_in, 2 * n_ch)
        k = self.n_ch * self.n_in
        return np.concatenate([g[:k].reshape(self.n_ch, self.n_in).T, g[k:, None]], axis=1)

    def from_physical(self, m: np.ndarray) -> np.ndarray:
        """Inverse of :meth:`physical`: the flat device order."""
        if self.cfg.encoding == "differential":
            return m.reshape(self.n_in_p, self.n_ch_p, 2).transpose(2, 1, 0).ravel()
        return np.concatenate([m[:, : self.n_ch].T.ravel(), m[:, self.n_ch]])

    # ----------------------------------------------------------------- reads
    def snapshot(self, t: float, epoch: int) -> None:
        """Read the devices at age ``t`` [s] with the draws of noise epoch ``epoch``; refresh the weights."""
        rng = np.random.default_rng([self.seed, 2, int(epoch)])
        g = self.device.read(self.prog, t, rng)
        if self.r_eq is not None:
            g = g / (1.0 + g * self.r_eq) + self.g_sn
        r_inv = 1.0 / self.device.g_range
        lay = self.layout
        if self.cfg.encoding == "differential" and lay is not None:
            gp, gm = g.reshape(2, self.n_ch_p, self.n_in_p)
            np.multiply((gp - gm)[np.ix_(lay.col_map, lay.row_map)], r_inv, out=self.w_ch)
            self.rowsum[:] = (gp.sum(axis=0) + gm.sum(axis=0))[lay.row_map]
        elif self.cfg.encoding == "differential":
            gp, gm = g.reshape(2, self.n_ch, self.n_in)
            np.multiply(gp - gm, r_inv, out=self.w_ch)
            self.rowsum[:] = gp.sum(axis=0) + gm.sum(axis=0)
        else:
            gc = g[: self.n_ch * self.n_in].reshape(self.n_ch, self.n_in)
            gref = g[self.n_ch * self.n_in:]
            np.multiply(gc - gref[None, :], 2.0 * r_inv, out=self.w_ch)
            self.rowsum[:] = gc.sum(axis=0) + gref
        self.refresh()

    @property
    def channel_gain(self) -> np.ndarray:
        """Digital gain of every channel: column calibration times the drift factor in use."""
        return self.cal_gain * (self.alpha if self.use_alpha else 1.0)

    @property
    def channel_offset(self) -> np.ndarray:
        """Digital offset of every channel (normalised units)."""
        return self.cal_offset * (self.alpha if self.use_alpha else 1.0)

    def refresh(self) -> None:
        """Fold the calibration into the effective weights of the exact-periphery path."""
        g = self.channel_gain
        self.w_eff[:] = self.combine((self.w_ch * g[:, None]).T).T
        self.b_eff[:] = self.combine(self.channel_offset[None, :])[0]

    def combine(self, y_ch: np.ndarray) -> np.ndarray:
        """Digital combination of channel outputs ``(batch, n_ch)`` into outputs ``(batch, n_out)``."""
        cfg = self.cfg
        b = y_ch.shape[0]
        y = y_ch.reshape(b, self.n_out, cfg.n_slices, cfg.replication)
        y = y.mean(axis=3) if cfg.replication > 1 else y[..., 0]
        y = y @ self.factors if cfg.n_slices > 1 or self.factors[0] != 1.0 else y[..., 0]
        return y * self.scale

    def health(self, t: float) -> dict[str, float]:
        """:meth:`DeviceAdapter.health` of the tile's devices at age ``t``, with the range test's flagged devices
        (``detected_faults``, 0 without a test) and the spares: their number and how many hold a logical
        channel or row."""
        h = self.device.health(self.prog, t)
        det = self.detected
        lay = self.layout
        h.update(detected_faults=0 if det is None else int(det.sum()), spare_columns=self.cfg.spare_columns,
                 spare_rows=self.cfg.spare_rows,
                 channels_on_spares=0 if lay is None else int(np.sum(lay.col_map >= self.n_ch)),
                 rows_on_spares=0 if lay is None else int(np.sum(lay.row_map >= self.n_in)))
        return h


class TiledMatrix:
    """A weight matrix on analog tiles (module docstring).

    Parameters
    ----------
    weight : (n_out, n_in) ndarray
        Finite float weights.
    mapping : MappingConfig
    device : DeviceAdapter
    io : IOConfig
    seed : int
        Seed of programming, read noise and output noise.
    name : str
        Layer name for messages.
    calibration : CalibrationConfig, optional
        Drift compensation and column calibration (default: none).
    programmed : list of (Programmed, wires or None[, FaultLayout or None]), optional
        The programmed state of every tile (a reopened model); no device is written.
    """

    def __init__(self, weight: np.ndarray, mapping: MappingConfig, device: DeviceAdapter, io: IOConfig,
                 seed: int, name: str = "", calibration: CalibrationConfig | None = None,
                 programmed: list | None = None) -> None:
        w = np.asarray(weight, dtype=np.float64)
        if w.ndim != 2 or 0 in w.shape:
            raise ValueError(f"{name or 'weight'}: weight must be a non-empty 2-D (n_out, n_in) array, "
                             f"got shape {w.shape}")
        if not np.all(np.isfinite(w)):
            i = np.argwhere(~np.isfinite(w))[0]
            raise ValueError(f"{name or 'weight'}: weight must be finite, got {float(w[tuple(i)])!r} "
                             f"at index {tuple(i)}")
        self.name = name
        self.n_out, self.n_in = w.shape
        self.mapping, self.device, self.io = mapping, device, io
        self.calibration = CalibrationConfig() if calibration is None else calibration
        self.seed = int(seed)
        self._rng = np.random.default_rng([self.seed, 1])
        self.time = 0.0
        self.epoch = 0
        self.cal_time: float | None = None
        rows, outs = mapping.rows_per_tile, mapping.outputs_per_tile
        self.row_blocks = [(a, min(a + rows, self.n_in)) for a in range(0, self.n_in, rows)]
        self.col_blocks = [(a, min(a + outs, self.n_out)) for a in range(0, self.n_out, outs)]
        layer_max = float(np.abs(w).max()) or 1.0
        self.tiles: list[Tile] = []
        for i, (r0, r1) in enumerate(self.row_blocks):
            for j, (o0, o1) in enumerate(self.col_blocks):
                blk = w[o0:o1, r0:r1]
                if mapping.weight_scaling == "layer":
                    s = np.full(o1 - o0, layer_max)
                elif mapping.weight_scaling == "column":
                    s = np.abs(blk).max(axis=1)
                    s[s == 0] = 1.0
                else:
                    s = np.full(o1 - o0, float(np.abs(blk).max()) or 1.0)
                k = i * len(self.col_blocks) + j
                prog, wires, layout = (tuple(programmed[k]) + (None,))[:3] if programmed is not None else (None,) * 3
                self.tiles.append(Tile(k, (r0, r1), (o0, o1), blk / s[:, None], s, mapping, device, io,
                                       seed=_sub_seed(self.seed, k), prog=prog, wires=wires, layout=layout))
        if programmed is None:
            self._snapshot()
            self._calibrate_at_programming()

    # ----------------------------------------------------------------- state
    def _snapshot(self) -> None:
        for tile in self.tiles:
            tile.snapshot(self.time, self.epoch)

    def _calibrate_at_programming(self) -> None:
        cal = self.calibration
        if cal.column:
            self.calibrate_columns()
        elif cal.drift_compensation:
            self._drift_reference()

    def set_time(self, t: float) -> None:
        """Read all devices ``t`` seconds after programming (a new noise epoch); run the calibrations due."""
        if not (np.isfinite(t) and t >= 0):
            raise ValueError(f"t = {t!r} [s] must be finite and >= 0")
        self.time = float(t)
        self.epoch += 1
        self._snapshot()
        cal = self.calibration
        if cal.column and cal.interval is not None and self.cal_time is not None \
                and self.time - self.cal_time >= cal.interval:
            self.calibrate_columns()
        elif cal.drift_compensation:
            self._drift_factor()

    def resample_read(self) -> None:
        """A new noise epoch at the present time."""
        self.set_time(self.time)

    def inject_stuck(self, tile: int, devices, state=1) -> None:
        """Make ``devices`` of tile ``tile`` stuck after programming (:meth:`Tile.inject_stuck`) and take the
        present read snapshot again (same age, same noise epoch): the next products see the faults."""
        if not 0 <= int(tile) < len(self.tiles):
            raise ValueError(f"tile must lie in [0, {len(self.tiles)}), got {tile!r}")
        self.tiles[int(tile)].inject_stuck(devices, state)
        self._snapshot()

    def set_compensation(self, enabled: bool) -> None:
        """Use (True) or ignore (False) the global drift-compensation factor of every tile."""
        for tile in self.tiles:
            tile.use_alpha = bool(enabled)
            tile.refresh()

    def effective_weights(self) -> np.ndarray:
        """The weights the tiles hold, as read in the snapshot and calibrated, in layer units ``(n_out, n_in)``."""
        out = np.zeros((self.n_out, self.n_in))
        for t in self.tiles:
            out[t.outs[0]:t.outs[1], t.rows[0]:t.rows[1]] = t.w_eff
        return out

    def reset_counters(self) -> None:
        """Zero the counters of every tile."""
        for t in self.tiles:
            t.counters = dict.fromkeys(COUNTERS, 0.0)

    @property
    def program_stats(self) -> dict[str, float]:
        """Programming totals over the tiles: devices, pulses, verify reads, energy [J], latency [s]."""
        out = {"devices": 0, "pulses": 0, "verify_reads": 0, "energy": 0.0, "latency": 0.0, "unconverged": 0,
               "stuck": 0}
        for t in self.tiles:
            p = t.prog
            out["devices"] += t.n_devices
            out["pulses"] += p.pulses
            out["verify_reads"] += p.verify_reads
            out["energy"] += p.energy
            out["latency"] += p.latency
            out["unconverged"] += p.unconverged
            out["stuck"] += int(np.count_nonzero(p.fault))
        return out

    # ----------------------------------------------------------------- calibration
    def _uncounted(self, tile: Tile, fn, *args):
        saved = dict(tile.counters)
        try:
            return fn(*args)
        finally:
            tile.counters = saved

    def _ones_readout(self, tile: Tile) -> np.ndarray:
        ones = np.ones((1, tile.n_in))
        y, _ = self._uncounted(tile, self._channels, tile, ones)
        return y[0] * tile.cal_gain + tile.cal_offset

    def _drift_reference(self) -> None:
        for tile in self.tiles:
            tile.drift.calibrate(self._ones_readout(tile))
            tile.alpha = 1.0
            tile.refresh()

    def _drift_factor(self) -> None:
        for tile in self.tiles:
            tile.alpha = tile.drift.factor(self._ones_readout(tile))
            tile.refresh()

    def calibrate_columns(self) -> None:
        """Fit every tile's per-column gain and offset now (:mod:`.calibration`); then take the drift
        reference again when drift compensation is on."""
        n = self.calibration.n_vectors
        for tile in self.tiles:
            x = np.random.default_rng([tile.seed, 5]).uniform(-1.0, 1.0, (n, tile.n_in))
            y, amax = self._uncounted(tile, self._channels, tile, x)
            xs = x if amax is None else x / amax[:, None]
            tile.cal_gain, tile.cal_offset = fit_columns(y, xs @ tile.v_target.T)
            tile.alpha = 1.0
            tile.refresh()
        self.cal_time = self.time
        if self.calibration.drift_compensation:
            self._drift_reference()

    # ----------------------------------------------------------------- forward
    def matmul(self, x: np.ndarray) -> np.ndarray:
        """``y = x @ W.T`` through the tiles, ``x`` of shape ``(batch, n_in)``; returns ``(batch, n_out)``."""
        x = np.asarray(x, dtype=np.float64)
        if x.ndim != 2 or x.shape[1] != self.n_in:
            raise ValueError(f"{self.name or 'layer'}: input must have shape (batch, {self.n_in}), got {x.shape}")
        y = np.empty((x.shape[0], self.n_out))
        first = {c: True for c in self.col_blocks}
        perfect = self.io.is_perfect
        for tile in self.tiles:
            xt = x[:, tile.rows[0]:tile.rows[1]]
            part = self._perfect(tile, xt) if perfect else self._analog(tile, xt)
            o0, o1 = tile.outs
            if first[tile.outs]:
                y[:, o0:o1] = part
                first[tile.outs] = False
            else:
                y[:, o0:o1] += part
            self._count_digital(tile, x.shape[0])
        return y

    def _count_digital(self, tile: Tile, batch: int) -> None:
        c = tile.counters
        c["vectors"] += batch
        c["digital_ops"] += batch * tile.n_out  # partial-sum accumulation

    def _perfect(self, tile: Tile, xt: np.ndarray) -> np.ndarray:
        self._perfect_counts(tile, xt)
        y = xt @ tile.w_eff.T
        if tile.b_eff.any():
            y += tile.b_eff
        return y

    def _count_reads(self, tile: Tile, n: int, planes: int) -> None:
        io, c = self.io, tile.counters
        c["reads"] += n
        c["dac_conversions"] += n * tile.n_in * planes
        c["adc_conversions"] += n * tile.n_ch * planes
        c["digital_ops"] += n * (tile.n_in + 2 * tile.n_ch + (planes - 1) * tile.n_ch)
        c["bits_in"] += n * tile.n_in * (io.dac.bits or 16)
        c["bits_out"] += n * tile.n_ch * (io.adc.bits or 16)

    def _channels(self, tile: Tile, xt: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        """Converted channel outputs of a batch before calibration, normalised by noise management:
        ``(y_ch (batch, n_ch), amax (batch,) or None)``."""
        if self.io.is_perfect:
            self._perfect_counts(tile, xt)
            return xt @ tile.w_ch.T, None
        io = self.io
        b = xt.shape[0]
        if io.noise_management == "abs_max":
            amax = np.abs(xt).max(axis=1)
            amax[amax == 0] = 1.0
            xs = xt / amax[:, None]
        else:
            amax = None
            xs = xt
        factor = np.ones(b)
        todo = np.arange(b)
        limit = io.bm_limit
        y_ch, sat = self._convert(tile, xs)
        while True:
            if io.bound_management == "none" or not sat.any():
                tile.counters["saturated_after_bm"] += float(sat.sum())
                break
            again = sat & (factor[todo] <= limit)
            tile.counters["saturated_after_bm"] += float((sat & ~again).sum())
            todo = todo[again]
            if todo.size == 0:
                break
            factor[todo] *= 2.0
            tile.counters["bm_rereads"] += todo.size
            yq, sat = self._convert(tile, xs[todo] / factor[todo, None])
            y_ch[todo] = yq * factor[todo, None]
        return y_ch, amax

    def _perfect_counts(self, tile: Tile, xt: np.ndarray) -> None:
        c = tile.counters
        ax = np.abs(xt)
        amax = ax.max(axis=1)
        amax[amax == 0] = 1.0
        c["array_x1"] += float(((ax @ tile.rowsum) / amax).sum())
        c["array_x2"] += float(((ax * ax) @ tile.rowsum / (amax * amax)).sum())
        self._count_reads(tile, xt.shape[0], planes=1)

    def _analog(self, tile: Tile, xt: np.ndarray) -> np.ndarray:
        y_ch, amax = self._channels(tile, xt)
        y_ch *= tile.channel_gain
        if tile.cal_offset.any():
            y_ch += tile.channel_offset
        y = tile.combine(y_ch)
        if amax is not None:
            y *= amax[:, None]
        return y

    def _convert(self, tile: Tile, xin: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """DAC, analog product, output noise, ADC for a batch of scaled inputs; (outputs, saturated per vector)."""
        c = tile.counters
        dac = self.io.dac
        if dac.bits is not None and dac.mode == "bit_serial":
            step = dac.step
            lev = dac.magnitude_levels
            m = np.minimum(np.rint(np.abs(xin) / step), lev).astype(np.int64)
            sgn = np.sign(xin)
            y = np.zeros((xin.shape[0], tile.n_ch))
            sat = np.zeros(xin.shape[0], dtype=bool)
            planes = dac.bits - 1
            for j in range(planes):
                p = sgn * ((m >> j) & 1)
                c["array_bits"] += float((np.abs(p) @ tile.rowsum).sum())
                yj, sj = self._adc(tile, p @ tile.w_ch.T)
                y += (2.0**j) * yj
                sat |= sj
            self._count_reads(tile, xin.shape[0], planes)
            return y * step, sat
        xq = xin if dac.bits is None else np.clip(np.rint(xin / dac.step) * dac.step, -dac.bound, dac.bound)
        ax = np.abs(xq)
        c["array_x1"] += float((ax @ tile.rowsum).sum())
        c["array_x2"] += float(((ax * ax) @ tile.rowsum).sum())
        self._count_reads(tile, xin.shape[0], 1)
        return self._adc(tile, xq @ tile.w_ch.T)

    def _adc(self, tile: Tile, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        io = self.io
        adc = io.adc
        if io.mismatched:
            y *= tile.col_gain
            y += tile.col_offset
        if io.out_noise > 0.0:
            y += io.out_noise * self._rng.standard_normal(y.shape)
        if adc.bits is not None:
            step = adc.step
            np.rint(np.multiply(y, 1.0 / step, out=y), out=y)
            y *= step
        if adc.bound is None:
            return y, np.zeros(y.shape[0], dtype=bool)
        bound = float(adc.bound)
        sat = (np.abs(y) > bound * (1.0 + 1e-12)).any(axis=1)
        np.clip(y, -bound, bound, out=y)
        return y, sat
