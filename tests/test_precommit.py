"""The real pre-commit runs the hook from this repository on a temporary git repository: a commit with
a mistake fails, the fixed commit passes, and the hook reads files that are not part of the commit for
cross-file facts.

The hook is installed from the working tree as it is now (modified, staged and untracked files: a new
rule's metadata, module and fixtures before they are committed), and a commit is judged by the findings
of the rule the mistake triggers, so that adding a rule never breaks this test."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT

# What pre-commit needs to install the hook: its definition and the files the package is built from
# (pyproject.toml names the README; the wheel carries rules/, schemas/ and fixtures/).
HOOK_SOURCES = (".pre-commit-hooks.yaml", "pyproject.toml", "README.md", "mllint", "rules", "schemas", "fixtures")
RULE = "ML604"  # unknown-priority-class: the mistake the sample commit makes

PRIORITY_CLASSES = """\
apiVersion: scheduling.k8s.io/v1
kind: PriorityClass
metadata:
  name: training-low
value: 100
"""

JOB = """\
apiVersion: batch/v1
kind: Job
metadata:
  name: finetune
spec:
  backoffLimit: 2
  activeDeadlineSeconds: 86400
  template:
    spec:
      restartPolicy: Never
      priorityClassName: {priority}
      containers:
        - name: trainer
          image: nvcr.io/nvidia/pytorch:24.01-py3
          resources:
            requests: {{cpu: "8", memory: 64Gi}}
            limits: {{memory: 64Gi, nvidia.com/gpu: 1}}
          volumeMounts: [{{name: dshm, mountPath: /dev/shm}}]
      volumes: [{{name: dshm, emptyDir: {{medium: Memory}}}}]
"""

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")


def _run(args: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=600)


def _hook_repository(dest: Path, git: list[str], env: dict[str, str]) -> str:
    """A git repository holding this working tree's hook sources in one commit; returns the commit.

    `pre-commit try-repo` on the checkout itself would install HEAD plus the changes to tracked files
    only: an untracked module that a tracked file imports, or a new rule whose metadata is committed but
    whose module is not, would break the hook for reasons that are not the hook's."""
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info", "_data")
    dest.mkdir()
    for name in HOOK_SOURCES:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, dest / name, ignore=ignore)
        else:
            shutil.copy2(source, dest / name)
    assert _run([*git, "init", "-q"], dest, env).returncode == 0
    assert _run([*git, "add", "-A"], dest, env).returncode == 0
    assert _run([*git, "commit", "-qm", "mllint working tree"], dest, env).returncode == 0
    return _run([*git, "rev-parse", "HEAD"], dest, env).stdout.strip()


def _reported(output: str, rule: str) -> list[str]:
    """The lines of the hook's output that report `rule` (`path:line:col: MLnnn ...`)."""
    return [line for line in output.splitlines() if f": {rule} " in line]


def test_pre_commit_hook_fails_then_passes(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "PRE_COMMIT_HOME": str(tmp_path / "cache"),
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@example.com",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@example.com",
    }
    git = ["git", "-c", "init.defaultBranch=main", "-c", "commit.gpgsign=false"]
    hooks = tmp_path / "mllint-hooks"
    rev = _hook_repository(hooks, git, env)

    repo = tmp_path / "ml-platform"
    repo.mkdir()
    _run([*git, "init", "-q"], repo, env)
    (repo / "cluster").mkdir()
    (repo / "cluster" / "priority.yaml").write_text(PRIORITY_CLASSES)
    # the hook as a project configures it, limited to the rule this test is about
    (repo / ".pre-commit-config.yaml").write_text(
        f"repos:\n  - repo: {hooks.as_posix()}\n    rev: {rev}\n    hooks:\n"
        f"      - id: mllint\n        args: [--select, {RULE}]\n"
    )
    _run([*git, "add", "."], repo, env)
    assert _run([*git, "commit", "-qm", "cluster policy"], repo, env).returncode == 0

    pre_commit = [sys.executable, "-m", "pre_commit", "run", "--color", "never"]
    (repo / "jobs").mkdir()
    job = repo / "jobs" / "finetune.yaml"
    job.write_text(JOB.format(priority="training-lo"))  # a typo: only the unchanged file defines the class
    _run([*git, "add", "jobs"], repo, env)
    failing = _run(pre_commit, repo, env)
    assert failing.returncode == 1, failing.stdout + failing.stderr
    assert [line.split(" ", 1)[0] for line in _reported(failing.stdout, RULE)] == ["jobs/finetune.yaml:11:26:"], (
        failing.stdout
    )
    assert not any(line.startswith("cluster/") for line in failing.stdout.splitlines())  # read, not reported

    job.write_text(JOB.format(priority="training-low"))
    _run([*git, "add", "jobs"], repo, env)
    passing = _run(pre_commit, repo, env)
    assert passing.returncode == 0, passing.stdout + passing.stderr
    assert "mllint" in passing.stdout and "Passed" in passing.stdout, passing.stdout

    # `pre-commit try-repo` runs the hook as shipped (every default rule) on the same staged change: it runs
    # to the end, and the fix holds; what other rules say of the sample is not this test's business
    trying = _run([sys.executable, "-m", "pre_commit", "try-repo", str(hooks), "mllint", "--color", "never"], repo, env)
    hook_exit = re.search(r"^- exit code: (\d+)$", trying.stdout, re.M)
    assert trying.returncode == 0 or (trying.returncode == 1 and hook_exit and hook_exit[1] == "1"), (
        trying.stdout + trying.stderr  # mllint exits 1 for findings; 2 (usage) or 3 (internal error) is a failure
    )
    assert not _reported(trying.stdout, RULE), trying.stdout
    assert _run([*git, "commit", "-qm", "finetune job"], repo, env).returncode == 0


def test_github_action_scan_step_runs(tmp_path: Path) -> None:
    """The composite action's scan step, with its default inputs, as GitHub's runner would run it."""
    from ruamel.yaml import YAML

    action = YAML(typ="safe").load((ROOT / "action.yml").read_text())
    defaults = {f"${{{{ inputs.{k} }}}}": str(v.get("default", "")) for k, v in action["inputs"].items()}
    [step] = [s for s in action["runs"]["steps"] if s.get("id") == "scan"]
    script = step["run"]
    for placeholder, value in defaults.items():
        script = script.replace(placeholder, value)
    assert "${{" not in script
    (tmp_path / "k8s.yaml").write_text(
        JOB.format(priority="training-low").replace("pytorch:24.01-py3", "pytorch:latest")
    )
    output = tmp_path / "github_output"
    proc = subprocess.run(
        ["bash", "-c", script],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env={
            **os.environ,
            "GITHUB_OUTPUT": str(output),
            "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        },
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    # the latest tag is a warning (ML301, latest-image-tag): at the default fail-on, the last step fails the job
    assert "exit-code=1" in output.read_text()
    annotations = [line for line in proc.stdout.splitlines() if line.startswith("::warning file=k8s.yaml,")]
    assert any("title=ML301 " in line for line in annotations), proc.stdout
    sarif = json.loads((tmp_path / "mllint.sarif").read_text())
    assert "ML301" in {result["ruleId"] for run in sarif["runs"] for result in run["results"]}
