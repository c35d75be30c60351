"""The compact rule index (`mllint/rule_index.json`): current, equal to the YAMLs, and ignored when stale."""

from __future__ import annotations

import shutil

import pytest

from mllint import registry, rule_index
from mllint.data import rules_dir


def test_the_committed_index_is_current():
    assert rule_index.load(rules_dir()) is not None, (
        "mllint/rule_index.json is stale: run `python -m mllint.dev compile-rules` after changing rule metadata"
    )


def test_the_index_gives_the_rules_the_yamls_give():
    fast, slow = registry.builtin(), registry.from_yaml()
    assert list(fast) == list(slow)
    for rid, rule in fast.items():
        assert rule.meta == slow[rid].meta, rid
        assert getattr(rule.func, "module", None) == slow[rid].func.__module__, rid


def test_a_lazy_rule_binds_its_function_when_it_first_runs():
    from mllint import engine
    from mllint.options import Options

    result = engine.scan(["fixtures/ML102/bad-fractional.yaml"], Options(jobs=1, select=["ML102"]))
    assert {f.rule for f in result.findings} == {"ML102"}
    lazy = registry.builtin()["ML102"].func
    assert getattr(lazy, "func", None) is registry.from_yaml()["ML102"].func


def test_a_function_missing_from_its_module_is_a_registry_error():
    lazy = registry._LazyFunc("ML999", "mllint.checks.meta")
    with pytest.raises(registry.RegistryError, match="stale"):
        lazy(None, None)


def test_a_stale_index_is_ignored(tmp_path):
    copy = tmp_path / "rules"
    shutil.copytree(rules_dir(), copy)
    assert rule_index.load(copy) is not None
    (copy / "gpu" / "ML102.yaml").write_text((copy / "gpu" / "ML102.yaml").read_text() + "\n# edited\n")
    assert rule_index.load(copy) is None
