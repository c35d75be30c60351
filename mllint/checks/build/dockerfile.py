"""ML401–ML409: how an ML image is built: devel bases and compilers shipped to production, package
caches left in layers, stage references that do not resolve, and serving images without HEALTHCHECK."""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator

from mllint import lazy_re
from mllint.checks.build.fixes import append_to_run, compiles, flag_after, runtime_base
from mllint.checks.context import TRUE, Ctx, ProjectCtx
from mllint.model import Finding, Fix, ImageBuild, Instruction, Span, Stage, is_digits
from mllint.packages import LOCAL, Install, parse_install, pip_tool, run_installs, stage_installs
from mllint.pinfiles import read_requirements, referenced
from mllint.project import ProjectFacts
from mllint.registry import rule
from mllint.runs import ASSIGNMENT, Command, covers, mounts, run_commands
from mllint.sources.dockerfile import substitute
from mllint.stages import chain, dev_container, scoped, shipped

_DEVEL_REPOS = ("nvidia/cuda", "nvcr.io/nvidia/cuda", "pytorch/pytorch")


def _in_final_image(stage: Stage, ctx: Ctx) -> bool:
    build = ctx.file.build
    return build is not None and stage.index in shipped(build)


def _mounted_over(ins: Instruction, matches: Callable[[str], bool]) -> bool:
    """A `RUN --mount=type=cache` (or tmpfs) whose target `matches`: what is written there never enters a
    layer. Each mount is read on its own: a secret or bind mount keeps nothing out of the layer."""
    return any(m.type in ("cache", "tmpfs") and m.target and matches(m.target) for m in mounts(ins))


# -- ML401 ----------------------------------------------------------------------------------------------------------


_DEV_NAME = lazy_re.compile(r"(?:^|[._-])dev(?:[._-]|$)", re.I)  # Dockerfile.dev, Dockerfile_dev, dev.Dockerfile


def _compiles_at_run_time(build: ImageBuild, stage: Stage) -> bool:
    """DeepSpeed builds its CUDA ops with nvcc when a job first uses them, unless the install prebuilt them
    (DS_BUILD_OPS=1): the -devel image is what it runs on. Read from the stages' installs and clones and
    from the requirements files the build installs."""
    for _current, ins, variables in scoped(build, stage):
        if ins.keyword != "RUN":
            continue
        for command in run_commands(ins):
            env = {**variables, **_assignments(command)}
            if env.get("DS_BUILD_OPS", "").lower() in TRUE:
                continue
            install = parse_install(command.words, command.program()[1])
            if install is not None and any(p.name == "deepspeed" for p in install.packages):
                return True
            if command.program()[0] == "git" and any(
                re.search(r"^(?:\w+://|git@).*/DeepSpeed(?:\.git)?/?$", w, re.I) for w in command.texts
            ):
                return True
    folder = os.path.dirname(build.path)
    return any(
        item.package.name == "deepspeed"
        for kind, path, display in referenced(build, folder, folder)
        if kind == "requirements"
        for item in read_requirements(path, display)
    )


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
    if _DEV_NAME.search(os.path.basename(build.path)) or _compiles_at_run_time(build, stage):
        return  # a developer's image (`Dockerfile.dev`), or nvcc is needed when the job starts
    runtime = re.sub(r"(?<![A-Za-z])devel(?=-|$)", "runtime", image.tag)
    finding = Finding.at(
        image.span if root is stage else stage.span,
        f"the final image is built on {name}:{image.tag}, a -devel image with the CUDA compilers, headers "
        "and static libraries (several GB) that serving and training at run time do not need",
        fix=f"compile in a builder stage on {name}:{image.tag} and copy the results into a final stage "
        f"FROM {name}:{runtime}",
    )
    # unsafe: the image loses nvcc and the headers; offered only where no RUN of the stage compiles
    edit = runtime_base(ctx.file, image, image.tag, runtime) if root is stage and not compiles(stage) else None
    if edit is not None:
        finding.autofix = Fix(f"build FROM {name}:{runtime}", False, (edit,))
    yield finding


# -- ML402 ----------------------------------------------------------------------------------------------------------

_BUILD_TOOLS = lazy_re.compile(
    r"^(?:build-essential|gcc(?:-\d+)?|g\+\+(?:-\d+)?|clang(?:-\d+)?|gfortran|cmake|ninja-build|"
    r"make|autoconf|automake|libtool|cuda-nvcc(?:-[\d-]+)?|cuda-toolkit(?:-[\d-]+)?|"
    r"[a-z0-9.+-]+-dev(?:el)?|alpine-sdk|build-base|gcc-c\+\+|@development-tools|"
    r"\"?@?Development Tools\"?)(?:[=:].*)?$"
)


