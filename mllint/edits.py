"""Edits on exact spans of a file's text: where a line and column are as an offset, and applying edits.

Rules build their fixes with these helpers (`offset`, `insert`, `replace`, `line_ending`, `indent_of`), so a fix
changes only the characters it names: comments, quoting, anchors, indentation and CRLF line endings around it are
kept. Offsets count code points of the text as read (`mllint.loader.decode`: a UTF-8 BOM is not part of it).
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable

from mllint.model import Edit, Span


class EditError(ValueError):
    """Edits that cannot be applied together: they overlap, or fall outside the text."""


_last: tuple[str, list[int]] = ("", [0])


def line_starts(text: str) -> list[int]:
    """The offset at which each line starts (lines split at LF, as `mllint.model.source_lines` counts them).
    Kept for the text last asked about (shared: do not change it), so that a fix per finding of one large file
    does not split the file once per finding."""
    global _last
    if _last[0] is text:
        return _last[1]
    starts = [0]
    at = text.find("\n")
    while at >= 0:
        starts.append(at + 1)
        at = text.find("\n", at + 1)
    _last = (text, starts)
    return starts


def offset(text: str, line: int, column: int, starts: list[int] | None = None) -> int:
    """The offset of 1-based `line` and `column` (a column past the line's end stops at it, before its CR LF)."""
    starts = starts if starts is not None else line_starts(text)
    if not 1 <= line <= len(starts):
        raise EditError(f"line {line} is outside the text ({len(starts)} lines)")
    begin = starts[line - 1]
    end = starts[line] - 1 if line < len(starts) else len(text)
    if end > begin and text[end - 1] == "\r":
        end -= 1
    return min(begin + max(column, 1) - 1, end)


def span_offsets(text: str, span: Span, starts: list[int] | None = None) -> tuple[int, int]:
    """The offsets of a span (its end column is exclusive, as the model writes spans)."""
    starts = starts if starts is not None else line_starts(text)
    return offset(text, span.line, span.column, starts), offset(text, span.end_line, span.end_column, starts)


def line_end(text: str, line: int, starts: list[int] | None = None) -> int:
    """The offset of the end of `line`, before its line break."""
    return offset(text, line, 1 << 30, starts)


def line_ending(text: str) -> str:
    """The file's line break: CRLF when its first line ends with one, else LF."""
    at = text.find("\n")
    return "\r\n" if at > 0 and text[at - 1] == "\r" else "\n"


def indent_of(text: str, line: int, starts: list[int] | None = None) -> str:
    """The spaces (or tabs) that start `line`."""
    begin = offset(text, line, 1, starts)
    stop = line_end(text, line, starts)
    content = text[begin:stop]
    return content[: len(content) - len(content.lstrip(" \t"))]


def insert(path: str, at: int, text: str) -> Edit:
    return Edit(path, at, at, text)


def replace(path: str, start: int, end: int, text: str) -> Edit:
    return Edit(path, start, end, text)


def overlaps(a: Edit, b: Edit) -> bool:
    """Whether two edits of one file touch the same text: ranges that share a character, an insertion inside
    the other's range, or two insertions at one place (their order would be a guess)."""
    if a.path != b.path:
        return False
    if a.start == a.end and b.start == b.end:
        return a.start == b.start
    if a.start == a.end:
        return b.start < a.start < b.end
    if b.start == b.end:
        return a.start < b.start < a.end
    return a.start < b.end and b.start < a.end


def apply_edits(text: str, edits: Iterable[Edit]) -> str:
    """`text` with every edit applied, each on the original offsets. The edits must not overlap (`overlaps`);
    identical edits count once. Raises EditError otherwise."""
    ordered = sorted(set(edits), key=lambda e: (e.start, e.end, e.replacement))
    out: list[str] = []
    at = 0
    previous: Edit | None = None
    for edit in ordered:
        if not 0 <= edit.start <= edit.end <= len(text):
            raise EditError(f"edit {edit.start}:{edit.end} is outside the text ({len(text)} characters)")
        if previous is not None and (overlaps(previous, edit) or edit.start < at):
            raise EditError(f"edits {previous.start}:{previous.end} and {edit.start}:{edit.end} overlap")
        out.append(text[at : edit.start])
        out.append(edit.replacement)
        at = edit.end
        previous = edit
    out.append(text[at:])
    return "".join(out)


def utf16_position(text: str, at: int, starts: list[int] | None = None) -> tuple[int, int]:
    """The 0-based line and UTF-16 column of offset `at`: where the Language Server Protocol puts it."""
    starts = starts if starts is not None else line_starts(text)
    line = bisect_right(starts, at) - 1
    begin = starts[line]
    return line, len(text[begin:at].encode("utf-16-le")) // 2
