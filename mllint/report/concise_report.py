"""One line per finding, `path:line:col: ML101 [severity] message`, then the summary (as `ruff --output-format
concise`): for terminals where a code frame per finding is too much, and for grep."""

from __future__ import annotations

from mllint.engine import Result
from mllint.report.printable import escape
from mllint.report.text_report import summary


def render(result: Result, color: bool = False, verbose: bool = False) -> str:
    out: list[str] = []
    for f in result.findings:
        if f.suppressed is not None and not verbose:
            continue
        where = f"{escape(f.span.path)}:{f.span.line}:{f.span.column}" if f.span.line else escape(f.span.path)
        mark = f" ({_mark(f.suppression_kind)}: {escape(f.suppressed)})" if f.suppressed is not None else ""
        out.append(f"{where}: {f.rule} {f.severity}: {escape(f.message)}{mark}")
    out.append(summary(result))
    return "\n".join(out) + "\n"


def _mark(kind: str) -> str:
    return "baselined" if kind == "external" else "suppressed"
