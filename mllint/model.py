"""The common model: every format is translated into these types, and every rule reads only them.

Positions are 1-based; columns count Unicode code points. Every value a rule may report on carries
the span of its key and of its value, so a finding never falls back to the top of the file.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, NamedTuple


def source_lines(text: str) -> list[str]:
    """Lines as Docker and YAML count them: split at LF (CRLF's CR dropped), not at every character
    Python's str.splitlines() treats as a break (form feed, vertical tab, ...)."""
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return [line[:-1] if line.endswith("\r") else line for line in lines]


class Span(NamedTuple):
    path: str
    line: int
    column: int
    end_line: int
    end_column: int

    def __str__(self) -> str:
        return f"{self.path}:{self.line}:{self.column}"


@dataclass(slots=True)
class Value:
    """A scalar as written, with the spans of its key (where it has one) and of the value."""

    text: str
    span: Span
    key_span: Span | None = None
    templated: bool = False  # `{{ .Values.x }}`, `${VAR}`, `$(VAR)`: never judged as a literal


@dataclass(slots=True)
class Quantity:
    """A resource quantity parsed by Kubernetes' rules; `amount` is None when templated or invalid."""

    raw: str
    amount: Decimal | None
    span: Span
    key_span: Span | None = None
    templated: bool = False

    def __str__(self) -> str:
        return self.raw


@dataclass(slots=True)
class ImageRef:
    raw: str  # as written
    resolved: str  # ARG defaults applied (Dockerfile); equal to raw elsewhere
    span: Span
    registry: str | None = None
    repository: str = ""
    tag: str | None = None
    digest: str | None = None
    templated: bool = False  # unresolved variables or template syntax remain


@dataclass(slots=True)
class EnvVar:
    name: str
    value: str | None
    span: Span  # the value (or the entry when the value comes from elsewhere)
    name_span: Span
    from_secret: bool = False
    from_ref: bool = False  # valueFrom of any kind


@dataclass(slots=True)
class Resources:
    requests: dict[str, Quantity] = field(default_factory=dict)
    limits: dict[str, Quantity] = field(default_factory=dict)
    span: Span | None = None


@dataclass(slots=True)
class Probe:
    kind: str  # liveness | readiness | startup | healthcheck (Compose)
    span: Span  # the probe's key
    initial_delay_seconds: int | None = None
    period_seconds: int | None = None
    failure_threshold: int | None = None
    timeout_seconds: int | None = None


@dataclass(slots=True)
class Container:
    name: str
    span: Span  # the container's mapping (or service, or stage)
    path: str  # YAML path inside the document, for fingerprints and logical locations
    image: ImageRef | None = None
    command: list[Value] = field(default_factory=list)
    args: list[Value] = field(default_factory=list)
    env: list[EnvVar] = field(default_factory=list)
    resources: Resources = field(default_factory=Resources)
    probes: dict[str, Probe] = field(default_factory=dict)
    volume_mounts: list[tuple[str, str, Span]] = field(default_factory=list)  # (name, mountPath, span)
    ports: list[Value] = field(default_factory=list)
    security_context: dict[str, Value] = field(default_factory=dict)
    init: bool = False
    name_span: Span | None = None


@dataclass(slots=True)
class PodSpec:
    containers: list[Container]
    span: Span
    init_containers: list[Container] = field(default_factory=list)
    volumes: list[tuple[str, dict[str, Any], Span]] = field(default_factory=list)
    node_selector: dict[str, Value] = field(default_factory=dict)
    # required node affinity: the nodeSelectorTerms (any one may match), each as key -> values its `In`
    # expressions allow (all must hold); other operators are not kept
    node_affinity: list[dict[str, tuple[str, ...]]] = field(default_factory=list)
    tolerations: list[dict[str, str]] = field(default_factory=list)
    priority_class_name: Value | None = None
    runtime_class_name: Value | None = None
    restart_policy: Value | None = None
    host_ipc: bool = False
    host_network: bool = False
    host_pid: bool = False
    shm_size: Value | None = None  # Compose
    ipc: Value | None = None  # Compose
    annotations: dict[str, str] = field(default_factory=dict)

    @property
    def all_containers(self) -> list[Container]:
        return self.init_containers + self.containers


@dataclass(slots=True)
class Workload:
    format: str  # kubernetes | compose
    kind: str  # Deployment, PyTorchJob, ..., or "service" for Compose
    name: str
    namespace: str | None
    role: str | None  # PyTorchJob/Worker, RayCluster/workers/gpu-group, InferenceService/predictor
    replicas: int | None
    pod: PodSpec
    span: Span  # the source object (Kubernetes document or Compose service)
    api_version: str = ""
    annotations: dict[str, str] = field(default_factory=dict)
    build: Value | None = None  # Compose build context / dockerfile
    labels: dict[str, str] = field(default_factory=dict)  # the pod template's labels, for PDB selectors
    # The composed YAML nodes, for rules that read operator fields outside the pod template: the object
    # (or Compose service) and the element its role came from (a replica spec, a Ray worker group).
    node: Any = field(default=None, repr=False, compare=False)
    group: Any = field(default=None, repr=False, compare=False)

    @property
    def identity(self) -> str:
        """Logical location, stable across line moves: `PyTorchJob/ns/name/Worker`."""
        parts = [self.kind, self.namespace or "", self.name]
        if self.role:
            parts.append(self.role.split("/", 1)[-1])
        return "/".join(parts)


@dataclass(slots=True)
class Instruction:
    keyword: str  # upper case
    span: Span  # the whole instruction, continuation lines included
    keyword_span: Span
    args: str  # logical argument text after the keyword (continuations joined)
    flags: dict[str, Value] = field(default_factory=dict)  # --from=..., --platform=...
    heredocs: list[tuple[str, str, Span]] = field(default_factory=list)  # (delimiter, body, span)
    # (offset into args, line, column) for each physical piece of the logical text
    pieces: list[tuple[int, int, int]] = field(default_factory=list)
    args_offset: int = 0  # offset of args within the first piece's line

    def span_of(self, start: int, end: int) -> Span:
        """The span of args[start:end], mapped back through continuation lines."""
        return Span(self.span.path, *self._pos(start), *self._pos(max(start, end - 1), True))

    def _pos(self, offset: int, end: bool = False) -> tuple[int, int]:
        line, col, base = self.keyword_span.line, self.keyword_span.column, 0
        for piece_offset, piece_line, piece_col in self.pieces:
            if piece_offset > offset:
                break
            base, line, col = piece_offset, piece_line, piece_col
        return line, col + (offset - base) + (1 if end else 0)


@dataclass(slots=True)
class Stage:
    index: int
    base: ImageRef
    alias: Value | None
    instructions: list[Instruction]
    span: Span  # the FROM instruction
    base_stage: int | None = None  # index of the stage this one builds FROM, if any


@dataclass(slots=True)
class ImageBuild:
    path: str
    stages: list[Stage]
    global_args: dict[str, str | None]
    directives: dict[str, Value] = field(default_factory=dict)

    @property
    def final_stage(self) -> Stage | None:
        return self.stages[-1] if self.stages else None


@dataclass(slots=True)
class K8sObject:
    """Any Kubernetes object in the scan, workload or not (quotas, HPAs, Services, kustomizations)."""

    kind: str
    api_version: str
    name: str
    namespace: str | None
    span: Span
    node: Any  # the composed YAML node, for cross-object rules
    doc_index: int = 0


@dataclass(slots=True)
class Diagnostic:
    """A problem a parser found in its input, reported through an ML0xx rule."""

    rule: str
    span: Span
    message: str
    fix: str | None = None


@dataclass(slots=True)
class SourceFile:
    path: str  # relative POSIX path as reported
    kind: str  # dockerfile | compose | kubernetes | requirements | yaml
    text: str = ""
    workloads: list[Workload] = field(default_factory=list)
    objects: list[K8sObject] = field(default_factory=list)
    build: ImageBuild | None = None
    diagnostics: list[Diagnostic] = field(default_factory=list)

    def lines(self) -> list[str]:
        return source_lines(self.text)


@dataclass(slots=True)
class Skipped:
    path: str
    reason: str


@dataclass(slots=True)
class Finding:
    rule: str
    span: Span
    message: str
    fix: str | None = None
    severity: str = ""  # filled in by the engine
    logical: str | None = None  # PyTorchJob/ns/name/Worker/pytorch
    fingerprint_key: str = ""  # object identity + YAML path, stable across line moves
    suppressed: str | None = None  # justification when suppressed
    suppression_kind: str = "inSource"  # SARIF's kinds: inSource (comments, annotations) or external (baseline)
    sensitive: bool = False  # the source line holds a secret: reports never quote it

    @classmethod
    def at(cls, span: Span, message: str, fix: str | None = None) -> Finding:
        return cls(rule="", span=span, message=message, fix=fix)
