"""Configuration: `.mllint.yaml`, or `[tool.mllint]` in `pyproject.toml`, found upward from the scanned
path or given with `--config`; validated against `schemas/config.schema.json`."""

from __future__ import annotations

import json
import re
import sys
from dataclasses import field
from functools import lru_cache
from pathlib import Path
from typing import Any

from mllint.configfile import ConfigError, Locator, load_yaml, schema_error
from mllint.data import schema_path
from mllint.records import record
from mllint.registry import Rule, names, table
from mllint.selectors import exact, resolve, unknown_message

__all__ = ["Config", "ConfigError", "find", "load", "project_root", "rule_params", "schema"]

YAML_NAMES = (".mllint.yaml", ".mllint.yml")


@record
class Config:
    path: Path | None = None  # None: no file found, defaults
    values: dict[str, Any] = field(default_factory=dict)
    home: Path | None = None  # without a file: the folder whose `.mllint/rules` was found
    rule_files: tuple[str, ...] = ()  # the custom rule files this configuration uses
    custom: dict[str, Rule] = field(default_factory=dict)  # their rules, by id

    @property
    def rules(self) -> dict[str, Rule]:
        """Every rule a scan with this configuration may run: built-in and custom."""
        return table(self.custom)

    def get(self, key: str, default: Any = None) -> Any:
        return self.values.get(key, default)

    @property
    def root(self) -> Path:
        return self.path.parent if self.path else self.home or Path.cwd()


@lru_cache(maxsize=1)
def schema() -> dict[str, Any]:
    return json.loads(schema_path("config.schema.json").read_text(encoding="utf-8"))


def _folder_of(start: str | Path) -> Path:
    """The folder a search upward from `start` begins in; a symlink loop is searched from its own folder."""
    import os

    try:
        here = Path(start).resolve()
    except (OSError, RuntimeError):  # a symlink loop
        here = Path(os.path.abspath(start))
    return here.parent if here.is_file() or not here.is_dir() else here


def find(start: str | Path) -> Path | None:
    """The nearest `.mllint.yaml`, or `pyproject.toml` with a [tool.mllint] table, from `start` upward."""
    here = _folder_of(start)
    for folder in (here, *here.parents):
        for name in YAML_NAMES:
            if (folder / name).is_file():
                return folder / name
        pyproject = folder / "pyproject.toml"
        if pyproject.is_file() and re.search(r"^\s*\[tool\.mllint[\].]", _read(pyproject), re.M):
            return pyproject
    return None


def project_root(paths: list[str] | tuple[str, ...], config: Config | None = None) -> Path:
    """The folder the project's paths are relative to, decided once per run: the folder of the configuration
    file, else the git repository that holds the first path, else the common parent of the paths."""
    if config is not None and config.path is not None:
        return config.path.parent.resolve()
    import os

    folders = [_folder_of(p) for p in paths if p != "-"] or [Path.cwd().resolve()]
    for folder in (folders[0], *folders[0].parents):
        if (folder / ".git").exists():
            return folder
    try:
        return Path(os.path.commonpath([str(f) for f in folders]))
    except ValueError:  # pragma: no cover - paths on different drives
        return Path.cwd().resolve()


def repository_root(root: Path) -> Path:
    """The git repository that holds the project root, else the project root: what repository-wide reports
    (SARIF for code scanning, GitLab Code Quality) are relative to, since both services resolve paths from the
    top of the repository even when the configuration lives in a subfolder."""
    return next((folder for folder in (root, *root.parents) if (folder / ".git").exists()), root)


def find_rules_home(start: str | Path) -> Path | None:
    """Without a configuration file: the nearest folder upward from `start` that has `.mllint/rules`."""
    from mllint.policy import DEFAULT_FOLDER

    here = _folder_of(start)
    return next((folder for folder in (here, *here.parents) if (folder / DEFAULT_FOLDER).is_dir()), None)


def load(path: str | Path | None, start: str | Path = ".", _seen: tuple[Path, ...] = ()) -> Config:
    """Load and validate the configuration at `path`, or the one found from `start`; defaults when none.
    The custom rules it names (or `.mllint/rules` beside it) are loaded and validated with it."""
    found = Path(path) if path else find(start)
    if found is None:
        config = Config(home=find_rules_home(start))
        _load_custom(config, lambda parts, at_key=False: (1, 1))
        return config
    if not found.is_file():
        raise ConfigError(f"{found}: no such configuration file")
    text = _read(found)
    if found.name == "pyproject.toml":
        values, locate = _toml(found, text)
    else:
        values, locate = load_yaml(found, text)
    _validate_schema(found, values, locate)
    own = values
    if "extend" in values:
        values = _extend(found, values, locate, _seen)
    config = Config(found, values)
    _load_custom(config, locate)
    _validate_selectors(found, own, locate, names(config.rules))
    _validate_rule_params(found, own.get("rules") or {}, locate, config.rules)
    return config


_MERGED = ("severity", "rules", "per-path-ignores", "images", "roles")  # mappings merged key by key by `extend`


