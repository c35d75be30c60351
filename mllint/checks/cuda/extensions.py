"""ML203: CUDA extensions compiled in an image (flash-attn, apex, xformers from source, `setup.py` builds
with FORCE_CUDA): nvcc must exist, and its CUDA major must be torch's."""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import lru_cache

from mllint.checks.context import TRUE, Ctx
from mllint.cuda import installs, versions
from mllint.cuda.images import Cuda
from mllint.cuda.needs import ARCH_LIST_NAMES, image_cuda
from mllint.knowledge import table
from mllint.model import Finding, Instruction, Span, Stage
from mllint.records import record
from mllint.registry import rule
from mllint.shell import Word, commands
from mllint.stages import chain, env_pairs, scoped

_NVCC = re.compile(
    r"^(?:cuda-(?:nvcc|toolkit|compiler|minimal-build)-(\d+)-(\d+)(?:=.*)?"
    r"|(?:nvidia::|conda-forge::)?cuda-(?:nvcc|toolkit)[=<>]+=?(\d+)\.(\d+).*"
    r"|nvidia-cuda-nvcc-cu(\d+)(?:[=<>~].*)?)$"
)
_CONDA_TORCH = re.compile(r"^pytorch-cuda[=<>]+=?(\d+)\.(\d+)")
_SETUP = frozenset({"install", "develop", "build_ext", "bdist_wheel", "build"})


@record(frozen=True)
class _Cuda:
    version: tuple[int, ...]
    origin: str


@lru_cache(maxsize=1)
def _known() -> tuple[frozenset[str], tuple[str, ...], frozenset[str]]:
    data = table("frameworks")["cuda_extensions"]
    return frozenset(data["pypi"]), tuple(r.lower() for r in data["repositories"]), frozenset(data["build_switches"])


def _name(spec: str) -> str:
    return re.split(r"[\[=<>~!;@ ]", spec, maxsplit=1)[0].lower()


class _Build:
    """What a stage chain has at each point of its build: nvcc, torch and the switches that force CUDA builds."""

    def __init__(self, base: Cuda | None, reference: str) -> None:
        self.nvcc = _Cuda(base.version, base.origin) if base is not None and base.flavor == "devel" else None
        framework = re.search(r"(?:^|/)(?:nvidia/pytorch|pytorch/pytorch):", reference)
        self.torch = _Cuda(base.version, f"the torch of {reference}") if base is not None and framework else None
        self.switches: set[str] = set()

    def read_env(self, ins: Instruction) -> None:
        for name, value, _start, _end in env_pairs(ins):
            if name == ARCH_LIST_NAMES[0] or name in _known()[2]:
                on = bool(value) if name == ARCH_LIST_NAMES[0] else value.strip().lower() in TRUE
                if on:
                    self.switches.add(name)
                else:
                    self.switches.discard(name)

    def read_command(self, words: list[Word], variables: dict[str, str]) -> None:
        texts = [w for w, _s, _e in words]
        if "install" not in texts and "create" not in texts:
            return
        for word in texts:
            nvcc = _NVCC.match(word)
            if nvcc:
                groups = [int(g) for g in nvcc.groups() if g is not None]
                self.nvcc = _Cuda(tuple(groups), f"{word} installed")
            conda = _CONDA_TORCH.match(word)
            if conda:
                self.torch = _Cuda((int(conda[1]), int(conda[2])), f"conda install {word}")
        by_start = {start: installs.resolved(word, variables) for word, start, _end in words}
        for ev in installs.from_command(words, variables):
            if _name(by_start.get(ev.start, "")) == "torch":
                self.torch = _Cuda(ev.cuda.version, ev.cuda.origin)


