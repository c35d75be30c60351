"""The project index: what each file contributes to cross-file rules, and the whole-scan view.

Each file is reduced to small, picklable facts where it is parsed (in a worker process for large
scans); the main process joins them into a `ProjectFacts` that Project rules (quotas, HPAs, PDBs,
PriorityClasses) read. Facts keep the spans rules point at, so a cross-file finding still lands on
the exact key or value.
"""

from __future__ import annotations

import os
from dataclasses import field
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from mllint import suppress
from mllint import yamlsrc as y
from mllint.capacity import Placement, placement
from mllint.gpus import pod_gpus
from mllint.model import SHARED_EMPTY, Quantity, SourceFile, Span, Value, Workload, role_name
from mllint.quantity import is_templated
from mllint.records import record
from mllint.roles import served
from mllint.serving import healthcheck, server_start
from mllint.sources.keda import ScaledObjectFacts, is_scaled_object, read_scaled_object
from mllint.sources.nodes import NodeFacts, PoolFacts, is_pool, read_node, read_pool
from mllint.sources.podspec import NodeReader
from mllint.sources.sharing import SharingFacts, read_sharing

if TYPE_CHECKING:  # the CUDA modules load only for files that need them
    from mllint.cuda.needs import Need
    from mllint.cuda.targets import CudaConfig, Target

KUEUE_QUEUE = "kueue.x-k8s.io/queue-name"  # Kueue admits the workload against its ClusterQueue's quota
HPA_TARGET_RESOURCES = ("cpu", "memory")


@record(slots=True)
class WorkloadFacts:
    kind: str
    name: str
    namespace: str | None
    role: str | None
    identity: str
    path: str
    name_span: Span  # metadata.name's value (the object when it has none)
    replicas: int  # pods of this role: replicas, parallelism or minReplicas; 1 when unset
    replicas_span: Span | None
    gpus: dict[str, Decimal]  # GPUs per pod by resource name (what the scheduler reserves)
    gpu_span: Span | None  # the first GPU quantity, where GPU findings point
    priority_class: Value | None
    labels: dict[str, str]
    containers_without: dict[str, list[str]]  # cpu / memory -> containers with neither request nor limit
    serving: bool  # a container is a model server by its role (`mllint.roles.served`), as for ML501
    server: tuple[str, str] | None = None  # the first such container's name, and why it is one
    fragment: bool = False  # a part of an object (a kustomize patch, a pod template without images)
    labels_queue: str | None = None  # the Kueue queue it is submitted to (`kueue.x-k8s.io/queue-name`)
    placement: Placement | None = None  # selectors, affinity and tolerations (`mllint.capacity`)

    @property
    def role_name(self) -> str | None:
        return role_name(self.role)


@record(slots=True)
class QuotaFacts:
    name: str
    namespace: str | None
    path: str
    hard: dict[str, Quantity]
    scoped: bool  # scopes or scopeSelector: applies to some pods only


@record(slots=True)
class HpaMetric:
    resource: str
    span: Span  # the metric's resource name (or v1's targetCPUUtilizationPercentage key)
    container: str | None = None  # ContainerResource metrics name one container


@record(slots=True)
class HpaFacts:
    name: str
    namespace: str | None
    path: str
    target_kind: str
    target_name: str
    target_span: Span
    min_replicas: int | None
    utilization: list[HpaMetric]  # resource metrics whose target is a utilization of the request


@record(slots=True)
class PdbFacts:
    name: str
    namespace: str | None
    match_labels: dict[str, str]
    has_expressions: bool


@record(slots=True)
class BuildFacts:
    """What the image a Dockerfile builds needs from the node (its final stage)."""

    key: str  # the Dockerfile's absolute path, for joins
    path: str
    needs: list[Need]
    arch_list: tuple[str, Span] | None  # TORCH_CUDA_ARCH_LIST as set, with the value's span
    requirements: list[tuple[str, Span]]  # `-r` files its installs read: absolute path, the reference's span
    # package lists any stage installs from: (requirements | environment, absolute path, display path)
    package_files: list[tuple[str, str, str]] = field(default_factory=list)
    server: tuple[str, Span] | None = None  # the model server the final stage starts, and where its CMD names it
    healthcheck: bool = False  # the final stage (or a stage it builds FROM) declares HEALTHCHECK


