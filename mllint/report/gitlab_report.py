"""GitLab Code Quality report: a JSON array of issues (description, check_name, fingerprint,
severity, location.path with positions), as GitLab's `artifacts:reports:codequality` reads it."""

from __future__ import annotations

import json

from mllint.engine import Result
from mllint.report import rooted

# GitLab's levels are info, minor, major, critical, blocker.
_SEVERITY = {"error": "critical", "warning": "major", "note": "info"}
# Code Climate categories by rule family.
_CATEGORY = {"security": "Security", "build": "Performance", "pinning": "Compatibility", "cuda": "Compatibility"}


def render(result: Result, color: bool = False, verbose: bool = False, root: str | None = None) -> str:
    issues = []
    for f in result.findings:
        if f.suppressed is not None:
            continue
        meta = result.rules[f.rule].meta if f.rule in result.rules else None
        name = meta.name if meta else f.rule
        issues.append(
            {
                "type": "issue",
                "check_name": f"{f.rule} {name}",
                "description": f.message + (f" (fix: {f.fix})" if f.fix else ""),
                "categories": [_CATEGORY.get(meta.family if meta else "", "Bug Risk")],
                "severity": _SEVERITY[f.severity],
                "fingerprint": f.fingerprint_key,
                "location": {
                    "path": _path(f.span.path, root),
                    "positions": {
                        "begin": {"line": f.span.line, "column": f.span.column},
                        "end": {"line": f.span.end_line, "column": f.span.end_column},
                    },
                }
                if f.span.line
                else {"path": f.span.path, "lines": {"begin": 1}},  # a host: Code Quality needs a line
            }
        )
    return json.dumps(issues, indent=2, ensure_ascii=False) + "\n"


def _path(path: str, root: str | None) -> str:
    """Relative to the project root, as GitLab links a path in the repository."""
    return rooted(path, root)[0]
