"""ML605-ML607: Karpenter node pools: GPU limits below a job, limits on names that are no resource, and the
Provisioner API that Karpenter v1 no longer reads."""

from __future__ import annotations

import math
from collections.abc import Iterator
from decimal import Decimal

from mllint.capacity import GPU, Cluster, candidates, cluster, jobs, profile_name
from mllint.checks.context import Ctx, ProjectCtx
from mllint.edits import span_offsets
from mllint.instance_types import CATEGORY_KEYS
from mllint.model import Edit, Finding, Fix, K8sObject, Span
from mllint.project import ProjectFacts, WorkloadFacts
from mllint.registry import rule
from mllint.sources.nodes import PoolFacts, is_pool, read_pool
from mllint.sources.podspec import NodeReader

# Resource names without a domain that Kubernetes itself defines, and Karpenter's own `nodes` limit.
NATIVE = frozenset({"cpu", "memory", "ephemeral-storage", "storage", "pods", "nodes"})
# Keys that mean NVIDIA GPUs but name no resource a device plugin advertises.
GPU_MISSPELLINGS = frozenset(
    {"gpu", "gpus", "nvidia-gpu", "nvidia_gpu", "nvidia/gpu", "nvidia.com/gpus", "nvidia.com.gpu", "nvidia.com-gpu"}
)
_MANUFACTURER_KEYS = frozenset(
    {"karpenter.k8s.aws/instance-gpu-manufacturer", "eks.amazonaws.com/instance-gpu-manufacturer"}
)


def _only_candidate(w: WorkloadFacts, world: Cluster) -> tuple[str, str] | None:
    """(kind, name) of the one candidate every pod of `w` may land on, definitely; None when there are several,
    none, or only possible ones."""
    place = w.placement
    if place is None:
        return None
    only: tuple[str, str] | None = None
    for labels in place.label_sets or [{}]:
        landing = [c for c in candidates(GPU, labels, place, world) if c.match != "no"]
        if len(landing) != 1 or landing[0].match != "definite":
            return None
        here = (landing[0].kind, landing[0].name)
        if only is not None and here != only:
            return None
        only = here
    return only


Homes = dict[int, tuple[str, str] | None]  # id(workload) -> the one candidate its GPU pods may land on


def _homes(groups: dict[tuple[str, str, str | None, str], list[WorkloadFacts]], world: Cluster) -> Homes:
    """Each GPU workload's only candidate, worked out once: every pool is then checked against it (not every pool
    against every workload against every candidate)."""
    return {
        id(w): _only_candidate(w, world)
        for workloads in groups.values()
        for w in workloads
        if w.gpus.get(GPU, 0) > 0 and not w.fragment
    }


def _over(
    groups: dict[tuple[str, str, str | None, str], list[WorkloadFacts]],
    kind: str,
    name: str,
    allowed: Decimal,
    homes: Homes,
) -> Iterator[tuple[str, str, list[tuple[WorkloadFacts, int, Decimal]], Decimal, str]]:
    """Each job whose GPU pods can run only on the candidate `kind` `name` and together need more than `allowed`:
    (its kind, its name, the terms, the sum, the sum spelled out)."""
    for (_path, job_kind, _ns, job_name), workloads in groups.items():
        terms = [(w, w.replicas, w.gpus[GPU]) for w in workloads if homes.get(id(w)) == (kind, name)]
        total = sum((n * g for _w, n, g in terms), start=Decimal(0))
        if terms and total > allowed:
            arithmetic = " + ".join(
                f"{w.role_name + ' ' if w.role_name else ''}{n} × {g.normalize()}" for w, n, g in terms
            )
            yield job_kind, job_name, terms, total, arithmetic


@rule("ML605")
def pool_gpu_limit_below_job(project: ProjectFacts, ctx: ProjectCtx) -> Iterator[Finding]:
    world = cluster(project, ctx.cuda)
    groups = jobs(project)
    homes = _homes(groups, world)
    for target in world.profile:
        if target.gpus is None or target.max_nodes is None or target.mig:
            continue
        most = Decimal(target.gpus * target.max_nodes)
        for kind, name, terms, total, arithmetic in _over(groups, "profile", profile_name(target), most, homes):
            spans = [span for w, _n, _g in terms if (span := _gpu_span(w)) is not None]
            if not spans:
                continue
            finding = Finding.at(
                spans[0],
                f"{kind} {name!r} can only run on {profile_name(target)}, which has at most {target.max_nodes} "
                f"nodes × {target.gpus} GPUs = {most.normalize()}, but it needs {arithmetic} = "
                f"{total.normalize()} GPUs at once; {total.normalize()} > {most.normalize()} leaves pods Pending",
                fix=f"raise the pool's max-nodes to at least {math.ceil(total / target.gpus)} (and the autoscaler's "
                "maximum with it), or run fewer or smaller replicas",
            )
            finding.logical = terms[0][0].identity
            yield finding
    for pool in world.pools:
        limit = pool.limits.get(GPU)
        if limit is None or limit.amount is None:
            continue
        for kind, name, terms, total, arithmetic in _over(
            groups, pool.kind, f"{pool.kind} {pool.name!r}", limit.amount, homes
        ):
            finding = Finding.at(
                limit.span,
                f"{pool.kind} {pool.name!r} limits {GPU} to {limit.raw}, but {kind} {name!r}, whose GPU pods can "
                f"only run on it, needs {arithmetic} = {total.normalize()} GPUs at once; Karpenter stops launching "
                f"nodes at the limit, so {total.normalize()} > {limit.amount.normalize()} leaves pods Pending",
                fix=f"raise {pool.limits_field}['{GPU}'] to at least {total.normalize()}, or run fewer or smaller replicas",
            )
            finding.logical = f"{pool.kind}//{pool.name}"
            finding.causes = tuple(span for w, _n, _g in terms if (span := _gpu_span(w)) is not None)
            yield finding


