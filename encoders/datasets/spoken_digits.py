# Size: about 625 lines: one data set from voice synthesis to cached spike trains; the stages (espeak-ng
# binding, synthesis, cochlear encoding, cache) share the configuration and the process-pool helpers.  The
# espeak-ng binding (EspeakSynthesizer) is the part to move to its own module if this grows.
"""Spoken digits: "zero" ... "nine" synthesised offline with espeak-ng, encoded by the cochlear front end.

The data set is generated on first use and cached (see :func:`load_spoken_digits`).  Every
utterance is one English digit word spoken by espeak-ng (through the ``espeakng-loader`` wheel,
which ships ``libespeak-ng`` and its data; called with :mod:`ctypes`, synthesising into a buffer).
espeak-ng is GPL-3.0: it is an *optional* extra used only to generate data
(``pip install 'memr_snn[speech]'``); nothing else in the package needs it.

Voices and split
----------------
A *voice* is an espeak-ng voice variant (``m1`` ... ``m8``, ``f1`` ... ``f5``, ``klatt`` ...,
named variants such as ``benjamin``), i.e. a set of formant, pitch and voice-quality settings --
the closest espeak has to a speaker.  Each variant speaks every digit with each of
:data:`ACCENTS` (espeak's English dialects: ``en``, ``en-us``, ``en-gb-scotland`` ...), at a
random speaking rate and pitch (and pitch range) drawn per utterance.  The split is
**voice-disjoint**: the :data:`TEST_VARIANTS` never occur in the training set, so the test
accuracy measures generalisation to unheard voices (all accents occur on both sides).

Per utterance (random settings from a generator seeded by ``(seed, digit, accent, split, variant,
draw)``, independent of the generation order):

1. synthesise at 22.05 kHz (each (accent, voice) group in a fresh worker process on a private copy
   of the library, see :class:`EspeakSynthesizer`, "Reproducibility"); trim leading/trailing
   silence (``|x| < 2 %`` of the peak);
2. resample to ``sample_rate`` (:func:`scipy.signal.resample_poly`);
3. scale to an RMS of ``rms_level * 10**(gain_db/20)``, ``gain_db ~ U(level_jitter_db)``;
4. place at a random onset in a window of ``duration`` seconds (cropped at its end if longer);
5. add white noise at ``snr_db ~ U(snr_db)`` relative to the speech RMS (None: no noise);
6. encode with :func:`memr_snn.encoders.audio.cochlea_encode` -> ``(T, n_outputs)`` uint8 counts.
"""

from __future__ import annotations

import ctypes
import dataclasses
import functools
import importlib.util
import multiprocessing
import os
import shutil
import sys
import tempfile
import threading
from dataclasses import dataclass, field
from math import gcd

import numpy as np
from scipy import signal

from ..audio import CochleaParams, cochlea_encode
from . import cache
from .classification import ClassificationData

__all__ = [
    "SpeechExtraMissing",
    "EspeakSynthesizer",
    "DIGIT_WORDS",
    "ACCENTS",
    "TRAIN_VARIANTS",
    "TEST_VARIANTS",
    "SPOKEN_DIGITS_VERSION",
    "SpokenDigitsConfig",
    "synthesize_digits",
    "encode_waveforms",
    "QUICK_CONFIG",
    "load_spoken_digits",
    "load_task",
    "write_fixture",
]

SPOKEN_DIGITS_VERSION = 2
"""Generator version: bumped whenever the synthesis, augmentation or split changes (part of the cache key)."""

DIGIT_WORDS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
"""The words; the label of ``DIGIT_WORDS[k]`` is ``k``."""

ACCENTS = ("en", "en-us", "en-gb-scotland", "en-gb-x-rp", "en-gb-x-gbclan", "en-gb-x-gbcwmd", "en-029",
           "en-us-nyc")
"""espeak-ng English language voices (dialects) used on both sides of the split."""

TRAIN_VARIANTS = ("m1", "m2", "m4", "m5", "m6", "m8", "f1", "f3", "f4", "klatt", "klatt2", "klatt4", "klatt5",
                  "adam", "anika", "announcer", "aunty", "belinda", "boris", "caleb", "david", "ed", "edward",
                  "john", "max", "michel", "norbert", "paul", "rob", "travis", "victor", "zac", "grandma",
                  "quincy", "shelby")
