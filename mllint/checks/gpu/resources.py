"""ML1xx: GPU resources and scheduling."""

from __future__ import annotations

from collections.abc import Iterator
from functools import lru_cache

from mllint.checks.context import Ctx, gpu_names, who
from mllint.k8sfix import gpu_limit, gpu_request_to_limit
from mllint.model import Container, Finding, Workload
from mllint.quantity import is_templated
from mllint.registry import rule


@rule("ML101")
def gpu_request_without_limit(container: Container, ctx: Ctx) -> Iterator[Finding]:
    for name in gpu_names(container, ctx.gpu_resources):
        request = container.resources.requests.get(name)
        limit = container.resources.limits.get(name)
        if request is None:
            continue
        if limit is None:
            finding = Finding.at(
                request.span,
                f"{who(container, ctx)} requests {request} {name} without a limit; the API server rejects the pod",
                fix=f"set resources.limits[{name!r}]: {request} (a GPU limit alone is enough: it becomes the request)",
            )
            if not ctx.compose:
                finding.autofix = gpu_limit(ctx.file, request)
            yield finding
        elif request.amount is not None and limit.amount is not None and request.amount != limit.amount:
            if ctx.compose:
                yield Finding.at(
                    request.span,
                    f"{who(container, ctx)} reserves {request} GPU(s) in deploy.resources.reservations.devices "
                    f"but `gpus:` grants {limit}",
                    fix="keep one of the two, or make the counts equal",
                )
            else:
                finding = Finding.at(
                    request.span,
                    f"{who(container, ctx)} requests {request} {name} but limits it to {limit}; "
                    "GPUs cannot be overcommitted, so request and limit must be equal",
                    fix=f"set both to the same count, or drop the request and keep limits[{name!r}]: {limit}",
                )
                finding.autofix = gpu_request_to_limit(ctx.file, request, limit)
                yield finding


@rule("ML102")
def fractional_gpu_quantity(container: Container, ctx: Ctx) -> Iterator[Finding]:
    for name in gpu_names(container, ctx.gpu_resources):
        seen = set()
        for section, quantities in (("requests", container.resources.requests), ("limits", container.resources.limits)):
            q = quantities.get(name)
            if q is None or q.amount is None or id(q) in seen:
                continue
            seen.add(id(q))
            if q.amount != q.amount.to_integral_value():
                yield Finding.at(
                    q.span,
                    f"{who(container, ctx)} asks for {q} {name} ({section}), which is {q.amount.normalize()} GPUs; "
                    "extended resources must be whole numbers and GPUs cannot be split this way",
                    fix="request whole GPUs; to share one, use MIG (nvidia.com/mig-*) or the device plugin's "
                    "time-slicing (nvidia.com/gpu.shared)",
                )


_VISIBLE = ("CUDA_VISIBLE_DEVICES", "NVIDIA_VISIBLE_DEVICES")


@rule("ML103")
def gpu_devices_pinned_by_env(container: Container, ctx: Ctx) -> Iterator[Finding]:
    if not gpu_names(container, ctx.gpu_resources):
        return
    for env in container.env:
        if env.name in _VISIBLE and env.value is not None and not is_templated(env.value):
            granted = "the device reservation" if ctx.compose else "the device plugin"
            why = (
                "`all` asks the runtime for every GPU of the host, not the ones allocated to it"
                if env.value.strip().lower() == "all"
                else "a fixed list points at devices the container may not own, or at none"
            )
            yield Finding.at(
                env.span,
                f"{who(container, ctx)} sets {env.name}={env.value!r} although {granted} assigns its GPUs; {why}",
                fix=f"remove {env.name}; the runtime exposes exactly the allocated GPUs",
            )


@rule("ML104")
def all_gpus_without_limit(container: Container, ctx: Ctx) -> Iterator[Finding]:
    workload = ctx.workload
    if workload is None or workload.format != "kubernetes" or gpu_names(container, ctx.gpu_resources):
        return
    for env in container.env:
        if env.name == "NVIDIA_VISIBLE_DEVICES" and (env.value or "").strip().lower() == "all":
            privileged = container.security_context.get("privileged")
            # GPU system daemons (DCGM exporter, device plugin) do this on purpose
            daemon = workload.kind == "DaemonSet" and privileged is not None and privileged.text.lower() == "true"
            yield Finding.at(
                env.span,
                f"{who(container, ctx)} sets NVIDIA_VISIBLE_DEVICES=all without a GPU limit: with the NVIDIA runtime "
                "it sees every GPU of the node, outside the scheduler's accounting",
                fix="request GPUs with resources.limits['nvidia.com/gpu'] and drop the variable",
                severity="note" if daemon else "",
            )


@lru_cache(maxsize=1)
def _known_mig_profiles() -> frozenset[str]:
    from mllint.knowledge import table

    known = {p for profiles in table("mig_profiles")["gpus"].values() for p in profiles}
    return frozenset(known | {p.replace("+me", ".me") for p in known})


