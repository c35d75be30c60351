"""The model as plain JSON data, for custom rules' JSON Schemas, with the span of every value.

A view is what a policy's schema validates: the same field names whatever the format (a Compose
service and a Kubernetes container both have `image.repository`, `resources.limits`, `env`).
Alongside it, `spans` maps each JSON path (a tuple of keys and indexes) to the source span of the
value there, so a schema error points at the exact node that failed; a path without a span of its
own (a key the manifest leaves out) takes its nearest ancestor's.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from mllint import yamlsrc as y
from mllint.gpus import gpu_names
from mllint.model import Container, ImageBuild, ImageRef, PodSpec, SourceFile, Span, Stage, Value, Workload, is_digits

JsonPath = tuple[str | int, ...]
VIEW_TARGETS = ("Workload", "PodSpec", "Container", "ImageBuild", "Stage")


class View:
    """JSON data and the spans of its values."""

    def __init__(self, root_span: Span) -> None:
        self.spans: dict[JsonPath, Span] = {(): root_span}

    def at(self, path: JsonPath) -> Span:
        """The span of the value at `path`, or of its nearest ancestor that has one."""
        while path not in self.spans:
            path = path[:-1]
        return self.spans[path]

    def value(self, path: JsonPath, value: Value | None) -> str | None:
        if value is None:
            return None
        self.spans[path] = value.span
        return value.text

    def node(self, path: JsonPath, node: Any, file_path: str) -> Any:
        """A YAML node as JSON data (YAML 1.2 core scalars typed), recording every node's span."""
        if node is None:
            return None
        self.spans[path] = y.span(file_path, node) if not y.is_scalar(node) else y.scalar_span(file_path, node)
        if y.is_map(node):
            return {key: self.node((*path, key), v, file_path) for key, _k, v in y.items(node)}
        if y.is_seq(node):
            return [self.node((*path, i), v, file_path) for i, v in enumerate(node.value)]
        return y.typed(node)


def build(
    target_type: str, target: Any, workload: Workload | None, file: SourceFile, gpu_patterns: tuple[str, ...]
) -> tuple[Any, View]:
    """(data, view) for a target of a custom rule."""
    view = View(_root_span(target, file))
    if target_type == "Workload":
        data = _workload(view, (), target, gpu_patterns)
    elif target_type == "PodSpec":
        data = _pod(view, (), target, gpu_patterns)
        data = _present({**data, "workload": _owner(workload)})
    elif target_type == "Container":
        data = _container(view, (), target, gpu_patterns)
        data = _present({**data, "workload": _owner(workload)})
    elif target_type == "Stage":
        data = _stage(view, (), target, file.build is not None and target is file.build.final_stage)
    elif target_type == "ImageBuild":
        data = _image_build(view, target)
    else:
        raise ValueError(f"no view for target {target_type!r}")
    return data, view


def _root_span(target: Any, file: SourceFile) -> Span:
    if isinstance(target, ImageBuild):  # the build as a whole: its final FROM
        final = target.final_stage
        return final.span if final is not None else Span(file.path, 1, 1, 1, 1)
    return target.span


def _present(data: dict[str, Any]) -> dict[str, Any]:
    """Keys the source leaves out are absent, not null, so that `required` means what it says."""
    return {k: v for k, v in data.items() if v is not None}


def _number(amount: Decimal) -> int | float:
    return int(amount) if amount == amount.to_integral_value() else float(amount)


def _image(view: View, path: JsonPath, image: ImageRef | None) -> dict[str, Any] | None:
    if image is None:
        return None
    for key in ("", "raw", "resolved", "registry", "repository", "tag", "digest"):
        view.spans[(*path, key) if key else path] = image.span
    registry = image.registry or (None if image.templated else "docker.io")  # Docker's default registry
    return _present(
        {
            "raw": image.raw,
            "resolved": image.resolved,
            "registry": registry,
            "repository": image.repository,
            "tag": image.tag,
            "digest": image.digest,
            "templated": image.templated,
        }
    )


def _gpus(container: Container, patterns: tuple[str, ...]) -> int | float:
    total = Decimal(0)
    for name in gpu_names(container, patterns):
        q = container.resources.limits.get(name) or container.resources.requests.get(name)
        if q is not None and q.amount is not None:
            total += q.amount
    return _number(total)


