"""Adding to block-style YAML as text: find a mapping's keys and where a block ends from the lines' indentation,
and insert new lines there with the file's own indentation and line endings. Nothing is re-dumped, so comments,
quoting, anchors and the rest of the file stay as written. Flow style (`{a: 1}`) and anything these helpers cannot
place with certainty give None: the caller then offers no fix."""

from __future__ import annotations

from collections.abc import Sequence

from mllint import lazy_re
from mllint.edits import line_end, line_ending, line_starts
from mllint.model import Edit, SourceFile
from mllint.records import record

_KEY = lazy_re.compile(r"""^(?:-\s+)*(?:"[^"]*"|'[^']*'|[^\s#'"{\[][^:#]*?)\s*:(?:\s|$)""")


@record
class Block:
    """The lines of a file's text, read as block-style YAML."""

    path: str
    text: str
    lines: list[str]  # the file's lines as `SourceFile.lines()` splits them once (shared: do not change them)

    @classmethod
    def of(cls, file: SourceFile) -> Block:
        return cls(file.path, file.text, file.lines())

    def __post_init__(self) -> None:
        self.starts = line_starts(self.text)
        self.eol = line_ending(self.text)

    def content(self, line: int) -> str:
        """Line `line` (1-based) without its indentation; '' past the end."""
        return self.lines[line - 1].strip() if 0 < line <= len(self.lines) else ""

    def blank(self, line: int) -> bool:
        text = self.content(line)
        return not text or text.startswith("#")

    def indent(self, line: int) -> int:
        """Where the line's key starts: past its indentation and any `- ` of a sequence item."""
        raw = self.lines[line - 1]
        stripped = raw.lstrip(" ")
        at = len(raw) - len(stripped)
        while stripped.startswith("- ") or stripped == "-":
            rest = stripped[1:].lstrip(" ")
            at += len(stripped) - len(rest)
            stripped = rest
        return at

    def dash(self, line: int) -> bool:
        return self.lines[line - 1].lstrip(" ").startswith("-")

    def key(self, line: int) -> str | None:
        """The key a block-style line sets (`resources`, `"nvidia.com/gpu"` unquoted), or None."""
        match = _KEY.match(self.content(line))
        if match is None:
            return None
        key = match[0].lstrip("- ").rstrip().rstrip(":").rstrip()
        return key[1:-1] if key[:1] in "\"'" and key[-1:] == key[:1] else key

    def opens_block(self, line: int) -> bool:
        """The line is `key:` with nothing after it but a comment: its value is the block below."""
        text = self.content(line)
        match = _KEY.match(text)
        return match is not None and (not text[match.end() :].strip() or text[match.end() :].strip().startswith("#"))

    def end(self, line: int) -> int:
        """The last content line of the block that the key on `line` opens (or of its one-line value): the lines
        after it that are more indented, and a sequence written at the key's own indentation (`key:\\n- a`)."""
        own = self.indent(line)
        last = line
        sequence_at = None
        for n in range(line + 1, len(self.lines) + 1):
            if self.blank(n):
                continue
            raw = self.lines[n - 1]
            at = len(raw) - len(raw.lstrip(" "))
            if at > own or (at == own and self.dash(n) and sequence_at in (None, at) and self.opens_block(line)):
                if at == own:
                    sequence_at = at
                last = n
                continue
            break
        return last

    def children(self, line: int) -> dict[str, int]:
        """The keys of the mapping the key on `line` opens, by name, with their lines (first level only)."""
        if not self.opens_block(line):
            return {}
        out: dict[str, int] = {}
        at = None
        for n in range(line + 1, self.end(line) + 1):
            if self.blank(n):
                continue
            if at is None:
                at = self.indent(n)
            raw = self.lines[n - 1]
            if len(raw) - len(raw.lstrip(" ")) == at and not self.dash(n):
                name = self.key(n)
                if name is not None:
                    out.setdefault(name, n)
        return out

    def first_child(self, line: int) -> int | None:
        """The first content line of the block the key on `line` opens."""
        return next((n for n in range(line + 1, self.end(line) + 1) if not self.blank(n)), None)

    def siblings(self, line: int) -> dict[str, int]:
        """The keys of the mapping the key on `line` belongs to (a sequence item's, or a nested mapping's), by
        name, with their lines."""
        own = self.indent(line)
        top = line
        for n in range(line - 1, 0, -1):  # up to the mapping's first key (a sequence item's `- ` line)
            if self.blank(n):
                continue
            raw = self._raw(n)
            if raw >= own:
                if raw == own and not self.dash(n):
                    top = n
                continue
            if self.dash(n) and self.indent(n) == own:
                top = n
            break
        out: dict[str, int] = {}
        n = top
        while n <= len(self.lines):
            if self.blank(n):
                n += 1
                continue
            raw = self._raw(n)
            if n != top and (raw < own or (raw == own and self.dash(n))):
                break
            if self.indent(n) != own:
                break
            name = self.key(n)
            if name is not None:
                out.setdefault(name, n)
            n = self.end(n) + 1
        return out

    def _raw(self, line: int) -> int:
        raw = self.lines[line - 1]
        return len(raw) - len(raw.lstrip(" "))

    def parent(self, line: int) -> int | None:
        """The key line whose block holds `line`: the nearest line above that is less indented."""
        own = self.indent(line)
        for n in range(line - 1, 0, -1):
            if not self.blank(n) and self.indent(n) < own and self.opens_block(n):
                return n
            if not self.blank(n) and self.indent(n) < own:
                return None
        return None

    def insert_after(self, line: int, new_lines: Sequence[str]) -> Edit:
        """Insert `new_lines` (each with its indentation) after line `line`, with the file's line ending."""
        at = line_end(self.text, line, self.starts)
        return Edit(self.path, at, at, "".join(self.eol + text for text in new_lines))

    def step(self, line: int) -> int:
        """The file's indentation step, as the block the key on `line` shows it (2 when it cannot tell)."""
        child = self.first_child(line)
        return max(1, self.indent(child) - self.indent(line)) if child is not None and not self.dash(child) else 2
