"""Every kind in the extraction table yields its pod templates with roles and replicas."""

from __future__ import annotations

import pytest

from mllint.loader import parse
from mllint.sources.kinds import KINDS

POD = "spec: {containers: [{name: main, image: 'img:1', resources: {limits: {nvidia.com/gpu: 1}}}]}"


def doc(api: str, kind: str, body: str) -> str:
    return f"apiVersion: {api}\nkind: {kind}\nmetadata: {{name: obj, namespace: ml}}\n{body}\n"


CASES = {
    "Pod": (doc("v1", "Pod", POD), [(None, None)]),
    "PodTemplate": (doc("v1", "PodTemplate", f"template: {{{POD}}}"), [(None, None)]),
    "Deployment": (doc("apps/v1", "Deployment", f"spec: {{replicas: 3, template: {{{POD}}}}}"), [(None, 3)]),
    "StatefulSet": (doc("apps/v1", "StatefulSet", f"spec: {{replicas: 2, template: {{{POD}}}}}"), [(None, 2)]),
    "DaemonSet": (doc("apps/v1", "DaemonSet", f"spec: {{template: {{{POD}}}}}"), [(None, None)]),
    "ReplicaSet": (doc("apps/v1", "ReplicaSet", f"spec: {{replicas: 1, template: {{{POD}}}}}"), [(None, 1)]),
    "ReplicationController": (
        doc("v1", "ReplicationController", f"spec: {{replicas: 1, template: {{{POD}}}}}"),
        [(None, 1)],
    ),
    "Job": (doc("batch/v1", "Job", f"spec: {{parallelism: 4, template: {{{POD}}}}}"), [(None, 4)]),
    "CronJob": (
        doc("batch/v1", "CronJob", f"spec: {{jobTemplate: {{spec: {{template: {{{POD}}}}}}}}}"),
        [(None, None)],
    ),
    "PyTorchJob": (
        doc(
            "kubeflow.org/v1",
            "PyTorchJob",
            f"spec: {{pytorchReplicaSpecs: {{Master: {{replicas: 1, template: {{{POD}}}}}, "
            f"Worker: {{replicas: 3, template: {{{POD}}}}}}}}}",
        ),
        [("PyTorchJob/Master", 1), ("PyTorchJob/Worker", 3)],
    ),
    "TFJob": (
        doc("kubeflow.org/v1", "TFJob", f"spec: {{tfReplicaSpecs: {{PS: {{replicas: 1, template: {{{POD}}}}}}}}}"),
        [("TFJob/PS", 1)],
    ),
    "MPIJob": (
        doc(
            "kubeflow.org/v2beta1",
            "MPIJob",
            f"spec: {{mpiReplicaSpecs: {{Launcher: {{replicas: 1, template: {{{POD}}}}}}}}}",
        ),
        [("MPIJob/Launcher", 1)],
    ),
    "XGBoostJob": (
        doc("kubeflow.org/v1", "XGBoostJob", f"spec: {{xgbReplicaSpecs: {{Worker: {{template: {{{POD}}}}}}}}}"),
        [("XGBoostJob/Worker", None)],
    ),
    "PaddleJob": (
        doc("kubeflow.org/v1", "PaddleJob", f"spec: {{paddleReplicaSpecs: {{Worker: {{template: {{{POD}}}}}}}}}"),
        [("PaddleJob/Worker", None)],
    ),
    "JAXJob": (
        doc("kubeflow.org/v1", "JAXJob", f"spec: {{jaxReplicaSpecs: {{Worker: {{template: {{{POD}}}}}}}}}"),
        [("JAXJob/Worker", None)],
    ),
    "MXJob": (
        doc("kubeflow.org/v1", "MXJob", f"spec: {{mxReplicaSpecs: {{Worker: {{template: {{{POD}}}}}}}}}"),
        [("MXJob/Worker", None)],
    ),
    "TrainJob": (
        doc(
            "trainer.kubeflow.org/v1alpha1",
            "TrainJob",
            "spec: {trainer: {image: 'img:1', numNodes: 4, resourcesPerNode: {limits: {nvidia.com/gpu: 8}}}}",
        ),
        [("TrainJob/trainer", 4)],
    ),
    "TrainingRuntime": (
        doc(
            "trainer.kubeflow.org/v1alpha1",
            "TrainingRuntime",
            f"spec: {{template: {{spec: {{replicatedJobs: [{{name: node, replicas: 1, template: {{spec: {{template: {{{POD}}}}}}}}}]}}}}}}",
        ),
        [("TrainingRuntime/node", 1)],
    ),
    "ClusterTrainingRuntime": (
        doc(
            "trainer.kubeflow.org/v1alpha1",
            "ClusterTrainingRuntime",
            f"spec: {{template: {{spec: {{replicatedJobs: [{{name: node, template: {{spec: {{template: {{{POD}}}}}}}}}]}}}}}}",
        ),
        [("ClusterTrainingRuntime/node", None)],
    ),
    "RayCluster": (
        doc(
            "ray.io/v1",
            "RayCluster",
            f"spec: {{headGroupSpec: {{template: {{{POD}}}}}, workerGroupSpecs: [{{groupName: gpu-group, replicas: 2, template: {{{POD}}}}}]}}",
        ),
        [("RayCluster/head", None), ("RayCluster/workers/gpu-group", 2)],
    ),
    "RayJob": (
        doc(
            "ray.io/v1",
            "RayJob",
            f"spec: {{rayClusterSpec: {{headGroupSpec: {{template: {{{POD}}}}}}}, submitterPodTemplate: {{{POD}}}}}",
        ),
        [("RayJob/head", None), ("RayJob/submitter", None)],
    ),
    "RayService": (
        doc(
            "ray.io/v1",
            "RayService",
            f"spec: {{rayClusterConfig: {{workerGroupSpecs: [{{groupName: w, replicas: 1, template: {{{POD}}}}}]}}}}",
        ),
        [("RayService/workers/w", 1)],
    ),
    "InferenceService": (
        doc(
            "serving.kserve.io/v1beta1",
            "InferenceService",
            "spec: {predictor: {model: {modelFormat: {name: sklearn}, storageUri: 's3://m'}}, "
            "transformer: {containers: [{name: t, image: 't:1'}]}}",
        ),
        [("InferenceService/predictor", None), ("InferenceService/transformer", None)],
    ),
    "ServingRuntime": (doc("serving.kserve.io/v1alpha1", "ServingRuntime", POD), [("ServingRuntime/runtime", None)]),
    "ClusterServingRuntime": (
        doc("serving.kserve.io/v1alpha1", "ClusterServingRuntime", POD),
        [("ClusterServingRuntime/runtime", None)],
    ),
    "InferenceGraph": (doc("serving.kserve.io/v1alpha1", "InferenceGraph", "spec: {nodes: {}}"), []),
    "Workflow": (
        doc(
            "argoproj.io/v1alpha1",
            "Workflow",
            "spec: {templates: [{name: steps, steps: []}, {name: train, container: {image: 'img:1'}}, "
            "{name: s, script: {image: 'py:3', source: x}}]}",
        ),
        [("Workflow/train", None), ("Workflow/s", None)],
    ),
    "WorkflowTemplate": (
        doc(
            "argoproj.io/v1alpha1",
            "WorkflowTemplate",
            "spec: {templates: [{name: c, containerSet: {containers: [{name: a, image: 'a:1'}]}}]}",
        ),
        [("WorkflowTemplate/c", None)],
    ),
    "ClusterWorkflowTemplate": (
        doc(
            "argoproj.io/v1alpha1",
            "ClusterWorkflowTemplate",
            "spec: {templates: [{name: c, container: {image: 'a:1'}}]}",
        ),
        [("ClusterWorkflowTemplate/c", None)],
    ),
    "CronWorkflow": (
        doc(
            "argoproj.io/v1alpha1",
            "CronWorkflow",
            "spec: {workflowSpec: {templates: [{name: c, container: {image: 'a:1'}}]}}",
        ),
        [("CronWorkflow/c", None)],
    ),
    "Rollout": (doc("argoproj.io/v1alpha1", "Rollout", f"spec: {{replicas: 5, template: {{{POD}}}}}"), [(None, 5)]),
    "batch.volcano.sh/Job": (
        doc(
            "batch.volcano.sh/v1alpha1", "Job", f"spec: {{tasks: [{{name: worker, replicas: 4, template: {{{POD}}}}}]}}"
        ),
        [("Job/worker", 4)],
    ),
    "JobSet": (
        doc(
            "jobset.x-k8s.io/v1alpha2",
            "JobSet",
            f"spec: {{replicatedJobs: [{{name: workers, replicas: 2, template: {{spec: {{template: {{{POD}}}}}}}}}]}}",
        ),
        [("JobSet/workers", 2)],
    ),
    "LeaderWorkerSet": (
        doc(
            "leaderworkerset.x-k8s.io/v1",
            "LeaderWorkerSet",
            f"spec: {{replicas: 2, leaderWorkerTemplate: {{leaderTemplate: {{{POD}}}, workerTemplate: {{{POD}}}}}}}",
        ),
        [("LeaderWorkerSet/leader", 2), ("LeaderWorkerSet/worker", 2)],
    ),
    "serving.knative.dev/Service": (
        doc("serving.knative.dev/v1", "Service", f"spec: {{template: {{{POD}}}}}"),
        [(None, None)],
    ),
    "Notebook": (doc("kubeflow.org/v1", "Notebook", f"spec: {{template: {{{POD}}}}}"), [(None, None)]),
    "SeldonDeployment": (
        doc(
            "machinelearning.seldon.io/v1",
            "SeldonDeployment",
            f"spec: {{predictors: [{{name: default, replicas: 2, componentSpecs: [{POD}]}}]}}",
        ),
        [("SeldonDeployment/default/0", None)],
    ),
}


def test_every_kind_has_a_case() -> None:
    assert set(CASES) == set(KINDS)


@pytest.mark.parametrize("kind", sorted(CASES))
def test_extraction(kind: str) -> None:
    text, expected = CASES[kind]
    file = parse("k.yaml", "yaml", text.encode())
    assert not file.diagnostics, file.diagnostics
    assert [(w.role, w.replicas) for w in file.workloads] == expected
    for w in file.workloads:
        assert w.pod.containers, f"{kind} {w.role} has no containers"
        assert w.namespace == "ml" and w.name == "obj"


def test_core_service_is_not_a_workload() -> None:
    file = parse("s.yaml", "yaml", doc("v1", "Service", "spec: {ports: [{port: 80}]}").encode())
    assert file.kind == "kubernetes" and not file.workloads and file.objects[0].kind == "Service"


def test_list_kind_is_unwrapped() -> None:
    text = "apiVersion: v1\nkind: List\nitems:\n- " + doc("v1", "Pod", POD).replace("\n", "\n  ")
    file = parse("l.yaml", "yaml", text.encode())
    assert [w.kind for w in file.workloads] == ["Pod"]
