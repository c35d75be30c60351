"""What each container is (`mllint.roles`): the classifier over a table of containers, the sidecar rule, the
overrides (annotation and configuration), and the roles the engine reports with --verbose."""

from __future__ import annotations

import json

import jsonschema
import pytest

from conftest import ROOT
from mllint import engine, roles
from mllint.loader import parse
from mllint.model import SourceFile, Workload
from mllint.report import render


def load(text: str, name: str = "k.yaml") -> SourceFile:
    file = parse(name, "yaml", text.encode())
    assert isinstance(file, SourceFile)
    return file


def workload(
    image: str | None,
    command: list[str] | None = None,
    kind: str = "Deployment",
    gpu: int = 0,
    ports: tuple[int, ...] = (),
    api: str = "apps/v1",
    name: str = "main",
) -> Workload:
    """One workload of `kind` whose pod has one container with these fields."""
    container: dict = {"name": name}
    if image is not None:
        container["image"] = image
    if command:
        container["command"] = command
    if gpu:
        container["resources"] = {"limits": {"nvidia.com/gpu": gpu}}
    if ports:
        container["ports"] = [{"containerPort": p} for p in ports]
    pod: dict = {"containers": [container]}
    if kind in ("Job", "Pod"):
        pod["restartPolicy"] = "Never"
    spec: dict
    if kind == "Pod":
        spec = pod
    elif kind == "PyTorchJob":
        spec = {"pytorchReplicaSpecs": {"Worker": {"replicas": 2, "template": {"spec": pod}}}}
    else:
        spec = {"template": {"spec": pod}}
    doc = {"apiVersion": api, "kind": kind, "metadata": {"name": "w"}, "spec": spec}
    file = load(json.dumps(doc))
    assert len(file.workloads) == 1, file.diagnostics
    return file.workloads[0]


def decided(w: Workload) -> roles.Role:
    return roles.workload_roles(w)[-1]


