"""Rule metadata (`rules/<family>/MLnnn.yaml`) bound to detection functions (`@rule("ML101")`).

Binding fails loudly: a rule whose metadata has no function, a function whose id has no metadata,
or a target the engine does not know is a bug that stops mllint before any scan.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import field
from functools import lru_cache
from types import MappingProxyType
from typing import Any

from mllint import rule_index
from mllint.data import rules_dir
from mllint.records import record

TARGETS = ("File", "Object", "ImageBuild", "Stage", "Workload", "PodSpec", "Container", "Project", "Host")
SEVERITIES = ("note", "warning", "error")

RuleFunc = Callable[..., Iterator[Any]]
_FUNCTIONS: dict[str, RuleFunc] = {}


class RegistryError(Exception):
    """Rule metadata and logic disagree: a bug in mllint itself."""


def rule(rule_id: str) -> Callable[[RuleFunc], RuleFunc]:
    def bind(func: RuleFunc) -> RuleFunc:
        if rule_id in _FUNCTIONS:
            raise RegistryError(f"{rule_id} is bound twice: {_FUNCTIONS[rule_id].__name__} and {func.__name__}")
        _FUNCTIONS[rule_id] = func
        return func

    return bind


class Params:
    """Read-only rule parameters, by attribute: `params.gpu_resources`."""

    def __init__(self, values: Mapping[str, Any]) -> None:
        object.__setattr__(self, "_values", MappingProxyType(dict(values)))

    def __getattr__(self, name: str) -> Any:
        try:
            return self._values[name]
        except KeyError:
            raise AttributeError(name) from None

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("rule parameters are read-only")


@record(frozen=True)
class RuleMeta:
    id: str
    name: str
    family: str
    targets: tuple[str, ...]
    severity: str
    summary: str
    description: str
    remediation: str
    enabled: bool
    tags: tuple[str, ...]
    parameters: Mapping[str, Any]
    examples: Mapping[str, str]
    security_severity: str | None
    source: str
    raw: Mapping[str, Any] = field(repr=False)
    preview: bool = False  # `status: preview`: runs only with --preview
    fix: str | None = None  # `fix: safe | unsafe`: its findings carry a mechanical fix (`mllint.fixing`)
    project_reads: tuple[str, ...] = ()  # the only facts its Project part reads (`ProjectFacts` lists)

    def defaults(self) -> dict[str, Any]:
        return {k: v.get("default") for k, v in self.parameters.items()}


@record(frozen=True)
class Rule:
    meta: RuleMeta
    func: RuleFunc


def load_metadata() -> list[dict[str, Any]]:
    from ruamel.yaml import YAML

    from mllint.yamlsrc import fast_resolver

    yaml = YAML(typ="safe", pure=False)
    fast_resolver(yaml)
    out = []
    for path in sorted(rules_dir().glob("*/ML*.yaml")):
        data = yaml.load(path.read_text(encoding="utf-8"))
        data["_source"] = f"{path.parent.name}/{path.name}"
        out.append(data)
    return out


def _meta(data: dict[str, Any]) -> RuleMeta:
    target = data["target"]
    return RuleMeta(
        id=data["id"],
        name=data["name"],
        family=data["family"],
        targets=tuple(target if isinstance(target, list) else [target]),
        severity=data["severity"],
        summary=data["summary"],
        description=data["description"].strip(),
        remediation=data["remediation"].strip(),
        enabled=data.get("enabled", True),
        tags=tuple(data.get("tags", ())),
        parameters=MappingProxyType(data.get("parameters") or {}),
        examples=MappingProxyType(data.get("examples") or {}),
        security_severity=data.get("security_severity"),
        source=data["_source"],
        raw=MappingProxyType(data),
        preview=data.get("status") == "preview",
        fix=data.get("fix"),
        project_reads=tuple(data.get("project_reads", ())),
    )


def table(custom: Mapping[str, Rule] | None = None) -> dict[str, Rule]:
    """Every rule a scan may run, by id: the built-in ones and a project's custom rules (`mllint.policy`)."""
    if not custom:
        return builtin()
    clash = set(custom) & set(builtin())
    if clash:
        raise RegistryError(f"custom rule ids clash with built-in rules: {sorted(clash)}")
    return dict(sorted({**builtin(), **custom}.items()))


def names(rules: Mapping[str, Rule]) -> dict[str, str]:
    """Rule id → name, what selectors are matched against."""
    return {rid: r.meta.name for rid, r in rules.items()}


class _LazyFunc:
    """A rule's function, imported when the rule first runs: a scan imports only the check modules it needs."""

    __slots__ = ("func", "module", "rule_id")

    def __init__(self, rule_id: str, module: str) -> None:
        self.rule_id = rule_id
        self.module = module
        self.func: RuleFunc | None = None

    def __call__(self, *args: Any) -> Iterator[Any]:
        func = self.func
        if func is None:
            importlib.import_module(self.module)
            func = self.func = _FUNCTIONS.get(self.rule_id)
            if func is None:
                raise RegistryError(f"rule {self.rule_id} is not bound in {self.module}: the rule index is stale")
        return func(*args)


@lru_cache(maxsize=1)
def builtin() -> dict[str, Rule]:
    """The rules mllint ships: metadata in `rules/<family>/`, logic in the package `mllint.checks.<family>`.

    From the compiled index (`mllint.rule_index`) while it matches the rule files, else from the YAMLs."""
    compiled = rule_index.load(rules_dir())
    if compiled is not None:
        rules = {}
        for entry in compiled:
            data = {key: value for key, value in entry.items() if key != "_module"}
            meta = _meta(data)
            rules[meta.id] = Rule(meta, _LazyFunc(meta.id, entry["_module"]))
        return dict(sorted(rules.items()))
    return from_yaml()


def from_yaml() -> dict[str, Rule]:
    """The rules read from their YAMLs and bound to every check module's functions, checked both ways."""
    metadata = load_metadata()
    for family in sorted({data["family"] for data in metadata}):
        _import_family(family)
    rules: dict[str, Rule] = {}
    for data in metadata:
        meta = _meta(data)
        func = _FUNCTIONS.get(meta.id)
        if func is None:
            raise RegistryError(f"rule {meta.id} ({meta.source}) has metadata but no @rule function")
        unknown = set(meta.targets) - set(TARGETS)
        if unknown:
            raise RegistryError(f"rule {meta.id} has unknown target(s) {sorted(unknown)}")
        if meta.severity not in SEVERITIES:
            raise RegistryError(f"rule {meta.id} has unknown severity {meta.severity!r}")
        if meta.fix not in (None, "safe", "unsafe"):
            raise RegistryError(f"rule {meta.id} has unknown fix {meta.fix!r} (safe or unsafe)")
        rules[meta.id] = Rule(meta, func)
    orphans = set(_FUNCTIONS) - set(rules)
    if orphans:
        raise RegistryError(f"@rule functions without metadata: {sorted(orphans)}")
    return dict(sorted(rules.items()))


def _import_family(family: str) -> None:
    """Import every module of `mllint.checks.<family>`, binding the `@rule` functions it holds."""
    import pkgutil

    package = importlib.import_module(f"mllint.checks.{family}")
    for module in pkgutil.iter_modules(package.__path__):
        importlib.import_module(f"{package.__name__}.{module.name}")
