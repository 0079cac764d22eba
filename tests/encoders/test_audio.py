"""Tests of the cochlear front end (``memr_snn.encoders.audio``).

References used: the ERB formulas of Glasberg & Moore (1990) and Slaney's (1993) ERBSpace
closed form; the analytic gammatone bandwidths (-3 dB: 2 b sqrt(2^(1/4) - 1); equivalent
rectangular bandwidth b / 1.019); scipy's independent FIR gammatone (``scipy.signal.gammatone``);
WAV files written by Python's ``wave`` module and by ``scipy.io.wavfile``.
"""

from __future__ import annotations

import io
import wave

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from memr_snn.encoders.audio import (
    CochleaParams,
    WavFormatError,
    cochlea_encode,
    cochleagram,
    erb,
    erb_rate,
    erb_rate_to_hz,
    erb_space,
    gammatone_filter_bank,
    hair_cell_drive,
    hair_cell_lif_kernel,
    hair_cell_lif_reference,
    hair_cell_spikes,
    load_wav,
)
from scipy import signal
from scipy.io import wavfile

FS = 16000


def test_docstring_examples():
    """The numpydoc examples run (the package folder cannot be collected with --doctest-modules)."""
    import doctest

    import memr_snn.encoders.audio as audio

    result = doctest.testmod(audio)
    assert result.attempted >= 4 and result.failed == 0


# ------------------------------------------------------------------------------------------------ ERB scale

def test_erb_formula_values():
    """ERB(f) = 24.7 (4.37 f / 1000 + 1): 24.7 Hz at 0, 132.639 Hz at 1 kHz, 456.4 Hz at 4 kHz (by hand)."""
    np.testing.assert_allclose(erb([0.0, 1000.0, 4000.0]), [24.7, 24.7 * 5.37, 24.7 * 18.48], rtol=1e-12)


def test_erb_rate_inverse_and_derivative():
    """d(ERB-rate)/df = 1/ERB(f) (the ERB-rate scale counts ERBs); erb_rate_to_hz inverts erb_rate."""
    f = np.array([50.0, 200.0, 1000.0, 3000.0, 8000.0])
    np.testing.assert_allclose(erb_rate_to_hz(erb_rate(f)), f, rtol=1e-12)
    h = 1e-3
    slope = (erb_rate(f + h) - erb_rate(f - h)) / (2 * h)
    # 21.4 / ln(10) * 4.37e-3 = 0.040615 vs 1/24.7 = 0.040486: the published constants agree to 0.32 %
    np.testing.assert_allclose(slope * erb(f), 1.0, rtol=4e-3)


def test_centre_frequencies_match_slaney_erbspace():
    """Slaney's ERBSpace closed form: cf_i = -Q*B + exp(i * (log(f_lo + Q*B) - log(f_hi + Q*B)) / (N-1))
    * (f_hi + Q*B) with Q*B = EarQ * minBW = 1 / 4.37e-3 Hz, i = 0..N-1 (descending; we return ascending)."""
    f_lo, f_hi, n = 100.0, 7000.0, 32
    qb = 1.0 / 4.37e-3
    i = np.arange(n)
    slaney = -qb + np.exp(i * (np.log(f_lo + qb) - np.log(f_hi + qb)) / (n - 1)) * (f_hi + qb)
    np.testing.assert_allclose(erb_space(f_lo, f_hi, n), slaney[::-1], rtol=1e-12)
    steps = np.diff(erb_rate(erb_space(f_lo, f_hi, n)))
    np.testing.assert_allclose(steps, steps[0], rtol=1e-10)


def test_params_validation_names_parameter():
    with pytest.raises(ValueError, match="n_channels"):
        CochleaParams(n_channels=0)
    with pytest.raises(ValueError, match="f_max"):
        CochleaParams(f_min=500.0, f_max=100.0)
    with pytest.raises(ValueError, match="compression"):
        CochleaParams(compression="cubic")
    with pytest.raises(ValueError, match="Nyquist"):
        cochlea_encode(np.zeros(100), 8000, CochleaParams(f_max=5000.0))
    with pytest.raises(ValueError, match="overflow"):
        hair_cell_spikes(np.zeros((10, 2)), FS, CochleaParams(n_channels=2, dt=0.1, refractory=0.0, n_hair_cells=8))


# --------------------------------------------------------------------------------------------- filter bank

def _responses(fc, fs=FS, n=1 << 16):
    impulse = np.zeros(n)
    impulse[0] = 1.0
    h = gammatone_filter_bank(impulse, fs, fc)
    return np.fft.rfftfreq(n, 1 / fs), np.abs(np.fft.rfft(h, axis=0))


