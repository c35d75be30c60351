"""Suppression, all of it: `# mllint: disable=ML101 -- reason` on the finding's line or alone on the line
above, `# mllint: disable-file=ML101 -- reason` anywhere in a file, the `mllint.dev/ignore` annotation on
a Kubernetes object or pod template, and the configuration's per-path ignores. Rules are named with the
one selector grammar (`mllint.selectors`). Suppressed findings stay in the report, marked, with their
justification; a comment that suppresses nothing is an ML006 finding, and a selector in a comment or
annotation that names no rule is an ML007 finding."""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import field
from fnmatch import fnmatchcase
from typing import Any

from mllint import lazy_re
from mllint.finish import finish
from mllint.model import Finding, SourceFile, Span, source_lines
from mllint.plan import Plan
from mllint.records import record
from mllint.selectors import expand, hint, matches, resolve

ANNOTATION = "mllint.dev/ignore"
UNUSED = "ML006"  # a comment that suppresses nothing
UNKNOWN = "ML007"  # a comment or annotation that names no rule
_COMMENT = lazy_re.compile(r"#[ \t]*mllint:[ \t]*(disable-file|disable)[ \t]*=")
_ANNOTATION_LINE = lazy_re.compile(r"""(["']?)mllint\.dev/ignore\1\s*:\s*(["']?)([^"'#]*)""")


@record
class Directive:
    kind: str  # disable | disable-file
    selectors: list[str]
    reason: str
    span: Span  # the comment
    applies_to: int  # the line it covers (0: the whole file)
    used: set[str] = field(default_factory=set)
    selector_spans: list[Span] = field(default_factory=list)  # each selector as written


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
            kind = match[1]
            rest = line[match.end() :]  # selectors, then `-- reason` (or another `#` comment)
            dashes, hash_ = rest.find("--"), rest.find("#")
            end = min((i for i in (dashes, hash_) if i >= 0), default=len(rest))
            reason = rest[dashes + 2 :].strip() if dashes >= 0 and dashes == end else ""
            selectors, spans = _selectors(path, number, match.end(), rest[:end])
            d = Directive(
                kind,
                selectors,
                reason,
                Span(path, number, match.start() + 1, number, len(line) + 1),
                0,
                selector_spans=spans,
            )
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


def _selectors(path: str, line: int, start: int, text: str) -> tuple[list[str], list[Span]]:
    """The comma-separated selectors in `text` (which starts at 0-based column `start`), with their spans."""
    selectors, spans = [], []
    for match in re.finditer(r"[^,\s]+(?:[^,]*[^,\s])?", text):
        selectors.append(match[0])
        spans.append(Span(path, line, start + match.start() + 1, line, start + match.end() + 1))
    return selectors, spans


def annotation_rules(annotations: Mapping[str, str]) -> list[str]:
    """The selectors an `mllint.dev/ignore` annotation names."""
    value = annotations.get(ANNOTATION)
    return [s.strip() for s in value.split(",") if s.strip()] if value else []


def annotated(target: Any, workload: Any) -> list[str]:
    """The selectors the annotation of a target's object (or its pod template) names."""
    if workload is not None:
        return annotation_rules(workload.annotations) + annotation_rules(workload.pod.annotations)
    if hasattr(target, "annotations") and hasattr(target, "kind"):  # a Kubernetes object
        return annotation_rules(target.annotations)
    return []


def mark_annotated(finding: Finding, selectors: Sequence[str], names: Mapping[str, str]) -> None:
    if any(matches(s, finding.rule, names) for s in selectors):
        finding.suppressed = f"annotation {ANNOTATION}: {', '.join(selectors)}"


def apply(
    findings: Iterable[Finding],
    found: list[Directive],
    names: Mapping[str, str],
    starts: Mapping[int, int] | None = None,
) -> None:
    """Mark findings covered by a directive. `starts` maps a line inside a multi-line construct (a
    Dockerfile instruction's continuation lines) to the line where it starts."""
    by_line: dict[int, list[Directive]] = {}
    whole = [d for d in found if d.kind == "disable-file"]
    for d in found:
        if d.kind == "disable" and d.applies_to:
            by_line.setdefault(d.applies_to, []).append(d)
    for finding in findings:
        if finding.suppressed is not None or finding.rule in (UNUSED, UNKNOWN):
            continue
        line = finding.span.line
        candidates = by_line.get(line, []) + by_line.get((starts or {}).get(line, line), []) + whole
        for d in candidates:
            if any(matches(sel, finding.rule, names) for sel in d.selectors):
                d.used.add(finding.rule)
                finding.suppressed = d.reason or "suppressed by an mllint comment without a reason"
                finding.suppression_kind = "inSource"
                break


