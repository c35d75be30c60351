"""GitHub Actions workflow commands: one `::error file=...` annotation per finding."""

from __future__ import annotations

from mllint.engine import Result
from mllint.report.printable import escape

_LEVEL = {"error": "error", "warning": "warning", "note": "notice"}


def _data(text: str) -> str:
    """GitHub's escapes for %, CR and LF; every other control character written as its escape."""
    text = text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    return escape(text)


def _prop(text: str) -> str:
    return _data(text).replace(":", "%3A").replace(",", "%2C")


def render(result: Result, color: bool = False, verbose: bool = False) -> str:
    out = []
    for f in result.findings:
        if f.suppressed is not None:
            continue
        name = result.rules[f.rule].meta.name if f.rule in result.rules else f.rule
        props = (
            f"file={_prop(f.span.path)},line={f.span.line},col={f.span.column},"
            f"endLine={f.span.end_line},endColumn={f.span.end_column},"
            if f.span.line
            else ""
        ) + f"title={_prop(f'{f.rule} {name}')}"
        message = (f"{f.span.path}: " if not f.span.line else "") + f.message + (f"\nhelp: {f.fix}" if f.fix else "")
        out.append(f"::{_LEVEL[f.severity]} {props}::{_data(message)}")
    return "\n".join(out) + ("\n" if out else "")