"""espeak-ng voice variants of the training set."""

TEST_VARIANTS = ("m3", "m7", "f2", "f5", "klatt3", "klatt6", "benjamin", "linda", "robert", "steph", "grandpa")
"""espeak-ng voice variants held out for the test set (disjoint from :data:`TRAIN_VARIANTS`)."""

_INSTALL_HINT = ("spoken-digit synthesis needs espeak-ng, shipped by the optional 'espeakng-loader' package: "
                 "pip install 'memr_snn[speech]'  (espeak-ng is GPL-3.0; it is used only to generate data)")


class SpeechExtraMissing(ImportError, ValueError):
    """The optional speech extra (``espeakng-loader``) is not installed; the message says how to install it.

    Also a ``ValueError``, so the command line reports it as a one-line error.
    """


# ---------------------------------------------------------------------------------------------- espeak-ng

# espeak-ng C API constants (speak_lib.h)
_AUDIO_OUTPUT_SYNCHRONOUS = 2
_POS_CHARACTER = 1
_CHARS_UTF8 = 1
_PARAM_RATE, _PARAM_PITCH, _PARAM_RANGE = 1, 3, 4
_EE_OK = 0
_ESPEAK_RATE = 22050  # output sample rate of libespeak-ng (checked against espeak_Initialize's return value)
_SYNTH_CALLBACK = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.c_void_p)