def in_file(file: SourceFile, findings: list[Finding], found: list[Directive], plan: Plan) -> list[Finding]:
    """Mark the findings of one file that its comments suppress; return the ML006 findings for comments
    that suppress nothing and the ML007 findings for selectors that name no rule."""
    extra = unknown(file, found, plan)
    if not found:
        return extra
    starts: dict[int, int] = {}
    if file.build is not None:  # a comment above an instruction covers its continuation lines
        for stage in file.build.stages:
            for ins in stage.instructions:
                for line in range(ins.span.line, ins.span.end_line + 1):
                    starts[line] = ins.span.line
    apply(findings, found, plan.names, starts)
    if UNUSED in plan.rule_ids:
        extra += [finish(f, UNUSED, plan, file) for f in unused(found, plan.file_rule_ids, plan.names)]
    return extra


def unused(found: list[Directive], selected: Iterable[str], names: Mapping[str, str]) -> list[Finding]:
    """Findings for directives that suppressed nothing, when every rule they name ran."""
    selected = set(selected)
    out = []
    for d in found:
        if d.used:
            continue
        ran = [s for s in d.selectors if any(matches(s, r, names) for r in selected)]
        if not ran or len(ran) != len(d.selectors):
            continue  # a rule that did not run cannot have matched
        what = "file" if d.kind == "disable-file" else "line"
        out.append(
            Finding.at(
                d.span,
                f"this `mllint: {d.kind}={','.join(d.selectors)}` comment suppresses nothing on its {what}; "
                "the problem it silenced is gone or the rule id is wrong",
                fix="remove the comment, or correct the rule id",
            )
        )
    return out


def unknown(file: SourceFile, found: list[Directive], plan: Plan) -> list[Finding]:
    """ML007 findings: a selector in a `# mllint:` comment or an `mllint.dev/ignore` annotation that names
    no rule silences nothing, and the finding it was meant for is still reported."""
    if UNKNOWN not in plan.rule_ids:
        return []
    places = [
        (sel, span, f"`mllint: {d.kind}` comment")
        for d in found
        for sel, span in zip(d.selectors, d.selector_spans, strict=True)
    ]
    if ANNOTATION in file.text and file.kind != "dockerfile":
        places += [(sel, span, f"{ANNOTATION} annotation") for sel, span in _annotation_selectors(file)]
    out = []
    for sel, span, where in places:
        if not resolve(sel, plan.names):
            message = f"{sel!r} in this {where} names no rule, so it suppresses nothing ({hint(sel, plan.names)})"
            fix = "name a rule by its id (ML101), name or prefix (ML1); `mllint rules` lists them"
            out.append(finish(Finding.at(span, message, fix=fix), UNKNOWN, plan, file))
    return out


def _annotation_selectors(file: SourceFile) -> Iterable[tuple[str, Span]]:
    for number, line in enumerate(file.lines(), 1):
        if ANNOTATION not in line:
            continue
        match = _ANNOTATION_LINE.search(line)
        if match:
            selectors, spans = _selectors(file.path, number, match.start(3), match[3])
            yield from zip(selectors, spans, strict=True)


def in_ranges(
    findings: Iterable[Finding], ranges: Iterable[tuple[int, int, tuple[str, ...]]], names: Mapping[str, str]
) -> None:
    """Mark cross-file findings inside an object (or pod template) whose annotation names their rule:
    `ranges` holds (first line, last line, selectors)."""
    ranges = list(ranges)
    for f in findings:
        for first, last, selectors in ranges:
            if first <= f.span.line <= last and any(matches(s, f.rule, names) for s in selectors):
                f.suppressed = f"annotation {ANNOTATION}: {', '.join(selectors)}"


def per_path(
    findings: list[Finding], ignores: Mapping[str, Sequence[str]], root: str | None, names: Mapping[str, str]
) -> list[Finding]:
    """The findings the configuration's per-path ignores leave: globs match the path as reported and, with
    a configuration file, the path relative to its folder."""
    if not ignores:
        return findings
    compiled = [(glob, expand(sels, names)) for glob, sels in ignores.items()]
    base = os.path.abspath(root) if root else None
    kept = []
    for f in findings:
        paths = [f.span.path]
        if base:
            paths.append(os.path.relpath(os.path.abspath(f.span.path), base).replace(os.sep, "/"))
        if not any(f.rule in ids and any(fnmatchcase(p, glob) for p in paths) for glob, ids in compiled):
            kept.append(f)
    return kept
