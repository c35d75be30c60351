"""ML707: host access: privileged containers, the host's network or process namespace, and mounts of the
host's root filesystem or a container runtime's socket. GPU system daemons are allowed (by image, or by
what the object is called where the image is a stand-in an operator fills in); node agents whose job is the
host get a note instead of a warning."""

from __future__ import annotations

import re
from collections.abc import Iterator
from fnmatch import fnmatchcase

from mllint.checks.context import Ctx, who
from mllint.model import Container, Finding, ImageRef, Span, Workload
from mllint.registry import rule

_DANGEROUS_PATHS = (
    "/",
    "/var/run/docker.sock",
    "/run/docker.sock",
    "/run/containerd/containerd.sock",
    "/var/run/containerd/containerd.sock",
    "/var/run/crio/crio.sock",
)

# What NVIDIA's GPU Operator, device plugin and DRA driver, and Node Feature Discovery call their daemons
# and namespaces (`nvidia-device-plugin-daemonset`, `nvidia-dcgm-exporter`, `gpu-feature-discovery`,
# `nfd-worker`, namespace `gpu-operator`).
_GPU_DAEMON_NAME = re.compile(
    r"^nvidia-|gpu-feature-discovery|dcgm-exporter|(?:^|-)dcgm(?:-|$)|gpu-operator|node-feature-discovery|"
    r"^nfd-(?:worker|master|topology-updater|gc)\b|(?:^|-)device-plugin(?:-|$)|mig-manager|container-toolkit|"
    r"k8s-driver-manager|dra-driver",
    re.I,
)
# The parts of such a daemon, by container name: the driver's OpenShift Driver Toolkit container runs an
# OpenShift release image, not an NVIDIA one
_GPU_DAEMON_PART = re.compile(r"^(?:nvidia-|openshift-driver-toolkit|k8s-driver-manager|toolkit-validation)", re.I)
_GPU_NAMESPACES = frozenset({"gpu-operator", "nvidia-gpu-operator", "nvidia-device-plugin", "node-feature-discovery"})
_NAME_LABELS = ("app", "app.kubernetes.io/name", "app.kubernetes.io/component", "k8s-app", "name", "component")
_STAND_IN = re.compile(r"FILLED[ _]BY|should-be-overridden", re.I)

# Node agents: per-node infrastructure whose job is the host (metrics exporters, CSI and CNI drivers, log
# shippers). Reported as a note: the access is by design, what to check is the image.
_AGENT_NAME = re.compile(
    r"exporter|cadvisor|(?:^|[-_/])csi(?:[-_/]|$)|secrets-store|(?:^|[-_/])cni(?:[-_/]|$)|calico|cilium|flannel|"
    r"kube-proxy|fluent-?bit|fluentd|promtail|datadog-agent",
    re.I,
)
_SYSTEM_NAMESPACES = frozenset({"kube-system"})
_AGENT_NOTE = "; a node agent ({why}) needs such access by design: check that its image is the vendor's, pinned"


def _stand_in(image: ImageRef | None) -> bool:
    """No image to judge: none, a template, or a stand-in an operator fills in (`FILLED BY THE OPERATOR`)."""
    return (
        image is None
        or image.templated
        or bool(getattr(image, "placeholder", False))
        or bool(_STAND_IN.search(image.raw))
    )


def _names(workload: Workload) -> list[str]:
    return [workload.name, *(workload.labels.get(key, "") for key in _NAME_LABELS)]


def gpu_daemon(workload: Workload, container: Container, allowed: list[str]) -> bool:
    """A GPU system daemon that needs host access: its image is allowed; or the object is named like one,
    labelled like one, or lives in a GPU operator's namespace, and the container's image is a stand-in or
    the container is named like one of the daemon's parts."""
    image = container.image
    if image is not None and any(fnmatchcase(image.resolved, p) for p in allowed):
        return True
    daemon = (workload.namespace or "") in _GPU_NAMESPACES or any(
        _GPU_DAEMON_NAME.search(n) for n in _names(workload) if n
    )
    return daemon and (_stand_in(image) or bool(_GPU_DAEMON_PART.search(container.name)))


