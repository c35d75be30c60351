"""ML518-ML520: KEDA ScaledObjects across files: an HPA on the same workload, a GPU model server that scales to
zero, a target that is not in the scan."""

from __future__ import annotations

from collections.abc import Iterator

from mllint.checks.context import ProjectCtx
from mllint.checks.reliability.scaling import same_namespace, scale_targets
from mllint.model import Finding
from mllint.project import ProjectFacts, WorkloadFacts
from mllint.registry import rule
from mllint.sources.keda import ScaledObjectFacts


def _scaled_objects(project: ProjectFacts) -> list[ScaledObjectFacts]:
    return [s for f in project.files for s in f.scaled_objects]


def _targets(s: ScaledObjectFacts, project: ProjectFacts) -> list[WorkloadFacts]:
    """The workload a ScaledObject scales (`scale_targets`)."""
    return scale_targets(s.target_kind, s.target_name, s.namespace, s.path, project)


@rule("ML518")
def scaled_object_and_hpa(project: ProjectFacts, ctx: ProjectCtx) -> Iterator[Finding]:
    for s in _scaled_objects(project):
        scanned = bool(_targets(s, project))
        for hpa in project.hpas:
            if (hpa.target_kind, hpa.target_name) != (s.target_kind, s.target_name):
                continue
            if not same_namespace(hpa.namespace, s.namespace) or hpa.name == s.hpa_name:
                continue  # an HPA the ScaledObject names in horizontalPodAutoscalerConfig is one KEDA takes over
            if hpa.path != s.path and not scanned:
                continue  # files that name a workload the scan does not hold may be alternatives (samples, overlays)
            finding = Finding.at(
                s.target_span,
                f"ScaledObject {s.name!r} and HorizontalPodAutoscaler {hpa.name!r} ({hpa.target_span}) both scale "
                f"{s.target_kind} {s.target_name!r}: KEDA creates an HPA of its own, and two HPAs on one workload "
                "fight over its replicas (KEDA's admission webhook refuses the ScaledObject)",
                fix="delete the HPA and keep its metrics as ScaledObject triggers, or let KEDA take it over "
                "(advanced.horizontalPodAutoscalerConfig.name and the transfer-hpa-ownership annotation)",
            )
            finding.logical = f"ScaledObject/{s.namespace or ''}/{s.name}"
            finding.causes = (hpa.target_span,)
            yield finding


@rule("ML519")
def gpu_server_scales_to_zero(project: ProjectFacts, ctx: ProjectCtx) -> Iterator[Finding]:
    for s in _scaled_objects(project):
        if not s.scales_to_zero or s.activation:
            continue
        servers = [w for w in _targets(s, project) if w.serving and any(v > 0 for v in w.gpus.values())]
        if not servers:
            continue
        w = servers[0]
        where = f"minReplicaCount: {s.min_replicas}" if s.min_replicas == 0 else "idleReplicaCount: 0"
        if s.min_replicas is None and s.idle_replicas != 0:
            where = "minReplicaCount unset (KEDA's default is 0)"
        gpus = ", ".join(f"{v.normalize()} {k}" for k, v in w.gpus.items() if v > 0)
        finding = Finding.at(
            s.min_span or s.target_span,
            f"ScaledObject {s.name!r} scales GPU model server {w.kind} {w.name!r} ({gpus} per pod) to zero "
            f"({where}) and sets no activation threshold on its triggers: the first request after an idle spell "
            "waits for a GPU node, the image pull and the model load, minutes rather than milliseconds",
            fix="keep minReplicaCount at 1 for latency-bound serving, or set the triggers' activation threshold "
            "(and a cooldownPeriod) to the load that justifies a cold start",
        )
        finding.logical = f"ScaledObject/{s.namespace or ''}/{s.name}"
        yield finding


@rule("ML520")
def scaled_object_target_not_scanned(project: ProjectFacts, ctx: ProjectCtx) -> Iterator[Finding]:
    for s in _scaled_objects(project):
        namespaces = project.objects_by_name.get((s.target_kind, s.target_name), [])
        if any(same_namespace(ns, s.namespace) for ns in namespaces):
            continue
        finding = Finding.at(
            s.target_span,
            f"ScaledObject {s.name!r} scales {s.target_kind} {s.target_name!r}, which is not among the scanned "
            "files; mllint cannot check the workload it scales (and a typo leaves KEDA scaling nothing)",
            fix="scan the target's manifest together with the ScaledObject, or check scaleTargetRef's kind and name",
        )
        finding.logical = f"ScaledObject/{s.namespace or ''}/{s.name}"
        yield finding
