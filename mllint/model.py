"""The common model: every format is translated into these types, and every rule reads only them.

Positions are 1-based; columns count Unicode code points. Every value a rule may report on carries
the span of its key and of its value, so a finding never falls back to the top of the file.
"""

from __future__ import annotations

from dataclasses import field
from decimal import Decimal
from typing import TYPE_CHECKING, Any, NamedTuple

from mllint.records import record

if TYPE_CHECKING:  # composed YAML, kept only where views, policies and suppressions read the source itself
    from ruamel.yaml.nodes import MappingNode, Node


def source_lines(text: str) -> list[str]:
    """Lines as Docker and YAML count them: split at LF (CRLF's CR dropped), not at every character
    Python's str.splitlines() treats as a break (form feed, vertical tab, ...)."""
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return [line[:-1] if line.endswith("\r") else line for line in lines]


# One empty container for the many empty lists of records that are only read once built (a worker's results as the
# main process holds them): an empty list of its own costs 56 bytes a field
SHARED_EMPTY: Any = ()


class Span(NamedTuple):
    path: str
    line: int
    column: int
    end_line: int
    end_column: int

    def __str__(self) -> str:
        return f"{self.path}:{self.line}:{self.column}"


MAX_DIGITS = 18  # any count mllint reads fits in 64 bits; a longer run of digits is not a count


def is_digits(text: str) -> bool:
    """ASCII digits only, at most MAX_DIGITS of them: `²`, `٣` and a 5,000-digit number are not counts."""
    return 0 < len(text) <= MAX_DIGITS and text.isascii() and text.isdigit()


def natural(text: str | None) -> int | None:
    """A count written as digits (`3`, `"3"`); None for anything else (`auto`, `$(N)`, `-1`, `²`, templates)."""
    text = text.strip() if text is not None else None
    return int(text) if text and is_digits(text) else None


class Role(NamedTuple):
    """What a container is (`mllint.roles`: model-server, training, service, ...), with the evidence for it in a
    short phrase that messages quote: "image vllm/vllm-openai", "requests nvidia.com/gpu and serves port 8000"."""

    name: str
    evidence: str


def role_name(role: str | None) -> str | None:
    """The role without its kind: `Worker` of `PyTorchJob/Worker`, `workers/gpu-group` of
    `RayCluster/workers/gpu-group`; None without a role."""
    return role.split("/", 1)[-1] if role else None


@record(slots=True)
class Value:
    """A scalar as written, with the spans of its key (where it has one) and of the value."""

    text: str
    span: Span
    key_span: Span | None = None
    templated: bool = False  # `{{ .Values.x }}`, `${VAR}`, `$(VAR)`: never judged as a literal

    @property
    def count(self) -> int | None:
        """The value as a count written in digits; None otherwise."""
        return natural(self.text)


@record(slots=True)
class Quantity:
    """A resource quantity parsed by Kubernetes' rules; `amount` is None when templated or invalid."""

    raw: str
    amount: Decimal | None
    span: Span
    key_span: Span | None = None
    templated: bool = False

    def __str__(self) -> str:
        return self.raw


@record(slots=True)
class ImageRef:
    raw: str  # as written
    resolved: str  # ARG defaults applied (Dockerfile); equal to raw elsewhere
    span: Span
    registry: str | None = None
    repository: str = ""
    tag: str | None = None
    digest: str | None = None
    templated: bool = False  # unresolved variables or template syntax remain
    # a stand-in that an operator or the runtime replaces (`FILLED BY THE OPERATOR`, KFP's
    # `should-be-overridden-during-runtime`): the container it names is filled in elsewhere (templated too)
    placeholder: bool = False


@record(slots=True)
class EnvVar:
    name: str
    value: str | None
    span: Span  # the value (or the entry when the value comes from elsewhere)
    name_span: Span
    from_secret: bool = False
    from_ref: bool = False  # valueFrom of any kind


@record(slots=True)
class Resources:
    requests: dict[str, Quantity] = field(default_factory=dict)
    limits: dict[str, Quantity] = field(default_factory=dict)
    span: Span | None = None