def node_agent(workload: Workload, container: Container) -> str | None:
    """Why the container is a node agent (for the note's message), None when it is not one."""
    image = container.image.repository if container.image is not None else ""
    if workload.format == "compose":
        for what, text in (("service", workload.name), ("service", container.name), ("image", image)):
            if text and _AGENT_NAME.search(text):
                return f"{what} {text}"
        return None
    if workload.kind != "DaemonSet":
        return None
    if (workload.namespace or "") in _SYSTEM_NAMESPACES:
        return f"a DaemonSet in {workload.namespace}"
    named = next((n for n in (*_names(workload), image) if n and _AGENT_NAME.search(n)), None)
    return f"DaemonSet {workload.name!r}" if named else None


@rule("ML707")
def host_access(target: Container, ctx: Ctx) -> Iterator[Finding]:
    workload = ctx.workload
    if workload is None or gpu_daemon(workload, target, ctx.params.allowed_images):
        return
    why = node_agent(workload, target)
    note = _AGENT_NOTE.format(why=why) if why else ""
    severity = "note" if why else ""
    subject = who(target, ctx)
    privileged = target.security_context.get("privileged")
    if privileged is not None and privileged.text.lower() == "true":
        yield Finding.at(
            privileged.span,
            f"{subject} is privileged: it sees every device and can take over the node{note}",
            fix="drop privileged; GPUs come through the device plugin (nvidia.com/gpu) or Compose "
            "`deploy.resources.reservations.devices`, not through privileged mode",
            severity=severity,
        )
    pod = workload.pod
    first = pod.all_containers[0] is target if pod.all_containers else False
    if first:  # pod-level settings: reported once per pod
        for flag, key in (
            (pod.host_network, "hostNetwork" if workload.format == "kubernetes" else "network_mode"),
            (pod.host_pid, "hostPID" if workload.format == "kubernetes" else "pid"),
        ):
            if flag:
                span = _setting_span(ctx, pod.span, key)
                yield Finding.at(
                    span,
                    f"{key} shares the host's {'network' if 'etwork' in key else 'process'} namespace with "
                    f"{subject}{note}",
                    fix="remove it; NCCL over RDMA/InfiniBand needs the RDMA device plugin and "
                    "IPC_LOCK, not the host network",
                    severity=severity,
                )
    for finding in _host_mounts(target, ctx, subject, first):
        finding.message += note
        finding.severity = severity
        yield finding


def _setting_span(ctx: Ctx, within: Span, key: str) -> Span:
    """Where a pod-level setting is written: a Compose key may come through a merge key (`<<: *runtime`),
    so the parser's key span is used, not the service's lines."""
    workload = ctx.workload
    if workload is not None and workload.format == "compose":
        setting = workload.pod.network_mode if key == "network_mode" else workload.pod.pid
        if setting is not None and setting.key_span is not None:
            return setting.key_span
    lines = ctx.file.lines()
    for number in range(within.line, min(within.end_line, len(lines)) + 1):
        match = re.match(rf"^(\s*-?\s*){re.escape(key)}\s*:", lines[number - 1])
        if match:
            return Span(within.path, number, match.end(1) + 1, number, match.end(1) + 1 + len(key))
    return within


def _host_mounts(target: Container, ctx: Ctx, subject: str, first: bool) -> Iterator[Finding]:
    workload = ctx.workload
    assert workload is not None
    if workload.format == "compose":
        for source in workload.pod.volume_sources:
            if source.text in _DANGEROUS_PATHS:
                yield _mount_finding(source.span, source.text, subject)
        return
    if not first:
        return
    for volume in workload.pod.volumes:
        path = volume.path
        if path is not None and (path.text.rstrip("/") == "" or path.text in _DANGEROUS_PATHS):
            yield _mount_finding(path.span, path.text, f"the pod of {workload.kind} {workload.name!r}")


def _mount_finding(span: Span, path: str, subject: str) -> Finding:
    what = "the host's root filesystem" if path.rstrip("/") == "" else f"the container runtime's socket {path}"
    return Finding.at(
        span,
        f"{subject} mounts {what}: whoever runs code in it controls the node",
        fix="mount only the folders it needs (a PVC or a dedicated hostPath such as /data), never / "
        "or a runtime socket",
    )
