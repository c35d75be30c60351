"""What the cluster's own objects say about where pods can run: a `Node`'s GPUs, labels and taints, and a Karpenter
`NodePool` (karpenter.sh/v1, v1beta1) or `Provisioner` (karpenter.sh/v1alpha5): its requirements, labels, taints
and limits. Read from the composed YAML with the spans rules point at; small and picklable, as the project index
carries them between processes.

Where each kind keeps each field:

| field        | Node                                | NodePool                          | Provisioner          |
|--------------|-------------------------------------|-----------------------------------|----------------------|
| labels       | metadata.labels                     | spec.template.metadata.labels     | spec.labels          |
| taints       | spec.taints                         | spec.template.spec.taints         | spec.taints          |
| requirements | (its labels)                        | spec.template.spec.requirements   | spec.requirements    |
| GPUs, limits | status.allocatable (else capacity)  | spec.limits                       | spec.limits.resources|
"""

from __future__ import annotations

from dataclasses import field
from decimal import Decimal
from typing import Any

from mllint import yamlsrc as y
from mllint.model import K8sObject, Span
from mllint.quantity import parse_quantity
from mllint.records import record
from mllint.sources.podspec import NodeReader

KARPENTER_GROUP = "karpenter.sh"
POOL_KINDS = frozenset({"NodePool", "Provisioner"})


@record(frozen=True, slots=True)
class Requirement:
    """A Karpenter requirement (a node selector requirement): `key operator values`."""

    key: str
    operator: str  # In, NotIn, Exists, DoesNotExist, Gt, Lt
    values: tuple[str, ...]
    span: Span  # the requirement's `key` value
    value_spans: tuple[Span, ...] = ()  # each of `values`, in order


@record(frozen=True, slots=True)
class Taint:
    key: str
    value: str
    effect: str
    span: Span


@record(frozen=True, slots=True)
class Amount:
    """A resource quantity as written: the key, its value, and the amount (None when not a number)."""

    resource: str
    raw: str
    amount: Decimal | None
    key_span: Span
    span: Span


@record(slots=True)
class NodeFacts:
    """A `Node` object."""

    name: str
    path: str
    span: Span  # metadata.name's value (the object's start when it has none)
    labels: dict[str, str]
    taints: list[Taint]
    # resource -> amount, from status.allocatable, else status.capacity; `spec.capacity` and `spec.allocatable`
    # (not Node fields, but written so in examples) when status has neither
    resources: dict[str, Amount]
    source: str = ""  # where the resources were read: "status.allocatable", ...


@record(slots=True)
class PoolFacts:
    """A Karpenter NodePool or Provisioner."""

    kind: str
    api_version: str
    name: str
    path: str
    span: Span  # metadata.name's value
    kind_span: Span  # the `kind` value
    requirements: list[Requirement]
    labels: dict[str, str]
    taints: list[Taint]
    limits: dict[str, Amount]
    limits_field: str  # "spec.limits" or "spec.limits.resources", as messages name it
    weight: int | None = None
    extra: dict[str, str] = field(default_factory=dict)


def is_pool(obj: K8sObject) -> bool:
    return obj.kind in POOL_KINDS and obj.api_version.split("/", 1)[0] == KARPENTER_GROUP


def read_node(reader: NodeReader, obj: K8sObject) -> NodeFacts:
    node = obj.node
    status, spec = y.get(node, "status"), y.get(node, "spec")
    resources: dict[str, Amount] = {}
    source = ""
    for holder, where in (
        (status, "status.allocatable"),
        (status, "status.capacity"),
        (spec, "spec.allocatable"),
        (spec, "spec.capacity"),
    ):
        found = _amounts(reader, y.get(holder, where.split(".")[1]))
        if found:
            resources, source = found, where
            break
    return NodeFacts(
        name=obj.name,
        path=reader.path,
        span=obj.name_span or obj.span,
        labels=dict(obj.labels),
        taints=_taints(reader, y.get(spec, "taints")),
        resources=resources,
        source=source,
    )


def read_pool(reader: NodeReader, obj: K8sObject) -> PoolFacts:
    node = obj.node
    spec = y.get(node, "spec")
    kind_item = y.get_item(node, "kind")
    kind_span = reader.span(kind_item[1]) if kind_item else obj.span
    if obj.kind == "Provisioner":
        template_spec, labels_node = spec, y.get(spec, "labels")
        limits_node, limits_field = y.get(y.get(spec, "limits"), "resources"), "spec.limits.resources"
    else:
        template = y.get(spec, "template")
        template_spec, labels_node = y.get(template, "spec"), y.get(y.get(template, "metadata"), "labels")
        limits_node, limits_field = y.get(spec, "limits"), "spec.limits"
    return PoolFacts(
        kind=obj.kind,
        api_version=obj.api_version,
        name=obj.name,
        path=reader.path,
        span=obj.name_span or obj.span,
        kind_span=kind_span,
        requirements=_requirements(reader, y.get(template_spec, "requirements")),
        labels={key: y.text(v) or "" for key, _k, v in y.items(labels_node) if y.is_scalar(v)},
        taints=_taints(reader, y.get(template_spec, "taints")),
        limits=_amounts(reader, limits_node),
        limits_field=limits_field,
        weight=reader.integer(spec, "weight"),
    )


def _amounts(reader: NodeReader, node: Any) -> dict[str, Amount]:
    out: dict[str, Amount] = {}
    for key, k, v in y.items(node):
        text = y.text(v)
        if text is None or not y.is_scalar(v):
            continue
        out[key] = Amount(key, text, parse_quantity(text), reader.span(k), reader.span(v))
    return out


def _requirements(reader: NodeReader, node: Any) -> list[Requirement]:
    out = []
    for item in node.value if y.is_seq(node) else []:
        key = y.get(item, "key")
        operator = y.text(y.get(item, "operator"))
        if y.text(key) is None or operator is None:
            continue
        values = y.get(item, "values")
        items = [v for v in (values.value if y.is_seq(values) else []) if y.text(v) is not None]
        texts = tuple(y.text(v) or "" for v in items)
        out.append(
            Requirement(y.text(key) or "", operator, texts, reader.span(key), tuple(reader.span(v) for v in items))
        )
    return out


def _taints(reader: NodeReader, node: Any) -> list[Taint]:
    out = []
    for item in node.value if y.is_seq(node) else []:
        key = y.get(item, "key")
        if y.text(key) is None:
            continue
        out.append(
            Taint(
                y.text(key) or "",
                y.text(y.get(item, "value")) or "",
                y.text(y.get(item, "effect")) or "",
                reader.span(key),
            )
        )
    return out
