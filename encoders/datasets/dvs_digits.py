"""DVS digits: scikit-learn's 8x8 handwritten digits seen by an emulated event camera making N-MNIST saccades.

Offline and deterministic: no download.  Each of the 1797 real handwritten digits of
``sklearn.datasets.load_digits`` (UCI optical recognition of handwritten digits, 8x8, grey levels
0-16) is

1. upsampled to ``image_size`` x ``image_size`` pixels (bilinear, ``scipy.ndimage.zoom`` order 1)
   and shown as intensity ``dark + (1 - dark) * level / 16`` (a dark but not black background, like
   a monitor), centred on a sensor of ``image_size + 2 * ceil(amplitude)`` pixels (28 -> 34 x 34,
   N-MNIST's sensor);
2. recorded with three micro-saccades of 100 ms along a triangle (Orchard et al. 2015) by the DVS
   emulator (:func:`memr_snn.encoders.dvs.saccades`) with realistic non-idealities: threshold 0.2
   +- 0.03 (per-pixel mismatch), 0.5 ms refractory period, 0.1 Hz leak and 0.5 Hz shot noise per
   pixel; the emulator's generator is seeded with ``[seed, sample index]``, so each sample can be
   regenerated alone (:func:`dvs_digit_events`);
3. binned into ``n_bins`` equal time bins over the 300 ms and summed over ``pool`` x ``pool`` pixel
   blocks, separately per polarity: inputs ``(T = n_bins, n_in = 2 * (34 / pool)**2)`` of spike
   counts (uint8, clipped at 255; channel order ``(polarity, y, x)``, OFF first).

The binned counts are cached on disk (:mod:`memr_snn.encoders.datasets.cache`, dataset
``"dvs-digits"``, version :data:`VERSION`; the file is selected by every generation parameter) and
built on first use (about 25 s).  The train/test split is the stratified 75/25 split with seed 0
used by the rate-coded digits experiment (:func:`memr_snn.learning.datasets.load_digits_spikes`).

``memr-snn bench dvs-digits`` trains and evaluates a spiking network on it (``docs/dvs.md``).
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import numpy as np

from ..._extras import require
from ...progress import ProgressBar
from ..dvs import DVSParams, saccades
from ..events import EventStream, to_frames_by_time
from .cache import cached
from .classification import ClassificationData

__all__ = ["VERSION", "DVSDigitsConfig", "digit_images", "dvs_digit_events", "load_dvs_digits", "load_task"]

VERSION = 1
"""Generator version of the cached data; bump when the generated events or their binning change."""

_DEFAULT_DVS = DVSParams(threshold_on=0.2, threshold_off=0.2, threshold_mismatch_sigma=0.03,
                               refractory=5e-4, leak_rate=0.1, shot_noise_rate=0.5)


@dataclasses.dataclass(frozen=True)
class DVSDigitsConfig:
    """How the digits are recorded (module docstring)."""

    image_size: int = 28
    """Side of the upsampled digit [pixels] (>= 8)."""
    amplitude: float = 3.0
    """Saccade triangle size [pixels]; the sensor has ``ceil(amplitude)`` pixels of margin each side."""
    saccade_duration: float = 0.1
    """Duration of one of the three saccades [s]."""
    frame_rate: float = 1000.0
    """Rendered frames per second [Hz] (the emulator interpolates between frames)."""
    dark: float = 0.05
    """Intensity of a blank pixel relative to a full stroke (1) [1], in (0, 1)."""
    dvs: DVSParams = _DEFAULT_DVS
    """Pixel parameters of the emulated camera."""
    seed: int = 0
    """Seed of the emulator's noise; sample ``i`` uses ``numpy.random.default_rng([seed, i])``."""

    def __post_init__(self):
        if isinstance(self.image_size, bool) or not isinstance(self.image_size, int) or self.image_size < 8:
            raise ValueError(f"image_size must be an integer >= 8, got {self.image_size!r}")
        if not (math.isfinite(self.amplitude) and 0 <= self.amplitude <= 16):
            raise ValueError(f"amplitude must lie in [0, 16] pixels, got {self.amplitude!r}")
        if not (math.isfinite(self.saccade_duration) and self.saccade_duration > 0):
            raise ValueError(f"saccade_duration must be > 0 s, got {self.saccade_duration!r}")
        if not (math.isfinite(self.frame_rate) and self.frame_rate > 0):
            raise ValueError(f"frame_rate must be > 0 Hz, got {self.frame_rate!r}")
        if not (0 < self.dark < 1):
            raise ValueError(f"dark must lie in (0, 1), got {self.dark!r}")
        if not isinstance(self.dvs, DVSParams):
            raise ValueError(f"dvs must be a DVSParams, got {type(self.dvs).__name__}")
        if isinstance(self.seed, bool) or not isinstance(self.seed, int) or self.seed < 0:
            raise ValueError(f"seed must be an integer >= 0, got {self.seed!r}")

    @property
    def sensor_size(self) -> tuple[int, int]:
        """``(width, height)`` of the emulated sensor [pixels]."""
        side = self.image_size + 2 * int(math.ceil(self.amplitude))
        return side, side

    @property
    def duration(self) -> float:
        """Recording length: three saccades [s]."""
        return 3 * self.saccade_duration

    def params(self) -> dict[str, Any]:
        """JSON-able generation parameters (cache key and provenance)."""
        d = dataclasses.asdict(self)
        d["dvs"] = dataclasses.asdict(self.dvs)
        return d


