"""ML0xx: problems with the input itself, found by the parsers and reported through these rules."""

from __future__ import annotations

from collections.abc import Iterator

from mllint.checks.context import Ctx
from mllint.model import Finding, SourceFile
from mllint.registry import rule


def _diagnostics(file: SourceFile, rule_id: str) -> Iterator[Finding]:
    for d in file.diagnostics:
        if d.rule == rule_id:
            yield Finding.at(d.span, d.message, d.fix, severity=d.severity)


@rule("ML001")
def unparseable_file(file: SourceFile, ctx: Ctx) -> Iterator[Finding]:
    yield from _diagnostics(file, "ML001")


@rule("ML002")
def invalid_structure(file: SourceFile, ctx: Ctx) -> Iterator[Finding]:
    yield from _diagnostics(file, "ML002")


@rule("ML003")
def internal_error(file: SourceFile, ctx: Ctx) -> Iterator[Finding]:
    yield from _diagnostics(file, "ML003")


@rule("ML004")
def duplicate_key(file: SourceFile, ctx: Ctx) -> Iterator[Finding]:
    yield from _diagnostics(file, "ML004")


@rule("ML005")
def invalid_quantity(file: SourceFile, ctx: Ctx) -> Iterator[Finding]:
    yield from _diagnostics(file, "ML005")


@rule("ML006")
def unused_suppression(file: SourceFile, ctx: Ctx) -> Iterator[Finding]:
    """Whether a comment was used is known only after every rule ran on the file, so the engine reports
    ML006 itself once suppressions are matched (`mllint.suppress.unused`); nothing to do per target."""
    yield from ()


@rule("ML007")
def unknown_rule_selector(file: SourceFile, ctx: Ctx) -> Iterator[Finding]:
    """Like ML006, reported with the suppressions (`mllint.suppress.unknown`), which read every comment and
    annotation of the file once; nothing to do per target."""
    yield from ()
