"""Facts that the schemas (data) and the code both list must agree: the code's list is the one place,
and the schemas are checked against it."""

from __future__ import annotations

import json

from conftest import ROOT
from mllint import engine
from mllint.model import SourceFile
from mllint.registry import TARGETS
from mllint.views import VIEW_TARGETS


def _schema(name: str) -> dict:
    return json.loads((ROOT / "schemas" / name).read_text(encoding="utf-8"))


def test_rule_targets_are_listed_once() -> None:
    assert tuple(_schema("rule.schema.json")["$defs"]["target"]["enum"]) == TARGETS
    assert tuple(_schema("policy.schema.json")["properties"]["target"]["enum"]) == VIEW_TARGETS
    assert set(VIEW_TARGETS) <= set(TARGETS)


def test_the_engine_offers_every_per_file_target() -> None:
    from mllint.loader import parse

    text = (ROOT / "examples" / "ml-platform" / "k8s" / "pytorchjob.yaml").read_bytes()
    file = parse("pytorchjob.yaml", "kubernetes", text)
    docker = parse("Dockerfile", "dockerfile", b"FROM python:3.11-slim\nRUN true\n")
    assert isinstance(file, SourceFile) and isinstance(docker, SourceFile)
    offered = {kind for f in (file, docker) for kind, _target, _workload in engine._targets(f)}
    assert offered == set(TARGETS) - {"Project", "Host"}  # those two run once per scan, not per file


def test_every_family_has_its_package_of_checks() -> None:
    families = _schema("rule.schema.json")["properties"]["family"]["enum"]
    packages = sorted(p.name for p in (ROOT / "mllint" / "checks").iterdir() if (p / "__init__.py").is_file())
    assert sorted(families) == packages
