"""What the engine adds to a rule's finding: its rule, severity, logical location and fingerprint; and
the finding that stands for a crash inside mllint."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from typing import Any

from mllint.digests import sha256
from mllint.model import Finding, Span
from mllint.plan import Plan
from mllint.secrets import redact

INTERNAL_ERROR = "ML003"  # the rule that reports mllint's own crashes


def finish(finding: Finding, rule_id: str, plan: Plan, target: Any = None, workload: Any = None) -> Finding:
    finding.rule = rule_id
    finding.severity = plan.severity_of(rule_id, finding.severity)
    if workload is not None:
        container = getattr(target, "name", None) if hasattr(target, "image") else None
        finding.logical = workload.identity + (f"/{container}" if container else "")
    elif hasattr(target, "base"):  # a Dockerfile stage
        finding.logical = f"stage/{target.alias.text if target.alias else target.index}"
    return finding


def crash_message(where: str, exc: BaseException) -> str:
    import traceback

    frame = traceback.extract_tb(exc.__traceback__)[-1] if exc.__traceback__ else None
    at = f" at {os.path.basename(frame.filename)}:{frame.lineno}" if frame else ""
    return f"internal error in {where}: {type(exc).__name__}: {exc}{at}; please report it with this file"


def crash(
    span: Span, where: str, exc: BaseException, plan: Plan, target: Any = None, workload: Any = None
) -> list[Finding]:
    """The finding for a crash in `where`, when the internal-error rule runs (else nothing)."""
    if INTERNAL_ERROR not in plan.rule_ids:
        return []
    return [finish(Finding(INTERNAL_ERROR, span, crash_message(where, exc)), INTERNAL_ERROR, plan, target, workload)]


def fingerprint(findings: Iterable[Finding], line_of: Callable[[int], str | None]) -> None:
    """A key per finding from the rule, the object and the offending text, not the line number. A finding
    about a secret keys on the name that holds it instead: a short hash of a line with a weak password
    could be reversed by trying the usual passwords."""
    findings = list(findings)
    secrets = _secret_spans(findings)
    counts: dict[str, int] = {}
    for f in findings:
        if f.sensitive:
            base = f"{f.rule}|{f.span.path}|{f.logical or ''}|secret:{f.secret_name}"
            counts[base] = counts.get(base, 0) + 1
            f.fingerprint_key = sha256(f"{base}|{counts[base]}".encode("utf-8", "surrogatepass")).hexdigest()[:32]
            continue
        line = _masked(line_of(f.span.line) or "", f.span.path, f.span.line, secrets)
        end = f.span.end_column - 1 if f.span.end_line == f.span.line else len(line)
        snippet = redact(" ".join(line[f.span.column - 1 : end].split()) or " ".join(line.split()))
        base = f"{f.rule}|{f.span.path}|{f.logical or ''}|{snippet}"
        counts[base] = counts.get(base, 0) + 1
        f.fingerprint_key = sha256(f"{base}|{counts[base]}".encode("utf-8", "surrogatepass")).hexdigest()[:32]


def _secret_spans(findings: list[Finding]) -> list[Span]:
    """Where the secrets that sensitive findings report are written."""
    return [f.secret_span for f in findings if f.sensitive and f.secret_span is not None]


def _masked(line: str, path: str, number: int, secrets: list[Span]) -> str:
    """The line with every secret written on it blanked out (to its length, so that columns still hold): what
    another finding's fingerprint may hash."""
    for s in secrets:
        if s.path != path or not s.line <= number <= s.end_line:
            continue
        start = s.column - 1 if s.line == number else 0
        end = s.end_column - 1 if s.end_line == number else len(line)
        line = line[:start] + "*" * max(0, end - start) + line[end:]
    return line


def lines_of(lines: list[str]) -> Callable[[int], str | None]:
    """Line `n` (1-based) of `lines`, None past the end."""
    return lambda n: lines[n - 1] if 0 < n <= len(lines) else None
