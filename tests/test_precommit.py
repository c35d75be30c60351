"""The real pre-commit runs the hook from this repository (`pre-commit try-repo`) on a temporary git
repository: a commit with a mistake fails, the fixed commit passes, and the hook reads files that are
not part of the commit for cross-file facts."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT

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


def test_pre_commit_try_repo_fails_then_passes(tmp_path: Path) -> None:
    repo = tmp_path / "ml-platform"
    repo.mkdir()
    env = {**os.environ, "PRE_COMMIT_HOME": str(tmp_path / "cache"), "GIT_AUTHOR_NAME": "t",
           "GIT_AUTHOR_EMAIL": "t@example.com", "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com"}
    git = ["git", "-c", "init.defaultBranch=main", "-c", "commit.gpgsign=false"]
    _run([*git, "init", "-q"], repo, env)
    (repo / "cluster").mkdir()
    (repo / "cluster" / "priority.yaml").write_text(PRIORITY_CLASSES)
    _run([*git, "add", "."], repo, env)
    assert _run([*git, "commit", "-qm", "cluster policy"], repo, env).returncode == 0

    pre_commit = [sys.executable, "-m", "pre_commit", "try-repo", str(ROOT), "mllint", "--color", "never"]
    (repo / "jobs").mkdir()
    job = repo / "jobs" / "finetune.yaml"
    job.write_text(JOB.format(priority="training-lo"))  # a typo: only the unchanged file defines the class
    _run([*git, "add", "jobs"], repo, env)
    failing = _run(pre_commit, repo, env)
    assert failing.returncode == 1, failing.stdout + failing.stderr
    assert "jobs/finetune.yaml:11:26: ML604" in failing.stdout, failing.stdout
    assert "priority.yaml" not in failing.stdout.split("mllint")[-1]  # read, not reported

    job.write_text(JOB.format(priority="training-low"))
    _run([*git, "add", "jobs"], repo, env)
    passing = _run(pre_commit, repo, env)
    assert passing.returncode == 0, passing.stdout + passing.stderr
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
    (tmp_path / "k8s.yaml").write_text(JOB.format(priority="training-low").replace("pytorch:24.01-py3", "pytorch:latest"))
    output = tmp_path / "github_output"
    proc = subprocess.run(["bash", "-c", script], cwd=tmp_path, capture_output=True, text=True,
                          env={**os.environ, "GITHUB_OUTPUT": str(output),
                               "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"},
                          timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "exit-code=1" in output.read_text()  # the latest tag is a warning; the last step fails the job
    assert (tmp_path / "mllint.sarif").is_file() and "::warning file=k8s.yaml" in proc.stdout