@record(slots=True)
class Probe:
    kind: str  # liveness | readiness | startup | healthcheck (Compose)
    span: Span  # the probe's key
    initial_delay_seconds: int | None = None
    period_seconds: int | None = None
    failure_threshold: int | None = None
    timeout_seconds: int | None = None
    port: str | None = None  # the httpGet, tcpSocket or grpc port, as written (a number or a port's name)
    unresolved: bool = False  # a timing is set but not to a number (a template, a variable): the timings are unknown


@record(slots=True)
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
    capabilities: list[Value] = field(default_factory=list)  # capabilities added (securityContext, Compose cap_add)
    seccomp: Value | None = None  # the seccomp profile's type (`Unconfined`) or Compose's `seccomp=...` option
    init: bool = False
    name_span: Span | None = None
    # resources that come from elsewhere when the container leaves them unset: `cpu`, `memory`, `gpu` (KServe's
    # defaults for a custom predictor, a TrainJob's resourcesPerNode for its runtime's node container, a template
    # that writes the whole `resources`)
    defaults: frozenset[str] = frozenset()
    port_names: dict[str, str] = field(default_factory=dict)  # a named port's name -> its containerPort
    role: Role | None = field(default=None, compare=False)  # what it is (`mllint.roles.assign`, before rules run)

    @property
    def placeholder(self) -> bool:
        """The image is a stand-in that an operator or the runtime replaces, with what the container runs."""
        return self.image is not None and self.image.placeholder


@record(slots=True)
class Volume:
    """A pod volume: its name, the entry's span, and what it is, with the fields rules read of each kind."""

    name: str
    span: Span  # the volume's entry
    kind: str  # emptyDir | hostPath | secret | configMap | persistentVolumeClaim | csi | other
    medium: Value | None = None  # emptyDir
    size_limit: Quantity | None = None  # emptyDir
    path: Value | None = None  # hostPath
    type: Value | None = None  # hostPath
    # every key but `name`, as composed YAML: what a custom rule's view of the volume shows
    source: dict[str, Node] = field(default_factory=dict, repr=False, compare=False)


@record(slots=True)
class DeviceRequest:
    """A Compose `deploy.resources.reservations.devices` entry."""

    span: Span  # its first key
    driver: str | None = None
    count: Value | None = None  # set is what matters: as written, null included (NodeReader.setting)
    device_ids: Span | None = None  # the device_ids key, when set
    capabilities: bool = False  # capabilities is set


@record(slots=True)
class PodSpec:
    containers: list[Container]
    span: Span
    init_containers: list[Container] = field(default_factory=list)
    volumes: list[Volume] = field(default_factory=list)
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
    seccomp: Value | None = None  # the pod's securityContext.seccompProfile.type
    shm_size: Value | None = None  # Compose
    ipc: Value | None = None  # Compose
    network_mode: Value | None = None  # Compose
    pid: Value | None = None  # Compose
    # Compose: each `volumes:` entry's source (a host path or a named volume), spanning the entry
    volume_sources: list[Value] = field(default_factory=list)
    devices: list[DeviceRequest] = field(default_factory=list)  # Compose device reservations (mappings)
    annotations: dict[str, str] = field(default_factory=dict)

    @property
    def all_containers(self) -> list[Container]:
        return self.init_containers + self.containers


@record(slots=True)
class ReplicaGroup:
    """Operator fields beside a role's pod template: a Kubeflow replica spec, a KubeRay head or worker group
    (for a kind with one template, the mapping that holds it: a Deployment's spec)."""

    restart_policy: Value | None = None  # Kubeflow: whether the role's failed pods restart
    min_replicas: Value | None = None  # KubeRay worker groups
    max_replicas: Value | None = None
    ray_start_params: dict[str, Value] = field(default_factory=dict)  # KubeRay: `ray start` options


