from __future__ import annotations

import os
from pathlib import Path

from mllint.discover import classify, discover


def test_classify() -> None:
    assert classify("Dockerfile") == classify("Dockerfile.gpu") == classify("serve.Dockerfile") == "dockerfile"
    assert classify("Containerfile") == classify("train.dockerfile") == "dockerfile"
    assert (
        classify("Pawsey_PyTorch_ROCm_Dockerfile")
        == classify("gpu-Dockerfile")
        == classify("dockerfile")
        == "dockerfile"
    )
    assert classify("docker-compose.yml") == classify("compose.prod.yaml") == "compose"
    assert classify("requirements-dev.txt") == "requirements"
    assert classify("deploy.yaml") == classify("kustomization.yaml") == "yaml"
    assert classify("obj.json") == "json"
    assert classify("README.md") is None and classify("notes.txt") is None
    # Docker's per-Dockerfile ignore file, templates and documents are not Dockerfiles
    assert classify("Dockerfile.dockerignore") is None and classify("Dockerfile.serve.dockerignore") is None
    assert classify("Dockerfile.j2") is None and classify("Dockerfile.md") is None
    assert classify("Dockerfile.yaml") == "yaml" and classify("Dockerfile.template") == "dockerfile"


def test_walk_skips_and_orders(tmp_path: Path) -> None:
    for rel in [
        "b/deploy.yaml",
        "a/Dockerfile",
        "node_modules/x/pod.yaml",
        ".git/config.yaml",
        "env/pyvenv.cfg",
        "env/lib/pod.yaml",
        "chart/Chart.yaml",
        "chart/templates/deploy.yaml",
        "build/out.yaml",
        "c d/compose.yaml",
        "README.md",
    ]:
        path = tmp_path / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("x: 1\n")
    os.symlink(tmp_path / "b", tmp_path / "b" / "loop")
    found, skipped = discover(["."], excludes=["build"], cwd=tmp_path)
    assert [c.display for c in found] == ["a/Dockerfile", "b/deploy.yaml", "c d/compose.yaml", "chart/Chart.yaml"]
    reasons = {s.path: s.reason for s in skipped}
    assert "Helm" in reasons["chart/templates"]
    assert "symlink loop" in reasons["b/loop"]


def test_missing_path_is_reported(tmp_path: Path) -> None:
    found, skipped = discover(["nope.yaml"], cwd=tmp_path)
    assert not found and skipped[0].reason == "no such file or directory"


def test_a_file_named_explicitly_is_read_by_its_content(tmp_path: Path) -> None:
    (tmp_path / "build.txt").write_text("# syntax=docker/dockerfile:1\n\nFROM python:3.11-slim\n")
    (tmp_path / "pod.txt").write_text("apiVersion: v1\nkind: Pod\n")
    found, _skipped = discover([str(tmp_path / "build.txt"), str(tmp_path / "pod.txt")], cwd=tmp_path)
    assert [(os.path.basename(c.path), c.kind) for c in found] == [("build.txt", "dockerfile"), ("pod.txt", "yaml")]
