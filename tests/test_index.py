"""`--index`: report on the files named, read the rest for cross-file facts, and report what a named file causes
elsewhere: the requirements file its Dockerfile installs, the quota its new Job exceeds (at the Job)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mllint.__main__ import main

QUOTA = """\
apiVersion: v1
kind: ResourceQuota
metadata: {name: gpus, namespace: ml}
spec:
  hard:
    requests.nvidia.com/gpu: "4"
"""
JOB = """\
apiVersion: batch/v1
kind: Job
metadata: {{name: {name}, namespace: ml}}
spec:
  parallelism: {pods}
  template:
    spec:
      restartPolicy: Never
      containers:
        - name: t
          image: nvcr.io/nvidia/pytorch:24.01-py3
          resources:
            limits: {{nvidia.com/gpu: 2}}
"""


def _findings(capsys: pytest.CaptureFixture[str], *args: str) -> list[dict[str, object]]:
    main(["scan", *args, "-f", "json", "--fail-on", "never"])
    return list(json.loads(capsys.readouterr().out)["findings"])


def test_a_quota_exceeded_by_a_named_job_is_reported_at_the_job(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    Path("quota.yaml").write_text(QUOTA)
    Path("small.yaml").write_text(JOB.format(name="small", pods=1))
    Path("big.yaml").write_text(JOB.format(name="big", pods=2))
    [whole] = _findings(capsys, ".", "--select", "ML603")
    assert whole["path"] == "quota.yaml"  # a scan of everything: at the quota, as before
    [found] = _findings(capsys, "big.yaml", "--index", ".", "--select", "ML603")
    assert (found["path"], found["line"]) == ("big.yaml", 13)
    message = str(found["message"])
    assert "ResourceQuota 'gpus'" in message and "= 6" in message and "at quota.yaml:6:" in message
    # the quota file named: reported there, once
    assert [f["path"] for f in _findings(capsys, "quota.yaml", "--index", ".", "--select", "ML603")] == ["quota.yaml"]
    Path("big.yaml").write_text(JOB.format(name="big", pods=1))  # 2 + 2 = 4: within the quota
    assert _findings(capsys, "big.yaml", "--index", ".", "--select", "ML603") == []


def test_a_named_dockerfile_reports_the_requirements_file_it_installs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    Path("Dockerfile").write_text(
        "FROM python:3.11-slim\nCOPY requirements.txt .\nRUN pip install --no-cache-dir -r requirements.txt\n"
    )
    Path("requirements.txt").write_text("torch\n")
    [found] = _findings(capsys, "Dockerfile", "--index", ".", "--select", "ML303")
    assert (found["path"], found["line"], found["rule"]) == ("Dockerfile", 3, "ML303")  # at the `-r` that reads it
    assert "'torch' without a version" in str(found["message"]) and "at requirements.txt:1:1" in str(found["message"])
    # the requirements file named (pre-commit passes it when it changes): reported at its own line
    [own] = _findings(capsys, "requirements.txt", "--index", ".", "--select", "ML303")
    assert (own["path"], own["line"]) == ("requirements.txt", 1)
