"""Compose files → one Workload per service."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from mllint import yamlsrc as y
from mllint.imageref import parse_image
from mllint.model import (
    Container,
    DeviceRequest,
    Diagnostic,
    EnvVar,
    PodSpec,
    Probe,
    Quantity,
    Resources,
    SourceFile,
    Value,
    Workload,
)
from mllint.quantity import is_templated
from mllint.sources.podspec import NodeReader

GPU = "nvidia.com/gpu"
_BYTES = re.compile(r"^(\d+(?:\.\d+)?)\s*([kmgt]?)b?$", re.I)
_UNITS = {"": 1, "k": 2**10, "m": 2**20, "g": 2**30, "t": 2**40}


def is_compose(root: Any) -> bool:
    services = y.get(root, "services")
    return y.is_map(root) and y.is_map(services) and y.get(root, "apiVersion") is None


def parse_bytes(text: str) -> Decimal | None:
    """Compose byte values: `16G`, `512m`, `1gb`, `2048` (binary multiples, unlike Kubernetes)."""
    match = _BYTES.match(text.strip())
    return Decimal(match[1]) * _UNITS[match[2].lower()] if match else None


def load(file: SourceFile, docs: list[y.Document]) -> None:
    reader = NodeReader(file.path, file.diagnostics)
    for doc in docs:
        services = reader.mapping(y.get(doc.root, "services"), "services")
        for name, key, node in y.items(services):
            workload = _service(reader, name, key, node)
            if workload is not None:
                file.workloads.append(workload)


def _service(reader: NodeReader, name: str, key: Any, node: Any) -> Workload | None:
    where = f"services.{name}"
    node = reader.mapping(node, where, "a service mapping")
    if node is None:
        return None
    container_name = reader.value(node, "container_name")
    container = Container(
        name=container_name.text if container_name else name,
        span=reader.span(key),
        path=where,
        name_span=reader.span(key),
    )
    image = y.get_item(node, "image")
    if image is not None and y.text(image[1]) is not None:
        container.image = parse_image(y.text(image[1]) or "", reader.span(image[1]))
    container.command = _command(reader, y.get(node, "command"), f"{where}.command")
    container.args = []
    container.env = _environment(reader, y.get(node, "environment"), f"{where}.environment")
    container.resources = _resources(reader, node, where)
    health = y.get(node, "healthcheck")
    if reader.mapping(health, f"{where}.healthcheck") is not None and y.text(y.get(health, "disable")) != "true":
        container.probes["healthcheck"] = Probe("healthcheck", reader.span(health))
    for port in reader.sequence(y.get(node, "ports"), f"{where}.ports"):
        text = y.text(port) if y.is_scalar(port) else y.text(y.get(port, "published"))
        if text is not None:
            container.ports.append(Value(text, reader.span(port), None, is_templated(text)))
    for field in ("privileged", "user", "read_only"):
        v = reader.value(node, field)
        if v is not None:
            container.security_context[field] = v
    container.capabilities = reader.values(y.get(node, "cap_add"), "cap_add")
    for option in reader.values(y.get(node, "security_opt"), "security_opt"):
        if option.text.replace(":", "=").startswith("seccomp="):
            container.seccomp = option
    pod = PodSpec(containers=[container], span=reader.span(node))
    pod.shm_size = reader.value(node, "shm_size")
    pod.ipc = reader.value(node, "ipc")
    pod.runtime_class_name = reader.value(node, "runtime")
    pod.restart_policy = reader.value(node, "restart")
    pod.network_mode = reader.value(node, "network_mode")
    pod.pid = reader.value(node, "pid")
    pod.host_network = pod.network_mode is not None and pod.network_mode.text == "host"
    pod.host_pid = pod.pid is not None and pod.pid.text == "host"
    pod.host_ipc = pod.ipc is not None and pod.ipc.text == "host"
    pod.volume_sources = _volume_sources(reader, y.get(node, "volumes"))
    pod.devices = _device_requests(reader, node)
    deploy = y.get(node, "deploy")
    replicas = reader.integer(deploy, "replicas") if deploy is not None else reader.integer(node, "scale")
    build = y.get(node, "build")
    build_value = dockerfile = None
    if y.is_scalar(build):
        build_value = reader.value(node, "build")
    elif y.is_map(build):
        build_value = reader.value(build, "context")
        dockerfile = reader.value(build, "dockerfile")
    return Workload(
        format="compose",
        kind="service",
        name=name,
        namespace=None,
        role=None,
        replicas=replicas,
        pod=pod,
        span=reader.span(node),
        build=build_value,
        dockerfile=dockerfile,
        node=node,
    )


def _volume_sources(reader: NodeReader, node: Any) -> list[Value]:
    """Each entry's source: the part before the first `:` of `/host:/container[:mode]`, or the long syntax's
    `source`; the span is the whole entry."""
    out = []
    for item in node.value if y.is_seq(node) else []:
        text = y.text(item) if y.is_scalar(item) else y.text(y.get(item, "source"))
        source = (text or "").split(":")[0]
        out.append(Value(source, reader.span(item), None, is_templated(source)))
    return out


def _command(reader: NodeReader, node: Any, where: str) -> list[Value]:
    if y.is_scalar(node):
        text = y.text(node)
        return [Value(text, reader.span(node), None, is_templated(text))] if text is not None else []
    return reader.values(node, where)


def _environment(reader: NodeReader, node: Any, where: str) -> list[EnvVar]:
    out = []
    if y.is_map(node):
        for name, k, v in y.items(node):
            out.append(EnvVar(name, y.text(v), reader.span(v), reader.span(k)))
        return out
    for i, item in enumerate(reader.sequence(node, where)):
        entry = y.text(item)
        if entry is None:
            reader.wrong_shape(item, f"{where}[{i}]", "a NAME=value string")
            continue
        name, eq, value = entry.partition("=")
        span = reader.span(item)
        quote = 1 if item.style in ("'", '"') else 0
        name_span = span._replace(
            column=span.column + quote, end_line=span.line, end_column=span.column + quote + len(name)
        )
        value_span = span._replace(column=name_span.end_column + 1) if eq and span.end_line == span.line else span
        out.append(EnvVar(name, value if eq else None, value_span, name_span))
    return out


def _resources(reader: NodeReader, node: Any, where: str) -> Resources:
    deploy = y.get(node, "deploy")
    resources_item = y.get_item(deploy, "resources") if deploy is not None else None
    out = Resources(span=reader.span(resources_item[0]) if resources_item else None)
    resources = reader.mapping(resources_item[1], f"{where}.deploy.resources") if resources_item else None
    for section, target in (("reservations", out.requests), ("limits", out.limits)):
        sect = reader.mapping(y.get(resources, section), f"{where}.deploy.resources.{section}")
        for key, k, v in y.items(sect):
            if key in ("cpus", "memory"):
                target[_K8S_NAME[key]] = _quantity(reader, k, v, f"{where}.deploy.resources.{section}.{key}")
        if section == "reservations":
            for i, dev in enumerate(
                reader.sequence(y.get(sect, "devices"), f"{where}.deploy.resources.reservations.devices")
            ):
                gpu = _gpu_device(reader, dev, f"{where}.deploy.resources.reservations.devices[{i}]")
                if gpu is not None:
                    out.requests[GPU] = gpu
    gpus = y.get_item(node, "gpus")
    if gpus is not None:
        k, v = gpus
        count = y.text(v) if y.is_scalar(v) else str(len(v.value)) if y.is_seq(v) else None
        if count is not None:
            out.limits[GPU] = Quantity(count, _count(count), reader.span(v), reader.span(k))
    # A device reservation and `gpus:` grant the same thing; either alone is both request and limit.
    if GPU in out.requests and GPU not in out.limits:
        out.limits[GPU] = out.requests[GPU]
    elif GPU in out.limits and GPU not in out.requests:
        out.requests[GPU] = out.limits[GPU]
    return out


_K8S_NAME = {"cpus": "cpu", "memory": "memory"}


def _quantity(reader: NodeReader, k: Any, v: Any, where: str) -> Quantity:
    text = y.text(v) or ""
    span = reader.span(v)
    if is_templated(text):
        return Quantity(text, None, span, reader.span(k), templated=True)
    amount = parse_bytes(text) if k.value == "memory" else _count(text)
    if amount is None:
        reader.diagnostics.append(Diagnostic("ML005", span, f"{where}: {text!r} is not a valid Compose value"))
    return Quantity(text, amount, span, reader.span(k))


_NUMBER = re.compile(r"[0-9]{1,18}(?:\.[0-9]{1,18})?|\.[0-9]{1,18}")


def _count(text: str) -> Decimal | None:
    """A count or CPU amount as Compose writes it (`2`, `0.5`); None for `NaN`, `Infinity`, `1e999`, `²`."""
    text = text.strip()
    return Decimal(text) if _NUMBER.fullmatch(text) else None


def _device_requests(reader: NodeReader, node: Any) -> list[DeviceRequest]:
    """The mapping entries of `deploy.resources.reservations.devices` (`_resources` reports other shapes)."""
    devices = node
    for key in ("deploy", "resources", "reservations", "devices"):
        devices = y.get(devices, key)
    return [_device_request(reader, dev) for dev in devices.value if y.is_map(dev)] if y.is_seq(devices) else []


def _device_request(reader: NodeReader, dev: Any) -> DeviceRequest:
    ids = y.get_item(dev, "device_ids")
    return DeviceRequest(
        span=reader.span(dev.value[0][0]) if dev.value else reader.span(dev),
        driver=y.text(y.get(dev, "driver")),
        count=reader.setting(dev, "count"),
        device_ids=reader.span(ids[0]) if ids is not None else None,
        capabilities=y.get(dev, "capabilities") is not None,
    )


def _gpu_device(reader: NodeReader, dev: Any, where: str) -> Quantity | None:
    dev = reader.mapping(dev, where, "a device mapping")
    if dev is None:
        return None
    caps = [y.text(c) for c in (y.get(dev, "capabilities").value if y.is_seq(y.get(dev, "capabilities")) else [])]
    if "gpu" not in caps and (y.text(y.get(dev, "driver")) or "") != "nvidia":
        return None
    count = y.get_item(dev, "count")
    ids = y.get_item(dev, "device_ids")
    if count is not None and y.text(count[1]) is not None:
        text = y.text(count[1]) or ""
        return Quantity(text, _count(text), reader.span(count[1]), reader.span(count[0]), is_templated(text))
    if ids is not None and y.is_seq(ids[1]):
        n = str(len(ids[1].value))
        return Quantity(n, Decimal(n), reader.span(ids[1]), reader.span(ids[0]))
    return Quantity("all", None, reader.span(dev), None)
