"""Baselines: findings a team has accepted, keyed by rule, path and fingerprint (the object's identity and
the offending text, not the line number), so CI fails only on new problems."""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path

from mllint.model import Finding

VERSION = 1


class BaselineError(Exception):
    """The baseline file cannot be read."""


def write(path: str | Path, findings: Iterable[Finding]) -> int:
    entries = sorted(
        (
            {"rule": f.rule, "path": f.span.path, "logical": f.logical or "", "fingerprint": f.fingerprint_key}
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


def apply(findings: Iterable[Finding], accepted: set[tuple[str, str, str]], path: str | Path) -> int:
    """Mark findings the baseline accepts; returns how many."""
    count = 0
    for f in findings:
        if f.suppressed is None and (f.rule, f.span.path, f.fingerprint_key) in accepted:
            f.suppressed = f"accepted in baseline {Path(path).name}"
            f.suppression_kind = "external"
            count += 1
    return count
