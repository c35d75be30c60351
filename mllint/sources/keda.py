"""What a KEDA `ScaledObject` (keda.sh/v1alpha1) says about the workload it scales: its target, replica bounds
and triggers, with the spans rules point at (small and picklable, for the project index)."""

from __future__ import annotations

from mllint import yamlsrc as y
from mllint.model import K8sObject, Span, natural
from mllint.records import record
from mllint.sources.podspec import NodeReader

KEDA_GROUP = "keda.sh"
DEFAULT_MIN_REPLICAS = (
    0  # KEDA's minReplicaCount when unset (keda.sh, ScaledObject specification: "Optional. Default: 0")
)


@record(slots=True)
class ScaledObjectFacts:
    name: str
    namespace: str | None
    path: str
    span: Span  # metadata.name's value
    target_kind: str  # scaleTargetRef.kind (Deployment when unset)
    target_name: str
    target_span: Span  # scaleTargetRef.name's value
    min_replicas: int | None  # as written; None when unset (KEDA's default is 0)
    min_span: Span | None
    idle_replicas: int | None
    triggers: list[str]  # trigger types (prometheus, cpu, ...)
    activation: bool  # a trigger sets an activation threshold (metadata key starting with `activation`)
    hpa_name: str | None  # advanced.horizontalPodAutoscalerConfig.name: the HPA KEDA manages (or takes over)

    @property
    def scales_to_zero(self) -> bool:
        low = self.min_replicas if self.min_replicas is not None else DEFAULT_MIN_REPLICAS
        return low == 0 or self.idle_replicas == 0


def is_scaled_object(obj: K8sObject) -> bool:
    return obj.kind == "ScaledObject" and obj.api_version.split("/", 1)[0] == KEDA_GROUP


def read_scaled_object(reader: NodeReader, obj: K8sObject) -> ScaledObjectFacts | None:
    spec = y.get(obj.node, "spec")
    ref = y.get(spec, "scaleTargetRef")
    name = y.get_item(ref, "name")
    if name is None or not y.text(name[1]):
        return None
    low = y.get_item(spec, "minReplicaCount")
    triggers = y.get(spec, "triggers")
    kinds, activation = [], False
    for trigger in triggers.value if y.is_seq(triggers) else []:
        kinds.append(y.text(y.get(trigger, "type")) or "")
        activation = activation or any(
            key.startswith("activation") for key, _k, _v in y.items(y.get(trigger, "metadata"))
        )
    advanced = y.get(y.get(spec, "advanced"), "horizontalPodAutoscalerConfig")
    return ScaledObjectFacts(
        name=obj.name,
        namespace=obj.namespace,
        path=reader.path,
        span=obj.name_span or obj.span,
        target_kind=y.text(y.get(ref, "kind")) or "Deployment",
        target_name=y.text(name[1]) or "",
        target_span=reader.span(name[1]),
        min_replicas=natural(y.text(low[1])) if low else None,
        min_span=reader.span(low[1]) if low else None,
        idle_replicas=natural(y.text(y.get(spec, "idleReplicaCount"))),
        triggers=kinds,
        activation=activation,
        hpa_name=y.text(y.get(advanced, "name")),
    )
