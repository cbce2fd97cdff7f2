"""Progress of long work, shown on a terminal as one line that rewrites itself.

The pipeline reports each input read and each feed written to a ``Progress``;
the base class ignores them (the daemon, scripts, ``-q``, output that is not a
terminal), ``TerminalProgress`` draws them. Log records printed meanwhile clear
the line first, so a warning never ends up glued to the progress text.
"""

import logging
import time
from typing import TextIO


class Progress:
    """Where the pipeline reports how far it got; this one shows nothing."""

    def step(self, stage: str, done: int, total: int, detail: str = "") -> None:
        """``done`` of ``total`` things of ``stage`` (e.g. "sources", "feeds") are finished."""

    def finish(self) -> None:
        """The work is over: leave the terminal as it was found."""


class TerminalProgress(Progress):
    """Draws ``stage done/total · detail`` on one line of a terminal, at most 10 times a second."""

    INTERVAL = 0.1

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.shown = False
        self.last_drawn = 0.0

    def step(self, stage: str, done: int, total: int, detail: str = "") -> None:
        now = time.monotonic()
        if done < total and now - self.last_drawn < self.INTERVAL:
            return
        self.last_drawn = now
        text = f"{stage} {done}/{total}" + (f" · {detail}" if detail else "")
        # \r goes back to the start of the line, ESC[K erases what a longer text left.
        self.stream.write(f"\r{text}\x1b[K")
        self.stream.flush()
        self.shown = True

    def finish(self) -> None:
        self.clear()

    def clear(self) -> None:
        if self.shown:
            self.stream.write("\r\x1b[K")
            self.stream.flush()
            self.shown = False


class ClearProgressLine(logging.Filter):
    """Attached to the terminal's log handler: erases the progress line before a record."""

    def __init__(self, progress: TerminalProgress) -> None:
        super().__init__()
        self.progress = progress

    def filter(self, record: logging.LogRecord) -> bool:
        self.progress.clear()
        return True
