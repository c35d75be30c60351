"""ML511-ML513: KubeRay clusters (RayCluster, and the clusters RayJob and RayService create)."""

from __future__ import annotations

from collections.abc import Iterator

from mllint.checks.context import Ctx, gpu_names, same_object
from mllint.model import Finding, Workload
from mllint.registry import rule
from mllint.sources.kinds import RAY_KINDS


def _group(workload: Workload) -> str | None:
    """`head`, `workers/<group>` for Ray pods; None for other workloads and the RayJob submitter."""
    role = workload.role_name if workload.kind in RAY_KINDS else None
    return role if role is not None and (role == "head" or role.startswith("workers/")) else None


@rule("ML511")
def ray_head_requests_gpus(workload: Workload, ctx: Ctx) -> Iterator[Finding]:
    if _group(workload) != "head" or not workload.pod.containers:
        return
    has_workers = any((_group(w) or "").startswith("workers/") for w in same_object(workload, ctx.file))
    if not has_workers:
        return  # a head-only cluster does its work on the head
    ray = workload.pod.containers[0]
    for name in gpu_names(ray, ctx.gpu_resources):
        q = ray.resources.limits.get(name) or ray.resources.requests[name]
        yield Finding.at(
            q.span,
            f"the head of {workload.kind} {workload.name!r} asks for {q} {name}; the head runs the GCS, dashboard "
            "and driver, and with worker groups present its GPUs mostly sit idle (or tasks land on the head "
            "and make it fail under load)",
            fix='remove the GPU from the head and keep rayStartParams num-gpus: "0"; give the GPUs to a worker group',
        )
        return


@rule("ML512")
def ray_worker_replica_range(workload: Workload, ctx: Ctx) -> Iterator[Finding]:
    group = _group(workload)
    if group is None or not group.startswith("workers/"):
        return
    low = workload.group.min_replicas if workload.group is not None else None
    high = workload.group.max_replicas if workload.group is not None else None
    lo_n, hi_n = (low.count if low else None), (high.count if high else None)
    if low is not None and lo_n is not None and hi_n is not None and lo_n > hi_n:
        yield Finding.at(
            low.span,
            f"worker group {group.split('/', 1)[1]!r} of {workload.kind} {workload.name!r} has minReplicas "
            f"{lo_n} above maxReplicas {hi_n}; KubeRay cannot satisfy both and the autoscaler misbehaves",
            fix=f"make minReplicas <= maxReplicas (e.g. maxReplicas: {lo_n})",
        )


@rule("ML513")
def ray_requests_differ_from_limits(workload: Workload, ctx: Ctx) -> Iterator[Finding]:
    if _group(workload) is None or not workload.pod.containers:
        return
    ray = workload.pod.containers[0]
    for resource in ("cpu", "memory"):
        request, limit = ray.resources.requests.get(resource), ray.resources.limits.get(resource)
        if request is None or limit is None or request.amount is None or limit.amount is None:
            continue
        if request.amount != limit.amount:
            yield Finding.at(
                request.span,
                f"Ray container {ray.name!r} ({workload.role_name or ''}) of "
                f"{workload.kind} {workload.name!r} requests {request} {resource} but is limited to {limit}: Ray "
                "sizes its logical resources from the limit while Kubernetes places the pod by the request",
                fix=f"set the {resource} request equal to the limit ({limit}), as KubeRay recommends",
            )
