"""Custom rules: a team's own policies as YAML files in `.mllint/rules/`.

Each file holds one rule: the metadata of a built-in rule, a `target` (Workload, PodSpec, Container,
ImageBuild, Stage), an optional `match` schema choosing which targets it applies to, and a `schema`
the target's view (`mllint.views`) must satisfy. Every schema error becomes a finding at the node
that failed. Files are validated against `schemas/policy.schema.json` with errors that name the file,
line and key.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from functools import cached_property, lru_cache
from pathlib import Path
from types import MappingProxyType
from typing import Any

from mllint.configfile import ConfigError, load_yaml, schema_error
from mllint.data import schema_path
from mllint.model import Finding
from mllint.records import record
from mllint.registry import Rule, RuleMeta, builtin
from mllint.schema_safety import local_registry, problems

DEFAULT_FOLDER = ".mllint/rules"
_DETAIL_MAX = 160


@lru_cache(maxsize=1)
def schema() -> dict[str, Any]:
    return json.loads(schema_path("policy.schema.json").read_text(encoding="utf-8"))


@record
class PolicyCheck:
    """A custom rule's logic: validate the target's view; each error is a finding at the failing node."""

    target: str
    schema: Any
    match: Any = None
    lead: str = ""
    fix: str | None = None  # the rule's remediation, as every finding's help

    @cached_property
    def _checker(self) -> Any:
        import jsonschema

        return jsonschema.Draft202012Validator(self.schema, registry=local_registry())

    @cached_property
    def _matcher(self) -> Any:
        import jsonschema

        if self.match is None:
            return None
        return jsonschema.Draft202012Validator(self.match, registry=local_registry())

    def __call__(self, target: Any, ctx: Any) -> Iterator[Finding]:
        from mllint import views

        data, view = views.build(self.target, target, ctx.workload, ctx.file, ctx.gpu_resources)
        if self._matcher is not None and not self._matcher.is_valid(data):
            return
        errors = sorted(self._checker.iter_errors(data), key=lambda e: [str(p) for p in e.absolute_path])
        for error in errors:
            path = tuple(error.absolute_path)
            about_object = self.target == "Workload" and path[:1] == ("object",)
            if about_object and not _first_role(target, ctx.file.workloads):
                continue  # the object's fields are shared by its roles (Master, Worker): report them once
            where = ".".join(str(p) for p in path)
            detail = f"{where}: {_detail(error)}" if where else _detail(error)
            who = _who(self.target, target, None if about_object else ctx.workload)
            yield Finding.at(view.at(path), f"{self.lead}: {who}: {detail}", fix=self.fix)


def _first_role(workload: Any, workloads: Sequence[Any]) -> bool:
    """Whether `workload` is the first role read from its object (a PyTorchJob's Master before its Worker)."""
    return next((w for w in workloads if w.node is workload.node), workload) is workload


def _detail(error: Any) -> str:
    """jsonschema's message, without a repr of a whole object or a long value."""
    text = error.message
    shown = repr(error.instance)
    if len(shown) > 60 and shown in text:
        text = text.replace(
            shown,
            "the "
            + (
                "object"
                if isinstance(error.instance, dict)
                else "list"
                if isinstance(error.instance, list)
                else "value"
            ),
        )
    return text if len(text) <= _DETAIL_MAX else text[: _DETAIL_MAX - 1] + "…"


def _who(target_type: str, target: Any, workload: Any) -> str:
    """The target as messages name it; `workload` None for a Workload's object-level fields (no role)."""
    if target_type == "Workload" and workload is None:
        return f"{target.kind} {target.name!r}"
    owner = f"{workload.kind} {workload.name!r}" if workload is not None else ""
    if workload is not None and workload.role:
        owner += f" ({workload.role_name})"
    if target_type == "Container":
        if workload is not None and workload.format == "compose":
            return f"service {target.name!r}"
        return f"container {target.name!r}" + (f" of {owner}" if owner else "")
    if target_type == "Stage":
        return f"stage {target.alias.text!r}" if target.alias else f"stage {target.index}"
    if target_type == "ImageBuild":
        return f"image build {target.path}"
    return owner or "pod"


def folders(root: Path, configured: Sequence[str] | None) -> list[Path]:
    """The folders of custom rules: those configured (`custom-rules`), else `.mllint/rules` if present."""
    if configured is not None:
        return [root / f for f in configured]
    default = root / DEFAULT_FOLDER
    return [default] if default.is_dir() else []


def rule_files(dirs: Sequence[Path]) -> list[Path]:
    files: list[Path] = []
    for folder in dirs:
        if not folder.is_dir():
            raise ConfigError(f"{folder}: custom rule folder not found")
        files += sorted(
            p for p in folder.glob("*") if p.suffix in (".yaml", ".yml") and p.is_file()
        )  # not subfolders: examples live there
    return files


@lru_cache(maxsize=8)
def load_files(files: tuple[str, ...]) -> dict[str, Rule]:
    """`load` once per process for the same files: the configuration, the engine and each worker ask."""
    return load([Path(f) for f in files])


def load(files: Sequence[Path]) -> dict[str, Rule]:
    """The custom rules in `files`, validated; ConfigError names the file, line and key of a mistake."""
    if not files:
        return {}
    import jsonschema

    rules: dict[str, Rule] = {}
    names = {r.meta.name: rid for rid, r in builtin().items()}
    for path in files:
        try:
            text = path.read_text(encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{path}: cannot read: {exc}") from None
        data, locate = load_yaml(path, text)
        errors = sorted(
            jsonschema.Draft202012Validator(schema()).iter_errors(data), key=lambda e: [str(p) for p in e.absolute_path]
        )
        if errors:
            raise schema_error(path, errors[0], [], locate, ", ".join(sorted(schema()["properties"])))
        for key in ("schema", "match"):
            if key in data:
                try:
                    jsonschema.Draft202012Validator.check_schema(data[key])
                except jsonschema.SchemaError as exc:
                    raise schema_error(path, exc, [key], locate, "") from None
                for where, why in problems(data[key]):
                    line, column = locate([key, *where])
                    raise ConfigError(f"{path}:{line}:{column}: {'.'.join(map(str, (key, *where)))}: {why}")
        rid, name = data["id"], data["name"]
        for taken, what in ((rid in builtin() or rid in rules, f"id {rid}"), (name in names, f"name {name!r}")):
            if taken:
                line, column = locate(["id" if what.startswith("id") else "name"])
                raise ConfigError(
                    f"{path}:{line}:{column}: {what} is already taken by rule {names.get(name, rid)}; choose another"
                )
        names[name] = rid
        rules[rid] = Rule(
            _meta(path, data),
            PolicyCheck(
                data["target"],
                data["schema"],
                data.get("match"),
                data.get("message") or data["summary"],
                data["remediation"].strip() or None,
            ),
        )
    return rules


def _meta(path: Path, data: dict[str, Any]) -> RuleMeta:
    examples = {k: str((path.parent / v).resolve()) for k, v in (data.get("examples") or {}).items()}
    return RuleMeta(
        id=data["id"],
        name=data["name"],
        family="custom",
        targets=(data["target"],),
        severity=data["severity"],
        summary=data["summary"],
        description=data["description"].strip(),
        remediation=data["remediation"].strip(),
        enabled=data.get("enabled", True),
        tags=tuple(data.get("tags", ())),
        parameters=MappingProxyType({}),
        examples=MappingProxyType(examples),
        security_severity=None,
        source=str(path),
        raw=MappingProxyType({k: v for k, v in data.items() if k not in ("schema", "match")} | {"family": "custom"}),
    )