def _load_sklearn_digits() -> tuple[np.ndarray, np.ndarray]:
    d = require("datasets", "sklearn.datasets", "the DVS digits").load_digits()
    return d.images.astype(np.float64), d.target.astype(np.int64)


def digit_images(levels: np.ndarray, config: DVSDigitsConfig | None = None) -> np.ndarray:
    """Intensity images ``(n, image_size, image_size)`` of 8x8 digits with grey levels 0-16 (``(n, 8, 8)``)."""
    from scipy.ndimage import zoom

    cfg = config or DVSDigitsConfig()
    lv = np.asarray(levels, dtype=np.float64)
    if lv.ndim != 3 or lv.shape[1:] != (8, 8) or not np.all(np.isfinite(lv)) or lv.min() < 0 or lv.max() > 16:
        raise ValueError(f"levels must be (n, 8, 8) grey levels in [0, 16], got shape {lv.shape}")
    f = cfg.image_size / 8
    big = np.clip(zoom(lv / 16.0, (1, f, f), order=1, grid_mode=True, mode="nearest"), 0.0, 1.0)
    return cfg.dark + (1.0 - cfg.dark) * big


def dvs_digit_events(index: int, config: DVSDigitsConfig | None = None) -> tuple[EventStream, int]:
    """Regenerate the event stream of sample ``index`` (0..1796, scikit-learn order) and its label."""
    cfg = config or DVSDigitsConfig()
    levels, labels = _load_sklearn_digits()
    if isinstance(index, bool) or not isinstance(index, (int, np.integer)) or not 0 <= index < len(labels):
        raise ValueError(f"index must be an integer in [0, {len(labels) - 1}], got {index!r}")
    return _record(digit_images(levels[index:index + 1], cfg)[0], int(index), cfg), int(labels[index])


def _record(image: np.ndarray, index: int, cfg: DVSDigitsConfig) -> EventStream:
    return saccades(image, cfg.sensor_size, amplitude=cfg.amplitude, saccade_duration=cfg.saccade_duration,
                    frame_rate=cfg.frame_rate, params=cfg.dvs, background=cfg.dark, rng=[cfg.seed, index])


def _build(cfg: DVSDigitsConfig, n_bins: int, pool: int, n_samples: int, progress: bool | None
           ) -> dict[str, np.ndarray]:
    levels, labels = _load_sklearn_digits()
    images = digit_images(levels[:n_samples], cfg)
    w, h = cfg.sensor_size
    hp, wp = h // pool, w // pool
    x = np.zeros((n_samples, n_bins, 2 * hp * wp), dtype=np.uint8)
    n_events = np.zeros(n_samples, dtype=np.int64)
    with ProgressBar(n_samples, "dvs-digits: recording", enabled=progress) as bar:
        for i in range(n_samples):
            s = _record(images[i], i, cfg)
            n_events[i] = len(s)
            fr = to_frames_by_time(s.events, s.sensor_size, n_bins, t_start=0.0, t_stop=cfg.duration + 1e-6)
            pooled = fr[:, :, :hp * pool, :wp * pool].reshape(n_bins, 2, hp, pool, wp, pool).sum(axis=(3, 5))
            x[i] = np.minimum(pooled, 255).reshape(n_bins, -1)
            bar.update()
    return {"x": x, "y": labels[:n_samples], "n_events": n_events}


