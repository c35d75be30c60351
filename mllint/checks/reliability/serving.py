"""ML5xx: reliability of serving and training."""

from __future__ import annotations

import re
from collections.abc import Iterator

from mllint.checks.context import Ctx, gpu_names, who
from mllint.k8sfix import shm_volume, startup_probe
from mllint.model import Container, Finding, PodSpec, Workload
from mllint.registry import rule
from mllint.roles import MODEL_SERVER, role, served
from mllint.sources.kinds import KSERVE_FRAMEWORKS, SERVING_KINDS, SERVING_PLATFORM_KINDS, TRAINING_KINDS


def _missing_probe(container: Container, ctx: Ctx, kind: str, why: str, fix: str) -> Iterator[Finding]:
    server = served(ctx.workload, container)
    if kind in container.probes or server is None:
        return
    workload = ctx.workload
    assert workload is not None  # served() is None without one
    yield Finding.at(
        container.name_span or container.span,
        f"container {container.name!r} in {workload.kind} {workload.name!r} is a model server ({server.evidence}) "
        f"and has no {kind}Probe: {why}",
        fix=fix,
    )


def _compose_server_without_healthcheck(container: Container, ctx: Ctx) -> Iterator[Finding]:
    """Compose: a service that runs a model server from a published image, with no healthcheck. A service
    that builds its image is left alone: its Dockerfile may declare HEALTHCHECK."""
    workload = ctx.workload
    if workload is None or workload.build is not None or "healthcheck" in container.probes:
        return
    server = role(workload, container)
    if server.name != MODEL_SERVER:
        return
    yield Finding.at(
        container.name_span or container.span,
        f"service {container.name!r} is a model server ({server.evidence}) and has no healthcheck: `depends_on: "
        "condition: service_healthy`, `docker compose up --wait` and load balancers cannot tell when the model has "
        "loaded",
        fix='add a healthcheck that calls the server\'s readiness endpoint (e.g. test: ["CMD", "curl", "-f", '
        '"http://localhost:8000/health"], with a start_period long enough for the model to load)',
        severity="note",
    )


@rule("ML501")
def model_server_without_readiness_probe(container: Container, ctx: Ctx) -> Iterator[Finding]:
    if ctx.compose:
        yield from _compose_server_without_healthcheck(container, ctx)
        return
    yield from _missing_probe(
        container,
        ctx,
        "readiness",
        "Services send it traffic before the model has loaded, and requests fail during every rollout",
        "add a readinessProbe on the server's health endpoint (e.g. httpGet /v2/health/ready for Triton, "
        "/health for vLLM)",
    )


@rule("ML502")
def model_server_without_liveness_probe(container: Container, ctx: Ctx) -> Iterator[Finding]:
    hangs = (
        "a stuck CUDA context, a deadlocked worker"
        if gpu_names(container, ctx.gpu_resources)
        else "a deadlocked worker"
    )
    yield from _missing_probe(
        container,
        ctx,
        "liveness",
        f"a server that hangs ({hangs}) is never restarted",
        "add a livenessProbe, with a startupProbe in front of it so a slow model load is not killed",
    )


@rule("ML503")
def liveness_kills_loading_model(container: Container, ctx: Ctx) -> Iterator[Finding]:
    probe = container.probes.get("liveness")
    workload = ctx.workload
    if (
        probe is None
        or probe.unresolved
        or "startup" in container.probes
        or workload is None
        or workload.format != "kubernetes"
    ):
        return
    server = role(workload, container)
    if server.name != MODEL_SERVER or container.init:
        return
    delay = probe.initial_delay_seconds or 0
    period = probe.period_seconds or 10
    failures = probe.failure_threshold or 3
    budget = delay + period * failures
    if budget < ctx.params.model_load_seconds:
        finding = Finding.at(
            probe.span,
            f"{who(container, ctx)} is a model server ({server.evidence}) with a livenessProbe and no startupProbe: "
            f"it is restarted after {delay} + {period} x {failures} = {budget} s, before a model that takes "
            f"{ctx.params.model_load_seconds} s to load is ready, so it can restart forever",
            fix=f"add a startupProbe with periodSeconds x failureThreshold >= {ctx.params.model_load_seconds} "
            "(e.g. periodSeconds: 10, failureThreshold: 30), or raise initialDelaySeconds",
        )
        finding.autofix = startup_probe(ctx.file, probe, ctx.params.model_load_seconds)
        yield finding


