"""ML707: host access: privileged containers, the host's network or process namespace, and mounts of the
host's root filesystem or a container runtime's socket. GPU system daemons are allowed (by image, or by
what the object is called where the image is a stand-in an operator fills in); node agents whose job is the
host get a note instead of a warning."""

from __future__ import annotations

import re
from collections.abc import Iterator
from fnmatch import fnmatchcase

from mllint.checks.context import Ctx, who
from mllint.model import Container, Finding, ImageRef, Span, Value, Workload
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
    yield from _container_privileges(target, subject, note, severity)
    pod = workload.pod
    first = pod.all_containers[0] is target if pod.all_containers else False
    if first and workload.format == "kubernetes":
        if pod.host_ipc:  # Compose's `ipc: host` is the usual shared-memory fix for PyTorch (ML507): not reported
            yield Finding.at(
                _setting_span(ctx, pod.span, "hostIPC"),
                f"hostIPC shares the host's IPC namespace (its shared memory and semaphores) with {subject}{note}",
                fix="remove it; for PyTorch's shared memory mount an emptyDir with medium: Memory at /dev/shm",
                severity=severity,
            )
        if pod.seccomp is not None and _unconfined(pod.seccomp):
            yield _seccomp_finding(pod.seccomp, f"the pod of {workload.kind} {workload.name!r}", note, severity)
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


# Capabilities that give a container the node: mount, namespaces and devices (SYS_ADMIN), the host's network
# stack (NET_ADMIN), or every capability (ALL)
_NODE_CAPABILITIES = frozenset({"SYS_ADMIN", "NET_ADMIN", "ALL"})


def _container_privileges(target: Container, subject: str, note: str, severity: str) -> Iterator[Finding]:
    """Added capabilities, an unconfined seccomp profile and privilege escalation, on one container."""
    for cap in target.capabilities:
        name = cap.text.strip().upper().removeprefix("CAP_")
        if name in _NODE_CAPABILITIES and not cap.templated:
            yield Finding.at(
                cap.span,
                f"{subject} adds the capability {cap.text}: "
                + ("every capability, as good as privileged" if name == "ALL" else _CAPABILITY_WHY[name])
                + note,
                fix="drop it; add only what the process needs (IPC_LOCK for RDMA memory registration)",
                severity=severity,
            )
    if target.seccomp is not None and _unconfined(target.seccomp):
        if not note and _rocm(target):
            note, severity = _ROCM_NOTE, "note"
        yield _seccomp_finding(target.seccomp, subject, note, severity)
    escalation = target.security_context.get("allowPrivilegeEscalation")
    if escalation is not None and escalation.text.lower() == "true":
        yield Finding.at(
            escalation.span,
            f"{subject} sets allowPrivilegeEscalation: true: a setuid binary in the image can gain root{note}",
            fix="set allowPrivilegeEscalation: false (or leave it out with runAsNonRoot)",
            severity=severity,
        )


_CAPABILITY_WHY = {
    "SYS_ADMIN": "it can mount filesystems, enter namespaces and load devices, close to privileged",
    "NET_ADMIN": "it can reconfigure the node's network when it shares it, and its own to intercept traffic",
}


# AMD's "Running ROCm Docker containers" (rocm.docs.amd.com, install-on-linux/how-to/docker.html) lists
# `--security-opt seccomp=unconfined` as optional, "recommended for containers running in HPC environments"
_ROCM_NOTE = (
    "; AMD's ROCm container guide lists seccomp=unconfined as an optional setting for memory mapping in HPC "
    "workloads, so this is a note"
)


def _rocm(container: Container) -> bool:
    """A ROCm (AMD GPU) container: its image says rocm, or it selects devices the ROCm way."""
    image = container.image.resolved.lower() if container.image is not None else ""
    return "rocm" in image or any(e.name in ("HIP_VISIBLE_DEVICES", "ROCR_VISIBLE_DEVICES") for e in container.env)


def _unconfined(value: Value) -> bool:
    return value.text.lower().replace(":", "=") in ("unconfined", "seccomp=unconfined")


def _seccomp_finding(value: Value, subject: str, note: str, severity: str) -> Finding:
    return Finding.at(
        value.span,
        f"{subject} runs without a seccomp profile ({value.text}): every system call is open to it{note}",
        fix="use the runtime's default profile (seccompProfile.type: RuntimeDefault), or a profile of your own",
        severity=severity,
    )


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
