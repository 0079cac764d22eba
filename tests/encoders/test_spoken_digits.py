"""Tests of the spoken-digit data set (``memr_snn.encoders.datasets.spoken_digits``).

Tests that synthesise need the optional ``speech`` extra (espeakng-loader) and are skipped with a
visible reason without it; the fixture tests (``tests/reference/spoken_digits_fixture.npz``, see
``tests/reference/README.md``) and the missing-extra tests run everywhere.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import os
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from memr_snn.encoders.audio import CochleaParams
from memr_snn.encoders.datasets.spoken_digits import (
    QUICK_CONFIG,
    SPOKEN_DIGITS_VERSION,
    TEST_VARIANTS,
    TRAIN_VARIANTS,
    EspeakSynthesizer,
    SpeechExtraMissing,
    SpokenDigitsConfig,
    encode_waveforms,
    load_spoken_digits,
    synthesize_digits,
    write_fixture,
)

FIXTURE = Path(__file__).resolve().parents[1] / "reference" / "spoken_digits_fixture.npz"
HAVE_ESPEAK = importlib.util.find_spec("espeakng_loader") is not None
needs_espeak = pytest.mark.skipif(not HAVE_ESPEAK, reason="espeakng-loader not installed "
                                                         "(pip install 'memr_snn[speech]')")
# Without the JIT (coverage leg) the front end runs as Python, seconds per utterance: skip the many-utterance tests.
needs_jit = pytest.mark.skipif(os.environ.get("NUMBA_DISABLE_JIT", "0") not in ("", "0"),
                               reason="encodes >= 30 utterances: minutes with NUMBA_DISABLE_JIT=1")
TINY = dataclasses.replace(QUICK_CONFIG, accents=("en",), train_variants=("m1", "f1"), test_variants=("f2",))


@pytest.fixture
def no_espeak(monkeypatch):
    """Make ``import espeakng_loader`` fail, as when the extra is not installed."""
    monkeypatch.setitem(sys.modules, "espeakng_loader", None)


def test_missing_extra_says_how_to_install(no_espeak, tmp_path):
    with pytest.raises(SpeechExtraMissing, match=r"pip install 'memr_snn\[speech\]'"):
        EspeakSynthesizer()
    with pytest.raises(SpeechExtraMissing, match="speech"):
        load_spoken_digits(TINY, root=tmp_path)
    assert issubclass(SpeechExtraMissing, ImportError) and issubclass(SpeechExtraMissing, ValueError)


def test_missing_extra_cli_reports_one_line(no_espeak, tmp_path, monkeypatch, capsys):
    from memr_snn.cli import main

    monkeypatch.setenv("MEMR_SNN_DATA", str(tmp_path))
    assert main(["bench", "spoken-digits", "--quick", "--out", str(tmp_path / "out")]) == 1  # a missing extra: status 1
    err = capsys.readouterr().err
    assert "memr_snn[speech]" in err and "Traceback" not in err


def test_config_validation():
    assert not set(TRAIN_VARIANTS) & set(TEST_VARIANTS)
    with pytest.raises(ValueError, match="disjoint"):
        SpokenDigitsConfig(train_variants=("m1", "m2"), test_variants=("m2",))
    with pytest.raises(ValueError, match="rate_wpm"):
        SpokenDigitsConfig(rate_wpm=(50, 100))
    with pytest.raises(ValueError, match="sample_rate"):
        SpokenDigitsConfig(sample_rate=8000, cochlea=CochleaParams(f_max=7000.0))


# ------------------------------------------------------------------------------------------- fixture

def _fixture():
    return np.load(FIXTURE)


def test_fixture_front_end_regression():
    """Self-recorded golden (regression test; written by ``write_fixture``, see tests/reference/README.md):
    the front end encodes the stored int16 waveforms into the stored spike counts."""
    d = _fixture()
    spikes = encode_waveforms(d["waves_int16"] / 32767.0, int(d["sample_rate"]), CochleaParams())
    np.testing.assert_array_equal(spikes, d["waves_x"])


def test_fixture_spikes_separate_digits_across_voices():
    """Nearest class centroid of the normalised per-channel spike counts, fitted on 4 voices, labels the
    2 unheard voices far above chance (0.1): the cochleagram carries the words, not the speakers."""
    d = _fixture()

    def profile(x):
        c = x.astype(float).sum(axis=1)
        return c / np.linalg.norm(c, axis=1, keepdims=True)

    xtr, xte = profile(d["x_train"]), profile(d["x_test"])
    centroids = np.stack([xtr[d["y_train"] == k].mean(axis=0) for k in range(10)])
    accuracy = np.mean(np.argmax(xte @ centroids.T, axis=1) == d["y_test"])
    assert accuracy >= 0.7
    assert d["x_train"].dtype == np.uint8 and d["x_train"].shape[1:] == (80, 32)


# ------------------------------------------------------------------------------------------- synthesis

@needs_espeak
def test_synthesis_basic():
    synth = EspeakSynthesizer.shared()
    assert synth.sample_rate == 22050
    a = synth.synthesize("seven", "en+m1", rate_wpm=150)
    b = synth.synthesize("seven", "en+m1", rate_wpm=150)
    # one library's output drifts with its call history (EspeakSynthesizer docstring): same word, ~same length
    assert abs(a.size - b.size) < 0.02 * a.size
    assert 0.3 < a.size / synth.sample_rate < 1.2 and 0.05 < np.abs(a).max() <= 1.0
    slow = synth.synthesize("seven", "en+m1", rate_wpm=100)
    assert slow.size > a.size
    with pytest.raises(ValueError, match="voice"):
        synth.synthesize("one", "xx-nonexistent")
    with pytest.raises(ValueError, match="rate_wpm"):
        synth.synthesize("one", rate_wpm=10)


@needs_espeak
def test_synthesis_reproducible_whatever_the_history():
    """Each (accent, voice) group runs on a fresh private library with a fixed noise seed, so earlier synthesis
    in this process, the number of workers and the clock (espeak seeds its breath noise -- voice f2 has
    breath -- from time() otherwise) do not change the waveforms."""
    first, labels, info = synthesize_digits(TINY, "test", workers=1, progress=False)
    EspeakSynthesizer.shared().synthesize("something else entirely", "en+klatt")
    time.sleep(1.1)
    again, _, _ = synthesize_digits(TINY, "test", workers=2, progress=False)
    np.testing.assert_array_equal(first, again)
    np.testing.assert_array_equal(labels, np.arange(10))
    assert set(info["variant"]) == {"f2"} and first.shape == (10, TINY.n_samples_window)


@needs_espeak
@needs_jit
def test_dataset_generation_cache_and_split(tmp_path, monkeypatch):
    data = load_spoken_digits(TINY, root=tmp_path)
    assert data.x_train.shape == (20, 80, 32) and data.x_test.shape == (10, 80, 32)
    assert data.x_train.dtype == np.uint8 and data.dt == 0.01 and data.n_classes == 10
    np.testing.assert_array_equal(np.bincount(data.y_train), np.full(10, 2))
    assert data.meta["version"] == SPOKEN_DIGITS_VERSION and data.meta["cache_path"] is not None
    assert data.x_train.sum() > 0
    # second load: from the cache, without espeak-ng
    monkeypatch.setitem(sys.modules, "espeakng_loader", None)
    again = load_spoken_digits(TINY, root=tmp_path)
    np.testing.assert_array_equal(again.x_train, data.x_train)


@needs_espeak
@needs_jit
def test_fixture_regenerates(tmp_path):
    """write_fixture reproduces the committed fixture (same espeak-ng version: the waveforms within 1 LSB,
    the spike counts in >= 99.9 % of the bins; float round-off in resampling may move a threshold crossing)."""
    d = _fixture()
    if str(d["espeak_ng_version"]) != EspeakSynthesizer.shared().version:
        pytest.skip(f"fixture made with espeak-ng {d['espeak_ng_version']}, installed "
                    f"{EspeakSynthesizer.shared().version}")
    write_fixture(tmp_path / "f.npz")
    new = np.load(tmp_path / "f.npz")
    assert np.max(np.abs(new["waves_int16"].astype(int) - d["waves_int16"])) <= 1
    for key in ("x_train", "x_test"):
        assert np.mean(new[key] == d[key]) >= 0.999
        np.testing.assert_array_equal(new[key.replace("x", "y")], d[key.replace("x", "y")])


@needs_espeak
@needs_jit
def test_cli_bench_quick(tmp_path, monkeypatch, capsys):
    """`memr-snn bench spoken-digits --quick` end to end: generates the small subset, trains, maps, reports."""
    import json

    from memr_snn.cli import main

    monkeypatch.setenv("MEMR_SNN_DATA", str(tmp_path / "data"))
    assert main(["bench", "spoken-digits", "--quick", "--seeds", "0", "--out", str(tmp_path / "out")]) == 0
    doc = json.loads((tmp_path / "out" / "results.json").read_text())
    assert doc["task"]["name"] == "spoken-digits" and doc["task"]["n_in"] == 32
    assert doc["task"]["meta"]["config"]["version"] == SPOKEN_DIGITS_VERSION


def test_encode_waveforms_workers_agree():
    d = _fixture()
    waves = np.repeat(d["waves_int16"] / 32767.0, 12, axis=0)[:, :4000]
    serial = encode_waveforms(waves, 16000, workers=1)
    np.testing.assert_array_equal(encode_waveforms(waves, 16000, workers=2), serial)
    assert serial.shape == (36, 25, 32)