# (image, command line, kind, GPUs, ports) -> role, and a word the evidence must hold
TABLE = [
    # model servers by image
    ("vllm/vllm-openai:v0.6.3", None, "Deployment", 1, (8000,), "model-server", "vllm/vllm-openai"),
    ("nvcr.io/nvidia/tritonserver:24.05-py3", None, "Deployment", 0, (8000,), "model-server", "tritonserver"),
    ("ghcr.io/huggingface/text-generation-inference:2.0", None, "StatefulSet", 1, (), "model-server", "text-gen"),
    ("ghcr.io/huggingface/text-embeddings-inference:cpu-1.5", None, "Deployment", 0, (80,), "model-server", "emb"),
    ("tensorflow/serving:2.14.1", None, "Deployment", 0, (8501,), "model-server", "tensorflow/serving"),
    ("pytorch/torchserve:0.11.0-gpu", None, "Deployment", 0, (8080,), "model-server", "torchserve"),
    ("lmsysorg/sglang:v0.3.0", None, "Deployment", 1, (), "model-server", "sglang"),
    ("ollama/ollama:0.3.0", None, "Deployment", 0, (11434,), "model-server", "ollama"),
    ("ghcr.io/ggerganov/llama.cpp:server", None, "Deployment", 0, (8080,), "model-server", "llama.cpp"),
    ("nvcr.io/nim/meta/llama3-8b-instruct:1.0.0", None, "Deployment", 1, (8000,), "model-server", "nim"),
    ("openvino/model_server:2024.4", None, "Deployment", 0, (9000,), "model-server", "model_server"),
    ("openmmlab/lmdeploy:latest", None, "Deployment", 1, (), "model-server", "lmdeploy"),
    ("seldonio/mlserver:1.6.0", None, "StatefulSet", 0, (9000,), "model-server", "mlserver"),
    ("kserve/sklearnserver:v0.13.0", None, "Deployment", 0, (8080,), "model-server", "sklearnserver"),
    ("us-docker.pkg.dev/p/inference/jetstream-http:v0.2.2", None, "Deployment", 0, (8000,), "model-server", "jet"),
    # model servers by command
    ("ghcr.io/acme/base:1", "vllm serve meta-llama/Llama-3-8B", "Deployment", 0, (), "model-server", "vllm serve"),
    (
        "ubuntu:22.04",
        "python3 -m vllm.entrypoints.openai.api_server",
        "Deployment",
        0,
        (),
        "model-server",
        "api_server",
    ),
    ("ghcr.io/acme/base:1", "text-generation-launcher --model-id x", "Deployment", 0, (), "model-server", "launcher"),
    (
        "{{ .Values.image }}",
        "/opt/tritonserver/bin/tritonserver --model-repository=/m",
        "Deployment",
        0,
        (),
        "model-server",
        "tritonserver",
    ),
    (
        "ghcr.io/mlflow/mlflow:v2",
        "mlflow models serve -m runs:/1/m",
        "Deployment",
        0,
        (5000,),
        "model-server",
        "mlflow models serve",
    ),
    ("rayproject/ray:2.9.0", "serve run config.yaml", "Deployment", 0, (8000,), "model-server", "serve run"),
    ("python:3.11", "python -m sglang.launch_server --model-path x", "Deployment", 0, (), "model-server", "sglang"),
    ("acme/app:1", "bentoml serve service:Svc", "Deployment", 0, (3000,), "model-server", "bentoml serve"),
    # a GPU and a served port
    ("ghcr.io/acme/reranker:1.2", None, "Deployment", 1, (8080,), "model-server", "serves port 8080"),
    # a generic web server needs a sign of a model
    ("ghcr.io/acme/shop:1", "uvicorn app:api --port 8000", "Deployment", 0, (8000,), "service", "uvicorn"),
    ("ghcr.io/acme/llm-api:1", "uvicorn app:api", "Deployment", 0, (8000,), "model-server", "llm-api"),
    ("ghcr.io/acme/shop:1", "gunicorn app:api --model /m", "Deployment", 0, (8000,), "model-server", "--model"),
    ("ghcr.io/acme/shop:1", "uvicorn app:api", "Deployment", 1, (8000,), "model-server", "nvidia.com/gpu"),
    # services
    ("mysql:8.0", None, "Deployment", 0, (3306,), "service", "mysql"),
    ("redis:7.4.0", "redis-server /etc/redis.conf", "Deployment", 0, (6379,), "service", "redis"),
    ("hazelcast/hazelcast:5.3", None, "StatefulSet", 0, (5701,), "service", "hazelcast"),
    ("grafana/tempo:2.5.0", None, "Deployment", 0, (3200,), "service", "tempo"),
    ("ghcr.io/acme/shop:1", None, "Deployment", 0, (8080,), "service", "no known"),
    ("gcr.io/kubebuilder/kube-rbac-proxy:v0.13.1", None, "Deployment", 0, (8443,), "service", "kube-rbac-proxy"),
    # routers and clients of model servers are not model servers
    ("lmcache/vllm-router:latest", None, "Deployment", 0, (8000,), "service", ""),
    ("nvcr.io/nvidia/tritonserver:24.05-py3-sdk", "perf_analyzer -m x", "Deployment", 0, (), "service", ""),
    ("vllm/vllm-openai:v0.6.3", "sleep infinity", "Deployment", 0, (), "service", ""),
    # controllers
    ("controller:latest", "/manager --leader-elect", "Deployment", 0, (9443,), "controller", "/manager"),
    ("kserve/kserve-controller:v0.14.0", None, "StatefulSet", 0, (9443,), "controller", "kserve-controller"),
    ("ghcr.io/kubeflow/kubeflow/poddefaults-webhook:v1", None, "Deployment", 0, (4443,), "controller", "webhook"),
    ("ghcr.io/acme/op:1", "op --health-probe-bind-address=:8081", "Deployment", 0, (), "controller", "probe"),
    # notebooks
    ("jupyter/tensorflow-notebook:python-3.10", None, "StatefulSet", 0, (8888,), "notebook", "notebook"),
    ("kubeflownotebookswg/jupyter-scipy:v1.8.0", None, "Notebook", 0, (), "notebook", "Notebook"),
    ("ghcr.io/kubeflow/kubeflow/jupyter-web-app:v1", None, "Deployment", 0, (5000,), "service", ""),
    # GPU node daemons
    ("nvcr.io/nvidia/k8s-device-plugin:v0.16.1", None, "DaemonSet", 0, (), "gpu-daemon", "device-plugin"),
    ("nvcr.io/nvidia/k8s/dcgm-exporter:3.3.5", None, "DaemonSet", 0, (9400,), "gpu-daemon", "dcgm"),
    ("nvcr.io/nvidia/driver:550", None, "DaemonSet", 0, (), "gpu-daemon", "driver"),
    # training and batch
    ("nvcr.io/nvidia/pytorch:24.01-py3", "torchrun train.py", "PyTorchJob", 8, (), "training", "PyTorchJob"),
    ("nvcr.io/nvidia/pytorch:24.01-py3", "torchrun --nproc-per-node=8 train.py", "Job", 8, (), "training", "torchrun"),
    ("nvcr.io/nvidia/pytorch:24.01-py3", "python embed.py", "Job", 1, (), "training", "GPU batch job"),
    ("python:3.11", "python preprocess.py", "Job", 0, (), "batch", "Job"),
    ("nvcr.io/nim/meta/llama3-8b-instruct:1.0.0", "download-to-cache", "Job", 0, (), "batch", "Job"),
    ("busybox:1.36", "sh -c echo hi", "Pod", 0, (), "batch", "restartPolicy Never"),
    # placeholders
    ("FILLED BY THE OPERATOR", None, "DaemonSet", 0, (), "placeholder", "FILLED"),
    ("gcr.io/ml-pipeline/should-be-overridden-during-runtime", None, "Deployment", 0, (), "placeholder", "overridden"),
]


