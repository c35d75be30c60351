"""Where a value comes from: a template, a placeholder word, a placeholder image, a controller's defaults, a
kustomize patch's base. Such a value is not judged as written, and what it leaves out is not missing."""

from __future__ import annotations

from pathlib import Path

import pytest

from mllint import engine, project_index, yamlsrc
from mllint.discover import discover
from mllint.imageref import parse_image
from mllint.loader import parse
from mllint.model import Container, SourceFile, Span
from mllint.quantity import is_placeholder, is_templated, is_unresolved

S = Span("x", 1, 1, 1, 2)


def load(text: str, name: str = "k.yaml") -> SourceFile:
    file = parse(name, "yaml", text.encode())
    assert isinstance(file, SourceFile)
    return file


def rules_of(file: SourceFile) -> list[str]:
    return [d.rule for d in file.diagnostics]


def containers(file: SourceFile) -> dict[str, Container]:
    return {c.name: c for w in file.workloads for c in w.pod.all_containers}


# -- templates that YAML reads as flow mappings ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "source, expected",
    [
        ("v: {{ .Values.x }}", "{{ .Values.x }}"),
        ("v: {{.Image}}", "{{ .Image }}"),
        ('v: {{ include "chart.image" . }}', '{{ include "chart.image" . }}'),
        ("v: {{inputs.parameters.image}}", "{{ inputs.parameters.image }}"),
        ("v: {{}}", "{{ }}"),
        ("v: { {a: b}: c }", None),  # a mapping with a mapping for a key: a structure, not a template
        ("v: {{ a: b }}", None),
        ("v: {x: y}", None),
        ("v: [x]", None),
        ("v: plain", "plain"),
    ],
)
def test_a_go_template_read_as_a_flow_mapping_is_text(source: str, expected: str | None) -> None:
    [doc] = yamlsrc.compose("x", source, [])
    value = yamlsrc.get(doc.root, "v")
    assert yamlsrc.text(value) == expected
    assert yamlsrc.is_template(value) == (expected is not None and expected.startswith("{{"))


HELM_POD = """\
apiVersion: v1
kind: Pod
metadata:
  name: {{ .Release.Name }}
spec:
  containers:
    - name: server
      image: {{.Image}}
      args:
        - {{ .Values.arg }}
      resources:
        limits:
          cpu: {{ .Values.cpu }}
          memory: {{ .Values.memory }}
          nvidia.com/gpu: {{ .Values.gpus }}
      livenessProbe: {{ toJson .Values.probe }}
      volumeMounts: {{ .Values.mounts }}
    - name: sidecar
      image: busybox:1.36
      resources: {{ toYaml .Values.sidecar.resources }}
  volumes: {{ .Values.volumes }}
"""


def test_template_values_are_templated_values_not_structure_errors() -> None:
    file = load(HELM_POD)
    assert rules_of(file) == []
    server, sidecar = containers(file)["server"], containers(file)["sidecar"]
    assert server.image is not None and server.image.templated and server.image.raw == "{{ .Image }}"
    assert server.image.span[1:3] == (8, 14)
    assert [a.text for a in server.args] == ["{{ .Values.arg }}"] and server.args[0].templated
    limits = server.resources.limits
    assert set(limits) == {"cpu", "memory", "nvidia.com/gpu"}
    assert all(q.templated and q.amount is None for q in limits.values())
    assert "liveness" in server.probes  # written, by a template: not missing
    assert file.workloads[0].name == "{{ .Release.Name }}"
    assert sidecar.defaults == {"cpu", "memory", "gpu"}  # a template writes the whole block


def test_real_structure_errors_are_still_reported() -> None:
    file = load(
        """\
apiVersion: v1
kind: Pod
metadata: {name: p}
spec:
  containers:
    - name: a
      image: {repository: x}
      resources: [cpu, memory]
      env: {name: X}
  volumes:
    - name model-volume
"""
    )
    assert rules_of(file) == ["ML002"] * 4


# -- placeholder words ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    ["PLACEHOLDER_NUM_GPU_PER_NODE", "FILLED BY THE OPERATOR", "FILLED_BY_VALIDATOR", "__GPUS__", "%CPU%", "changeme"],
)
def test_placeholder_words(text: str) -> None:
    assert is_placeholder(text) and is_unresolved(text)


