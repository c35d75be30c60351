"""Package lists an image build reads from the repository: pip requirements files (`-r`) and conda
environment files (`conda env create -f`). Each entry is judged like a package on a RUN line, with
offsets into the file so a finding lands on the entry's own line."""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from typing import Any

from mllint import cache
from mllint import yamlsrc as y
from mllint.model import ImageBuild, Span
from mllint.packages import Package, constrained, judge_conda, judge_pip, stage_installs
from mllint.records import record
from mllint.shell import Word
from mllint.stages import environment

MAX_DEPTH = 5  # `-r` inside a requirements file may nest


@record(frozen=True, slots=True)
class ListedPackage:
    package: Package
    span: Span
    manager: str  # pip | conda


def referenced(build: ImageBuild, folder: str, display_folder: str) -> list[tuple[str, str, str]]:
    """(requirements | environment, absolute path, display path) of each package list the build installs
    from, when it is in the repository and no constraints file fixes its versions. A path is resolved in
    the Dockerfile's folder (the usual build context), then by its base name (`COPY requirements.txt /app/`)."""
    out: list[tuple[str, str, str]] = []
    for stage in build.stages:
        env = environment(build, stage)
        for _command, install in stage_installs(stage):
            if constrained(install, env):
                continue
            kind = "environment" if install.environment_file else "requirements" if install.manager == "pip" else None
            if kind is None:
                continue
            for name, _start, _end in install.requirements:
                if "$" in name or "://" in name:
                    continue
                for candidate in dict.fromkeys([name.lstrip("/"), os.path.basename(name)]):
                    path = os.path.abspath(os.path.join(folder, candidate))
                    if cache.read_input(path) is not None:  # recorded either way: its absence decides too
                        out.append(
                            (kind, os.path.normcase(path), os.path.normpath(os.path.join(display_folder, candidate)))
                        )
                        break
    return out


def read_requirements(path: str, display: str) -> list[ListedPackage]:
    """The packages of a requirements file and of the files its `-r` lines include: each file once (an
    include loop or a file included many times is read once), never a file outside the project."""
    path = os.path.realpath(path)
    out: list[ListedPackage] = []
    seen: set[str] = set()
    pending = [(path, display, 0)]
    while pending:
        current, shown, depth = pending.pop(0)
        if current in seen:
            continue
        seen.add(current)
        text = _read(current)
        if text is None:
            continue
        for nested, nested_display in _one_file(text, current, shown, out):
            real = os.path.realpath(nested)
            if depth < MAX_DEPTH and real not in seen and _in_project(real, path):
                pending.append((real, nested_display, depth + 1))
    return out


def _in_project(path: str, top: str) -> bool:
    """A file under the folder mllint runs in, or under the folder of the requirements file the build names."""
    return any(path.startswith(folder.rstrip(os.sep) + os.sep) for folder in (os.getcwd(), os.path.dirname(top)))


def _one_file(text: str, path: str, display: str, out: list[ListedPackage]) -> list[tuple[str, str]]:
    """Add the packages of one requirements file to `out`; return the files its `-r` lines name."""
    includes: list[tuple[str, str]] = []
    offset = 0
    for raw in text.split("\n"):
        line = raw[:-1] if raw.endswith("\r") else raw
        content = re.split(r"(?:^|\s)#", line, maxsplit=1)[0].rstrip().rstrip("\\").rstrip()
        stripped = content.strip()
        start = offset + len(content) - len(content.lstrip())
        offset += len(raw) + 1
        if not stripped:
            continue
        if stripped.startswith("-"):
            match = re.match(r"^(-r|--requirement|-c|--constraint|-e|--editable)(?:\s*=?\s*)(\S+)", stripped)
            if match and match[1] in ("-r", "--requirement"):
                includes.append(
                    (
                        os.path.join(os.path.dirname(path), match[2]),
                        os.path.normpath(os.path.join(os.path.dirname(display), match[2])),
                    )
                )
            elif match and match[1] in ("-e", "--editable"):
                at = start + match.start(2)
                out.append(_listed(judge_pip((match[2], at, at + len(match[2]))), text, display, "pip"))
            continue
        requirement = re.sub(r"\s+--hash[= ]\S+", "", stripped)
        hashed = requirement != stripped
        spec = requirement.split(";")[0].rstrip()  # environment markers do not pin
        package = judge_pip((spec, start, start + len(spec)))
        if hashed:
            continue  # --require-hashes installs exactly the hashed files
        out.append(_listed(package, text, display, "pip"))
    return includes


def read_environment(path: str, display: str) -> list[ListedPackage]:
    """The conda and pip dependencies of an environment file."""
    text = _read(path)
    if text is None:
        return []
    docs = y.compose(display, text, [])
    if not docs:
        return []
    out: list[ListedPackage] = []
    for entry in _sequence(y.get(docs[0].root, "dependencies")):
        if y.is_scalar(entry):
            out.append(_scalar(entry, display, judge_conda, "conda"))
        elif y.is_map(entry):
            for item in _sequence(y.get(entry, "pip")):
                if y.is_scalar(item):
                    out.append(_scalar(item, display, judge_pip, "pip"))
    return [item for item in out if item.package.name or item.package.pin not in ("variable", "local")]


def _sequence(node: Any) -> list[Any]:
    return list(node.value) if y.is_seq(node) else []


def _scalar(node: Any, display: str, judge: Callable[[Word], Package], manager: str) -> ListedPackage:
    span = y.span(display, node)
    value = y.text(node) or ""
    return ListedPackage(judge((value, 0, len(value))), span, manager)


def _listed(package: Package, text: str, display: str, manager: str) -> ListedPackage:
    _word, start, end = package.word
    line = text.count("\n", 0, start) + 1
    column = start - (text.rfind("\n", 0, start) + 1) + 1
    return ListedPackage(package, Span(display, line, column, line, column + (end - start)), manager)


def _read(path: str) -> str | None:
    """A regular file's text (never a pipe or a device, which could block or never end), at most 4 MiB; lines
    are split as editors split them (a lone CR ends no line). The scan cache records it as an input of the file
    being checked."""
    data = cache.read_input(path)
    return None if data is None else data.decode("utf-8-sig", errors="replace")
