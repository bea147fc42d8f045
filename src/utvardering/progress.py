"""Progress display for long runs: a step bar on a terminal, silence everywhere else.

Two pieces:

* a switch, :func:`enabled`, that long-running library code consults before drawing its own
  progress (e.g. the MCMC sampler's bar in :func:`utvardering.inference.bayes.sample_cached`).
  It is off by default — library calls, tests and notebooks stay silent — and is switched on
  for a block of code with :func:`enable`. ``utvardering run`` switches it on only when it
  draws its own bar (standard error is a terminal and ``--quiet`` is not given);
* :class:`StepBar`, the bar over an analysis's named steps::

      sluta_skjut [##########----------] 4/6 count BSTS · step 41 s · total 1 min 12 s

  It redraws one line in place (carriage return) on a terminal; on anything else (a file, a
  pipe, a CI log) it draws nothing. While a sampler draws its own bar, the step bar steps
  aside (:func:`external`) so the two do not overwrite each other.

The step log with timings is written by the analysis runner
(:mod:`utvardering.report.runner`), not here.
"""

from __future__ import annotations

import contextlib
import contextvars
import shutil
import sys
import threading
import time
from collections.abc import Iterator, Mapping
from typing import TextIO

__all__ = ["StepBar", "enable", "enabled", "external", "format_seconds", "is_terminal"]

_ENABLED: contextvars.ContextVar[bool] = contextvars.ContextVar("utvardering_progress", default=False)
_ACTIVE: list[StepBar] = []  # bars currently drawing (innermost last)


def enabled() -> bool:
    """Whether long-running code may draw its own progress bar (default ``False``)."""
    return _ENABLED.get()


@contextlib.contextmanager
def enable(on: bool = True) -> Iterator[None]:
    """Switch progress display on (or off) inside a ``with`` block.

    Parameters
    ----------
    on : bool, default True
        The value :func:`enabled` returns inside the block.

    Examples
    --------
    >>> from utvardering import progress
    >>> with progress.enable():
    ...     progress.enabled()
    True
    >>> progress.enabled()
    False
    """
    token = _ENABLED.set(bool(on))
    try:
        yield
    finally:
        _ENABLED.reset(token)


def is_terminal(stream: TextIO | None) -> bool:
    """``stream.isatty()``, and ``False`` for ``None`` or a stream without ``isatty``."""
    try:
        return bool(stream is not None and stream.isatty())
    except (AttributeError, ValueError, OSError):  # closed or unusual streams
        return False


@contextlib.contextmanager
def external() -> Iterator[None]:
    """Let another progress bar (a sampler's) draw: the step bar ends its line and pauses."""
    bars = list(_ACTIVE)
    for bar in bars:
        bar.pause()
    try:
        yield
    finally:
        for bar in bars:
            bar.resume()


def format_seconds(seconds: float) -> str:
    """``"4.2 s"``, ``"41 s"``, ``"3 min 05 s"``, ``"1 h 02 min"``."""
    if seconds < 10:
        return f"{seconds:.1f} s"
    if seconds < 60:
        return f"{seconds:.0f} s"
    minutes, secs = divmod(round(seconds), 60)
    if minutes < 60:
        return f"{minutes} min {secs:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


