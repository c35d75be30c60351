"""Registry, metadata, fixtures and docs stay in sync."""

from __future__ import annotations

import json
import re

import jsonschema
import pytest
from ruamel.yaml import YAML

from conftest import FIXTURES, ROOT
from mllint import docs
from mllint.registry import TARGETS, load_metadata, registry

FAMILY_DIGIT = {"meta": "0", "gpu": "1", "cuda": "2", "pinning": "3", "build": "4", "reliability": "5",
                "tenancy": "6", "security": "7", "live": "8"}
SCHEMA = json.loads((ROOT / "schemas" / "rule.schema.json").read_text())
METADATA = load_metadata()


@pytest.mark.parametrize("data", METADATA, ids=lambda d: d["id"])
def test_metadata_is_valid(data: dict) -> None:
    body = {k: v for k, v in data.items() if k != "_source"}
    jsonschema.Draft202012Validator(SCHEMA).validate(body)
    folder, filename = data["_source"].split("/")
    assert filename == f"{data['id']}.yaml"
    assert folder == data["family"]
    assert data["id"][2] == FAMILY_DIGIT[data["family"]]


@pytest.mark.parametrize("data", METADATA, ids=lambda d: d["id"])
def test_parameter_defaults_validate(data: dict) -> None:
    for name, spec in (data.get("parameters") or {}).items():
        schema = {k: v for k, v in spec.items() if k not in ("default", "description")}
        jsonschema.validate(spec["default"], schema), name


def test_ids_and_names_are_unique() -> None:
    ids = [d["id"] for d in METADATA]
    names = [d["name"] for d in METADATA]
    assert len(ids) == len(set(ids)) and len(names) == len(set(names))


def test_every_rule_is_bound() -> None:
    rules = registry()
    assert set(rules) == {d["id"] for d in METADATA}
    for rule in rules.values():
        assert set(rule.meta.targets) <= set(TARGETS)


@pytest.mark.parametrize("rule_id", sorted(registry()))
def test_rule_has_fixtures_and_examples(rule_id: str) -> None:
    folder = FIXTURES / rule_id
    names = [p.name for p in folder.iterdir()] if folder.is_dir() else []
    assert any(n.startswith("bad-") for n in names), f"{rule_id} needs a bad-* fixture"
    assert any(n.startswith("ok-") for n in names), f"{rule_id} needs an ok-* fixture"
    for path in registry()[rule_id].meta.examples.values():
        assert (ROOT / path).exists(), f"{rule_id} example {path} does not exist"


def test_docs_are_current() -> None:
    assert (ROOT / "docs" / "rules.md").read_text(encoding="utf-8") == docs.markdown(), (
        "docs/rules.md is stale: run `mllint rules --format markdown > docs/rules.md`"
    )


def test_rule_docs_name_no_missing_fixture_text() -> None:
    for rule in registry().values():
        text = docs.explain_text(rule)
        assert "is not installed" not in text
        assert re.search(rf"^# {rule.meta.id} ", text, re.M)


def test_rules_yaml_loads_with_safe_loader() -> None:
    yaml = YAML(typ="safe", pure=True)
    for path in (ROOT / "rules").glob("*/*.yaml"):
        assert isinstance(yaml.load(path.read_text()), dict)
