"""Human output: `path:line:col: ML101 message`, a code frame with a caret, a help line, a summary."""

from __future__ import annotations

from mllint.engine import Result

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
        where = f"{f.span.path}:{f.span.line}:{f.span.column}" if f.span.line else f.span.path  # a host (live mode)
        out.append(
            f"{c('bold', where)}: "
            f"{c(f.severity, f.rule)} {c(f.severity, f.severity)}: {f.message} {c('dim', f'[{name}]')}"
        )
        line = result.source_line(f.span.path, f.span.line) if f.span.line and not f.sensitive else None
        if line is not None:
            gutter = len(str(f.span.line))
            shown = line.expandtabs(1)
            width = (
                (f.span.end_column - f.span.column)
                if f.span.end_line == f.span.line
                else len(shown) - f.span.column + 1
            )
            out.append(f"{' ' * gutter} |")
            out.append(f"{f.span.line} | {shown}")
            out.append(f"{' ' * gutter} | {' ' * (f.span.column - 1)}{c(f.severity, '^' * max(1, width))}")
            if f.fix:
                out.append(f"{' ' * gutter} = help: {f.fix}")
        elif f.fix:
            out.append(f"  = help: {f.fix}")
        out.append("")
    if verbose:
        for s in result.skipped:
            out.append(f"{s.path}: skipped: {s.reason}")
        if result.workloads:
            out += [
                "",
                "What each container is, and why (the annotation mllint.dev/role or the configuration's roles: correct it):",
            ]
            for row in result.workloads:
                out.append(
                    f"{c('dim', f'{row.path}:{row.line}')}: {row.kind} {row.name!r} container {row.container!r}: "
                    f"{c('bold', row.role)} ({row.evidence})"
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
