"""Where the shipped data lives: `mllint/_data/` in an installed wheel, the repository root in a checkout."""

from __future__ import annotations

from functools import cache
from pathlib import Path


@cache
def data_root() -> Path:
    from importlib.resources import files

    packaged = Path(str(files("mllint") / "_data"))
    if (packaged / "rules").is_dir():
        return packaged
    return Path(__file__).resolve().parent.parent


def rules_dir() -> Path:
    return data_root() / "rules"


def schema_path(name: str) -> Path:
    return data_root() / "schemas" / name
