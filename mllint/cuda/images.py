"""Image reference → the CUDA it is built on, from tag grammars and `knowledge/ngc_releases.json`.

`resolve()` answers a `Cuda` (with where the version came from), an `Unknown` (a CUDA image whose tag
floats, so the version cannot be known), or None (not a CUDA image, or not one mllint knows)."""

from __future__ import annotations

from functools import lru_cache

from mllint import lazy_re
from mllint.cuda.versions import parse, show
from mllint.knowledge import table
from mllint.records import record


@record(frozen=True)
class Cuda:
    version: tuple[int, ...]  # (12, 1, 1), (12, 1) or (12,) when only the major is known
    origin: str  # how it was found, for messages: "nvidia/cuda tag 12.1.1-devel-ubuntu22.04"
    verified: bool = True  # False when the row behind it is not confirmed by a primary source
    flavor: str | None = None  # devel | runtime | base, where the tag says (nvcc exists only in devel)
    compat: bool = False  # the image ships cuda-compat (nvidia/cuda, NGC): forward compatibility is possible
    release: str | None = None  # the NGC monthly release it is built on, whose notes list its forward compatibility

    def __str__(self) -> str:
        return show(self.version)


@record(frozen=True)
class Unknown:
    reason: str


Resolution = Cuda | Unknown | None
_FLOATS = "the tag floats, and the CUDA under it changes with each release"

_FLOATING = lazy_re.compile(
    r"^(?:latest|nightly|edge|main|master|stable|dev|devel)(?:-.*)?$|^(?:latest-)?gpu(?:-jupyter)?$"
)
_NVIDIA_CUDA = lazy_re.compile(r"^(\d+)\.(\d+)(?:\.(\d+))?-(base|runtime|devel|cudnn\d*-runtime|cudnn\d*-devel)(?:-|$)")
# pytorch/pytorch tags: `2.4.0-cuda12.4-cudnn9-runtime` (the docker release workflow's
# `${PYTORCH_VERSION}-cuda${CUDA_VERSION_SHORT}-cudnn${CUDNN_VERSION}-runtime`), `1.1.0-cuda10.0-cudnn7.5-runtime`,
# and the early `0.4_cuda9_cudnn7` (`_` separators, a major-only CUDA)
_PYTORCH = lazy_re.compile(r"^\d+\.\d+(?:\.\d+)?[-_]cuda(\d+)(?:\.(\d+))?[-_]cudnn[\d.]*\d(?:[-_](devel|runtime))?$")
_NGC_TAG = lazy_re.compile(r"^(\d{2}\.\d{2})(?:-(.*))?$")
_NGC_FRAMEWORKS = frozenset(
    {"pytorch", "tensorflow", "tritonserver", "tensorrtserver", "kaldi", "mxnet", "dgl", "paddlepaddle", "cuda-dl-base"}
)
_TRITON = frozenset({"tritonserver", "tensorrtserver"})
_SDK_SUFFIX = lazy_re.compile(r"(?:^|-)(?:client)?sdk$")
_CUDA_IN_NAME = lazy_re.compile(r"(?:^|[-_])cuda(\d{2})(\d)(?=$|[-_])")  # ai-workbench/python-cuda120
_TF_GPU = lazy_re.compile(r"^(\d+)\.(\d+)(?:\.\d+)?(?:rc\d+)?-gpu(?:-jupyter)?$")
_CUDA_WORD = lazy_re.compile(
    r"(?:^|[-_.])cuda-?(\d{2})\.?(\d)?(?:\.(\d+))?(?=$|[-_])|(?:^|[-_.])cu(\d{2})(\d)(?=$|[-_])"
)


@lru_cache(maxsize=1)
def _ngc() -> dict[str, dict]:
    return {row["release"]: row for row in table("ngc_releases")["releases"]}


@lru_cache(maxsize=1)
def _families() -> dict[str, dict]:
    return {row["repository"]: row for row in table("nvidia_images")["families"]}


@lru_cache(maxsize=1)
def tensorflow_cuda() -> dict[str, str]:
    """TensorFlow minor release -> the CUDA it is built with (tensorflow/tensorflow:*-gpu, tensorflow[and-cuda])."""
    return dict(table("frameworks")["tensorflow"]["versions"])


def resolve(reference: str) -> Resolution:
    """The CUDA of an image reference as written (`nvcr.io/nvidia/pytorch:24.01-py3`)."""
    ref = reference.strip()
    if not ref or "$" in ref or "{{" in ref:
        return None
    ref = ref.split("@", 1)[0]
    first, _, rest = ref.partition("/")
    registry = first if rest and ("." in first or ":" in first or first == "localhost") else None
    path = rest if registry else ref
    repo, colon, tag = path.rpartition(":")
    if not colon or "/" in tag:
        repo, tag = path, ""
    repo = repo.lower()
    if repo.startswith("library/"):
        repo = repo[len("library/") :]
    return _by_repository(repo, tag, registry)


