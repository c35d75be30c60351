"""Regular expressions compiled when first used. A module that holds many (what each container is, where a
file holds a credential) then costs nothing to import for a run that never reaches them: a cached scan of one
file imports such modules for their record types, and compiling their patterns was a tenth of its start-up."""

from __future__ import annotations

import re
from typing import Any, cast

_DELEGATED = (
    "search",
    "match",
    "fullmatch",
    "finditer",
    "findall",
    "sub",
    "subn",
    "split",
    "flags",
    "groups",
    "groupindex",
)


class _Pending:
    """A pattern not compiled yet: the first attribute asked for compiles it, and its methods then stand on
    the object itself, so later calls cost what calls on the compiled pattern cost."""

    def __init__(self, pattern: str, flags: int) -> None:
        self.pattern = pattern
        self._flags = flags

    def __getattr__(self, name: str) -> Any:
        compiled = re.compile(self.pattern, self._flags)
        for method in _DELEGATED:
            setattr(self, method, getattr(compiled, method))
        return getattr(compiled, name)

    def __repr__(self) -> str:
        return f"lazy_re.compile({self.pattern!r}, {self._flags})"


def compile(pattern: str, flags: int = 0) -> re.Pattern[str]:
    """`re.compile(pattern, flags)`, done the first time the pattern is used."""
    return cast("re.Pattern[str]", _Pending(pattern, flags))
