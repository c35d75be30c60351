"""ML107: processes per node that the launcher starts vs the GPUs each pod gets."""

from __future__ import annotations

import re
from collections.abc import Iterator
from decimal import Decimal

from mllint.checks.context import Ctx, gpu_names, same_object, span_in_value
from mllint.model import Container, Finding, K8sObject, PodSpec, ProcessesSetting, Span, Value, Workload, natural
from mllint.registry import rule
from mllint.sources.kinds import PROCESSES_PER_NODE, RAY_KINDS

_NPROC_FLAG = re.compile(r"--nproc[-_]per[-_]node")
_NPROC = re.compile(r"--nproc[-_]per[-_]node(?:=|\s+)[\"']?([^\s\"';&|)]+)")


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


def pod_whole_gpus(pod: PodSpec, ctx: Ctx) -> int | None:
    """The whole GPUs of the pod's containers together; None when one of them has a count mllint cannot read."""
    counts = [whole_gpus(c, ctx) for c in pod.containers]
    return None if None in counts else sum(c for c in counts if c is not None)


def _torchrun_counts(container: Container) -> Iterator[tuple[int, Value, int, int]]:
    """(processes, value, start, end) for every --nproc_per_node in the command and args."""
    values = container.command + container.args
    for i, value in enumerate(values):
        if _NPROC_FLAG.fullmatch(value.text.strip()) and i + 1 < len(values):
            n = values[i + 1].count
            if n is not None:
                yield n, values[i + 1], 0, len(values[i + 1].text)
            continue
        for match in _NPROC.finditer(value.text):
            n = natural(match[1])
            if n is not None:
                yield n, value, match.start(1), match.end(1)


def _compare(launcher: str, n: int, gpus: int, holder: str) -> tuple[str, str] | None:
    """(message, severity) when `n` processes per node do not match `gpus`."""
    if n > gpus:
        lost = (
            f"local ranks {gpus}-{n - 1} find no GPU of their own"
            if n - gpus > 1
            else f"local rank {gpus} finds no GPU of its own"
        )
        return (
            f"{launcher} starts {n} processes per node but {holder} gets {gpus} GPU(s): {lost} "
            "(CUDA 'invalid device ordinal', or ranks crowding one GPU)",
            "error",
        )
    if n < gpus:
        return (
            f"{launcher} starts {n} process(es) per node but {holder} gets {gpus} GPUs: {gpus - n} of them stay idle",
            "warning",
        )
    return None


def _finding(span: Span, compared: tuple[str, str], fix: str) -> Finding:
    return Finding.at(span, compared[0], fix=fix, severity=compared[1])


@rule("ML107")
def launcher_gpu_count_mismatch(target: Workload | K8sObject, ctx: Ctx) -> Iterator[Finding]:
    if isinstance(target, Workload):
        yield from _torchrun(target, ctx)
        if target.kind in RAY_KINDS:
            yield from _ray_num_gpus(target, ctx)
    elif target.processes is not None:
        yield from _operator_field(target, target.processes, ctx)


def _torchrun(workload: Workload, ctx: Ctx) -> Iterator[Finding]:
    for container in workload.pod.containers:
        gpus = whole_gpus(container, ctx)
        if not gpus:
            continue  # no GPUs (a CPU run) or a count mllint cannot read
        for n, value, start, end in _torchrun_counts(container):
            what = "service" if ctx.compose else "container"
            compared = _compare("torchrun --nproc_per_node", n, gpus, f"{what} {container.name!r}")
            if compared:
                yield _finding(
                    span_in_value(value, start, end, ctx.file.lines()),
                    compared,
                    f"set --nproc_per_node={gpus} (or 'gpu', which torchrun resolves to the visible GPUs)",
                )


def _ray_num_gpus(workload: Workload, ctx: Ctx) -> Iterator[Finding]:
    value = workload.group.ray_start_params.get("num-gpus") if workload.group is not None else None
    if value is None or not workload.pod.containers:
        return
    n = value.count
    ray = workload.pod.containers[0]  # KubeRay runs Ray in the first container
    gpus = whole_gpus(ray, ctx)
    if n is None or gpus is None or n <= gpus:
        return
    group = workload.role_name or "group"
    yield Finding.at(
        value.span,
        f"rayStartParams num-gpus is {n} in {workload.kind} {workload.name!r} {group}, but its Ray container "
        f"{ray.name!r} gets {gpus} GPU(s): Ray schedules GPU tasks onto devices the pod does not have",
        fix=f"drop num-gpus (Ray reads the container's GPU limit) or set it to {gpus}",
    )


def _operator_field(obj: K8sObject, setting: ProcessesSetting, ctx: Ctx) -> Iterator[Finding]:
    """The operator field that sets processes per node (PROCESSES_PER_NODE) against each role's GPUs."""
    field = PROCESSES_PER_NODE[obj.kind]
    key, default = field.key, field.default
    if setting.value is not None:
        n, span, launcher = setting.value.count, setting.value.span, f"{key}: {setting.value.text}"
    elif default is not None:
        n, span, launcher = default, setting.spec_span, f"{key} (default {default})"
    else:
        return
    if n is None:
        return  # "auto", "gpu", or a template
    for workload in same_object(obj, ctx.file):
        role = workload.role_name or ""
        if role not in field.roles:
            continue
        gpus = pod_whole_gpus(workload.pod, ctx)
        if not gpus:
            continue
        compared = _compare(f"{obj.kind} {obj.name!r} {launcher}", n, gpus, f"each {role} pod")
        if compared:
            yield _finding(span, compared, f"set {key}: {gpus} to match the GPUs of each {role} pod")
            return
