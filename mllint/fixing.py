"""Applying the fixes that findings carry (`Finding.autofix`): `mllint scan --fix`, `--diff`, and the editor.

A rule attaches a `Fix` (a title, whether it is safe, and `Edit`s on exact offsets of the file's text) to a
finding; its metadata says `fix: safe` or `fix: unsafe`. This module decides which fixes to apply and applies them:

- `fixes_for(findings, unsafe=False)`: the findings whose fix may be applied, in a fixed order: not suppressed,
  safe unless `unsafe`, sorted by (path, first edit's start, end, rule).
- `resolve(findings, unsafe=False) -> (accepted, conflicts)`: the same, with every fix whose edits overlap an
  edit accepted before it left out (`conflicts`; it stays a finding, and a later `--fix` may apply it). A fix is
  applied whole or not at all; a fix whose edits equal one accepted already counts as fixed by it.
- `apply_edits(text, edits) -> str` (from `mllint.edits`): the text with non-overlapping edits applied on the
  original offsets; what an editor's code action applies to its buffer. Offsets count code points of the text as
  read; `mllint.edits.utf16_position(text, offset)` gives the (line, UTF-16 character) an LSP TextEdit wants.
- `plan(findings, unsafe=False) -> Plan`: for the files on disk, each changed file's original and fixed text;
  a fixed text that no longer parses as the same kind of file is left out, with a problem finding (ML003).
- `run(result, request, rescan)`: the command line: write the changes (`--fix`) or print them as a unified
  diff (`--diff`), scan again and return what is left.
"""

from __future__ import annotations

import difflib
import os
import sys
from collections.abc import Callable, Iterable, Sequence
from dataclasses import field, replace
from typing import TYPE_CHECKING, TextIO

from mllint.edits import EditError, apply_edits, overlaps
from mllint.model import Edit, Finding, Span
from mllint.records import record

if TYPE_CHECKING:
    from mllint.engine import Result

__all__ = ["Change", "Plan", "Request", "apply_edits", "fixes_for", "plan", "resolve", "run"]

BROKEN = "ML003"  # a fix that would break its file is mllint's own error


def _order(finding: Finding) -> tuple[str, int, int, str, str]:
    fix = finding.autofix
    first = min(fix.edits, key=lambda e: (e.start, e.end)) if fix and fix.edits else Edit("", 0, 0, "")
    return (first.path or finding.span.path, first.start, first.end, finding.rule, finding.message)


def fixes_for(findings: Iterable[Finding], unsafe: bool = False) -> list[Finding]:
    """The findings whose fix may be applied: not suppressed, with edits, safe unless `unsafe` (in a fixed order)."""
    out = [
        f
        for f in findings
        if f.autofix is not None and f.autofix.edits and f.suppressed is None and (unsafe or f.autofix.safe)
    ]
    return sorted(out, key=_order)


def hidden_unsafe(findings: Iterable[Finding]) -> int:
    """How many findings have a fix that only `--unsafe-fixes` applies."""
    return sum(1 for f in findings if f.autofix is not None and not f.autofix.safe and f.suppressed is None)


def resolve(findings: Iterable[Finding], unsafe: bool = False) -> tuple[list[Finding], list[Finding]]:
    """(accepted, conflicts): each fix in `fixes_for` order is accepted unless one of its edits overlaps an edit
    accepted before it. Deterministic: the same findings give the same choice whatever order they came in."""
    accepted: list[Finding] = []
    conflicts: list[Finding] = []
    taken: list[Edit] = []
    for finding in fixes_for(findings, unsafe):
        edits = set(finding.autofix.edits) if finding.autofix else set()
        fresh = edits - set(taken)
        if any(overlaps(e, t) for e in fresh for t in taken) or _self_overlap(fresh):
            conflicts.append(finding)
            continue
        taken.extend(sorted(fresh))
        accepted.append(finding)
    return accepted, conflicts


def _self_overlap(edits: set[Edit]) -> bool:
    ordered = sorted(edits)
    return any(overlaps(a, b) for i, a in enumerate(ordered) for b in ordered[i + 1 :])


