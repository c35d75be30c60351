"""Positions as LSP counts them and as mllint does.

mllint counts lines at LF (`model.source_lines`) and columns in code points, 1-based. LSP counts lines at LF, CR
and CRLF, and characters 0-based in the position encoding the client and server agreed on: UTF-16 code units
unless the client offers another (`general.positionEncodings`), so a character outside the Basic Multilingual
Plane (an emoji, U+1D538) is two. Both meet at a code-point offset into the document's text."""

from __future__ import annotations

import re
from bisect import bisect_right
from typing import Any

UTF16, UTF8, UTF32 = "utf-16", "utf-8", "utf-32"
ENCODINGS = (UTF16, UTF8, UTF32)
_BREAK = re.compile(r"\r\n|\r|\n")


def choose_encoding(capabilities: dict[str, Any]) -> str:
    """The position encoding for a client: UTF-32 (code points, mllint's own) where the client offers it, then
    UTF-16, the protocol's default and what every client supports."""
    general = capabilities.get("general") if isinstance(capabilities, dict) else None
    offered = general.get("positionEncodings") if isinstance(general, dict) else None
    if isinstance(offered, list) and UTF32 in offered:
        return UTF32
    return UTF16


def units(text: str, encoding: str = UTF16) -> int:
    """The length of `text` in the encoding's code units."""
    if encoding == UTF32 or text.isascii():
        return len(text)
    if encoding == UTF8:
        return len(text.encode("utf-8", "surrogatepass"))
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def _char_units(char: str, encoding: str) -> int:
    point = ord(char)
    if encoding == UTF32:
        return 1
    if encoding == UTF8:
        return 1 if point < 0x80 else 2 if point < 0x800 else 3 if point < 0x10000 else 4
    return 2 if point > 0xFFFF else 1


class TextIndex:
    """Offsets, LSP positions and mllint's (line, column) for one text."""

    def __init__(self, text: str) -> None:
        self.text = text
        self._lsp_starts: list[int] | None = None
        self._lf_starts: list[int] | None = None

    @property
    def lsp_starts(self) -> list[int]:
        """Where each line starts, with LF, CR and CRLF as line breaks (LSP)."""
        if self._lsp_starts is None:
            self._lsp_starts = [0, *(m.end() for m in _BREAK.finditer(self.text))]
        return self._lsp_starts

    @property
    def lf_starts(self) -> list[int]:
        """Where each line starts, with LF alone as the line break (mllint)."""
        if self._lf_starts is None:
            text, starts, at = self.text, [0], self.text.find("\n")
            while at >= 0:
                starts.append(at + 1)
                at = text.find("\n", at + 1)
            self._lf_starts = starts
        return self._lf_starts

    def _lsp_line_end(self, line: int) -> int:
        """The offset where LSP line `line` (0-based) ends, before its line break."""
        starts = self.lsp_starts
        if line + 1 >= len(starts):
            return len(self.text)
        end = starts[line + 1]
        if self.text[end - 1] == "\n":
            end -= 1
        if end > starts[line] and self.text[end - 1] == "\r":
            end -= 1
        return end

    def offset_of(self, line: int, column: int) -> int:
        """The offset of mllint's 1-based (line, code-point column), clamped to the end of that line."""
        starts = self.lf_starts
        if line < 1:
            return 0
        if line > len(starts):
            return len(self.text)
        start = starts[line - 1]
        end = starts[line] - 1 if line < len(starts) else len(self.text)
        if end > start and self.text[end - 1] == "\r":
            end -= 1
        return min(start + max(column, 1) - 1, end)

    def position(self, offset: int, encoding: str = UTF16) -> dict[str, int]:
        """The LSP position of a code-point offset."""
        offset = max(0, min(offset, len(self.text)))
        starts = self.lsp_starts
        line = bisect_right(starts, offset) - 1
        return {"line": line, "character": units(self.text[starts[line] : offset], encoding)}

    def offset(self, position: dict[str, Any], encoding: str = UTF16) -> int:
        """The code-point offset of an LSP position; a character past the line's end means its end (as LSP says),
        one inside a character's code units (half a surrogate pair) the character after it."""
        starts = self.lsp_starts
        line, character = int(position.get("line", 0)), int(position.get("character", 0))
        if line < 0:
            return 0
        if line >= len(starts):
            return len(self.text)
        start, end = starts[line], self._lsp_line_end(line)
        segment = self.text[start:end]
        if encoding == UTF32 or segment.isascii():
            return start + max(0, min(character, len(segment)))
        counted = 0
        for index, char in enumerate(segment):
            if counted >= character:
                return start + index
            counted += _char_units(char, encoding)
        return end


def apply_change(text: str, change: dict[str, Any], encoding: str = UTF16) -> str:
    """`text` after one `TextDocumentContentChangeEvent`: a range replaced, or (without a range) the whole text."""
    new = change.get("text", "")
    if not isinstance(new, str):
        raise ValueError("a content change without text")
    span = change.get("range")
    if span is None:
        return new
    index = TextIndex(text)
    start, end = index.offset(span["start"], encoding), index.offset(span["end"], encoding)
    if end < start:
        start, end = end, start
    return text[:start] + new + text[end:]
