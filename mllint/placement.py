"""`mllint placement`: for every GPU workload, the GPUs per pod and per job, and each candidate node or pool with
whether the pod fits and why: the facts the placement rules (ML111, ML605) judge, shown whole."""

from __future__ import annotations

import json
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from mllint.capacity import Candidate, Cluster, cluster, jobs, verdicts
from mllint.cuda.targets import CudaConfig
from mllint.discover import discover
from mllint.loader import read
from mllint.model import SourceFile
from mllint.project import FileFacts, ProjectFacts, file_facts
from mllint.records import record


@record(slots=True)
class Row:
    workload: str  # "PyTorchJob 'llama' Worker"
    where: str  # path:line of its GPU request
    resource: str
    per_pod: Decimal
    pods: int
    per_job: Decimal  # every GPU pod group of the object
    verdict: str  # never fits | fits | unknown | no candidate
    reason: str
    candidates: list[Candidate]


def project(
    paths: Sequence[str], gpu_patterns: tuple[str, ...], cuda: CudaConfig, excludes: Sequence[str] = ()
) -> ProjectFacts:
    found, _skipped = discover(list(paths), list(excludes))
    files: list[FileFacts] = []
    for cand in found:
        loaded = read(cand)
        if isinstance(loaded, SourceFile):
            facts = file_facts(loaded, gpu_patterns, cuda)
            if facts is not None:
                files.append(facts)
    return ProjectFacts(files)


def rows(facts: ProjectFacts, cuda: CudaConfig | None) -> tuple[Cluster, list[Row]]:
    world = cluster(facts, cuda)
    out: list[Row] = []
    for workloads in jobs(facts).values():
        totals: dict[str, Decimal] = {}
        for w in workloads:
            for resource, amount in w.gpus.items():
                totals[resource] = totals.get(resource, Decimal(0)) + w.replicas * amount
        for w in workloads:
            if w.placement is None:
                continue
            for v in verdicts(w, w.placement, world):
                span = w.placement.gpu_spans.get(v.resource) or w.gpu_span
                landing = [c for c in v.candidates if c.match != "no"]
                if v.never:
                    verdict = "never fits"
                elif not landing:
                    verdict = "no candidate"
                elif any(c.fits(v.need) for c in landing):
                    verdict = "fits"
                else:
                    verdict = "unknown"
                out.append(
                    Row(
                        f"{w.kind} {w.name!r}{' ' + w.role_name if w.role_name else ''}",
                        f"{span.path}:{span.line}" if span is not None else w.path,
                        v.resource,
                        v.need,
                        w.replicas,
                        totals.get(v.resource, v.need),
                        verdict,
                        v.reason,
                        v.candidates,
                    )
                )
    return world, out


def _status(c: Candidate, need: Decimal) -> str:
    if c.match == "no":
        return "excluded"
    fits = c.fits(need)
    return "unknown" if fits is None else ("fits" if fits else "does not fit")


def _why(c: Candidate) -> str:
    if c.match == "no":
        return c.why_not
    offers = f"{c.offers.normalize()} per node: " if c.offers is not None else ""
    maybe = "; its labels do not say whether the pod's selector matches" if c.match == "maybe" else ""
    limit = f"; limit {c.limit} in all" if c.limit else ""
    return f"{offers}{c.basis}{maybe}{limit}"


def text(world: Cluster, found: list[Row]) -> str:
    if not found:
        return "No GPU workloads in the scan.\n"
    lines = [
        f"Candidates: {len(world.nodes)} Node(s), {len(world.pools)} Karpenter pool(s), "
        f"{len(world.profile)} profile pool(s)",
        "",
    ]
    for row in found:
        lines.append(
            f"{row.workload} ({row.where}): {row.per_pod.normalize()} {row.resource} per pod × {row.pods} pod(s); "
            f"{row.per_job.normalize()} per job: {row.verdict}"
        )
        if row.verdict not in ("fits", "never fits") and row.reason:
            lines.append(f"  ({row.reason})")
        for c in row.candidates:
            model = f" [{c.gpu_model}]" if c.gpu_model else ""
            lines.append(f"  - {c.name}{model}{c.where}: {_status(c, row.per_pod)} ({_why(c)})")
        lines.append("")
    return "\n".join(lines)


def as_json(world: Cluster, found: list[Row]) -> str:
    doc: dict[str, Any] = {
        "candidates": {"nodes": len(world.nodes), "pools": len(world.pools), "profile": len(world.profile)},
        "workloads": [
            {
                "workload": row.workload,
                "location": row.where,
                "resource": row.resource,
                "per_pod": int(row.per_pod) if row.per_pod == row.per_pod.to_integral() else str(row.per_pod),
                "pods": row.pods,
                "per_job": int(row.per_job) if row.per_job == row.per_job.to_integral() else str(row.per_job),
                "verdict": row.verdict,
                "reason": row.reason,
                "candidates": [
                    {
                        "name": c.name,
                        "kind": c.kind,
                        "location": f"{c.span.path}:{c.span.line}" if c.span is not None else None,
                        "match": c.match,
                        "gpus_per_node": int(c.offers) if c.offers is not None else None,
                        "gpu_model": c.gpu_model,
                        "limit": c.limit or None,
                        "status": _status(c, row.per_pod),
                        "why": _why(c),
                    }
                    for c in row.candidates
                ],
            }
            for row in found
        ],
    }
    return json.dumps(doc, indent=2) + "\n"
