"""ML6xx: quotas and multi-tenancy."""

from __future__ import annotations

from collections.abc import Iterator

from mllint import yamlsrc as y
from mllint.checks.context import Ctx
from mllint.model import Finding, K8sObject
from mllint.registry import rule

_NATIVE = ("cpu", "memory", "ephemeral-storage", "storage")


def _extended(resource: str) -> bool:
    """Extended resources carry a domain outside kubernetes.io (`nvidia.com/gpu`); hugepages are native."""
    if "/" not in resource:
        return False
    domain = resource.split("/", 1)[0]
    return not (domain == "kubernetes.io" or domain.endswith(".kubernetes.io"))


@rule("ML601")
def quota_limit_on_extended_resource(obj: K8sObject, ctx: Ctx) -> Iterator[Finding]:
    if obj.kind != "ResourceQuota":
        return
    hard = y.get(y.get(obj.node, "spec"), "hard")
    for key, k, _v in y.items(hard):
        if key.startswith("limits.") and _extended(key[len("limits."):]):
            resource = key[len("limits."):]
            yield Finding.at(
                y.scalar_span(obj.span.path, k),
                f"ResourceQuota {obj.name!r} sets {key!r}; for extended resources Kubernetes allows only quota "
                "items with the requests. prefix, so this line does not cap GPU use",
                fix=f"use 'requests.{resource}' (extended resources cannot be overcommitted, so requests equal limits)",
            )