@record
class Change:
    """One file's fix: its text before and after, and the findings it fixes."""

    path: str
    before: str
    after: str
    findings: list[Finding] = field(default_factory=list)
    bom: bytes = b""  # the byte-order mark the file starts with, written back
    encoding: str = "utf-8"

    def diff(self) -> str:
        """A unified diff of the change (`--- a/path`, `+++ b/path`), line endings as in the file."""
        lines = difflib.unified_diff(
            self.before.splitlines(keepends=True),
            self.after.splitlines(keepends=True),
            f"a/{self.path}",
            f"b/{self.path}",
        )
        return "".join(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n" for line in lines)

    def write(self) -> None:
        data = self.after.encode(self.encoding, "surrogateescape")
        with open(self.path, "wb") as handle:
            handle.write(self.bom + data)


@record
class Plan:
    changes: list[Change] = field(default_factory=list)
    conflicts: list[Finding] = field(default_factory=list)  # fixes left for another pass: they overlap
    problems: list[Finding] = field(default_factory=list)  # files left untouched: the fixed text would not parse

    @property
    def fixed(self) -> int:
        return sum(len(c.findings) for c in self.changes)

    def diff(self) -> str:
        return "".join(c.diff() for c in self.changes)


def plan(findings: Sequence[Finding], unsafe: bool = False) -> Plan:
    """The changes the findings' fixes make to the files on disk (each read again as the scan read it)."""
    accepted, conflicts = resolve(findings, unsafe)
    out = Plan(conflicts=conflicts)
    by_path: dict[str, list[Finding]] = {}
    for f in accepted:
        for path in dict.fromkeys(e.path for e in f.autofix.edits) if f.autofix else ():
            by_path.setdefault(path, []).append(f)
    # a fix that spans files is applied in all of them or none
    broken: set[int] = set()
    changes: dict[str, Change] = {}
    for path, group in sorted(by_path.items()):
        edits = [e for f in group if f.autofix for e in f.autofix.edits if e.path == path]
        change, problem = _change(path, edits, group)
        if problem is not None:
            out.problems.append(problem)
            broken.update(id(f) for f in group)
        elif change is not None:
            changes[path] = change
    for path, change in changes.items():
        change.findings = [f for f in change.findings if id(f) not in broken]
        if not change.findings:
            continue
        if len(change.findings) != len(by_path[path]):  # recompute without the fixes another file refused
            edits = [e for f in change.findings if f.autofix for e in f.autofix.edits if e.path == path]
            change.after = apply_edits(change.before, edits)
        if change.after != change.before:
            out.changes.append(change)
    # a finding counts once, in the first file its fix changes
    seen: set[int] = set()
    for change in out.changes:
        change.findings = [f for f in change.findings if id(f) not in seen]
        seen.update(id(f) for f in change.findings)
    return out


def _read(path: str) -> tuple[str, bytes, str]:
    """The file's text as `mllint.loader.decode` reads it, its byte-order mark and its encoding."""
    with open(path, "rb") as handle:
        data = handle.read()
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        encoding = "utf-16-le" if data.startswith(b"\xff\xfe") else "utf-16-be"
        return data[2:].decode(encoding), data[:2], encoding
    bom = b"\xef\xbb\xbf" if data.startswith(b"\xef\xbb\xbf") else b""
    return data[len(bom) :].decode("utf-8", "surrogateescape"), bom, "utf-8"


def _change(path: str, edits: list[Edit], group: list[Finding]) -> tuple[Change | None, Finding | None]:
    where = Span(path, 1, 1, 1, 1)
    try:
        before, bom, encoding = _read(path)
    except OSError as exc:
        return None, _problem(where, f"cannot read the file to fix it: {exc.strerror or exc}")
    try:
        after = apply_edits(before, edits)
    except EditError as exc:
        return None, _problem(where, f"the fixes of {_rules(group)} cannot be applied: {exc}")
    why = _breaks(path, before, after)
    if why:
        return None, _problem(where, f"the fixes of {_rules(group)} were not applied: {why}; please report it")
    return Change(path, before, after, list(group), bom, encoding), None


def _rules(group: list[Finding]) -> str:
    return ", ".join(dict.fromkeys(f.rule for f in group))


def _problem(span: Span, message: str) -> Finding:
    return Finding(BROKEN, span, message, severity="error")


def _breaks(path: str, before: str, after: str) -> str | None:
    """Why the fixed text is not the same kind of file as before (it no longer parses), or None."""
    from mllint.discover import classify
    from mllint.loader import parse
    from mllint.model import SourceFile

    kind = classify(os.path.basename(path)) or "yaml"
    old, new = (
        parse(path, kind, before.encode("utf-8", "surrogateescape")),
        parse(path, kind, after.encode("utf-8", "surrogateescape")),
    )
    if not isinstance(new, SourceFile) or not isinstance(old, SourceFile):
        return f"the fixed text would not be read as before ({getattr(new, 'reason', 'skipped')})"
    errors = [d for d in new.diagnostics if d.rule in ("ML001", "ML002")]
    if len(errors) > sum(1 for d in old.diagnostics if d.rule in ("ML001", "ML002")):
        first = errors[0]
        return f"the fixed text would not parse ({first.message} at line {first.span.line})"
    if new.kind != old.kind:
        return f"the fixed text would read as {new.kind}, not {old.kind}"
    return None


@record(frozen=True)
class Request:
    """What the command line asks: write the fixes (`--fix`), or show them as a diff (`--diff`)."""

    write: bool = False
    diff: bool = False
    unsafe: bool = False


def run(result: Result, request: Request, rescan: Callable[[], Result], err: TextIO | None = None) -> Result:
    """Apply (or, with `--diff`, print) the fixes of `result`'s findings; return the result of scanning again
    after writing. `--diff` prints the diff to stdout and exits: 1 when there would be changes, else 0."""
    err = err or sys.stderr
    changes = plan(result.findings, request.unsafe)
    hint = _unsafe_hint(result.findings, request.unsafe)
    if changes.conflicts:  # a later pass applies them, once the fixes they overlap are written
        n = len(changes.conflicts)
        hint += f"; {n} more fixable by another --fix (overlapping edits)"
    if request.diff:
        sys.stdout.write(changes.diff())
        for problem in changes.problems:
            err.write(f"mllint: {problem.span.path}: {problem.message}\n")
        n = changes.fixed
        err.write(f"Would fix {n} finding{'s' if n != 1 else ''}{hint}.\n")
        raise SystemExit(1 if changes.changes else 0)
    for change in changes.changes:
        change.write()
    after = rescan() if changes.changes else result
    if changes.problems:
        after = replace(after, findings=sorted([*after.findings, *changes.problems], key=_position))
    remaining = sum(1 for f in after.findings if f.suppressed is None)
    n = changes.fixed
    err.write(f"Fixed {n} finding{'s' if n != 1 else ''} ({remaining} remaining){hint}.\n")
    return after


def _unsafe_hint(findings: Sequence[Finding], unsafe: bool) -> str:
    hidden = 0 if unsafe else hidden_unsafe(findings)
    return f"; {hidden} more fixable with --unsafe-fixes" if hidden else ""


def _position(f: Finding) -> tuple[str, int, int, str, str]:
    return (f.span.path, f.span.line, f.span.column, f.rule, f.message)
