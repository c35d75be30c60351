"""ML303's fix: a package a RUN line installs without an exact version, pinned to the version a lock or `pip freeze`
file names (`mllint scan --pins FILE`). Unsafe: the build then installs that version, which may not be the one the
image was tested with."""

from __future__ import annotations

import re
from functools import lru_cache

from mllint import lazy_re
from mllint.cache import read_input
from mllint.edits import span_offsets
from mllint.model import Edit, Fix, SourceFile
from mllint.packages import BARE, Package, canonicalize_name
from mllint.runs import Command

_PIN = lazy_re.compile(
    r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)(\[[^\]]*\])?\s*===?\s*([A-Za-z0-9][A-Za-z0-9.+!_-]*)\s*(?:[;#\\].*)?$"
)


def read_pins(path: str) -> dict[str, str]:
    """Name (canonical) → version of each `name==version` line of a lock or `pip freeze` file; {} if unreadable.
    Read as an input of the file being checked (`mllint.cache`): a changed pins file is read again."""
    data = read_input(path)
    return _pins(data) if data is not None else {}


@lru_cache(maxsize=4)
def _pins(data: bytes) -> dict[str, str]:
    out: dict[str, str] = {}
    for line in data.decode("utf-8", "replace").splitlines():
        match = _PIN.match(line)
        if match:
            out.setdefault(canonicalize_name(match[1]), match[3])
    return out


def pin_from(file: SourceFile, command: Command, package: Package, pins_path: str) -> Fix | None:
    """The package written as `name[extras]==version` with the version the pins file names (when a range or a
    wildcard is written, only if that version satisfies it)."""
    version = read_pins(pins_path).get(canonicalize_name(package.name)) if package.name else None
    raw = command.raw(package.word)
    start, end = span_offsets(file.text, command.span(package.word))
    if version is None or file.text[start:end] != raw:
        return None
    if len(raw) > 1 and raw[0] in "\"'" and raw[-1] == raw[0]:  # a quoted requirement: the text inside the quotes
        raw, start, end = raw[1:-1], start + 1, end - 1
    if raw != package.word[0] or ";" in raw or "@" in raw:
        return None
    match = re.match(r"^([A-Za-z0-9][A-Za-z0-9._-]*(?:\[[^\]]*\])?)(.*)$", raw)
    if match is None:
        return None
    name, specifier = match[1], match[2].strip()
    if package.pin != BARE:
        from packaging.specifiers import InvalidSpecifier, SpecifierSet  # only where a fix is built

        try:
            if not SpecifierSet(specifier).contains(version, prereleases=True):
                return None
        except InvalidSpecifier:
            return None
    elif specifier:
        return None
    return Fix(
        f"pin {name}=={version} (from {pins_path.rsplit('/', 1)[-1]})",
        False,
        (Edit(file.path, start, end, f"{name}=={version}"),),
    )
