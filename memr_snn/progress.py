"""Progress reporting for long simulations, trainings and data-set builds, drawn by tqdm.

:class:`ProgressBar` is the one progress object the package uses (``Network.run``, the learning
benchmarks, the data-set builders, the Diehl & Cook trainer); it wraps a :class:`tqdm.tqdm` so
callers never depend on tqdm's API.  What it writes depends on where it writes:

* **a terminal** -- a tqdm bar on one line, rewritten in place (at most ``1 / min_interval``
  redraws per second)::

      simulating:  42%|████▏     | 420/1000 [00:03<00:04, 140.00it/s]

* **anything else** (a log file, a pipe, CI) -- a few plain lines, never carriage returns: one when
  the stage starts, one at each quarter if at least :data:`LINE_INTERVAL` seconds passed since the
  previous line, and one when it ends::

      simulating: 0/1000
      simulating: 500/1000 (50%) [00:12 elapsed, ~00:12 left]
      simulating: 1000/1000 (100%) done in 00:25

  (tqdm itself, given a file that is not a terminal, either writes nothing, with ``disable=None``,
  or writes every redraw separated by ``\\r``, which logs show as one huge line.)

``enabled=False`` writes nothing at all.

Examples
--------
>>> import io
>>> out = io.StringIO()
>>> with ProgressBar(3, desc="demo", stream=out) as bar:
...     for _ in range(3):
...         bar.update()
>>> print(out.getvalue(), end="")  # doctest: +ELLIPSIS
demo: 0/3
demo: 3/3 (100%) done in 00:00
"""

from __future__ import annotations

import math
import operator
import sys
import time
from types import TracebackType
from typing import TextIO

from tqdm import tqdm

__all__ = ["ProgressBar", "LINE_INTERVAL"]

#: Minimum time between two intermediate plain lines [s] (start and end lines are always written).
LINE_INTERVAL = 10.0
_clock = time.monotonic  # module level so tests can substitute a fake clock (plain-line mode)


def _format_seconds(seconds: float) -> str:
    """``MM:SS`` below an hour, ``H:MM:SS`` above (tqdm's format); negative times count as 0."""
    return tqdm.format_interval(max(seconds, 0.0))


def _is_tty(stream: TextIO | None) -> bool:
    try:
        return bool(stream is not None and stream.isatty())
    except (AttributeError, ValueError, OSError):  # no isatty, or a closed stream
        return False


