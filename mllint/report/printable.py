"""Text that reaches a terminal or a CI log as the reader expects it: no control character, escape sequence or
bidirectional override from a scanned file (a file name, a message that quotes a value, a code frame) acts on
the terminal, and a line of any length is shown as a window around the finding."""

from __future__ import annotations

from mllint import lazy_re

# C0 and C1 controls (tab aside), DEL, and the bidirectional marks and overrides that reorder what is shown
_CONTROL = lazy_re.compile("[\x00-\x08\x0a-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")
FRAME_WIDTH = 160  # columns of a code frame around the finding


def escape(text: str) -> str:
    """`text` with each control character written as its escape (`\\x1b`, `\\n`, `\\u202e`)."""
    return _CONTROL.sub(lambda m: m[0].encode("unicode_escape", "backslashreplace").decode("ascii"), text)


def frame(line: str, column: int, width: int) -> tuple[str, int, int]:
    """The part of `line` a code frame shows, the caret's column in it and the caret's width: control characters
    become `�` (one column for one, so the caret stays under its text) and a long line is cut to a window of
    FRAME_WIDTH columns around the finding, marked `…` where it was cut."""
    shown = _CONTROL.sub("\ufffd", line.expandtabs(1))
    if len(shown) <= FRAME_WIDTH:
        return shown, column, width
    width = max(1, min(width, FRAME_WIDTH - 20))
    start = max(0, min(column - 1 - 40, len(shown) - FRAME_WIDTH))
    window = shown[start : start + FRAME_WIDTH]
    prefix = "…" if start > 0 else ""
    suffix = "…" if start + FRAME_WIDTH < len(shown) else ""
    return prefix + window + suffix, column - start + len(prefix), width
