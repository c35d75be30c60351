"""ML401–ML409: how an ML image is built: devel bases and compilers shipped to production, package
caches left in layers, stage references that do not resolve, and serving images without HEALTHCHECK."""

from __future__ import annotations

import re
from collections.abc import Iterator

from mllint.checks.context import TRUE, Ctx, ProjectCtx
from mllint.model import Finding, ImageBuild, Instruction, Span, Stage
from mllint.packages import pip_tool, run_installs, stage_installs
from mllint.project import ProjectFacts
from mllint.registry import rule
from mllint.runs import run_commands
from mllint.stages import chain, dev_container, environment, shipped

_DEVEL_REPOS = ("nvidia/cuda", "nvcr.io/nvidia/cuda", "pytorch/pytorch")


def _in_final_image(stage: Stage, ctx: Ctx) -> bool:
    build = ctx.file.build
    return build is not None and stage.index in shipped(build)


def _cache_mount(ins: Instruction, *targets: str) -> bool:
    """`RUN --mount=type=cache,target=...` on one of the cache folders: the cache never enters a layer."""
    flags = ins.args[: ins.args_offset]
    return "type=cache" in flags and any(t in flags for t in targets)


# -- ML401 ----------------------------------------------------------------------------------------------------------


@rule("ML401")
def devel_image_final_stage(stage: Stage, ctx: Ctx) -> Iterator[Finding]:
    build = ctx.file.build
    if build is None or stage is not build.final_stage or dev_container(build):
        return
    root = chain(build, stage)[-1]
    image = root.base
    name = (
        f"{image.registry}/{image.repository}" if image.registry and image.registry != "docker.io" else image.repository
    )
    if image.templated or name not in _DEVEL_REPOS or not image.tag or not re.search(r"(?:^|-)devel(?:-|$)", image.tag):
        return
    runtime = re.sub(r"(?<![A-Za-z])devel(?=-|$)", "runtime", image.tag)
    yield Finding.at(
        image.span if root is stage else stage.span,
        f"the final image is built on {name}:{image.tag}, a -devel image with the CUDA compilers, headers "
        "and static libraries (several GB) that serving and training at run time do not need",
        fix=f"compile in a builder stage on {name}:{image.tag} and copy the results into a final stage "
        f"FROM {name}:{runtime}",
    )


# -- ML402 ----------------------------------------------------------------------------------------------------------

_BUILD_TOOLS = re.compile(
    r"^(?:build-essential|gcc(?:-\d+)?|g\+\+(?:-\d+)?|clang(?:-\d+)?|gfortran|cmake|ninja-build|"
    r"make|autoconf|automake|libtool|cuda-nvcc(?:-[\d-]+)?|cuda-toolkit(?:-[\d-]+)?|"
    r"[a-z0-9.+-]+-dev(?:el)?|alpine-sdk|build-base|gcc-c\+\+|@development-tools|"
    r"\"?@?Development Tools\"?)(?:[=:].*)?$"
)


@rule("ML402")
def build_tools_in_final_stage(stage: Stage, ctx: Ctx) -> Iterator[Finding]:
    build = ctx.file.build
    if build is None or len(build.stages) != 1 or dev_container(build):
        return
    purged = _purged(stage)
    for command, install in stage_installs(stage):
        if install.manager not in ("apt", "apk", "dnf", "zypper"):
            continue
        tools = [p for p in install.packages if _BUILD_TOOLS.match(p.word[0]) and p.name not in purged]
        for package in tools[:1]:  # one finding per install line: the first compiler names the problem
            others = f" and {len(tools) - 1} more" if len(tools) > 1 else ""
            yield Finding.at(
                command.span(package.word),
                f"{package.word[0]}{others} {'stay' if others else 'stays'} in the image that runs: "
                "compilers and headers are only needed to build wheels and extensions",
                fix="build in a first stage (FROM ... AS build), then COPY --from=build only the built "
                "wheels or the virtualenv into a clean final stage",
            )


def _purged(stage: Stage) -> set[str]:
    """Packages a later `apt-get purge/remove` or `apk del` takes out again."""
    out: set[str] = set()
    for ins in stage.instructions:
        if ins.keyword != "RUN":
            continue
        for command in run_commands(ins):
            names = command.names
            if any(n in ("purge", "remove", "del", "autoremove", "erase") for n in names[1:3]):
                out.update(n.split("=")[0] for n in command.texts if not n.startswith("-"))
    return out


# -- ML403–ML406: caches left in layers ---------------------------------------------------------------------------


_SELF_UPGRADE = frozenset({"pip", "setuptools", "wheel", "uv"})


