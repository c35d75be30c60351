"""Registry, metadata, fixtures and docs stay in sync."""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import jsonschema
import pytest
from ruamel.yaml import YAML

from conftest import FIXTURES, ROOT
from mllint import docs
from mllint.__main__ import main
from mllint.dev import FAMILY_DIGIT
from mllint.registry import TARGETS, builtin, from_yaml, load_metadata

SCHEMA = json.loads((ROOT / "schemas" / "rule.schema.json").read_text())
METADATA = load_metadata()
RULE_IDS = sorted(builtin())


def test_there_is_metadata_to_check() -> None:
    """The parametrized tests below pass vacuously on an empty list."""
    assert len(METADATA) == len(list((ROOT / "rules").glob("*/ML*.yaml"))) > 0


def test_families_are_the_schema_s_in_digit_order() -> None:
    """The family → digit table (mllint.dev, which the scaffold uses) lists the schema's families in order."""
    assert list(FAMILY_DIGIT) == SCHEMA["properties"]["family"]["enum"]
    assert list(FAMILY_DIGIT.values()) == [str(digit) for digit in range(len(FAMILY_DIGIT))]


@pytest.mark.parametrize("data", METADATA, ids=lambda d: d["id"])
def test_metadata_is_valid(data: dict) -> None:
    body = {k: v for k, v in data.items() if k != "_source"}
    jsonschema.Draft202012Validator(SCHEMA).validate(body)
    folder, filename = data["_source"].split("/")
    assert filename == f"{data['id']}.yaml", f"{data['_source']} holds {data['id']}"
    assert folder == data["family"], f"{data['id']} is in rules/{folder}/ but its family is {data['family']}"
    assert data["id"][2] == FAMILY_DIGIT[data["family"]], (
        f"{data['id']}'s hundreds digit is not {data['family']}'s ({FAMILY_DIGIT[data['family']]})"
    )


@pytest.mark.parametrize("data", METADATA, ids=lambda d: d["id"])
def test_parameter_defaults_validate(data: dict) -> None:
    """Each parameter's default is valid against the JSON schema the parameter declares (its type, items, enum)."""
    for name, spec in (data.get("parameters") or {}).items():
        schema = {k: v for k, v in spec.items() if k not in ("default", "description")}
        assert schema, f"{data['id']} parameter {name!r} declares no schema (e.g. `type:`) to check values against"
        jsonschema.Draft202012Validator.check_schema(schema)
        errors = list(jsonschema.Draft202012Validator(schema).iter_errors(spec["default"]))
        assert not errors, f"{data['id']} parameter {name!r}: default {spec['default']!r}: {errors[0].message}"


def test_ids_and_names_are_unique() -> None:
    for key in ("id", "name"):
        repeated = sorted(value for value, n in Counter(d[key] for d in METADATA).items() if n > 1)
        assert not repeated, f"{key}s used by more than one rule: {repeated}"


def test_every_rule_is_bound() -> None:
    """Every metadata file has its function, and every rule the registry offers has its metadata."""
    rules = builtin()
    assert set(rules) == {d["id"] for d in METADATA}
    for rule in rules.values():
        assert callable(rule.func), rule.meta.id
        assert rule.meta.targets and set(rule.meta.targets) <= set(TARGETS), rule.meta.id


@pytest.mark.parametrize("rule_id", RULE_IDS)
def test_rule_logic_lives_in_its_family_s_package(rule_id: str) -> None:
    rule = from_yaml()[rule_id]  # bound as the YAMLs and the check modules say (the index keeps the module name)
    package = f"mllint.checks.{rule.meta.family}."
    assert rule.func.__module__.startswith(package), (
        f"{rule_id} ({rule.meta.family}) is bound in {rule.func.__module__}, not in the package {package.rstrip('.')}"
    )


def _own_fixtures(rule_id: str) -> list[Path]:
    """The rule's cases as the fixture harness collects them: fixtures/MLnnn/bad-* and ok-*."""
    folder = FIXTURES / rule_id
    return sorted(p for p in folder.iterdir() if p.name.startswith(("bad-", "ok-"))) if folder.is_dir() else []


@pytest.mark.parametrize("rule_id", RULE_IDS)
def test_rule_has_fixtures_and_examples(rule_id: str) -> None:
    """Each rule has a bad and an ok fixture, and its examples are two of them: `bad` a bad-*, `good` an ok-*."""
    names = [p.name for p in _own_fixtures(rule_id)]
    assert any(n.startswith("bad-") for n in names), f"{rule_id} needs a bad-* fixture"
    assert any(n.startswith("ok-") for n in names), f"{rule_id} needs an ok-* fixture"
    examples = builtin()[rule_id].meta.examples
    assert set(examples) == {"bad", "good"}, f"{rule_id} examples: {dict(examples)}"
    own = {p.relative_to(ROOT).as_posix() for p in _own_fixtures(rule_id)}
    for key, prefix in (("bad", "bad-"), ("good", "ok-")):
        path = examples[key]
        assert (ROOT / path).exists(), f"{rule_id} example {path} does not exist"
        assert path in own, f"{rule_id}'s {key} example {path} is not one of its own fixtures ({sorted(own)})"
        assert Path(path).name.startswith(prefix), f"{rule_id}'s {key} example {path} is not a {prefix}* fixture"


def test_preview_rules_are_marked_preview_by_mllint_rules(capsys: pytest.CaptureFixture[str]) -> None:
    """`status: preview` in the metadata is what the registry and the `mllint rules` table call preview."""
    assert main(["rules", "--builtin"]) == 0
    rows = {line.split()[0]: line for line in capsys.readouterr().out.splitlines()[1:] if line.strip()}
    assert set(rows) == {d["id"] for d in METADATA}
    for data in METADATA:
        preview = data.get("status") == "preview"
        assert builtin()[data["id"]].meta.preview == preview, data["id"]
        assert ("(preview)" in rows[data["id"]]) == preview, f"status {data.get('status')!r}: {rows[data['id']]}"


def test_docs_are_current() -> None:
    assert (ROOT / "docs" / "rules.md").read_text(encoding="utf-8") == docs.markdown(), (
        "docs/rules.md is stale: run `mllint rules --format markdown > docs/rules.md`"
    )


@pytest.mark.parametrize("rule_id", RULE_IDS)
def test_rule_docs_show_their_examples(rule_id: str) -> None:
    """`mllint explain` shows the rule under its heading with both examples, none of them missing."""
    rule = builtin()[rule_id]
    text = docs.explain_text(rule)
    assert re.search(rf"^# {rule_id} {re.escape(rule.meta.name)}$", text, re.M)
    assert "is not installed" not in text
    for label, key in (("Bad", "bad"), ("Good", "good")):
        assert f"{label} (`{rule.meta.examples[key]}`):" in text, f"{rule_id}: no {label.lower()} example shown"


def test_rules_yaml_loads_with_safe_loader() -> None:
    yaml = YAML(typ="safe", pure=True)
    paths = sorted((ROOT / "rules").glob("*/*.yaml"))
    assert len(paths) == len(METADATA)
    for path in paths:
        assert isinstance(yaml.load(path.read_text()), dict), path
