"""The text of each reported file, read once, for code frames and for fingerprints of cross-file findings,
with every credential the scan found (`mllint.redaction`) masked: no line a report quotes holds one."""

from __future__ import annotations

from collections.abc import Iterable

from mllint.model import source_lines
from mllint.redaction import mask_line

RECENT_FILES = 8


class SourceTexts:
    def __init__(self) -> None:
        self._lines: dict[str, list[str]] = {}  # files read from stdin: they cannot be read again
        self._recent: dict[str, list[str]] = {}  # the files read last: reports quote a file's lines in a row
        self._hidden: dict[str, dict[int, list[tuple[int, int]]]] = {}
        self._secrets: dict[str, set[str]] = {}  # each file's credential strings, for messages that repeat one

    def hide(self, path: str, spans: Iterable[tuple[int, int, int]], secrets: Iterable[str] = ()) -> None:
        """Mask these (line, first column, end column) of `path` wherever a line of it is quoted."""
        for line, first, end in spans:
            self._hidden.setdefault(path, {}).setdefault(line, []).append((first, end))
        if secrets:
            self._secrets.setdefault(path, set()).update(secrets)

    def secrets(self, path: str) -> set[str]:
        """The credential strings of `path`, which a message about that file must not repeat."""
        return self._secrets.get(path, set())

    def add(self, path: str, lines: list[str]) -> None:
        """A file already read (stdin): it cannot be read again."""
        self._lines[path] = lines

    def lines(self, path: str) -> list[str]:
        """The lines of `path`; only the files read last are kept, so memory does not grow with the findings."""
        if path in self._lines:
            return self._lines[path]
        lines = self._recent.get(path)
        if lines is None:
            try:
                with open(path, encoding="utf-8-sig", errors="replace", newline="") as handle:
                    lines = source_lines(handle.read())
            except OSError:
                lines = []
            if len(self._recent) >= RECENT_FILES:
                del self._recent[next(iter(self._recent))]
            self._recent[path] = lines
        return lines

    def line(self, path: str, number: int) -> str | None:
        """Line `number` of `path`; None when it cannot be read or is past the end."""
        lines = self.lines(path)
        if not 0 < number <= len(lines):
            return None
        hidden = self._hidden.get(path, {}).get(number)
        return mask_line(lines[number - 1], hidden) if hidden else lines[number - 1]