@pytest.mark.parametrize("text", ["8 Gi", "8GB", "two", "GPU", "1e3M", "nvidia", "Two Gpus", "500m"])
def test_values_that_are_not_placeholders(text: str) -> None:
    assert not is_placeholder(text)


def test_jinja_blocks_are_templates() -> None:
    assert is_templated("{% if gpu %}1{% endif %}")


def test_a_placeholder_word_is_no_invalid_quantity_but_a_wrong_one_still_is() -> None:
    file = load(
        """\
apiVersion: v1
kind: Pod
metadata: {name: p}
spec:
  containers:
    - name: a
      image: img:1
      resources:
        limits:
          nvidia.com/gpu: PLACEHOLDER_NUM_GPU_PER_NODE
          memory: 16GB
          cpu: two
"""
    )
    assert [(d.rule, d.span.line) for d in file.diagnostics] == [("ML005", 11), ("ML005", 12)]
    assert containers(file)["a"].resources.limits["nvidia.com/gpu"].templated


@pytest.mark.parametrize(
    "raw",
    [
        "FILLED BY THE OPERATOR",
        "FILLED_BY_THE_VALIDATOR",
        "PLACEHOLDER_IMAGE",
        "IMAGE_URL",
        "gcr.io/ml-pipeline/should-be-overridden-during-runtime",
    ],
)
def test_placeholder_images(raw: str) -> None:
    ref = parse_image(raw, S)
    assert ref.placeholder and ref.templated


@pytest.mark.parametrize("raw", ["nginx", "ghcr.io/kubeflow/kfp-launcher:latest", "${IMAGE}", "placeholder-app:1.0"])
def test_images_that_are_not_placeholders(raw: str) -> None:
    assert not parse_image(raw, S).placeholder


# -- controller defaults -----------------------------------------------------------------------------------------------

ISVC = """\
apiVersion: serving.kserve.io/v1beta1
kind: InferenceService
metadata: {name: s}
spec:
  predictor:
    containers:
      - {name: custom, image: 'img:1'}
      - {name: sidecar, image: 'side:1'}
  transformer:
    containers:
      - {name: transform, image: 'tr:1'}
  explainer:
    containers:
      - {name: explain, image: 'ex:1'}
---
apiVersion: serving.kserve.io/v1beta1
kind: InferenceService
metadata: {name: t}
spec:
  predictor:
    sklearn: {storageUri: 'gs://m'}
    containers:
      - {name: kserve-container, image: 'img:1'}
      - {name: proxy, image: 'proxy:1'}
"""


def test_kserve_defaults_the_first_container_of_a_custom_component() -> None:
    found = {(w.name, c.name): c.defaults for w in load(ISVC).workloads for c in w.pod.containers}
    assert found == {
        ("s", "custom"): {"cpu", "memory"},
        ("s", "sidecar"): frozenset(),
        ("s", "transform"): {"cpu", "memory"},
        ("s", "explain"): frozenset(),
        ("t", "kserve-container"): {"cpu", "memory"},  # merged into the sklearn container
        ("t", "proxy"): frozenset(),
    }


TRAINER = """\
apiVersion: trainer.kubeflow.org/v1alpha1
kind: TrainingRuntime
metadata: {name: rt}
spec:
  template:
    spec:
      replicatedJobs:
        - name: dataset-initializer
          template: {spec: {template: {spec: {containers: [{name: dataset-initializer, image: 'd:1'}]}}}}
        - name: node
          template: {spec: {template: {spec: {containers: [{name: node, image: 'n:1'}]}}}}
---
apiVersion: trainer.kubeflow.org/v1alpha1
kind: TrainJob
metadata: {name: without}
spec:
  runtimeRef: {name: rt}
  trainer: {image: 't:1'}
---
apiVersion: trainer.kubeflow.org/v1alpha1
kind: TrainJob
metadata: {name: with}
spec:
  runtimeRef: {name: rt}
  trainer:
    image: 't:1'
    resourcesPerNode: {limits: {nvidia.com/gpu: 1}}
"""


def test_trainer_resources_per_node_and_the_runtime_s_node_container() -> None:
    found = {(w.name, c.name): c.defaults for w in load(TRAINER).workloads for c in w.pod.containers}
    assert found == {
        ("rt", "dataset-initializer"): frozenset(),
        ("rt", "node"): {"cpu", "memory", "gpu"},
        ("without", "trainer"): {"cpu", "memory", "gpu"},  # the runtime's
        ("with", "trainer"): frozenset(),  # its own resourcesPerNode, read as its resources
    }


