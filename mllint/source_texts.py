"""The text of each reported file, read once, for code frames and for fingerprints of cross-file findings."""

from __future__ import annotations

from mllint.model import source_lines


class SourceTexts:
    def __init__(self) -> None:
        self._lines: dict[str, list[str]] = {}

    def add(self, path: str, lines: list[str]) -> None:
        """A file already read (stdin): it cannot be read again."""
        self._lines[path] = lines

    def lines(self, path: str) -> list[str]:
        if path not in self._lines:
            try:
                with open(path, encoding="utf-8-sig", errors="replace", newline="") as handle:
                    self._lines[path] = source_lines(handle.read())
            except OSError:
                self._lines[path] = []
        return self._lines[path]

    def line(self, path: str, number: int) -> str | None:
        """Line `number` of `path`; None when it cannot be read or is past the end."""
        lines = self.lines(path)
        return lines[number - 1] if 0 < number <= len(lines) else None
