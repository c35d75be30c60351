"""Install lines → the CUDA they bring: pip, uv and conda packages built for a CUDA release, apt CUDA
packages, `ENV CUDA_VERSION` and `NVIDIA_REQUIRE_CUDA`. Each answer carries where in the text it was found."""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache

from mllint import lazy_re
from mllint.cuda.images import Cuda, tensorflow_cuda
from mllint.cuda.versions import parse
from mllint.knowledge import table
from mllint.records import record
from mllint.shell import Word, commands
from mllint.sources.dockerfile import substitute


@record(frozen=True)
class Evidence:
    cuda: Cuda
    start: int  # offset of the word in the text searched
    end: int


_INDEX_CU = lazy_re.compile(r"/whl/(?:nightly/|test/)?cu(\d{2})(\d)\b")
_INDEX_CPU = lazy_re.compile(r"/whl/(?:nightly/|test/)?cpu\b")
_TORCH = lazy_re.compile(r"^torch(?:\[[^\]]*\])?(?:(==|~=|>=|<=|>|<|===)\s*([0-9][^,;\s]*))?")
_LOCAL_CU = lazy_re.compile(r"\+cu(\d{2})(\d)$")
_NVIDIA_PKG = lazy_re.compile(r"^nvidia-[a-z0-9-]+?-cu(1[1-9])(?:\s*(?:==|~=|>=)\s*(\d+)\.(\d+))?")
_NVIDIA_CU13 = lazy_re.compile(r"^nvidia-(?:cuda-runtime|cublas|cuda-nvcc|cuda-nvrtc)\s*(?:==|~=|>=)\s*(1[3-9])\.(\d+)")
_JAX = lazy_re.compile(r"^jax\[(cuda(\d{2})?)(?:[_-](?:pip|local))?\]")
_TF_CUDA = lazy_re.compile(r"^tensorflow\[and-cuda\](?:==(\d+)\.(\d+))?")
_CUPY = lazy_re.compile(r"^cupy-cuda(\d{2})(x|\d)\b")
_CONDA_SPEC = lazy_re.compile(r"^(pytorch-cuda|cuda-version|cudatoolkit|cuda-toolkit|cuda-runtime)[=<>]+=?(\d+)\.(\d+)")
_APT_CUDA = lazy_re.compile(
    r"^cuda-(?:toolkit|libraries|runtime|nvcc|compiler|cudart|minimal-build)-(\d+)-(\d+)(?:=|$)"
)
_REQUIRE = lazy_re.compile(r"cuda\s*>=\s*(\d+)\.(\d+)")
_QUOTES = "\"'"


@lru_cache(maxsize=1)
def _torch_defaults() -> dict[str, str]:
    return dict(table("frameworks")["pytorch_pypi_default"]["versions"])


def installer(words: list[str]) -> str | None:
    """pip | conda | apt for an install command, else None."""
    names = [w.rsplit("/", 1)[-1] for w in words]
    if "install" not in names and "add" not in names:
        return None
    if (
        any(re.fullmatch(r"pip\d?(\.\d+)?", n) for n in names)
        or "uv" in names
        or "pipx" in names
        or ("-m" in names and "pip" in names)
    ):
        return "pip"
    if any(n in ("conda", "mamba", "micromamba") for n in names):
        return "conda"
    if any(n in ("apt-get", "apt", "aptitude", "dnf", "yum", "microdnf") for n in names):
        return "apt"
    return None


def from_run(text: str, variables: dict[str, str] | None = None) -> list[Evidence]:
    """CUDA brought in by the install commands of a RUN instruction (or any shell text); `variables`: the
    ARG and ENV values the line sees (`torch==${PYTORCH_VERSION}` with `ARG PYTORCH_VERSION=2.7`)."""
    return [ev for words in commands(text) for ev in from_command(words, variables)]


def from_command(words: list[Word], variables: dict[str, str] | None = None) -> list[Evidence]:
    """CUDA brought in by one simple command (its words as `mllint.shell` splits them)."""
    kind = installer([w for w, _s, _e in words])
    if kind == "pip":
        return _pip(words, variables or {})
    if kind == "conda":
        return _spec_words(words, _conda)
    if kind == "apt":
        return _spec_words(words, _apt)
    return []


def requirement_refs(text: str) -> list[Word]:
    """The files pip or uv installs read with `-r` / `--requirement` (and `-c` constraints, which pin the
    same way): (path as written, start, end)."""
    out = []
    for words in commands(text):
        if installer([w for w, _s, _e in words]) != "pip":
            continue
        for i, (word, start, end) in enumerate(words):
            for flag in ("-r", "--requirement", "-c", "--constraint"):
                if word == flag and i + 1 < len(words):
                    out.append(words[i + 1])
                elif word.startswith(flag + "=") or (
                    flag in ("-r", "-c") and word.startswith(flag) and len(word) > 2 and not word.startswith("--")
                ):
                    skip = len(flag) + (1 if word.startswith(flag + "=") else 0)
                    out.append((word[skip:], start + skip, end))
    return out


def from_requirements(text: str) -> list[Evidence]:
    """CUDA pinned by a requirements file: its packages (`torch==2.1.0+cu121`, `nvidia-*-cu12`) and its
    `--index-url` / `--extra-index-url` lines, which apply to the whole file; offsets into `text`."""
    words: list[Word] = []
    offset = 0
    for line in text.split("\n"):
        content = re.split(r"(?:^|\s)#", line, maxsplit=1)[0]
        words += [
            (m[0], offset + m.start(), offset + m.end())
            for m in re.finditer(r"[^\s]+(?:\s*(?:==|~=|>=|<=|===)\s*[^\s;]+)?", content)
        ]
        offset += len(line) + 1
    return _pip(words)


