"""Tests for memr_snn.progress.ProgressBar (a tqdm bar on a terminal, plain lines elsewhere)."""

import io
import sys

import numpy as np
import pytest
import tqdm
import tqdm.std

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
    """One fake clock for both modes: memr_snn.progress's (plain lines) and tqdm's (the bar)."""
    fake = FakeClock()
    monkeypatch.setattr(progress, "_clock", fake)
    monkeypatch.setattr(tqdm.std, "time", fake)
    return fake


def frames(text: str) -> list[str]:
    """The successive bar drawings written to a terminal (tqdm rewrites the line after a ``\\r``)."""
    return [f.rstrip() for f in text.rstrip("\n").split("\r")[1:]]


# ---------------------------------------------------------------------------------------- mode choice

def test_non_tty_gets_plain_lines_not_carriage_returns(clock):
    out = io.StringIO()
    with ProgressBar(10, desc="x", stream=out) as bar:
        assert bar.mode == "lines" and bar.enabled
        for _ in range(20):
            clock.now += 0.01
            bar.update()
    assert bar.n == 10
    assert "\r" not in out.getvalue()
    assert out.getvalue().splitlines() == ["x: 0/10", "x: 10/10 (100%) done in 00:00"]


def test_postfix_follows_the_counts(clock):
    out = io.StringIO()
    with ProgressBar(4, desc="sweep", stream=out) as bar:
        bar.update(2)
        bar.set_postfix("1 failed")
        bar.update(2)
    assert out.getvalue().splitlines() == ["sweep: 0/4", "sweep: 4/4 (100%) done in 00:00, 1 failed"]
    tty = TTY()
    with ProgressBar(4, desc="sweep", stream=tty) as bar:
        bar.set_postfix("3 failed")
        bar.update(4)
    assert "3 failed" in tty.getvalue()


def test_explicitly_disabled_writes_nothing_even_on_tty():
    out = TTY()
    with ProgressBar(5, enabled=False, stream=out) as bar:
        assert bar.mode == "off" and not bar.enabled
        bar.update(5)
    assert out.getvalue() == ""
    out = io.StringIO()
    with ProgressBar(5, enabled=False, stream=out) as bar:
        bar.update(5)
    assert out.getvalue() == ""


@pytest.mark.parametrize("enabled", [None, True])
def test_tty_gets_a_tqdm_bar(enabled):
    out = TTY()
    with ProgressBar(2, stream=out, enabled=enabled) as bar:
        assert bar.mode == "bar" and isinstance(bar._bar, tqdm.tqdm)
        bar.update(2)
    text = out.getvalue()
    assert text.startswith("\r") and text.endswith("\n") and text.count("\n") == 1
    assert frames(text)[-1].startswith("100%|") and " 2/2 [00:00<00:00" in frames(text)[-1]


@pytest.mark.parametrize("enabled", [None, True])
def test_non_tty_never_gets_the_bar(enabled):
    out = io.StringIO()
    with ProgressBar(2, stream=out, enabled=enabled) as bar:
        assert bar.mode == "lines" and bar._bar is None
        bar.update(2)
    assert "\r" not in out.getvalue() and "|" not in out.getvalue()


# ---------------------------------------------------------------------------------------- terminal bar

def test_bar_frames(clock):
    out = TTY()
    with ProgressBar(4, desc="run", stream=out, min_interval=0) as bar:
        for _ in range(4):
            clock.now += 1.0
            bar.update()
    text = out.getvalue()
    assert text.endswith("\n") and text.count("\n") == 1
    f = frames(text)
    assert f[0].startswith("run:   0%|") and "| 0/4 [00:00<?" in f[0]
    assert f[1].startswith("run:  25%|") and "| 1/4 [00:01<00:03" in f[1]
    assert f[-1].startswith("run: 100%|") and "| 4/4 [00:04<00:00" in f[-1]


def test_updates_beyond_total_clamp(clock):
    out = TTY()
    with ProgressBar(3, stream=out) as bar:
        bar.update(2)
        bar.update(10)
        assert bar.n == 3 and bar._bar.n == 3
        bar.update(np.int64(4))
        assert bar.n == 3 and bar._bar.n == 3
    assert frames(out.getvalue())[-1].startswith("100%|")
    assert "4/3" not in out.getvalue() and "13/3" not in out.getvalue()
    out = io.StringIO()
    with ProgressBar(3, stream=out) as bar:
        bar.update(13)
    assert out.getvalue().splitlines()[-1] == "3/3 (100%) done in 00:00"


def test_redraws_are_throttled(clock):
    out = TTY()
    bar = ProgressBar(1000, stream=out)
    for _ in range(999):
        clock.now += 0.001  # 1000 updates per second
        bar.update()
    frames_before_end = out.getvalue().count("\r")
    assert 1 <= frames_before_end <= 12  # initial frame + about 10 per second
    bar.update()  # reaching total always draws
    assert out.getvalue().count("\r") == frames_before_end + 1
    assert "1000/1000 [00:00<00:00" in frames(out.getvalue())[-1]
    bar.close()
    assert out.getvalue().endswith("\n") and "1000/1000 [00:00<00:00" in frames(out.getvalue())[-1]


def test_close_is_idempotent_and_late_updates_are_ignored():
    for out in (TTY(), io.StringIO()):
        bar = ProgressBar(2, stream=out)
        bar.close()
        bar.close()
        text = out.getvalue()
        bar.update()
        assert out.getvalue() == text
        assert bar.n == 0
    assert text.splitlines() == ["0/2", "stopped at 0/2 (0%) after 00:00"]