def _extensions(words: list[Word], cloned: list[Word], switches: set[str]) -> list[Word]:
    """The words of one command that compile a CUDA extension: a known package or repository installed by
    pip, or a source build (`pip install .`, `setup.py install`) of a cloned repository or with FORCE_CUDA."""
    pypi, repos, build_switches = _known()
    texts = [w for w, _s, _e in words]
    inline = {w.split("=", 1)[0] for w in texts if re.match(r"^[A-Z_][A-Z0-9_]*=(1|true|yes|on)$", w, re.I)}
    forced = bool((switches | inline) & (build_switches | {ARCH_LIST_NAMES[0]}))
    names = [w.rsplit("/", 1)[-1] for w in texts]
    pip = installs.installer(texts) == "pip"
    setup = next((i for i, n in enumerate(names) if n == "setup.py"), None)
    found = []
    if pip:
        for word in words:
            spec = word[0]
            if spec.startswith("-"):
                continue
            if _name(spec) in pypi or any(r in spec.lower() for r in repos) or (_name(spec) == "deepspeed" and forced):
                found.append(word)
            elif (spec in (".", "./") or (spec.startswith(("./", "/")) and not spec.endswith((".txt", ".whl")))) and (
                cloned or forced
            ):
                found.append(cloned[-1] if cloned else word)
    elif setup is not None and any(n in _SETUP for n in names[setup + 1 :]) and (cloned or forced):
        found.append(cloned[-1] if cloned else words[setup])
    return found


@rule("ML203")
def cuda_extension_build(stage: Stage, ctx: Ctx) -> Iterator[Finding]:
    build = ctx.file.build
    if build is None:
        return
    stages = list(reversed(chain(build, stage)))
    reference = stages[0].base.resolved
    base = None if stages[0].base.templated else image_cuda(reference, ctx.cuda)
    base = base if isinstance(base, Cuda) else None
    state = _Build(base, reference)
    runtime = (
        base is not None
        and base.flavor in ("runtime", "base")
        and base.origin.startswith(("nvidia/cuda tag", "pytorch/pytorch tag"))
    )
    for current, ins, variables in scoped(build, stage):
        if ins.keyword in ("ENV", "ARG"):
            state.read_env(ins)
        if ins.keyword != "RUN":
            continue
        cloned: list[Word] = []
        for words in commands(ins.args[ins.args_offset :]):
            texts = [w for w, _s, _e in words]
            if "git" in texts and "clone" in texts:
                cloned += [w for w in words if any(r in w[0].lower() for r in _known()[1])]
                continue
            state.read_command(words, variables)
            if current is not stage:
                continue
            for word, start, end in _extensions(words, cloned, state.switches):
                span = ins.span_of(start + ins.args_offset, end + ins.args_offset)
                yield from _judge(_label(word), span, state, reference if runtime and state.nvcc is None else None)


def _label(word: str) -> str:
    repo = re.search(r"github\.com[/:]([\w.-]+/[\w.-]+?)(?:\.git)?(?:[@#/]|$)", word)
    return repo[1] if repo else _name(word) or word


def _judge(what: str, span: Span, state: _Build, runtime_base: str | None) -> Iterator[Finding]:
    if runtime_base is not None:
        devel = re.sub(r"-(runtime|base)(?=-|$)", "-devel", runtime_base.split("@")[0])
        yield Finding.at(
            span,
            f"{what} compiles CUDA code with nvcc, but the base image {runtime_base} is a "
            "runtime image without nvcc or CUDA headers: the build fails (CUDA_HOME not set, "
            "nvcc not found)",
            fix=f"build it on {devel} (a builder stage) and copy the wheel into the runtime stage",
        )
        return
    nvcc, torch = state.nvcc, state.torch
    if nvcc is None or torch is None or not nvcc.version or not torch.version or nvcc.version[0] == torch.version[0]:
        return
    finding = Finding.at(
        span,
        f"{what} is compiled with nvcc of CUDA {versions.show(nvcc.version)} ({nvcc.origin}) "
        f"against torch built for CUDA {versions.show(torch.version)} ({torch.origin}); "
        "torch.utils.cpp_extension stops the build: 'The detected CUDA version "
        f"({versions.show(nvcc.version[:2])}) mismatches the version that was used to "
        f"compile PyTorch ({versions.show(torch.version[:2])})'",
        fix=f"install a torch wheel built for CUDA {nvcc.version[0]} (its +cuNNN variant or wheel "
        f"index), or build on a CUDA {torch.version[0]} -devel image",
    )
    yield finding
