"""The composite GitHub Action (action.yml), its shell steps run here as the runner would run them: inputs reach
the scripts through the environment only, the scan runs once, mllint's own exit code fails the job (a bad
configuration is exit 2, never a missing-SARIF upload error), and the outputs say what happened."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from conftest import ROOT

JOB = """\
apiVersion: batch/v1
kind: Job
metadata:
  name: finetune
spec:
  backoffLimit: 2
  template:
    spec:
      restartPolicy: Never
      containers:
        - name: trainer
          image: nvcr.io/nvidia/pytorch:latest
"""


def _action() -> dict[str, Any]:
    action: dict[str, Any] = YAML(typ="safe").load((ROOT / "action.yml").read_text())
    return action


def _step(name_or_id: str) -> dict[str, Any]:
    steps = _action()["runs"]["steps"]
    return next(s for s in steps if name_or_id in (s.get("id"), s.get("name")))


def _expand(value: str, inputs: dict[str, str], outputs: dict[str, str]) -> str:
    def one(match: re.Match[str]) -> str:
        expr = match[1].strip()
        if expr.startswith("inputs."):
            return inputs[expr[len("inputs.") :]]
        if expr.startswith("steps.scan.outputs."):
            return outputs.get(expr[len("steps.scan.outputs.") :], "")
        if expr == "steps.upload.outcome":
            return outputs.get("upload-outcome", "")
        raise AssertionError(f"unexpected expression {expr}")

    return re.sub(r"\$\{\{(.*?)\}\}", one, value)


class Runner:
    """A fake runner: a workspace, RUNNER_TEMP with mllint's virtual environment (shims that log each call
    and run this checkout's mllint), GITHUB_OUTPUT and GITHUB_ACTION_PATH."""

    def __init__(self, tmp_path: Path) -> None:
        self.workspace = tmp_path / "workspace"
        self.workspace.mkdir()
        self.temp = tmp_path / "runner-temp"
        bin_dir = self.temp / "mllint-venv" / "bin"
        bin_dir.mkdir(parents=True)
        self.calls = tmp_path / "mllint-calls"
        python = sys.executable
        (bin_dir / "python").write_text(f'#!/bin/sh\nexec "{python}" "$@"\n')
        (bin_dir / "mllint").write_text(
            f'#!/bin/sh\necho "$*" >> "{self.calls}"\nPYTHONPATH="{ROOT}" exec "{python}" -m mllint "$@"\n'
        )
        for shim in bin_dir.iterdir():
            shim.chmod(0o755)
        self.output = tmp_path / "github_output"
        self.summary = tmp_path / "step_summary"

    def run(self, step: str, **given: str) -> tuple[subprocess.CompletedProcess[str], dict[str, str]]:
        spec = _step(step)
        inputs = {k: str(v.get("default", "")) for k, v in _action()["inputs"].items()} | given
        script = spec["run"]
        assert "${{" not in script, "an expression pasted into a script is shell code"
        self.output.write_text("")
        env = {
            **os.environ,
            "GITHUB_OUTPUT": str(self.output),
            "GITHUB_STEP_SUMMARY": str(self.summary),
            "GITHUB_ACTION_PATH": str(ROOT),
            "GITHUB_WORKSPACE": str(self.workspace),
            "RUNNER_TEMP": str(self.temp),
        }
        env |= {k: _expand(str(v), inputs, given) for k, v in (spec.get("env") or {}).items()}
        proc = subprocess.run(
            ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", script],  # as the runner runs `shell: bash`
            cwd=self.workspace,
            capture_output=True,
            text=True,
            env=env,
            timeout=180,
        )
        outputs = dict(line.split("=", 1) for line in self.output.read_text().splitlines() if "=" in line)
        return proc, outputs

    def scans(self) -> int:
        return len(self.calls.read_text().splitlines()) if self.calls.exists() else 0


@pytest.fixture
def runner(tmp_path: Path) -> Runner:
    return Runner(tmp_path)