class EspeakSynthesizer:
    """Text-to-speech into a numpy buffer with the libespeak-ng shipped by ``espeakng-loader``.

    libespeak-ng keeps global state (one voice and parameter set per loaded library), so use the
    shared instance from :meth:`shared`; calls are serialised by a lock.

    **Reproducibility.**  The output of libespeak-ng 1.52 depends on the history of calls made to
    the same loaded library: internal state that ``espeak_Initialize`` does not reset makes the
    same word come out a few samples longer or shorter, and Klatt voices draw noise from libc
    ``rand()``.  Voices with breath noise (e.g. ``f2``) draw from espeak's own generator, which
    is seeded from the clock unless ``espeak_ng_SetRandSeed`` is called (done here with
    ``rand_seed``).  A *fresh* library with a fixed seed replaying the same calls reproduces them
    byte for byte, so :func:`synthesize_digits` runs each (accent, voice) group in a fresh process
    on a private copy of the library (``library_path``).

    Parameters
    ----------
    library_path : str, optional
        The libespeak-ng file to load (default: the one of ``espeakng-loader``).
    rand_seed : int
        Seed of espeak-ng's noise generator (``espeak_ng_SetRandSeed``), 0 <= rand_seed < 2**31.

    Raises
    ------
    SpeechExtraMissing
        If ``espeakng-loader`` is not installed (message: ``pip install 'memr_snn[speech]'``).
    RuntimeError
        If the library cannot be loaded or initialised.
    """

    def __init__(self, library_path: str | None = None, rand_seed: int = 0) -> None:
        if isinstance(rand_seed, bool) or not isinstance(rand_seed, (int, np.integer)) or not 0 <= rand_seed < 2**31:
            raise ValueError(f"rand_seed must be an integer in [0, 2**31), got {rand_seed!r}")
        try:
            import espeakng_loader
        except ImportError as exc:
            raise SpeechExtraMissing(_INSTALL_HINT) from exc
        try:
            lib = ctypes.CDLL(library_path or espeakng_loader.get_library_path())
            data_path = espeakng_loader.get_data_path()
        except (OSError, RuntimeError) as exc:
            raise RuntimeError(f"cannot load libespeak-ng from espeakng-loader: {exc}") from exc
        lib.espeak_Initialize.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_char_p, ctypes.c_int]
        lib.espeak_Initialize.restype = ctypes.c_int
        lib.espeak_SetVoiceByName.argtypes = [ctypes.c_char_p]
        lib.espeak_SetVoiceByName.restype = ctypes.c_int
        lib.espeak_SetParameter.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int]
        lib.espeak_SetParameter.restype = ctypes.c_int
        lib.espeak_Synth.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_uint, ctypes.c_int, ctypes.c_uint,
                                     ctypes.c_uint, ctypes.c_void_p, ctypes.c_void_p]
        lib.espeak_Synth.restype = ctypes.c_int
        lib.espeak_Synchronize.restype = ctypes.c_int
        lib.espeak_Info.argtypes = [ctypes.c_void_p]
        lib.espeak_Info.restype = ctypes.c_char_p
        rate = lib.espeak_Initialize(_AUDIO_OUTPUT_SYNCHRONOUS, 0, data_path.encode(), 0)
        if rate != _ESPEAK_RATE:
            raise RuntimeError(f"espeak_Initialize returned {rate} (expected the sample rate {_ESPEAK_RATE} Hz) "
                               f"with data path {data_path!r}")
        self.sample_rate: int = int(rate)
        """Output sample rate of espeak-ng [Hz] (22050)."""
        if not hasattr(lib, "espeak_ng_SetRandSeed"):
            raise RuntimeError("this libespeak-ng has no espeak_ng_SetRandSeed (needs espeak-ng >= 1.52): its "
                               "breath noise would be seeded from the clock; upgrade espeakng-loader")
        lib.espeak_ng_SetRandSeed.argtypes = [ctypes.c_long]
        lib.espeak_ng_SetRandSeed(int(rand_seed))
        self.version: str = (lib.espeak_Info(None) or b"unknown").decode("ascii", "replace")
        """libespeak-ng version string (recorded in the data set's metadata)."""
        self._lib = lib
        self._chunks: list[np.ndarray] = []
        self._callback = _SYNTH_CALLBACK(self._collect)  # keep a reference: the library calls it
        lib.espeak_SetSynthCallback(self._callback)
        self._lock = threading.Lock()

    @staticmethod
    @functools.lru_cache(maxsize=1)
    def shared() -> EspeakSynthesizer:
        """The process-wide synthesiser (libespeak-ng is initialised once per process)."""
        return EspeakSynthesizer()

    def _collect(self, wav, n_samples, events) -> int:
        if n_samples > 0 and wav:
            self._chunks.append(np.ctypeslib.as_array(wav, shape=(n_samples,)).copy())
        return 0

    def synthesize(self, text: str, voice: str = "en", *, rate_wpm: int = 175, pitch: int = 50,
                   pitch_range: int = 50) -> np.ndarray:
        """Speak ``text`` and return the waveform.

        Parameters
        ----------
        text : str
            Text to speak (UTF-8).
        voice : str
            espeak-ng voice name, optionally with a variant: ``"en-us+f2"``.
        rate_wpm : int
            Speaking rate [words per minute], 80..450.
        pitch, pitch_range : int
            Base pitch and pitch range, 0..100 (espeak units; 50 is the voice's default).

        Returns
        -------
        (n_samples,) ndarray of float64
            Waveform in [-1, 1) at :attr:`sample_rate`.

        Raises
        ------
        ValueError
            For an unknown voice or out-of-range settings.
        """
        if not (80 <= int(rate_wpm) <= 450):
            raise ValueError(f"rate_wpm must be in 80..450 words per minute, got {rate_wpm!r}")
        for name, value in (("pitch", pitch), ("pitch_range", pitch_range)):
            if not (0 <= int(value) <= 100):
                raise ValueError(f"{name} must be in 0..100, got {value!r}")
        encoded = text.encode("utf-8") + b"\0"
        with self._lock:
            status = self._lib.espeak_SetVoiceByName(voice.encode("ascii"))
            if status != _EE_OK:
                raise ValueError(f"espeak-ng has no voice {voice!r} (error code {status})")
            self._lib.espeak_SetParameter(_PARAM_RATE, int(rate_wpm), 0)
            self._lib.espeak_SetParameter(_PARAM_PITCH, int(pitch), 0)
            self._lib.espeak_SetParameter(_PARAM_RANGE, int(pitch_range), 0)
            self._chunks = []
            status = self._lib.espeak_Synth(encoded, len(encoded), 0, _POS_CHARACTER, 0, _CHARS_UTF8, None, None)
            self._lib.espeak_Synchronize()
            chunks, self._chunks = self._chunks, []
        if status != _EE_OK:
            raise RuntimeError(f"espeak_Synth failed with error code {status}")
        if not chunks:
            return np.zeros(0)
        return np.concatenate(chunks).astype(np.float64) / 32768.0


