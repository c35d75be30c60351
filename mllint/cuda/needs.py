"""What an image needs from the node: every CUDA its Dockerfile's stages ask for (base image through
`FROM <stage>` chains, ENV, install lines, requirements files), with the span that proves each."""

from __future__ import annotations

import re
from dataclasses import replace

from mllint import lazy_re
from mllint.cuda import images, installs, targets, versions
from mllint.cuda.images import Cuda, Unknown
from mllint.cuda.targets import CudaConfig
from mllint.model import ImageBuild, Instruction, Span, Stage, is_digits
from mllint.records import record
from mllint.stages import chain, env_pairs, scoped

ARCH_LIST_NAMES = ("TORCH_CUDA_ARCH_LIST", "CUDA_ARCH_LIST")
# What a COPY --from brings that runs on the CUDA of its stage: the toolkit, its cuda-compat libraries, CUDA libraries
_CUDA_FILES = lazy_re.compile(
    r"/usr/local/cuda|cuda[-_]compat|/compat\b|libcuda|libcudart|libcublas|libcudnn|libnccl", re.I
)


@record(frozen=True)
class Need:
    """A CUDA an image needs, and where the file says so."""

    cuda: Cuda
    span: Span
    what: str  # the image, for messages: "image nvcr.io/nvidia/pytorch:24.01-py3"


def image_cuda(reference: str, config: CudaConfig) -> Cuda | Unknown | None:
    """The CUDA of an image reference: the configuration's `images:` mapping first, then the tag."""
    configured = targets.image_cuda(reference, config)
    if configured is not None:
        return Cuda(versions.parse(configured) or (), f"the configured CUDA of {reference.split('@')[0]}")
    return images.resolve(reference)


def stage_needs(
    build: ImageBuild, stage: Stage, config: CudaConfig, copies: bool = True, _seen: frozenset[int] = frozenset()
) -> list[Need]:
    """Every CUDA the stage's image needs: its base image (through `FROM <stage>`), ENV and install lines, and,
    with `copies`, CUDA files a `COPY --from` brings from a CUDA stage (a distroless final stage that copies
    cuda-compat or CUDA libraries from a build stage needs that stage's CUDA)."""
    by_stage: dict[int, list[Need]] = {}
    what = f"the image built by {build.path}"
    for current, ins, variables in scoped(build, stage):
        needs = by_stage.setdefault(current.index, [])
        if ins.keyword == "ENV":
            for name, value, start, end in env_pairs(ins):
                cuda = installs.from_env(name, value)
                if cuda is not None:
                    needs.append(Need(cuda, ins.span_of(start, end), what))
        elif ins.keyword == "RUN":
            for ev in installs.from_run(ins.args[ins.args_offset :], variables):
                needs.append(Need(ev.cuda, ins.span_of(ev.start + ins.args_offset, ev.end + ins.args_offset), what))
        elif ins.keyword == "COPY" and copies and "from" in ins.flags:
            needs += _copied_needs(build, ins, config, _seen | {stage.index})
    out: list[Need] = []
    for current in chain(build, stage):  # the stage's own needs first
        out += by_stage.get(current.index, [])
        if current.base_stage is None:
            base = image_cuda(current.base.resolved, config)
            if isinstance(base, Cuda):
                out.append(Need(base, current.base.span, f"image {current.base.resolved}"))
    return out


def _copied_needs(build: ImageBuild, ins: Instruction, config: CudaConfig, seen: frozenset[int]) -> list[Need]:
    """The CUDA of the stage a `COPY --from=<stage>` copies CUDA files from, at the COPY line."""
    name = ins.flags["from"].text.lower()
    aliases = {s.alias.text.lower(): s for s in build.stages if s.alias}
    index = int(name) if is_digits(name) else None
    source = aliases.get(name) or (build.stages[index] if index is not None and index < len(build.stages) else None)
    if source is None or source.index in seen or not _CUDA_FILES.search(ins.args[ins.args_offset :]):
        return []
    best = strongest(stage_needs(build, source, config, True, seen))
    if best is None:
        return []
    origin = f"CUDA files copied from stage {ins.flags['from'].text}, on {best.cuda.origin}"
    return [Need(replace(best.cuda, origin=origin), ins.span, f"the image built by {build.path}")]


def requirement_files(build: ImageBuild, stage: Stage) -> list[tuple[str, Span]]:
    """The requirements files the stage's pip installs read (`-r file`), as written, with their spans."""
    out: list[tuple[str, Span]] = []
    for current in chain(build, stage):
        for ins in current.instructions:
            if ins.keyword != "RUN":
                continue
            for name, start, end in installs.requirement_refs(ins.args[ins.args_offset :]):
                out.append((name, ins.span_of(start + ins.args_offset, end + ins.args_offset)))
    return out


def strongest(needs: list[Need]) -> Need | None:
    """The need that asks for the newest CUDA (the one that decides the driver)."""
    return max(needs, key=lambda n: (n.cuda.version + (0, 0, 0))[:3], default=None)


def arch_list(build: ImageBuild, stage: Stage) -> tuple[str, Span] | None:
    """TORCH_CUDA_ARCH_LIST (or CUDA_ARCH_LIST) as the stage last sets it, with the value's span."""
    for current in chain(build, stage):
        for ins in reversed(current.instructions):
            if ins.keyword in ("ENV", "ARG"):
                for name, value, start, end in env_pairs(ins):
                    if name in ARCH_LIST_NAMES and value:
                        return value, ins.span_of(start, end)
    return None
