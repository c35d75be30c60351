"""The progress bar: drawn on a terminal once a scan is long, erased at the end, never in a pipe."""

from __future__ import annotations

import io
from pathlib import Path

from mllint import engine
from mllint.progress import Progress


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        self.now += 0.2  # every file takes 0.2 s
        return self.now


def test_a_long_scan_draws_a_bar_on_a_terminal_and_erases_it(tmp_path: Path) -> None:
    for i in range(6):
        (tmp_path / f"job{i}.yaml").write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n")
    stream = Terminal()
    progress = Progress(stream, clock=Clock())
    engine.scan([str(tmp_path)], engine.Options(jobs=1, progress=progress))
    progress.close()
    out = stream.getvalue()
    assert "mllint [" in out and "6/6 files" in out
    assert out.endswith("\r\x1b[K")  # the last thing written erases the bar


def test_a_short_scan_draws_nothing() -> None:
    stream = Terminal()
    progress = Progress(stream)  # the real clock: these calls take microseconds
    for done in range(1, 4):
        progress(done, 3)
    progress.close()
    assert stream.getvalue() == ""


def test_no_bar_when_stderr_is_not_a_terminal() -> None:
    assert Progress.for_terminal(io.StringIO()) is None
    assert Progress.for_terminal(Terminal()) is not None