# ---------------------------------------------------------------------------------------------- data set

@dataclass(frozen=True, slots=True)
class SpokenDigitsConfig:
    """How the spoken-digit data set is generated (every field is part of the cache key)."""

    accents: tuple[str, ...] = ACCENTS
    """espeak-ng language voices."""
    train_variants: tuple[str, ...] = TRAIN_VARIANTS
    """Voice variants of the training set."""
    test_variants: tuple[str, ...] = TEST_VARIANTS
    """Voice variants of the test set (must be disjoint from ``train_variants``)."""
    draws: int = 1
    """Utterances per (digit, accent, variant), each with its own rate, pitch, level, onset, noise."""
    rate_wpm: tuple[int, int] = (110, 220)
    """Range of the speaking rate [words per minute] (uniform integers, inclusive)."""
    pitch: tuple[int, int] = (25, 75)
    """Range of the espeak base pitch (0..100)."""
    pitch_range: tuple[int, int] = (30, 80)
    """Range of the espeak pitch range (0..100)."""
    sample_rate: int = 16000
    """Sample rate of the encoded audio [Hz]."""
    duration: float = 0.8
    """Window length per utterance [s]."""
    rms_level: float = 0.05
    """Nominal RMS of the speech [full scale]."""
    level_jitter_db: tuple[float, float] = (-6.0, 6.0)
    """Range of the random gain around ``rms_level`` [dB]."""
    snr_db: tuple[float, float] | None = (20.0, 40.0)
    """Range of the signal-to-noise ratio of the added white noise [dB]; None: no noise."""
    cochlea: CochleaParams = field(default_factory=CochleaParams)
    """Front-end parameters."""
    seed: int = 0
    """Seed of the per-utterance draws."""

    def __post_init__(self) -> None:
        for name in ("accents", "train_variants", "test_variants"):
            value = getattr(self, name)
            if not (isinstance(value, tuple) and value and all(isinstance(v, str) and v for v in value)):
                raise ValueError(f"{name} must be a non-empty tuple of voice names, got {value!r}")
        overlap = set(self.train_variants) & set(self.test_variants)
        if overlap:
            raise ValueError(f"train_variants and test_variants must be disjoint, both hold {sorted(overlap)}")
        if isinstance(self.draws, bool) or not isinstance(self.draws, int) or self.draws < 1:
            raise ValueError(f"draws must be an integer >= 1, got {self.draws!r}")
        for name, lo, hi in (("rate_wpm", 80, 450), ("pitch", 0, 100), ("pitch_range", 0, 100)):
            a, b = getattr(self, name)
            if not (lo <= a <= b <= hi):
                raise ValueError(f"{name} must be a range (min, max) within [{lo}, {hi}], got {(a, b)!r}")
        if not (isinstance(self.sample_rate, int) and self.sample_rate > 2 * self.cochlea.f_max):
            raise ValueError(f"sample_rate must be an integer > 2 * cochlea.f_max = {2 * self.cochlea.f_max} Hz, "
                             f"got {self.sample_rate!r}")
        if not (np.isfinite(self.duration) and self.duration >= self.cochlea.dt):
            raise ValueError(f"duration must be >= cochlea.dt = {self.cochlea.dt} s, got {self.duration!r}")
        if not (np.isfinite(self.rms_level) and 0 < self.rms_level < 1):
            raise ValueError(f"rms_level must be in (0, 1), got {self.rms_level!r}")
        lo, hi = self.level_jitter_db
        if not (np.isfinite(lo) and np.isfinite(hi) and lo <= hi):
            raise ValueError(f"level_jitter_db must be a finite range (min, max), got {self.level_jitter_db!r}")
        if self.snr_db is not None and not (np.isfinite(self.snr_db[0]) and self.snr_db[0] <= self.snr_db[1]
                                            and np.isfinite(self.snr_db[1])):
            raise ValueError(f"snr_db must be None or a finite range (min, max) [dB], got {self.snr_db!r}")
        if isinstance(self.seed, bool) or not isinstance(self.seed, int) or self.seed < 0:
            raise ValueError(f"seed must be an integer >= 0, got {self.seed!r}")

    @property
    def n_samples_window(self) -> int:
        """Audio samples per utterance window."""
        return int(round(self.duration * self.sample_rate))

    def to_dict(self) -> dict:
        """JSON-able description (cache key and provenance)."""
        d = dataclasses.asdict(self)
        d["cochlea"] = dataclasses.asdict(self.cochlea)
        d["version"] = SPOKEN_DIGITS_VERSION
        return d


