"""Checkstyle XML, which many CI and review tools read (Jenkins Warnings NG, reviewdog, SonarQube imports): a
`<file>` per scanned file with an `<error>` per finding (suppressed and baselined findings are left out)."""

from __future__ import annotations

from mllint.engine import Result
from mllint.report.xmltext import attr

_SEVERITY = {"error": "error", "warning": "warning", "note": "info"}


def render(result: Result, color: bool = False, verbose: bool = False) -> str:
    by_path: dict[str, list[str]] = {path: [] for path, _kind in result.files}
    for f in result.findings:
        if f.suppressed is not None:
            continue
        message = f.message + (f" (help: {f.fix})" if f.fix else "")
        by_path.setdefault(f.span.path, []).append(
            f"    <error line={attr(str(f.span.line))} column={attr(str(f.span.column))} "
            f"severity={attr(_SEVERITY[f.severity])} message={attr(message)} source={attr('mllint.' + f.rule)}/>"
        )
    out = ['<?xml version="1.0" encoding="UTF-8"?>', '<checkstyle version="4.3">']
    for path in sorted(by_path):
        errors = by_path[path]
        if not errors:
            out.append(f"  <file name={attr(path)}/>")
            continue
        out += [f"  <file name={attr(path)}>", *errors, "  </file>"]
    out.append("</checkstyle>")
    return "\n".join(out) + "\n"
