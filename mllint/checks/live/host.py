"""ML8xx: what a GPU node can serve (GPUs per node, memory per GPU, MIG), from the cluster profile or the
host profile live mode reads through NVML; and the health of the host's GPUs (live mode only)."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

from mllint.checks.context import Ctx, HostCtx, who
from mllint.cuda import targets
from mllint.gpus import pod_gpus
from mllint.live.host import Host
from mllint.model import Container, Finding, Span, Workload, is_digits
from mllint.registry import rule


@rule("ML801")
def gpus_exceed_node(workload: Workload, ctx: Ctx) -> Iterator[Finding]:
    gpus, spans = pod_gpus(workload.pod, ctx.gpu_resources)
    whole = [name for name in gpus if not name.startswith("nvidia.com/mig-")]  # MIG slices are not GPUs
    wanted = sum((gpus[name] for name in whole), Decimal(0))
    span = spans[whole[0]] if whole else None
    found = [t for t in targets.for_workload_pod(workload.pod, ctx.cuda) if t.gpus is not None]
    if not wanted or span is None or not found or any(wanted <= t.gpus for t in found if t.gpus is not None):
        return
    have = ", ".join(f"{t.name} has {t.gpus}" for t in found)
    yield Finding.at(
        span,
        f"one pod of {workload.kind} {workload.name!r} asks for {wanted} GPUs, more than a node "
        f"offers ({have} per node): it stays Pending",
        fix="ask for at most the GPUs of one node per pod and scale out with more replicas or workers",
    )


@rule("ML802")
def gpu_memory_too_small(workload: Workload, ctx: Ctx) -> Iterator[Finding]:
    selected = workload.pod.node_selector.get("nvidia.com/gpu.memory")
    if selected is None or selected.templated or not is_digits(selected.text):
        return
    wanted = int(selected.text)
    for target in targets.for_workload_pod(workload.pod, ctx.cuda):
        if target.gpu_memory is not None and target.gpu_memory < wanted:
            yield Finding.at(
                selected.span,
                f"{workload.kind} {workload.name!r} selects GPUs with {wanted} MiB; the "
                f"GPUs of {target.name} have {target.gpu_memory} MiB, so no node there "
                "matches and the pod stays Pending",
                fix=f"select the memory {target.name}'s GPUs have, or schedule on a pool with larger GPUs",
            )


@rule("ML803")
def mig_enabled_whole_gpu(container: Container, ctx: Ctx) -> Iterator[Finding]:
    if ctx.workload is None:
        return
    found = targets.for_workload_pod(ctx.workload.pod, ctx.cuda)
    migged = [t for t in found if t.mig]
    if not found or len(migged) != len(found):
        return
    for name, q in {**container.resources.requests, **container.resources.limits}.items():
        if name == "nvidia.com/gpu":
            profiles = sorted({p for t in migged for p in t.mig_profiles or ()})
            offer = f" (it offers {', '.join('nvidia.com/mig-' + p for p in profiles)})" if profiles else ""
            yield Finding.at(
                q.span,
                f"{who(container, ctx)} asks for whole GPUs (nvidia.com/gpu), but MIG is enabled "
                f"on every GPU of {', '.join(t.name for t in migged)}{offer}: with the device "
                "plugin's mixed strategy no node advertises nvidia.com/gpu and the pod stays "
                "Pending",
                fix="ask for a MIG profile (nvidia.com/mig-<profile>), or run the pod on GPUs with MIG disabled",
            )
            return


def _host_span(host: Host, index: int | None = None) -> Span:
    gpu = next((g for g in host.gpus if g.index == index), None)
    return Span(host.location(gpu), 0, 0, 0, 0)


@rule("ML804")
def persistence_mode_off(host: Host, ctx: HostCtx) -> Iterator[Finding]:
    for gpu in host.live_gpus:
        if gpu.persistence is False:
            yield Finding.at(
                _host_span(host, gpu.index),
                f"GPU {gpu.index} ({gpu.name}) has persistence mode off: the driver tears the GPU down "
                "when no process holds it, and every job start pays seconds of re-initialisation",
                fix="enable the persistence daemon (systemctl enable --now nvidia-persistenced)",
            )


@rule("ML805")
def ecc_uncorrected_errors(host: Host, ctx: HostCtx) -> Iterator[Finding]:
    for gpu in host.live_gpus:
        if gpu.ecc_uncorrected:
            yield Finding.at(
                _host_span(host, gpu.index),
                f"GPU {gpu.index} ({gpu.name}, {gpu.uuid}) reports {gpu.ecc_uncorrected} volatile "
                "uncorrected ECC errors since the driver loaded: jobs on it crash or compute wrong "
                "results",
                fix="drain the node, reset the GPU (nvidia-smi -r) and check its retired pages or row "
                "remapping; replace it if the errors return",
            )


@rule("ML806")
def gpu_lost(host: Host, ctx: HostCtx) -> Iterator[Finding]:
    for gpu in host.gpus:
        if gpu.lost is not None:
            yield Finding.at(
                _host_span(host, gpu.index),
                f"GPU {gpu.index} has fallen off the bus (NVML: {gpu.lost}): the node advertises fewer "
                "GPUs than it has, and jobs placed on it fail",
                fix="drain the node and reboot it; check `dmesg` for Xid 79 and the GPU's power and seating",
            )