@pytest.mark.parametrize(("image", "command", "kind", "gpu", "ports", "role", "evidence"), TABLE)
def test_classifier(
    image: str, command: str | None, kind: str, gpu: int, ports: tuple[int, ...], role: str, evidence: str
) -> None:
    got = decided(workload(image, command.split() if command else None, kind, gpu, ports))
    assert got.name == role, got
    assert evidence.lower() in got.evidence.lower(), got


def test_kserve_and_ray_serve_by_kind() -> None:
    isvc = load(
        """\
apiVersion: serving.kserve.io/v1beta1
kind: InferenceService
metadata: {name: llama}
spec:
  predictor:
    sklearn: {storageUri: "gs://models/iris"}
  transformer:
    containers:
    - {name: kserve-container, image: acme/tokenizer:1}
"""
    )
    found = {w.role: roles.workload_roles(w)[0] for w in isvc.workloads}
    assert found["InferenceService/predictor"] == roles.Role("model-server", "KServe InferenceService predictor")
    assert found["InferenceService/transformer"].name == "service"
    runtime = load(
        """\
apiVersion: serving.kserve.io/v1alpha1
kind: ClusterServingRuntime
metadata: {name: rt}
spec:
  containers:
  - {name: kserve-container, image: "acme/runtime:1"}
"""
    )
    assert roles.workload_roles(runtime.workloads[0])[0].evidence == "KServe ClusterServingRuntime"


def test_a_sidecar_that_the_servers_probes_cover_is_not_a_second_server() -> None:
    file = load(
        """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: llm}
spec:
  template:
    spec:
      containers:
      - name: vllm
        image: vllm/vllm-openai:v0.6.3
        readinessProbe: {httpGet: {path: /health, port: proxy}}
      - name: http
        image: us-docker.pkg.dev/acme/inference/jetstream-http:v0.2.2
        ports: [{name: proxy, containerPort: 8443}]
      - name: server-two
        image: ghcr.io/huggingface/text-embeddings-inference:1.5
        ports: [{containerPort: 8080}]
"""
    )
    vllm, http, tei = roles.workload_roles(file.workloads[0])
    assert vllm.name == "model-server"
    assert http == roles.Role("service", "a sidecar of model server 'vllm', whose probes already check port 8443")
    assert tei.name == "model-server"  # its own port: a second server


