"""Human output: `path:line:col: ML101 message`, a code frame with a caret, a help line, a summary."""

from __future__ import annotations

from mllint.engine import Result
from mllint.report.printable import escape, frame

_COLORS = {
    "error": "\033[1;31m",
    "warning": "\033[1;33m",
    "note": "\033[1;36m",
    "bold": "\033[1m",
    "dim": "\033[2m",
    "reset": "\033[0m",
}


def render(result: Result, color: bool = False, verbose: bool = False) -> str:
    def c(name: str, text: str) -> str:
        return f"{_COLORS[name]}{text}{_COLORS['reset']}" if color else text

    out: list[str] = []
    for f in result.findings:
        if f.suppressed is not None and not verbose:
            continue
        rule = result.rules.get(f.rule)
        name = rule.meta.name if rule else f.rule
        path = escape(f.span.path)
        where = f"{path}:{f.span.line}:{f.span.column}" if f.span.line else path  # a host (live mode)
        mark = ""
        if f.suppressed is not None:  # shown with -v only: never mistaken for an active finding
            kind = "baselined" if f.suppression_kind == "external" else "suppressed"
            mark = " " + c("dim", f"({kind}: {escape(f.suppressed) or 'no reason given'})")
        out.append(
            f"{c('bold', where)}: "
            f"{c(f.severity, f.rule)} {c(f.severity, f.severity)}: {escape(f.message)} {c('dim', f'[{name}]')}{mark}"
        )
        line = result.source_line(f.span.path, f.span.line) if f.span.line and not f.sensitive else None
        fix = escape(f.fix) if f.fix else None
        if line is not None:
            gutter = len(str(f.span.line))
            span_width = (
                (f.span.end_column - f.span.column)
                if f.span.end_line == f.span.line
                else len(line.expandtabs(1)) - f.span.column + 1
            )
            shown, column, width = frame(line, f.span.column, span_width)
            out.append(f"{' ' * gutter} |")
            out.append(f"{f.span.line} | {shown}")
            out.append(f"{' ' * gutter} | {' ' * (column - 1)}{c(f.severity, '^' * max(1, width))}")
            if fix:
                out.append(f"{' ' * gutter} = help: {fix}")
        elif fix:
            out.append(f"  = help: {fix}")
        out.append("")
    if verbose:
        for s in result.skipped:
            out.append(f"{escape(s.path)}: skipped: {escape(s.reason)}")
        if result.workloads:
            out += [
                "",
                "What each container is, and why (the annotation mllint.dev/role or the configuration's roles: correct it):",
            ]
            for row in result.workloads:
                out.append(
                    f"{c('dim', f'{escape(row.path)}:{row.line}')}: {row.kind} {escape(repr(row.name))} container "
                    f"{escape(repr(row.container))}: {c('bold', row.role)} ({escape(row.evidence)})"
                )
            out.append("")
    out.append(summary(result))
    return "\n".join(out) + "\n"


def summary(result: Result) -> str:
    active = [f for f in result.findings if f.suppressed is None]
    counts = {level: sum(1 for f in active if f.severity == level) for level in ("error", "warning", "note")}
    files = len(result.files)
    scanned = f"{files} file{'s' if files != 1 else ''} scanned"
    if result.skipped:
        scanned += f", {len(result.skipped)} skipped (--verbose lists them)"
    if not active:
        return f"No problems found; {scanned}."
    parts = [f"{n} {level}{'s' if n != 1 else ''}" for level, n in counts.items() if n]
    total = len(active)
    return f"Found {total} problem{'s' if total != 1 else ''} ({', '.join(parts)}); {scanned}."


def statistics(result: Result) -> str:
    """Findings per rule, most first (as `ruff check --statistics`); suppressed findings are not counted."""
    counts: dict[str, int] = {}
    levels: dict[str, str] = {}  # the severity the findings have (after --severity and the configuration)
    for f in result.findings:
        if f.suppressed is None:
            counts[f.rule] = counts.get(f.rule, 0) + 1
            levels.setdefault(f.rule, f.severity)
    rows = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    width = max((len(str(n)) for _rule, n in rows), default=1)
    out = []
    for rid, n in rows:
        rule = result.rules.get(rid)
        name = rule.meta.name if rule else rid
        severity = levels[rid]
        out.append(f"{n:>{width}}\t{rid}\t{name}\t{severity}".rstrip())
    return "".join(line + "\n" for line in out)