@record(slots=True)
class ImageUse:
    """A workload container that runs the image a Dockerfile in the repository builds."""

    dockerfile: str  # the Dockerfile's absolute path
    who: str  # "service 'trainer' (docker-compose.yml:12)"
    targets: tuple[Target, ...]  # the nodes the workload may land on
    kubernetes: bool = False  # a Kubernetes workload (probes), not a Compose service


@record(slots=True)
class FileFacts:
    path: str
    objects: list[tuple[str, str, str | None]] = field(default_factory=list)  # (kind, name, namespace)
    workloads: list[WorkloadFacts] = field(default_factory=list)
    quotas: list[QuotaFacts] = field(default_factory=list)
    hpas: list[HpaFacts] = field(default_factory=list)
    pdbs: list[PdbFacts] = field(default_factory=list)
    priority_classes: list[str] = field(default_factory=list)
    builds: list[BuildFacts] = field(default_factory=list)
    image_uses: list[ImageUse] = field(default_factory=list)
    requirements: list[Need] = field(default_factory=list)  # a requirements file's CUDA pins
    cluster: list[NodeFacts | PoolFacts] = field(default_factory=list)  # Nodes and Karpenter pools
    scaled_objects: list[ScaledObjectFacts] = field(default_factory=list)  # KEDA
    sharing: list[SharingFacts] = field(default_factory=list)  # the device plugin's GPU sharing configs
    # (first line, last line, selectors): what `mllint.dev/ignore` annotations cover, for Project findings
    ignored: list[tuple[int, int, tuple[str, ...]]] = field(default_factory=list)


def compacted(facts: FileFacts) -> FileFacts:
    """`facts` as a worker sends them back to be held until the project rules run: each empty list is one shared
    empty tuple (most files fill one or two of the fourteen lists)."""
    for name in FileFacts.__slots__:
        if name != "path" and not getattr(facts, name):
            setattr(facts, name, SHARED_EMPTY)
    return facts


class ProjectFacts:
    """Every file's facts, joined once; rules read these lists and indexes, never the files."""

    def __init__(self, files: list[FileFacts]) -> None:
        self.files = files
        self.workloads = [w for f in files for w in f.workloads]
        self.quotas = [q for f in files for q in f.quotas]
        self.hpas = [h for f in files for h in f.hpas]
        self.pdbs = [p for f in files for p in f.pdbs]
        self.priority_classes = {c for f in files for c in f.priority_classes}
        self.objects_by_name: dict[tuple[str, str], list[str | None]] = {}  # (kind, name) -> namespaces
        for f in files:
            for kind, name, namespace in f.objects:
                self.objects_by_name.setdefault((kind, name), []).append(namespace)
        self.builds = [b for f in files for b in f.builds]
        self.uses_by_dockerfile: dict[str, list[ImageUse]] = {}
        for f in files:
            for use in f.image_uses:
                self.uses_by_dockerfile.setdefault(use.dockerfile, []).append(use)
        self.requirements = {_key(f.path): f.requirements for f in files if f.requirements}
        self.workloads_by_name: dict[tuple[str, str], list[WorkloadFacts]] = {}
        self.workloads_by_namespace: dict[str | None, list[WorkloadFacts]] = {}
        for w in self.workloads:
            self.workloads_by_name.setdefault((w.kind, w.name), []).append(w)
            self.workloads_by_namespace.setdefault(w.namespace, []).append(w)


def _key(path: str) -> str:
    return os.path.normcase(os.path.abspath(path))


