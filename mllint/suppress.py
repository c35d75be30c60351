"""Inline suppressions: `# mllint: disable=ML101 -- reason` on the finding's line or alone on the line
above, `# mllint: disable-file=ML101 -- reason` anywhere in a file, and the `mllint.dev/ignore`
annotation on a Kubernetes object or pod template. Suppressed findings stay in the report, marked,
with their justification; a disable comment that suppressed nothing becomes an ML006 finding."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from mllint.model import Finding, Span, source_lines

ANNOTATION = "mllint.dev/ignore"
_COMMENT = re.compile(r"#\s*mllint:\s*(disable|disable-file)\s*=\s*([^#]*?)\s*(?:--\s*(.*?))?\s*$")


@dataclass
class Directive:
    kind: str  # disable | disable-file
    selectors: list[str]
    reason: str
    span: Span  # the comment
    applies_to: int  # the line it covers (0: the whole file)
    used: set[str] = field(default_factory=set)


def directives(path: str, text: str) -> list[Directive]:
    """Every `# mllint:` comment of a file. A comment alone on its line covers the next line that is not a
    comment or blank (and so, in a Dockerfile, the instruction that starts there); a trailing one its own."""
    if "mllint:" not in text:
        return []
    lines = source_lines(text)
    out: list[Directive] = []
    pending: list[Directive] = []
    for number, line in enumerate(lines, 1):
        stripped = line.strip()
        hash_at = line.find("#")
        match = _COMMENT.search(line, hash_at) if hash_at >= 0 and "mllint:" in line else None
        if match:
            kind = "disable-file" if match[1] == "disable-file" else "disable"
            selectors = [s.strip() for s in match[2].split(",") if s.strip()]
            column = match.start() + 1
            d = Directive(kind, selectors, (match[3] or "").strip(),
                          Span(path, number, column, number, len(line) + 1), 0)
            out.append(d)
            if kind == "disable":
                if stripped.startswith("#"):
                    pending.append(d)
                    continue
                d.applies_to = number
        if stripped and not stripped.startswith("#"):
            for d in pending:
                d.applies_to = number
            pending = []
    return out


def matches(selector: str, rule: str, name: str | None) -> bool:
    """Whether a suppression's selector (an id, a prefix such as ML3, a rule name, or `all`) names `rule`."""
    return selector.lower() == "all" or rule.startswith(selector.upper()) or name == selector


def _covers(directive: Directive, rule: str, names: Mapping[str, str]) -> bool:
    if any(matches(sel, rule, names.get(rule)) for sel in directive.selectors):
        directive.used.add(rule)
        return True
    return False


def apply(findings: Iterable[Finding], found: list[Directive], names: Mapping[str, str],
          starts: Mapping[int, int] | None = None) -> None:
    """Mark findings covered by a directive. `starts` maps a line inside a multi-line construct (a
    Dockerfile instruction's continuation lines) to the line where it starts."""
    by_line: dict[int, list[Directive]] = {}
    whole = [d for d in found if d.kind == "disable-file"]
    for d in found:
        if d.kind == "disable" and d.applies_to:
            by_line.setdefault(d.applies_to, []).append(d)
    for finding in findings:
        if finding.suppressed is not None or finding.rule == "ML006":
            continue
        line = finding.span.line
        candidates = by_line.get(line, []) + by_line.get((starts or {}).get(line, line), []) + whole
        for d in candidates:
            if _covers(d, finding.rule, names):
                finding.suppressed = d.reason or "suppressed by an mllint comment without a reason"
                finding.suppression_kind = "inSource"
                break


def annotation_rules(annotations: Mapping[str, str]) -> list[str]:
    value = annotations.get(ANNOTATION)
    return [s.strip() for s in value.split(",") if s.strip()] if value else []


def object_rules(node: Any) -> list[str]:
    """The rules the annotation on a Kubernetes object (its composed YAML node) names."""
    from mllint import yamlsrc as y

    annotations = y.get(y.get(node, "metadata"), "annotations")
    return annotation_rules({k: y.text(v) or "" for k, _k, v in y.items(annotations)})


def unused(found: list[Directive], selected: Iterable[str], names: Mapping[str, str]) -> list[Finding]:
    """ML006 findings for directives that suppressed nothing, when the rules they name ran."""
    selected = set(selected)
    out = []
    for d in found:
        if d.used:
            continue
        ran = [s for s in d.selectors if any(matches(s, r, names.get(r)) for r in selected)]
        if not ran or len(ran) != len(d.selectors):
            continue  # a rule that did not run cannot have matched
        what = "file" if d.kind == "disable-file" else "line"
        out.append(Finding.at(
            d.span,
            f"this `mllint: {d.kind}={','.join(d.selectors)}` comment suppresses nothing on its {what}; "
            "the problem it silenced is gone or the rule id is wrong",
            fix="remove the comment, or correct the rule id",
        ))
        out[-1].rule = "ML006"
    return out