def _mig_profile(name: str) -> str | None:
    return name[len("nvidia.com/mig-") :] if name.startswith("nvidia.com/mig-") else None


@rule("ML105")
def mig_mixed_with_whole_gpus(container: Container, ctx: Ctx) -> Iterator[Finding]:
    names = gpu_names(container, ctx.gpu_resources)
    mig = [n for n in names if _mig_profile(n)]
    whole = [n for n in names if n == "nvidia.com/gpu"]
    if mig and whole:
        q = container.resources.limits.get(mig[0]) or container.resources.requests[mig[0]]
        yield Finding.at(
            q.span,
            f"{who(container, ctx)} asks for {mig[0]} and nvidia.com/gpu together; a node exposes MIG slices and "
            "whole GPUs under one strategy, so no node can satisfy both",
            fix="ask for either MIG slices or whole GPUs",
        )


@rule("ML106")
def unknown_mig_profile(container: Container, ctx: Ctx) -> Iterator[Finding]:
    known = _known_mig_profiles()
    for section in (container.resources.limits, container.resources.requests):
        for name, q in section.items():
            profile = _mig_profile(name)
            if profile is None:
                continue
            base = profile.split(".", 1)[1] if profile.split(".", 1)[0].endswith("c") else profile
            if base not in known:
                yield Finding.at(
                    q.key_span or q.span,
                    f"{who(container, ctx)} asks for {name}, but {profile!r} is not a MIG profile of any GPU "
                    "NVIDIA documents; the pod will stay Pending",
                    fix="use a profile the node's GPU offers, e.g. nvidia.com/mig-1g.10gb or nvidia.com/mig-3g.40gb "
                    "on an A100/H100 80GB",
                )
                break


@rule("ML108")
def compose_gpu_reservation_shape(workload: Workload, ctx: Ctx) -> Iterator[Finding]:
    if workload.format != "compose":
        return
    for device in workload.pod.devices:
        count, ids, driver = device.count, device.device_ids, device.driver
        if not device.capabilities and (driver or count or ids):
            yield Finding.at(
                device.span,
                f"service {workload.name!r} reserves a device{f' with driver {driver}' if driver else ''} but no "
                "capabilities; the Compose specification makes capabilities the one required field, and "
                "Docker Compose refuses the file",
                fix="add `capabilities: [gpu]`",
            )
        if count is not None and ids is not None:
            yield Finding.at(
                ids,
                f"service {workload.name!r} reserves GPUs by count ({count.text}) and by device_ids at once; "
                'the two are exclusive and Docker rejects the request ("cannot set both Count and DeviceIDs")',
                fix="keep count to take any N GPUs, or device_ids to take specific ones",
            )


@rule("ML109")
def compose_runtime_nvidia(workload: Workload, ctx: Ctx) -> Iterator[Finding]:
    runtime = workload.pod.runtime_class_name
    if workload.format != "compose" or runtime is None or runtime.text != "nvidia":
        return
    yield Finding.at(
        runtime.span,
        f"service {workload.name!r} selects GPUs with `runtime: nvidia`, the nvidia-docker2 mechanism: it needs "
        "the runtime registered in every host's daemon.json and, unless NVIDIA_VISIBLE_DEVICES says otherwise, "
        "hands the container every GPU of the host",
        fix="remove `runtime: nvidia` and reserve GPUs with deploy.resources.reservations.devices "
        "(`- driver: nvidia`, `count: 1`, `capabilities: [gpu]`) or `gpus:`",
    )


def _tolerates(toleration: dict[str, str], key: str, value: str, effect: str) -> bool:
    """Kubernetes' matching: an empty effect tolerates every effect; Exists with no key tolerates every taint."""
    if toleration.get("effect") and toleration["effect"] != effect:
        return False
    if toleration.get("operator", "Equal") == "Exists":
        return not toleration.get("key") or toleration["key"] == key
    return toleration.get("key") == key and (not value or toleration.get("value", "") == value)


@rule("ML110")
def gpu_taint_not_tolerated(workload: Workload, ctx: Ctx) -> Iterator[Finding]:
    if workload.format != "kubernetes":
        return
    key, value, effect = ctx.params.key, ctx.params.value or "", ctx.params.effect
    if any(_tolerates(t, key, value, effect) for t in workload.pod.tolerations):
        return
    for container in workload.pod.all_containers:
        names = gpu_names(container, ctx.gpu_resources)
        if names:
            q = container.resources.limits.get(names[0]) or container.resources.requests[names[0]]
            taint = f"{key}{'=' + value if value else ''}:{effect}"
            yield Finding.at(
                q.span,
                f"{who(container, ctx)} asks for {names[0]}, but its pod does not tolerate the GPU nodes' taint "
                f"{taint}: it stays Pending",
                fix=f"add to the pod spec: tolerations: [{{key: {key}, operator: Exists, effect: {effect}}}]",
            )
            return