@record(slots=True)
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
    group: ReplicaGroup | None = None  # the fields beside the pod template (Kubernetes)
    name_span: Span | None = None  # metadata.name's value (Kubernetes)
    replicas_span: Span | None = None  # where the role's or the object's replicas (or parallelism) are written
    job_priority_class: Value | None = None  # Kubeflow: runPolicy.schedulingPolicy.priorityClass, for every role
    dockerfile: Value | None = None  # Compose build.dockerfile
    k8s_object: K8sObject | None = field(default=None, repr=False, compare=False)  # the object it is read from
    # The composed YAML of the object (or Compose service), for custom rules' views and policies. Rules read
    # the typed fields above.
    node: MappingNode | None = field(default=None, repr=False, compare=False)
    fragment: bool = False  # read from a kustomize patch: a part of an object, completed by its base

    @property
    def role_name(self) -> str | None:
        """The role without its kind: `Worker`, `workers/gpu-group`, `predictor`."""
        return role_name(self.role)

    @property
    def identity(self) -> str:
        """Logical location, stable across line moves: `PyTorchJob/ns/name/Worker`."""
        parts = [self.kind, self.namespace or "", self.name]
        name = self.role_name
        if name is not None:
            parts.append(name)
        return "/".join(parts)


@record(slots=True)
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
    onbuild: bool = False  # the RUN inside an `ONBUILD RUN ...`: it runs in every image built FROM this one

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


@record(slots=True)
class Stage:
    index: int
    base: ImageRef
    alias: Value | None
    instructions: list[Instruction]
    span: Span  # the FROM instruction
    base_stage: int | None = None  # index of the stage this one builds FROM, if any


@record(slots=True)
class ImageBuild:
    path: str
    stages: list[Stage]
    global_args: dict[str, str | None]
    directives: dict[str, Value] = field(default_factory=dict)

    @property
    def final_stage(self) -> Stage | None:
        return self.stages[-1] if self.stages else None


@record(slots=True)
class QuotaSpec:
    """A ResourceQuota's spec."""

    hard: dict[str, Quantity] = field(default_factory=dict)  # the quantities of spec.hard
    hard_keys: list[Value] = field(default_factory=list)  # every key of spec.hard, at the key, as written
    scoped: bool = False  # scopes or scopeSelector: it applies to some pods only


@record(slots=True)
class ServicePort:
    port: Value | None = None
    target_port: Value | None = None


@record(slots=True)
class ServiceSpec:
    """A Service's spec: how it is exposed, what it selects, the ports it forwards."""

    type: Value | None = None
    selector: dict[str, str] = field(default_factory=dict)
    ports: list[ServicePort] = field(default_factory=list)
    source_ranges: list[str] = field(default_factory=list)  # loadBalancerSourceRanges


@record(slots=True)
class Backend:
    """A Service an Ingress routes to (`service:` with `name` and `port`)."""

    span: Span  # the `service` mapping
    service: Value | None = None  # its name
    port_number: Value | None = None  # port.number whenever set (NodeReader.setting)
    port_name: str | None = None


@record(slots=True)
class RunLimits:
    """Where a batch kind keeps its retry limit and deadline: the first holder of its RetryPolicy that exists."""

    span: Span  # the holder's key; the object's kind when no holder exists
    fields: dict[str, Value] | None = None  # the policy's fields set there (NodeReader.setting); None without a holder


@record(slots=True)
class ProcessesSetting:
    """An operator field that sets the processes each pod starts (PROCESSES_PER_NODE)."""

    spec_span: Span  # the object's `spec` key, where an unset field with a default is reported
    value: Value | None = None  # whenever set (NodeReader.setting); None when unset