class StepBar:
    """A one-line progress bar over named steps, drawn only on a terminal.

    Parameters
    ----------
    label : str
        Shown at the left (e.g. the analysis name).
    total : int, optional
        Expected number of steps; without it the bar shows only the step count.
    stream : text stream, optional
        Where to draw (default ``sys.stderr``).
    draw : bool, optional
        Force drawing on or off; default: draw when ``stream`` is a terminal.
    width : int, default 20
        Characters in the bar.
    refresh : float, default 1.0
        Seconds between redraws of the elapsed time while a step runs (0: redraw only when a
        step starts or ends).
    expected : mapping of str to float, optional
        Seconds each step took last time (e.g. from the previous run's provenance); the bar
        then shows the time left, ``· about 3 min 05 s left``.

    Notes
    -----
    Use as a context manager; :meth:`start` and :meth:`finish` bracket each step. The bar
    never raises on a broken stream — progress display must not stop an analysis.
    """

    def __init__(self, label: str, total: int | None = None, *, stream: TextIO | None = None,
                 draw: bool | None = None, width: int = 20, refresh: float = 1.0,
                 expected: Mapping[str, float] | None = None) -> None:
        self.label = label
        self.total = total
        self.stream = sys.stderr if stream is None else stream
        self.draw = is_terminal(self.stream) if draw is None else bool(draw)
        self.width = width
        self.refresh = refresh
        self.expected = dict(expected or {})
        self.finished: list[str] = []
        self.done = 0
        self.current: str | None = None
        self._began = time.perf_counter()
        self._step_began = self._began
        self._paused = 0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._ticker: threading.Thread | None = None
        self._last_len = 0

    # -- drawing ------------------------------------------------------------------------------
    def line(self) -> str:
        """The text of the bar as it would be drawn now."""
        now = time.perf_counter()
        k = self.done + (self.current is not None)  # the step running (or the last one done)
        if self.total and k <= self.total:
            filled = round(self.width * self.done / self.total)
            bar = "[" + "#" * filled + "-" * (self.width - filled) + "] "
            count = f"{k}/{self.total}"
        else:  # no total announced, or more steps than announced
            bar, count = "", (f"step {k}" if self.current else str(k))
        what = f" {self.current}" if self.current else " steps done"
        step = f" · step {format_seconds(now - self._step_began)}" if self.current else ""
        left = self.time_left(now)
        eta = f" · about {format_seconds(left)} left" if left is not None else ""
        return f"{self.label} {bar}{count}{what}{step} · total {format_seconds(now - self._began)}{eta}"

    def time_left(self, now: float | None = None) -> float | None:
        """Seconds left by the expected step times (``None`` without them)."""
        if not self.expected:
            return None
        now = time.perf_counter() if now is None else now
        pending = [k for k in self.expected if k not in self.finished and k != self.current]
        left = sum(self.expected[k] for k in pending)
        if self.current is not None:
            left += max(0.0, self.expected.get(self.current, 0.0) - (now - self._step_began))
        return left

    def _write(self, text: str, end: str = "") -> None:
        columns = shutil.get_terminal_size((100, 24)).columns
        if len(text) >= columns:  # a wrapped line could not be redrawn in place
            text = text[: max(10, columns - 2)] + "…"
        pad = " " * max(0, self._last_len - len(text))
        try:
            self.stream.write("\r" + text + pad + end)
            self.stream.flush()
        except (OSError, ValueError):
            self.draw = False
        self._last_len = 0 if end else len(text)

    def _redraw(self, end: str = "") -> None:
        with self._lock:
            if self.draw and not self._paused:
                self._write(self.line(), end)

    def _tick(self) -> None:
        while not self._stop.wait(self.refresh):
            self._redraw()

    # -- steps --------------------------------------------------------------------------------
    def start(self, name: str) -> None:
        """A step called ``name`` begins."""
        self.current = name
        self._step_began = time.perf_counter()
        self._redraw()

    def finish(self) -> None:
        """The current step ends."""
        self.done += 1
        if self.current is not None:
            self.finished.append(self.current)
        self.current = None
        self._redraw()

    def pause(self) -> None:
        """End the bar's line and stop redrawing (another bar takes the terminal)."""
        with self._lock:
            if self.draw and not self._paused and self._last_len:
                self._write(self.line(), "\n")
            self._paused += 1

    def resume(self) -> None:
        """Redraw again after :meth:`pause`."""
        with self._lock:
            self._paused = max(0, self._paused - 1)
        self._redraw()

    def close(self) -> None:
        """Stop redrawing and end the line."""
        self._stop.set()
        if self._ticker is not None:
            self._ticker.join()
            self._ticker = None
        with self._lock:
            if self.draw and self._last_len:
                self._write(self.line(), "\n")
        if self in _ACTIVE:
            _ACTIVE.remove(self)

    def __enter__(self) -> StepBar:
        _ACTIVE.append(self)
        if self.draw and self.refresh > 0:
            self._ticker = threading.Thread(target=self._tick, name="utvardering-progress",
                                            daemon=True)
            self._ticker.start()
        return self

    def __exit__(self, *exc) -> None:
        self.close()