@rule("ML403")
def pip_cache_kept(stage: Stage, ctx: Ctx) -> Iterator[Finding]:
    build = ctx.file.build
    if build is None or not _in_final_image(stage, ctx):
        return
    env = environment(build, stage)
    pip_off = bool(env.get("PIP_NO_CACHE_DIR"))  # pip turns the cache off for any value, "false" and "0" included
    uv_off = env.get("UV_NO_CACHE", "").lower() in TRUE
    for found, command, install in run_installs(stage):
        ins = command.ins
        if install.manager != "pip" or (not install.packages and not install.requirements):
            continue
        if (
            "--no-index" in install.flags
            or env.get("PIP_NO_INDEX")
            or (not install.requirements and all(p.name in _SELF_UPGRADE for p in install.packages))
        ):
            continue  # nothing is downloaded, or only pip and its build tools (a few MB)
        uv = install.tool_name == "uv"
        if uv and (uv_off or "--no-cache" in install.flags or _cache_mount(ins, "/.cache/uv", "/root/.cache")):
            continue
        if not uv and (
            pip_off
            or any(f.startswith("--no-cache") for f in install.flags)
            or _cache_mount(ins, "/.cache/pip", "/root/.cache")
        ):
            continue
        if any(
            ("cache" in c.texts and "purge" in c.texts)
            or (c.program()[0] == "rm" and any(".cache" in w for w in c.texts))
            for c in found
        ):
            continue
        flag = "--no-cache" if uv else "--no-cache-dir"
        yield Finding.at(
            command.span(install.tool),
            f"{pip_tool(command)} install keeps its download cache in the layer "
            "(hundreds of MB for torch and CUDA wheels)",
            fix=f"add {flag}, set ENV {'UV_NO_CACHE' if uv else 'PIP_NO_CACHE_DIR'}=1, or use "
            f"RUN --mount=type=cache,target=/root/.cache/{'uv' if uv else 'pip'}",
        )


@rule("ML404")
def apt_lists_kept(stage: Stage, ctx: Ctx) -> Iterator[Finding]:
    if not _in_final_image(stage, ctx):
        return
    for ins in stage.instructions:
        if ins.keyword != "RUN" or _cache_mount(ins, "/var/lib/apt"):
            continue
        found = list(run_commands(ins))
        update = next(
            (c for c in found if c.program()[0] in ("apt-get", "apt") and "update" in c.texts[c.program()[1] + 1 :]),
            None,
        )
        if update is None or any(
            c.program()[0] == "rm" and any("/var/lib/apt/lists" in w for w in c.texts) for c in found
        ):
            continue
        tool = update.words[update.program()[1]]
        yield Finding.at(
            update.span(tool),
            f"{tool[0].rsplit('/', 1)[-1]} update writes the package lists into this layer (tens of MB) "
            "and this RUN does not remove them; removing them in a later RUN does not shrink the image",
            fix="install in the same RUN and end it with `&& rm -rf /var/lib/apt/lists/*`",
        )


@rule("ML405")
def conda_cache_kept(stage: Stage, ctx: Ctx) -> Iterator[Finding]:
    if not _in_final_image(stage, ctx):
        return
    for found, command, install in run_installs(stage):
        ins = command.ins
        if install.manager != "conda" or _cache_mount(ins, "/pkgs", "/.cache/mamba", "/root/.cache"):
            continue
        if any(c.program()[0] in ("conda", "mamba", "micromamba") and "clean" in c.texts for c in found) or any(
            c.program()[0] == "rm" and any("pkgs" in w for w in c.texts) for c in found
        ):
            continue
        tool = install.tool_name
        yield Finding.at(
            command.span(install.tool),
            f"{tool} keeps the package tarballs and index cache in the layer (often GBs with pytorch and cudatoolkit)",
            fix=f"end the same RUN with `&& {tool} clean --all --yes`",
        )


@rule("ML406")
def apt_install_recommends(stage: Stage, ctx: Ctx) -> Iterator[Finding]:
    if not _in_final_image(stage, ctx):
        return
    for _found, command, install in run_installs(stage):
        if install.manager != "apt" or "--no-install-recommends" in install.flags:
            continue
        if any("Install-Recommends" in w for w in command.texts):
            continue
        yield Finding.at(
            command.span(install.tool),
            f"{install.tool_name} install also installs recommended packages (X11 "
            "libraries, documentation, sometimes a second Python)",
            fix="add --no-install-recommends",
        )


# -- ML407, ML408: stage references -------------------------------------------------------------------------------


def _aliases(build: ImageBuild) -> dict[str, list[Stage]]:
    out: dict[str, list[Stage]] = {}
    for stage in build.stages:
        if stage.alias is not None:
            out.setdefault(stage.alias.text.lower(), []).append(stage)
    return out


def _stage_refs(stage: Stage) -> Iterator[tuple[str, Span]]:
    """The stage or image names a stage reads from: COPY/ADD --from and RUN --mount=...,from=."""
    for ins in stage.instructions:
        if ins.keyword in ("COPY", "ADD") and "from" in ins.flags:
            yield ins.flags["from"].text, ins.flags["from"].span
        if ins.keyword == "RUN":
            for m in re.finditer(r"from=([^,\s]+)", ins.args[: ins.args_offset]):
                yield m[1], ins.span_of(m.start(1), m.end(1))


