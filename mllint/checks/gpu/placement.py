"""ML111: a pod that asks for more GPUs than any node it may land on can offer."""

from __future__ import annotations

from collections.abc import Iterator

from mllint.capacity import Candidate, cluster, verdicts
from mllint.checks.context import ProjectCtx
from mllint.model import Finding
from mllint.project import ProjectFacts
from mllint.registry import rule

_SHOWN = 4  # candidates a message names


def describe(c: Candidate) -> str:
    """`Node 'gpu-1' (nodes.yaml:3) offers 8 (status.allocatable nvidia.com/gpu: 8)`."""
    if c.offers is None:
        return f"{c.name}{c.where}: unknown ({c.basis})"
    return f"{c.name}{c.where} offers {c.offers.normalize()} ({c.basis})"


@rule("ML111")
def gpu_request_exceeds_every_node(project: ProjectFacts, ctx: ProjectCtx) -> Iterator[Finding]:
    world = cluster(project, ctx.cuda)
    seen = set()
    for w in project.workloads:
        place = w.placement
        if place is None or w.fragment:
            continue
        for verdict in verdicts(w, place, world):
            span = place.gpu_spans.get(verdict.resource) or w.gpu_span
            if not verdict.never or span is None or (span, verdict.resource) in seen:
                continue
            seen.add((span, verdict.resource))
            landing = sorted((c for c in verdict.candidates if c.match != "no"), key=lambda c: c.match != "definite")
            most = max((c.offers for c in landing if c.offers is not None), default=None)
            shown = "; ".join(describe(c) for c in landing[:_SHOWN])
            if len(landing) > _SHOWN:
                shown += f"; and {len(landing) - _SHOWN} more"
            who = f"{w.kind} {w.name!r}{' ' + w.role_name if w.role_name else ''}"
            need = verdict.need.normalize()
            finding = Finding.at(
                span,
                f"{who} asks for {need} {verdict.resource} per pod, but no node it may land on has that many: "
                f"{shown}; {need} > {most.normalize() if most is not None else 0}, so the pod stays Pending",
                fix=f"ask for at most {most.normalize() if most is not None else 0} {verdict.resource} per pod "
                "(split the work over more pods), or add a node pool with larger nodes",
            )
            finding.logical = w.identity
            finding.causes = tuple(c.span for c in landing if c.span is not None)
            yield finding
