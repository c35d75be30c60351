"""Findings as LSP diagnostics: the range of the finding's span, its severity, the rule id with a link to the rule's
docs, and where in other files it is caused."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from mllint.docs import rule_url
from mllint.lsp.positions import UTF16, TextIndex
from mllint.model import Finding, Span
from mllint.registry import Rule

SOURCE = "mllint"
SEVERITY = {"error": 1, "warning": 2, "note": 3}  # LSP: Error, Warning, Information (a note is no mere hint)
CAUSE = "caused here"
ORIGIN = "reported here"

Locate = Callable[[Span], dict[str, Any] | None]  # a span in any file as an LSP Location; None where unknown


def span_range(index: TextIndex, span: Span, encoding: str = UTF16) -> dict[str, Any]:
    """The LSP range of a span (1-based code-point columns, end exclusive); an empty span covers the character
    at its start, as an editor shows nothing for an empty range at the end of a line."""
    start = index.offset_of(span.line, span.column)
    end = max(start, index.offset_of(span.end_line, span.end_column))
    if end == start and start < len(index.text) and index.text[start] not in "\r\n":
        end = start + 1
    return {"start": index.position(start, encoding), "end": index.position(end, encoding)}


def message(finding: Finding) -> str:
    return f"{finding.message}\nHelp: {finding.fix}" if finding.fix else finding.message


def diagnostic(
    finding: Finding,
    index: TextIndex,
    rules: Mapping[str, Rule],
    locate: Locate,
    encoding: str = UTF16,
    origin: Span | None = None,
) -> dict[str, Any]:
    """One finding (its message already guarded: no secret) as a Diagnostic in the document `index` is of;
    `origin`: where a cross-file finding shown at one of its causes is reported."""
    out: dict[str, Any] = {
        "range": span_range(index, finding.span, encoding),
        "severity": SEVERITY.get(finding.severity, 2),
        "code": finding.rule,
        "source": SOURCE,
        "message": message(finding),
    }
    rule = rules.get(finding.rule)
    href = rule_url(rule) if rule is not None else None
    if href:
        out["codeDescription"] = {"href": href}
    related = []
    for span, label in [*([(origin, ORIGIN)] if origin is not None else []), *((c, CAUSE) for c in finding.causes)]:
        where = locate(span)
        if where is not None:
            related.append({"location": where, "message": label})
    if related:
        out["relatedInformation"] = related
    if finding.autofix is not None:
        out["data"] = {"fix": finding.autofix.title, "safe": finding.autofix.safe}
    return out
