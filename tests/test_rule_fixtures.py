"""Every fixture is scanned with its own rule; its findings must equal its `# expect:` lines."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import FIXTURES, ROOT, expectations
from mllint import config, engine
from mllint.cuda import targets
from mllint.registry import registry

CASES = sorted(p for p in FIXTURES.glob("ML*/*") if p.name.startswith(("bad-", "ok-")))


def _files(case: Path) -> list[Path]:
    return sorted(p for p in case.rglob("*") if p.is_file()) if case.is_dir() else [case]


@pytest.mark.parametrize("case", CASES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_fixture(case: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    rule = case.parent.name
    select = [rule]
    if rule == "ML003" and case.name.startswith("bad-"):  # make one rule crash: the crash becomes a finding
        broken = registry()["ML101"]

        def explode(*_args: object) -> object:
            raise RuntimeError("boom")

        monkeypatch.setitem(registry(), "ML101", type(broken)(broken.meta, explode))
        select = ["ML003", "ML101"]
    if rule == "ML006":  # a comment is unused only when the rule it names ran
        select = ["ML006", "ML301"]
    if "Host" in registry()[rule].meta.targets:  # a live-mode rule: its fixture names a fake host
        _check_host_fixture(case, rule)
        return
    cuda = targets.CudaConfig()
    if (case / ".mllint.yaml").is_file():  # a directory fixture's cluster profile and image mappings
        cuda = targets.from_config(config.load(case / ".mllint.yaml").values, root=str(case))
    result = engine.scan([case.relative_to(ROOT).as_posix()], engine.Options(select=select, jobs=1, cuda=cuda))
    expected = set()
    for file in _files(case):
        expected |= expectations(file, file.relative_to(ROOT).as_posix())
    got = {(f.span.path, f.rule, f.span.line, f.span.column) for f in result.findings if f.suppressed is None}
    pinned = {(p, r, line, col) for p, r, line, col in expected if col is not None}
    loose = {(p, r, line) for p, r, line, col in expected if col is None}
    got_loose = {(p, r, line) for p, r, line, col in got if (p, r, line, col) not in pinned}
    assert (pinned <= got) and got_loose == loose, _explain(result, expected)
    if case.name.startswith("bad-"):
        assert expected, "a bad-* fixture needs at least one `# expect:` line"
    else:
        assert not expected, "an ok-* fixture expects nothing"


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
