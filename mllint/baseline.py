"""Baselines: findings a team has accepted, keyed by rule, path and fingerprint (the object's identity and
the offending text, not the line number), so CI fails only on new problems."""

from __future__ import annotations

import dataclasses
import functools
import json
from collections.abc import Callable, Iterable
from pathlib import Path

from mllint.model import Finding

VERSION = 1


class BaselineError(Exception):
    """The baseline file cannot be read."""


def _key_path(path: str, root: str | None) -> str:
    """A finding's path as a baseline records it: relative to the project root (so a baseline written in one
    folder matches a scan run from another); a live-mode resource (`nvml://...`) as it is."""
    if root is None or "://" in path:
        return path
    from mllint.report import rooted

    return rooted(path, root)[0]


def rekey(findings: Iterable[Finding], root: str | None, line_of: Callable[[str, int], str | None]) -> None:
    """Fingerprints from paths relative to the project root, whatever the working directory: the same finding
    gets the same key in every report and baseline. `line_of(path, line)` reads the scanned text."""
    from mllint.finish import fingerprint

    if root is None:
        return
    groups: dict[str, list[Finding]] = {}
    for f in findings:
        groups.setdefault(f.span.path, []).append(f)
    for path, group in groups.items():
        rel = _key_path(path, root)
        if rel == path or not group[0].span.line:
            continue  # already as the root sees it: the engine's key stands
        copies = [
            dataclasses.replace(
                f,
                span=f.span._replace(path=rel),
                secret_span=f.secret_span._replace(path=rel) if f.secret_span else None,
            )
            for f in group
        ]
        fingerprint(copies, functools.partial(line_of, path))
        for f, copy in zip(group, copies, strict=True):
            f.fingerprint_key = copy.fingerprint_key


def write(path: str | Path, findings: Iterable[Finding], root: str | None = None) -> int:
    entries = sorted(
        (
            {
                "rule": f.rule,
                "path": _key_path(f.span.path, root),
                "logical": f.logical or "",
                "fingerprint": f.fingerprint_key,
            }
            for f in findings
            if f.suppressed is None
        ),
        key=lambda e: (e["path"], e["rule"], e["fingerprint"]),
    )
    Path(path).write_text(json.dumps({"version": VERSION, "findings": entries}, indent=1) + "\n", encoding="utf-8")
    return len(entries)


def load(path: str | Path) -> set[tuple[str, str, str]]:
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        if data.get("version") != VERSION:
            raise BaselineError(f"{path}: baseline version {data.get('version')!r}, expected {VERSION}")
        return {(e["rule"], e["path"], e["fingerprint"]) for e in data["findings"]}
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise BaselineError(f"{path}: not a readable mllint baseline ({exc})") from None


def apply(
    findings: Iterable[Finding], accepted: set[tuple[str, str, str]], path: str | Path, root: str | None = None
) -> int:
    """Mark findings the baseline accepts; returns how many."""
    count = 0
    for f in findings:
        if f.suppressed is None and (f.rule, _key_path(f.span.path, root), f.fingerprint_key) in accepted:
            f.suppressed = f"accepted in baseline {Path(path).name}"
            f.suppression_kind = "external"
            count += 1
    return count


def stale(findings: Iterable[Finding], accepted: set[tuple[str, str, str]], root: str | None = None) -> int:
    """How many baseline entries no finding of this scan matches (fixed, or their files not scanned)."""
    seen = {(f.rule, _key_path(f.span.path, root), f.fingerprint_key) for f in findings}
    return len(accepted - seen)
