"""Reporters: each turns a scan Result into text. Nothing else in mllint writes output."""

from __future__ import annotations

from collections.abc import Callable
from importlib import import_module
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mllint.engine import Result

FORMATS = ("text", "concise", "json", "sarif", "github", "gitlab", "junit", "checkstyle")


ROOTED = ("sarif", "gitlab")  # formats whose paths are relative to the project root, not the working directory


def render(fmt: str, result: Result, color: bool = False, verbose: bool = False, root: str | None = None) -> str:
    """`result` in format `fmt`; `root`: the project root that SARIF and GitLab paths are relative to
    (default: the working directory)."""
    from mllint.report.guard import guarded

    module = import_module(f"mllint.report.{fmt}_report")
    func: Callable[..., str] = module.render
    extra = {"root": root} if fmt in ROOTED and root is not None else {}
    return func(guarded(result), color=color, verbose=verbose, **extra)  # no format prints a secret


def rooted(path: str, root: str | None) -> tuple[str, bool]:
    """`path` (as a scan displays it: relative to the working directory, or absolute) relative to `root`, and
    whether it lies under it; a path outside the root stays absolute."""
    import os

    base = os.path.abspath(root) if root else os.getcwd()
    full = os.path.abspath(path)
    rel = os.path.relpath(full, base)
    if rel == os.pardir or rel.startswith(os.pardir + os.sep) or os.path.isabs(rel):
        return full.replace(os.sep, "/"), False
    return rel.replace(os.sep, "/"), True