def _pip(words: list[Word], variables: dict[str, str] | None = None) -> list[Evidence]:
    texts = [resolved(w, variables or {}) for w, _s, _e in words]
    index_cu = next((m for w in texts for m in [_INDEX_CU.search(w)] if m), None)
    cpu_index = any(_INDEX_CPU.search(w) for w in texts)
    out = []
    for (word, start, end), text in zip(words, texts, strict=True):
        if word.startswith("-") or "://" in text:
            continue
        shown = f"{word.strip(_QUOTES)} with {', '.join(_named(word, variables or {}))}" if text != word else None
        cuda = _pip_package(text.strip(_QUOTES), index_cu, cpu_index, shown)
        if cuda is not None:
            out.append(Evidence(cuda, start, end))
    return out


def resolved(word: str, variables: dict[str, str]) -> str:
    """The word with the ARG and ENV values it names put in, where it names any."""
    return substitute(word, dict(variables))[0] if "$" in word and variables else word


def _named(word: str, variables: dict[str, str]) -> list[str]:
    """`NAME=value` of each variable the word names, for messages."""
    names = dict.fromkeys(m[1] or m[2] for m in re.finditer(r"\$\{?([A-Za-z_]\w*)|\$([A-Za-z_]\w*)", word))
    return [f"{n}={variables[n]}" for n in names if n in variables]


def _pip_package(spec: str, index_cu: re.Match[str] | None, cpu_index: bool, shown: str | None = None) -> Cuda | None:
    origin = f"pip install {shown or spec}"
    torch = _TORCH.match(spec)
    if torch and (len(spec) == torch.end() or spec[torch.end()] in ",;<>=~! "):
        if "$" in spec:
            return None  # a version a build argument without a default chooses: not the newest release
        version = torch[2] or ""
        local = _LOCAL_CU.search(version)
        if local:
            return Cuda((int(local[1]), int(local[2])), origin)
        if cpu_index:
            return None
        if index_cu:
            return Cuda((int(index_cu[1]), int(index_cu[2])), f"{origin} from the cu{index_cu[1]}{index_cu[2]} index")
        if torch[1] in ("==", "~=", "===") and version:
            minor = ".".join(version.split(".")[:2])
            default = _torch_defaults().get(minor)
            return (
                Cuda(parse(default) or (), f"{origin} (PyPI's torch {minor} wheels use CUDA {default})")
                if default
                else None
            )
        newest = max(_torch_defaults(), key=lambda v: parse(v) or ())
        cuda = _torch_defaults()[newest]
        return Cuda(
            parse(cuda) or (), f"{origin} (unpinned: PyPI's torch {newest} wheels use CUDA {cuda})", verified=False
        )
    for pattern in (_NVIDIA_PKG, _NVIDIA_CU13):
        match = pattern.match(spec)
        if match:
            groups = [g for g in match.groups() if g is not None]
            version = (int(groups[0]),) if pattern is _NVIDIA_PKG else (int(groups[0]), int(groups[1]))
            if pattern is _NVIDIA_PKG and len(groups) == 3 and groups[1] == groups[0]:
                version = (int(groups[1]), int(groups[2]))  # nvidia-cuda-runtime-cu12==12.4.127
            return Cuda(version, origin)
    jax = _JAX.match(spec)
    if jax:
        return Cuda((int(jax[2]) if jax[2] else 12,), origin)
    tf = _TF_CUDA.match(spec)
    if tf:
        tf_cuda = tensorflow_cuda().get(f"{tf[1]}.{tf[2]}") if tf[1] else None
        return Cuda(parse(tf_cuda) or (), origin) if tf_cuda else Cuda((12,), origin)
    cupy = _CUPY.match(spec)
    if cupy:
        return Cuda((int(cupy[1]),) if cupy[2] == "x" else (int(cupy[1]), int(cupy[2])), origin)
    return None


def _spec_words(words: list[Word], judge: Callable[[str], Cuda | None]) -> list[Evidence]:
    out = []
    for word, start, end in words:
        cuda = judge(word.strip("\"'"))
        if cuda is not None:
            out.append(Evidence(cuda, start, end))
    return out


def _conda(spec: str) -> Cuda | None:
    match = _CONDA_SPEC.match(spec)
    return Cuda((int(match[2]), int(match[3])), f"conda install {spec}") if match else None


def _apt(spec: str) -> Cuda | None:
    match = _APT_CUDA.match(spec)
    return Cuda((int(match[1]), int(match[2])), f"apt install {spec}") if match else None


def from_env(name: str, value: str) -> Cuda | None:
    """`ENV CUDA_VERSION=12.1.1` or `NVIDIA_REQUIRE_CUDA="cuda>=12.1 ..."` (its `cuda>=` term is the native need)."""
    if name == "CUDA_VERSION":
        version = parse(value)
        return Cuda(version[:3], f"CUDA_VERSION={value}") if version and len(version) >= 2 else None
    if name == "NVIDIA_REQUIRE_CUDA":
        match = _REQUIRE.search(value)
        return Cuda((int(match[1]), int(match[2])), f"NVIDIA_REQUIRE_CUDA {match[0]}") if match else None
    return None
