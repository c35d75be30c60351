"""ML517: GPU jobs pinned to spot capacity with nothing that recreates them after an interruption."""

from __future__ import annotations

from collections.abc import Iterator

from mllint import yamlsrc as y
from mllint.checks.context import Ctx, gpu_names
from mllint.cuda.targets import pod_selectors
from mllint.model import Finding, Workload
from mllint.registry import rule

# Node labels that mark spot or preemptible capacity, and the value that does.
SPOT_LABELS = {
    "karpenter.sh/capacity-type": "spot",
    "cloud.google.com/gke-spot": "true",
    "cloud.google.com/gke-preemptible": "true",
    "eks.amazonaws.com/capacityType": "SPOT",
    "kubernetes.azure.com/scalesetpriority": "spot",
}


def spot_label(w: Workload) -> str | None:
    """The spot label every node the pod may land on has (`karpenter.sh/capacity-type=spot`), or None."""
    found = None
    for labels in pod_selectors({k: v.text for k, v in w.pod.node_selector.items()}, w.pod.node_affinity):
        hit = next((f"{k}={labels[k]}" for k, v in SPOT_LABELS.items() if labels.get(k, "").lower() == v.lower()), None)
        if hit is None:
            return None
        found = found or hit
    return found


def _ignores_disruption(w: Workload) -> bool:
    """Whether the Job's podFailurePolicy has a rule on pod conditions (DisruptionTarget → Ignore, as a rule)."""
    spec = y.get(w.node, "spec") if w.kind == "Job" else y.get(y.get(y.get(w.node, "spec"), "jobTemplate"), "spec")
    rules = y.get(y.get(spec, "podFailurePolicy"), "rules")
    for item in rules.value if y.is_seq(rules) else []:
        for cond in c.value if y.is_seq(c := y.get(item, "onPodConditions")) else []:
            if y.text(y.get(cond, "type")) == "DisruptionTarget":
                return True
    return False


@rule("ML517")
def spot_training_without_retry(workload: Workload, ctx: Ctx) -> Iterator[Finding]:
    if workload.format != "kubernetes" or workload.kind not in ("Pod", "Job", "CronJob") or workload.fragment:
        return
    if not any(gpu_names(c, ctx.gpu_resources) for c in workload.pod.all_containers):
        return
    spot = spot_label(workload)
    if spot is None:
        return
    if workload.kind == "Pod":
        kind_item = y.get_item(workload.node, "kind")
        span = y.scalar_span(ctx.file.path, kind_item[1]) if kind_item else workload.span
        yield Finding.at(
            span,
            f"GPU Pod {workload.name!r} runs only on spot nodes ({spot}) and has no controller: when the node "
            "is reclaimed the pod is gone and nothing recreates it, so the training run is lost",
            fix="run it as a Job (backoffLimit above 0, or a podFailurePolicy that ignores DisruptionTarget), "
            "and checkpoint its state",
        )
        return
    obj = workload.k8s_object
    fields = obj.run_limits.fields if obj is not None and obj.run_limits is not None else None
    backoff = (fields or {}).get("backoffLimit")
    if backoff is None or backoff.text.strip() != "0" or _ignores_disruption(workload):
        return
    yield Finding.at(
        backoff.span,
        f"GPU {workload.kind} {workload.name!r} runs only on spot nodes ({spot}) with backoffLimit: 0: the "
        "first interruption fails the pod, and with it the Job",
        fix="raise backoffLimit, or add a podFailurePolicy rule that ignores pods with the DisruptionTarget "
        "condition, so a reclaimed node does not end the run",
    )
