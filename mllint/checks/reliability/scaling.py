"""ML514-ML516: autoscaling and disruption budgets, across files."""

from __future__ import annotations

import posixpath
from collections import Counter
from collections.abc import Iterator

from mllint.checks.context import ProjectCtx
from mllint.model import Finding
from mllint.project import HpaFacts, PdbFacts, ProjectFacts, WorkloadFacts
from mllint.registry import rule


def same_namespace(a: str | None, b: str | None) -> bool:
    """Objects applied together often leave the namespace to `kubectl -n`: unset matches any."""
    return a is None or b is None or a == b


def hpa_targets(hpa: HpaFacts, project: ProjectFacts) -> list[WorkloadFacts]:
    """The workload an HPA scales (`scale_targets`)."""
    return scale_targets(hpa.target_kind, hpa.target_name, hpa.namespace, hpa.path, project)


def scale_targets(kind: str, name: str, namespace: str | None, path: str, project: ProjectFacts) -> list[WorkloadFacts]:
    """The workload an autoscaler at `path` scales (an HPA, a KEDA ScaledObject): whole objects of its kind and name
    (not patches), those beside the autoscaler first; none when several files still define it (other overlays,
    other samples), rather than a guess."""
    found = [
        w
        for w in project.workloads_by_name.get((kind, name), [])
        if same_namespace(w.namespace, namespace) and not w.fragment
    ]
    near = [w for w in found if posixpath.dirname(w.path) == posixpath.dirname(path)]
    found = near or found
    return found if len({w.path for w in found}) <= 1 else []


def _located(finding: Finding, kind: str, namespace: str | None, name: str) -> Finding:
    finding.logical = f"{kind}/{namespace or ''}/{name}"
    return finding


@rule("ML514")
def hpa_target_without_requests(project: ProjectFacts, ctx: ProjectCtx) -> Iterator[Finding]:
    for hpa in project.hpas:
        for workload in hpa_targets(hpa, project):
            for metric in hpa.utilization:
                lacking = workload.containers_without.get(metric.resource, [])
                if metric.container is not None:
                    lacking = [c for c in lacking if c == metric.container]
                if not lacking:
                    continue
                names = ", ".join(repr(c) for c in lacking)
                yield _located(
                    Finding.at(
                        metric.span,
                        f"HorizontalPodAutoscaler {hpa.name!r} scales {workload.kind} {workload.name!r} on "
                        f"{metric.resource} utilization, but container{'s' if len(lacking) > 1 else ''} {names} "
                        f"set{'' if len(lacking) > 1 else 's'} no {metric.resource} request: utilization is a share of "
                        "the request, so the HPA reports FailedGetResourceMetric and never scales",
                        fix=f"set resources.requests.{metric.resource} on every container of {workload.name!r} "
                        f"({workload.path})",
                    ),
                    "HorizontalPodAutoscaler",
                    hpa.namespace,
                    hpa.name,
                )


@rule("ML515")
def hpa_target_not_scanned(project: ProjectFacts, ctx: ProjectCtx) -> Iterator[Finding]:
    for hpa in project.hpas:
        namespaces = project.objects_by_name.get((hpa.target_kind, hpa.target_name), [])
        if not any(same_namespace(ns, hpa.namespace) for ns in namespaces):
            yield _located(
                Finding.at(
                    hpa.target_span,
                    f"HorizontalPodAutoscaler {hpa.name!r} scales {hpa.target_kind} {hpa.target_name!r}, which is not "
                    "among the scanned files; mllint cannot check that its containers set the requests the HPA needs",
                    fix="scan the target's manifest together with the HPA, or check the name for a typo",
                ),
                "HorizontalPodAutoscaler",
                hpa.namespace,
                hpa.name,
            )


class PdbIndex:
    """The PodDisruptionBudgets by one label of their selector (the one fewest of them share), so that finding
    those that select a workload's pods reads the few that could, not every budget in the project."""

    def __init__(self, pdbs: list[PdbFacts]) -> None:
        self.expressions: set[str | None] = {p.namespace for p in pdbs if p.has_expressions}
        labelled = [p for p in pdbs if not p.has_expressions and p.match_labels]
        counts = Counter(pair for p in labelled for pair in p.match_labels.items())
        self.by_pair: dict[tuple[str, str], list[PdbFacts]] = {}
        self.by_namespace_pair: dict[tuple[str | None, tuple[str, str]], list[PdbFacts]] = {}
        for p in labelled:
            pair = min(p.match_labels.items(), key=lambda item: counts[item])
            self.by_pair.setdefault(pair, []).append(p)
            self.by_namespace_pair.setdefault((p.namespace, pair), []).append(p)

    def covers(self, workload: WorkloadFacts) -> bool:
        """Whether a budget in the same namespace (an unset one matches any) selects the workload's pods."""
        namespace, labels = workload.namespace, workload.labels.items()
        if None in self.expressions or (self.expressions and (namespace is None or namespace in self.expressions)):
            return True
        for pair in labels:
            if namespace is None:
                buckets = [self.by_pair.get(pair)]
            else:
                buckets = [self.by_namespace_pair.get((namespace, pair)), self.by_namespace_pair.get((None, pair))]
            if any(p.match_labels.items() <= labels for bucket in buckets for p in bucket or ()):
                return True
        return False


@rule("ML516")
def serving_without_pdb(project: ProjectFacts, ctx: ProjectCtx) -> Iterator[Finding]:
    pdbs = PdbIndex(project.pdbs)
    min_replicas: dict[int, int] = {}  # id(workload) -> the largest minReplicas of the HPAs that scale it
    for hpa in project.hpas:
        for target in hpa_targets(hpa, project):
            min_replicas[id(target)] = max(min_replicas.get(id(target), 1), hpa.min_replicas or 1)
    for workload in project.workloads:
        if not workload.serving or workload.server is None:
            continue
        replicas = max(workload.replicas, min_replicas.get(id(workload), 1))
        if replicas < 2:
            continue
        if pdbs.covers(workload):
            continue
        container, evidence = workload.server
        finding = Finding.at(
            workload.replicas_span or workload.name_span,
            f"{workload.kind} {workload.name!r} serves a model (container {container!r}: {evidence}) and runs "
            f"{replicas} replicas, but no PodDisruptionBudget selects its pods: a node drain or cluster upgrade can "
            "evict them all at once, and reloading the models takes minutes",
            fix="add a PodDisruptionBudget (e.g. maxUnavailable: 1) whose selector matches the pod template's labels",
        )
        finding.logical = workload.identity
        yield finding