def file_facts(file: SourceFile, gpu_patterns: tuple[str, ...], cuda: CudaConfig | None = None) -> FileFacts | None:
    """The facts of one parsed file; None when it holds nothing cross-file rules read."""
    from mllint.cuda.targets import CudaConfig

    cuda = cuda or CudaConfig()
    if file.kind == "requirements":
        return _requirements_facts(file)
    if file.build is not None:
        return _build_facts(file, cuda)
    if not file.objects and not file.workloads:
        return None
    reader = NodeReader(file.path, [])  # diagnostics were reported when the file was checked
    facts = FileFacts(file.path)
    for obj in file.objects:
        facts.objects.append((obj.kind, obj.name, obj.namespace))
        spec = y.get(obj.node, "spec")
        if obj.quota is not None:
            facts.quotas.append(QuotaFacts(obj.name, obj.namespace, file.path, obj.quota.hard, obj.quota.scoped))
        elif obj.kind == "HorizontalPodAutoscaler":
            hpa = _hpa(reader, obj.name, obj.namespace, spec, file.path)
            if hpa is not None:
                facts.hpas.append(hpa)
        elif obj.kind == "PodDisruptionBudget":
            selector = y.get(spec, "selector")
            facts.pdbs.append(
                PdbFacts(
                    obj.name,
                    obj.namespace,
                    {k: v.text for k, v in reader.string_map(y.get(selector, "matchLabels"), "").items()},
                    y.get(selector, "matchExpressions") is not None,
                )
            )
        elif obj.kind == "Node" and obj.api_version == "v1":
            facts.cluster.append(read_node(reader, obj))
        elif is_pool(obj):
            facts.cluster.append(read_pool(reader, obj))
        elif is_scaled_object(obj) and (scaled := read_scaled_object(reader, obj)) is not None:
            facts.scaled_objects.append(scaled)
        elif obj.kind == "ConfigMap":
            facts.sharing += read_sharing(obj, file.path)
        elif obj.kind == "PriorityClass" and not is_templated(obj.name):  # a template names no class to know
            facts.priority_classes.append(obj.name)
        ignored = suppress.annotation_rules(obj.annotations)
        if ignored:
            facts.ignored.append((obj.span.line, obj.span.end_line, tuple(ignored)))
    for workload in file.workloads:
        facts.image_uses += _image_uses(workload, file.path, cuda)
        if workload.format == "kubernetes":
            facts.workloads.append(_workload(workload, file.path, gpu_patterns))
            ignored = suppress.annotation_rules(workload.pod.annotations)
            if ignored:  # the pod template's annotation covers the template
                facts.ignored.append((workload.pod.span.line, workload.pod.span.end_line, tuple(ignored)))
    return facts


def _workload(w: Workload, path: str, gpu_patterns: tuple[str, ...]) -> WorkloadFacts:
    replicas = w.replicas
    if replicas is None and w.group is not None and w.group.min_replicas is not None:
        replicas = w.group.min_replicas.count
    gpus, spans = pod_gpus(w.pod, gpu_patterns)
    without: dict[str, list[str]] = {}
    for resource in HPA_TARGET_RESOURCES:
        without[resource] = [
            c.name
            for c in w.pod.containers
            if resource not in c.resources.requests and resource not in c.resources.limits
        ]
    # Kubeflow gang scheduling names the class for the whole job
    priority = w.pod.priority_class_name if w.pod.priority_class_name is not None else w.job_priority_class
    servers = [(c.name, r.evidence) for c in w.pod.containers if (r := served(w, c)) is not None]
    server = servers[0] if servers else None
    return WorkloadFacts(
        kind=w.kind,
        name=w.name,
        namespace=w.namespace,
        role=w.role,
        identity=w.identity,
        path=path,
        name_span=w.name_span or w.span,
        replicas=replicas if replicas is not None else 1,
        replicas_span=w.replicas_span,
        gpus=gpus,
        gpu_span=next(iter(spans.values()), None),
        priority_class=priority,
        labels=dict(w.labels),
        containers_without=without,
        serving=server is not None,
        server=server,
        fragment=w.fragment,
        labels_queue=(w.labels.get(KUEUE_QUEUE) or (w.k8s_object.labels if w.k8s_object else {}).get(KUEUE_QUEUE)),
        placement=placement(w.pod, spans) if gpus else None,
    )