def test_the_engine_skips_only_the_absence_of_defaulted_resources() -> None:
    text = """\
apiVersion: serving.kserve.io/v1beta1
kind: InferenceService
metadata: {name: s}
spec:
  predictor:
    containers:
      - name: custom
        image: img:1
        env: [{name: NVIDIA_VISIBLE_DEVICES, value: all}]
      - {name: sidecar, image: 'side:1'}
"""
    result = engine.scan(
        [], engine.Options(select=["ML104", "ML504", "ML505"], jobs=1), stdin=("s.yaml", text.encode())
    )
    found = sorted((f.rule, f.span.line) for f in result.findings)
    assert found == [("ML104", 9), ("ML504", 10), ("ML505", 10)]  # no GPU defaults; the sidecar has none


# -- kustomize patches ---------------------------------------------------------------------------------------------

DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: app}
spec:
  template:
    spec:
      containers:
        - name: server
          image: ghcr.io/example/server:1.0
          ports: [{containerPort: 8080}]
"""


def write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def test_the_index_collects_patch_files_relative_to_their_kustomization(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "base/kustomization.yaml": "resources: [deployment.yaml]\n",
            "base/deployment.yaml": DEPLOYMENT,
            "overlay/kustomization.yaml": """\
resources: [../base, shared.yaml]
patches:
  - path: patches/a.yaml
  - patch: |-
      - op: add
        path: /spec/replicas
        value: 2
patchesStrategicMerge:
  - b.yaml
  - ../common/c.yaml
  - |-
    apiVersion: apps/v1
    kind: Deployment
    metadata: {name: inline}
patchesJson6902:
  - target: {kind: Deployment, name: app}
    path: d.yaml
  - path: shared.yaml
""",
            "overlay/patches/a.yaml": DEPLOYMENT,
            "overlay/b.yaml": DEPLOYMENT,
            "common/c.yaml": DEPLOYMENT,
            "overlay/d.yaml": "- {op: add, path: /spec/replicas, value: 2}\n",
            "overlay/shared.yaml": DEPLOYMENT,  # a resource here too: a whole object
        },
    )
    candidates, _ = discover([str(tmp_path)], [])
    index = project_index.build(candidates)
    names = sorted(Path(p).relative_to(tmp_path).as_posix() for p in index.fragments)
    assert names == ["common/c.yaml", "overlay/b.yaml", "overlay/d.yaml", "overlay/patches/a.yaml"]


def test_no_absence_finding_in_a_patch_but_the_base_is_judged(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "base/kustomization.yaml": "resources: [deployment.yaml]\n",
            "base/deployment.yaml": DEPLOYMENT,
            "overlay/kustomization.yaml": "resources: [../base]\npatchesStrategicMerge: [server.yaml]\n",
            "overlay/server.yaml": DEPLOYMENT.replace("1.0", "latest"),
        },
    )
    options = engine.Options(select=["ML301", "ML504", "ML505"], jobs=1)
    result = engine.scan([str(tmp_path)], options)
    found = sorted((Path(f.span.path).relative_to(tmp_path).as_posix(), f.rule) for f in result.findings)
    # the patch writes the moving tag itself: that is in the rendered object
    assert found == [
        ("base/deployment.yaml", "ML504"),
        ("base/deployment.yaml", "ML505"),
        ("overlay/server.yaml", "ML301"),
    ]
    alone = engine.scan([str(tmp_path / "overlay" / "server.yaml")], options)
    assert sorted(f.rule for f in alone.findings) == ["ML301", "ML504", "ML505"]  # no kustomization: whole


def test_placeholder_containers_get_no_absence_or_image_findings() -> None:
    text = """\
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: exporter}
spec:
  template:
    spec:
      containers:
        - name: exporter
          image: "FILLED BY THE OPERATOR"
          ports: [{containerPort: 9400}]
        - name: real
          image: busybox
"""
    options = engine.Options(select=["ML301", "ML504", "ML505"], jobs=1)
    result = engine.scan([], options, stdin=("ds.yaml", text.encode()))
    assert sorted((f.rule, f.span.line) for f in result.findings) == [("ML301", 12), ("ML504", 11), ("ML505", 11)]