def _extend(path: Path, values: dict[str, Any], locate: Locator, seen: tuple[Path, ...]) -> dict[str, Any]:
    """`values` over the configuration its `extend` names; that file's paths stay relative to it."""
    base_path = (path.parent / values["extend"]).resolve()
    if base_path in seen or base_path == path.resolve():
        line, column = locate(["extend"], False)
        raise ConfigError(f"{path}:{line}:{column}: extend: {values['extend']} extends this file again (a loop)")
    if not base_path.is_file():
        line, column = locate(["extend"], False)
        raise ConfigError(f"{path}:{line}:{column}: extend: {base_path}: no such configuration file")
    base = load(base_path, _seen=(*seen, path.resolve())).values
    merged = {k: v for k, v in base.items() if k != "extend"}
    for key in ("baseline",):  # a path of the base file: relative to it
        if key in merged and key not in values:
            merged[key] = str(base_path.parent / merged[key])
    if "custom-rules" in merged and "custom-rules" not in values:
        merged["custom-rules"] = [str(base_path.parent / folder) for folder in merged["custom-rules"]]
    for key, value in values.items():
        if key == "extend":
            continue
        if key in _MERGED and isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = {**merged[key], **value}
        else:
            merged[key] = value
    return merged


def _load_custom(config: Config, locate: Locator) -> None:
    from mllint import policy

    try:
        files = policy.rule_files(policy.folders(config.root, config.get("custom-rules")))
    except ConfigError as exc:
        line, column = locate(["custom-rules"], True)
        raise ConfigError(f"{config.path}:{line}:{column}: custom-rules: {exc}" if config.path else str(exc)) from None
    config.rule_files = tuple(str(f) for f in files)
    config.custom = policy.load_files(config.rule_files)


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read: {exc}") from None


def _toml(path: Path, text: str) -> tuple[dict[str, Any], Locator]:
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - Python 3.10
        import tomli as tomllib
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: {exc}") from None
    values = data.get("tool", {}).get("mllint", {})
    lines = text.splitlines()

    def locate(parts: list[Any], at_key: bool = False) -> tuple[int, int]:
        """The line of the deepest key found under [tool.mllint] (TOML parsers keep no positions)."""
        best = next((i for i, line in enumerate(lines) if re.match(r"\s*\[tool\.mllint[\].]", line)), 0)
        for part in (p for p in parts if isinstance(p, str)):
            pattern = re.compile(
                rf"^\s*(\"{re.escape(part)}\"|'{re.escape(part)}'|{re.escape(part)})\s*=|"
                rf"^\s*\[tool\.mllint(\.[^\]]*)?\.\"?{re.escape(part)}\"?[\].]"
            )
            hit = next((i for i in range(best, len(lines)) if pattern.search(lines[i])), None)
            if hit is None:
                break
            best = hit
        column = len(lines[best]) - len(lines[best].lstrip()) + 1 if lines else 1
        return best + 1, column

    return values, locate


def _validate_schema(path: Path, values: dict[str, Any], locate: Locator) -> None:
    import jsonschema

    validator = jsonschema.Draft202012Validator(schema())
    errors = sorted(validator.iter_errors(values), key=lambda e: list(map(str, e.absolute_path)))
    if errors:
        raise schema_error(path, errors[0], [], locate, ", ".join(sorted(schema()["properties"])))


def _validate_selectors(path: Path, values: dict[str, Any], locate: Locator, known: dict[str, str]) -> None:
    """Every rule selector in the file must name at least one rule: a typo would silently do nothing."""
    places: list[tuple[list[Any], str, bool]] = []
    for key in ("select", "extend-select", "ignore"):
        places += [([key, i], sel, False) for i, sel in enumerate(values.get(key) or [])]
    places += [(["severity", sel], sel, True) for sel in values.get("severity") or {}]
    for glob, sels in (values.get("per-path-ignores") or {}).items():
        places += [(["per-path-ignores", glob, i], sel, False) for i, sel in enumerate(sels)]
    for parts, sel, at_key in places:
        if not resolve(sel, known):
            line, column = locate(parts, at_key)
            raise ConfigError(f"{path}:{line}:{column}: {'.'.join(map(str, parts))}: {unknown_message(sel, known)}")


def _validate_rule_params(path: Path, rules: dict[str, Any], locate: Locator, known: dict[str, Rule]) -> None:
    import jsonschema

    for selector, params in rules.items():
        rule_id = exact(selector, names(known))
        if rule_id is None:
            line, column = locate(["rules", selector], True)
            raise ConfigError(f"{path}:{line}:{column}: rules.{selector}: name one rule by id or name")
        rule = known[rule_id]
        spec = {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                k: {kk: vv for kk, vv in v.items() if kk not in ("default", "description")}
                for k, v in rule.meta.parameters.items()
            },
        }
        for error in jsonschema.Draft202012Validator(spec).iter_errors(params):
            raise schema_error(path, error, ["rules", selector], locate, ", ".join(rule.meta.parameters))


def rule_params(config: Config) -> dict[str, dict[str, Any]]:
    """Parameters by rule id (names resolved)."""
    known = names(config.rules)
    out: dict[str, dict[str, Any]] = {}
    for selector, params in (config.get("rules") or {}).items():
        rule_id = exact(selector, known)
        if rule_id is not None:
            out.setdefault(rule_id, {}).update(params)
    return out
