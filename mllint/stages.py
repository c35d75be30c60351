"""Facts about Dockerfile stages that several rule families read: the chain of stages a stage builds
FROM, the variables ENV and ARG set, and which stages end up in the final image."""

from __future__ import annotations

from collections.abc import Iterator

from mllint import lazy_re
from mllint.model import ImageBuild, Instruction, Stage
from mllint.sources.dockerfile import substitute, unquote

_ENV_PAIR = lazy_re.compile(r"([A-Za-z_][A-Za-z0-9_]*)=(\"(?:[^\"\\]|\\.)*\"|'[^']*'|\S*)")
_ARG_ITEM = lazy_re.compile(r"([A-Za-z_][A-Za-z0-9_]*)(=(?:\"(?:[^\"\\]|\\.)*\"|'[^']*'|\S*))?")


def env_pairs(ins: Instruction) -> Iterator[tuple[str, str, int, int]]:
    """(name, value, start, end) of each variable an ENV or ARG instruction sets; offsets into `ins.args`."""
    text = ins.args[ins.args_offset :]
    base = ins.args_offset
    parts = text.split(None, 1)
    if not parts:
        return
    if "=" not in parts[0]:  # the legacy form `ENV NAME value with spaces`
        if len(parts) == 2:
            start = base + text.index(parts[1], len(parts[0]))
            yield parts[0], parts[1].strip(), start, start + len(parts[1].rstrip())
        return
    for match in _ENV_PAIR.finditer(text):
        yield match[1], unquote(match[2]), base + match.start(2), base + match.end(2)


def chain(build: ImageBuild, stage: Stage) -> list[Stage]:
    """The stage and the stages it builds FROM, nearest first."""
    out, seen = [stage], {stage.index}
    while out[-1].base_stage is not None and out[-1].base_stage not in seen:
        seen.add(out[-1].base_stage)
        out.append(build.stages[out[-1].base_stage])
    return out


def dev_container(build: ImageBuild) -> bool:
    """A Dockerfile of a Dev Containers workspace (`.devcontainer/`): a developer's machine, with its
    compilers and root shell on purpose, not an image that ships."""
    return ".devcontainer" in build.path.replace("\\", "/").split("/")


def shipped(build: ImageBuild) -> set[int]:
    """Indexes of the stages whose layers are in the final image: the final stage and the stages it
    builds FROM (not builder stages it only copies from). None for a dev container."""
    final = build.final_stage
    return {s.index for s in chain(build, final)} if final is not None and not dev_container(build) else set()


def environment(build: ImageBuild, stage: Stage) -> dict[str, str]:
    """The ENV variables a stage's RUN lines see (from its chain of stages, last value wins)."""
    out: dict[str, str] = {}
    for current in reversed(chain(build, stage)):
        for ins in current.instructions:
            if ins.keyword == "ENV":
                for name, value, _start, _end in env_pairs(ins):
                    out[name] = value
    return out


def scoped(build: ImageBuild, stage: Stage) -> Iterator[tuple[Stage, Instruction, dict[str, str]]]:
    """Each instruction of the stage and of the stages it builds FROM (the first of them first), with the
    variables in effect there, as its RUN lines see them: ENV values (which the stages built FROM a stage
    inherit) over ARG defaults (a stage's own, or the global default an `ARG NAME` declares again; ARGs
    end with their stage). A build argument can override an ARG default; the default is what a build
    without --build-arg gets."""
    env: dict[str, str] = {}
    for current in reversed(chain(build, stage)):
        args: dict[str, str] = {}
        for ins in current.instructions:
            seen = {**args, **env}
            yield current, ins, seen
            if ins.keyword == "ARG":
                for match in _ARG_ITEM.finditer(ins.args[ins.args_offset :]):
                    if match[2] is not None:
                        args[match[1]] = substitute(unquote(match[2][1:]), dict(seen))[0]
                    elif build.global_args.get(match[1]) is not None:
                        args[match[1]] = build.global_args[match[1]] or ""
            elif ins.keyword == "ENV":
                for name, value, _start, _end in env_pairs(ins):
                    env[name] = substitute(value, dict(seen))[0]  # Docker reads the values before this ENV
