"""Rule documentation, generated from the metadata: `mllint rules`, `mllint explain`, docs/rules.md."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from typing import Any

from mllint.data import data_root
from mllint.registry import Rule, builtin


def _example(path: str) -> str:
    """The example's text; a directory example (a cross-file case) shows each file under its name."""
    root = data_root() / path
    try:
        if root.is_dir():
            files = sorted(p for p in root.rglob("*") if p.is_file())
            return "\n\n".join(
                f"# {p.relative_to(root).as_posix()}\n" + p.read_text(encoding="utf-8").rstrip() for p in files
            )
        if root.suffix == ".json":  # a live-mode example names the fake host it reads
            host = root.parent / json.loads(root.read_text(encoding="utf-8"))["host"]
            return host.read_text(encoding="utf-8").rstrip()
        return root.read_text(encoding="utf-8").rstrip()
    except OSError:
        return f"({path} is not installed)"


def _lang(path: str) -> str:
    return "dockerfile" if "ockerfile" in path else "json" if path.endswith(".json") else "yaml"


def _severity(rule: Rule) -> str:
    """The default severity, and whether the rule runs by default."""
    return rule.meta.severity + ("" if rule.meta.enabled else " (opt-in)") + (" (preview)" if rule.meta.preview else "")


def _fix(rule: Rule) -> str:
    """Whether the rule's findings carry a fix: `safe`, `unsafe` (applied only with --unsafe-fixes), or none."""
    return rule.meta.fix or ""


def table(rules: Mapping[str, Rule] | None = None) -> str:
    head = ("ID", "NAME", "SEVERITY", "FIX", "SUMMARY")
    rows = [(r.meta.id, r.meta.name, _severity(r), _fix(r), r.meta.summary) for r in (rules or builtin()).values()]
    widths = [max(len(row[i]) for row in [*rows, head]) for i in range(4)]
    lines = []
    for row in [head, *rows]:
        lines.append("  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row[:4])) + "  " + row[4])
    return "\n".join(lines) + "\n"


DOCS_URI = "https://github.com/mllint/mllint/blob/main/docs/rules.md"


def rule_url(rule: Rule) -> str | None:
    """Where a rule is documented: its `help_uri`, or its section of docs/rules.md (a custom rule has none)."""
    if rule.meta.raw.get("help_uri"):
        return str(rule.meta.raw["help_uri"])
    if rule.meta.family == "custom":
        return None
    return f"{DOCS_URI}#{rule.meta.id.lower()}-{rule.meta.name}"


def as_json(rules: Mapping[str, Rule] | None = None) -> str:
    data: list[dict[str, Any]] = []
    for r in (rules or builtin()).values():
        item = {k: v for k, v in r.meta.raw.items() if not k.startswith("_")}
        # what a scan does with it by default, and its parameters with their defaults
        item["enabled"] = r.meta.enabled
        item["preview"] = r.meta.preview
        item["parameters"] = {name: dict(spec) for name, spec in r.meta.parameters.items()}
        item["url"] = rule_url(r)
        data.append(item)
    return json.dumps(data, indent=2) + "\n"


def rule_markdown(rule: Rule, level: int = 2) -> str:
    m = rule.meta
    h = "#" * level
    parts = [
        f"{h} {m.id} {m.name}",
        "",
        f"**{m.summary}.** Severity: `{m.severity}`"
        + ("" if m.enabled else " (off by default: enable with `--extend-select " + m.id + "`)")
        + (" (preview: runs only with `--preview`)" if m.preview else "")
        + f". Applies to: {', '.join(m.targets)}. Tags: {', '.join(m.tags)}."
        + _fix_sentence(m.fix),
        "",
        m.description,
        "",
        f"**How to fix.** {m.remediation}",
        "",
    ]
    if m.parameters:
        parts += ["**Parameters.**", ""]
        for name, spec in m.parameters.items():
            parts.append(f"- `{name}` (default `{json.dumps(spec.get('default'))}`): {spec.get('description', '')}")
        parts.append("")
    for label, key in (("Bad", "bad"), ("Good", "good")):
        path = m.examples.get(key)
        if path:
            shown = os.path.relpath(path) if os.path.isabs(path) else path  # a custom rule's example
            parts += [f"{label} (`{shown}`):", "", f"```{_lang(path)}", _example(path), "```", ""]
    return "\n".join(parts)


def _fix_sentence(fix: str | None) -> str:
    if fix == "safe":
        return " Fix: safe (`mllint scan --fix`)."
    if fix == "unsafe":
        return " Fix: unsafe (it changes behaviour: `mllint scan --fix --unsafe-fixes`)."
    return ""


def markdown(table_: Mapping[str, Rule] | None = None) -> str:
    rules = list((table_ or builtin()).values())
    head = [
        "# mllint rules",
        "",
        "Generated from `rules/` by `mllint rules --format markdown`; do not edit by hand.",
        "",
        "| ID | Name | Severity | Fix | Summary |",
        "|---|---|---|---|---|",
    ]
    for r in rules:
        anchor = f"{r.meta.id.lower()}-{r.meta.name}"
        head.append(f"| [{r.meta.id}](#{anchor}) | `{r.meta.name}` | {_severity(r)} | {_fix(r)} | {r.meta.summary} |")
    return "\n".join(head) + "\n\n" + "\n".join(rule_markdown(r) for r in rules)


_EXPECT = re.compile(r"\s*#\s*expect:\s*ML\d{3}(?:@\d+)?(?:\s*,\s*ML\d{3}(?:@\d+)?)*\s*$")


def explain_text(rule: Rule) -> str:
    """The rule's documentation for a terminal, without the fixtures' `# expect:` markers."""
    lines = []
    for line in rule_markdown(rule, level=1).splitlines():
        stripped = _EXPECT.sub("", line)
        if stripped.strip() or not line.strip():  # a line that was only a marker goes
            lines.append(stripped)
    return "\n".join(lines)
