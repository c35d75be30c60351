"""Build Container and PodSpec from Kubernetes-shaped YAML nodes, keeping every span.

Shapes that break where a rule reads (a string where a mapping belongs) become ML002 diagnostics
naming the node's path; invalid quantities become ML005. Nothing here raises on user input.
"""

from __future__ import annotations

from typing import Any

from mllint import yamlsrc as y
from mllint.imageref import parse_image
from mllint.model import (
    Container,
    Diagnostic,
    EnvVar,
    PodSpec,
    Probe,
    Quantity,
    ReplicaGroup,
    Resources,
    Span,
    Value,
    Volume,
    natural,
)
from mllint.quantity import is_templated, is_unresolved, parse_quantity

_NODE_KIND = {"MappingNode": "a mapping", "SequenceNode": "a list", "ScalarNode": "a scalar"}
EVERY_RESOURCE = frozenset({"cpu", "memory", "gpu"})  # what a templated `resources` may hold
VOLUME_KINDS = frozenset({"emptyDir", "hostPath", "secret", "configMap", "persistentVolumeClaim", "csi"})


def describe(node: Any) -> str:
    if y.is_scalar(node):
        if node.tag == "tag:yaml.org,2002:null":
            return "null"
        return f"the {'string' if node.tag.endswith(':str') else 'value'} {str(node.value)[:60]!r}"
    return _NODE_KIND.get(type(node).__name__, "a value")


