"""Hostile input is a clear finding or error, never a hang, a crash or a read outside the project. Each
input is generated here, not committed."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from mllint import config, engine
from mllint.configfile import ConfigError
from mllint.schema_safety import nested_repeat

POD = "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n    - {name: c, image: python:3.11}\n"
RULE = """\
id: ACME001
name: acme-check
target: Container
severity: warning
summary: A check of the team's own
description: A description of the team's own check, long enough for the schema.
remediation: Do what the team asks.
schema: SCHEMA
"""


def _mllint(*args: str, cwd: Path, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mllint", *args], cwd=cwd, capture_output=True, text=True, timeout=timeout
    )


def test_a_long_suppression_comment_is_read_in_linear_time(tmp_path: Path) -> None:
    (tmp_path / "pod.yaml").write_text(
        POD.replace("{name: p}", "{name: p}  # mllint: disable=ML301" + " " * 20000 + "x")
    )
    began = time.perf_counter()
    result = engine.scan([str(tmp_path / "pod.yaml")], engine.Options(jobs=1))
    assert time.perf_counter() - began < 10  # a backtracking pattern took minutes on this
    assert [f.rule for f in result.findings if f.rule == "ML007"] == ["ML007"]  # `ML301 ... x` names no rule


@pytest.mark.parametrize("text", ["select: &a [*a]\n", "a: &a {b: *a}\n"])
def test_a_configuration_alias_that_contains_itself_is_a_configuration_error(tmp_path: Path, text: str) -> None:
    (tmp_path / ".mllint.yaml").write_text(text)
    with pytest.raises(ConfigError, match=r"\.mllint\.yaml:1:\d+: an alias refers to a node that contains it"):
        config.load(tmp_path / ".mllint.yaml")
    (tmp_path / "pod.yaml").write_text(POD)
    done = _mllint("scan", "pod.yaml", cwd=tmp_path)
    assert done.returncode == 2 and "an alias refers to a node that contains it" in done.stderr


@pytest.mark.parametrize(
    ("schema", "why"),
    [
        ('{$ref: "http://127.0.0.1:9/schema.json"}', "points outside this rule file"),
        ('{$ref: "file:///etc/passwd"}', "points outside this rule file"),
        ('{properties: {x: {$dynamicRef: "https://example.com/s"}}}', "points outside this rule file"),
        ('{properties: {name: {pattern: "^(a+)+$"}}}', "repeats a repetition"),
        ('{patternProperties: {"(\\\\w+\\\\s?)*": {}}}', "repeats a repetition"),
    ],
)
def test_a_custom_rule_cannot_reach_out_or_backtrack(tmp_path: Path, schema: str, why: str) -> None:
    (tmp_path / ".mllint" / "rules").mkdir(parents=True)
    (tmp_path / ".mllint" / "rules" / "acme.yaml").write_text(RULE.replace("SCHEMA", schema))
    with pytest.raises(ConfigError, match=why):
        config.load(None, tmp_path)


def test_a_custom_rule_may_refer_inside_its_own_file(tmp_path: Path) -> None:
    schema = (
        '{$defs: {tagged: {properties: {image: {properties: {tag: {pattern: "^v[0-9]+$"}}}}}}, $ref: "#/$defs/tagged"}'
    )
    (tmp_path / ".mllint" / "rules").mkdir(parents=True)
    (tmp_path / ".mllint" / "rules" / "acme.yaml").write_text(RULE.replace("SCHEMA", schema))
    (tmp_path / "pod.yaml").write_text(POD)
    cfg = config.load(None, tmp_path)
    found = engine.scan(
        [str(tmp_path / "pod.yaml")], engine.Options(select=["ACME001"], jobs=1, rule_files=cfg.rule_files)
    ).findings
    assert (
        [f.rule for f in found] == ["ACME001"]
        and "'v[0-9]+'" in found[0].message
        or "does not match" in found[0].message
    )


@pytest.mark.parametrize(
    ("pattern", "nested"),
    [
        ("^(a+)+$", True),
        ("(a*)*", True),
        ("(a|b+)*", True),
        ("^(x{1,20})+$", True),
        ("(?=(a+)+)", True),
        ("^[a-z0-9-]+$", False),
        ("(ab){2,3}", False),
        ("^(?:a|b)*$", False),
        ("^v[0-9]+(\\.[0-9]+)*$", False),
    ],
)
def test_nested_repetition_is_recognised(pattern: str, nested: bool) -> None:
    assert nested_repeat(pattern) is nested


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs on this platform")
def test_pipes_devices_and_links_out_of_the_folder_are_never_read(tmp_path: Path) -> None:
    project, outside = tmp_path / "project", tmp_path / "outside"
    project.mkdir()
    outside.mkdir()
    (outside / "Dockerfile").write_text("FROM python:latest\n")
    (project / "pod.yaml").write_text(POD)
    os.mkfifo(project / "pipe.yaml")
    (project / "zero.yaml").symlink_to("/dev/zero")
    (project / "stdin.yaml").symlink_to("/proc/self/fd/0")
    (project / "elsewhere").symlink_to(outside, target_is_directory=True)
    (project / "inside").symlink_to(project / "pod.yaml")
    done = _mllint("scan", "project", "-v", "-f", "json", cwd=tmp_path, timeout=60)
    assert done.returncode in (0, 1), done.stderr
    import json

    report = json.loads(done.stdout)
    skipped = {s["path"]: s["reason"] for s in report["skipped"]}
    assert skipped["project/pipe.yaml"].startswith("not a regular file")
    assert (
        skipped["project/zero.yaml"] == skipped["project/stdin.yaml"] == "a link that leads outside the scanned folder"
    )
    assert skipped["project/elsewhere"] == "a link that leads outside the scanned folder"
    assert not [f for f in report["findings"] if "outside" in f["path"] or "elsewhere" in f["path"]]
    named = _mllint("scan", "project/pipe.yaml", "-f", "json", cwd=tmp_path, timeout=60)  # named: still not read
    assert named.returncode == 0 and json.loads(named.stdout)["skipped"][0]["reason"].startswith("not a regular")