def _measure(freq, mag):
    above = freq[mag >= mag.max() / np.sqrt(2)]
    bw3 = above.max() - above.min()
    erb_measured = np.sum(mag**2) * (freq[1] - freq[0]) / mag.max() ** 2
    return freq[np.argmax(mag)], bw3, erb_measured


def test_filter_bandwidths_and_peaks_match_design():
    """Each channel's impulse response: peak at f_c, gain 1 at f_c, -3 dB bandwidth 2 b sqrt(2^(1/4)-1) and
    equivalent rectangular bandwidth ERB(f_c) (b = 1.019 ERB).  Tolerances: peak within 0.5 % of ERB
    (spectral grid 0.24 Hz); bandwidths 1 % from 200 Hz to 5 kHz; the real part's mirror image (the response
    at -f_c) widens the lowest channels (2 % at 100 Hz; scipy's FIR gammatone shows the same 1.5 %) and the
    approach to Nyquist the highest (5 % at 7 kHz, 0.875 x Nyquist)."""
    fc = erb_space(100.0, 7000.0, 24)
    freq, mag = _responses(fc)
    for c, f_c in enumerate(fc):
        peak, bw3, erb_measured = _measure(freq, mag[:, c])
        b = 1.019 * erb(f_c)
        tol = 0.02 if f_c < 200 else (0.01 if f_c < 5000 else 0.05)
        assert abs(peak - f_c) < 0.005 * erb(f_c) + 0.5, (f_c, peak)
        np.testing.assert_allclose(mag[np.argmin(np.abs(freq - f_c)), c], 1.0, rtol=2e-3)
        np.testing.assert_allclose(bw3, 2 * b * np.sqrt(2**0.25 - 1), rtol=tol, err_msg=f"f_c={f_c}")
        np.testing.assert_allclose(erb_measured, erb(f_c), rtol=tol, err_msg=f"f_c={f_c}")


def test_filter_matches_scipy_fir_gammatone_shape():
    """scipy.signal.gammatone ('fir': the sampled t^3 exp(-2 pi b t) cos(2 pi f t), independent code) has the
    same normalised magnitude response as ours within 2 % of the peak, over the passband (|H| > 0.1)."""
    freq, mag = _responses(np.array([300.0, 1000.0, 3000.0]))
    for c, f_c in enumerate([300.0, 1000.0, 3000.0]):
        b, a = signal.gammatone(f_c, "fir", fs=FS, numtaps=4000)
        _, ref = signal.freqz(b, a, worN=freq, fs=FS)
        ref = np.abs(ref) / np.abs(ref).max()
        ours = mag[:, c] / mag[:, c].max()
        band = ref > 0.1
        np.testing.assert_allclose(ours[band], ref[band], atol=0.02)