def _gpu_span(w: WorkloadFacts) -> Span | None:
    return (w.placement.gpu_spans.get(GPU) if w.placement is not None else None) or w.gpu_span


def _pool_of(obj: K8sObject, ctx: Ctx) -> PoolFacts:
    return read_pool(NodeReader(ctx.file.path, []), obj)


@rule("ML606")
def pool_limit_on_unknown_resource(obj: K8sObject, ctx: Ctx) -> Iterator[Finding]:
    if not is_pool(obj):
        return
    pool = _pool_of(obj, ctx)
    not_nvidia = any(
        r.key in _MANUFACTURER_KEYS and r.operator == "In" and "nvidia" not in r.values for r in pool.requirements
    )
    for key, amount in pool.limits.items():
        lowered = key.lower()
        if key in NATIVE or key.startswith("hugepages-") or ("/" in key and lowered not in GPU_MISSPELLINGS):
            continue
        gpu = lowered in GPU_MISSPELLINGS or "gpu" in lowered
        finding = Finding.at(
            amount.key_span,
            f"{pool.kind} {pool.name!r} limits {key!r} to {amount.raw}, but {key!r} is no resource a node has"
            + (f" (NVIDIA GPUs are {GPU!r})" if gpu else "")
            + ": Karpenter compares limits with node resources, so this limit never stops it launching nodes",
            fix=f"key the limit on {GPU!r}" if gpu else "key the limit on a resource name nodes advertise",
        )
        if gpu and not not_nvidia:
            finding.autofix = _rename(ctx, amount.key_span, key)
        finding.logical = f"{pool.kind}//{pool.name}"
        yield finding


def _rename(ctx: Ctx, span: Span, key: str) -> Fix | None:
    text = ctx.file.text
    start, end = span_offsets(text, span)
    written = text[start:end]
    if written.strip("'\"") != key:  # a key that is not written plainly on one line: no mechanical edit
        return None
    quote = written[0] if written[:1] in ("'", '"') else ""
    return Fix(
        f"rename limit {key!r} to {GPU!r}",
        safe=True,
        edits=(Edit(ctx.file.path, start, end, f"{quote}{GPU}{quote}"),),
    )


@rule("ML607")
def karpenter_provisioner_removed(obj: K8sObject, ctx: Ctx) -> Iterator[Finding]:
    if obj.kind != "Provisioner" or obj.api_version != "karpenter.sh/v1alpha5":
        return
    pool = _pool_of(obj, ctx)
    finding = Finding.at(
        pool.kind_span,
        f"Provisioner {obj.name!r} (karpenter.sh/v1alpha5) is read by Karpenter v0.32 and earlier only; Karpenter "
        "v1 supports only the v1 and v1beta1 APIs, so on a current cluster it launches no nodes",
        fix="rewrite it as a karpenter.sh/v1 NodePool: requirements and taints under spec.template.spec, labels "
        "under spec.template.metadata, limits.resources as spec.limits, providerRef as "
        "spec.template.spec.nodeClassRef (an EC2NodeClass)",
    )
    finding.logical = f"Provisioner//{obj.name}"
    yield finding


@rule("ML608")
def karpenter_category_holds_family(obj: K8sObject, ctx: Ctx) -> Iterator[Finding]:
    if not is_pool(obj):
        return
    pool = _pool_of(obj, ctx)
    for req in pool.requirements:
        if req.key not in CATEGORY_KEYS or req.operator not in ("In", "NotIn"):
            continue
        families = [
            (v, span) for v, span in zip(req.values, req.value_spans, strict=False) if any(ch.isdigit() for ch in v)
        ]
        if not families:
            continue
        left = [v for v in req.values if not any(ch.isdigit() for ch in v)]
        effect = (
            "so the requirement matches no instance type and the pool launches no nodes"
            if req.operator == "In" and not left
            else ("so those values match nothing" if req.operator == "In" else "so it excludes nothing")
        )
        shown = ", ".join(repr(v) for v, _s in families)
        finding = Finding.at(
            families[0][1],
            f"{pool.kind} {pool.name!r} requires {req.key} {req.operator} {shown}, but categories are the letters "
            f"before the generation ('g', 'p'); {shown} {'are families' if len(families) > 1 else 'is a family'}, "
            + effect,
            fix=f"use karpenter.k8s.aws/instance-family for {shown}, or the categories ("
            + ", ".join(repr(_category(v)) for v, _s in families)
            + ")",
        )
        if not left and req.key.startswith("karpenter.k8s.aws/"):
            finding.autofix = _rename_key(ctx, req.span, req.key, "karpenter.k8s.aws/instance-family")
        finding.logical = f"{pool.kind}//{pool.name}"
        yield finding


def _category(family: str) -> str:
    end = next((i for i, ch in enumerate(family) if ch.isdigit()), len(family))
    return family[:end]


def _rename_key(ctx: Ctx, span: Span, key: str, new: str) -> Fix | None:
    text = ctx.file.text
    start, end = span_offsets(text, span)
    written = text[start:end]
    if written.strip("'\"") != key:
        return None
    quote = written[0] if written[:1] in ("'", '"') else ""
    return Fix(
        f"require {new} instead of {key}", safe=False, edits=(Edit(ctx.file.path, start, end, f"{quote}{new}{quote}"),)
    )
