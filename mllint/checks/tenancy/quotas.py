"""ML6xx: quotas and multi-tenancy."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from fnmatch import fnmatchcase

from mllint.checks.context import Ctx, ProjectCtx
from mllint.k8sfix import quota_requests
from mllint.model import Finding, K8sObject
from mllint.project import ProjectFacts, QuotaFacts, WorkloadFacts
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
    if obj.quota is None:
        return
    for item in obj.quota.hard_keys:
        key = item.text
        if key.startswith("limits.") and _extended(key[len("limits.") :]):
            resource = key[len("limits.") :]
            finding = Finding.at(
                item.span,
                f"ResourceQuota {obj.name!r} sets {key!r}; for extended resources Kubernetes allows only quota "
                "items with the requests. prefix, so this line does not cap GPU use",
                fix=f"use 'requests.{resource}' (extended resources cannot be overcommitted, so requests equal limits)",
            )
            finding.autofix = quota_requests(ctx.file, item, {k.text for k in obj.quota.hard_keys})
            yield finding


def _gpu_quota_keys(quota: QuotaFacts, patterns: tuple[str, ...]) -> dict[str, str]:
    """GPU resource -> the quota key that caps it (`requests.nvidia.com/gpu`)."""
    out = {}
    for key in quota.hard:
        if key.startswith("requests.") and any(fnmatchcase(key[len("requests.") :], p) for p in patterns):
            out[key[len("requests.") :]] = key
    return out


_COMPUTE = ("cpu", "memory", "requests.cpu", "requests.memory", "limits.cpu", "limits.memory")


def _caps_compute(quota: QuotaFacts, patterns: tuple[str, ...]) -> bool:
    """A quota on CPU, memory or GPUs: what says the cluster divides compute between teams."""
    return any(key in _COMPUTE for key in quota.hard) or bool(_gpu_quota_keys(quota, patterns))


def _label(ns: str | None) -> str:
    return f"namespace {ns!r}" if ns else "the default namespace (no metadata.namespace)"


@rule("ML602")
def namespace_gpu_without_quota(project: ProjectFacts, ctx: ProjectCtx) -> Iterator[Finding]:
    quotas = [q for q in project.quotas if _caps_compute(q, ctx.gpu_resources)]  # not a count of Workflows
    if not quotas and not ctx.params.require_gpu_quota:
        return
    capped: dict[str | None, set[str]] = {}
    for quota in quotas:
        capped.setdefault(quota.namespace, set()).update(_gpu_quota_keys(quota, ctx.gpu_resources))
    quota_namespaces = sorted(ns or "(unset)" for ns in capped)
    uncovered: dict[tuple[str | None, str], list[WorkloadFacts]] = {}
    for w in project.workloads:
        if w.namespace is None and None not in capped and not ctx.params.require_gpu_quota:
            continue  # where it lands is decided at apply time
        if w.labels_queue:
            continue  # Kueue admits it only within its ClusterQueue's quota
        for resource, amount in w.gpus.items():
            if amount > 0 and resource not in capped.get(w.namespace, set()):
                uncovered.setdefault((w.namespace, resource), []).append(w)
    for (ns, resource), workloads in uncovered.items():
        first = workloads[0]
        assert first.gpu_span is not None  # a workload with GPUs has a GPU quantity
        named = list(dict.fromkeys(f"{w.kind} {w.name!r}" for w in workloads))
        names = ", ".join(named[:3]) + (f" and {len(named) - 3} more" if len(named) > 3 else "")
        where = (
            f"quotas exist for {', '.join(quota_namespaces)}" if quota_namespaces else "the configuration asks for one"
        )
        finding = Finding.at(
            first.gpu_span,
            f"{_label(ns)} runs GPU workloads ({names}) but no ResourceQuota in the scan caps "
            f"requests.{resource} there ({where}): one team can take every GPU of the cluster",
            fix=f"add a ResourceQuota to {_label(ns)} with spec.hard['requests.{resource}']",
        )
        finding.logical = first.identity
        yield finding


_SHOWN_TERMS = 8  # terms of the sum a message spells out


def _demand(project: ProjectFacts, namespace: str | None, resource: str) -> tuple[Decimal, str]:
    """The GPUs a namespace's workloads ask for when all run, and the sum spelled out."""
    terms = [
        (w, w.replicas, w.gpus[resource])
        for w in project.workloads_by_namespace.get(namespace, [])
        if w.gpus.get(resource, 0) > 0
    ]
    total = sum((n * g for _w, n, g in terms), start=Decimal(0))
    arithmetic = " + ".join(
        f"{w.kind} {w.name!r}{' ' + w.role_name if w.role_name else ''} {n} × {g.normalize()}"
        for w, n, g in terms[:_SHOWN_TERMS]
    )
    if len(terms) > _SHOWN_TERMS:
        rest = sum((n * g for _w, n, g in terms[_SHOWN_TERMS:]), start=Decimal(0))
        arithmetic += f" + {len(terms) - _SHOWN_TERMS} more workloads ({rest.normalize()})"
    return total, arithmetic


@rule("ML603")
def gpu_quota_exceeded(project: ProjectFacts, ctx: ProjectCtx) -> Iterator[Finding]:
    demand: dict[tuple[str | None, str], tuple[Decimal, str]] = {}
    for quota in project.quotas:
        if quota.scoped:
            continue  # a scoped quota counts only some pods; mllint cannot tell which
        for resource, key in _gpu_quota_keys(quota, ctx.gpu_resources).items():
            allowed = quota.hard[key]
            if allowed.amount is None:
                continue
            if (quota.namespace, resource) not in demand:
                demand[quota.namespace, resource] = _demand(project, quota.namespace, resource)
            total, arithmetic = demand[quota.namespace, resource]
            if total <= allowed.amount:
                continue
            causes = tuple(
                w.gpu_span
                for w in project.workloads_by_namespace.get(quota.namespace, [])
                if w.gpus.get(resource, 0) > 0 and w.gpu_span is not None
            )
            finding = Finding.at(
                allowed.span,
                f"ResourceQuota {quota.name!r} allows {allowed} {resource} in {_label(quota.namespace)}, but its "
                f"workloads ask for {total.normalize()} when all run: {arithmetic} = {total.normalize()}; pods beyond "
                "the quota are refused at creation",
                fix=f"raise {key} to {total.normalize()}, or lower replicas or GPUs per pod",
            )
            finding.logical = f"ResourceQuota/{quota.namespace or ''}/{quota.name}"
            finding.causes = causes
            yield finding


BUILTIN_PRIORITY_CLASSES = frozenset({"system-cluster-critical", "system-node-critical"})


@rule("ML604")
def unknown_priority_class(project: ProjectFacts, ctx: ProjectCtx) -> Iterator[Finding]:
    defined = project.priority_classes
    configured = set(ctx.params.known_classes or ())
    if not defined and not configured:
        return
    known = defined | configured | BUILTIN_PRIORITY_CLASSES
    seen = set()
    for w in project.workloads:
        value = w.priority_class
        if value is None or value.templated or not value.text or value.text in known or value.span in seen:
            continue  # an empty name means no class: the pod gets the default priority
        seen.add(value.span)
        listed = ", ".join(sorted(defined | configured))
        finding = Finding.at(
            value.span,
            f"{w.kind} {w.name!r} uses PriorityClass {value.text!r}, which is not among the known classes "
            f"({listed}); the API server rejects pods that name a class that does not exist",
            fix="use one of the defined classes, or add the PriorityClass (or list it in known_classes)",
        )
        finding.logical = w.identity
        yield finding
