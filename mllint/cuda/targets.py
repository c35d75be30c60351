"""What a workload or image runs on: GPU models, node pools of the configured cluster profile, and the GPU
Feature Discovery and cloud labels a pod selects (`knowledge/gpus.json`)."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import field
from functools import lru_cache
from typing import Any

from mllint.cuda.versions import parse, show
from mllint.knowledge import table
from mllint.model import PodSpec, is_digits
from mllint.records import record


@record(frozen=True)
class Gpu:
    model: str
    cc: tuple[int, int]
    arch: str
    datacenter: bool
    verified: bool = True  # False when NVIDIA's compute-capability page does not list the model (H20)


@record(frozen=True)
class Target:
    """Nodes a workload may land on: a profile pool, the nodes a selector picks, or `--driver-version`."""

    name: str  # for messages: "pool 'a100'", "nodes with nvidia.com/cuda.driver.major=470"
    driver_low: tuple[int, ...] | None = None  # the lowest driver these nodes may have
    driver_high: tuple[int, ...] | None = None  # the highest (equal to low when the version is exact)
    gpu: Gpu | None = None
    cc: tuple[int, int] | None = None
    mig_profiles: tuple[str, ...] | None = None
    labels: tuple[tuple[str, str], ...] = ()  # a pool's node labels, to match pods' nodeSelectors
    driver: str | None = None  # as written
    gpus: int | None = None  # GPUs per node
    gpu_memory: int | None = None  # MiB per GPU
    mig: bool = False  # MIG enabled on every GPU
    max_nodes: int | None = None  # the most nodes the pool can have (`max-nodes`)

    @property
    def driver_text(self) -> str:
        if self.driver_low is None:
            return "an unknown driver"
        if self.driver_low == self.driver_high:
            return f"driver {self.driver or show(self.driver_low)}"
        return f"a {self.driver_low[0]}-series driver"


@record(frozen=True)
class CudaConfig:
    """The configured cluster profile and image → CUDA mappings (picklable: it travels to workers)."""

    pools: tuple[Target, ...] = ()
    images: tuple[tuple[str, str], ...] = ()  # (image name prefix, CUDA version)
    everywhere: tuple[Target, ...] = field(default=())  # --driver-version: every workload and image
    dockerfiles: tuple[
        tuple[str, str], ...
    ] = ()  # (image name prefix, absolute path of the Dockerfile it is built from)


@lru_cache(maxsize=1)
def _gpus() -> list[tuple[re.Pattern[str], Gpu]]:
    out = []
    for row in table("gpus")["gpus"]:
        major, minor = (parse(row["cc"]) or (0, 0))[:2]
        gpu = Gpu(row["model"], (major, minor), row["arch"], row["datacenter"], row.get("verified", True))
        for token in row["tokens"]:
            out.append(
                (
                    re.compile(rf"(?<![A-Z0-9]){re.escape(token)}(?![A-Z0-9])"),
                    gpu,
                )
            )
    out.sort(key=lambda item: -len(item[0].pattern))  # GH200 before H200, L40S before L40 before L4
    return out


def gpu(name: str) -> Gpu | None:
    """A GPU from a model name or a GFD `nvidia.com/gpu.product` value (`NVIDIA-A100-SXM4-80GB`, `Tesla-T4`)."""
    text = re.sub(r"-SHARED$", "", name.strip().upper().replace(" ", "-"))
    text = re.sub(r"-MIG-.*$", "", text)
    text = re.sub(r"^(NVIDIA|TESLA)-", "", text)
    for pattern, found in _gpus():
        if pattern.search(text):
            return found
    return None


def _model(name: str) -> Gpu | None:
    return next((g for _p, g in _gpus() if g.model == name), None)


def from_selector(selector: Mapping[str, str]) -> Target | None:
    """The nodes a pod's nodeSelector picks, when it names a driver or a GPU (GFD and cloud labels)."""
    facts: dict[str, Any] = {}
    full = selector.get("nvidia.com/cuda.driver-version.full")
    major = selector.get("nvidia.com/cuda.driver-version.major") or selector.get("nvidia.com/cuda.driver.major")
    if full and parse(full):
        facts["driver_low"] = facts["driver_high"] = parse(full)
        facts["driver"] = full
    elif major and is_digits(major):
        facts["driver_low"], facts["driver_high"] = (int(major),), (int(major), 99999, 99999)
    found = None
    gpus = table("gpus")
    if selector.get("nvidia.com/gpu.product"):
        found = gpu(selector["nvidia.com/gpu.product"])
    elif selector.get("cloud.google.com/gke-accelerator"):
        found = _model(
            gpus["gke_accelerator"]["values"].get(selector["cloud.google.com/gke-accelerator"].replace("-vws", ""), "")
        )
    elif selector.get("karpenter.k8s.aws/instance-gpu-name"):
        found = _model(gpus["aws_gpu_name"]["values"].get(selector["karpenter.k8s.aws/instance-gpu-name"], ""))
    elif selector.get("node.kubernetes.io/instance-type"):
        found = _model(gpus["aws_family"]["values"].get(selector["node.kubernetes.io/instance-type"].split(".")[0], ""))
    if found is not None:
        facts["gpu"], facts["cc"] = found, found.cc
    cc_major, cc_minor = selector.get("nvidia.com/gpu.compute.major"), selector.get("nvidia.com/gpu.compute.minor")
    if cc_major and is_digits(cc_major) and cc_minor and is_digits(cc_minor):
        facts["cc"] = (int(cc_major), int(cc_minor))
    if not facts:
        return None
    keys = [
        k
        for k in selector
        if k.startswith(
            (
                "nvidia.com/",
                "cloud.google.com/gke-accelerator",
                "karpenter.k8s.aws/",
                "node.kubernetes.io/instance-type",
            )
        )
    ]
    name = "nodes with " + ", ".join(f"{k}={selector[k]}" for k in sorted(keys))
    return Target(name, **facts)