class ProgressBar:
    """Progress of ``total`` units of work, usable as a context manager.

    Parameters
    ----------
    total : int
        Number of units of work (steps, trials...), ``>= 0``.
    desc : str, optional
        Label shown before the bar or at the start of each line.
    enabled : bool or None, optional
        ``False`` writes nothing.  ``True`` or ``None`` (default) report progress: a tqdm bar when
        ``stream`` is a terminal, plain lines otherwise (see the module docstring).
    stream : text stream or None, optional
        Where to write.  ``None`` (default) means :data:`sys.stderr` as it is when the bar is created
        (so redirections made by pytest or a CLI are honoured).
    min_interval : float, optional
        Minimum time between two redraws of the terminal bar [s], ``>= 0``.  The first draw, the
        draw when the count reaches ``total`` and the final draw in :meth:`close` are never skipped.

    Attributes
    ----------
    total : int
        As given.
    n : int
        Units done so far, clamped to ``total``.
    mode : str
        ``"bar"`` (tqdm on a terminal), ``"lines"`` (plain lines) or ``"off"``.
    postfix : str
        Status text shown after the counts (:meth:`set_postfix`), ``""`` by default.
    enabled : bool
        Whether anything is written (``mode != "off"``).  The bar turns itself off if writing to the
        stream fails (a closed pipe must not stop a simulation).

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
        if enabled is False or self._stream is None:  # sys.stderr can be None (pythonw)
            self.mode = "off"
        else:
            self.mode = "bar" if _is_tty(self._stream) else "lines"
        self._closed = False
        self.postfix = ""
        self._bar: tqdm | None = None
        self._start = _clock()
        self._last_line = self._start
        self._next_quarter = 1
        if self.mode == "bar":
            self._guard(self._open_bar)
        elif self.mode == "lines":
            self._write_line(f"{self._prefix()}{self.n}/{self.total}")

    @property
    def enabled(self) -> bool:
        return self.mode != "off"

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
        if self.mode == "bar":
            self._guard(self._bar_update, self.n - before, self.n == self.total and before != self.total)
        elif self.mode == "lines":
            self._line_update()

    def write(self, text: str) -> None:
        """Write a message line without breaking the progress display: above the bar on a terminal (tqdm
        redraws the bar below it), as a plain line otherwise, nothing when the bar is off.

        Parameters
        ----------
        text : str
            One line of text (no trailing newline needed).
        """
        if self.mode == "bar":
            self._guard(tqdm.write, str(text), self._stream)
        elif self.mode == "lines":
            self._guard(self._raw_write, f"{text}\n")

    def set_postfix(self, text: str) -> None:
        """Show ``text`` after the counts (e.g. ``"2 failed"``): at the bar's end, or appended to the plain lines.

        Parameters
        ----------
        text : str
            Short status text; ``""`` removes it.
        """
        self.postfix = str(text)
        if self.mode == "bar" and not self._closed:
            self._guard(self._bar.set_postfix_str, self.postfix, False)

    def close(self) -> None:
        """Draw the final state and end the line (or write the last plain line).  Safe to call more than once."""
        if self._closed:
            return
        self._closed = True
        if self.mode == "bar":
            self._guard(self._bar.close)
        elif self.mode == "lines":
            elapsed = _format_seconds(_clock() - self._start)
            if self.n >= self.total:
                self._write_line(f"{self._prefix()}{self.n}/{self.total} (100%) done in {elapsed}")
            else:
                self._write_line(f"{self._prefix()}stopped at {self.n}/{self.total} ({self._percent()}%) "
                                 f"after {elapsed}")

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
                f"mode={self.mode!r})")

    def render(self, elapsed: float) -> str:
        """The terminal bar's text (ASCII, 60 columns) after ``elapsed`` seconds, as tqdm formats it.

        Parameters
        ----------
        elapsed : float
            Time since the bar was created [s].

        Returns
        -------
        str
            For example ``"run:  42%|####2     | 420/1000 [00:03<00:04, 140.00it/s]"``.
        """
        return tqdm.format_meter(self.n, self.total, elapsed, ncols=60, prefix=self._prefix(), ascii=True)

    # ------------------------------------------------------------------ drawing

    def _prefix(self) -> str:
        return f"{self.desc}: " if self.desc else ""

    def _percent(self) -> int:
        return 100 if self.total == 0 else int(100 * self.n / self.total)

    def _open_bar(self) -> None:
        self._bar = tqdm(total=self.total, desc=self.desc or None, file=self._stream, leave=True,
                         mininterval=self.min_interval, dynamic_ncols=True, disable=False)

    def _bar_update(self, delta: int, reached_end: bool) -> None:
        if delta:
            self._bar.update(delta)
        if reached_end:
            self._bar.refresh()

    def _line_update(self) -> None:
        if self.total == 0:
            return
        quarter = 4 * self.n // self.total
        if quarter < self._next_quarter or quarter >= 4:
            return  # no new quarter reached (the end line comes from close())
        self._next_quarter = quarter + 1
        now = _clock()
        if now - self._last_line < LINE_INTERVAL:
            return
        elapsed = now - self._start
        left = elapsed * (self.total - self.n) / self.n
        self._write_line(f"{self._prefix()}{self.n}/{self.total} ({self._percent()}%) "
                         f"[{_format_seconds(elapsed)} elapsed, ~{_format_seconds(left)} left]")

    def _write_line(self, text: str) -> None:
        if self.postfix:
            text = f"{text}, {self.postfix}"
        self._last_line = _clock()
        self._guard(self._raw_write, text + "\n")

    def _raw_write(self, text: str) -> None:
        self._stream.write(text)
        self._stream.flush()

    def _guard(self, func, *args) -> None:
        """Run a drawing call; a broken pipe or closed stream turns the bar off instead of raising."""
        if getattr(self._stream, "closed", False) is not True:
            try:
                func(*args)
                return
            except (OSError, ValueError):
                pass
        self.mode = "off"
        if self._bar is not None:
            self._bar.disable = True  # tqdm must not draw again, not even when garbage-collected