def _plan(config: SpokenDigitsConfig, digit: int, accent_index: int, variant_index: int, split_index: int,
          draw: int) -> dict:
    """The random settings of one utterance, from its own generator (independent of generation order)."""
    rng = np.random.default_rng([config.seed, digit, accent_index, split_index, variant_index, draw])
    return {"rate_wpm": int(rng.integers(config.rate_wpm[0], config.rate_wpm[1] + 1)),
            "pitch": int(rng.integers(config.pitch[0], config.pitch[1] + 1)),
            "pitch_range": int(rng.integers(config.pitch_range[0], config.pitch_range[1] + 1)),
            "gain_db": float(rng.uniform(*config.level_jitter_db)),
            "snr_db": np.nan if config.snr_db is None else float(rng.uniform(*config.snr_db)),
            "onset_u": float(rng.uniform()),
            "noise_seed": int(rng.integers(2**63))}


def _synthesize_group(library_path: str, rand_seed: int, jobs: list[tuple[str, str, int, int, int]]
                      ) -> list[np.ndarray]:
    """Synthesise ``jobs`` ``(word, voice, rate_wpm, pitch, pitch_range)`` in order on a freshly loaded library
    seeded with ``rand_seed`` (runs in a fresh worker process)."""
    synth = EspeakSynthesizer(library_path, rand_seed)
    return [synth.synthesize(w, v, rate_wpm=r, pitch=p, pitch_range=pr) for w, v, r, p, pr in jobs]


