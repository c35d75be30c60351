"""SARIF 2.1.0 for code scanning: a full rule table, exact regions, stable fingerprints."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

from mllint import __version__
from mllint.engine import Result
from mllint.registry import Rule, builtin
from mllint.report import rooted
from mllint.report.streamed import streamed

INFORMATION_URI = "https://github.com/mllint/mllint"
DOCS_URI = f"{INFORMATION_URI}/blob/main/docs/rules.md"
_LEVEL = {"error": "error", "warning": "warning", "note": "note"}
SNIPPET_LIMIT = 1000  # characters of a line quoted as a snippet or context; a longer line is not quoted


def _sentence(text: str) -> str:
    text = " ".join(text.split())
    return text if text.endswith((".", "!", "?")) else text + "."


def rule_descriptor(rule: Rule) -> dict[str, Any]:
    meta = rule.meta
    props: dict[str, Any] = {"tags": sorted(set(meta.tags) | {meta.family})}
    if meta.security_severity:
        props["security-severity"] = meta.security_severity
    help_md = (
        f"**{meta.summary}**\n\n{meta.description}\n\n**How to fix:** {meta.remediation}\n\n"
        f"Run `mllint explain {meta.id}` for examples."
    )
    descriptor = {
        "id": meta.id,
        "name": "".join(part.capitalize() for part in meta.name.split("-")),
        "shortDescription": {"text": _sentence(meta.summary)},
        "fullDescription": {"text": _sentence(meta.description)},
        "help": {"text": _sentence(f"{meta.remediation}"), "markdown": help_md},
        "helpUri": meta.raw.get("help_uri") or f"{DOCS_URI}#{meta.id.lower()}-{meta.name}",
        "defaultConfiguration": {"level": _LEVEL[meta.severity], "enabled": meta.enabled},
        "properties": props,
    }
    if meta.family == "custom" and not meta.raw.get("help_uri"):
        del descriptor["helpUri"]  # a team's own rule is not in mllint's rule docs
    return descriptor


def document(result: Result, root: str | None = None) -> dict[str, Any]:
    doc = _frame(result, root)
    doc["runs"][0]["results"] = list(_results(result, root))
    return doc


def _frame(result: Result, root: str | None) -> dict[str, Any]:
    """The log without its results."""
    rules = {**builtin(), **result.rules}  # the rules that ran, and any a finding names
    return {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "mllint",
                        "version": __version__,
                        "semanticVersion": __version__,
                        "informationUri": INFORMATION_URI,
                        "rules": [rule_descriptor(rules[rid]) for rid in _rule_ids(result)],
                    }
                },
                "originalUriBaseIds": {"%SRCROOT%": {"uri": Path(root or Path.cwd()).resolve().as_uri() + "/"}},
                "columnKind": "unicodeCodePoints",
                "results": [],
            }
        ],
    }


def _rule_ids(result: Result) -> list[str]:
    return sorted(set(result.rules) | {f.rule for f in result.findings})


def _results(result: Result, root: str | None) -> Iterator[dict[str, Any]]:
    """One SARIF result per finding, made as it is written: the log is never held whole."""
    index = {rid: i for i, rid in enumerate(_rule_ids(result))}
    artifacts: dict[str, dict[str, Any]] = {}  # findings come file by file: one location object per file
    for f in result.findings:
        location: dict[str, Any] = {}
        if f.span.line:
            region = {
                "startLine": f.span.line,
                "startColumn": f.span.column,
                "endLine": f.span.end_line,
                "endColumn": max(f.span.end_column, f.span.column + 1)
                if f.span.end_line == f.span.line
                else f.span.end_column,
            }
            artifact = artifacts.get(f.span.path)
            if artifact is None:
                artifact = artifacts[f.span.path] = _artifact(f.span.path, root)
            physical: dict[str, Any] = {"artifactLocation": artifact, "region": region}
            if not f.sensitive:  # a secret's line is never quoted
                _add_snippets(result, f.span.path, f.span.line, physical)
            location["physicalLocation"] = physical
        else:  # a host or GPU that live mode read: a resource, not a file
            location["logicalLocations"] = [{"fullyQualifiedName": f.span.path, "kind": "resource"}]
        if f.logical:
            location["logicalLocations"] = [{"fullyQualifiedName": f.logical, "kind": "object"}]
        entry: dict[str, Any] = {
            "ruleId": f.rule,
            "ruleIndex": index[f.rule],
            "level": _LEVEL[f.severity],
            "message": {"text": _sentence(f.message + (f" Help: {f.fix}" if f.fix else ""))},
            "locations": [location],
            "partialFingerprints": {"mllint/v1": f.fingerprint_key},
        }
        if f.suppressed is not None:
            entry["suppressions"] = [
                {"kind": f.suppression_kind, "status": "accepted", "justification": f.suppressed or "no reason given"}
            ]
        yield entry


def _add_snippets(result: Result, path: str, line: int, physical: dict[str, Any]) -> None:
    """The offending line as the region's snippet, and the lines around it as its context (a proper
    superset of the region, as SARIF requires)."""
    text = result.source_line(path, line)
    if not text or not text.strip() or len(text) > SNIPPET_LIMIT:  # a minified line is no snippet
        return
    region = physical["region"]
    physical["region"]["snippet"] = {"text": text}
    first = max(1, line - 2)
    hidden = getattr(result.texts, "hidden", None)
    if hidden is not None and any(hidden(path, n) for n in range(first, max(line + 2, region["endLine"]) + 1)):
        return  # no context around a line that holds a secret
    lines: list[str] = []
    number = first
    while number <= max(line + 2, region["endLine"]):
        current = result.source_line(path, number)
        if current is None:
            break
        if len(current) > SNIPPET_LIMIT:
            return  # no context of a minified line
        lines.append(current)
        number += 1
    last = first + len(lines) - 1
    if region["endLine"] > last:  # a block that ends with the file: end at its last character
        region["endLine"], region["endColumn"] = last, len(lines[-1]) + 1
    if region["startLine"] == region["endLine"] and region["endColumn"] <= region["startColumn"]:
        region["endColumn"] = region["startColumn"] + 1
    if len(lines) > 1:
        physical["contextRegion"] = {
            "startLine": first,
            "startColumn": 1,
            "endLine": last,
            "endColumn": len(lines[-1]) + 1,
            "snippet": {"text": "\n".join(lines)},
        }


def _uri(path: str) -> str:
    return quote(path, safe="/")


def _artifact(path: str, root: str | None) -> dict[str, Any]:
    """A file under the project root by a relative URI against %SRCROOT%; any other by its absolute file URI."""
    rel, inside = rooted(path, root)
    if inside:
        return {"uri": _uri(rel), "uriBaseId": "%SRCROOT%"}
    return {"uri": "file://" + _uri(rel if rel.startswith("/") else "/" + rel)}


def render(result: Result, color: bool = False, verbose: bool = False, root: str | None = None) -> str:
    return "".join(chunks(result, color, verbose, root))


def chunks(result: Result, color: bool = False, verbose: bool = False, root: str | None = None) -> Iterator[str]:
    """The log as `json.dumps(document, indent=2)` writes it, a result at a time."""
    return streamed(_frame(result, root), ("runs", 0, "results"), _results(result, root))
