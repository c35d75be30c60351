"""One project root per run (the configuration's folder, else the git repository, else the common parent of the
paths): SARIF, GitLab and baselines say the same thing however the paths are spelled and wherever mllint runs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mllint.__main__ import main
from mllint.config import load, project_root
from test_reports import validate_sarif

JOB = """\
apiVersion: batch/v1
kind: Job
metadata: {name: train}
spec:
  template:
    spec:
      restartPolicy: Never
      containers:
        - name: t
          image: registry.example.com/train:latest
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    (root / "k8s" / "team").mkdir(parents=True)
    (root / "k8s" / "team" / "job.yaml").write_text(JOB)
    (root / ".mllint.yaml").write_text("select: [ML301]\nseverity: {ML301: warning}\n")
    return root


def _report(fmt: str, args: list[str], out: Path) -> str:
    assert main(["scan", *args, "-f", fmt, "-o", str(out), "--fail-on", "never"]) == 0
    return out.read_text()


def test_project_root_is_config_then_git_then_common_parent(tmp_path: Path, project: Path) -> None:
    assert project_root([str(project / "k8s")], load(None, project / "k8s")) == project.resolve()
    repo = tmp_path / "git"
    (repo / ".git").mkdir(parents=True)
    (repo / "a" / "b").mkdir(parents=True)
    assert project_root([str(repo / "a" / "b")], load(None, repo / "a")) == repo.resolve()
    plain = tmp_path / "plain"
    (plain / "x").mkdir(parents=True)
    (plain / "y").mkdir()
    assert project_root([str(plain / "x"), str(plain / "y")], None) == plain.resolve()


@pytest.mark.parametrize("where", ["absolute", "subfolder", "root"])
def test_sarif_and_gitlab_paths_are_relative_to_the_project_root(
    where: str, project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if where == "absolute":
        args = [str(project / "k8s")]  # from this checkout's folder
    elif where == "subfolder":
        monkeypatch.chdir(project / "k8s")
        args = ["team"]
    else:
        monkeypatch.chdir(project)
        args = ["."]
    sarif = validate_sarif(_report("sarif", args, tmp_path / "out.sarif"))
    run = sarif["runs"][0]
    assert run["originalUriBaseIds"] == {"%SRCROOT%": {"uri": project.resolve().as_uri() + "/"}}
    [location] = {json.dumps(r["locations"][0]["physicalLocation"]["artifactLocation"]) for r in run["results"]}
    assert json.loads(location) == {"uri": "k8s/team/job.yaml", "uriBaseId": "%SRCROOT%"}
    gitlab = json.loads(_report("gitlab", args, tmp_path / "gl.json"))
    assert {issue["location"]["path"] for issue in gitlab} == {"k8s/team/job.yaml"}


def test_a_file_outside_the_root_gets_an_absolute_uri(project: Path, tmp_path: Path) -> None:
    outside = tmp_path / "elsewhere.yaml"
    outside.write_text(JOB)
    sarif = validate_sarif(_report("sarif", ["--config", str(project / ".mllint.yaml"), str(outside)], tmp_path / "o"))
    [result] = sarif["runs"][0]["results"]
    assert result["locations"][0]["physicalLocation"]["artifactLocation"] == {"uri": outside.resolve().as_uri()}


def test_a_baseline_written_in_one_folder_holds_in_every_other(
    project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    baseline = project / "baseline.json"
    monkeypatch.chdir(project / "k8s" / "team")
    assert main(["scan", ".", "--write-baseline", str(baseline)]) == 0
    assert [e["path"] for e in json.loads(baseline.read_text())["findings"]] == ["k8s/team/job.yaml"]
    for cwd, target in [(project, "k8s"), (tmp_path, str(project)), (project / "k8s", "team/job.yaml")]:
        monkeypatch.chdir(cwd)
        assert main(["scan", target, "--baseline", str(baseline)]) == 0, (cwd, target)
    # and the fingerprints of every report agree, wherever the scan ran
    keys = set()
    for cwd, target in [(project, "k8s"), (tmp_path, str(project / "k8s"))]:
        monkeypatch.chdir(cwd)
        keys |= {
            r["partialFingerprints"]["mllint/v1"]
            for r in validate_sarif(_report("sarif", [target], tmp_path / "k"))["runs"][0]["results"]
        }
    assert len(keys) == 1


def test_repository_reports_are_relative_to_the_git_root_when_the_config_is_in_a_subfolder(
    tmp_path: Path, project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (project / ".git").mkdir()
    sub = project / "k8s"
    (sub / ".mllint.yaml").write_text("select: [ML301]\nseverity: {ML301: warning}\n")
    monkeypatch.chdir(sub)
    sarif = validate_sarif(_report("sarif", ["team"], tmp_path / "out.sarif"))
    run = sarif["runs"][0]
    assert run["originalUriBaseIds"]["%SRCROOT%"]["uri"] == project.resolve().as_uri() + "/"
    assert run["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "k8s/team/job.yaml"
    # the baseline, which the configuration names, is relative to the configuration's folder
    assert main(["scan", "team", "--write-baseline", "b.json"]) == 0
    assert json.loads((sub / "b.json").read_text())["findings"][0]["path"] == "team/job.yaml"