@rule("ML402")
def build_tools_in_final_stage(stage: Stage, ctx: Ctx) -> Iterator[Finding]:
    build = ctx.file.build
    if build is None or len(build.stages) != 1 or dev_container(build) or _jit_framework(stage):
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


# Frameworks that compile kernels when the model runs (Triton's launcher and torch.compile build C against the
# Python headers with the system compiler; DeepSpeed builds its ops on first use): their images need the tools.
_JIT_PACKAGES = lazy_re.compile(r"^(?:torch|triton|pytorch-triton|vllm|sglang|deepspeed|xformers|jax|jaxlib)$", re.I)
_JIT_BASE = lazy_re.compile(r"(?:^|/)(?:pytorch|vllm[\w-]*|sglang|deepspeed[\w-]*|jax[\w-]*|tritonserver)$", re.I)


def _jit_framework(stage: Stage) -> bool:
    """The image runs a framework that compiles at run time: compilers in it are not left over from the build."""
    if _JIT_BASE.search(stage.base.repository or ""):
        return True
    return any(
        _JIT_PACKAGES.match(package.name or "")
        for _command, install in stage_installs(stage)
        if install.manager == "pip"
        for package in install.packages
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
_HEAVY = lazy_re.compile(
    r"^(?:torch|torchvision|torchaudio|tensorflow(?:-gpu|-cpu)?|tf-nightly|jax|jaxlib|vllm|sglang|xformers|"
    r"flash-attn|tensorrt(?:-[\w-]+)?|nvidia-[\w-]+-cu\d+|cupy-cuda\w+|onnxruntime-gpu|paddlepaddle-gpu|"
    r"mxnet-cu\w+|triton|bitsandbytes)$"
)


def _assignments(command: Command) -> dict[str, str]:
    """`NAME=value` words before the program (`PIP_NO_CACHE_DIR=1 pip install`, `env A=b pip ...`), and the
    variables an `export NAME=value` command sets for the commands after it."""
    name, at = command.program()
    words = command.texts[1:] if name == "export" else command.texts[:at]
    return {k: v for k, _eq, v in (w.partition("=") for w in words if ASSIGNMENT.match(w))}


def _cache_dir(install: Install, env: dict[str, str], uv: bool) -> str | None:
    """The cache folder the install writes to when one is set (`--cache-dir`, PIP_CACHE_DIR, UV_CACHE_DIR,
    XDG_CACHE_HOME); None for the default, `~/.cache/pip` or `~/.cache/uv` of the user that runs it."""
    flag = install.flags.get("--cache-dir")
    if flag is not None and flag[0] != "--cache-dir":
        return flag[0]
    named = env.get("UV_CACHE_DIR" if uv else "PIP_CACHE_DIR")
    if named:
        return named
    xdg = env.get("XDG_CACHE_HOME")
    return f"{xdg.rstrip('/')}/{'uv' if uv else 'pip'}" if xdg else None


def _home(path: str, env: dict[str, str]) -> str:
    home = env.get("HOME", "/root")
    return re.sub(r"^(?:~|\$HOME|\$\{HOME\})(?=/|$)", home, path)


def _default_cache(path: str, uv: bool) -> bool:
    """Whether `path` holds the default cache of pip (or uv) of a user: `/root/.cache`, `/home/x/.cache/pip`."""
    return bool(re.search(rf"(?:^|/)\.cache(?:/{'uv' if uv else 'pip'})?/?$", path)) or path.rstrip("/") in (
        "/root",
        "",
    )


def _cache_mounted(ins: Instruction, cache: str | None, uv: bool, env: dict[str, str]) -> bool:
    """A cache or tmpfs mount over the cache folder: what the install caches never enters the layer."""
    for mount in mounts(ins):
        if mount.type not in ("cache", "tmpfs") or not mount.target:
            continue
        target = _home(substitute(mount.target, dict(env))[0], env)
        if cache is not None:
            if covers(target, _home(cache, env)):
                return True
        elif covers(target, f"{env.get('HOME', '/root')}/.cache/{'uv' if uv else 'pip'}") or (
            target.startswith("/") and _default_cache(target, uv)
        ):
            return True
    return False


def _cache_off(install: Install, env: dict[str, str], uv: bool) -> bool:
    if uv:
        return bool({"--no-cache", "--no-cache-dir", "-n"} & install.flags.keys()) or (
            env.get("UV_NO_CACHE", "").lower() in TRUE
        )
    # pip turns the cache off for any value of PIP_NO_CACHE_DIR, "false" and "0" included
    return any(f.startswith("--no-cache") for f in install.flags) or bool(env.get("PIP_NO_CACHE_DIR"))


def _downloads_nothing(install: Install, env: dict[str, str], uv: bool) -> bool:
    """Nothing is downloaded (`--no-index`, `--offline`, local files with `--no-deps`), or only pip and its
    build tools (a few MB)."""
    if not install.packages and not install.requirements:
        return True
    if "--no-index" in install.flags or "--offline" in install.flags or (not uv and env.get("PIP_NO_INDEX")):
        return True
    if install.requirements:
        return False
    if all(p.name in _SELF_UPGRADE for p in install.packages if p.pin != LOCAL) and not any(
        p.pin == LOCAL for p in install.packages
    ):
        return True
    return "--no-deps" in install.flags and all(p.pin == LOCAL for p in install.packages)


def _cache_cleaned(found: list[Command], caches: list[str]) -> bool:
    """`pip cache purge`, `uv cache clean`, or `rm -rf` of the cache in the same RUN."""
    for command in found:
        texts = command.texts
        name, at = command.program()
        if "cache" in texts[at + 1 : at + 3] and any(w in texts for w in ("purge", "clean", "prune", "remove")):
            return True
        if name == "rm" and any(
            ".cache" in w or any(covers(w.rstrip("*"), c) for c in caches) for w in texts[at + 1 :]
        ):
            return True
    return False


@rule("ML403")
def pip_cache_kept(stage: Stage, ctx: Ctx) -> Iterator[Finding]:
    build = ctx.file.build
    if build is None or not _in_final_image(stage, ctx):
        return
    user = "root"
    for current, ins, variables in scoped(build, stage):
        if ins.keyword == "USER":
            user = ins.args[ins.args_offset :].strip().split(":")[0] or "root"
        if current is not stage or ins.keyword != "RUN":
            continue
        found = list(run_commands(ins))
        # the cache is in the home of the user the RUN runs as: /root, or a home this file does not name
        exported = {"HOME": "/root" if user in ("root", "0") else "~", **variables}
        kept: list[tuple[Command, Install, str]] = []
        for command in found:
            inline = _assignments(command)
            if command.program()[0] == "export":
                exported.update(inline)
                continue
            install = parse_install(command.words, command.program()[1])
            if install is None or install.manager != "pip":
                continue
            env = {**exported, **inline}
            uv = install.tool_name == "uv"
            if _downloads_nothing(install, env, uv) or _cache_off(install, env, uv):
                continue
            cache = _cache_dir(install, env, uv)
            if _cache_mounted(ins, cache, uv, env):
                continue
            shown = _home(cache, env) if cache else f"{env.get('HOME', '/root')}/.cache/{'uv' if uv else 'pip'}"
            kept.append((command, install, shown))
        if not kept or _cache_cleaned(found, [c for _cmd, _i, c in kept]):
            continue
        command, install, cache = kept[0]
        heavy = next(
            (p.name for _c, i, _d in kept for p in i.packages if _HEAVY.match(p.name)),
            None,
        )
        size = f"; {heavy}'s wheels alone are hundreds of MB" if heavy else ""
        others = sorted({c.span(i.tool).line for c, i, _d in kept[1:]})
        more = (
            f" (and {len(kept) - 1} more install{'s' if len(kept) > 2 else ''} in this RUN, "
            f"line{'s' if len(others) > 1 else ''} {', '.join(map(str, others))})"
            if others
            else ""
        )
        tools = dict.fromkeys(i.tool_name == "uv" for _c, i, _d in kept)
        flags = " and ".join(
            ("--no-cache to uv" if u else "--no-cache-dir to pip")
            if len(tools) > 1
            else ("--no-cache" if u else "--no-cache-dir")
            for u in tools
        )
        names = " and ".join("UV_NO_CACHE=1" if u else "PIP_NO_CACHE_DIR=1" for u in tools)
        caches = " ".join(f"--mount=type=cache,target={d}" for d in dict.fromkeys(d for _c, _i, d in kept))
        finding = Finding.at(
            command.span(install.tool),
            f"{pip_tool(command)} install keeps the packages it downloads in its cache ({cache}) inside "
            f"this layer{size}{more}",
            fix=f"add {flags}, set ENV {names}, or use RUN {caches}",
        )
        edits = [
            flag_after(ctx.file, c, ("install", "add"), "--no-cache" if i.tool_name == "uv" else "--no-cache-dir")
            for c, i, _d in kept
        ]
        if all(e is not None for e in edits):
            finding.autofix = Fix(f"add {flags}", True, tuple(e for e in edits if e is not None))
        yield finding


@rule("ML404")
def apt_lists_kept(stage: Stage, ctx: Ctx) -> Iterator[Finding]:
    if not _in_final_image(stage, ctx):
        return
    for ins in stage.instructions:
        if ins.keyword != "RUN" or _mounted_over(ins, lambda target: covers(target, "/var/lib/apt/lists")):
            continue
        found = list(run_commands(ins))
        update = next(
            (
                c
                for c in found
                if c.program()[0] in ("apt-get", "apt", "aptitude") and "update" in c.texts[c.program()[1] + 1 :]
            ),
            None,
        )
        if update is None or any(
            c.program()[0] == "rm" and any("/var/lib/apt/lists" in w for w in c.texts) for c in found
        ):
            continue
        tool = update.words[update.program()[1]]
        finding = Finding.at(
            update.span(tool),
            f"{tool[0].rsplit('/', 1)[-1]} update writes the package lists into this layer (tens of MB) "
            "and this RUN does not remove them; removing them in a later RUN does not shrink the image",
            fix="install in the same RUN and end it with `&& rm -rf /var/lib/apt/lists/*`",
        )
        # not when a later RUN runs apt: an install without its own update would need the lists
        edit = None if _apt_later(ctx.file.build, ins) else append_to_run(ctx.file, ins, "rm -rf /var/lib/apt/lists/*")
        if edit is not None:
            finding.autofix = Fix("end the RUN with `&& rm -rf /var/lib/apt/lists/*`", True, (edit,))
        yield finding


_APT = frozenset({"apt-get", "apt", "aptitude"})


def _apt_later(build: ImageBuild | None, ins: Instruction) -> bool:
    """Whether a RUN after `ins` (in any stage) runs apt, apt-get or aptitude: it may read the lists."""
    if build is None:
        return True
    runs = [i for stage in build.stages for i in stage.instructions if i.keyword == "RUN"]
    after = runs[next((n for n, i in enumerate(runs) if i is ins), len(runs)) + 1 :]
    return any(c.program()[0] in _APT for i in after for c in run_commands(i))


def _conda_cache(target: str) -> bool:
    """A folder that holds conda's or mamba's package cache: `/opt/conda/pkgs`, `~/.cache/mamba`."""
    return bool(re.search(r"/pkgs/?$|(?:^|/)\.cache(?:/mamba)?/?$", target)) or covers(target, "/root/.cache/mamba")


@rule("ML405")
def conda_cache_kept(stage: Stage, ctx: Ctx) -> Iterator[Finding]:
    if not _in_final_image(stage, ctx):
        return
    for found, command, install in run_installs(stage):
        ins = command.ins
        if install.manager != "conda" or _mounted_over(ins, _conda_cache):
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
        if install.tool_name == "aptitude" and any(
            f == "--without-recommends" or (not f.startswith("--") and "R" in f) for f in install.flags
        ):
            continue  # aptitude's `-R`, alone or grouped (`-yR`)
        if any("Install-Recommends" in w for w in command.texts):
            continue
        finding = Finding.at(
            command.span(install.tool),
            f"{install.tool_name} install also installs recommended packages (X11 "
            "libraries, documentation, sometimes a second Python)",
            fix="add -R (--without-recommends)" if install.tool_name == "aptitude" else "add --no-install-recommends",
        )
        flag = "--without-recommends" if install.tool_name == "aptitude" else "--no-install-recommends"
        edit = flag_after(ctx.file, command, ("install",), flag)
        if edit is not None:  # unsafe: a recommended package the image relies on would no longer be installed
            finding.autofix = Fix(f"add {flag}", False, (edit,))
        yield finding


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
    if is_digits(name):
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
            what = f"stage {target.index}" if is_digits(name) else f"stage {name!r}"
            whose = (
                "this stage itself"
                if target is stage
                else f"{what} (line {target.span.line}), which depends on this stage"
            )
            return f"--from={name} names {whose}: BuildKit stops with 'circular dependency detected'", None
        return None
    if is_digits(name):
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
            f"the image starts a model server (`{server}`) but declares no HEALTHCHECK{run_by}: Docker and "
            "Compose cannot tell a server that is still loading its model (or hung) from a healthy one",
            fix="add HEALTHCHECK --start-period=<model load time> CMD curl -fsS "
            "http://localhost:<port>/<health path> || exit 1",
        )