def test_findings_one_scan_annotations_sarif_and_outputs(runner: Runner) -> None:
    (runner.workspace / "k8s.yaml").write_text(JOB)
    proc, out = runner.run("scan", args="--severity ML301=warning")  # the other inputs at their defaults
    assert proc.returncode == 0, proc.stderr  # findings fail the job in the last step, after the upload
    assert out["exit-code"] == "1" and out["sarif"] == "true" and int(out["findings"]) >= 1, out
    assert runner.scans() == 1
    assert any(
        line.startswith("::warning file=k8s.yaml,") and "title=ML301 " in line for line in proc.stdout.splitlines()
    )
    sarif = (runner.workspace / "mllint.sarif").read_text()
    assert '"ruleId": "ML301"' in sarif
    assert "at most 10" in runner.summary.read_text()  # GitHub's cap on annotations, said where it applies

    failing, _ = runner.run("Fail on findings", **{"exit-code": "1"})
    assert failing.returncode == 1 and "at or above 'warning'" in failing.stdout
    passing, _ = runner.run("Fail on findings", **{"exit-code": "0"})
    assert passing.returncode == 0


def test_fixes_as_a_diff_artifact(runner: Runner) -> None:
    (runner.workspace / "Dockerfile").write_text("FROM python:3.11-slim\nRUN pip install torch==2.3.1\n")
    proc, out = runner.run("scan", **{"fix-diff": "mllint-fixes.diff"})
    assert proc.returncode == 0, proc.stderr
    assert out.get("fix-diff") == "true" and runner.scans() == 2, out
    diff = (runner.workspace / "mllint-fixes.diff").read_text()
    assert diff.startswith("--- a/Dockerfile") and "+RUN pip install --no-cache-dir torch==2.3.1" in diff
    assert "pip install torch" in (runner.workspace / "Dockerfile").read_text(), "the diff changes nothing"
    assert _step("Keep the fixes as an artifact")["with"]["path"] == "${{ inputs.fix-diff }}"


def test_a_bad_configuration_fails_with_mllints_exit_code(runner: Runner) -> None:
    (runner.workspace / "k8s.yaml").write_text(JOB)
    (runner.workspace / ".mllint.yaml").write_text("select: [NOPE999]\n")
    proc, out = runner.run("scan")
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert out["exit-code"] == "2" and out["sarif"] == "false"
    assert "NOPE999" in proc.stderr and "could not run" in proc.stdout
    assert not (runner.workspace / "mllint.sarif").exists()  # so the upload step is skipped, not failed


def test_paths_and_args_are_arguments_not_shell_code(runner: Runner) -> None:
    (runner.workspace / "my jobs").mkdir()
    (runner.workspace / "my jobs" / "job.yaml").write_text(JOB)
    (runner.workspace / "other.yaml").write_text(JOB)
    proc, out = runner.run(
        "scan",
        paths="my jobs\nother.yaml\n",
        args="--select 'ML301' --severity \"ML301=error\"",
        **{"fail-on": "error"},
    )
    assert proc.returncode == 0, proc.stderr
    assert out["exit-code"] == "1" and out["findings"] == "2", (out, proc.stdout, proc.stderr)
    files = {m[1] for m in re.finditer(r"^::error file=([^,]+),", proc.stdout, re.M)}
    assert files == {"my jobs/job.yaml", "other.yaml"}

    proc, out = runner.run(
        "scan", paths="$(touch pwned-paths) `touch pwned-tick`", args="$(touch pwned-args) ; touch x"
    )
    assert not list(runner.workspace.glob("pwned*")) and not (runner.workspace / "x").exists()
    assert out["exit-code"] == "2" and proc.returncode == 2  # mllint was given odd paths: no such file

    proc, out = runner.run("scan", args="--select 'ML301")  # an unclosed quote: a usage error, no scan
    assert proc.returncode == 2 and out == {"exit-code": "2", "sarif": "false"} and "unclosed quote" in proc.stdout


def test_no_expression_in_scripts_install_from_action_path_python_optional() -> None:
    action = _action()
    steps = action["runs"]["steps"]
    for step in steps:
        assert "${{" not in step.get("run", "")
    install = _step("Install mllint")["run"]
    assert '"$GITHUB_ACTION_PATH"' in install and "venv" in install
    setup = next(s for s in steps if str(s.get("uses", "")).startswith("actions/setup-python"))
    assert setup["if"] == "${{ inputs.python-version != '' }}" and action["inputs"]["python-version"]["default"] == ""
    upload = _step("upload")
    assert (
        upload["with"]["category"] == "${{ inputs.category }}" and "steps.scan.outputs.sarif == 'true'" in upload["if"]
    )
    assert upload["continue-on-error"] == "${{ inputs.upload-sarif == 'auto' }}"
    assert {"exit-code", "findings", "sarif-file"} <= set(action["outputs"])