def _finish(x: np.ndarray, synth_rate: int, config: SpokenDigitsConfig, plan: dict, what: str) -> tuple[np.ndarray,
                                                                                                      dict]:
    """Steps 1-5 of the module docstring after synthesis: trim, resample, level, place, add noise."""
    if x.size == 0 or not np.any(x):
        raise RuntimeError(f"espeak-ng produced silence for {what}")
    loud = np.nonzero(np.abs(x) >= 0.02 * np.abs(x).max())[0]
    x = x[loud[0]: loud[-1] + 1]
    g = gcd(config.sample_rate, synth_rate)
    x = signal.resample_poly(x, config.sample_rate // g, synth_rate // g)
    x *= config.rms_level * 10.0 ** (plan["gain_db"] / 20.0) / np.sqrt(np.mean(x**2))
    speech_rms = np.sqrt(np.mean(x**2))
    n = config.n_samples_window
    out = np.zeros(n)
    onset = int(plan["onset_u"] * max(0, n - x.size))
    seg = x[: n - onset]
    out[onset: onset + seg.size] = seg
    if np.isfinite(plan["snr_db"]):
        noise = np.random.default_rng(plan["noise_seed"]).standard_normal(n)
        out += noise * speech_rms * 10.0 ** (-plan["snr_db"] / 20.0)
    info = {k: plan[k] for k in ("rate_wpm", "pitch", "pitch_range", "gain_db", "snr_db")}
    info.update(onset_s=onset / config.sample_rate, cropped=bool(x.size > n - onset))
    return out, info


def _pool_context():
    methods = multiprocessing.get_all_start_methods()
    return multiprocessing.get_context("fork" if sys.platform.startswith("linux") and "fork" in methods else "spawn")


def synthesize_digits(config: SpokenDigitsConfig | None = None, split: str = "train", *, workers: int | None = None,
                      progress: bool | None = None) -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]:
    """Synthesise the utterances of one split.

    Each (accent, voice) group -- its 10 digits x ``draws`` utterances in a fixed order -- is spoken
    by a fresh worker process on a private copy of libespeak-ng (see :class:`EspeakSynthesizer`,
    "Reproducibility"), so the result depends only on ``config`` and ``split``.

    Parameters
    ----------
    config : SpokenDigitsConfig, optional
        Generation settings (default ``SpokenDigitsConfig()``).
    split : str
        ``"train"`` (``config.train_variants``) or ``"test"`` (``config.test_variants``).
    workers : int, optional
        Worker processes (default ``min(4, os.cpu_count())``); the result does not depend on it.
    progress : bool, optional
        Progress bar on stderr (None: only on a terminal).

    Returns
    -------
    waves : (N, n_samples_window) ndarray of float32
        Augmented waveforms at ``config.sample_rate``, ordered by accent, voice, digit, draw.
    labels : (N,) ndarray of int64
        Digit of each waveform.
    info : dict of (N,) ndarrays
        ``accent``, ``variant`` (names), ``rate_wpm``, ``pitch``, ``pitch_range``, ``gain_db``,
        ``snr_db``, ``onset_s``, ``cropped``.

    Raises
    ------
    SpeechExtraMissing
        If ``espeakng-loader`` is not installed.
    """
    from ...progress import ProgressBar

    config = SpokenDigitsConfig() if config is None else config
    if split not in ("train", "test"):
        raise ValueError(f"split must be 'train' or 'test', got {split!r}")
    n_workers = min(4, os.cpu_count() or 1) if workers is None else int(workers)
    if n_workers < 1:
        raise ValueError(f"workers must be >= 1, got {workers!r}")
    try:
        import espeakng_loader
    except ImportError as exc:
        raise SpeechExtraMissing(_INSTALL_HINT) from exc
    variants = config.train_variants if split == "train" else config.test_variants
    split_index = 0 if split == "train" else 1
    groups = [(a, v) for a in range(len(config.accents)) for v in range(len(variants))]
    keys = [[(d, k) for d in range(len(DIGIT_WORDS)) for k in range(config.draws)] for _ in groups]
    plans = [[_plan(config, d, a, v, split_index, k) for d, k in key] for (a, v), key in zip(groups, keys, strict=True)]
    n_total = len(groups) * len(DIGIT_WORDS) * config.draws
    waves = np.empty((n_total, config.n_samples_window), dtype=np.float32)
    labels = np.empty(n_total, dtype=np.int64)
    records: list[dict] = []
    with tempfile.TemporaryDirectory(prefix="memr_snn_espeak_") as tmp:
        private = os.path.join(tmp, "libespeak-ng-private" + os.path.splitext(espeakng_loader.get_library_path())[1])
        shutil.copyfile(espeakng_loader.get_library_path(), private)
        tasks = [(private, int(plan[0]["noise_seed"] % 2**31),
                  [(DIGIT_WORDS[d], f"{config.accents[a]}+{variants[v]}", p["rate_wpm"], p["pitch"], p["pitch_range"])
                   for (d, _), p in zip(key, plan, strict=True)])
                 for (a, v), key, plan in zip(groups, keys, plans, strict=True)]
        i = 0
        with ProgressBar(n_total, desc=f"synthesising spoken digits ({split})", enabled=progress) as bar, \
                _pool_context().Pool(n_workers, maxtasksperchild=1) as pool:
            for (a, v), key, plan, raw in zip(groups, keys, plans, pool.imap(_star_group, tasks), strict=True):
                for (d, _), p, x in zip(key, plan, raw, strict=True):
                    what = f"{DIGIT_WORDS[d]!r} with voice {config.accents[a]}+{variants[v]}"
                    waves[i], rec = _finish(x, _ESPEAK_RATE, config, p, what)
                    labels[i] = d
                    rec.update(accent=config.accents[a], variant=variants[v])
                    records.append(rec)
                    i += 1
                    bar.update()
    info = {key: np.array([r[key] for r in records]) for key in records[0]}
    return waves, labels, info


def _star_group(task):
    return _synthesize_group(*task)


