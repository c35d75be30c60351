"""Hypothesis properties: no input raises, every span lies inside its file, output is deterministic."""

from __future__ import annotations

import json
import os
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import ROOT
from mllint import engine
from mllint.gpus import GPU_RESOURCES
from mllint.loader import parse
from mllint.model import SourceFile
from mllint.plan import Plan, parameters
from mllint.registry import builtin
from mllint.report import render
from mllint.source_texts import SourceTexts

SETTINGS = settings(
    max_examples=int(os.environ.get("MLLINT_HYPOTHESIS_EXAMPLES", "120")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.text(max_size=12),
    st.sampled_from(["1", "0.5", "500m", "8Gi", "8 Gi", "latest", "{{ x }}", "${X}", "nvidia.com/gpu"]),
)
keys = st.sampled_from(
    [
        "apiVersion",
        "kind",
        "metadata",
        "spec",
        "template",
        "containers",
        "initContainers",
        "name",
        "image",
        "resources",
        "limits",
        "requests",
        "nvidia.com/gpu",
        "env",
        "volumes",
        "services",
        "deploy",
        "reservations",
        "devices",
        "count",
        "gpus",
        "pytorchReplicaSpecs",
        "Worker",
        "headGroupSpec",
        "workerGroupSpecs",
        "predictor",
        "templates",
        "container",
        "x",
        "scaleTargetRef",
        "metrics",
        "resource",
        "type",
        "hard",
        "requests.nvidia.com/gpu",
        "runPolicy",
        "rayStartParams",
        "num-gpus",
        "nprocPerNode",
        "slotsPerWorker",
        "minReplicas",
        "maxReplicas",
        "replicas",
        "restartPolicy",
        "priorityClassName",
        "tolerations",
        "selector",
        "matchLabels",
        "command",
        "args",
        "capabilities",
        "device_ids",
        "runtime",
        "jobTemplate",
        "privileged",
        "securityContext",
        "hostNetwork",
        "hostPID",
        "hostPath",
        "path",
        "ports",
        "port",
        "environment",
        "serviceType",
        "network_mode",
        "pid",
        "build",
        "healthcheck",
        "value",
        "backend",
        "service",
    ]
)
trees = st.recursive(
    scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(keys, inner, max_size=5)),
    max_leaves=30,
)
kinds = st.sampled_from(
    [
        "Pod",
        "Deployment",
        "PyTorchJob",
        "RayCluster",
        "InferenceService",
        "Workflow",
        "TrainJob",
        "JobSet",
        "Job",
        "MPIJob",
        "RayJob",
        "CronJob",
        "HorizontalPodAutoscaler",
        "ResourceQuota",
        "PodDisruptionBudget",
        "PriorityClass",
    ]
)


def _scan(name: str, kind: str, data: bytes) -> list:
    rules = builtin()  # every rule, the opt-in ones too
    plan = Plan(tuple(rules), {}, parameters(engine.Options(), rules), gpu_resources=GPU_RESOURCES)
    outcome = engine._guarded(name, kind, lambda: parse(name, kind, data), plan)
    findings = outcome.findings
    if outcome.facts is not None:  # the cross-file rules, over this one file
        texts = SourceTexts()
        if isinstance(outcome.file, SourceFile):
            texts.add(name, outcome.file.lines())
        findings = findings + engine._check_project([outcome], plan, texts)
    return [outcome.file, findings]


def _check_spans(outcome: object, findings: list, data: bytes) -> None:
    assert not [f for f in findings if f.rule == "ML003"], [f.message for f in findings if f.rule == "ML003"]
    if not isinstance(outcome, SourceFile):
        return
    lines = outcome.lines() or [""]
    for f in findings:
        assert 1 <= f.span.line <= len(lines), f
        assert 1 <= f.span.column <= len(lines[f.span.line - 1]) + 1, f
        assert f.span.end_line >= f.span.line


@SETTINGS
@given(st.binary(max_size=400))
def test_arbitrary_bytes_never_raise(data: bytes) -> None:
    for name, kind in (("x.yaml", "yaml"), ("Dockerfile", "dockerfile"), ("compose.yaml", "compose")):
        outcome, findings = _scan(name, kind, data)
        _check_spans(outcome, findings, data)


@SETTINGS
@given(st.text(alphabet=st.sampled_from(list("FROMRUNCOPYARG=${}<<EOF \\\n\t#-:abc123./@'\"")), max_size=300))
def test_dockerfile_like_text_never_raises(text: str) -> None:
    outcome, findings = _scan("Dockerfile", "dockerfile", text.encode())
    _check_spans(outcome, findings, text.encode())


_SHELL_WORDS = [
    "pip",
    "pip3",
    "install",
    "-m",
    "python",
    "uv",
    "add",
    "pipx",
    "inject",
    "conda",
    "mamba",
    "env",
    "create",
    "-f",
    "apt-get",
    "update",
    "apk",
    "add",
    "yum",
    "git",
    "clone",
    "checkout",
    "-b",
    "curl",
    "wget",
    "-o",
    "-O",
    "|",
    "&&",
    ";",
    "sh",
    "bash",
    "-c",
    "huggingface-cli",
    "hf",
    "download",
    "--revision",
    "torch",
    "torch==2.1",
    "'numpy>=1'",
    "git+https://x/y@main",
    "https://h.co/a.whl",
    "-r",
    "r.txt",
    "-c",
    "c.txt",
    "$X",
    "\\\n",
    '"',
    "'",
    "<<EOF\nRUN\nEOF",
    "(",
    ")",
    "$(",
    ">",
    "-U",
    "--no-cache-dir",
    "rm",
    "-rf",
    "/var/lib/apt/lists/*",
    "clean",
    "-a",
    "snapshot_download('a/b')",
    "\n",
    "#",
    "USER",
    "root",
    "CMD",
    "ENV",
    "HF_TOKEN=hf_x",
    "COPY",
    "--from=x",
    "AS",
    "FROM",
    "img:1",
]


