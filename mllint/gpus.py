"""What counts as a GPU, and the GPUs a container or a pod asks for: one fact that every rule and the project
index read. The default names are the ones the vendors' Kubernetes device plugins advertise (NVIDIA's
`nvidia.com/gpu`, its time-sliced `nvidia.com/gpu.shared` and MIG `nvidia.com/mig-<profile>`, AMD's
`amd.com/gpu`, Intel's `gpu.intel.com/<kind>`, Habana's `habana.ai/gaudi`)."""

from __future__ import annotations

from decimal import Decimal
from fnmatch import fnmatchcase

from mllint.model import Container, PodSpec, Span

# Extended-resource names every rule treats as GPUs (shell-style globs); the configuration's `gpu-resources`
# replaces the list.
GPU_RESOURCES = (
    "nvidia.com/gpu",
    "nvidia.com/gpu.shared",
    "nvidia.com/mig-*",
    "amd.com/gpu",
    "gpu.intel.com/*",
    "habana.ai/gaudi",
)


def gpu_names(container: Container, patterns: tuple[str, ...] | list[str]) -> list[str]:
    """The container's resource names (requests or limits) that are GPUs by the `patterns` globs."""
    names = dict.fromkeys([*container.resources.requests, *container.resources.limits])
    return [n for n in names if any(fnmatchcase(n, p) for p in patterns)]


def pod_gpus(pod: PodSpec, patterns: tuple[str, ...]) -> tuple[dict[str, Decimal], dict[str, Span]]:
    """GPUs one pod holds, by resource name (its containers' sum, or its largest init container, as the
    scheduler reserves them), and the span of each resource's first quantity."""
    gpus: dict[str, Decimal] = {}
    spans: dict[str, Span] = {}
    for containers, combine in ((pod.containers, "sum"), (pod.init_containers, "max")):
        for c in containers:
            for name, q in {**c.resources.requests, **c.resources.limits}.items():
                if q.amount is None or not any(fnmatchcase(name, p) for p in patterns):
                    continue
                spans.setdefault(name, q.span)
                have = gpus.get(name, Decimal(0))
                gpus[name] = have + q.amount if combine == "sum" else max(have, q.amount)
    return gpus, spans
