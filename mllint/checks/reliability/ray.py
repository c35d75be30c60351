"""ML511-ML513: KubeRay clusters (RayCluster, and the clusters RayJob and RayService create)."""

from __future__ import annotations

from collections.abc import Iterator

from mllint import yamlsrc as y
from mllint.checks.context import Ctx, gpu_names
from mllint.checks.gpu.launchers import RAY_KINDS
from mllint.model import Finding, Workload
from mllint.registry import rule


def _group(workload: Workload) -> str | None:
    """`head`, `workers/<group>` for Ray pods; None for other workloads and the RayJob submitter."""
    if workload.kind not in RAY_KINDS or not workload.role:
        return None
    role = workload.role.split("/", 1)[1]
    return role if role == "head" or role.startswith("workers/") else None


@rule("ML511")
def ray_head_requests_gpus(workload: Workload, ctx: Ctx) -> Iterator[Finding]:
    if _group(workload) != "head" or not workload.pod.containers:
        return
    has_workers = any(w.node is workload.node and (_group(w) or "").startswith("workers/")
                      for w in ctx.file.workloads)
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
            fix="remove the GPU from the head and keep rayStartParams num-gpus: \"0\"; give the GPUs to a worker group",
        )
        return


@rule("ML512")
def ray_worker_replica_range(workload: Workload, ctx: Ctx) -> Iterator[Finding]:
    group = _group(workload)
    if group is None or not group.startswith("workers/"):
        return
    low, high = y.get_item(workload.group, "minReplicas"), y.get_item(workload.group, "maxReplicas")
    lo_n, hi_n = (y.natural(y.text(i[1])) if i else None for i in (low, high))
    if low is not None and lo_n is not None and hi_n is not None and lo_n > hi_n:
        yield Finding.at(
            y.scalar_span(ctx.file.path, low[1]),
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
                f"Ray container {ray.name!r} ({workload.role.split('/', 1)[1] if workload.role else ''}) of "
                f"{workload.kind} {workload.name!r} requests {request} {resource} but is limited to {limit}: Ray "
                "sizes its logical resources from the limit while Kubernetes places the pod by the request",
                fix=f"set the {resource} request equal to the limit ({limit}), as KubeRay recommends",
            )
