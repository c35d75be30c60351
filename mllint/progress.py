"""A progress bar on stderr for long scans: drawn only on a terminal, only once a scan has run for a
while, and erased when it ends, so that short scans, pipes and CI logs never see it."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TextIO

DELAY_S = 0.5  # scans shorter than this never draw
REDRAW_S = 0.1
WIDTH = 30


class Progress:
    def __init__(self, stream: TextIO, clock: Callable[[], float] = time.monotonic) -> None:
        self.stream = stream
        self.clock = clock
        self.start = clock()
        self.last = 0.0
        self.drawn = False

    @classmethod
    def for_terminal(cls, stream: TextIO) -> Progress | None:
        try:
            return cls(stream) if stream.isatty() else None
        except (AttributeError, ValueError):
            return None

    def __call__(self, done: int, total: int) -> None:
        now = self.clock()
        if total <= 0 or now - self.start < DELAY_S or (now - self.last < REDRAW_S and done < total):
            return
        self.last = now
        filled = WIDTH * done // total
        rate = done / max(now - self.start, 1e-9)
        self.stream.write(
            f"\r\x1b[Kmllint [{'#' * filled}{'.' * (WIDTH - filled)}] {done}/{total} files ({rate:.0f}/s)"
        )
        self.stream.flush()
        self.drawn = True

    def close(self) -> None:
        if self.drawn:
            self.stream.write("\r\x1b[K")
            self.stream.flush()
            self.drawn = False
