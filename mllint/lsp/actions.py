"""Fixes as LSP code actions: each finding's `autofix` as a quick fix whose WorkspaceEdit replaces exact spans,
and every safe fix of a document at once (`source.fixAll.mllint`). An unsafe fix (it changes behaviour) is
offered with a title that says so, never as the preferred fix."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from mllint.lsp.positions import UTF16, TextIndex
from mllint.model import Edit, Finding, Fix

QUICKFIX = "quickfix"
FIX_ALL = "source.fixAll.mllint"
UNSAFE = " (unsafe: changes behaviour)"

# A fix's file (its display path) as (URI, positions in the text its offsets count in); None where unreadable
Resolve = Callable[[str], tuple[str, TextIndex] | None]


def title(fix: Fix) -> str:
    return fix.title if fix.safe else fix.title + UNSAFE


def text_edit(edit: Edit, index: TextIndex, encoding: str = UTF16) -> dict[str, Any]:
    start, end = sorted((edit.start, edit.end))
    return {
        "range": {"start": index.position(start, encoding), "end": index.position(end, encoding)},
        "newText": edit.replacement,
    }


def workspace_edit(edits: Iterable[Edit], resolve: Resolve, encoding: str = UTF16) -> dict[str, Any] | None:
    """The edits as a WorkspaceEdit (`changes` by URI); None when a file they change cannot be read."""
    changes: dict[str, list[dict[str, Any]]] = {}
    for edit in edits:
        target = resolve(edit.path)
        if target is None:
            return None
        uri, index = target
        changes.setdefault(uri, []).append(text_edit(edit, index, encoding))
    return {"changes": changes} if changes else None


def quick_fix(
    finding: Finding, diagnostic: dict[str, Any] | None, resolve: Resolve, encoding: str = UTF16
) -> dict[str, Any] | None:
    fix = finding.autofix
    if fix is None:
        return None
    edit = workspace_edit(fix.edits, resolve, encoding)
    if edit is None:
        return None
    action: dict[str, Any] = {"title": title(fix), "kind": QUICKFIX, "edit": edit, "isPreferred": fix.safe}
    if diagnostic is not None:
        action["diagnostics"] = [diagnostic]
    return action


def disjoint(fixes: Iterable[Fix]) -> list[Fix]:
    """The fixes whose edits overlap none of an earlier fix's (in order of their first edit): what can be
    applied together; the others wait for the next round."""
    taken: list[tuple[str, int, int]] = []
    out: list[Fix] = []
    for fix in sorted(fixes, key=lambda f: min(((e.path, e.start, e.end) for e in f.edits), default=("", 0, 0))):
        spans = [(e.path, min(e.start, e.end), max(e.start, e.end)) for e in fix.edits]
        if any(_overlap(one, other) for one in spans for other in taken):
            continue
        taken.extend(spans)
        out.append(fix)
    return out


def fix_all(findings: Iterable[Finding], resolve: Resolve, encoding: str = UTF16) -> dict[str, Any] | None:
    """One action that applies every safe fix of the findings that do not overlap."""
    fixes = disjoint(f.autofix for f in findings if f.autofix is not None and f.autofix.safe)
    if not fixes:
        return None
    edit = workspace_edit((e for fix in fixes for e in fix.edits), resolve, encoding)
    if edit is None:
        return None
    count = len(fixes)
    return {"title": f"mllint: apply {count} safe fix{'es' if count != 1 else ''}", "kind": FIX_ALL, "edit": edit}


def _overlap(one: tuple[str, int, int], other: tuple[str, int, int]) -> bool:
    """Two edits touch the same text, or insert at the same place (their order would be a guess)."""
    path, start, end = one
    other_path, other_start, other_end = other
    return path == other_path and ((start < other_end and other_start < end) or start == other_start)
