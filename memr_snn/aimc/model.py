r"""An analog model: layers compiled onto tiles with one call, inference on numpy batches.

:func:`compile` takes numpy weights in one of three forms and returns an :class:`AnalogModel`:

* a list of layers (:mod:`.layers` objects) or layer specs, dicts with a ``"type"``:
  ``{"type": "linear", "weight": W, "bias": b}``,
  ``{"type": "conv2d", "weight": K, "bias": b, "stride": 1, "padding": 0}``,
  ``{"type": "relu"}``, ``{"type": "maxpool2d", "kernel": 2}``, ``{"type": "avgpool2d", "kernel": 2}``,
  ``{"type": "batchnorm", "gamma", "beta", "mean", "var", "eps"}``, ``{"type": "flatten"}``,
  ``{"type": "argmax"}``; an analog spec may carry its own ``"mapping"`` (:class:`MappingConfig`)
  and ``"io"`` (:class:`IOConfig`);
* a state dict of arrays (PyTorch naming): keys ``<prefix>.weight`` / ``<prefix>.bias`` in their
  order; a 2-D weight is a linear layer, a 4-D weight a convolution (stride 1, no padding), a group
  with ``<prefix>.running_mean`` and ``<prefix>.running_var`` a batch norm (``weight`` = gamma,
  ``bias`` = beta); ``activation`` (default ReLU) goes between consecutive analog layers and a
  flatten between a convolution and a linear layer;
* a path to an ``.npz`` file holding such a state dict.

Everything is checked (finite arrays, shapes of consecutive linear layers, known types, tile and
converter settings) before any device is programmed.  A batch norm that directly follows an analog
layer is folded into its weights and bias (``fold_batchnorm``):
:math:`W' = W \gamma / \sqrt{\sigma^2 + \epsilon}` per output channel,
:math:`b' = (b - \mu) \gamma / \sqrt{\sigma^2 + \epsilon} + \beta`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from .calibration import CalibrationConfig
from .devices import DeviceAdapter
from .energy import COMPONENTS, AIMCProfile, EnergyReport, LayerEnergy, load_profile, price_layer
from .layers import (
    AnalogConv2d,
    AnalogLinear,
    Argmax,
    AvgPool2d,
    BatchNorm,
    Flatten,
    Layer,
    MaxPool2d,
    ReLU,
)
from .mapping import MappingConfig
from .periphery import IOConfig, io_preset
from .tile import TiledMatrix

__all__ = ["AnalogModel", "compile", "LAYER_TYPES"]


def _linear(d: dict, name: str) -> Layer:
    return AnalogLinear(d["weight"], d.get("bias"), name=name)


def _conv(d: dict, name: str) -> Layer:
    return AnalogConv2d(d["weight"], d.get("bias"), stride=d.get("stride", 1), padding=d.get("padding", 0),
                        name=name)


#: spec ``type`` -> (required keys, optional keys, builder)
LAYER_TYPES: dict[str, tuple[tuple[str, ...], tuple[str, ...], Any]] = {
    "linear": (("weight",), ("bias", "mapping", "io"), _linear),
    "conv2d": (("weight",), ("bias", "stride", "padding", "mapping", "io"), _conv),
    "relu": ((), (), lambda d, n: ReLU(n)),
    "maxpool2d": (("kernel",), ("stride",), lambda d, n: MaxPool2d(d["kernel"], d.get("stride"), n)),
    "avgpool2d": (("kernel",), ("stride",), lambda d, n: AvgPool2d(d["kernel"], d.get("stride"), n)),
    "batchnorm": (("gamma", "beta", "mean", "var"), ("eps",),
                  lambda d, n: BatchNorm(d["gamma"], d["beta"], d["mean"], d["var"], d.get("eps", 1e-5), n)),
    "flatten": ((), (), lambda d, n: Flatten(n)),
    "argmax": ((), (), lambda d, n: Argmax(n)),
}


def _from_spec(i: int, spec: Any) -> Layer:
    if isinstance(spec, Layer):
        return spec
    if not isinstance(spec, dict):
        raise TypeError(f"layer {i}: must be a Layer or a dict with a 'type', got {type(spec).__name__}")
    kind = spec.get("type")
    if kind not in LAYER_TYPES:
        raise ValueError(f"layer {i}: type = {kind!r} is not one of {sorted(LAYER_TYPES)}")
    req, opt, build = LAYER_TYPES[kind]
    missing = [k for k in req if k not in spec]
    if missing:
        raise ValueError(f"layer {i} ({kind}): missing {missing}")
    unknown = sorted(set(spec) - set(req) - set(opt) - {"type", "name"})
    if unknown:
        raise ValueError(f"layer {i} ({kind}): unknown key {unknown[0]!r}; allowed: {sorted(req + opt)}")
    layer = build(spec, spec.get("name", f"{kind}{i}"))
    for key in ("mapping", "io"):
        if key in spec:
            layer.overrides[key] = spec[key]
    return layer


def _state_dict_layers(state: dict[str, np.ndarray], activation: str | None) -> list[Layer]:
    groups: dict[str, dict[str, np.ndarray]] = {}
    for key, value in state.items():
        prefix, _, leaf = str(key).rpartition(".")
        groups.setdefault(prefix, {})[leaf] = np.asarray(value)
    layers: list[Layer] = []
    prev_analog = None
    for prefix, g in groups.items():
        name = prefix or "layer"
        if "running_mean" in g:
            layers.append(BatchNorm(g.get("weight", np.ones_like(g["running_mean"])),
                                    g.get("bias", np.zeros_like(g["running_mean"])), g["running_mean"],
                                    g["running_var"], name=name))
            continue
        if "weight" not in g:
            continue  # e.g. num_batches_tracked alone
        w = g["weight"]
        if w.ndim not in (2, 4):
            raise ValueError(f"state dict: {prefix}.weight must be 2-D (linear) or 4-D (conv2d), got shape {w.shape}")
        if prev_analog is not None and activation is not None:
            if activation != "relu":
                raise ValueError(f"activation = {activation!r} is not one of ['relu', None]")
            layers.append(ReLU(f"{name}_relu_in"))
        if w.ndim == 2 and prev_analog is not None and prev_analog.ndim == 4:
            layers.append(Flatten(f"{name}_flatten"))
        layers.append(AnalogLinear(w, g.get("bias"), name=name) if w.ndim == 2 else
                      AnalogConv2d(w, g.get("bias"), name=name))
        prev_analog = w
    if not any(lay.analog for lay in layers):
        raise ValueError("state dict holds no '<prefix>.weight' array of a linear (2-D) or conv2d (4-D) layer")
    return layers


def _fold(layers: list[Layer]) -> list[Layer]:
    out: list[Layer] = []
    for lay in layers:
        prev = out[-1] if out else None
        if isinstance(lay, BatchNorm) and prev is not None and prev.analog:
            if lay.gamma.size != prev.n_out:
                raise ValueError(f"{lay.name}: {lay.gamma.size} channels after {prev.name} with {prev.n_out} outputs")
            s = lay.scale
            prev.weight = prev.weight * s.reshape((-1,) + (1,) * (prev.weight.ndim - 1))
            b = prev.bias if prev.bias is not None else np.zeros(prev.n_out)
            prev.bias = b * s + lay.shift
            continue
        out.append(lay)
    return out


def _check_chain(layers: list[Layer]) -> None:
    width = None
    for lay in layers:
        if isinstance(lay, AnalogLinear):
            if width is not None and width != lay.n_in:
                raise ValueError(f"{lay.name}: expects {lay.n_in} inputs but the previous linear layer gives {width}")
            width = lay.n_out
        elif isinstance(lay, (AnalogConv2d, Flatten, MaxPool2d, AvgPool2d)):
            width = None


class AnalogModel:
    """Layers with their analog ones on tiles (built by :func:`compile`).

    Attributes
    ----------
    layers : list of Layer
    mapping, io : MappingConfig, IOConfig
        Defaults of the analog layers (each may override them).
    device : DeviceAdapter
    """

    def __init__(self, layers: list[Layer], *, mapping: MappingConfig, device: DeviceAdapter, io: IOConfig,
                 seed: int, calibration: CalibrationConfig | None = None, programmed: dict | None = None) -> None:
        self.layers = layers
        self.mapping, self.device, self.io, self.seed = mapping, device, io, int(seed)
        self.calibration = CalibrationConfig() if calibration is None else calibration
        self.telemetry = None
        for i, lay in enumerate(layers):
            if lay.analog:
                m = lay.overrides.get("mapping", mapping)
                o = lay.overrides.get("io", io)
                lay.matrix = TiledMatrix(lay.matrix_weight(), m, device, o, seed=self.seed * 1000 + i, name=lay.name,
                                         calibration=self.calibration,
                                         programmed=None if programmed is None else programmed[lay.name])

    @property
    def analog_layers(self) -> list[Layer]:
        """The analog layers in order."""
        return [lay for lay in self.layers if lay.analog]

    def forward(self, x: np.ndarray) -> np.ndarray:
        """Run a batch through the layers (first axis = batch)."""
        x = np.asarray(x, dtype=np.float64)
        if x.ndim < 2:
            raise ValueError(f"input must have a batch axis first, shape (batch, ...), got {x.shape}")
        if not np.all(np.isfinite(x)):
            i = tuple(int(v) for v in np.argwhere(~np.isfinite(x))[0])
            raise ValueError(f"input must be finite, got {float(x[i])!r} at index {i}")
        before = self.telemetry.before(self) if self.telemetry is not None else None
        for lay in self.layers:
            x = lay.forward(x)
        if before is not None:
            self.telemetry.after(self, before, int(x.shape[0]))
        return x

    __call__ = forward

    @property
    def time(self) -> float:
        """Age of the devices at the present read snapshot [s]."""
        lays = self.analog_layers
        return lays[0].matrix.time if lays else 0.0

    def set_time(self, t: float) -> None:
        """Read all devices ``t`` seconds after programming (drift, 1/f noise, relaxation, retention; a new
        noise epoch) and run the calibrations due (drift compensation, scheduled column calibration)."""
        for lay in self.analog_layers:
            lay.matrix.set_time(t)

    def set_compensation(self, enabled: bool) -> None:
        """Apply (True, the default after compile) or ignore (False) the global drift-compensation factors.

        Only meaningful when compiled with ``CalibrationConfig(drift_compensation=True)``; the factor of the
        present snapshot stays computed, so the same read can be evaluated both ways."""
        for lay in self.analog_layers:
            lay.matrix.set_compensation(enabled)

    def calibrate(self) -> None:
        """Run the per-column calibration of every tile now (and take the drift reference again)."""
        for lay in self.analog_layers:
            lay.matrix.calibrate_columns()

    @property
    def tiles(self) -> list[tuple[str, object]]:
        """``(layer name, Tile)`` of every tile in layer order."""
        return [(lay.name, t) for lay in self.analog_layers for t in lay.matrix.tiles]

    def reset_counters(self) -> None:
        """Zero every counter (energy accounting starts again)."""
        for lay in self.layers:
            lay.reset_counters()

    @property
    def program_stats(self) -> dict[str, float]:
        """Programming totals over all tiles (devices, pulses, verify reads, energy [J], latency [s])."""
        tot: dict[str, float] = {}
        for lay in self.analog_layers:
            for k, v in lay.matrix.program_stats.items():
                tot[k] = tot.get(k, 0) + v
        return tot

    @property
    def n_tiles(self) -> int:
        """Tiles used by all layers."""
        return sum(len(lay.matrix.tiles) for lay in self.analog_layers)

    def energy(self, profile: str | Path | AIMCProfile = "hermes_pcm", *, include_program: bool = True
               ) -> EnergyReport:
        """Energy and latency of everything run since the last :meth:`reset_counters`, priced with ``profile``."""
        p = load_profile(profile)
        out: list[LayerEnergy] = []
        for lay in self.layers:
            if lay.analog:
                prog = lay.matrix.program_stats["energy"] if include_program else 0.0
                out.append(price_layer(lay.name, lay.matrix.tiles, lay.matrix.io, p, lay.macs, lay.digital_ops, prog))
            else:
                e = dict.fromkeys(COMPONENTS, 0.0)
                e["digital"] = lay.digital_ops * p.e_digital_op
                out.append(LayerEnergy(lay.name, e, lay.digital_ops * p.t_digital_op / p.digital_lanes, 0.0))
        return EnergyReport(p.name, out)

    # ----------------------------------------------------------------- artifacts
    def save(self, folder: str | Path) -> Path:
        """Write the model's artifacts (``mapping_table.json``, ``weights.npz``, ``devices.npz``, per-tile
        calibration JSON, ``tile_health_report.csv``) into ``folder``; see :mod:`.artifacts`."""
        from .artifacts import save_model

        return save_model(self, folder)

    @classmethod
    def load(cls, folder: str | Path) -> AnalogModel:
        """Reopen a saved model bit for bit (:mod:`.artifacts`); every file and field is checked first.

        Raises
        ------
        memr_snn.aimc.ArtifactError
            Naming the file and the field.
        """
        from .artifacts import load_model

        return load_model(folder)

    def health(self) -> list[dict]:
        """Per-tile health at the present age (the rows of ``tile_health_report.csv``)."""
        from .artifacts import health_rows

        return health_rows(self)

    def log_telemetry(self, path: str | Path | None, profile: str | Path | AIMCProfile = "hermes_pcm") -> None:
        """Append energy and latency of every following batch to the JSON-lines file ``path`` (``None``: stop)."""
        from .artifacts import Telemetry

        self.telemetry = None if path is None else Telemetry(path, profile)

    def __repr__(self) -> str:
        names = ", ".join(lay.name for lay in self.layers)
        return f"AnalogModel([{names}], tiles={self.n_tiles}, device={self.device.name!r})"


def compile(  # noqa: A001 - the public name the issue asks for; shadows the builtin only inside this module
    spec: Any, *, mapping: MappingConfig | None = None, device: Any = None, io: IOConfig | str = "aihwkit_inference",
    seed: int = 0, activation: str | None = "relu", fold_batchnorm: bool = True,
    calibration: CalibrationConfig | None = None,
) -> AnalogModel:
    """Map numpy weights onto tiles and program them; see the module docstring for ``spec``.

    Parameters
    ----------
    spec : list, dict of arrays, str or Path
        Layer list/specs, a state dict, or an ``.npz`` path.
    mapping : MappingConfig, optional
        Tile size, encoding, slicing, replication, programming (default ``MappingConfig()``).
    device : str, Path, DevicePreset or None
        Device preset of every tile (default: the ideal device).
    io : IOConfig or str
        Periphery, or a preset name of :func:`~memr_snn.aimc.periphery.io_preset`.
    seed : int
        Seed of programming and noise.
    activation : {"relu", None}
        Activation inserted between analog layers of a state dict.
    fold_batchnorm : bool
        Fold a batch norm that directly follows an analog layer into it.
    calibration : CalibrationConfig, optional
        Global drift compensation and per-column calibration (:mod:`.calibration`; default: none).

    Raises
    ------
    ValueError, TypeError
        Before any device is programmed, naming the field, its value and the allowed range.
    """
    mapping = MappingConfig() if mapping is None else mapping
    calibration = CalibrationConfig() if calibration is None else calibration
    if not isinstance(calibration, CalibrationConfig):
        raise TypeError(f"calibration must be a CalibrationConfig or None, got {calibration!r}")
    if not isinstance(mapping, MappingConfig):
        raise TypeError(f"mapping must be a MappingConfig, got {mapping!r}")
    io = io_preset(io) if isinstance(io, str) else io
    if not isinstance(io, IOConfig):
        raise TypeError(f"io must be an IOConfig or a preset name, got {io!r}")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or not 0 <= seed < 2**31:
        raise ValueError(f"seed = {seed!r} is outside the allowed range [0, 2**31) (integers)")
    dev = device if isinstance(device, DeviceAdapter) else DeviceAdapter(device)
    if isinstance(spec, (str, Path)):
        path = Path(spec)
        if path.suffix != ".npz":
            raise ValueError(f"spec = {str(spec)!r}: a path must name an .npz file of arrays")
        try:
            with np.load(path, allow_pickle=False) as f:
                spec = {k: f[k] for k in f.files}
        except (OSError, ValueError) as exc:
            raise ValueError(f"spec = {str(path)!r}: cannot read the .npz file ({exc})") from None
    if isinstance(spec, dict):
        layers = _state_dict_layers(spec, activation)
    elif isinstance(spec, (list, tuple)):
        if not spec:
            raise ValueError("spec is an empty list: give at least one layer")
        layers = [_from_spec(i, s) for i, s in enumerate(spec)]
    else:
        raise TypeError(f"spec must be a list of layers/specs, a dict of arrays or an .npz path, "
                        f"got {type(spec).__name__}")
    for lay in layers:
        for key, cls in (("mapping", MappingConfig), ("io", IOConfig)):
            if key in getattr(lay, "overrides", {}) and not isinstance(lay.overrides[key], cls):
                raise TypeError(f"{lay.name}.{key} must be a {cls.__name__}, got {lay.overrides[key]!r}")
    if fold_batchnorm:
        layers = _fold(layers)
    _check_chain(layers)
    return AnalogModel(layers, mapping=mapping, device=dev, io=io, seed=int(seed), calibration=calibration)
