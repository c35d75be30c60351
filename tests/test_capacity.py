"""Cluster capacity: the instance-type table, what Karpenter requirements leave of it, the placement rules
(ML111, ML605-ML607) in pre-commit with `--index`, their fix, and `mllint placement`."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from conftest import ROOT
from mllint import engine
from mllint.__main__ import main
from mllint.edits import apply_edits
from mllint.instance_types import resolve, types
from mllint.knowledge import table

RULES = ["ML111", "ML605", "ML606", "ML607", "ML608"]


@pytest.mark.parametrize(
    ("name", "gpus", "gpu"),
    [
        ("p3.2xlarge", 1, "V100"),
        ("p3.16xlarge", 8, "V100"),
        ("p4d.24xlarge", 8, "A100"),
        ("p5.4xlarge", 1, "H100"),
        ("p5e.48xlarge", 8, "H200"),
        ("g4dn.12xlarge", 4, "T4"),
        ("g5.xlarge", 1, "A10"),
        ("g6e.48xlarge", 8, "L40S"),
        ("Standard_ND96asr_v4", 8, "A100"),
        ("Standard_NC24s_v3", 4, "V100"),
    ],
)
def test_instance_rows(name: str, gpus: int, gpu: str) -> None:
    row = types()[name]
    assert (row.gpus, row.gpu) == (gpus, gpu)
    assert f"|{gpus}|" in row.quote.replace(" ", "") and name in row.quote


def test_every_instance_row_has_a_source_and_a_quote() -> None:
    rows = table("instance_types")["types"]
    assert len(rows) >= 40
    for row in rows:
        assert row["source"].startswith("https://") and row["quote"], row["type"]
        assert row["gpu"] in {g["model"] for g in table("gpus")["gpus"]}, row["type"]


def test_requirements_resolve_to_known_types_only() -> None:
    assert resolve([("karpenter.k8s.aws/instance-family", "In", ("p4d", "p4de"))]).max_gpus == 8
    sized = resolve(
        [
            ("karpenter.k8s.aws/instance-family", "In", ("g5",)),
            ("karpenter.k8s.aws/instance-size", "In", ("xlarge", "2xlarge")),
        ]
    )
    assert sized.max_gpus == 1
    assert resolve([("karpenter.k8s.aws/instance-gpu-count", "Lt", ("5",))]).max_gpus == 4
    assert resolve([("karpenter.k8s.aws/instance-category", "In", ("g", "p"))]).max_gpus is None  # not pinned
    unknown = resolve([("node.kubernetes.io/instance-type", "In", ("p5.48xlarge", "x9.huge"))])
    assert unknown.max_gpus is None and "x9.huge" in unknown.why


def test_limit_fix_renames_the_key_and_keeps_the_quotes() -> None:
    path = "fixtures/ML606/bad-gpu-key.yaml"
    result = engine.scan([path], engine.Options(select=["ML606"], jobs=1))
    text = (ROOT / path).read_text(encoding="utf-8")
    fixes = [f.autofix for f in result.findings if f.autofix is not None]
    assert len(fixes) == 2 and all(fix.safe for fix in fixes)
    fixed = apply_edits(text, [e for fix in fixes for e in fix.edits])
    assert "      nvidia.com/gpu: 100" in fixed and '    "nvidia.com/gpu": 64' in fixed
    assert fixed.count("\n") == text.count("\n")


def test_category_fix_requires_the_family_key() -> None:
    path = "fixtures/ML608/bad-category-families.yaml"
    result = engine.scan([path], engine.Options(select=["ML608"], jobs=1))
    (fix,) = [f.autofix for f in result.findings if f.autofix is not None]
    assert not fix.safe
    fixed = apply_edits((ROOT / path).read_text(encoding="utf-8"), fix.edits)
    assert '- key: "karpenter.k8s.aws/instance-family"' in fixed


def test_a_clean_cluster_has_no_findings() -> None:
    result = engine.scan(["tests/data/cluster-clean"], engine.Options(select=RULES, jobs=1))
    assert [f"{f.span} {f.rule}" for f in result.findings] == []


def test_seed_cluster_examples_are_found_at_their_lines() -> None:
    """The seeds' Node, Job and Provisioner, rewritten as fixtures: each finding on its key or value."""
    result = engine.scan(
        [
            "fixtures/ML111/bad-job-larger-than-nodes",
            "fixtures/ML606/bad-gpu-key.yaml",
            "fixtures/ML607",
            "fixtures/ML608",
        ],
        engine.Options(select=RULES, jobs=1),
    )
    got = {(f.rule, f.span.path.rsplit("/", 1)[-1], f.span.line, f.span.column) for f in result.findings}
    assert ("ML111", "training.yaml", 16, 31) in got
    assert ("ML606", "bad-gpu-key.yaml", 16, 7) in got
    assert ("ML607", "bad-gpu-key.yaml", 3, 7) in got
    assert ("ML607", "bad-provisioner.yaml", 3, 7) in got
    assert ("ML608", "bad-category-families.yaml", 10, 16) in got  # the seed's families written as categories
    assert not any(path == "ok-nodepool.yaml" for _r, path, _l, _c in got)


