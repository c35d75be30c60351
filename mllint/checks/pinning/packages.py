"""ML303–ML306: packages installed without a fixed version (pip, uv, pipx; VCS and URL installs; conda;
distribution packages), on RUN lines and in the requirements and environment files the build reads."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator

from mllint import lazy_re
from mllint.checks.context import Ctx, ProjectCtx
from mllint.checks.pinning.fixes import pin_from
from mllint.model import Finding, ImageBuild, Span, Stage
from mllint.packages import (
    BARE,
    EXACT,
    RANGE,
    URL_FLOATING,
    VCS_FLOATING,
    WILDCARD,
    Package,
    constrained,
    mask_credentials,
    pip_tool,
    stage_installs,
)
from mllint.pinfiles import ListedPackage, read_environment, read_requirements
from mllint.project import ProjectFacts
from mllint.registry import rule
from mllint.stages import chain, environment

_LOOSE = {RANGE: "a range", WILDCARD: "a wildcard pin"}


_CAP = lazy_re.compile(r"^[^<>=!~]*(?:\s*,?\s*<=?\s*[\w.*+!-]+)+\s*$")  # only upper bounds: `cmake<3.25`, `x<=2,<3`


def _moves(written: str) -> str:
    """What a loose specifier leaves open: a cap takes any new release below it, a range any new release."""
    if _CAP.match(written.split(";")[0]):  # environment markers aside
        return "only capped, so any new release below the cap (a patch release too) changes what is installed"
    return "the version still moves with every new release"


def _pin_finding(package: Package, span: Span, manager: str, where: str) -> Finding | None:
    """A finding for a package that is not pinned exactly; None when it is."""
    written = package.word[0]
    if package.pin == BARE:
        example = f"{package.name}==<version>" if manager == "pip" else f"{package.name}=<version>"
        return Finding.at(
            span,
            f"{where} installs {written!r} without a version: every build resolves the "
            "newest release, so two builds of one commit can differ",
            fix=f"pin it ({example}; `pip freeze` or `conda list` shows the version that works), or "
            "install from a lock or constraints file",
        )
    if package.pin in _LOOSE:
        return Finding.at(
            span,
            f"{where} installs {written!r}, {_LOOSE[package.pin]}: {_moves(written)}",
            fix=f"pin one version ({package.name}==<version>)",
            severity="note",
        )
    return None


@rule("ML303")
def pip_unpinned(target: Stage | ProjectFacts, ctx: Ctx | ProjectCtx) -> Iterator[Finding]:
    exempt = {e.lower() for e in ctx.params.exempt}
    if isinstance(target, ProjectFacts):
        yield from _listed_files(target, "requirements", exempt)
        return
    assert isinstance(ctx, Ctx)
    build = ctx.file.build
    if build is None:
        return
    env = environment(build, target)
    pinned = _earlier_pins(build, target)
    for command, install in stage_installs(target):
        if install.manager not in ("pip", "pipx"):
            continue
        tool = pip_tool(command)
        for package in install.packages:
            if package.name in exempt or package.pin not in (BARE, RANGE, WILDCARD):
                if package.pin == EXACT:
                    pinned.setdefault(package.name, (package.word[0], command.span(package.word)))
                continue
            if install.upgrade is not None and package.name in pinned:
                earlier, where = pinned[package.name]
                yield Finding.at(
                    command.span(package.word),
                    f"{tool} install --upgrade {package.word[0]!r} replaces the pinned {earlier} "
                    f"(line {where.line}) with the newest release",
                    fix=f"drop --upgrade, or pin the new version ({package.name}==<version>)",
                )
                continue
            raw = command.raw(package.word)
            redirect = re.search(r"[<>]", raw)
            if command.shell and redirect and not re.search(r"[\"'\\]", raw):
                yield Finding.at(
                    command.span(package.word),
                    f"{raw!r} is not quoted: the shell reads `{raw[redirect.start() :]}` as "
                    f"a redirection, so {tool} installs {package.name!r} without any version and writes "
                    "its output to a file",
                    fix=f'quote the requirement: "{raw}"',
                )
                continue
            if constrained(install, env):
                continue
            finding = _pin_finding(package, command.span(package.word), "pip", tool)
            if finding is not None:
                if ctx.params.pins and command.shell:
                    finding.autofix = pin_from(ctx.file, command, package, ctx.params.pins)
                yield finding


def _earlier_pins(build: ImageBuild, stage: Stage) -> dict[str, tuple[str, Span]]:
    """Exact pins the stages this one builds FROM made: `pip install -U` of one of them undoes it."""
    out: dict[str, tuple[str, Span]] = {}
    for earlier in reversed(chain(build, stage)[1:]):
        for command, install in stage_installs(earlier):
            for package in install.packages:
                if package.pin == EXACT and install.manager == "pip":
                    out[package.name] = (package.word[0], command.span(package.word))
    return out


@rule("ML304")
def vcs_install_unpinned(stage: Stage, ctx: Ctx) -> Iterator[Finding]:
    for command, install in stage_installs(stage):
        if install.manager not in ("pip", "pipx"):
            continue
        for package in install.packages:
            shown = mask_credentials(package.word[0])
            if package.pin == VCS_FLOATING:
                ref = f"branch or ref {package.specifier!r}" if package.specifier else "its default branch"
                yield Finding.at(
                    command.span(package.word),
                    f"{shown} installs from {ref}, which moves with every push",
                    fix="append @<commit sha> (or a release tag) to the URL",
                )
            elif package.pin == URL_FLOATING:
                yield Finding.at(
                    command.span(package.word),
                    f"{shown} is downloaded without a hash and does not name one release: its "
                    "content can change between builds",
                    fix="point at a versioned file and append #sha256=<digest> to the URL",
                )


@rule("ML305")
def conda_unpinned(target: Stage | ProjectFacts, ctx: Ctx | ProjectCtx) -> Iterator[Finding]:
    exempt = {e.lower() for e in ctx.params.exempt}
    if isinstance(target, ProjectFacts):
        yield from _listed_files(target, "environment", exempt)
        return
    for command, install in stage_installs(target):
        if install.manager != "conda":
            continue
        tool = install.tool_name
        for package in install.packages:
            if package.name in exempt:
                continue
            finding = _pin_finding(package, command.span(package.word), "conda", tool)
            if finding is not None:
                yield finding


@rule("ML306")
def os_package_unpinned(stage: Stage, ctx: Ctx) -> Iterator[Finding]:
    exempt = {e.lower() for e in ctx.params.exempt}
    for command, install in stage_installs(stage):
        if install.manager not in ("apt", "apk", "dnf", "zypper"):
            continue
        tool = install.tool_name
        for package in install.packages:
            if package.pin == BARE and package.name.lower() not in exempt:
                example = {"apt": "=<version>", "apk": "=<version>"}.get(install.manager, "-<version>")
                what = "a version"
                if install.module:
                    tool, example, what = f"{tool} module", ":<stream>", "a stream (the default stream can change)"
                yield Finding.at(
                    command.span(package.word),
                    f"{tool} installs {package.word[0]!r} without {what}",
                    fix=f"pin it ({package.name}{example}) if this image must rebuild bit for bit; "
                    "distribution archives drop old versions, so most images pin the base image "
                    "by digest instead",
                )


def _listed_files(project: ProjectFacts, kind: str, exempt: set[str]) -> Iterator[Finding]:
    """Findings in the requirements or environment files that Dockerfiles install from, once per file."""
    seen: set[str] = set()
    # where each file is installed from (a scan that reports only the Dockerfile reports the file's findings there)
    installed: dict[str, list[Span]] = {}
    for build in project.builds:
        refs = dict(build.requirements)
        for _kind, path, _display in build.package_files:
            installed.setdefault(path, []).append(refs.get(path) or Span(build.path, 1, 1, 1, 1))
    for build in project.builds:
        for file_kind, path, display in build.package_files:
            if file_kind != kind or path in seen:
                continue
            seen.add(path)
            listed: list[ListedPackage] = (
                read_requirements(path, display) if kind == "requirements" else read_environment(path, display)
            )
            for item in listed:
                if item.package.name in exempt:
                    continue
                where = f"{os.path.basename(item.span.path)} (installed by {build.path})"
                finding = _pin_finding(item.package, item.span, item.manager, where)
                if finding is not None:
                    finding.causes = tuple(installed.get(path, ()))
                    yield finding
