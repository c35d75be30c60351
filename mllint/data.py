"""Where the shipped data lives: `mllint/_data/` in an installed wheel, the repository root in a checkout."""

from __future__ import annotations

from functools import cache
from pathlib import Path


@cache
def data_root() -> Path:
    # mllint is a regular package on disk (a wheel or a checkout), so its folder is where `__file__` is;
    # `importlib.resources` would cost a one-file scan 6 ms of imports to say the same
    here = Path(__file__).resolve().parent
    packaged = here / "_data"
    if (packaged / "rules").is_dir():
        return packaged
    return here.parent


def rules_dir() -> Path:
    return data_root() / "rules"


def schema_path(name: str) -> Path:
    return data_root() / "schemas" / name