def _by_repository(repo: str, tag: str, registry: str | None) -> Resolution:
    name = repo.rsplit("/", 1)[-1]
    if repo.endswith("nvidia/cuda"):
        return _nvidia_cuda(tag)
    if registry == "nvcr.io" and repo.startswith("nvidia/") and name in _NGC_FRAMEWORKS:
        return _ngc_image(name, tag)
    if registry == "nvcr.io" and repo in _families():
        return _family_image(repo, tag)
    if registry == "nvcr.io" and repo.startswith("nvidia/"):
        match = _CUDA_IN_NAME.search(name)
        if match:  # `python-cuda120`: a CUDA 12 image whose minor the name does not settle
            return Cuda((int(match[1]),), f"the image name {repo} (CUDA {match[1]})", verified=False)
    if repo == "pytorch/pytorch":
        match = _PYTORCH.match(tag)
        if match:
            version = tuple(int(g) for g in (match[1], match[2]) if g is not None)
            return Cuda(version, f"pytorch/pytorch tag {tag}", flavor=match[3])
        if not tag or _FLOATING.match(tag):
            return Unknown(_FLOATS)
        return None  # `2.3.0-runtime` and other CPU builds
    if repo == "tensorflow/tensorflow":
        return _tensorflow_image(tag)
    if not tag or _FLOATING.match(tag):
        if _looks_gpu(repo, tag):
            return Unknown(_FLOATS)
        return None
    return _cuda_in_tag(repo, tag)


_GPU_INFRASTRUCTURE = lazy_re.compile(r"operator|device-plugin|feature-discovery|dcgm|validator")


def _looks_gpu(repo: str, tag: str) -> bool:
    """An image that runs CUDA code; not the GPU stack's own services (`gpu-operator`, the device plugin,
    `dcgm-exporter`), which talk to the driver and ship no CUDA workload."""
    if _GPU_INFRASTRUCTURE.search(repo.rsplit("/", 1)[-1]):
        return False
    return (
        "gpu" in tag
        or "cuda" in tag
        or "gpu" in repo
        or "cuda" in repo
        or repo in ("vllm/vllm-openai", "rayproject/ray-ml")
    )


def _nvidia_cuda(tag: str) -> Resolution:
    match = _NVIDIA_CUDA.match(tag)
    if match is None:
        return Unknown("the tag names no CUDA release") if not tag or _FLOATING.match(tag) else None
    version = tuple(int(g) for g in match.groups()[:3] if g is not None)
    flavor = match[4].rsplit("-", 1)[-1]
    return Cuda(version, f"nvidia/cuda tag {tag}", flavor=flavor, compat=True)


def _ngc_image(framework: str, tag: str) -> Resolution:
    match = _NGC_TAG.match(tag)
    if match is None:
        return Unknown("the tag names no monthly release (YY.MM)") if not tag or _FLOATING.match(tag) else None
    release, suffix = match[1], match[2] or ""
    if framework in _TRITON and _SDK_SUFFIX.search(suffix) and release < "21.05":
        return Unknown(
            "Triton's SDK images before 21.05 were not built on the month's CUDA (Dockerfile.client and "
            "Dockerfile.sdk default to nvidia/cuda 10.1 or 11.1), and which CUDA the published image has is not documented"
        )
    row = _ngc().get(release)
    if row is None:
        return None  # a release outside the table: neither known nor floating
    if framework == "tritonserver" and "trtllm" in suffix:
        cuda, verified, what = row.get("trtllm"), True, "its TensorRT-LLM variant"
    elif framework == "tritonserver" and "vllm" in suffix:
        cuda, verified, what = row.get("vllm", row["cuda"]), "vllm" in row, "its vLLM variant"
    else:
        cuda, verified, what = row["cuda"], row["verified"], None
    if cuda is None:
        return None
    flavor = "devel" if framework not in _TRITON else "runtime"  # framework images carry nvcc
    origin = f"NGC release {release}" + (f" ({what})" if what else "")
    return Cuda(parse(cuda) or (), origin, verified=verified, flavor=flavor, compat=True, release=release)


def _family_image(repo: str, tag: str) -> Resolution:
    """Merlin, Morpheus, BioNeMo, NeMo: each tag NVIDIA's sources map, to a CUDA or to the NGC release it is
    built on; their tags do not follow the month, so nothing else is assumed."""
    family = _families()[repo]
    if not tag or _FLOATING.match(tag):
        return Unknown(_FLOATS)
    entry = family["tags"].get(tag)
    if entry is None:
        return None
    verified = entry.get("verified", family["verified"])
    if "ngc" in entry:
        row = _ngc().get(entry["ngc"])
        if row is None:
            return None
        origin = f"{repo} tag {tag}, built on NGC release {entry['ngc']}"
        cuda_text, verified = row["cuda"], verified and row["verified"]
        return Cuda(parse(cuda_text) or (), origin, verified=verified, compat=True, release=entry["ngc"])
    return Cuda(parse(entry["cuda"]) or (), f"{repo} tag {tag}", verified=verified, compat=True)


def _tensorflow_image(tag: str) -> Resolution:
    if not tag or _FLOATING.match(tag):
        return Unknown(_FLOATS) if "gpu" in tag else None
    match = _TF_GPU.match(tag)
    if match is None:
        return None  # CPU images
    cuda = tensorflow_cuda().get(f"{match[1]}.{match[2]}")
    return (
        Cuda(parse(cuda) or (), f"tensorflow/tensorflow tag {tag} (TensorFlow {match[1]}.{match[2]})") if cuda else None
    )


def _cuda_in_tag(repo: str, tag: str) -> Resolution:
    """A CUDA version spelled in the tag: `-cuda12.1`, `-cuda12`, `-cu121`, `-cu130` (RAPIDS, Ray, vLLM, cloud DLCs)."""
    match = _CUDA_WORD.search(tag)
    if match is None:
        return None
    if match[1]:
        version = tuple(int(g) for g in (match[1], match[2], match[3]) if g is not None)
    else:
        version = (int(match[4]), int(match[5]))
    return Cuda(version, f"{repo} tag {tag}")
