"""Custom rules (`.mllint/rules/*.yaml`): loading, exact positions, selection, suppression, outputs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import ROOT
from mllint.__main__ import main
from test_reports import validate_sarif

PRIORITY = """\
id: ACME001
name: gpu-priority-class
target: Workload
severity: error
summary: GPU workloads must use a team priority class
description: Our cluster preempts by priority.
remediation: Set priorityClassName.
match:
  properties:
    gpus: {exclusiveMinimum: 0}
schema:
  properties:
    pod:
      required: [priorityClassName]
      properties:
        priorityClassName: {enum: [team-high, team-low]}
"""

REGISTRY = """\
id: ACME002
name: images-from-our-registry
target: Container
severity: warning
summary: Images come only from the company registry
description: Public registries are rate-limited and unreviewed.
remediation: Mirror the image into registry.acme.io.
schema:
  properties:
    image:
      properties:
        registry: {const: registry.acme.io}
"""

STAGE = """\
id: ACME003
name: approved-base
target: Stage
severity: warning
summary: The final stage builds on an approved base image
description: Only images the platform team patches may ship.
remediation: Use registry.acme.io/base images.
match:
  properties:
    final: {const: true}
schema:
  properties:
    base:
      properties:
        repository: {pattern: "^base/"}
"""

BUILD = """\
id: ACME004
name: multi-stage
target: ImageBuild
severity: note
summary: Images are built in at least two stages
description: A builder stage keeps compilers out of the shipped image.
remediation: Add a builder stage.
schema:
  properties:
    stages: {minItems: 2}
"""

JOBS = """\
apiVersion: batch/v1
kind: Job
metadata:
  name: train
spec:
  template:
    spec:
      restartPolicy: Never
      priorityClassName: default
      containers:
        - name: trainer
          image: nvcr.io/nvidia/pytorch:24.01-py3
          resources:
            limits:
              nvidia.com/gpu: 1
---
apiVersion: batch/v1
kind: Job
metadata:
  name: train2
spec:
  template:
    spec:
      restartPolicy: Never
      priorityClassName: team-high
      containers:
        - name: trainer
          image: registry.acme.io/pytorch:24.01-py3
          resources:
            limits:
              nvidia.com/gpu: 1
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: cpu-only
spec:
  template:
    spec:
      containers:
        - name: web
          image: registry.acme.io/web:1.0
"""

DOCKERFILE = """\
FROM python:3.11-slim
RUN pip install --no-cache-dir torch==2.3.0
"""

COMPOSE = """\
services:
  jupyter:
    image: jupyter/base-notebook:2024-01-01