def _container(view: View, path: JsonPath, c: Container, patterns: tuple[str, ...]) -> dict[str, Any]:
    view.spans[path] = c.span
    if c.name_span is not None:
        view.spans[(*path, "name")] = c.name_span
    resources: dict[str, dict[str, str]] = {}
    for part in ("requests", "limits"):
        quantities = getattr(c.resources, part)
        if c.resources.span is not None:
            view.spans[(*path, "resources")] = c.resources.span
        resources[part] = {}
        for name, q in quantities.items():
            view.spans[(*path, "resources", part, name)] = q.span
            resources[part][name] = q.raw
    env: dict[str, str | None] = {}
    for var in c.env:
        view.spans[(*path, "env", var.name)] = var.span
        env[var.name] = var.value
    probes: dict[str, dict[str, Any]] = {}
    for kind, probe in c.probes.items():
        view.spans[(*path, "probes", kind)] = probe.span
        fields = {
            "initialDelaySeconds": probe.initial_delay_seconds,
            "periodSeconds": probe.period_seconds,
            "failureThreshold": probe.failure_threshold,
            "timeoutSeconds": probe.timeout_seconds,
        }
        probes[kind] = {k: v for k, v in fields.items() if v is not None}
    mounts = []
    for i, (name, mount_path, span) in enumerate(c.volume_mounts):
        view.spans[(*path, "volumeMounts", i)] = span
        mounts.append({"name": name, "mountPath": mount_path})
    return _present(
        {
            "name": c.name,
            "init": c.init,
            "image": _image(view, (*path, "image"), c.image),
            "command": [view.value((*path, "command", i), v) for i, v in enumerate(c.command)],
            "args": [view.value((*path, "args", i), v) for i, v in enumerate(c.args)],
            "env": env,
            "resources": resources,
            "gpus": _gpus(c, patterns),
            "probes": probes,
            "ports": [view.value((*path, "ports", i), v) for i, v in enumerate(c.ports)],
            "securityContext": {
                k: _typed(view.value((*path, "securityContext", k), v)) for k, v in c.security_context.items()
            },
            "volumeMounts": mounts,
        }
    )


def _typed(text: str | None) -> Any:
    """A securityContext scalar as YAML 1.2 reads it: `true`, `1000` are a boolean and a number."""
    if text in ("true", "false"):
        return text == "true"
    if text is not None and is_digits(text.lstrip("-")):
        return int(text)
    return text


def _pod(view: View, path: JsonPath, pod: PodSpec, patterns: tuple[str, ...]) -> dict[str, Any]:
    view.spans[path] = pod.span
    containers = [_container(view, (*path, "containers", i), c, patterns) for i, c in enumerate(pod.containers)]
    inits = [_container(view, (*path, "initContainers", i), c, patterns) for i, c in enumerate(pod.init_containers)]
    volumes = []
    for i, volume in enumerate(pod.volumes):
        view.spans[(*path, "volumes", i)] = volume.span
        volumes.append(
            {
                "name": volume.name,
                **{k: view.node((*path, "volumes", i, k), v, volume.span.path) for k, v in volume.source.items()},
            }
        )
    return _present(
        {
            "containers": containers,
            "initContainers": inits,
            "gpus": sum(c["gpus"] for c in containers),
            "nodeSelector": {k: view.value((*path, "nodeSelector", k), v) for k, v in pod.node_selector.items()},
            "tolerations": [dict(t) for t in pod.tolerations],
            "priorityClassName": view.value((*path, "priorityClassName"), pod.priority_class_name),
            "runtimeClassName": view.value((*path, "runtimeClassName"), pod.runtime_class_name),
            "restartPolicy": view.value((*path, "restartPolicy"), pod.restart_policy),
            "hostIPC": pod.host_ipc,
            "hostNetwork": pod.host_network,
            "hostPID": pod.host_pid,
            "shmSize": view.value((*path, "shmSize"), pod.shm_size),
            "ipc": view.value((*path, "ipc"), pod.ipc),
            "annotations": dict(pod.annotations),
            "volumes": volumes,
        }
    )


def _owner(workload: Workload | None) -> dict[str, Any] | None:
    if workload is None:
        return None
    return _present(
        {
            "format": workload.format,
            "kind": workload.kind,
            "name": workload.name,
            "namespace": workload.namespace,
            "role": workload.role,
        }
    )


def _workload(view: View, path: JsonPath, w: Workload, patterns: tuple[str, ...]) -> dict[str, Any]:
    pod = _pod(view, (*path, "pod"), w.pod, patterns)
    view.spans[path] = w.span
    return _present(
        {
            "format": w.format,
            "kind": w.kind,
            "apiVersion": w.api_version,
            "name": w.name,
            "namespace": w.namespace,
            "role": w.role,
            "replicas": w.replicas,
            "labels": dict(w.labels),
            "annotations": dict(w.annotations),
            "gpus": pod["gpus"],
            "pod": pod,
            "object": view.node((*path, "object"), w.node, w.span.path) if w.node is not None else None,
        }
    )


def _stage(view: View, path: JsonPath, stage: Stage, final: bool) -> dict[str, Any]:
    view.spans[path] = stage.span
    instructions = []
    user = None
    for i, ins in enumerate(stage.instructions):
        view.spans[(*path, "instructions", i)] = ins.span
        flags = {k: view.value((*path, "instructions", i, "flags", k), v) for k, v in ins.flags.items()}
        instructions.append({"keyword": ins.keyword, "args": ins.args, "flags": flags})
        if ins.keyword == "USER":
            user = ins.args.strip()
            view.spans[(*path, "user")] = ins.span
    return _present(
        {
            "index": stage.index,
            "name": view.value((*path, "name"), stage.alias),
            "final": final,
            "base": _image(view, (*path, "base"), stage.base),
            "fromStage": stage.base_stage,
            "instructions": instructions,
            "user": user,
        }
    )


def _image_build(view: View, build: ImageBuild) -> dict[str, Any]:
    last = len(build.stages) - 1
    return {
        "path": build.path,
        "args": dict(build.global_args),
        "stages": [_stage(view, ("stages", i), s, i == last) for i, s in enumerate(build.stages)],
    }
