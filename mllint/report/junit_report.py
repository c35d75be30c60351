"""JUnit XML, as CI systems read test reports (GitLab `artifacts:reports:junit`, Jenkins, Azure Pipelines): one
test case per scanned file, failed by its findings (suppressed and baselined findings are left out)."""

from __future__ import annotations

from mllint.engine import Result
from mllint.report.xmltext import attr, text


def render(result: Result, color: bool = False, verbose: bool = False) -> str:
    by_path: dict[str, list[str]] = {path: [] for path, _kind in result.files}
    for f in result.findings:
        if f.suppressed is not None:
            continue
        where = f"{f.span.path}:{f.span.line}:{f.span.column}" if f.span.line else f.span.path
        rule = result.rules.get(f.rule)
        name = rule.meta.name if rule else f.rule
        by_path.setdefault(f.span.path, []).append(
            f"{where}: {f.rule} {f.severity}: {f.message} [{name}]" + (f"\n  help: {f.fix}" if f.fix else "")
        )
    failures = sum(1 for lines in by_path.values() if lines)
    out = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        f'<testsuites name="mllint" tests="{len(by_path)}" failures="{failures}" errors="0">',
        f'  <testsuite name="mllint" tests="{len(by_path)}" failures="{failures}" errors="0" skipped="0">',
    ]
    for path in sorted(by_path):
        lines = by_path[path]
        head = f"    <testcase classname={attr('mllint')} name={attr(path)} file={attr(path)}"
        if not lines:
            out.append(head + "/>")
            continue
        summary = f"{len(lines)} finding{'s' if len(lines) != 1 else ''}"
        out += [
            head + ">",
            f"      <failure message={attr(summary)} type={attr('mllint')}>{text(chr(10).join(lines))}</failure>",
            "    </testcase>",
        ]
    out += ["  </testsuite>", "</testsuites>"]
    return "\n".join(out) + "\n"
