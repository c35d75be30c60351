"""The rule metadata in a compact form: `mllint/rule_index.json`, read in a few milliseconds at start-up.

Reading 80 rule YAMLs and importing every check module costs a one-file scan most of its time. The index holds
each rule's metadata as plain JSON, the module that holds its `@rule` function, and a digest of the rule files it
was compiled from. The registry uses it only while that digest matches the rule files on disk (a stale index is
ignored and the YAMLs are read as before), and imports a check module only when one of its rules first runs.

Regenerate after changing a rule's metadata or moving its function: `python -m mllint.dev compile-rules`
(a test fails while the committed index is stale).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from mllint.digests import blake2b

INDEX_PATH = Path(__file__).with_name("rule_index.json")
FORMAT = 1


def rule_files(root: Path) -> list[Path]:
    return sorted(root.glob("*/ML*.yaml"))


def digest(root: Path) -> str:
    """What the metadata was compiled from: every rule file's place and bytes."""
    h = blake2b(digest_size=16)
    for path in rule_files(root):
        data = path.read_bytes()
        h.update(f"{path.parent.name}/{path.name}\0{len(data)}\0".encode())
        h.update(data)
    return h.hexdigest()


def load(root: Path) -> list[dict[str, Any]] | None:
    """The compiled metadata (each rule's YAML data plus `_module`), or None when missing, foreign or stale."""
    try:
        index = json.loads(INDEX_PATH.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(index, dict) or index.get("format") != FORMAT or index.get("digest") != digest(root):
        return None
    rules = index.get("rules")
    return rules if isinstance(rules, list) else None


def render(root: Path, metadata: list[dict[str, Any]], modules: dict[str, str]) -> str:
    """The index file's text for `metadata` (from the YAMLs) and the module of each rule's function."""
    rules = [{**data, "_module": modules[data["id"]]} for data in metadata]
    return json.dumps({"format": FORMAT, "digest": digest(root), "rules": rules}, sort_keys=True, indent=0) + "\n"