def _kubernetes_main(container: Container, ctx: Ctx) -> bool:
    """Containers whose resources the user writes: not Compose, not init, not KServe framework shorthands
    (KServe gives those default requests and limits)."""
    workload = ctx.workload
    return (
        workload is not None
        and workload.format == "kubernetes"
        and not container.init
        and not _in_runtime_pod(workload, container)
    )


def _in_runtime_pod(workload: Workload, container: Container) -> bool:
    """A KServe model (`predictor.model`, or a framework key such as `pytorch`): KServe builds its container and
    pod from the ServingRuntime it names or selects by model format, merged with what the model sets."""
    return workload.kind == "InferenceService" and container.path.rsplit(".", 1)[-1] in KSERVE_FRAMEWORKS


# What a GPU container without CPU or memory bounds starves or leaks, by what it is.
_STARVES = {
    "training": "data loading starves the GPUs",
    MODEL_SERVER: "request handling (tokenizing, batching) starves the GPU",
}
_LEAKS = {
    "training": "a leak in data loading can take the whole GPU node's memory and evict its neighbours",
    MODEL_SERVER: "a model server's host memory grows with the models it loads and the requests it queues, and a "
    "leak can take the whole GPU node's memory and evict its neighbours",
}
_MEMORY_FIX = {
    "training": "set resources.limits.memory (for training, about the request plus headroom for DataLoader workers)",
    MODEL_SERVER: "set resources.limits.memory (for a model server, the model's host-memory footprint plus headroom "
    "for queued requests)",
}


@rule("ML504")
def missing_resource_requests(container: Container, ctx: Ctx) -> Iterator[Finding]:
    if not _kubernetes_main(container, ctx):
        return
    res = container.resources
    missing = [r for r in ("cpu", "memory") if r not in res.requests and r not in res.limits]
    if not missing:
        return
    gpu = bool(gpu_names(container, ctx.gpu_resources))
    what = role(ctx.workload, container).name
    yield Finding.at(
        res.span or container.name_span or container.span,
        f"{who(container, ctx)} sets no {' or '.join(missing)} request"
        + (
            f"; the scheduler packs it onto a GPU node as if it needed none, and {_STARVES.get(what, 'the GPU waits on a starved CPU')}"
            if gpu
            else "; the scheduler places it as if it needed none"
        ),
        fix="set resources.requests for " + " and ".join(missing) + " (a limit alone also sets the request)",
        severity="" if gpu else "note",
    )


@rule("ML505")
def missing_memory_limit(container: Container, ctx: Ctx) -> Iterator[Finding]:
    if not _kubernetes_main(container, ctx) or "memory" in container.resources.limits:
        return
    gpu = bool(gpu_names(container, ctx.gpu_resources))
    what = role(ctx.workload, container).name
    yield Finding.at(
        container.resources.span or container.name_span or container.span,
        f"{who(container, ctx)} has no memory limit; "
        + (
            _LEAKS.get(what, "a leak can take the whole GPU node's memory and evict its neighbours")
            if gpu
            else "a leak can take the node's memory and evict its neighbours"
        ),
        fix=_MEMORY_FIX.get(what, "set resources.limits.memory"),
        severity="" if gpu else "note",
    )


