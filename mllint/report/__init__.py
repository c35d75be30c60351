"""Reporters: each turns a scan Result into text. Nothing else in mllint writes output."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from importlib import import_module
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mllint.engine import Result

FORMATS = ("text", "concise", "json", "sarif", "github", "gitlab", "junit", "checkstyle")


STREAMED = ("json", "sarif")  # formats written a finding at a time (`chunks`)
ROOTED = ("sarif", "gitlab")  # formats whose paths are relative to the project root, not the working directory


def render(fmt: str, result: Result, color: bool = False, verbose: bool = False, root: str | None = None) -> str:
    """`result` in format `fmt`; `root`: the project root that SARIF and GitLab paths are relative to
    (default: the working directory)."""
    return "".join(chunks(fmt, result, color, verbose, root))


def chunks(
    fmt: str, result: Result, color: bool = False, verbose: bool = False, root: str | None = None
) -> Iterator[str]:
    """`render`'s text in pieces, for writing as it is made: the formats of large reports (JSON, SARIF) make it a
    finding at a time."""
    from mllint.report.guard import guarded

    module = import_module(f"mllint.report.{fmt}_report")
    extra = {"root": root} if fmt in ROOTED and root is not None else {}
    safe = guarded(result)  # no format prints a secret
    streamed: Callable[..., Iterator[str]] | None = getattr(module, "chunks", None)
    if streamed is not None:
        return streamed(safe, color=color, verbose=verbose, **extra)
    whole: Callable[..., str] = module.render
    return iter((whole(safe, color=color, verbose=verbose, **extra),))


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