"""


def _project(tmp_path: Path, rules: dict[str, str], files: dict[str, str]) -> Path:
    for name, text in rules.items():
        path = tmp_path / ".mllint" / "rules" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    for name, text in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return tmp_path


def _findings(root: Path, *args: str, out: Path | None = None) -> tuple[int, list[tuple[str, str, int, int, str]]]:
    out = out or root / "report.json"
    code = main(["scan", str(root), "-f", "json", "-o", str(out), *args])
    report = json.loads(out.read_text())
    rows = [
        (Path(f["path"]).name, f["rule"], f["line"], f["column"], f["message"])
        for f in report["findings"]
        if not f["rule"].startswith("ML") and not f["suppressed"]
    ]
    return code, rows


def test_custom_rules_report_at_the_node_that_failed(tmp_path: Path) -> None:
    root = _project(
        tmp_path,
        {"priority.yaml": PRIORITY, "registry.yaml": REGISTRY, "stage.yaml": STAGE, "build.yaml": BUILD},
        {"k8s/jobs.yaml": JOBS, "Dockerfile": DOCKERFILE, "docker-compose.yml": COMPOSE},
    )
    code, rows = _findings(root)
    assert code == 1
    assert sorted(r[:4] for r in rows) == [
        ("Dockerfile", "ACME003", 1, 6),  # the base image of the final stage
        ("Dockerfile", "ACME004", 1, 1),  # the build as a whole: its final FROM
        ("docker-compose.yml", "ACME002", 3, 12),  # Docker Hub is registry docker.io
        ("jobs.yaml", "ACME001", 9, 26),  # the value that is not one of the classes
        ("jobs.yaml", "ACME002", 12, 18),
    ]
    messages = {(r[0], r[1]): r[4] for r in rows}
    assert messages["jobs.yaml", "ACME001"] == (
        "GPU workloads must use a team priority class: Job 'train': pod.priorityClassName: "
        "'default' is not one of ['team-high', 'team-low']"
    )
    assert messages["jobs.yaml", "ACME002"] == (
        "Images come only from the company registry: container 'trainer' of "
        "Job 'train': image.registry: 'registry.acme.io' was expected"
    )
    assert messages["docker-compose.yml", "ACME002"].endswith(
        "service 'jupyter': image.registry: 'registry.acme.io' was expected"
    )
    assert messages["Dockerfile", "ACME003"].endswith("stage 0: base.repository: 'python' does not match '^base/'")
    assert messages["Dockerfile", "ACME004"].endswith("Dockerfile: stages: the list is too short")


def test_a_missing_key_is_reported_at_the_mapping_that_lacks_it(tmp_path: Path) -> None:
    root = _project(
        tmp_path, {"priority.yaml": PRIORITY}, {"job.yaml": JOBS.replace("      priorityClassName: default\n", "")}
    )
    _code, rows = _findings(root)
    assert [(r[2], r[3]) for r in rows] == [(8, 7)]  # the pod spec mapping (its first key)
    assert rows[0][4].endswith("pod: 'priorityClassName' is a required property")


def test_object_fields_are_reported_once_per_object_not_per_role(tmp_path: Path) -> None:
    label = PRIORITY.replace("ACME001", "ACME010").replace("gpu-priority-class", "team-label").replace(
        "match:\n  properties:\n    gpus: {exclusiveMinimum: 0}\n", ""
    ).split("schema:")[0] + (
        "schema:\n  properties:\n    object:\n      properties:\n        metadata:\n          required: [labels]\n"
    )
    replica = (
        "      replicas: {n}\n      template:\n        spec:\n          containers:\n"
        "            - name: pytorch\n              image: registry.acme.io/train:1.0\n"
    )
    source = (
        "apiVersion: kubeflow.org/v1\nkind: PyTorchJob\nmetadata:\n  name: ddp\nspec:\n  pytorchReplicaSpecs:\n"
        "    Master:\n" + replica.format(n=1) + "    Worker:\n" + replica.format(n=3)
    )
    root = _project(tmp_path, {"label.yaml": label}, {"pt.yaml": source})
    _code, rows = _findings(root)
    assert len(rows) == 1 and rows[0][1] == "ACME010"
    assert "(Master)" not in rows[0][4] and "(Worker)" not in rows[0][4]


def test_selection_config_and_suppressions_apply_to_custom_rules(tmp_path: Path) -> None:
    root = _project(tmp_path, {"priority.yaml": PRIORITY, "registry.yaml": REGISTRY}, {"k8s/jobs.yaml": JOBS})
    _code, rows = _findings(root, "--select", "ACME")
    assert {r[1] for r in rows} == {"ACME001", "ACME002"}
    _code, rows = _findings(root, "--select", "ACME001")
    assert {r[1] for r in rows} == {"ACME001"}
    _code, rows = _findings(root, "--ignore", "images-from-our-registry")
    assert {r[1] for r in rows} == {"ACME001"}
    (root / ".mllint.yaml").write_text("ignore: [ACME001]\nseverity: {ACME002: error}\n")
    _code, rows = _findings(root)
    assert {r[1] for r in rows} == {"ACME002"}
    (root / ".mllint.yaml").unlink()
    jobs = root / "k8s" / "jobs.yaml"
    jobs.write_text(
        JOBS.replace(
            "priorityClassName: default",
            "priorityClassName: default  # mllint: disable=ACME001 -- legacy job, migrating in Q3",
        )
    )
    _code, rows = _findings(root, "--select", "ACME001")
    assert rows == []


def test_configured_folders_and_custom_rules_in_sarif(tmp_path: Path) -> None:
    root = _project(tmp_path, {}, {"k8s/jobs.yaml": JOBS, "policies/registry.yaml": REGISTRY})
    (root / ".mllint.yaml").write_text("custom-rules: [policies]\n")
    out = root / "out.sarif"
    assert main(["scan", str(root), "-f", "sarif", "-o", str(out)]) == 1
    doc = validate_sarif(out.read_text())
    rules = {r["id"]: r for r in doc["runs"][0]["tool"]["driver"]["rules"]}
    assert "ACME002" in rules and "helpUri" not in rules["ACME002"]
    assert rules["ACME002"]["defaultConfiguration"]["level"] == "warning"
    results = [r for r in doc["runs"][0]["results"] if r["ruleId"] == "ACME002"]
    assert results[0]["locations"][0]["physicalLocation"]["region"]["startLine"] == 12


@pytest.mark.parametrize(
    "text, where",
    [
        (PRIORITY.replace("severity: error", "severity: fatal"), "priority.yaml:4:11: severity:"),
        (PRIORITY + "colour: red\n", "priority.yaml:17:1: colour: unknown key 'colour'"),
        (PRIORITY.replace("id: ACME001", "id: ML999"), "priority.yaml:1:5: id:"),
        (
            PRIORITY.replace("{enum: [team-high, team-low]}", "{type: strng}"),
            "priority.yaml:16:35: schema.properties.pod.properties.priorityClassName.type:",
        ),
        (
            PRIORITY.replace("name: gpu-priority-class", "name: gpu-request-without-limit"),
            "priority.yaml:2:7: name 'gpu-request-without-limit' is already taken by rule ML101",
        ),
    ],
)
def test_mistakes_in_custom_rules_name_file_line_and_key(
    tmp_path: Path, text: str, where: str, capsys: pytest.CaptureFixture[str]
) -> None:
    root = _project(tmp_path, {"priority.yaml": text}, {"job.yaml": JOBS})
    assert main(["scan", str(root)]) == 2
    assert where in capsys.readouterr().err


def test_a_configured_folder_that_is_missing_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = _project(tmp_path, {}, {"job.yaml": JOBS, ".mllint.yaml": "exclude: []\ncustom-rules: [policy]\n"})
    assert main(["scan", str(root)]) == 2
    err = capsys.readouterr().err
    assert ".mllint.yaml:2:1: custom-rules:" in err and "not found" in err


def test_rule_files_and_their_bad_examples_are_not_scanned(tmp_path: Path) -> None:
    bad = JOBS.split("---")[0]
    root = _project(
        tmp_path,
        {"priority.yaml": PRIORITY + "examples: {bad: examples/bad.yaml}\n", "examples/bad.yaml": bad},
        {"ok.yaml": JOBS.split("---")[1]},
    )
    _code, rows = _findings(root)
    assert rows == []


def test_config_validate_runs_each_custom_rule_on_its_examples(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad, good = JOBS.split("---")[0], JOBS.split("---")[1]
    rule = PRIORITY + "examples: {bad: examples/bad.yaml, good: examples/good.yaml}\n"
    root = _project(tmp_path, {"priority.yaml": rule, "examples/bad.yaml": bad, "examples/good.yaml": good}, {})
    assert main(["config", "validate", str(root)]) == 0
    assert "1 custom rule(s): examples checked" in capsys.readouterr().out
    (root / ".mllint" / "rules" / "examples" / "good.yaml").write_text(bad)
    assert main(["config", "validate", str(root)]) == 1
    assert "ACME001 reports its good example" in capsys.readouterr().err


def test_rules_and_explain_show_custom_rules(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    root = _project(tmp_path, {"priority.yaml": PRIORITY}, {})
    monkeypatch.chdir(root)
    assert main(["rules"]) == 0
    assert "ACME001  gpu-priority-class" in capsys.readouterr().out
    assert main(["rules", "--builtin"]) == 0
    assert "ACME001" not in capsys.readouterr().out
    assert main(["explain", "gpu-priority-class"]) == 0
    assert "# ACME001 gpu-priority-class" in capsys.readouterr().out


def test_custom_rules_run_in_worker_processes(tmp_path: Path) -> None:
    files = {f"k8s/job{i}.yaml": JOBS for i in range(60)}
    root = _project(tmp_path, {"priority.yaml": PRIORITY}, files)
    _code, rows = _findings(root, "--jobs", "2", "--select", "ACME001")
    assert len(rows) == 60


def test_the_readme_walkthrough_policies(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """examples/ml-platform/.mllint/rules: the policies the README walks through."""
    monkeypatch.chdir(ROOT / "examples" / "ml-platform")
    assert main(["config", "validate"]) == 0
    _code, rows = _findings(Path("."), "--select", "ACME", out=tmp_path / "report.json")
    assert ("serving.yaml", "ACME001", 12, 7) in [r[:4] for r in rows]
    assert ("pytorchjob.yaml", "ACME002", 4, 3) in [r[:4] for r in rows]
