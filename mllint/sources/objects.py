"""What rules read of a Kubernetes object outside its pod templates: a ResourceQuota's hard limits, a
Service's type and ports, the Services an Ingress routes to, KubeRay's head service, a batch kind's retry
limit and deadline, an operator's processes per node. Each is read only for the kinds that have it, and
never judged for shape (the rules that read it do that)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from mllint import yamlsrc as y
from mllint.model import (
    Backend,
    K8sObject,
    ProcessesSetting,
    QuotaSpec,
    RunLimits,
    ServicePort,
    ServiceSpec,
    Value,
)
from mllint.sources.kinds import PROCESSES_PER_NODE, RAY_CLUSTER_SPECS, RETRY_POLICIES, RetryPolicy
from mllint.sources.podspec import NodeReader

_READ = (
    frozenset({"ResourceQuota", "Service", "Ingress"})
    | frozenset(RAY_CLUSTER_SPECS)
    | frozenset(RETRY_POLICIES)
    | frozenset(PROCESSES_PER_NODE)
)


def read_fields(reader: NodeReader, obj: K8sObject) -> None:
    """Fill the typed fields `obj`'s kind has."""
    kind = obj.kind
    if kind not in _READ:
        return
    node = obj.node
    if kind == "ResourceQuota":
        obj.quota = _quota(reader.path, y.get(node, "spec"))
    elif kind == "Service":
        obj.service = _service(reader, y.get(node, "spec"))
    elif kind == "Ingress":
        obj.backends = list(_backends(reader, y.get(node, "spec")))
    if kind in RAY_CLUSTER_SPECS:
        _ray_head(reader, obj, _path(node, RAY_CLUSTER_SPECS[kind]))
    policy = RETRY_POLICIES.get(kind)
    if policy is not None:
        obj.run_limits = _run_limits(reader, obj, policy)
    if kind in PROCESSES_PER_NODE:
        obj.processes = _processes(reader, node, PROCESSES_PER_NODE[kind].path)


def _ray_head(reader: NodeReader, obj: K8sObject, cluster: Any) -> None:
    """KubeRay's head service: `serviceType`, the custom `headService` (its type wins over serviceType, and
    KubeRay appends the head container's ports to its own), the annotations, and `enableIngress`."""
    head = y.get(cluster, "headGroupSpec")
    obj.head_service_type = reader.value(head, "serviceType")
    obj.head_ingress = reader.value(head, "enableIngress")
    custom = y.get(head, "headService")
    annotations = y.get(y.get(custom, "metadata"), "annotations")
    obj.head_service_annotations = {key: y.text(v) or "" for key, _k, v in y.items(annotations)}
    obj.head_service_annotations.update(
        {key: y.text(v) or "" for key, _k, v in y.items(y.get(cluster, "headServiceAnnotations"))}
    )
    if y.is_map(custom):
        obj.head_service = _service(reader, y.get(custom, "spec"))


def _path(node: Any, dotted: str) -> Any:
    for part in dotted.split("."):
        node = y.get(node, part)
    return node


def _quota(path: str, spec: Any) -> QuotaSpec:
    quiet = NodeReader(path, [])  # a quota's quantities are facts for ML6xx, not judged for ML005 here
    hard = y.get(spec, "hard")
    return QuotaSpec(
        hard=quiet.quantities(hard, "spec.hard"),
        hard_keys=[Value(key, quiet.span(k)) for key, k, _v in y.items(hard)],
        scoped=y.get(spec, "scopes") is not None or y.get(spec, "scopeSelector") is not None,
    )


def _service(reader: NodeReader, spec: Any) -> ServiceSpec:
    ports = y.get(spec, "ports")
    ranges = y.get(spec, "loadBalancerSourceRanges")
    return ServiceSpec(
        type=reader.value(spec, "type"),
        selector={key: y.text(v) or "" for key, _k, v in y.items(y.get(spec, "selector"))},
        ports=[
            ServicePort(reader.value(port, "port"), reader.value(port, "targetPort"))
            for port in (ports.value if y.is_seq(ports) else [])
        ],
        source_ranges=[y.text(r) or "" for r in (ranges.value if y.is_seq(ranges) else [])],
    )


def _backends(reader: NodeReader, spec: Any) -> Iterator[Backend]:
    """Every `service:` mapping anywhere under the Ingress spec (default backend, rules, paths), in order."""
    stack = [spec]
    while stack:
        node = stack.pop()
        if y.is_map(node):
            service = y.get(node, "service")
            if y.is_map(service):
                port = y.get(service, "port")
                yield Backend(
                    reader.span(service),
                    reader.value(service, "name"),
                    reader.setting(port, "number"),
                    y.text(y.get(port, "name")),
                )
            stack += reversed([value for _key, _k, value in y.items(node)])
        elif y.is_seq(node):
            stack += reversed(node.value)


def _run_limits(reader: NodeReader, obj: K8sObject, policy: RetryPolicy) -> RunLimits:
    for dotted in policy.holders:
        parent: Any = None
        holder: Any = obj.node
        key: Any = None
        for part in dotted.split("."):
            item = y.get_item(holder, part)
            if item is None:
                holder = None
                break
            parent, (key, holder) = holder, item
        if y.is_map(holder) and key is not None and parent is not None:
            fields = {name: reader.setting(holder, name) for name in (*policy.backoff, *policy.deadline)}
            return RunLimits(reader.span(key), {name: v for name, v in fields.items() if v is not None})
    kind = y.get_item(obj.node, "kind")
    return RunLimits(reader.span(kind[1]) if kind else obj.span)


def _processes(reader: NodeReader, node: Any, dotted: str) -> ProcessesSetting | None:
    spec = y.get_item(node, "spec")
    if spec is None:
        return None
    holder = spec[1]
    *parents, key = dotted.split(".")
    for part in parents:
        holder = y.get(holder, part)
    return ProcessesSetting(reader.span(spec[0]), reader.setting(holder, key))