class NodeReader:
    """Reads one file's nodes into model values, collecting diagnostics."""

    def __init__(self, path: str, diagnostics: list[Diagnostic]) -> None:
        self.path = path
        self.diagnostics = diagnostics

    # -- primitives ---------------------------------------------------------------------------

    def span(self, node: Any) -> Span:
        return y.scalar_span(self.path, node) if y.is_scalar(node) else y.span(self.path, node)

    def head_span(self, node: Any) -> Span:
        """Where a node begins, up to the end of its first key or item: a caret, not a whole block."""
        first = None
        if y.is_map(node) and node.value:
            first = node.value[0][0]
        elif y.is_seq(node) and node.value:
            first = node.value[0]
        start = self.span(node)
        if first is not None and y.is_scalar(first) and first.start_mark.line == node.start_mark.line:
            end = self.span(first)
            return start._replace(end_line=end.line, end_column=end.end_column)
        if y.is_scalar(node):
            return start
        return start._replace(end_line=start.line, end_column=start.column + 1)

    def wrong_shape(self, node: Any, where: str, expected: str) -> None:
        if y.is_template(node):  # `{{ .Values.x }}` unquoted: a value a template fills in, not a shape
            return
        self.diagnostics.append(
            Diagnostic("ML002", self.head_span(node), f"{where}: expected {expected}, found {describe(node)}")
        )

    def mapping(self, node: Any, where: str, expected: str = "a mapping") -> Any:
        """`node` if it is a mapping; None (and ML002 unless null/missing or a template) otherwise."""
        if node is None or (y.is_map(node) and not y.is_template(node)):
            return node
        if not (y.is_scalar(node) and node.tag == "tag:yaml.org,2002:null"):
            self.wrong_shape(node, where, expected)
        return None

    def sequence(self, node: Any, where: str) -> list[Any]:
        if node is None:
            return []
        if y.is_seq(node):
            return list(node.value)
        if not (y.is_scalar(node) and node.tag == "tag:yaml.org,2002:null"):
            self.wrong_shape(node, where, "a list")
        return []

    def value(self, parent: Any, key: str) -> Value | None:
        item = y.get_item(parent, key)
        if item is None:
            return None
        k, v = item
        text = y.text(v)
        if text is None:
            return None
        return Value(text, self.span(v), self.span(k), is_templated(text))

    def setting(self, parent: Any, key: str) -> Value | None:
        """`key`'s value whenever the key is there, for fields where being set is what counts: a scalar as
        written, null and empty included; a mapping or a list (a mistake) as empty text at its span. None when
        the key is missing."""
        item = y.get_item(parent, key)
        if item is None:
            return None
        k, v = item
        text = str(v.value) if y.is_scalar(v) else y.template(v) or ""
        return Value(text, self.span(v), self.span(k), is_templated(text))

    def scalars(self, node: Any) -> dict[str, Value]:
        """The scalar entries of a mapping, without judging its shape (no diagnostics)."""
        out: dict[str, Value] = {}
        for key, k, v in y.items(node):
            text = y.text(v)
            if text is not None:
                out[key] = Value(text, self.span(v), self.span(k), is_templated(text))
        return out

    def values(self, node: Any, where: str) -> list[Value]:
        out = []
        for i, item in enumerate(self.sequence(node, where)):
            text = y.text(item)
            if text is not None:
                out.append(Value(text, self.span(item), None, is_templated(text)))
            elif not y.is_scalar(item):
                self.wrong_shape(item, f"{where}[{i}]", "a string")
        return out

    def string_map(self, node: Any, where: str) -> dict[str, Value]:
        out: dict[str, Value] = {}
        for key, k, v in y.items(self.mapping(node, where)):
            text = y.text(v)
            if text is not None:
                out[key] = Value(text, self.span(v), self.span(k), is_templated(text))
        return out

    def quantity(self, k: Any, v: Any, where: str) -> Quantity | None:
        text = y.text(v)
        if text is None:
            if not y.is_scalar(v):
                self.wrong_shape(v, where, "a quantity")
            return None
        span = self.span(v)
        if is_unresolved(text):  # `{{ .Values.gpus }}`, `${GPUS}`, `PLACEHOLDER_NUM_GPU_PER_NODE`
            return Quantity(text, None, span, self.span(k), templated=True)
        amount = parse_quantity(text)
        if amount is None:
            self.diagnostics.append(
                Diagnostic(
                    "ML005",
                    span,
                    f"{where}: {text!r} is not a valid Kubernetes quantity",
                    fix="write a number with an optional suffix: 2, 500m, 8Gi, 1e3",
                )
            )
        return Quantity(text, amount, span, self.span(k))

    def quiet_quantity(self, k: Any, v: Any) -> Quantity:
        """A scalar quantity in a field mllint reads but does not judge (no ML005): amount None when invalid."""
        text = y.text(v) or ""
        if is_unresolved(text):
            return Quantity(text, None, self.span(v), self.span(k), templated=True)
        return Quantity(text, parse_quantity(text), self.span(v), self.span(k))

    def quantities(self, node: Any, where: str) -> dict[str, Quantity]:
        out: dict[str, Quantity] = {}
        for key, k, v in y.items(self.mapping(node, where)):
            q = self.quantity(k, v, f"{where}.{key}")
            if q is not None:
                out[key] = q
        return out

    def integer(self, parent: Any, key: str) -> int | None:
        return natural(y.text(y.get(parent, key)))

    def boolean(self, parent: Any, key: str) -> bool:
        return (y.text(y.get(parent, key)) or "").lower() == "true"

    # -- containers and pods ------------------------------------------------------------------

    def container(self, node: Any, where: str, default_name: str = "", init: bool = False) -> Container | None:
        node = self.mapping(node, where, "a container mapping")
        if node is None:
            return None
        name_value = self.value(node, "name")
        container = Container(
            name=name_value.text if name_value else default_name,
            span=self.span(node),
            path=where,
            init=init,
            name_span=name_value.span if name_value else None,
        )
        image_item = y.get_item(node, "image")
        if image_item is not None:
            text = y.text(image_item[1])
            if text is not None:
                container.image = parse_image(text, self.span(image_item[1]))
            elif not y.is_scalar(image_item[1]):
                self.wrong_shape(image_item[1], f"{where}.image", "a string")
        container.command = self.values(y.get(node, "command"), f"{where}.command")
        container.args = self.values(y.get(node, "args"), f"{where}.args")
        container.env = self.env(y.get(node, "env"), f"{where}.env")
        resources = y.get_item(node, "resources")
        resources_per_node = y.get_item(node, "resourcesPerNode")  # Kubeflow TrainJob
        if resources is None and resources_per_node is not None:
            resources = resources_per_node
            container.resources = self.resources(resources_per_node, f"{where}.resourcesPerNode")
        else:
            container.resources = self.resources(resources, f"{where}.resources")
        if resources is not None and _templated_resources(resources[1]):
            container.defaults = EVERY_RESOURCE  # a template writes them: not absent, only unknown
        for kind in ("liveness", "readiness", "startup"):
            item = y.get_item(node, f"{kind}Probe")
            probe = item[1] if item is not None else None
            if item is not None and (y.is_template(probe) or self.mapping(probe, f"{where}.{kind}Probe") is not None):
                container.probes[kind] = Probe(
                    kind,
                    self.span(item[0]),
                    self.integer(probe, "initialDelaySeconds"),
                    self.integer(probe, "periodSeconds"),
                    self.integer(probe, "failureThreshold"),
                    self.integer(probe, "timeoutSeconds"),
                    _probe_port(probe),
                    y.is_template(probe)
                    or any(
                        y.get(probe, key) is not None and self.integer(probe, key) is None for key in _PROBE_TIMINGS
                    ),
                )
        for i, mount in enumerate(self.sequence(y.get(node, "volumeMounts"), f"{where}.volumeMounts")):
            if self.mapping(mount, f"{where}.volumeMounts[{i}]") is not None:
                container.volume_mounts.append(
                    (y.text(y.get(mount, "name")) or "", y.text(y.get(mount, "mountPath")) or "", self.span(mount))
                )
        for i, port in enumerate(self.sequence(y.get(node, "ports"), f"{where}.ports")):
            if self.mapping(port, f"{where}.ports[{i}]") is not None:
                number = self.value(port, "containerPort")
                if number is not None:
                    container.ports.append(number)
                    port_name = y.text(y.get(port, "name"))
                    if port_name:
                        container.port_names[port_name] = number.text
        context = y.get(node, "securityContext")
        container.security_context = self.string_map(context, f"{where}.securityContext")
        added = y.get(y.get(context, "capabilities"), "add")
        container.capabilities = self.values(added, f"{where}.securityContext.capabilities.add")
        container.seccomp = self.value(y.get(context, "seccompProfile"), "type")
        return container

    def env(self, node: Any, where: str) -> list[EnvVar]:
        out = []
        for i, item in enumerate(self.sequence(node, where)):
            item = self.mapping(item, f"{where}[{i}]", "a mapping with name and value")
            name = self.value(item, "name") if item is not None else None
            if name is None:
                continue
            value_item = y.get_item(item, "value")
            value_from = y.get(item, "valueFrom")
            if value_item is not None:
                text = y.text(value_item[1])
                out.append(EnvVar(name.text, text if text is not None else "", self.span(value_item[1]), name.span))
            else:
                secret = value_from is not None and y.get(value_from, "secretKeyRef") is not None
                out.append(EnvVar(name.text, None, self.span(item), name.span, secret, value_from is not None))
        return out

    def resources(self, item: tuple[Any, Any] | None, where: str) -> Resources:
        if item is None:
            return Resources()
        node = self.mapping(item[1], where)
        return Resources(
            requests=self.quantities(y.get(node, "requests"), f"{where}.requests"),
            limits=self.quantities(y.get(node, "limits"), f"{where}.limits"),
            span=self.span(item[0]),
        )

    def pod(self, node: Any, where: str, meta: Any = None, extra: list[Container] | None = None) -> PodSpec | None:
        node = self.mapping(node, where, "a pod spec mapping")
        if node is None:
            return None
        containers = self.container_list(y.get(node, "containers"), f"{where}.containers")
        pod = PodSpec(containers=containers + (extra or []), span=self.span(node))
        pod.init_containers = self.container_list(y.get(node, "initContainers"), f"{where}.initContainers", True)
        self.pod_fields(node, where, pod)
        if meta is not None:
            pod.annotations = {k: v.text for k, v in self.string_map(y.get(meta, "annotations"), "metadata").items()}
        return pod

    def pod_fields(self, node: Any, where: str, pod: PodSpec) -> None:
        for i, vol in enumerate(self.sequence(y.get(node, "volumes"), f"{where}.volumes")):
            vol = self.mapping(vol, f"{where}.volumes[{i}]", "a mapping (a volume with a name and a source)")
            if vol is not None:
                pod.volumes.append(self.volume(vol))
        pod.node_selector = self.string_map(y.get(node, "nodeSelector"), f"{where}.nodeSelector")
        required = y.get(
            y.get(y.get(node, "affinity"), "nodeAffinity"), "requiredDuringSchedulingIgnoredDuringExecution"
        )
        for term in self.sequence(y.get(required, "nodeSelectorTerms"), f"{where}.affinity.nodeAffinity"):
            allowed: dict[str, tuple[str, ...]] = {}
            for expr in self.sequence(y.get(term, "matchExpressions"), f"{where}.affinity.nodeAffinity"):
                key, values = y.text(y.get(expr, "key")), y.get(expr, "values")
                if key and y.text(y.get(expr, "operator")) == "In" and y.is_seq(values):
                    allowed[key] = tuple(t for t in (y.text(v) for v in values.value) if t is not None)
            pod.node_affinity.append(allowed)
        for i, tol in enumerate(self.sequence(y.get(node, "tolerations"), f"{where}.tolerations")):
            tol = self.mapping(tol, f"{where}.tolerations[{i}]")
            if tol is not None:
                pod.tolerations.append({key: y.text(v) or "" for key, _k, v in y.items(tol)})
        pod.priority_class_name = self.value(node, "priorityClassName")
        pod.runtime_class_name = self.value(node, "runtimeClassName")
        pod.restart_policy = self.value(node, "restartPolicy")
        pod.host_ipc = self.boolean(node, "hostIPC")
        pod.host_network = self.boolean(node, "hostNetwork")
        pod.host_pid = self.boolean(node, "hostPID")
        pod.seccomp = self.value(y.get(y.get(node, "securityContext"), "seccompProfile"), "type")

    def volume(self, node: Any) -> Volume:
        """A volume entry (a mapping): its kind is its first source key mllint knows, else `other`."""
        source = {key: v for key, _k, v in y.items(node) if key != "name"}
        volume = Volume(
            y.text(y.get(node, "name")) or "",
            self.span(node),
            next((key for key in source if key in VOLUME_KINDS), "other"),
            source=source,
        )
        empty_dir, host_path = source.get("emptyDir"), source.get("hostPath")
        if empty_dir is not None:
            volume.medium = self.value(empty_dir, "medium")
            size = y.get_item(empty_dir, "sizeLimit")
            if size is not None and y.text(size[1]) is not None:
                volume.size_limit = self.quiet_quantity(size[0], size[1])
        if host_path is not None:
            volume.path, volume.type = self.value(host_path, "path"), self.value(host_path, "type")
        return volume

    def group(self, node: Any) -> ReplicaGroup:
        """The operator fields beside a pod template (a replica spec, a KubeRay group); never judged for shape."""
        return ReplicaGroup(
            restart_policy=self.value(node, "restartPolicy"),
            min_replicas=self.value(node, "minReplicas"),
            max_replicas=self.value(node, "maxReplicas"),
            ray_start_params=self.scalars(y.get(node, "rayStartParams")),
        )

    def container_list(self, node: Any, where: str, init: bool = False) -> list[Container]:
        out = []
        for i, item in enumerate(self.sequence(node, where)):
            c = self.container(item, f"{where}[{i}]", f"#{i}", init)
            if c is not None:
                out.append(c)
        return out


def _templated_resources(node: Any) -> bool:
    """`resources: {{ toYaml .Values.resources }}`, or its requests or limits written so."""
    return y.is_template(node) or any(y.is_template(y.get(node, key)) for key in ("requests", "limits"))


_PROBE_TIMINGS = ("initialDelaySeconds", "periodSeconds", "failureThreshold", "timeoutSeconds")


def _probe_port(probe: Any) -> str | None:
    """The port a probe checks (httpGet, tcpSocket or grpc), as written: a number or a port's name."""
    for handler in ("httpGet", "tcpSocket", "grpc"):
        port = y.text(y.get(y.get(probe, handler), "port"))
        if port:
            return port
    return None
