"""A tiny, dependency-free progress bar for long simulations.

The bar is drawn on one terminal line that is rewritten in place with a
carriage return::

    run cuba:  42%|##########..............| 420/1000 [00:03<00:04]

It shows the percentage, the count, the elapsed time and an estimate of the
time left.  Redraws are throttled (by default at most ten per second), so
calling :meth:`ProgressBar.update` once per simulation step costs little.  By
default it draws only when the stream is a terminal, so logs and CI output stay
clean; a disabled bar writes nothing at all.

Examples
--------
>>> import io
>>> out = io.StringIO()
>>> with ProgressBar(3, desc="demo", enabled=True, stream=out) as bar:
...     for _ in range(3):
...         bar.update()
>>> out.getvalue().endswith("3/3 [00:00<00:00]\\n")
True
"""

from __future__ import annotations

import math
import operator
import sys
import time
from types import TracebackType
from typing import TextIO

__all__ = ["ProgressBar"]

_BAR_WIDTH = 24
_clock = time.monotonic  # module level so tests can substitute a fake clock


def _format_seconds(seconds: float) -> str:
    """``MM:SS`` below an hour, ``H:MM:SS`` above."""
    total = int(max(seconds, 0.0))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes:02d}:{secs:02d}"


def _is_tty(stream: TextIO | None) -> bool:
    try:
        return bool(stream is not None and stream.isatty())
    except (AttributeError, ValueError, OSError):  # no isatty, or a closed stream
        return False


class ProgressBar:
    """Progress bar on one terminal line, usable as a context manager.

    Parameters
    ----------
    total : int
        Number of units of work (steps, trials...), ``>= 0``.
    desc : str, optional
        Label shown before the bar.
    enabled : bool or None, optional
        ``True`` always draws, ``False`` never draws, ``None`` (default) draws
        only when ``stream.isatty()`` is true.
    stream : text stream or None, optional
        Where to draw.  ``None`` (default) means :data:`sys.stderr` as it is when
        the bar is created (so redirections made by pytest or a CLI are honoured).
    min_interval : float, optional
        Minimum time between two redraws [s], ``>= 0``.  The first draw, the
        draw when the count reaches ``total`` and the final draw in :meth:`close`
        are never skipped.

    Attributes
    ----------
    total : int
        As given.
    n : int
        Units done so far, clamped to ``total``.
    enabled : bool
        Whether the bar draws.  It turns itself off if writing to the stream
        fails (a closed pipe must not stop a simulation).

    Raises
    ------
    TypeError
        If ``total`` is not an integer or ``enabled`` is not a bool or None.
    ValueError
        If ``total`` or ``min_interval`` is negative.
    """

    def __init__(
        self,
        total: int,
        desc: str = "",
        enabled: bool | None = None,
        stream: TextIO | None = None,
        *,
        min_interval: float = 0.1,
    ) -> None:
        if isinstance(total, bool):
            raise TypeError("total must be an int >= 0, got a bool")
        try:
            total = operator.index(total)
        except TypeError:
            raise TypeError(f"total must be an int >= 0, got {total!r}") from None
        if total < 0:
            raise ValueError(f"total must be >= 0, got {total}")
        if enabled is not None and not isinstance(enabled, bool):
            raise TypeError(f"enabled must be True, False or None, got {enabled!r}")
        if not (isinstance(min_interval, (int, float)) and math.isfinite(min_interval)
                and min_interval >= 0):
            raise ValueError(f"min_interval must be a finite number of seconds >= 0, "
                             f"got {min_interval!r}")
        self.total = total
        self.desc = str(desc)
        self.n = 0
        self.min_interval = float(min_interval)
        self._stream = sys.stderr if stream is None else stream
        self.enabled = _is_tty(self._stream) if enabled is None else enabled
        if self._stream is None:  # sys.stderr can be None (pythonw)
            self.enabled = False
        self._start = _clock()
        self._last_draw = -math.inf
        self._last_length = 0
        self._closed = False
        self._draw()

    # ------------------------------------------------------------------ public

    def update(self, n: int = 1) -> None:
        """Record ``n`` more units of work done (clamped so the count never exceeds ``total``).

        Parameters
        ----------
        n : int, optional
            Units done since the last call, ``>= 0``.  Calls after :meth:`close`
            are ignored.

        Raises
        ------
        TypeError
            If ``n`` is not an integer.
        ValueError
            If ``n`` is negative.
        """
        if isinstance(n, bool):
            raise TypeError("n must be an int >= 0, got a bool")
        try:
            n = operator.index(n)
        except TypeError:
            raise TypeError(f"n must be an int >= 0, got {n!r}") from None
        if n < 0:
            raise ValueError(f"n must be >= 0, got {n}")
        if self._closed:
            return
        before = self.n
        self.n = min(self.total, self.n + n)
        if not self.enabled:
            return
        reached_end = self.n == self.total and before != self.total
        if reached_end or _clock() - self._last_draw >= self.min_interval:
            self._draw()

    def close(self) -> None:
        """Draw the final state and end the line.  Safe to call more than once."""
        if self._closed:
            return
        self._closed = True
        if self.enabled:
            self._draw()
            self._write("\n")

    def __enter__(self) -> ProgressBar:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return (f"ProgressBar(total={self.total}, desc={self.desc!r}, n={self.n}, "
                f"enabled={self.enabled})")

    # ------------------------------------------------------------------ drawing

    def render(self, elapsed: float) -> str:
        """The bar's text (without carriage return) after ``elapsed`` seconds.

        Parameters
        ----------
        elapsed : float
            Time since the bar was created [s].

        Returns
        -------
        str
            For example ``"run:  42%|##########..............| 420/1000 [00:03<00:04]"``.
        """
        fraction = 1.0 if self.total == 0 else self.n / self.total
        filled = int(fraction * _BAR_WIDTH)
        bar = "#" * filled + "." * (_BAR_WIDTH - filled)
        if self.n >= self.total:
            eta = _format_seconds(0)
        elif self.n == 0 or elapsed <= 0:
            eta = "?"
        else:
            eta = _format_seconds(elapsed * (self.total - self.n) / self.n)
        prefix = f"{self.desc}: " if self.desc else ""
        return (f"{prefix}{int(fraction * 100):3d}%|{bar}| {self.n}/{self.total} "
                f"[{_format_seconds(elapsed)}<{eta}]")

    def _draw(self) -> None:
        if not self.enabled:
            return
        now = _clock()
        self._last_draw = now
        line = self.render(now - self._start)
        padding = " " * max(0, self._last_length - len(line))  # erase a longer old line
        self._last_length = len(line)
        self._write("\r" + line + padding)

    def _write(self, text: str) -> None:
        try:
            self._stream.write(text)
            self._stream.flush()
        except (OSError, ValueError):  # broken pipe, closed stream
            self.enabled = False