@rule("ML506")
def request_exceeds_limit(container: Container, ctx: Ctx) -> Iterator[Finding]:
    res = container.resources
    for name, request in res.requests.items():
        limit = res.limits.get(name)
        if limit is None or request.amount is None or limit.amount is None or request is limit:
            continue
        if request.amount > limit.amount:
            yield Finding.at(
                request.span,
                f"{who(container, ctx)} requests {request} {name} but limits it to {limit}; "
                "the API server rejects a request above its limit",
                fix=f"lower the {name} request to at most {limit}, or raise the limit",
            )


_TRAINING_COMMAND = re.compile(
    r"torchrun|torch\.distributed|(?<![a-z])train|accelerate\s+launch|deepspeed|horovodrun|"
    r"\bfit\b|finetune|fine-tune|lightning",
    re.I,
)


def _has_shm(pod: PodSpec, container: Container) -> bool:
    if pod.host_ipc or (pod.ipc is not None and pod.ipc.text == "host") or pod.shm_size is not None:
        return True
    return any(path.rstrip("/") == "/dev/shm" for _name, path, _span in container.volume_mounts)


def _training(workload: Workload, container: Container) -> bool:
    if workload.kind in TRAINING_KINDS or (workload.kind == "Job" and workload.api_version.startswith("batch.volcano")):
        return True
    words = " ".join([*(v.text for v in container.command), *(v.text for v in container.args)])
    return workload.kind in ("Job", "CronJob", "service", "Workflow", "WorkflowTemplate") and bool(
        _TRAINING_COMMAND.search(words)
    )


@rule("ML507")
def gpu_pod_without_shm(pod: PodSpec, ctx: Ctx) -> Iterator[Finding]:
    workload = ctx.workload
    if workload is None:
        return
    for container in pod.containers:
        if not gpu_names(container, ctx.gpu_resources) or _has_shm(pod, container):
            continue
        if _in_runtime_pod(workload, container):
            continue  # its /dev/shm is the ServingRuntime's volumes, in another object (often another repository)
        server = role(workload, container)
        if _training(workload, container):
            severity = ""
        elif server.name == MODEL_SERVER and (
            workload.kind in SERVING_KINDS or workload.kind in SERVING_PLATFORM_KINDS or workload.format == "compose"
        ):
            severity = "note"
        else:
            continue
        if severity == "note":
            message = (
                f"GPU {'service' if workload.format == 'compose' else 'container'} {container.name!r}"
                f"{'' if workload.format == 'compose' else f' in {workload.kind} {workload.name!r}'} is a model server "
                f"({server.evidence}) and keeps the 64 MB default /dev/shm; NCCL (tensor parallelism) and "
                "multi-process servers (vLLM, Triton's Python backend) run out of shared memory (`Bus error`, NCCL errors)"
            )
            fix = (
                "set shm_size (e.g. 16gb) or ipc: host"
                if workload.format == "compose"
                else "mount an emptyDir with medium: Memory (and a sizeLimit) at /dev/shm"
            )
        elif workload.format == "compose":
            message = (
                f"GPU service {container.name!r} keeps Docker's 64 MB /dev/shm; PyTorch DataLoader workers "
                "and NCCL run out of shared memory (`Bus error`, NCCL errors)"
            )
            fix = "set shm_size (e.g. 16gb) or ipc: host"
        else:
            message = (
                f"GPU container {container.name!r} in {workload.kind} {workload.name!r} keeps the 64 MB "
                "default /dev/shm; PyTorch DataLoader workers and NCCL run out of shared memory "
                "(`Bus error`, NCCL errors)"
            )
            fix = "mount an emptyDir with medium: Memory (and a sizeLimit) at /dev/shm"
        finding = Finding.at(container.name_span or container.span, message, fix=fix, severity=severity)
        if workload.format == "kubernetes":
            memory = container.resources.limits.get("memory")
            size = memory.raw if memory is not None and not memory.templated else ctx.params.shm_size_limit
            finding.autofix = shm_volume(ctx.file, pod, container, size)
        yield finding
