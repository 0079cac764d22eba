"""A surrogate-gradient-trained network written into memristive crossbars, and its accuracy over device seeds.

Part of :mod:`memr_snn.learning.surrogate`; import the names from there.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from .._validation import check_int_at_least
from .snn import Weights
from .snn import _SurrogateRSNNConfig as RSNNConfig
from .snn import check_inputs as _check_inputs
from .surrogate_loss import _MAPPED, accuracy


# --------------------------------------------------------------------------- crossbar mapping
def _dense_synapses(n_post: int, n_pre: int, no_diagonal: bool) -> tuple[np.ndarray, np.ndarray]:
    """``pre``, ``post`` of every synapse of a dense ``(n_post, n_pre)`` matrix in CSR order (by pre)."""
    pre = np.repeat(np.arange(n_pre), n_post)
    post = np.tile(np.arange(n_post), n_pre)
    if no_diagonal:
        keep = pre != post
        pre, post = pre[keep], post[keep]
    return pre, post


class MappedNetwork:
    """A trained network whose ``w_in``, ``w_rec``, ``w_out`` live in crossbars (``b_out`` stays digital)."""

    def __init__(self, config: RSNNConfig, layers: dict[str, Any], synapses: dict[str, tuple[np.ndarray, np.ndarray]],
                 b_out: np.ndarray, dt: float):
        self.config = config
        self.layers = layers
        self.synapses = synapses
        self.b_out = np.array(b_out, dtype=np.float64)
        self.dt = float(dt)

    def read(self, step: int | None = None, *, noise: bool = False) -> Weights:
        """The weights the devices hold: an expected read (``noise=False``) or the noisy read of ``step``.

        Read ``step`` is at time ``step * dt`` after the start (``age`` after programming plus that);
        ``step=None`` reads at time 0 without noise.
        """
        arrays: dict[str, np.ndarray | None] = {"w_rec": None}
        for name, state in self.layers.items():
            if step is None:
                w = state.read_weights(0.0)
            else:
                w = state.read_weights(step=int(step), dt=self.dt, noise=noise)
            pre, post = self.synapses[name]
            shape = {"w_in": (self.config.n_rec, self.config.n_in), "w_rec": (self.config.n_rec, self.config.n_rec),
                     "w_out": (self.config.n_out, self.config.n_rec)}[name]
            dense = np.zeros(shape)
            dense[post, pre] = w
            arrays[name] = dense
        return Weights(w_in=arrays["w_in"], w_rec=arrays["w_rec"], w_out=arrays["w_out"], b_out=self.b_out.copy())

    def stats(self) -> dict[str, Any]:
        """Programming statistics per layer (pulses, energy, unconverged and clipped devices)."""
        return {name: {"devices": s.n_devices, "program_pulses": s.program_pulses,
                       "program_energy_J": s.program_energy, "unconverged": s.unconverged, "clipped": s.clipped,
                       "stuck": int(np.sum(s.fault != 0))}
                for name, s in self.layers.items()}


def map_to_crossbar(config: RSNNConfig, weights: Weights, preset: Any = "hfox_rram", *, seed: int = 0,
                    program: str = "verify", encoding: str = "differential", age: float = 0.0,
                    **crossbar_kw: Any) -> MappedNetwork:
    """Write ``w_in``, ``w_rec``, ``w_out`` into memristive crossbars of a device preset.

    Every matrix becomes one :class:`~memr_snn.devices.CrossbarState` (presynaptic index = input
    column of the matrix, postsynaptic index = output row; synapses in CSR order by presynaptic
    index; the diagonal of ``w_rec`` has no synapse).  Device draws (variability, faults, drift
    exponents, programming and read noise) follow ``seed``; each layer gets its own stream.

    Parameters
    ----------
    preset : str or DevicePreset
        Device technology (``memr_snn.devices.list_presets()``).
    seed : int
        Device seed.
    program : str
        ``"verify"`` (program-and-verify, default) or ``"direct"``.
    encoding : str
        ``"differential"`` (default; any sign) or ``"single"``.
    age : float
        Time from programming to the first read [s] (drift, retention).  With ``drift_compensation=True``
        every crossbar's compensation factor is estimated at that first read (``t = 0``), as the simulator
        does at the start of a run, and applies to every read of the mapped network.
    **crossbar_kw
        Further :class:`~memr_snn.devices.Crossbar` fields (``tolerance``, ``max_pulses``, ``array`` ...).
    """
    from ..devices.crossbar import Crossbar, CrossbarState

    weights.validate(config)
    check_int_at_least("seed", seed, 0)
    spec = Crossbar(preset=preset, program=program, encoding=encoding, age=age, **crossbar_kw)
    layers, synapses = {}, {}
    for k, name in enumerate(_MAPPED):
        w = getattr(weights, name)
        if w is None:
            continue
        pre, post = _dense_synapses(w.shape[0], w.shape[1], name == "w_rec")
        layer_seed = int(np.random.default_rng([int(seed), k, 0xC0DE]).integers(0, 2 ** 62))
        state = CrossbarState(spec, pre, post, w[post, pre], layer_seed, name=name, n_pre=w.shape[1])
        state.begin_run(0.0)  # with drift_compensation: the factor of reads from t = 0, as the simulator sets it
        layers[name] = state  # programmed ``age`` seconds before t = 0 (Crossbar.age)
        synapses[name] = (pre, post)
    return MappedNetwork(config, layers, synapses, weights.b_out, config.dt)


READ_MODES = ("per_step", "static", "off")


def evaluate_mapped(config: RSNNConfig, weights: Weights, x, labels, preset: Any = "hfox_rram", *,
                    device_seeds: Iterable[int] = (0, 1, 2, 3, 4), loss: str = "mean_membrane",
                    read_noise: str = "per_step", batch_size: int = 512, **map_kw: Any) -> dict[str, Any]:
    """Accuracy of the network mapped to devices, over device seeds.

    For every seed the weights are programmed (:func:`map_to_crossbar`) and the test set is
    classified with the devices' read weights.  ``read_noise``:

    * ``"per_step"`` -- every time step of every minibatch uses a fresh noisy read of all devices
      (:meth:`CrossbarState.read_weights` with ``step = batch * T + t``, exactly the kernel's read
      draw at that step; drift advances with the step time); the samples of a minibatch share a read;
    * ``"static"`` -- one noisy read (step 0) for the whole test set;
    * ``"off"`` -- the expected read (programming error, variability, faults and drift only).

    Returns
    -------
    dict
        ``accuracy`` (per seed), ``mean``, ``std`` (population std over seeds), ``float_accuracy``
        (the unmapped weights), ``weight_rmse`` (per seed, relative to ``max|W|``, per layer),
        ``stats`` (programming statistics per seed).
    """
    if read_noise not in READ_MODES:
        raise ValueError(f"read_noise must be one of {list(READ_MODES)}, got {read_noise!r}")
    seeds = [check_int_at_least("device_seeds", s, 0) for s in device_seeds]
    if not seeds:
        raise ValueError("device_seeds must hold at least one seed, got none")
    x = _check_inputs(config, x)
    T = x.shape[1]
    accs, rmse, stats = [], [], []
    for s in seeds:
        net = map_to_crossbar(config, weights, preset, seed=s, **map_kw)
        expected = net.read()
        rmse.append({n: float(np.sqrt(np.mean((getattr(expected, n) - getattr(weights, n)) ** 2))
                              / max(float(np.abs(getattr(weights, n)).max()), 1e-300)) for n in net.layers})
        stats.append(net.stats())
        if read_noise == "off":
            accs.append(accuracy(config, expected, x, labels, loss, batch_size=batch_size))
        elif read_noise == "static":
            accs.append(accuracy(config, net.read(0, noise=True), x, labels, loss, batch_size=batch_size))
        else:
            cache: dict[int, Weights] = {}

            def step_weights(b: int, t: int, net: MappedNetwork = net, cache: dict = cache) -> Weights:
                k = b * T + t
                if k not in cache:
                    cache.clear()
                    cache[k] = net.read(k, noise=True)
                return cache[k]

            accs.append(accuracy(config, expected, x, labels, loss, batch_size=batch_size, step_weights=step_weights))
    a = np.array(accs)
    return {"accuracy": accs, "mean": float(a.mean()), "std": float(a.std()),
            "float_accuracy": accuracy(config, weights, x, labels, loss, batch_size=batch_size),
            "weight_rmse": rmse, "stats": stats, "device_seeds": seeds, "read_noise": read_noise}
