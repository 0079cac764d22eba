"""WAV input for the cochlear front end: :func:`load_wav` reads, checks and resamples a WAV file.

Part of :mod:`memr_snn.encoders.audio`; the names are importable from there too.
"""

from __future__ import annotations

import os
import warnings
from math import gcd

import numpy as np


class WavFormatError(ValueError):
    """A WAV file that is truncated, corrupt or in a sample format :func:`load_wav` does not support."""


_INT_SCALE = {np.dtype(np.int16): 32768.0, np.dtype(np.int32): 2147483648.0}

#: largest float-sample magnitude :func:`load_wav` accepts (16 = +24 dBFS).  IEEE-float WAVs may carry
#: peaks above full scale (mixes and effects renders that go "over" by a few dB, which float keeps
#: instead of clipping); such files are returned unscaled.  A magnitude beyond +24 dBFS is not audio
#: any tool writes on purpose: it is taken as corruption and refused.
FLOAT_PEAK_LIMIT = 16.0


def load_wav(path: str | os.PathLike, target_rate: int | None = None) -> tuple[np.ndarray, int]:
    """Read a WAV file as a mono float64 signal (full scale = 1), optionally resampled.

    Supported: RIFF/WAVE with PCM samples of 8 bit (unsigned), 16, 24 (returned by scipy as
    left-justified int32) or 32 bit, or IEEE float 32/64 bit, with 1 or 2 channels (stereo is
    averaged to mono).  Not supported, each raising :class:`WavFormatError` with the reason:
    compressed encodings (A-law, mu-law, ADPCM, ...), more than 2 channels (mix down first),
    files without samples, float files with NaN/inf samples or with a sample magnitude above
    :data:`FLOAT_PEAK_LIMIT` (16, i.e. +24 dBFS: corruption, not audio), and truncated or corrupt
    files (a ``data`` chunk shorter than its header says is refused, not silently shortened).

    Range of the result: integer formats lie in [-1, 1) (8-bit: [-1, 1 - 1/128]).  Float files are
    returned as stored, neither clipped nor normalised, so peaks "over" full scale (up to
    ``FLOAT_PEAK_LIMIT``) stay above 1.  Resampling (``target_rate``) is a band-limited filter and
    can overshoot these ranges slightly near sharp transients.

    Parameters
    ----------
    path : str or os.PathLike
        File to read.
    target_rate : int, optional
        Resample to this rate [Hz] with :func:`scipy.signal.resample_poly` (polyphase FIR,
        Kaiser window, anti-aliased); None keeps the file's rate.

    Returns
    -------
    wave : (n_samples,) ndarray of float64
        Mono signal, integer formats scaled by their full scale (``x / 2**(bits-1)``; 8-bit:
        ``(x - 128) / 128``), float formats as stored (see the range rule above).
    sample_rate : int
        Its sample rate [Hz] (``target_rate`` if given).

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    WavFormatError
        For the unsupported or malformed files above.
    """
    from scipy import signal  # imported here: scipy.signal is slow to import and most users never need it
    from scipy.io import wavfile

    if target_rate is not None and (isinstance(target_rate, bool) or not isinstance(target_rate, (int, np.integer))
                                    or target_rate < 1):
        raise ValueError(f"target_rate must be a positive integer [Hz] or None, got {target_rate!r}")
    name = os.fspath(path)
    if not os.path.exists(name):
        raise FileNotFoundError(f"no such WAV file: {name!r}")
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            rate, data = wavfile.read(name, mmap=False)
    except (FileNotFoundError, PermissionError, IsADirectoryError):
        raise
    except Exception as err:  # noqa: BLE001 -- scipy raises ValueError, struct.error, EOFError, ... on bad bytes
        raise WavFormatError(f"cannot read {name!r} as a WAV file: {err}") from None
    for w in caught:
        text = str(w.message)
        if "EOF" in text or "truncat" in text.lower() or "incomplete" in text.lower():
            raise WavFormatError(f"{name!r} is truncated: {text}")
    data = np.asarray(data)
    if data.ndim == 2:
        if data.shape[1] > 2:
            raise WavFormatError(f"{name!r} has {data.shape[1]} channels; only mono and stereo are supported "
                                 f"(mix down first)")
    elif data.ndim != 1:
        raise WavFormatError(f"{name!r}: unexpected sample array of shape {data.shape}")
    if data.size == 0 or data.shape[0] == 0:
        raise WavFormatError(f"{name!r} contains no samples")
    if not (isinstance(rate, (int, np.integer)) and rate > 0):
        raise WavFormatError(f"{name!r} declares an invalid sample rate {rate!r}")
    if data.dtype == np.uint8:
        x = (data.astype(np.float64) - 128.0) / 128.0
    elif data.dtype in _INT_SCALE:
        x = data.astype(np.float64) / _INT_SCALE[data.dtype]
    elif data.dtype in (np.float32, np.float64):
        x = data.astype(np.float64)
        if not np.all(np.isfinite(x)):
            raise WavFormatError(f"{name!r} contains NaN or infinite float samples")
        peak = float(np.max(np.abs(x)))
        if peak > FLOAT_PEAK_LIMIT:
            raise WavFormatError(f"{name!r} has a float sample of magnitude {peak:.6g}, beyond the accepted "
                                 f"peak of {FLOAT_PEAK_LIMIT:g} (+24 dBFS): a corrupt file, not audio")
    else:
        raise WavFormatError(f"{name!r} has unsupported sample type {data.dtype}; "
                             f"supported: 8-bit unsigned, 16/24/32-bit PCM, 32/64-bit float")
    if x.ndim == 2:
        x = x.mean(axis=1)
    rate = int(rate)
    if target_rate is not None and int(target_rate) != rate:
        g = gcd(int(target_rate), rate)
        x = signal.resample_poly(x, int(target_rate) // g, rate // g)
        rate = int(target_rate)
    return np.ascontiguousarray(x), rate