def _hpa(reader: NodeReader, name: str, namespace: str | None, spec: Any, path: str) -> HpaFacts | None:
    ref = y.get(spec, "scaleTargetRef")
    target_name = y.get_item(ref, "name")
    if target_name is None or y.text(target_name[1]) is None:
        return None
    metrics: list[HpaMetric] = []
    v1 = y.get_item(spec, "targetCPUUtilizationPercentage")
    if v1 is not None:
        metrics.append(HpaMetric("cpu", reader.span(v1[0])))
    for metric in reader.sequence(y.get(spec, "metrics"), "spec.metrics"):
        kind = y.text(y.get(metric, "type"))
        body = y.get(metric, "resource" if kind == "Resource" else "containerResource")
        if kind not in ("Resource", "ContainerResource") or not y.is_map(body):
            continue
        resource = y.get_item(body, "name")
        target = y.get(body, "target")
        utilization = (
            y.text(y.get(target, "type")) == "Utilization" or y.get(body, "targetAverageUtilization") is not None
        )  # autoscaling/v2beta1
        if resource is not None and y.text(resource[1]) and utilization:
            metrics.append(
                HpaMetric(y.text(resource[1]) or "", reader.span(resource[1]), y.text(y.get(body, "container")))
            )
    return HpaFacts(
        name=name,
        namespace=namespace,
        path=path,
        target_kind=y.text(y.get(ref, "kind")) or "",
        target_name=y.text(target_name[1]) or "",
        target_span=reader.span(target_name[1]),
        min_replicas=reader.integer(spec, "minReplicas"),
        utilization=metrics,
    )


def _requirements_facts(file: SourceFile) -> FileFacts | None:
    from mllint.cuda import installs
    from mllint.cuda.needs import Need

    needs = [
        Need(ev.cuda, _offset_span(file, ev.start, ev.end), f"the packages of {file.path}")
        for ev in installs.from_requirements(file.text)
    ]
    return FileFacts(file.path, requirements=needs) if needs else None


def _offset_span(file: SourceFile, start: int, end: int) -> Span:
    line = file.text.count("\n", 0, start) + 1
    column = start - (file.text.rfind("\n", 0, start) + 1) + 1
    return Span(file.path, line, column, line, column + (end - start))


def _build_facts(file: SourceFile, cuda: CudaConfig) -> FileFacts | None:
    from mllint.cuda import needs

    build = file.build
    final = build.final_stage if build is not None else None
    if build is None or final is None:
        return None
    folder = os.path.dirname(file.path)
    requirements = []
    for name, span in needs.requirement_files(build, final):
        if "$" not in name and "://" not in name:  # in the build context, which is usually the Dockerfile's folder
            requirements.append((_key(os.path.join(folder, name.lstrip("/"))), span))
            if name.startswith("/") or os.path.dirname(name):  # COPY requirements.txt /app/: try the basename too
                requirements.append((_key(os.path.join(folder, os.path.basename(name))), span))
    from mllint.pinfiles import referenced
    from mllint.stages import dev_container

    facts = FileFacts(file.path)
    facts.builds.append(
        BuildFacts(
            _key(file.path),
            file.path,
            needs.stage_needs(build, final, cuda),
            needs.arch_list(build, final),
            requirements,
            referenced(build, folder, os.path.dirname(file.path)),
            None if dev_container(build) else server_start(build, final),
            healthcheck(build, final),
        )
    )
    return facts


def _image_uses(workload: Workload, path: str, cuda: CudaConfig) -> list[ImageUse]:
    """The containers of a workload that run an image built from a Dockerfile in the repository: Compose
    `build:`, or an image the configuration maps to a Dockerfile."""
    from mllint.cuda import targets

    found = tuple(targets.for_workload_pod(workload.pod, cuda))
    out = []
    for container in workload.pod.all_containers:
        dockerfile = None
        if workload.format == "compose" and workload.build is not None and not workload.build.templated:
            dockerfile = _compose_dockerfile(workload, path)
            at = workload.build.span
        if dockerfile is None and container.image is not None and not container.image.templated:
            dockerfile = targets.image_dockerfile(container.image.resolved, cuda)
            at = container.image.span
        if dockerfile is not None:
            who = (
                f"service {container.name!r}"
                if workload.format == "compose"
                else f"container {container.name!r} of {workload.kind} {workload.name!r}"
            )
            out.append(ImageUse(_key(dockerfile), f"{who} ({at})", found, workload.format == "kubernetes"))
    return out


def _compose_dockerfile(workload: Workload, path: str) -> str | None:
    from mllint.compose_targets import build_dockerfile

    context = workload.build.text if workload.build is not None else ""
    name = workload.dockerfile.text if workload.dockerfile is not None else None
    return build_dockerfile(os.path.dirname(path), context, name)