def test_context_manager_closes_on_error_and_reraises():
    out = TTY()
    with pytest.raises(RuntimeError, match="boom"), ProgressBar(5, stream=out) as bar:
        bar.update()
        raise RuntimeError("boom")
    assert out.getvalue().endswith("\n") and "1/5" in frames(out.getvalue())[-1]
    out = io.StringIO()
    with pytest.raises(RuntimeError, match="boom"), ProgressBar(5, desc="d", stream=out) as bar:
        bar.update()
        raise RuntimeError("boom")
    assert out.getvalue().splitlines()[-1] == "d: stopped at 1/5 (20%) after 00:00"


def test_zero_total(clock):
    out = TTY()
    with ProgressBar(0, desc="nothing", stream=out) as bar:
        bar.update(3)
        assert bar.n == 0
    assert out.getvalue().endswith("\n") and frames(out.getvalue())[-1].startswith("nothing: ")
    out = io.StringIO()
    with ProgressBar(0, desc="nothing", stream=out) as bar:
        bar.update(3)
    assert out.getvalue().splitlines() == ["nothing: 0/0", "nothing: 0/0 (100%) done in 00:00"]


def test_render_eta_and_long_durations(clock):
    bar = ProgressBar(100, enabled=False)
    bar.update(1)
    assert bar.render(3723.0).endswith("1/100 [1:02:03<102:22:57, 3723.00s/it]")
    assert "|" in bar.render(1.0) and len(bar.render(1.0)) <= 60
    assert progress._format_seconds(59.9) == "00:59"
    assert progress._format_seconds(-1) == "00:00"


# ---------------------------------------------------------------------------------------- plain lines

def test_lines_at_quarters_only_when_slow(clock):
    out = io.StringIO()
    with ProgressBar(8, desc="build", stream=out) as bar:
        for _ in range(8):
            clock.now += progress.LINE_INTERVAL  # slow stage: each quarter gets a line
            bar.update()
    assert out.getvalue().splitlines() == [
        "build: 0/8",
        "build: 2/8 (25%) [00:20 elapsed, ~01:00 left]",
        "build: 4/8 (50%) [00:40 elapsed, ~00:40 left]",
        "build: 6/8 (75%) [01:00 elapsed, ~00:20 left]",
        "build: 8/8 (100%) done in 01:20",
    ]
    out = io.StringIO()
    with ProgressBar(1000, desc="fast", stream=out) as bar:
        for _ in range(1000):
            clock.now += 0.001
            bar.update()
    assert len(out.getvalue().splitlines()) == 2  # a quick stage: start and end only
    out = io.StringIO()
    with ProgressBar(1000, stream=out) as bar:
        clock.now += 100.0
        bar.update(1000)  # one jump to the end: no quarter line, just the end line
    assert out.getvalue().splitlines() == ["0/1000", "1000/1000 (100%) done in 01:40"]


def test_default_stream_is_current_stderr(monkeypatch):
    fake = TTY()
    monkeypatch.setattr(sys, "stderr", fake)
    with ProgressBar(1) as bar:
        assert bar.mode == "bar"
        bar.update()
    assert fake.getvalue().endswith("\n")
    fake = io.StringIO()
    monkeypatch.setattr(sys, "stderr", fake)
    with ProgressBar(1) as bar:
        bar.update()
    assert fake.getvalue() == "0/1\n1/1 (100%) done in 00:00\n"
    monkeypatch.setattr(sys, "stderr", None)
    with ProgressBar(1, enabled=True) as bar:
        assert not bar.enabled
        bar.update()


@pytest.mark.parametrize("stream_type", [TTY, io.StringIO])
def test_closed_stream_disables_instead_of_raising(stream_type):
    out = stream_type()
    bar = ProgressBar(3, stream=out, min_interval=0)
    out.close()
    bar.update()  # writing to a closed stream must not stop a simulation
    bar.update(2)
    bar.close()
    assert not bar.enabled


@pytest.mark.parametrize("tty", [True, False])
def test_broken_pipe_disables_instead_of_raising(tty):
    class Broken(TTY if tty else io.StringIO):
        fail = False

        def write(self, text):
            if self.fail:
                raise BrokenPipeError(32, "Broken pipe")
            return super().write(text)

    out = Broken()
    bar = ProgressBar(4, stream=out, min_interval=0)
    out.fail = True
    for _ in range(4):
        bar.update()
    bar.close()
    assert not bar.enabled


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
        assert bar.mode == "lines"
        bar.update(2)
    assert sink.parts == ["0/2\n", "2/2 (100%) done in 00:00\n"]


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


# ---------------------------------------------------------------------------------------- messages

def test_write_puts_a_message_line_without_breaking_the_display(clock):
    out = io.StringIO()
    with ProgressBar(2, desc="x", stream=out) as bar:
        bar.update()
        bar.write("seed 0: done")
        bar.update()
    assert out.getvalue().splitlines() == ["x: 0/2", "seed 0: done", "x: 2/2 (100%) done in 00:00"]
    tty = TTY()
    with ProgressBar(2, desc="y", stream=tty) as bar:
        bar.update()
        bar.write("seed 0: done")
        bar.update()
    text = tty.getvalue()
    assert "seed 0: done\n" in text
    after = text.split("seed 0: done\n", 1)[1]
    assert "y:  50%" in after and "y: 100%" in after  # the bar is drawn again below the message
    off = TTY()
    with ProgressBar(2, enabled=False, stream=off) as bar:
        bar.write("nothing")
    assert off.getvalue() == ""
