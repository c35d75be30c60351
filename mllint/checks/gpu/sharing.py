"""ML112-ML114: GPU sharing (the NVIDIA device plugin's time-slicing and MPS) across files: a shared resource no
config advertises, more than one shared GPU where the config refuses it, MPS client settings with no daemon."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

from mllint.checks.context import ProjectCtx
from mllint.model import Finding
from mllint.project import ProjectFacts
from mllint.registry import rule
from mllint.sources.sharing import SharingFacts

SHARED_SUFFIX = ".shared"


def _configs(project: ProjectFacts) -> list[SharingFacts]:
    return [s for f in project.files for s in f.sharing]


def _where(s: SharingFacts) -> str:
    return f"ConfigMap {s.configmap!r} key {s.key!r} ({s.span.path}:{s.span.line})"


@rule("ML112")
def shared_gpu_not_advertised(project: ProjectFacts, ctx: ProjectCtx) -> Iterator[Finding]:
    configs = _configs(project)
    if not configs:
        return
    advertised = {name for s in configs for name in s.advertised}
    for w in project.workloads:
        place = w.placement
        if place is None or w.fragment:
            continue
        for resource, span in place.gpu_spans.items():
            if not resource.endswith(SHARED_SUFFIX) or resource in advertised or w.gpus.get(resource, 0) <= 0:
                continue
            shown = "; ".join(
                f"{_where(s)} advertises {', '.join(sorted(s.advertised)) or 'nothing'}" for s in configs[:3]
            )
            finding = Finding.at(
                span,
                f"{w.kind} {w.name!r} asks for {resource}, but no GPU sharing config in the scan renames a resource "
                f"to it ({shown}): without renameByDefault: true (or rename: {resource}) the device plugin "
                f"advertises the replicas as {resource[: -len(SHARED_SUFFIX)]}, so the pod stays Pending",
                fix=f"set renameByDefault: true in the sharing config, or ask for {resource[: -len(SHARED_SUFFIX)]}",
            )
            finding.logical = w.identity
            finding.causes = tuple(s.span for s in configs)
            yield finding


@rule("ML113")
def shared_gpu_request_above_one(project: ProjectFacts, ctx: ProjectCtx) -> Iterator[Finding]:
    strict = {name: s for s in _configs(project) if s.fail_requests_greater_than_one for name in s.advertised}
    if not strict:
        return
    for w in project.workloads:
        place = w.placement
        if place is None or w.fragment:
            continue
        for resource, span in place.gpu_spans.items():
            config = strict.get(resource)
            amount = w.gpus.get(resource, Decimal(0))
            if config is None or config.advertised[resource] == resource or amount <= 1:
                continue  # only a renamed resource is certainly the shared one on every node
            finding = Finding.at(
                span,
                f"{w.kind} {w.name!r} asks for {amount.normalize()} {resource}, but {_where(config)} sets "
                f"failRequestsGreaterThanOne: true: the device plugin fails the pod's admission "
                "(UnexpectedAdmissionError); more than one replica of a shared GPU adds no compute",
                fix=f"ask for 1 {resource}, or for whole GPUs ({config.advertised[resource]}) when one is not enough",
            )
            finding.logical = w.identity
            finding.causes = (config.span,)
            yield finding


@rule("ML114")
def mps_settings_without_daemon(project: ProjectFacts, ctx: ProjectCtx) -> Iterator[Finding]:
    if any(s.mode == "mps" for s in _configs(project)):
        return  # the device plugin runs the MPS daemon and connects the containers it gives a GPU
    for w in project.workloads:
        mps = w.placement.mps if w.placement is not None else None
        if mps is None or mps.reachable or w.fragment:
            continue
        finding = Finding.at(
            mps.span,
            f"container {mps.container!r} of {w.kind} {w.name!r} sets {mps.variable}, but its pod reaches no CUDA "
            "MPS control daemon (no hostIPC, no mount of the MPS pipe directory, no nvidia-cuda-mps-control in the "
            "pod, no MPS sharing in the device plugin config of the scan): CUDA runs without MPS and the setting "
            "does nothing",
            fix="enable MPS sharing in the device plugin config, or share the daemon's pipe directory and IPC "
            "namespace with the pod (hostIPC: true and a hostPath mount of CUDA_MPS_PIPE_DIRECTORY)",
        )
        finding.logical = w.identity
        yield finding
