"""Reading a settings file (the configuration, a custom rule) so that each mistake names its file, line and key."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any


class ConfigError(Exception):
    """A mistake in a configuration file: names the file, line and key."""


Locator = Any  # (path parts) -> (line, column)


def load_yaml(path: Path, text: str) -> tuple[dict[str, Any], Locator]:
    from mllint import yamlsrc as y

    diagnostics: list[Any] = []
    docs = y.compose(str(path), text, diagnostics)
    if diagnostics:
        d = diagnostics[0]
        raise ConfigError(f"{path}:{d.span.line}:{d.span.column}: {d.message}")
    root = docs[0].root if docs else None
    if root is None or (y.is_scalar(root) and y.text(root) is None):
        return {}, lambda parts: (1, 1)

    def plain(node: Any, inside: frozenset[int] = frozenset()) -> Any:
        if id(node) in inside or len(inside) > 64:  # an alias that contains itself, or nesting past any need
            mark = node.start_mark
            raise ConfigError(f"{path}:{mark.line + 1}:{mark.column + 1}: an alias refers to a node that contains it")
        if y.is_map(node):
            return {k: plain(v, inside | {id(node)}) for k, _kn, v in y.items(node)}
        if y.is_seq(node):
            return [plain(v, inside | {id(node)}) for v in node.value]
        return y.typed(node)

    def locate(parts: list[Any], at_key: bool = False) -> tuple[int, int]:
        node, key_node = root, None
        for part in parts:
            if y.is_map(node):
                item = y.get_item(node, str(part))
                if item is None:
                    break
                key_node, node = item
            elif y.is_seq(node) and isinstance(part, int) and part < len(node.value):
                key_node, node = None, node.value[part]
            else:
                break
        at = key_node if key_node is not None and at_key else node
        return at.start_mark.line + 1, at.start_mark.column + 1

    return plain(root), locate


def schema_error(path: Path, error: Any, prefix: list[Any], locate: Locator, allowed: str) -> ConfigError:
    """A schema error as `file:line:col: key.path: message`, pointing at the unknown key or the bad value."""
    parts = prefix + list(error.absolute_path)
    if error.validator == "additionalProperties":
        unknown = re.findall(r"'([^']+)'", error.message.split(" were unexpected")[0].split(" was unexpected")[0])
        parts = parts + unknown[:1]
        line, column = locate(parts, True)
        message = f"unknown key {unknown[0]!r}; allowed: {allowed or 'none'}" if unknown else error.message
    else:
        line, column = locate(parts)
        message = error.message
    return ConfigError(f"{path}:{line}:{column}: {'.'.join(map(str, parts)) or '(top level)'}: {message}")
