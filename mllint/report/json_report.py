"""Machine output; its shape is documented by schemas/report.schema.json."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from mllint import __version__
from mllint.docs import rule_url
from mllint.engine import Result
from mllint.report.streamed import streamed

SCHEMA_VERSION = 1


def document(result: Result, verbose: bool = False) -> dict[str, Any]:
    doc = _frame(result, verbose)
    doc["findings"] = list(_findings(result))
    return doc


def _frame(result: Result, verbose: bool) -> dict[str, Any]:
    """The report without its findings."""
    doc: dict[str, Any] = {
        "version": SCHEMA_VERSION,
        "tool": {"name": "mllint", "version": __version__},
        "summary": {
            "files": len(result.files),
            "skipped": len(result.skipped),
            "findings": sum(1 for f in result.findings if f.suppressed is None),
            "by_severity": {
                lvl: sum(1 for f in result.findings if f.severity == lvl and f.suppressed is None)
                for lvl in ("error", "warning", "note")
            },
        },
        "findings": [],
        "skipped": [{"path": s.path, "reason": s.reason} for s in result.skipped],
    }
    if verbose:  # what mllint took each container for, and why: a user can check it and correct it
        doc["workloads"] = [row._asdict() for row in result.workloads]
    return doc


def _findings(result: Result) -> Iterator[dict[str, Any]]:
    for f in result.findings:
        yield {
            "rule": f.rule,
            "name": result.rules[f.rule].meta.name if f.rule in result.rules else f.rule,
            "url": rule_url(result.rules[f.rule]) if f.rule in result.rules else None,
            "severity": f.severity,
            "message": f.message,
            "fix": f.fix,
            "path": f.span.path,
            "line": f.span.line,
            "column": f.span.column,
            "end_line": f.span.end_line,
            "end_column": f.span.end_column,
            "logical_location": f.logical,
            "fingerprint": f.fingerprint_key,
            "suppressed": f.suppressed,
        }


def render(result: Result, color: bool = False, verbose: bool = False) -> str:
    return "".join(chunks(result, color, verbose))


def chunks(result: Result, color: bool = False, verbose: bool = False) -> Iterator[str]:
    """The report as `json.dumps(document, indent=2)` writes it, a finding at a time."""
    return streamed(_frame(result, verbose), ("findings",), _findings(result))