def encode_waveforms(waves: np.ndarray, sample_rate: int, params: CochleaParams | None = None, *,
                     workers: int | None = 1, progress: bool | None = None) -> np.ndarray:
    """Encode equal-length waveforms with :func:`~memr_snn.encoders.audio.cochlea_encode`.

    Parameters
    ----------
    waves : (N, n_samples) array_like
        Waveforms at ``sample_rate``.
    sample_rate : int
        Sample rate [Hz].
    params : CochleaParams, optional
        Front-end parameters (default ``CochleaParams()``).
    workers : int, optional
        Worker processes (1: in this process; None: ``min(4, os.cpu_count())``); the result does
        not depend on it.
    progress : bool, optional
        Progress bar on stderr (None: only on a terminal).

    Returns
    -------
    (N, T, params.n_outputs) ndarray of uint8
        Spike counts per bin of ``params.dt``.
    """
    from ...progress import ProgressBar

    params = CochleaParams() if params is None else params
    w = np.asarray(waves)
    if w.ndim != 2 or w.shape[0] == 0:
        raise ValueError(f"waves must have shape (N, n_samples) with N >= 1, got {w.shape}")
    n_workers = min(4, os.cpu_count() or 1) if workers is None else int(workers)
    if n_workers < 1:
        raise ValueError(f"workers must be >= 1 or None, got {workers!r}")
    first = cochlea_encode(w[0], sample_rate, params)
    out = np.empty((w.shape[0],) + first.shape, dtype=np.uint8)
    out[0] = first
    chunk = 32
    tasks = [(w[i: i + chunk], sample_rate, params) for i in range(1, w.shape[0], chunk)]
    with ProgressBar(w.shape[0], desc="cochlear encoding", enabled=progress) as bar:
        bar.update()
        if n_workers == 1 or len(tasks) <= 1:
            results = map(_encode_chunk, tasks)
            pool = None
        else:
            pool = _pool_context().Pool(n_workers)
            results = pool.imap(_encode_chunk, tasks)
        try:
            i = 1
            for block in results:
                out[i: i + block.shape[0]] = block
                i += block.shape[0]
                bar.update(block.shape[0])
        finally:
            if pool is not None:
                pool.close()
                pool.join()
    return out


def _encode_chunk(task) -> np.ndarray:
    waves, sample_rate, params = task
    return np.stack([cochlea_encode(x, sample_rate, params) for x in waves])


def _espeak_version() -> str:
    """libespeak-ng's version, read in a throw-away process (the data must come from fresh libraries)."""
    if importlib.util.find_spec("espeakng_loader") is None:
        raise SpeechExtraMissing(_INSTALL_HINT)
    with _pool_context().Pool(1) as pool:
        return pool.apply(_version_in_worker)


def _version_in_worker() -> str:
    return EspeakSynthesizer().version


QUICK_CONFIG = SpokenDigitsConfig(accents=("en", "en-us"), train_variants=TRAIN_VARIANTS[:4],
                                  test_variants=TEST_VARIANTS[:2])
"""The small subset of ``load_task(quick=True)``: 2 accents, 4 training and 2 test voices (120 utterances)."""