SEED_NODE_AND_JOB = """\
apiVersion: v1
kind: Node
metadata:
  name: gpu-worker-1
  labels:
    accelerator: nvidia-tesla-v100
    node-role.kubernetes.io/gpu-worker: "true"
spec:
  capacity:
    nvidia.com/gpu: "8"
  allocatable:
    nvidia.com/gpu: "8"
---
apiVersion: batch/v1
kind: Job
metadata:
  name: pytorch-training
spec:
  template:
    spec:
      containers:
      - name: trainer
        image: pytorch/pytorch:latest
        command: ["python", "train.py"]
        resources:
          limits:
            nvidia.com/gpu: {gpus}
      restartPolicy: Never
"""


@pytest.mark.parametrize(("gpus", "found"), [(4, []), (16, ["cluster.yaml:27:29 ML111"])])
def test_the_seed_node_as_written_bounds_its_jobs(tmp_path: Path, gpus: int, found: list[str]) -> None:
    """The seed writes capacity under `spec` (a real Node keeps it in `status`): read as written."""
    (tmp_path / "cluster.yaml").write_text(SEED_NODE_AND_JOB.format(gpus=gpus), encoding="utf-8")
    result = engine.scan([str(tmp_path)], engine.Options(select=RULES, jobs=1))
    assert [f"{Path(f.span.path).name}:{f.span.line}:{f.span.column} {f.rule}" for f in result.findings] == found
    if found:
        assert "Node 'gpu-worker-1'" in result.findings[0].message and "16 > 8" in result.findings[0].message


JOB = """\
apiVersion: kubeflow.org/v1
kind: PyTorchJob
metadata: {{name: pretrain}}
spec:
  pytorchReplicaSpecs:
    Worker:
      replicas: {workers}
      template:
        spec:
          tolerations: [{{key: nvidia.com/gpu, operator: Exists}}]
          containers:
            - name: pytorch
              image: pytorch/pytorch:2.3.0-cuda12.1-cudnn8-runtime
              resources:
                limits: {{nvidia.com/gpu: {gpus}}}
"""


def test_pre_commit_checks_a_changed_job_against_pools_in_other_files(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    shutil.copy(ROOT / "fixtures/ML605/bad-limit-below-pytorchjob/nodepool.yaml", tmp_path / "nodepool.yaml")
    monkeypatch.chdir(tmp_path)

    def check(workers: int, gpus: int) -> set[tuple[str, str, int]]:
        (tmp_path / "job.yaml").write_text(JOB.format(workers=workers, gpus=gpus), encoding="utf-8")
        main(["scan", "job.yaml", "--index", ".", "--select", "ML111,ML605", "-f", "json", "--fail-on", "never"])
        return {(f["rule"], f["path"], f["line"]) for f in json.loads(capsys.readouterr().out)["findings"]}

    assert check(1, 16) == {("ML111", "job.yaml", 15)}  # 16 GPUs per pod; p4d and p4de have 8
    assert check(4, 8) == {("ML605", "job.yaml", 15)}  # 4 × 8 over the pool's 16: reported at the changed Job
    assert check(2, 8) == set()


def test_placement_text_and_json(capsys: pytest.CaptureFixture[str]) -> None:
    paths = ["fixtures/ML111/bad-job-larger-than-nodes", "fixtures/ML605/bad-limit-below-pytorchjob"]
    main(["placement", *paths])
    out = capsys.readouterr().out
    assert out.startswith("Candidates: 3 Node(s), 1 Karpenter pool(s), 0 profile pool(s)")
    assert (
        "Job 'pytorch-training' (fixtures/ML111/bad-job-larger-than-nodes/training.yaml:16): 16 nvidia.com/gpu" in out
    )
    assert "does not fit (8 per node: status.allocatable nvidia.com/gpu: 8)" in out
    assert "excluded (the pod does not tolerate its taint nvidia.com/gpu=true:NoSchedule)" in out
    main(["placement", *paths, "--format", "json"])
    doc = json.loads(capsys.readouterr().out)
    rows = {row["workload"]: row for row in doc["workloads"]}
    assert rows["Job 'pytorch-training'"]["verdict"] == "never fits"
    worker = rows["PyTorchJob 'llama-pretrain' Worker"]
    assert (worker["per_pod"], worker["pods"], worker["per_job"], worker["verdict"]) == (8, 3, 32, "fits")
    pool = next(c for c in worker["candidates"] if c["kind"] == "NodePool")
    assert (pool["gpus_per_node"], pool["gpu_model"], pool["limit"], pool["status"]) == (8, "A100", "16", "fits")
