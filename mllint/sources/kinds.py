"""Where each kind keeps its pod templates: the extraction table. Adding a kind is one entry here
plus a fixture.

`path` walks from the object's root: a plain segment is a mapping key, `*` visits every value of a
mapping (its key names the role: PyTorchJob's `Worker`), `[]` every item of a list (its `name`, or
Ray's `groupName`, names the role). `role` is formatted with the names the wildcards met. `replicas` is read relative to the
element the last wildcard visited, or to the object's root when there is none. `target` says what
the node at the end of `path` is:

- `pod`: a PodSpec (`containers`, `volumes`, `nodeSelector`, ...);
- `kserve`: a KServe component, a PodSpec whose framework keys (`sklearn`, `model`, ...) are containers too;
- `argo`: an Argo template, whose `container`, `script` and `containerSet` hold its containers;
- `container`: one container-like mapping (Kubeflow TrainJob's `trainer`).
"""

from __future__ import annotations

from typing import NamedTuple


class Extract(NamedTuple):
    path: str
    role: str | None = None
    replicas: str | None = None
    target: str = "pod"


def _replica_specs(field: str) -> tuple[Extract, ...]:
    return (Extract(f"spec.{field}.*.template.spec", "{}", "replicas"),)


def _ray(prefix: str) -> tuple[Extract, ...]:
    return (
        Extract(f"{prefix}.headGroupSpec.template.spec", "head", None),
        Extract(f"{prefix}.workerGroupSpecs.[].template.spec", "workers/{}", "replicas"),
    )


_TEMPLATE = (Extract("spec.template.spec", None, "spec.replicas"),)
_ARGO = (Extract("spec.templates.[]", "{}", None, "argo"),)
_KSERVE_COMPONENTS = ("predictor", "transformer", "explainer")

# Keyed by kind, or by `group/kind` where two API groups share a kind name (batch Job vs Volcano Job).
KINDS: dict[str, tuple[Extract, ...]] = {
    "Pod": (Extract("spec"),),
    "PodTemplate": (Extract("template.spec"),),
    "Deployment": _TEMPLATE,
    "StatefulSet": _TEMPLATE,
    "DaemonSet": (Extract("spec.template.spec"),),
    "ReplicaSet": _TEMPLATE,
    "ReplicationController": _TEMPLATE,
    "Job": (Extract("spec.template.spec", None, "spec.parallelism"),),
    "CronJob": (Extract("spec.jobTemplate.spec.template.spec", None, "spec.jobTemplate.spec.parallelism"),),
    # Kubeflow Training Operator v1
    "PyTorchJob": _replica_specs("pytorchReplicaSpecs"),
    "TFJob": _replica_specs("tfReplicaSpecs"),
    "MPIJob": _replica_specs("mpiReplicaSpecs"),
    "XGBoostJob": _replica_specs("xgbReplicaSpecs"),
    "PaddleJob": _replica_specs("paddleReplicaSpecs"),
    "JAXJob": _replica_specs("jaxReplicaSpecs"),
    "MXJob": _replica_specs("mxReplicaSpecs"),
    # Kubeflow Trainer v2
    "TrainJob": (Extract("spec.trainer", "trainer", "spec.trainer.numNodes", "container"),),
    "TrainingRuntime": (Extract("spec.template.spec.replicatedJobs.[].template.spec.template.spec", "{}", "replicas"),),
    "ClusterTrainingRuntime": (
        Extract("spec.template.spec.replicatedJobs.[].template.spec.template.spec", "{}", "replicas"),
    ),
    # Ray (KubeRay)
    "RayCluster": _ray("spec"),
    "RayJob": _ray("spec.rayClusterSpec") + (Extract("spec.submitterPodTemplate.spec", "submitter"),),
    "RayService": _ray("spec.rayClusterConfig"),
    # KServe
    "InferenceService": tuple(Extract(f"spec.{c}", c, None, "kserve") for c in _KSERVE_COMPONENTS),
    "ServingRuntime": (Extract("spec", "runtime"),),
    "ClusterServingRuntime": (Extract("spec", "runtime"),),
    "InferenceGraph": (),
    # Argo Workflows
    "Workflow": _ARGO,
    "WorkflowTemplate": _ARGO,
    "ClusterWorkflowTemplate": _ARGO,
    "CronWorkflow": (Extract("spec.workflowSpec.templates.[]", "{}", None, "argo"),),
    "Rollout": _TEMPLATE,
    # Volcano, JobSet, LeaderWorkerSet
    "batch.volcano.sh/Job": (Extract("spec.tasks.[].template.spec", "{}", "replicas"),),
    "JobSet": (Extract("spec.replicatedJobs.[].template.spec.template.spec", "{}", "replicas"),),
    "LeaderWorkerSet": (
        Extract("spec.leaderWorkerTemplate.leaderTemplate.spec", "leader", "spec.replicas"),
        Extract("spec.leaderWorkerTemplate.workerTemplate.spec", "worker", "spec.replicas"),
    ),
    # Knative, Kubeflow Notebooks, Seldon
    "serving.knative.dev/Service": (Extract("spec.template.spec"),),
    "Notebook": (Extract("spec.template.spec"),),
    "SeldonDeployment": (Extract("spec.predictors.[].componentSpecs.[].spec", "{}/{}", "replicas"),),
}

# Framework keys of a KServe component: each one is a container (`kserve-container`).
KSERVE_FRAMEWORKS = (
    "model", "sklearn", "xgboost", "tensorflow", "pytorch", "triton", "onnx", "pmml", "lightgbm",
    "paddle", "huggingface", "alibi", "art",
)

# Kinds whose pods the platform gives readiness probes (KServe and Knative inject them).
PROBE_INJECTING_KINDS = frozenset({"InferenceService", "ServingRuntime", "ClusterServingRuntime",
                                   "serving.knative.dev/Service"})


def extraction_for(api_version: str, kind: str) -> tuple[Extract, ...] | None:
    group = api_version.rsplit("/", 1)[0] if "/" in api_version else ""
    return KINDS.get(f"{group}/{kind}") or KINDS.get(kind)
