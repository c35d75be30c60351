"""What every report may print of a result: no secret, in any format. A line that holds a secret a finding
reports (ML703) is never quoted, by that finding or any other; a known token anywhere else (a code frame,
a SARIF snippet, a message that quotes a line) is blanked out."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

from mllint.model import Finding
from mllint.redaction import mask_values
from mllint.secrets import mask, redact
from mllint.source_texts import SourceTexts

if TYPE_CHECKING:
    from mllint.engine import Result


class GuardedTexts(SourceTexts):
    """The scanned files' lines as reports may quote them."""

    def __init__(self, inner: SourceTexts, hidden: set[tuple[str, int]]) -> None:
        super().__init__()
        self._inner, self._quiet = inner, hidden
        self._secrets_of = inner.secrets

    def secrets(self, path: str) -> set[str]:
        return self._secrets_of(path)

    def hidden(self, path: str, number: int) -> bool:
        """The line holds a secret: it is not quoted."""
        return (path, number) in self._quiet

    def lines(self, path: str) -> list[str]:
        count = len(self._inner.lines(path))
        return ["" if (path, n) in self._quiet else mask(self._inner.line(path, n) or "") for n in range(1, count + 1)]

    def line(self, path: str, number: int) -> str | None:
        if (path, number) in self._quiet:
            return None
        text = self._inner.line(path, number)
        return mask(text) if text else text


def hidden_lines(findings: list[Finding]) -> set[tuple[str, int]]:
    """(path, line) of every line a sensitive finding points at or whose secret is written on."""
    out: set[tuple[str, int]] = set()
    for f in findings:
        if f.sensitive:
            for span in (f.span, f.secret_span):
                if span is not None and span.line:
                    out.update((span.path, n) for n in range(span.line, max(span.line, span.end_line) + 1))
    return out


def _guarded_finding(f: Finding, secrets: set[str]) -> Finding:
    message = mask_values(redact(f.message), secrets)
    fix = mask_values(redact(f.fix), secrets) if f.fix else f.fix
    return f if (message, fix) == (f.message, f.fix) else dataclasses.replace(f, message=message, fix=fix)


def _guarded_row(row: Any, secrets: set[str]) -> Any:
    """A row of the verbose listing (a NamedTuple) with its text redacted: evidence may quote a command."""
    fields = row._asdict() if hasattr(row, "_asdict") else {}
    clean = {k: mask_values(redact(v), secrets) for k, v in fields.items() if isinstance(v, str)}
    changed = {k: v for k, v in clean.items() if v != fields[k]}
    return row._replace(**changed) if changed else row


def guarded(result: Result) -> Result:
    """`result` with its messages redacted and its source lines guarded."""
    texts = result.texts
    findings = [_guarded_finding(f, texts.secrets(f.span.path)) for f in result.findings]
    safe = dataclasses.replace(result, findings=findings, texts=GuardedTexts(result.texts, hidden_lines(findings)))
    rows = getattr(result, "workloads", None)
    if rows:
        object.__setattr__(safe, "workloads", [_guarded_row(row, texts.secrets(row.path)) for row in rows])
    return safe
