"""Every fixture is scanned with its own rule; its findings must equal its `# expect:` lines."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import FIXTURES, ROOT, expectations
from mllint import config, engine
from mllint.options import from_config
from mllint.registry import builtin

CASES = sorted(p for p in FIXTURES.glob("ML*/*") if p.name.startswith(("bad-", "ok-")))


def _files(case: Path) -> list[Path]:
    """The files a fixture's findings may be in (not its configuration or custom rules)."""
    if not case.is_dir():
        return [case]
    return sorted(
        p for p in case.rglob("*") if p.is_file() and not p.relative_to(case).as_posix().startswith(".mllint")
    )


@pytest.mark.parametrize("case", CASES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_fixture(case: Path) -> None:
    """A fixture runs its own rule, or what the `select` of its `.mllint.yaml` names; the rest of that
    configuration (rule parameters, the cluster profile, image mappings, custom rules) applies as in a scan."""
    rule = case.parent.name
    if "Host" in builtin()[rule].meta.targets:  # a live-mode rule: its fixture names a fake host
        _check_host_fixture(case, rule)
        return
    settings = case / ".mllint.yaml"
    cfg = config.load(settings) if settings.is_file() else config.Config()
    options = from_config(cfg, select=() if cfg.get("select") else [rule], preview=True, jobs=1)
    result = engine.scan([case.relative_to(ROOT).as_posix()], options)
    expected = set()
    for file in _files(case):
        expected |= expectations(file, file.relative_to(ROOT).as_posix())
    got = {(f.span.path, f.rule, f.span.line, f.span.column) for f in result.findings if f.suppressed is None}
    pinned = {(p, r, line, col) for p, r, line, col in expected if col is not None}
    loose = {(p, r, line) for p, r, line, col in expected if col is None}
    got_loose = {(p, r, line) for p, r, line, col in got if (p, r, line, col) not in pinned}
    assert (pinned <= got) and got_loose == loose, _explain(result, expected)
    if case.name.startswith("bad-"):
        assert any(r == rule for _p, r, _l, _c in expected), f"a bad-* fixture needs an `# expect: {rule}` line"
    else:
        assert not expected, "an ok-* fixture expects nothing"
    if cfg.get("select"):
        assert rule in options.select, f"{settings} selects other rules but not {rule}"


def _check_host_fixture(case: Path, rule: str) -> None:
    from mllint.live.fake import FakeNvml
    from mllint.live.nvml import read_host

    spec = json.loads(case.read_text(encoding="utf-8"))
    host = read_host(FakeNvml.from_file(case.parent / spec["host"]))
    result = engine.scan([], engine.Options(select=[rule], jobs=1, host=host))
    assert sorted(f.span.path for f in result.findings) == sorted(spec["expect"]), _explain(result, set())
    assert bool(spec["expect"]) == case.name.startswith("bad-")


def _explain(result: engine.Result, expected: set[tuple[str, str, int, int | None]]) -> str:
    got = "\n".join(f"  {f.span.path}:{f.span.line}:{f.span.column} {f.rule} {f.message}" for f in result.findings)
    want = "\n".join(f"  {p}:{line}:{col or '*'} {r}" for p, r, line, col in sorted(expected, key=str))
    return f"\nfound:\n{got or '  nothing'}\nexpected:\n{want or '  nothing'}"
