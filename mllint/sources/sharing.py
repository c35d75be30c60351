"""The NVIDIA device plugin's GPU sharing configuration, as a ConfigMap holds it (one key per node config, each a
YAML document: `version: v1`, `sharing: {timeSlicing: ..., mps: ...}`), and what a pod's containers say about CUDA
MPS. Small and picklable, for the project index.

    sharing:
      timeSlicing:
        renameByDefault: false          # true: advertise <name>.shared
        failRequestsGreaterThanOne: false
        resources:
        - name: nvidia.com/gpu
          replicas: 4
          rename: nvidia.com/gpu.shared # optional, per resource
"""

from __future__ import annotations

from dataclasses import field

from mllint import yamlsrc as y
from mllint.model import Container, K8sObject, PodSpec, Span
from mllint.records import record

MPS_ENV = ("CUDA_MPS_PIPE_DIRECTORY", "CUDA_MPS_ACTIVE_THREAD_PERCENTAGE", "CUDA_MPS_PINNED_DEVICE_MEM_LIMIT")
DEFAULT_PIPE_DIRECTORY = "/tmp/nvidia-mps"  # CUDA MPS's default pipe directory


@record(slots=True)
class SharingFacts:
    """One node config of the device plugin that shares GPUs (time-slicing or MPS)."""

    configmap: str
    key: str
    path: str
    span: Span  # the ConfigMap data key that holds the config
    mode: str  # timeSlicing | mps
    advertised: dict[str, str] = field(default_factory=dict)  # shared resource name -> the resource it replicates
    fail_requests_greater_than_one: bool = False

    @property
    def renames(self) -> bool:
        return any(name != base for name, base in self.advertised.items())


def read_sharing(obj: K8sObject, path: str) -> list[SharingFacts]:
    """The sharing configs in a ConfigMap's data (values that are device plugin configs; others are skipped)."""
    if obj.kind != "ConfigMap":
        return []
    out = []
    for key, k, v in y.items(y.get(obj.node, "data")):
        text = y.text(v)
        if not text or "sharing" not in text:
            continue
        try:
            docs = y.compose(path, text, [])
        except Exception:  # not YAML: not a device plugin config
            continue
        for doc in docs[:1]:
            sharing = y.get(doc.root, "sharing")
            for mode in ("timeSlicing", "mps"):
                body = y.get(sharing, mode)
                if y.is_map(body):
                    out.append(_facts(obj.name, key, path, y.scalar_span(path, k), mode, body))
    return out


def _facts(configmap: str, key: str, path: str, span: Span, mode: str, body: object) -> SharingFacts:
    by_default = (y.text(y.get(body, "renameByDefault")) or "").lower() == "true"
    advertised: dict[str, str] = {}
    resources = y.get(body, "resources")
    for item in resources.value if y.is_seq(resources) else []:
        name = y.text(y.get(item, "name"))
        if not name:
            continue
        rename = y.text(y.get(item, "rename"))
        advertised[rename or (f"{name}.shared" if by_default else name)] = name
    return SharingFacts(
        configmap,
        key,
        path,
        span,
        mode,
        advertised,
        (y.text(y.get(body, "failRequestsGreaterThanOne")) or "").lower() == "true",
    )


@record(frozen=True, slots=True)
class MpsUse:
    """A container that sets CUDA MPS client settings, and whether its pod can reach an MPS daemon."""

    container: str
    variable: str
    span: Span
    reachable: bool  # hostIPC, the pipe directory mounted, or an MPS daemon started in the pod


def mps_use(pod: PodSpec) -> MpsUse | None:
    for c in pod.containers:
        env = {e.name: e for e in c.env}
        hit = next((env[name] for name in MPS_ENV if name in env), None)
        if hit is None:
            continue
        pipe = env.get("CUDA_MPS_PIPE_DIRECTORY")
        directory = (pipe.value if pipe is not None and pipe.value else DEFAULT_PIPE_DIRECTORY).rstrip("/")
        mounted = any(
            directory == p.rstrip("/") or directory.startswith(p.rstrip("/") + "/") for _n, p, _s in c.volume_mounts
        )
        return MpsUse(c.name, hit.name, hit.name_span, pod.host_ipc or mounted or _starts_daemon(pod.all_containers))
    return None


def _starts_daemon(containers: list[Container]) -> bool:
    return any("nvidia-cuda-mps-control" in v.text for c in containers for v in [*c.command, *c.args])