def load_dvs_digits(*, n_bins: int = 30, pool: int = 2, config: DVSDigitsConfig | None = None,
                    n_samples: int | None = None, split_seed: int = 0, test_fraction: float = 0.25,
                    root=None, refresh: bool = False, progress: bool | None = None) -> ClassificationData:
    """DVS digits as a :class:`~memr_snn.learning.sensory.ClassificationData` (module docstring).

    Parameters
    ----------
    n_bins : int
        Time bins over the recording (the network's steps ``T``; ``dt = duration / n_bins``).
    pool : int
        Side of the pixel blocks summed into one input channel (1: every pixel).
    config : DVSDigitsConfig, optional
        Recording parameters (default: the documented ones).
    n_samples : int, optional
        Use only the first ``n_samples`` digits (scikit-learn order) -- for quick tests; default all 1797.
    split_seed, test_fraction
        Stratified train/test split (defaults: the digits experiment's).
    root : path-like, optional
        Cache root (default ``$MEMR_SNN_DATA`` or ``~/.cache/memr_snn``).
    refresh : bool
        Regenerate even if cached.
    progress : bool, optional
        Progress bar while generating (default: when stderr is a terminal).

    Returns
    -------
    ClassificationData
        ``x_*`` uint8 counts ``(N, n_bins, 2 * (side // pool)**2)``; ``meta`` holds the parameters, the
        cache path and the mean number of events per sample.
    """
    train_test_split = require("datasets", "sklearn.model_selection", "the DVS digits").train_test_split

    cfg = config or DVSDigitsConfig()
    for name, v, lo in (("n_bins", n_bins, 1), ("pool", pool, 1)):
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < lo:
            raise ValueError(f"{name} must be an integer >= {lo}, got {v!r}")
    if pool > cfg.sensor_size[0]:
        raise ValueError(f"pool must be <= the sensor side {cfg.sensor_size[0]}, got {pool}")
    n_all = 1797
    n = n_all if n_samples is None else n_samples
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or not 20 <= n <= n_all:
        raise ValueError(f"n_samples must be an integer in [20, {n_all}], got {n_samples!r}")
    if not (isinstance(test_fraction, (int, float)) and 0 < test_fraction < 1):
        raise ValueError(f"test_fraction must lie in (0, 1), got {test_fraction!r}")
    params = {"config": cfg.params(), "n_bins": int(n_bins), "pool": int(pool), "n_samples": int(n)}
    arrays, meta = cached("dvs-digits", VERSION, params, lambda: _build(cfg, int(n_bins), int(pool), int(n), progress),
                          meta={"source": "scikit-learn load_digits (UCI optical recognition of handwritten digits, "
                                          "8x8), recorded with the memr_snn DVS emulator and N-MNIST saccades"},
                          root=root, refresh=refresh)
    x, y = arrays["x"], arrays["y"]
    idx_tr, idx_te = train_test_split(np.arange(n), test_size=float(test_fraction), random_state=int(split_seed),
                                      stratify=y)
    info = {"source": meta.get("source"), "version": VERSION, "generation": params,
            "split": f"stratified, test_fraction {test_fraction}, split_seed {split_seed}",
            "sensor_size": list(cfg.sensor_size), "duration_s": cfg.duration,
            "events_per_sample_mean": float(arrays["n_events"].mean()),
            "channels": "(polarity OFF/ON, y, x) pooled counts, clipped at 255", "cache_path": meta.get("path")}
    return ClassificationData(name="dvs-digits", x_train=x[idx_tr], y_train=y[idx_tr], x_test=x[idx_te],
                              y_test=y[idx_te], dt=cfg.duration / int(n_bins), n_classes=10, meta=info)


def load_task(*, quick: bool = False) -> ClassificationData:
    """Loader of ``memr-snn bench dvs-digits``: all 1797 digits, or the first 300 with ``quick``."""
    return load_dvs_digits(n_samples=300 if quick else None)