def test_pure_tone_excites_nearest_channel_most():
    params = CochleaParams()
    fc = params.centre_frequencies()
    t = np.arange(FS // 4) / FS
    for k in (3, 10, 17, 25):
        drive = cochleagram(0.3 * np.sin(2 * np.pi * fc[k] * t), FS, params)
        assert np.argmax(drive.mean(axis=0)) == k
        spikes = cochlea_encode(0.3 * np.sin(2 * np.pi * fc[k] * t), FS, params)
        assert spikes.dtype == np.uint8 and spikes.shape == (25, params.n_channels)
        assert abs(int(np.argmax(spikes.sum(axis=0))) - k) <= 1


# ------------------------------------------------------------------------------------------------ hair cells

@pytest.mark.parametrize("impl", ["jit", "py_func"])
def test_hair_cell_kernel_matches_reference(impl, rng):
    drive = rng.uniform(0, 1.0, size=(700, 5)) ** 2
    thresholds = np.array([0.1, 0.2, 0.35])
    # NUMBA_DISABLE_JIT=1 leaves plain functions without .py_func
    kernel = hair_cell_lif_kernel if impl == "jit" else getattr(hair_cell_lif_kernel, "py_func", hair_cell_lif_kernel)
    counts = np.zeros((-(-700 // 64), 5), dtype=np.int32)
    v = np.zeros((5, 3))
    ref = np.zeros((5, 3), dtype=np.int64)
    kernel(drive, 0.9, thresholds, 7, 64, v, ref, counts)
    np.testing.assert_array_equal(counts, hair_cell_lif_reference(drive, 0.9, thresholds, 7, 64))
    assert counts.sum() > 0


def test_hair_cell_constant_drive_rate_closed_form():
    """Constant drive I > theta, reset to 0, refractory R samples: v_k = I (1 - alpha^k) after k integration
    samples, so the unit fires every R + ceil(log(1 - theta/I) / log(alpha)) samples."""
    alpha, theta, drive_level, ref_n = np.exp(-1 / 32), 0.3, 0.5, 16
    k = int(np.ceil(np.log(1 - theta / drive_level) / np.log(alpha)))
    period = ref_n + k
    n = 40 * period
    counts = hair_cell_lif_reference(np.full((n, 1), drive_level), alpha, [theta], ref_n, n)
    assert counts[0, 0] == n // period


@settings(max_examples=20)
@given(gains=st.lists(st.floats(0.01, 3.0), min_size=2, max_size=2, unique=True), seed=st.integers(0, 2**16))
def test_spikes_monotone_in_loudness(gains, seed):
    """Scaling a sound up never removes spikes: the drive is a monotone function of the amplitude
    sample by sample, and an LIF unit with reset to 0 and more input reaches each next spike no later
    (comparison argument), so cumulative counts are ordered at every bin edge, in every channel."""
    lo, hi = sorted(gains)
    x = np.random.default_rng(seed).normal(0, 0.1, FS // 10)
    params = CochleaParams(n_channels=8)
    c_lo = np.cumsum(cochlea_encode(lo * x, FS, params).astype(int), axis=0)
    c_hi = np.cumsum(cochlea_encode(hi * x, FS, params).astype(int), axis=0)
    assert np.all(c_hi >= c_lo)
    assert np.all(hair_cell_drive(hi * x, FS, params) >= hair_cell_drive(lo * x, FS, params))


def test_delta_model_codes_the_cochleagram():
    """spike_model='delta': ON - OFF counts times the threshold track the cochleagram within one threshold."""
    rng = np.random.default_rng(1)
    params = CochleaParams(n_channels=6, spike_model="delta", delta_threshold=0.02)
    x = rng.normal(0, 0.1, FS // 10) * np.linspace(0, 1, FS // 10)
    out = cochlea_encode(x, FS, params)
    assert out.shape == (10, 12) and out.dtype == np.uint8 and params.n_outputs == 12
    recon = np.cumsum(out[:, :6].astype(float) - out[:, 6:], axis=0) * 0.02
    assert np.all(np.abs(recon - cochleagram(x, FS, params)) < 0.02 + 1e-12)


# ------------------------------------------------------------------------------------------------ WAV input

def _write_with_wave_module(path, data: np.ndarray, rate: int, sampwidth: int, n_channels: int):
    with wave.open(str(path), "wb") as w:
        w.setnchannels(n_channels)
        w.setsampwidth(sampwidth)
        w.setframerate(rate)
        w.writeframes(data.tobytes())


def test_wav_round_trip_independent_writers(tmp_path):
    rng = np.random.default_rng(3)
    x = rng.uniform(-0.9, 0.9, 800)
    # 16-bit mono via the wave module
    pcm16 = np.round(x * 32767).astype("<i2")
    _write_with_wave_module(tmp_path / "a.wav", pcm16, 16000, 2, 1)
    y, rate = load_wav(tmp_path / "a.wav")
    assert rate == 16000
    np.testing.assert_allclose(y, pcm16 / 32768.0, rtol=0, atol=1e-15)
    # 8-bit unsigned stereo via the wave module: mean of the two channels
    u8 = np.stack([np.round(x * 127 + 128), np.round(-x * 127 + 128)], axis=1).astype(np.uint8)
    _write_with_wave_module(tmp_path / "b.wav", u8, 8000, 1, 2)
    y, rate = load_wav(tmp_path / "b.wav")
    np.testing.assert_allclose(y, ((u8[:, 0] - 128.0) + (u8[:, 1] - 128.0)) / 256.0, atol=1e-15)
    # 24-bit via the wave module (3 little-endian bytes per sample)
    i24 = np.round(x * (2**23 - 1)).astype(np.int64)
    raw = np.stack([(i24 >> s) & 0xFF for s in (0, 8, 16)], axis=1).astype(np.uint8)
    _write_with_wave_module(tmp_path / "c.wav", raw, 22050, 3, 1)
    y, _ = load_wav(tmp_path / "c.wav")
    np.testing.assert_allclose(y, i24 / 2.0**23, atol=1e-12)
    # float32 via scipy
    wavfile.write(tmp_path / "d.wav", 44100, x.astype(np.float32))
    y, _ = load_wav(tmp_path / "d.wav")
    np.testing.assert_allclose(y, x.astype(np.float32), atol=0)


def test_wav_resampling_preserves_tone(tmp_path):
    """A 1 kHz tone at 44.1 kHz resampled to 16 kHz keeps its frequency and amplitude (resample_poly)."""
    t = np.arange(44100) / 44100
    wavfile.write(tmp_path / "t.wav", 44100, (0.5 * np.sin(2 * np.pi * 1000 * t)).astype(np.float32))
    y, rate = load_wav(tmp_path / "t.wav", target_rate=16000)
    assert rate == 16000 and y.size == 16000
    spec = np.abs(np.fft.rfft(y[1000:-1000] * np.hanning(14000)))
    assert abs(np.fft.rfftfreq(14000, 1 / 16000)[np.argmax(spec)] - 1000) < 2
    np.testing.assert_allclose(np.sqrt(np.mean(y[1000:-1000] ** 2)), 0.5 / np.sqrt(2), rtol=5e-3)


def test_wav_unsupported_formats(tmp_path):
    wavfile.write(tmp_path / "multi.wav", 8000, np.zeros((50, 3), dtype=np.int16))
    with pytest.raises(WavFormatError, match="3 channels"):
        load_wav(tmp_path / "multi.wav")
    wavfile.write(tmp_path / "nan.wav", 8000, np.array([0.0, np.nan, 0.1], dtype=np.float32))
    with pytest.raises(WavFormatError, match="NaN"):
        load_wav(tmp_path / "nan.wav")
    wavfile.write(tmp_path / "empty.wav", 8000, np.zeros(0, dtype=np.int16))
    with pytest.raises(WavFormatError, match="no samples"):
        load_wav(tmp_path / "empty.wav")
    # mu-law (format tag 7): a valid header scipy refuses
    header = (b"RIFF" + (36 + 4).to_bytes(4, "little") + b"WAVEfmt " + (16).to_bytes(4, "little")
              + (7).to_bytes(2, "little") + (1).to_bytes(2, "little") + (8000).to_bytes(4, "little")
              + (8000).to_bytes(4, "little") + (1).to_bytes(2, "little") + (8).to_bytes(2, "little")
              + b"data" + (4).to_bytes(4, "little") + b"\x00\x01\x02\x03")
    (tmp_path / "mulaw.wav").write_bytes(header)
    with pytest.raises(WavFormatError):
        load_wav(tmp_path / "mulaw.wav")
    with pytest.raises(FileNotFoundError):
        load_wav(tmp_path / "missing.wav")
    with pytest.raises(ValueError, match="target_rate"):
        load_wav(tmp_path / "multi.wav", target_rate=0)


def _valid_wav_bytes() -> bytes:
    buf = io.BytesIO()
    wavfile.write(buf, 16000, (np.sin(np.arange(400) * 0.3) * 8000).astype(np.int16))
    return buf.getvalue()


_VALID = _valid_wav_bytes()


@pytest.mark.parametrize("cut", [0, 4, 11, 20, 36, 43, 44, 100, len(_VALID) - 1])
def test_truncated_wav_is_refused(tmp_path, cut):
    (tmp_path / "cut.wav").write_bytes(_VALID[:cut])
    with pytest.raises(WavFormatError):
        load_wav(tmp_path / "cut.wav")


@settings(max_examples=150)
@given(data=st.data())
def test_corrupted_wav_fuzz_never_crashes(tmp_path_factory, data):
    """Random byte edits and cuts: load_wav either returns a finite mono float signal or raises WavFormatError."""
    raw = bytearray(_VALID)
    for _ in range(data.draw(st.integers(1, 6))):
        pos = data.draw(st.integers(0, len(raw) - 1))
        raw[pos] = data.draw(st.integers(0, 255))
    raw = raw[: data.draw(st.integers(0, len(raw)))]
    path = tmp_path_factory.mktemp("fuzz") / "f.wav"
    path.write_bytes(bytes(raw))
    try:
        y, rate = load_wav(path)
    except WavFormatError:
        return
    assert y.ndim == 1 and y.dtype == np.float64 and y.size > 0 and rate > 0
    assert np.all(np.isfinite(y))


@pytest.mark.parametrize("impl", ["jit", "py_func"])
def test_gammatone_kernel_matches_lfilter_reference(impl, rng):
    """The numba cascade equals `order` passes of scipy.signal.lfilter with 1 / (1 - p z^-1)."""
    from memr_snn.encoders.audio import gammatone_kernel, gammatone_poles, gammatone_reference

    x = rng.normal(size=600)
    poles, gains = gammatone_poles(erb_space(150.0, 6000.0, 5), FS)
    kernel = gammatone_kernel if impl == "jit" else getattr(gammatone_kernel, "py_func", gammatone_kernel)
    out = np.empty((600, 5))
    kernel(x, poles, gains, 4, out)
    np.testing.assert_allclose(out, gammatone_reference(x, poles, gains, 4), rtol=1e-10, atol=1e-12)
