"""Reporters: each turns a scan Result into text. Nothing else in mllint writes output."""

from __future__ import annotations

from collections.abc import Callable
from importlib import import_module
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mllint.engine import Result

FORMATS = ("text", "json", "sarif", "github", "gitlab")


def render(fmt: str, result: Result, color: bool = False, verbose: bool = False) -> str:
    from mllint.report.guard import guarded

    module = import_module(f"mllint.report.{fmt}_report")
    func: Callable[..., str] = module.render
    return func(guarded(result), color=color, verbose=verbose)  # no format prints a secret