@SETTINGS
@given(st.lists(st.sampled_from(_SHELL_WORDS), max_size=40))
def test_run_lines_never_raise(words: list[str]) -> None:
    text = "FROM a:1 AS b\nRUN " + " ".join(words) + "\nFROM b\nRUN " + " ".join(reversed(words)) + "\n"
    outcome, findings = _scan("Dockerfile", "dockerfile", text.encode())
    _check_spans(outcome, findings, text.encode())


@SETTINGS
@given(kinds, trees)
def test_manifest_shapes_never_raise(kind: str, spec: object) -> None:
    doc = {"apiVersion": "v1", "kind": kind, "metadata": {"name": "x"}, "spec": spec}
    data = json.dumps(doc).encode()  # JSON is YAML: every shape, flow style
    outcome, findings = _scan("x.yaml", "yaml", data)
    _check_spans(outcome, findings, data)
    compose = json.dumps({"services": {"s": spec}}).encode()
    outcome, findings = _scan("compose.yaml", "compose", compose)
    _check_spans(outcome, findings, compose)


def _seed_documents() -> list[tuple[str, object]]:
    """Every Kubernetes object and Compose file among the fixtures and examples, as plain data: real shapes of
    every kind mllint reads (Kubeflow, Ray, KServe, Argo, JobSet, LWS, Compose), to change one field at a time."""
    from ruamel.yaml import YAML

    yaml = YAML(typ="safe", pure=True)
    out: list[tuple[str, object]] = []
    for path in sorted([*ROOT.glob("fixtures/ML*/**/*.y*ml"), *ROOT.glob("examples/**/*.y*ml")]):
        try:
            docs = list(yaml.load_all(path.read_text(encoding="utf-8")))
        except Exception:  # a fixture of a broken file
            continue
        name = "compose.yaml" if "compose" in path.name else "x.yaml"
        out += [(name, doc) for doc in docs if isinstance(doc, dict) and ("kind" in doc or "services" in doc)]
    return out


SEEDS = _seed_documents()
DOCKERFILES = sorted(p for p in ROOT.glob("fixtures/ML*/**/*") if p.is_file() and "ockerfile" in p.name)


def _paths(node: object, at: tuple = ()) -> list[tuple]:
    """The path of every field and list item in a document."""
    found: list[tuple] = [at]
    if isinstance(node, dict):
        for key, value in node.items():
            found += _paths(value, (*at, key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            found += _paths(value, (*at, i))
    return found


def _replace(node: object, path: tuple, value: object) -> object:
    if not path:
        return value
    head, rest = path[0], path[1:]
    if isinstance(node, dict):
        return {k: (_replace(v, rest, value) if k == head else v) for k, v in node.items()}
    if isinstance(node, list):
        return [_replace(v, rest, value) if i == head else v for i, v in enumerate(node)]
    return node


@SETTINGS
@given(st.sampled_from(SEEDS), st.lists(st.tuples(st.floats(0, 1, exclude_max=True), trees), min_size=1, max_size=3))
def test_any_field_of_a_real_object_may_hold_any_type(seed: tuple[str, object], changes: list) -> None:
    """A real object of each kind with one to three fields (or list items) given a random type and value."""
    name, doc = seed
    for where, value in changes:
        paths = _paths(doc)
        doc = _replace(doc, paths[int(where * len(paths))], value)
    data = json.dumps(doc, default=str).encode()
    outcome, findings = _scan(name, "compose" if name == "compose.yaml" else "yaml", data)
    _check_spans(outcome, findings, data)


@SETTINGS
@given(st.sampled_from(DOCKERFILES), st.data())
def test_any_instruction_of_a_real_dockerfile_may_hold_anything(path: Path, data: st.DataObject) -> None:
    """A real Dockerfile with one instruction's arguments replaced by shell words or arbitrary text."""
    lines = path.read_text(encoding="utf-8").split("\n")
    at = data.draw(st.integers(0, len(lines) - 1))
    keyword = lines[at].split(" ", 1)[0]
    words = data.draw(
        st.one_of(st.lists(st.sampled_from(_SHELL_WORDS), max_size=20).map(" ".join), st.text(max_size=60))
    )
    lines[at] = f"{keyword} {words}"
    text = "\n".join(lines).encode("utf-8", "surrogatepass")
    outcome, findings = _scan("Dockerfile", "dockerfile", text)
    _check_spans(outcome, findings, text)


def test_two_runs_are_byte_identical() -> None:
    a = render("sarif", engine.scan(["fixtures"]))
    b = render("sarif", engine.scan(["fixtures"]))
    assert a == b
    assert render("json", engine.scan(["fixtures"])) == render("json", engine.scan(["fixtures"]))
