"""Tests for memr_snn.progress.ProgressBar."""

import io
import sys

import numpy as np
import pytest

import memr_snn.progress as progress
from memr_snn.progress import ProgressBar


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class TTY(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.fixture
def clock(monkeypatch):
    fake = FakeClock()
    monkeypatch.setattr(progress, "_clock", fake)
    return fake


def test_disabled_on_non_tty_writes_nothing():
    out = io.StringIO()
    with ProgressBar(10, desc="x", stream=out) as bar:
        assert not bar.enabled
        for _ in range(20):
            bar.update()
    assert out.getvalue() == ""
    assert bar.n == 10


def test_explicitly_disabled_writes_nothing_even_on_tty():
    out = TTY()
    with ProgressBar(5, enabled=False, stream=out) as bar:
        bar.update(5)
    assert out.getvalue() == ""


def test_auto_enables_on_tty():
    out = TTY()
    with ProgressBar(2, stream=out) as bar:
        assert bar.enabled
        bar.update(2)
    assert out.getvalue().endswith("2/2 [00:00<00:00]\n")


def test_enabled_writes_and_ends_with_newline(clock):
    out = io.StringIO()
    with ProgressBar(4, desc="run", enabled=True, stream=out) as bar:
        for _ in range(4):
            clock.now += 1.0
            bar.update()
    text = out.getvalue()
    assert text.endswith("\n") and text.count("\n") == 1
    frames = text.rstrip("\n").split("\r")[1:]
    assert frames[0] == "run:   0%|........................| 0/4 [00:00<?]"
    assert frames[1] == "run:  25%|######..................| 1/4 [00:01<00:03]"
    assert frames[-1] == "run: 100%|########################| 4/4 [00:04<00:00]"


def test_updates_beyond_total_clamp(clock):
    out = io.StringIO()
    with ProgressBar(3, enabled=True, stream=out) as bar:
        bar.update(2)
        bar.update(10)
        assert bar.n == 3
        bar.update(np.int64(4))
        assert bar.n == 3
    assert out.getvalue().rstrip("\n").split("\r")[-1].startswith("100%|")
    assert "4/3" not in out.getvalue() and "13/3" not in out.getvalue()


def test_redraws_are_throttled(clock):
    out = io.StringIO()
    bar = ProgressBar(1000, enabled=True, stream=out)
    for _ in range(999):
        clock.now += 0.001  # 1000 updates per second
        bar.update()
    frames_before_end = out.getvalue().count("\r")
    assert 1 <= frames_before_end <= 12  # initial frame + about 10 per second
    bar.update()  # reaching total always draws
    assert out.getvalue().count("\r") == frames_before_end + 1
    bar.close()
    assert out.getvalue().endswith("1000/1000 [00:00<00:00]\n")


def test_close_is_idempotent_and_late_updates_are_ignored():
    out = io.StringIO()
    bar = ProgressBar(2, enabled=True, stream=out)
    bar.close()
    bar.close()
    text = out.getvalue()
    bar.update()
    assert out.getvalue() == text and text.count("\n") == 1
    assert bar.n == 0


def test_context_manager_closes_on_error_and_reraises():
    out = io.StringIO()
    with pytest.raises(RuntimeError, match="boom"), ProgressBar(5, enabled=True,
                                                                stream=out) as bar:
        bar.update()
        raise RuntimeError("boom")
    assert out.getvalue().endswith("\n")


def test_shorter_line_erases_longer_one(clock):
    out = io.StringIO()
    bar = ProgressBar(10, enabled=True, stream=out, min_interval=0)
    clock.now += 3 * 3600  # elapsed now has an hours field: longer line
    bar.update()
    long_frame = out.getvalue().split("\r")[-1]
    bar._start = clock.now  # elapsed back to MM:SS: shorter line
    bar.update()
    short_frame = out.getvalue().split("\r")[-1]
    assert len(short_frame) == len(long_frame)
    assert short_frame.endswith(" ")
    bar.close()


def test_zero_total(clock):
    out = io.StringIO()
    with ProgressBar(0, desc="nothing", enabled=True, stream=out) as bar:
        bar.update(3)
    assert out.getvalue().endswith("nothing: 100%|########################| 0/0 [00:00<00:00]\n")


def test_eta_and_long_durations(clock):
    bar = ProgressBar(100, enabled=False)
    bar.update(1)
    assert bar.render(3723.0).endswith("1/100 [1:02:03<102:22:57]")
    assert progress._format_seconds(59.9) == "00:59"
    assert progress._format_seconds(-1) == "00:00"


def test_default_stream_is_current_stderr(monkeypatch):
    fake = TTY()
    monkeypatch.setattr(sys, "stderr", fake)
    with ProgressBar(1) as bar:
        bar.update()
    assert fake.getvalue().endswith("\n")
    monkeypatch.setattr(sys, "stderr", None)
    with ProgressBar(1, enabled=True) as bar:
        assert not bar.enabled
        bar.update()


def test_broken_stream_disables_instead_of_raising():
    out = TTY()
    bar = ProgressBar(3, stream=out, min_interval=0)
    out.close()
    bar.update()  # writing to a closed stream must not stop a simulation
    assert not bar.enabled
    bar.close()


def test_stream_without_isatty_counts_as_not_a_tty():
    class Sink:
        def __init__(self):
            self.parts = []

        def write(self, text):
            self.parts.append(text)

        def flush(self):
            pass

    sink = Sink()
    with ProgressBar(2, stream=sink) as bar:
        bar.update(2)
    assert sink.parts == []


@pytest.mark.parametrize(("kwargs", "error", "match"), [
    ({"total": -1}, ValueError, "total must be >= 0, got -1"),
    ({"total": 2.5}, TypeError, "total must be an int"),
    ({"total": True}, TypeError, "total must be an int"),
    ({"total": 3, "enabled": "yes"}, TypeError, "enabled must be"),
    ({"total": 3, "min_interval": -0.1}, ValueError, "min_interval"),
    ({"total": 3, "min_interval": float("nan")}, ValueError, "min_interval"),
])
def test_constructor_validation(kwargs, error, match):
    with pytest.raises(error, match=match):
        ProgressBar(**kwargs)


def test_update_validation():
    bar = ProgressBar(3, enabled=False)
    with pytest.raises(ValueError, match="n must be >= 0, got -1"):
        bar.update(-1)
    with pytest.raises(TypeError, match="n must be an int"):
        bar.update(1.5)
    assert bar.n == 0
