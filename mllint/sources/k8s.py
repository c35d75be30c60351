"""Kubernetes YAML (and JSON) documents → K8sObjects and Workloads, driven by the kinds table."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from mllint import yamlsrc as y
from mllint.model import Container, K8sObject, PodSpec, SourceFile, Span, Workload
from mllint.sources.kinds import KSERVE_FRAMEWORKS, Extract, extraction_for, fill_defaults
from mllint.sources.objects import read_fields
from mllint.sources.podspec import NodeReader


def is_k8s_object(node: Any) -> bool:
    return y.is_map(node) and y.text(y.get(node, "kind")) is not None and y.get(node, "apiVersion") is not None


def load(file: SourceFile, docs: list[y.Document]) -> None:
    reader = NodeReader(file.path, file.diagnostics)
    for doc in docs:
        for node in _objects(doc.root):
            obj = _object(reader, node, doc.index)
            read_fields(reader, obj)
            file.objects.append(obj)
            extracts = extraction_for(obj.api_version, obj.kind)
            if extracts:
                for extract in extracts:
                    file.workloads.extend(_workloads(reader, obj, extract))


def _objects(root: Any) -> Iterator[Any]:
    if not is_k8s_object(root):
        return
    if y.text(y.get(root, "kind")) == "List" or (y.text(y.get(root, "kind")) or "").endswith("List"):
        for item in y.get(root, "items").value if y.is_seq(y.get(root, "items")) else []:
            yield from _objects(item)
    else:
        yield root


def _object(reader: NodeReader, node: Any, index: int) -> K8sObject:
    meta = y.get(node, "metadata")
    name = y.get(meta, "name")
    return K8sObject(
        kind=y.text(y.get(node, "kind")) or "",
        api_version=y.text(y.get(node, "apiVersion")) or "",
        name=y.text(name) or y.text(y.get(meta, "generateName")) or "",
        namespace=y.text(y.get(meta, "namespace")),
        span=y.span(reader.path, node),
        node=node,
        doc_index=index,
        name_span=reader.span(name) if name is not None else None,
        annotations={k: y.text(v) or "" for k, _k, v in y.items(y.get(meta, "annotations"))},
        labels={k: y.text(v) or "" for k, _k, v in y.items(y.get(meta, "labels"))},
    )


def _walk(
    node: Any, segments: list[str], names: list[str], where: str, parent: Any, anchor: Any
) -> Iterator[tuple[Any, list[str], str, Any, Any]]:
    """Yield (node, wildcard names, yaml path, parent mapping, last wildcard element) for a path."""
    if not segments:
        yield node, names, where, parent, anchor
        return
    head, rest = segments[0], segments[1:]
    if head == "*":
        for key, _k, v in y.items(node):
            yield from _walk(v, rest, names + [key], f"{where}.{key}", node, v)
    elif head == "[]":
        if y.is_seq(node):
            for i, item in enumerate(node.value):
                label = y.text(y.get(item, "name")) or y.text(y.get(item, "groupName")) or str(i)
                yield from _walk(item, rest, names + [label], f"{where}[{i}]", node, item)
    else:
        child = y.get(node, head)
        if child is not None:
            yield from _walk(child, rest, names, f"{where}.{head}" if where else head, node, anchor)


def _get_path(node: Any, dotted: str) -> Any:
    for part in dotted.split("."):
        node = y.get(node, part)
    return node


def _workloads(reader: NodeReader, obj: K8sObject, extract: Extract) -> Iterator[Workload]:
    meta = y.get(obj.node, "metadata")
    annotations = {k: v.text for k, v in reader.string_map(y.get(meta, "annotations"), "metadata.annotations").items()}
    spec = y.get(obj.node, "spec")
    priority = reader.value(y.get(y.get(spec, "runPolicy"), "schedulingPolicy"), "priorityClass")
    for node, names, where, parent, anchor in _walk(obj.node, extract.path.split("."), [], "", None, obj.node):
        pod = _pod(reader, node, where, parent, extract)
        if pod is None:
            continue
        role = extract.role.format(*names) if extract.role and "{}" in extract.role else extract.role
        fill_defaults(obj.kind, role, pod)
        replicas = None
        if extract.replicas:
            holder_path, _, key = extract.replicas.rpartition(".")
            holder = _get_path(obj.node, holder_path) if holder_path else anchor
            replicas = reader.integer(holder, key)
        group = anchor if anchor is not obj.node else _group(obj.node, extract.path)
        yield Workload(
            format="kubernetes",
            kind=obj.kind,
            name=obj.name,
            namespace=obj.namespace,
            role=f"{obj.kind}/{role}" if role else None,
            replicas=replicas,
            pod=pod,
            span=obj.span,
            api_version=obj.api_version,
            annotations=annotations,
            labels=_template_labels(reader, node, where, parent),
            group=reader.group(group) if group is not None else None,
            name_span=obj.name_span,
            replicas_span=_replicas_span(reader, group, spec),
            job_priority_class=priority,
            k8s_object=obj,
            node=obj.node,
        )


def _group(root: Any, path: str) -> Any:
    """The node that holds a single pod template (Ray's headGroupSpec): the path before `.template.`."""
    head, sep, _ = path.partition(".template.")
    return _get_path(root, head) if sep and head else None


def _replicas_span(reader: NodeReader, group: Any, spec: Any) -> Span | None:
    """Where the role's pod count is written: its group's replicas or parallelism, else the object's."""
    for holder in (group, spec):
        for key in ("replicas", "parallelism"):
            node = y.get(holder, key)
            if node is not None and y.is_scalar(node):
                return reader.span(node)
    return None


def _template_labels(reader: NodeReader, node: Any, where: str, parent: Any) -> dict[str, str]:
    """The labels of the pod template that `node` (a pod spec) belongs to."""
    if not where.endswith("spec") or parent is None:
        return {}
    labels = y.get(y.get(parent, "metadata"), "labels")
    return {k: v.text for k, v in reader.string_map(labels, f"{where[: -len('spec')]}metadata.labels").items()}


def _pod(reader: NodeReader, node: Any, where: str, parent: Any, extract: Extract) -> PodSpec | None:
    meta = y.get(parent, "metadata") if where.endswith("spec") else None
    if extract.target == "pod":
        return reader.pod(node, where, meta)
    if extract.target == "container":
        container = reader.container(node, where, default_name=where.rsplit(".", 1)[-1])
        if container is None:
            return None
        return PodSpec(containers=[container], span=container.span)
    if extract.target == "kserve":
        if reader.mapping(node, where) is None:
            return None
        extra: list[Container] = []
        for framework in KSERVE_FRAMEWORKS:
            fw = y.get(node, framework)
            if fw is not None:
                c = reader.container(fw, f"{where}.{framework}", default_name="kserve-container")
                if c is not None:
                    extra.append(c)
        return reader.pod(node, where, None, extra)
    if extract.target == "argo":
        template = reader.mapping(node, where, "a template mapping")
        if template is None:
            return None
        containers: list[Container] = []
        for key in ("container", "script"):
            if y.get(template, key) is not None:
                c = reader.container(y.get(template, key), f"{where}.{key}", default_name="main")
                if c is not None:
                    containers.append(c)
        container_set = y.get(template, "containerSet")
        if container_set is not None:
            containers += reader.container_list(y.get(container_set, "containers"), f"{where}.containerSet.containers")
        containers += reader.container_list(y.get(template, "sidecars"), f"{where}.sidecars")
        if not containers:
            return None  # steps, dag, resource and suspend templates run no container of their own
        pod = PodSpec(containers=containers, span=reader.span(template))
        pod.init_containers = reader.container_list(y.get(template, "initContainers"), f"{where}.initContainers", True)
        reader.pod_fields(template, where, pod)
        return pod
    raise ValueError(f"unknown extraction target {extract.target!r}")  # a bug in kinds.py, not user input