def load_spoken_digits(config: SpokenDigitsConfig | None = None, *, root=None, refresh: bool = False,
                       progress: bool | None = None) -> ClassificationData:
    """The spoken-digit task: synthesised, encoded and cached on first use, read from the cache after.

    Parameters
    ----------
    config : SpokenDigitsConfig, optional
        Generation settings (default ``SpokenDigitsConfig()``: 8 accents x 35 training voices and
        11 test voices x 10 digits = 2800 training and 880 test utterances, 0.8 s each, 32 channels,
        80 bins of 10 ms).
    root : path-like, optional
        Cache root (default ``$MEMR_SNN_DATA`` or ``~/.cache/memr_snn``; see
        :mod:`memr_snn.encoders.datasets.cache`).
    refresh : bool
        Regenerate even if cached.
    progress : bool, optional
        Progress bars while generating (None: only on a terminal).

    Returns
    -------
    ClassificationData
        ``x`` ``(N, T, n_channels)`` uint8 spike counts, labels 0..9, ``dt = config.cochlea.dt``,
        voice-disjoint split; ``meta`` holds the configuration, version, espeak-ng version and cache path.

    Raises
    ------
    SpeechExtraMissing
        If the data are not cached and ``espeakng-loader`` is not installed.
    """
    config = SpokenDigitsConfig() if config is None else config
    if not isinstance(config, SpokenDigitsConfig):
        raise TypeError(f"config must be a SpokenDigitsConfig, got {type(config).__name__}")
    versions: dict[str, str] = {}

    def build() -> dict[str, np.ndarray]:
        versions["espeak_ng"] = _espeak_version()
        arrays: dict[str, np.ndarray] = {}
        for split in ("train", "test"):
            waves, labels, info = synthesize_digits(config, split, progress=progress)
            arrays[f"x_{split}"] = encode_waveforms(waves, config.sample_rate, config.cochlea, workers=None,
                                                    progress=progress)
            arrays[f"y_{split}"] = labels
            variants = config.train_variants if split == "train" else config.test_variants
            arrays[f"voice_{split}"] = np.array([variants.index(v) for v in info["variant"]], dtype=np.int16)
            arrays[f"accent_{split}"] = np.array([config.accents.index(a) for a in info["accent"]], dtype=np.int16)
            for key in ("rate_wpm", "pitch", "pitch_range", "gain_db", "snr_db", "onset_s", "cropped"):
                arrays[f"{key}_{split}"] = info[key]
        return arrays

    arrays, stored = cache.cached("spoken-digits", SPOKEN_DIGITS_VERSION, config.to_dict(), build, root=root,
                                  refresh=refresh, meta={"espeak_ng_version": versions.get("espeak_ng")}
                                  if versions else None)
    meta = {"source": "espeak-ng synthesis (espeakng-loader), memr_snn.encoders.datasets.spoken_digits",
            "version": SPOKEN_DIGITS_VERSION, "config": config.to_dict(),
            "split": "voice-disjoint: test voices (espeak variants) never occur in training",
            "encoding": f"cochlear front end, spike_model={config.cochlea.spike_model}",
            "espeak_ng_version": stored.get("espeak_ng_version", versions.get("espeak_ng")),
            "cache_path": stored.get("path")}
    return ClassificationData(name="spoken-digits", x_train=arrays["x_train"], y_train=arrays["y_train"],
                              x_test=arrays["x_test"], y_test=arrays["y_test"], dt=config.cochlea.dt,
                              n_classes=len(DIGIT_WORDS), meta=meta)


def load_task(*, quick: bool = False) -> ClassificationData:
    """Loader of ``memr-snn bench spoken-digits``: the default data set, or :data:`QUICK_CONFIG` when ``quick``."""
    return load_spoken_digits(QUICK_CONFIG if quick else None)


def write_fixture(path, n_waveforms: int = 3) -> None:
    """Write the small test fixture (``tests/reference/spoken_digits_fixture.npz``).

    It holds, for :data:`QUICK_CONFIG` with one accent (``en``), the spike trains of all 10 digits
    x 6 voices (4 training, 2 test voices), their labels and split, and the int16 waveforms of the
    first ``n_waveforms`` utterances (so the front end can be checked against them without espeak-ng).
    """
    config = dataclasses.replace(QUICK_CONFIG, accents=("en",))
    out: dict[str, np.ndarray] = {}
    for split in ("train", "test"):
        waves, labels, info = synthesize_digits(config, split, progress=False)
        out[f"x_{split}"] = encode_waveforms(waves, config.sample_rate, config.cochlea, progress=False)
        out[f"y_{split}"] = labels
        if split == "train":
            out["waves_int16"] = np.round(waves[:n_waveforms] * 32767).astype(np.int16)
            out["waves_x"] = encode_waveforms(out["waves_int16"] / 32767.0, config.sample_rate, config.cochlea,
                                              progress=False)
    out["sample_rate"] = np.array(config.sample_rate)
    out["espeak_ng_version"] = np.array(_espeak_version())
    out["generator_version"] = np.array(SPOKEN_DIGITS_VERSION)
    np.savez_compressed(path, **out)

