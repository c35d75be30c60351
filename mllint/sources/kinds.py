"""Where each kind keeps its pod templates (the extraction table), and the groups kinds fall into (Ray,
the training operators, serving kinds, ...). Adding a kind is one entry here plus a fixture.

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

from mllint.model import PodSpec


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


# -- kind groups: the kinds that belong together, for the parsers and the rules ----------------------------------

# KubeRay kinds, and where each keeps the cluster spec (headGroupSpec, workerGroupSpecs).
RAY_CLUSTER_SPECS = {"RayCluster": "spec", "RayJob": "spec.rayClusterSpec", "RayService": "spec.rayClusterConfig"}
RAY_KINDS = frozenset(RAY_CLUSTER_SPECS)
# Kubeflow Training Operator v1 kinds, and the field that holds each one's replica specs.
KUBEFLOW_REPLICA_SPECS = {
    "PyTorchJob": "pytorchReplicaSpecs",
    "TFJob": "tfReplicaSpecs",
    "MPIJob": "mpiReplicaSpecs",
    "XGBoostJob": "xgbReplicaSpecs",
    "PaddleJob": "paddleReplicaSpecs",
    "JAXJob": "jaxReplicaSpecs",
    "MXJob": "mxReplicaSpecs",
}
TRAINING_OPERATOR_KINDS = frozenset(KUBEFLOW_REPLICA_SPECS)
TRAINER_KINDS = frozenset({"TrainJob", "TrainingRuntime", "ClusterTrainingRuntime"})  # Kubeflow Trainer v2
# Kinds whose pods train: a plain Job or a Workflow trains only when its command says so.
TRAINING_KINDS = TRAINING_OPERATOR_KINDS | TRAINER_KINDS | {"RayCluster", "RayJob", "JobSet"}
# Long-running kinds whose containers serve when they listen on a port or run a known model server.
SERVING_KINDS = frozenset({"Deployment", "StatefulSet", "Rollout", "ReplicaSet"})
# Kinds whose pods the platform gives readiness probes (KServe and Knative inject them).
PROBE_INJECTING_KINDS = frozenset(
    {"InferenceService", "ServingRuntime", "ClusterServingRuntime", "serving.knative.dev/Service"}
)
# Kinds whose pods serve by construction: KServe, Knative and Ray Serve.
SERVING_PLATFORM_KINDS = PROBE_INJECTING_KINDS | {"RayService"}
# Pod templates that Kubernetes runs as batch/v1 Jobs, where restartPolicy must be OnFailure or Never: kinds, and
# `kind/role` for a role of another kind.
JOB_TEMPLATE_ROLES = frozenset(
    {"Job", "CronJob", "JobSet", "TrainingRuntime", "ClusterTrainingRuntime", "RayJob/submitter"}
)

# -- the extraction table ------------------------------------------------------------------------------------------

_RAY_SUBMITTER = {"RayJob": (Extract("spec.submitterPodTemplate.spec", "submitter"),)}
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
    **{kind: _replica_specs(specs) for kind, specs in KUBEFLOW_REPLICA_SPECS.items()},
    # Kubeflow Trainer v2
    "TrainJob": (Extract("spec.trainer", "trainer", "spec.trainer.numNodes", "container"),),
    "TrainingRuntime": (Extract("spec.template.spec.replicatedJobs.[].template.spec.template.spec", "{}", "replicas"),),
    "ClusterTrainingRuntime": (
        Extract("spec.template.spec.replicatedJobs.[].template.spec.template.spec", "{}", "replicas"),
    ),
    # Ray (KubeRay)
    **{kind: _ray(spec) + _RAY_SUBMITTER.get(kind, ()) for kind, spec in RAY_CLUSTER_SPECS.items()},
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
    "model",
    "sklearn",
    "xgboost",
    "tensorflow",
    "pytorch",
    "triton",
    "onnx",
    "pmml",
    "lightgbm",
    "paddle",
    "huggingface",
    "alibi",
    "art",
)


# -- resources a controller fills in ------------------------------------------------------------------------------

CPU_MEMORY = frozenset({"cpu", "memory"})
CPU_MEMORY_GPU = CPU_MEMORY | {"gpu"}
# KServe's webhook gives the first container of a custom predictor or transformer (a component with `containers`
# and no framework key) cpu and memory requests and limits when unset (1 CPU, 2Gi: CustomPredictor.Default,
# CustomTransformer.Default), as it does each framework shorthand's container (and the `kserve-container` of
# `containers` that is merged into it).
KSERVE_DEFAULTED_COMPONENTS = frozenset({"predictor", "transformer"})
KSERVE_CONTAINER = "kserve-container"
# Kubeflow Trainer v2: a TrainJob's `trainer.resourcesPerNode` sets the resources of its runtime's trainer
# container (named `node`; `trainer` in the first v2 alpha), and a TrainJob without it runs with the runtime's.
TRAINER_RUNTIME_KINDS = frozenset({"TrainingRuntime", "ClusterTrainingRuntime"})
TRAINER_NODE_CONTAINERS = frozenset({"node", "trainer"})


def fill_defaults(kind: str, role: str | None, pod: PodSpec) -> None:
    """Mark the containers whose unset resources the controller (or another object) fills in: Container.defaults."""
    if kind == "InferenceService" and role in KSERVE_DEFAULTED_COMPONENTS:
        shorthands = [c for c in pod.containers if c.path.rsplit(".", 1)[-1] in KSERVE_FRAMEWORKS]
        if shorthands:  # a container named kserve-container is merged into the shorthand's
            shorthands += [c for c in pod.containers if c.name == KSERVE_CONTAINER]
        for container in shorthands or pod.containers[:1]:
            container.defaults |= CPU_MEMORY
    elif kind == "TrainJob":
        for container in pod.containers:
            if container.resources.span is None:  # neither resourcesPerNode nor resources: the runtime's
                container.defaults |= CPU_MEMORY_GPU
    elif kind in TRAINER_RUNTIME_KINDS:
        for container in pod.containers:
            if container.name in TRAINER_NODE_CONTAINERS:
                container.defaults |= CPU_MEMORY_GPU


def extraction_for(api_version: str, kind: str) -> tuple[Extract, ...] | None:
    group = api_version.rsplit("/", 1)[0] if "/" in api_version else ""
    return KINDS.get(f"{group}/{kind}") or KINDS.get(kind)


class RetryPolicy(NamedTuple):
    """Where a batch kind keeps its retry limit and deadline, each relative to `holder` (a dotted path
    from the object's root; the first holder that exists is where a finding points)."""

    holders: tuple[str, ...]
    backoff: tuple[str, ...]  # keys that bound retries; empty: the kind's default is already bounded
    deadline: tuple[str, ...]
    unbounded: str  # what happens without a retry limit, for the message
    per_replica: bool = False  # Kubeflow: each replica spec's restartPolicy decides whether pods restart

    def field(self, key: str) -> str:
        """How users name the field: `spec.backoffLimit`, `jobTemplate.spec.backoffLimit`, `runPolicy.backoffLimit`."""
        holder = self.holders[0]
        return f"{holder[len('spec.') :] if holder.startswith('spec.') else holder}.{key}"


_KUBEFLOW_RETRIES = RetryPolicy(
    ("spec.runPolicy", "spec"),
    ("backoffLimit",),
    ("activeDeadlineSeconds",),
    "the training operator restarts failed replicas without limit",
    per_replica=True,
)

# Batch kinds whose pods run to completion. RayJob (backoffLimit defaults to 0), JobSet
# (failurePolicy.maxRestarts defaults to 0) and Volcano (maxRetry defaults to 3) already stop.
RETRY_POLICIES: dict[str, RetryPolicy] = {
    "Job": RetryPolicy(
        ("spec",),
        ("backoffLimit", "backoffLimitPerIndex"),
        ("activeDeadlineSeconds",),
        "Kubernetes retries failed pods 6 times",
    ),
    "CronJob": RetryPolicy(
        ("spec.jobTemplate.spec",),
        ("backoffLimit", "backoffLimitPerIndex"),
        ("activeDeadlineSeconds",),
        "Kubernetes retries failed pods 6 times",
    ),
    **dict.fromkeys(KUBEFLOW_REPLICA_SPECS, _KUBEFLOW_RETRIES),
    "RayJob": RetryPolicy(("spec",), (), ("activeDeadlineSeconds",), ""),
}


class ProcessesField(NamedTuple):
    """An operator field that sets how many processes each pod starts (one per GPU, as a rule)."""

    path: str  # dotted, under the object's spec
    roles: tuple[str, ...]  # the roles whose pods start that many processes
    default: int | None  # what the operator assumes when it is unset; None: nothing to compare

    @property
    def key(self) -> str:
        """The field's own name, as messages quote it: `numProcPerNode`."""
        return self.path.rsplit(".", 1)[-1]


PROCESSES_PER_NODE: dict[str, ProcessesField] = {
    "PyTorchJob": ProcessesField("nprocPerNode", ("Master", "Worker"), None),
    "MPIJob": ProcessesField("slotsPerWorker", ("Worker",), 1),
    "TrainJob": ProcessesField("trainer.numProcPerNode", ("trainer",), None),
}

# The restartPolicy the Kubeflow training operator gives a replica spec that sets none (kubeflow/training-operator,
# pkg/apis/kubeflow.org/v1: `PytorchJobDefaultRestartPolicy = RestartPolicyOnFailure` in pytorch_types.go,
# `PaddleJobDefaultRestartPolicy = RestartPolicyOnFailure` in paddlepaddle_types.go). Other kinds: not listed.
REPLICA_RESTART_DEFAULTS = {"PyTorchJob": "OnFailure", "PaddleJob": "OnFailure"}