def test_annotation_overrides_the_evidence() -> None:
    file = load(
        """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: reranker
  annotations: {mllint.dev/role: model-server}
spec:
  template:
    metadata:
      annotations: {mllint.dev/role.cache: service}
    spec:
      initContainers:
      - {name: fetch, image: busybox:1.36}
      containers:
      - {name: reranker, image: ghcr.io/acme/reranker:1.2}
      - {name: cache, image: ghcr.io/acme/vllm-kv-cache:1}
      - {name: typo, image: mysql:8.0}
"""
    )
    fetch, reranker, cache, typo = roles.workload_roles(file.workloads[0])
    assert fetch.name == "init"  # the object's annotation names the pod's containers, not its init containers
    assert reranker == roles.Role("model-server", "annotation mllint.dev/role: model-server on the object")
    assert cache == roles.Role("service", "annotation mllint.dev/role.cache: service on the pod template")
    assert typo.name == "model-server"


def test_an_annotation_that_names_no_role_is_ignored() -> None:
    file = load(
        """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: db
  annotations: {mllint.dev/role: modelserver}
spec:
  template:
    spec:
      containers:
      - {name: db, image: mysql:8.0}
"""
    )
    assert roles.workload_roles(file.workloads[0])[0].name == "service"


def test_configuration_roles_by_image_glob() -> None:
    w = workload("ghcr.io/acme/reranker:1.2", ports=(8080,))
    assert decided(w).name == "service"
    settings = roles.Settings(images=(("ghcr.io/acme/reranker*", "model-server"),))
    got = roles.workload_roles(w, settings)[0]
    assert got.name == "model-server" and "ghcr.io/acme/reranker*" in got.evidence
    bare = roles.Settings(images=(("ghcr.io/acme/reranker", "model-server"),))  # no tag in the glob: any tag
    assert roles.workload_roles(w, bare)[0].name == "model-server"


def test_compose_services() -> None:
    file = parse(
        "compose.yaml",
        "compose",
        b"""\
services:
  tei:
    image: ghcr.io/huggingface/text-embeddings-inference:cpu-1.5
  app:
    image: ghcr.io/acme/chat-ui:1
    ports: ["3000:3000"]
  llm:
    build: .
    ports: ["8000:8000"]
    deploy: {resources: {reservations: {devices: [{driver: nvidia, count: 1, capabilities: [gpu]}]}}}
""",
    )
    assert isinstance(file, SourceFile)
    got = {w.name: roles.workload_roles(w)[0].name for w in file.workloads}
    assert got == {"tei": "model-server", "app": "service", "llm": "model-server"}


def test_the_engine_assigns_roles_and_the_json_report_lists_them_with_verbose(tmp_path) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "deploy.yaml").write_text(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: llm}\nspec:\n  template:\n    spec:\n"
        "      containers:\n      - {name: vllm, image: vllm/vllm-openai:v0.6.3}\n"
    )
    (tmp_path / ".mllint.yaml").write_text("roles: {'vllm/vllm-openai*': service}\n")
    from mllint import config
    from mllint.options import from_config

    cfg = config.load(tmp_path / ".mllint.yaml")
    result = engine.scan([str(tmp_path / "deploy.yaml")], from_config(cfg, jobs=1))
    assert [(r.container, r.role) for r in result.workloads] == [("vllm", "service")]
    assert not [f for f in result.findings if f.rule in ("ML501", "ML502")]  # the configuration says it is not one
    schema = json.loads((ROOT / "schemas" / "report.schema.json").read_text())
    verbose = json.loads(render("json", result, verbose=True))
    jsonschema.Draft202012Validator(schema).validate(verbose)
    assert verbose["workloads"][0]["role"] == "service"
    assert "workloads" not in json.loads(render("json", result))
    assert "container 'vllm': service (configuration roles:" in render("text", result, verbose=True)


def test_the_schemas_list_the_roles() -> None:
    config = json.loads((ROOT / "schemas" / "config.schema.json").read_text())
    report = json.loads((ROOT / "schemas" / "report.schema.json").read_text())
    assert tuple(config["properties"]["roles"]["additionalProperties"]["enum"]) == roles.CHOSEN_ROLES
    assert tuple(report["properties"]["workloads"]["items"]["properties"]["role"]["enum"]) == roles.ROLES
