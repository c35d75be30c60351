"""The real pre-commit runs the hook from this repository on a temporary git repository: a commit with
a mistake fails, the fixed commit passes, and the hook reads files that are not part of the commit for
cross-file facts.

The hook is installed from the working tree as it is now (modified, staged and untracked files: a new
rule's metadata, module and fixtures before they are committed), and a commit is judged by the findings
of the rule the mistake triggers, so that adding a rule never breaks this test."""

from __future__ import annotations

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


QUOTA = """\
apiVersion: v1
kind: ResourceQuota
metadata: {name: team-gpus, namespace: ml}
spec:
  hard:
    requests.nvidia.com/gpu: "4"
"""

GPU_JOB = """\
apiVersion: batch/v1
kind: Job
metadata: {{name: {name}, namespace: ml}}
spec:
  parallelism: {pods}
  template:
    spec:
      restartPolicy: Never
      containers:
        - name: trainer
          image: nvcr.io/nvidia/pytorch:24.01-py3
          resources:
            limits: {{nvidia.com/gpu: 2}}
"""

DOCKERFILE = """\
FROM python:3.11-slim
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt
"""


def test_pre_commit_reports_what_a_change_causes_honours_exclude_and_reads_requirements(tmp_path: Path) -> None:
    """Only the staged files are reported; a new Job that pushes its namespace over the GPU quota of an
    unchanged file fails the commit at the Job; `exclude` holds for files pre-commit names; a requirements
    file change is checked."""
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
    repo = tmp_path / "platform"
    repo.mkdir()
    _run([*git, "init", "-q"], repo, env)
    files = {
        "cluster/quota.yaml": QUOTA,
        "jobs/small.yaml": GPU_JOB.format(name="small", pods=1),  # 2 of the 4 GPUs
        "docker/Dockerfile": DOCKERFILE,
        "docker/requirements.txt": "numpy==2.1.0\n",
        ".mllint.yaml": 'exclude: ["vendor/**"]\n',
        ".pre-commit-config.yaml": f"repos:\n  - repo: {hooks.as_posix()}\n    rev: {rev}\n    hooks:\n"
        "      - id: mllint\n        args: [--select, 'ML603,ML301,ML303']\n",
    }
    for name, text in files.items():
        (repo / name).parent.mkdir(parents=True, exist_ok=True)
        (repo / name).write_text(text)
    _run([*git, "add", "."], repo, env)
    assert _run([*git, "commit", "-qm", "platform"], repo, env).returncode == 0

    (repo / "jobs" / "big.yaml").write_text(GPU_JOB.format(name="big", pods=2))  # 2 + 4 GPUs > 4
    (repo / "vendor").mkdir()
    (repo / "vendor" / "upstream.yaml").write_text(JOB.format(priority="x").replace("24.01-py3", "latest"))
    (repo / "docker" / "requirements.txt").write_text("numpy==2.1.0\ntorch\n")
    _run([*git, "add", "."], repo, env)
    proc = _run([sys.executable, "-m", "pre_commit", "run", "--color", "never"], repo, env)
    out = proc.stdout
    assert proc.returncode == 1, out + proc.stderr
    quota = _reported(out, "ML603")
    assert len(quota) == 1 and quota[0].startswith("jobs/big.yaml:13:"), out
    assert "ResourceQuota 'team-gpus'" in quota[0] and "= 6" in quota[0] and "cluster/quota.yaml:6:" in quota[0]
    assert [line.split(":", 1)[0] for line in _reported(out, "ML303")] == ["docker/requirements.txt"], out
    assert "vendor/" not in out, out  # excluded by the configuration, though pre-commit named it
    assert not any(line.startswith(("cluster/", "jobs/small.yaml")) for line in out.splitlines()), out


@pytest.mark.parametrize(
    "name, checked",
    [
        ("Dockerfile", True),
        ("docker/Dockerfile.gpu", True),
        ("build/Containerfile", True),
        ("images/train.dockerfile", True),
        ("requirements.txt", True),
        ("docker/requirements-gpu.txt", True),
        ("envs/environment-cuda.yml", True),
        ("k8s/job.yaml", True),
        ("docs/Dockerfile.md", False),
        ("notes.txt", False),
        (".mllint/rules/examples/bad.yaml", False),
    ],
)
def test_hook_file_patterns(name: str, checked: bool) -> None:
    """pre-commit selects by `types_or`, then `files` and `exclude`: the files mllint reads are all passed."""
    from ruamel.yaml import YAML

    for hook in YAML(typ="safe").load((ROOT / ".pre-commit-hooks.yaml").read_text()):
        assert "text" in hook["types_or"] and "dockerfile" in hook["types_or"]  # requirements files are `text`
        assert "--force-exclude" in hook["entry"] and "--index ." in hook["entry"]
        selected = bool(re.search(hook["files"], name)) and not re.search(hook["exclude"], name)
        assert selected == checked, (hook["id"], name)
