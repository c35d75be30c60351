"""ML107: processes per node that the launcher starts vs the GPUs each pod gets."""

from __future__ import annotations

import re
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

from mllint import yamlsrc as y
from mllint.checks.context import Ctx, gpu_names, span_in_value
from mllint.model import Container, Finding, K8sObject, PodSpec, Span, Value, Workload
from mllint.registry import rule

_NPROC_FLAG = re.compile(r"--nproc[-_]per[-_]node")
_NPROC = re.compile(r"--nproc[-_]per[-_]node(?:=|\s+)[\"']?([^\s\"';&|)]+)")
RAY_KINDS = frozenset({"RayCluster", "RayJob", "RayService"})


def whole_gpus(container: Container, ctx: Ctx) -> int | None:
    """The container's GPU limit (whole-GPU resources, MIG slices excluded); None when not a plain number."""
    total = Decimal(0)
    for name in gpu_names(container, ctx.gpu_resources):
        if name.startswith("nvidia.com/mig-"):
            continue
        q = container.resources.limits.get(name) or container.resources.requests.get(name)
        if q is None or q.amount is None or q.amount != q.amount.to_integral_value():
            return None
        total += q.amount
    return int(total)


def pod_gpus(pod: PodSpec, ctx: Ctx) -> int | None:
    counts = [whole_gpus(c, ctx) for c in pod.containers]
    return None if None in counts else sum(c for c in counts if c is not None)


def _torchrun_counts(container: Container) -> Iterator[tuple[int, Value, int, int]]:
    """(processes, value, start, end) for every --nproc_per_node in the command and args."""
    values = container.command + container.args
    for i, value in enumerate(values):
        if _NPROC_FLAG.fullmatch(value.text.strip()) and i + 1 < len(values):
            n = y.natural(values[i + 1].text)
            if n is not None:
                yield n, values[i + 1], 0, len(values[i + 1].text)
            continue
        for match in _NPROC.finditer(value.text):
            n = y.natural(match[1])
            if n is not None:
                yield n, value, match.start(1), match.end(1)


def _compare(launcher: str, n: int, gpus: int, holder: str) -> tuple[str, str] | None:
    """(message, severity) when `n` processes per node do not match `gpus`."""
    if n > gpus:
        lost = f"local ranks {gpus}-{n - 1} find no GPU of their own" if n - gpus > 1 else \
            f"local rank {gpus} finds no GPU of its own"
        return (f"{launcher} starts {n} processes per node but {holder} gets {gpus} GPU(s): {lost} "
                "(CUDA 'invalid device ordinal', or ranks crowding one GPU)", "error")
    if n < gpus:
        return (f"{launcher} starts {n} process(es) per node but {holder} gets {gpus} GPUs: "
                f"{gpus - n} of them stay idle", "warning")
    return None


def _finding(span: Span, compared: tuple[str, str], fix: str) -> Finding:
    finding = Finding.at(span, compared[0], fix=fix)
    finding.severity = compared[1]
    return finding


@rule("ML107")
def launcher_gpu_count_mismatch(target: Workload | K8sObject, ctx: Ctx) -> Iterator[Finding]:
    if isinstance(target, Workload):
        yield from _torchrun(target, ctx)
        if target.kind in RAY_KINDS:
            yield from _ray_num_gpus(target, ctx)
    elif target.kind in _OPERATOR_FIELDS:
        yield from _operator_field(target, ctx)


def _torchrun(workload: Workload, ctx: Ctx) -> Iterator[Finding]:
    for container in workload.pod.containers:
        gpus = whole_gpus(container, ctx)
        if not gpus:
            continue  # no GPUs (a CPU run) or a count mllint cannot read
        for n, value, start, end in _torchrun_counts(container):
            what = "service" if ctx.compose else "container"
            compared = _compare("torchrun --nproc_per_node", n, gpus, f"{what} {container.name!r}")
            if compared:
                yield _finding(span_in_value(value, start, end, ctx.file.lines()), compared,
                               f"set --nproc_per_node={gpus} (or 'gpu', which torchrun resolves to the visible GPUs)")


def _ray_num_gpus(workload: Workload, ctx: Ctx) -> Iterator[Finding]:
    params = y.get(workload.group, "rayStartParams")
    item = y.get_item(params, "num-gpus")
    if item is None or not workload.pod.containers:
        return
    n = y.natural(y.text(item[1]))
    ray = workload.pod.containers[0]  # KubeRay runs Ray in the first container
    gpus = whole_gpus(ray, ctx)
    if n is None or gpus is None or n <= gpus:
        return
    group = workload.role.split("/", 1)[1] if workload.role else "group"
    yield Finding.at(
        y.scalar_span(ctx.file.path, item[1]),
        f"rayStartParams num-gpus is {n} in {workload.kind} {workload.name!r} {group}, but its Ray container "
        f"{ray.name!r} gets {gpus} GPU(s): Ray schedules GPU tasks onto devices the pod does not have",
        fix=f"drop num-gpus (Ray reads the container's GPU limit) or set it to {gpus}",
    )


# Operator fields that set processes per node, and the roles whose pods they apply to.
_OPERATOR_FIELDS: dict[str, tuple[str, tuple[str, ...], int | None]] = {
    # kind: (field under spec, roles, default when absent: None means no default to check)
    "PyTorchJob": ("nprocPerNode", ("Master", "Worker"), None),
    "MPIJob": ("slotsPerWorker", ("Worker",), 1),
    "TrainJob": ("trainer.numProcPerNode", ("trainer",), None),
}


def _operator_field(obj: K8sObject, ctx: Ctx) -> Iterator[Finding]:
    dotted, roles, default = _OPERATOR_FIELDS[obj.kind]
    holder: Any = y.get(obj.node, "spec")
    *parents, key = dotted.split(".")
    for part in parents:
        holder = y.get(holder, part)
    item = y.get_item(holder, key)
    if item is not None:
        n, span, launcher = y.natural(y.text(item[1])), y.scalar_span(ctx.file.path, item[1]), f"{key}: {y.text(item[1])}"
    elif default is not None:
        spec = y.get_item(obj.node, "spec")
        if spec is None:
            return
        n, span, launcher = default, y.scalar_span(ctx.file.path, spec[0]), f"{key} (default {default})"
    else:
        return
    if n is None:
        return  # "auto", "gpu", or a template
    for workload in ctx.file.workloads:
        role = (workload.role or "").split("/", 1)[-1]
        if workload.node is not obj.node or role not in roles:
            continue
        gpus = pod_gpus(workload.pod, ctx)
        if not gpus:
            continue
        compared = _compare(f"{obj.kind} {obj.name!r} {launcher}", n, gpus, f"each {role} pod")
        if compared:
            yield _finding(span, compared, f"set {key}: {gpus} to match the GPUs of each {role} pod")
            return