def _stage_named(name: str, aliases: dict[str, list[Stage]], build: ImageBuild) -> Stage | None:
    if name.isdigit():
        return build.stages[int(name)] if int(name) < len(build.stages) else None
    defined = aliases.get(name.lower())
    return defined[0] if defined else None


def _reaches(build: ImageBuild, start: Stage, goal: Stage, aliases: dict[str, list[Stage]]) -> bool:
    """Whether `start` depends on `goal` through FROM and --from edges: BuildKit's circular dependency."""
    seen, todo = set(), [start]
    while todo:
        current = todo.pop()
        if current is goal:
            return True
        if current.index in seen:
            continue
        seen.add(current.index)
        if current.base_stage is not None:
            todo.append(build.stages[current.base_stage])
        todo += [s for name, _span in _stage_refs(current) if (s := _stage_named(name, aliases, build)) is not None]
    return False


@rule("ML407")
def unknown_stage_reference(stage: Stage, ctx: Ctx) -> Iterator[Finding]:
    build = ctx.file.build
    if build is None:
        return
    aliases = _aliases(build)
    contexts = {c.lower() for c in ctx.params.build_contexts}
    for name, span in _stage_refs(stage):
        if "$" in name or name.lower() in contexts:
            continue
        problem = _stage_problem(name, stage, aliases, build)
        if problem is not None:
            yield Finding.at(
                span,
                problem[0],
                fix="name a stage defined above (FROM ... AS <name>), or a full image reference with a tag",
                severity=problem[1] or "",
            )
    if stage.base_stage is None and stage.base.resolved.lower() in aliases:
        later = aliases[stage.base.resolved.lower()][0]
        yield Finding.at(
            stage.base.span,
            f"FROM {stage.base.resolved} names a stage defined later (line "
            f"{later.span.line}); Docker pulls an image of that name instead",
            fix="move this stage below the one it builds on",
        )


def _stage_problem(
    name: str, stage: Stage, aliases: dict[str, list[Stage]], build: ImageBuild
) -> tuple[str, str | None] | None:
    """(message, severity when lower than the rule's) for a --from that does not name a stage it can read.
    BuildKit resolves --from to a stage defined later too, unless the stages then depend on each other."""
    target = _stage_named(name, aliases, build)
    if target is not None:
        if _reaches(build, target, stage, aliases):
            what = f"stage {target.index}" if name.isdigit() else f"stage {name!r}"
            whose = (
                "this stage itself"
                if target is stage
                else f"{what} (line {target.span.line}), which depends on this stage"
            )
            return f"--from={name} names {whose}: BuildKit stops with 'circular dependency detected'", None
        return None
    if name.isdigit():
        return f"--from={name} names stage {name}, but the Dockerfile has {len(build.stages)} stages", None
    if "/" in name or ":" in name or "@" in name:
        return None  # an image reference
    import difflib  # only for a --from that names nothing: most scans never get here

    close = difflib.get_close_matches(name.lower(), list(aliases), n=1, cutoff=0.75)
    if close:
        return (
            f"--from={name} is not a stage of this Dockerfile: did you mean {close[0]!r} (line "
            f"{aliases[close[0]][0].span.line})? As written, Docker looks for an image named {name!r}"
        ), None
    known = ", ".join(sorted(aliases)) or "none"
    return (
        f"--from={name} is not a stage of this Dockerfile (stages: {known}): unless the build passes a named "
        f"context (`--build-context {name}=...`, Compose `additional_contexts`), Docker pulls the image "
        f"{name!r}:latest from Docker Hub"
    ), "note"


@rule("ML408")
def duplicate_stage_alias(stage: Stage, ctx: Ctx) -> Iterator[Finding]:
    build = ctx.file.build
    if build is None or stage.alias is None:
        return
    same = _aliases(build)[stage.alias.text.lower()]
    if len(same) > 1 and same[0] is not stage:
        yield Finding.at(
            stage.alias.span,
            f"stage name {stage.alias.text!r} is already used by the stage on line "
            f"{same[0].span.line}: --from and FROM cannot tell them apart (Docker's build check "
            "DuplicateStageName is an error)",
            fix="give each stage its own name",
        )


# -- ML409 ----------------------------------------------------------------------------------------------------------


@rule("ML409")
def serving_image_without_healthcheck(project: ProjectFacts, ctx: ProjectCtx) -> Iterator[Finding]:
    for build in project.builds:
        if build.server is None or build.healthcheck:
            continue
        uses = project.uses_by_dockerfile.get(build.key, [])
        if any(use.kubernetes for use in uses):
            continue  # Kubernetes probes the container instead
        server, span = build.server
        run_by = f"; run by {uses[0].who}" if uses else ""
        yield Finding.at(
            span,
            f"the image runs {server} but declares no HEALTHCHECK{run_by}: Docker and Compose "
            "cannot tell a server that is still loading its model (or hung) from a healthy one",
            fix="add HEALTHCHECK --start-period=<model load time> CMD curl -fsS "
            "http://localhost:<port>/<health path> || exit 1",
        )