def pools(config: Mapping[str, Any] | None) -> tuple[Target, ...]:
    """The node pools of the `cluster` configuration key."""
    out = []
    for pool in (config or {}).get("pools", []):
        driver = parse(str(pool["driver"])) if pool.get("driver") is not None else None
        found = gpu(pool["gpu"]) if pool.get("gpu") else None
        written = parse(pool["compute-capability"]) if pool.get("compute-capability") else None
        cc = (written[0], written[1]) if written and len(written) >= 2 else found.cc if found else None
        out.append(
            Target(
                f"{'host' if pool.get('host') else 'pool'} {pool['name']!r}",
                driver,
                driver,
                found,
                cc,
                tuple(pool["mig-profiles"]) if "mig-profiles" in pool else None,
                tuple(sorted((k, str(v)) for k, v in (pool.get("labels") or {}).items())),
                str(pool["driver"]) if pool.get("driver") is not None else None,
                pool.get("gpus"),
                pool.get("gpu-memory"),
                bool(pool.get("mig")),
                pool.get("max-nodes"),
            )
        )
    return tuple(out)


def for_workload(selector: Mapping[str, str], config: CudaConfig) -> list[Target]:
    """The targets a pod may land on: pools whose labels its nodeSelector matches (all pools when it matches
    none), else the nodes its GPU labels pick, plus `--driver-version`."""
    matched = [p for p in config.pools if p.labels and all(selector.get(k) == v for k, v in p.labels)]
    selected = from_selector(selector)
    if matched:
        found = matched
    elif selected is not None:
        found = [selected]
    else:
        found = list(config.pools)
    return found + list(config.everywhere)


def _lookup(image: str, mapping: tuple[tuple[str, str], ...]) -> str | None:
    """A key names an image with its tag, or without one for every tag; the exact reference wins."""
    name = image.split("@", 1)[0]
    exact = dict(mapping).get(name)
    if exact is not None:
        return exact
    return next((v for key, v in mapping if ":" not in key.rsplit("/", 1)[-1] and name.startswith(key + ":")), None)


def pod_selectors(
    node_selector: Mapping[str, str], affinity: list[dict[str, tuple[str, ...]]], limit: int = 16
) -> list[dict[str, str]]:
    """The label sets a pod may be placed by: its nodeSelector with each combination its required node
    affinity allows (`In` expressions; any term may match); at most `limit`."""
    out: list[dict[str, str]] = []
    for term in affinity or [{}]:
        combos: list[dict[str, str]] = [dict(node_selector)]
        for key, values in term.items():
            combos = [{**c, key: v} for c in combos for v in values][:limit]
        out += combos
    return out[:limit] or [dict(node_selector)]


def for_workload_pod(pod: PodSpec, config: CudaConfig) -> list[Target]:
    """`for_workload` over every label set the pod's nodeSelector and required node affinity allow."""
    found: dict[Target, None] = {}
    for selector in pod_selectors({k: v.text for k, v in pod.node_selector.items()}, pod.node_affinity):
        found.update(dict.fromkeys(for_workload(selector, config)))
    return list(found)


def image_cuda(image: str, config: CudaConfig) -> str | None:
    """The CUDA configured for an image (`images: {name: {cuda: ...}}` in the configuration)."""
    return _lookup(image, config.images)


def image_dockerfile(image: str, config: CudaConfig) -> str | None:
    """The Dockerfile configured for an image (`images: {name: {dockerfile: ...}}`), as an absolute path."""
    return _lookup(image, config.dockerfiles)


def from_config(
    values: Mapping[str, Any], driver: str | None = None, root: str = ".", profile: Mapping[str, Any] | None = None
) -> CudaConfig:
    """The CUDA settings of a configuration (`cluster`, `images`) and of `--driver-version`; Dockerfile
    paths are relative to `root`, the configuration's folder. A host profile's pools replace `cluster`."""
    mapped = (values.get("images") or {}).items()
    images = tuple((name, str(spec["cuda"])) for name, spec in mapped if "cuda" in spec)
    dockerfiles = tuple(
        (name, os.path.abspath(os.path.join(root, str(spec["dockerfile"]))))
        for name, spec in mapped
        if "dockerfile" in spec
    )
    version = parse(driver) if driver else None
    everywhere = (Target(f"--driver-version {driver}", version, version, driver=driver),) if version else ()
    return CudaConfig(pools(profile if profile is not None else values.get("cluster")), images, everywhere, dockerfiles)