@record(slots=True)
class K8sObject:
    """Any Kubernetes object in the scan, workload or not (quotas, HPAs, Services, kustomizations)."""

    kind: str
    api_version: str
    name: str
    namespace: str | None
    span: Span
    node: MappingNode  # the composed YAML, for suppressions and the facts of the project index
    doc_index: int = 0
    annotations: dict[str, str] = field(default_factory=dict)  # metadata.annotations, as written
    labels: dict[str, str] = field(default_factory=dict)  # metadata.labels, as written
    name_span: Span | None = None  # metadata.name's value
    # What rules read outside pod templates, filled for the kinds that have it
    quota: QuotaSpec | None = None  # ResourceQuota
    service: ServiceSpec | None = None  # Service
    backends: list[Backend] = field(default_factory=list)  # Ingress
    head_service_type: Value | None = None  # KubeRay kinds: headGroupSpec.serviceType
    head_service: ServiceSpec | None = None  # KubeRay kinds: headGroupSpec.headService.spec, the custom head Service
    # KubeRay kinds: spec.headServiceAnnotations over headService.metadata.annotations, as KubeRay merges them
    head_service_annotations: dict[str, str] = field(default_factory=dict)
    head_ingress: Value | None = None  # KubeRay kinds: headGroupSpec.enableIngress
    run_limits: RunLimits | None = None  # batch kinds with a RetryPolicy
    processes: ProcessesSetting | None = None  # kinds with a processes-per-node field (and a spec)


@record(slots=True)
class Diagnostic:
    """A problem a parser found in its input, reported through an ML0xx rule."""

    rule: str
    span: Span
    message: str
    fix: str | None = None
    severity: str = ""  # only where it differs from the rule's (a note for a file that is not its format)


@record(slots=True)
class SourceFile:
    path: str  # relative POSIX path as reported
    kind: str  # dockerfile | compose | kubernetes | requirements | yaml
    text: str = ""
    workloads: list[Workload] = field(default_factory=list)
    objects: list[K8sObject] = field(default_factory=list)
    build: ImageBuild | None = None
    diagnostics: list[Diagnostic] = field(default_factory=list)
    fragment: bool = False  # a kustomize patch: its objects are parts, completed by their base
    # A file named like a Dockerfile whose content is another format ("YAML", "a shell session"): no build
    # is read from it, and ML001 reports it once as a note
    not_dockerfile: str | None = None
    digest: str = ""  # of the bytes read (`mllint.cache`): what a cached result of this file is keyed on
    # the lines of `text` (split once: rules that place many findings ask for them often), and the text split
    split: tuple[str, list[str]] | None = field(default=None, init=False, repr=False, compare=False)

    def lines(self) -> list[str]:
        """The text's lines (shared: read them, do not change them)."""
        split = self.split
        if split is None or split[0] is not self.text:
            split = self.split = (self.text, source_lines(self.text))
        return split[1]


@record(slots=True)
class Skipped:
    path: str
    reason: str
    digest: str = field(default="", compare=False)  # of the bytes read, when the reason is in them (`mllint.cache`)


class Edit(NamedTuple):
    """Replace `text[start:end]` of the file at `path` with `replacement` (offsets in code points of the file's text
    as read, CRLF kept): an edit on an exact span, so comments, quoting and formatting around it are kept."""

    path: str
    start: int
    end: int
    replacement: str


@record(frozen=True, slots=True)
class Fix:
    """A mechanical fix of one finding: `safe` changes nothing the user meant; an unsafe one changes behaviour and
    is applied only when asked (`--unsafe-fixes`)."""

    title: str  # imperative, names the concrete change: "add --no-cache-dir to pip install"
    safe: bool
    edits: tuple[Edit, ...]


@record(slots=True)
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
    # A sensitive finding: where the secret itself is written (reports quote none of its lines), and the name
    # of the variable or key that holds it (what its fingerprint keys on, never the value)
    secret_span: Span | None = None
    secret_name: str = ""
    # A cross-file finding: where in other files what it reports is caused (the workloads that push a namespace
    # over its quota). A scan that reports only some files (`--index`) reports it at the first cause among them.
    causes: tuple[Span, ...] = ()
    autofix: Fix | None = None  # edits that resolve the finding (`mllint scan --fix`, the language server's actions)

    @classmethod
    def at(cls, span: Span, message: str, fix: str | None = None, severity: str = "") -> Finding:
        """A finding at `span`; `severity` only where it differs from the rule's (the engine fills in an empty one)."""
        return cls(rule="", span=span, message=message, fix=fix, severity=severity)
