"""Fixes (`mllint scan --fix`, `--diff`, `mllint.fixing`): every fixture under fixtures/fixes/MLnnn/ is fixed to its
`.after` file, and the fixed file scans clean of that rule; --diff shows what --fix writes; unsafe fixes need the
flag; overlapping edits are resolved one way; a fix that would break its file is not written."""

from __future__ import annotations

import difflib
import os
import pickle
import shutil
from pathlib import Path

import pytest

from conftest import FIXTURES
from mllint import engine, fixing
from mllint.__main__ import main
from mllint.edits import EditError, apply_edits, offset, utf16_position
from mllint.model import Edit, Finding, Fix, Span
from mllint.options import Options

FIXES = FIXTURES / "fixes"
BEFORE = sorted(FIXES.glob("ML*/*.before.*"))
REGENERATE = os.environ.get("MLLINT_REGENERATE_FIXES") == "1"  # write the .after files from what mllint does


def _name(before: Path) -> str:
    """The name the file is scanned under: its kind comes from it (`Dockerfile`, `x.yaml`)."""
    stem, ext = before.name.split(".before.")
    return "Dockerfile" if ext == "Dockerfile" else f"{stem}.{ext}"


def _options(rule: str, before: Path) -> Options:
    pins = before.parent / (before.name.split(".before.")[0] + ".pins")
    params = {"ML303": {"pins": str(pins)}} if pins.is_file() else {}
    return Options(select=[rule], params=params, jobs=1)


def _scan(name: str, options: Options) -> engine.Result:
    return engine.scan([name], options)


@pytest.mark.parametrize("before", BEFORE, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_fix_gives_the_after_file_and_a_clean_rescan(
    before: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rule = before.parent.name
    after = before.with_name(before.name.replace(".before.", ".after."))
    monkeypatch.chdir(tmp_path)
    name = _name(before)
    shutil.copyfile(before, name)
    options = _options(rule, before)
    found = _scan(name, options)
    assert any(f.rule == rule and f.autofix for f in found.findings), f"{before.name}: no {rule} finding with a fix"
    plan = fixing.plan(found.findings, unsafe=True)
    assert not plan.problems, plan.problems
    assert [c.path for c in plan.changes] == [name]
    fixed = plan.changes[0].after
    if REGENERATE:
        after.write_text(fixed, encoding="utf-8", newline="")
    assert fixed == after.read_text(encoding="utf-8")
    plan.changes[0].write()
    left = [f for f in _scan(name, options).findings if f.rule == rule]
    assert not left, [f.message for f in left]


def test_every_rule_with_a_fix_has_fixtures() -> None:
    from mllint.registry import builtin

    with_fix = {rid for rid, r in builtin().items() if r.meta.fix}
    have = {p.parent.name for p in BEFORE}
    assert have <= with_fix, f"fixtures for rules whose metadata says no fix: {sorted(have - with_fix)}"
    missing = with_fix - have - {"ML606"}  # ML606's fix is tested beside its rule
    assert not missing, f"rules with `fix:` and no fixtures/fixes/<rule>/: {sorted(missing)}"


def _project(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_bytes(
        b"FROM nvidia/cuda:12.1.1-cudnn8-devel-ubuntu22.04\r\n"
        b"# keep this comment\r\n"
        b"RUN apt-get update \\\r\n"
        b"    && apt-get install -y git  # tools\r\n"
        b"RUN pip install torch==2.3.1\r\n"
    )
    (tmp_path / "quota.yaml").write_text(
        "# team quota\r\nkind: ResourceQuota\r\napiVersion: v1\r\nmetadata:\r\n  name: q\r\n"
        "spec:\r\n  hard:\r\n    'limits.nvidia.com/gpu': &n 8  # anchor kept\r\n    requests.cpu: *n\r\n",
        newline="",
    )


def test_diff_and_fix_agree_and_keep_comments_and_crlf(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _project(tmp_path)
    monkeypatch.chdir(tmp_path)
    before = {p: Path(p).read_bytes() for p in ("Dockerfile", "quota.yaml")}
    args = ["scan", "--select", "ML403,ML404,ML406,ML401,ML601", "Dockerfile", "quota.yaml"]
    assert main([*args, "--diff"]) == 1
    diff = capsys.readouterr().out
    assert {p: Path(p).read_bytes() for p in before} == before, "--diff changes nothing"
    main([*args, "--fix"])
    out = capsys.readouterr()
    assert "Fixed 3 findings" in out.err
    written = ""
    for path, data in before.items():
        old, new = data.decode(), Path(path).read_bytes().decode()
        written += "".join(
            difflib.unified_diff(old.splitlines(keepends=True), new.splitlines(keepends=True), f"a/{path}", f"b/{path}")
        )
    assert written == diff
    docker = Path("Dockerfile").read_bytes()
    assert docker.count(b"\r\n") == 5 and b"# keep this comment\r\n" in docker
    assert b"pip install --no-cache-dir torch" in docker and b"&& rm -rf /var/lib/apt/lists/*  # tools\r\n" in docker
    assert b"devel" in docker and b"--no-install-recommends" not in docker, "unsafe fixes need --unsafe-fixes"
    quota = Path("quota.yaml").read_bytes()
    assert b"    'requests.nvidia.com/gpu': &n 8  # anchor kept\r\n" in quota and b"# team quota\r\n" in quota
    assert main([*args, "--diff"]) == 0, "nothing left to fix safely"
    capsys.readouterr()
    assert main([*args, "--fix", "--unsafe-fixes"]) in (0, 1)
    assert b"-runtime-" in Path("Dockerfile").read_bytes()


def _finding(rule: str, *edits: Edit, safe: bool = True) -> Finding:
    f = Finding(rule, Span("f", 1, 1, 1, 1), "m")
    f.autofix = Fix("t", safe, edits)
    return f


def test_overlapping_fixes_are_resolved_one_way() -> None:
    a = _finding("ML404", Edit("f", 5, 5, " && x"))
    b = _finding("ML403", Edit("f", 2, 8, "y"))
    c = _finding("ML406", Edit("f", 10, 12, "z"))
    same = _finding("ML999", Edit("f", 10, 12, "z"))
    unsafe = _finding("ML401", Edit("f", 20, 21, "u"), safe=False)
    for order in ([a, b, c, same, unsafe], [unsafe, same, c, b, a]):
        accepted, conflicts = fixing.resolve(order)
        assert [f.rule for f in accepted] == ["ML403", "ML406", "ML999"] and conflicts == [a]
    assert unsafe in fixing.resolve([a, unsafe], unsafe=True)[0]
    suppressed = _finding("ML403", Edit("f", 0, 1, ""))
    suppressed.suppressed = "accepted"
    assert fixing.fixes_for([suppressed]) == []


def test_apply_edits_on_offsets_of_the_original() -> None:
    text = "ab\r\ncd\n"
    assert offset(text, 2, 1) == 4 and offset(text, 1, 99) == 2
    assert apply_edits(text, [Edit("f", 4, 4, "X"), Edit("f", 0, 1, "A"), Edit("f", 0, 1, "A")]) == "Ab\r\nXcd\n"
    with pytest.raises(EditError):
        apply_edits(text, [Edit("f", 0, 3, ""), Edit("f", 2, 4, "")])
    assert utf16_position("a\n\U0001f600b", 4) == (1, 3)  # an emoji is two UTF-16 code units


def test_a_fix_that_breaks_the_file_is_not_written(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    Path("pod.yaml").write_text("kind: Pod\napiVersion: v1\nmetadata:\n  name: p\n")
    broken = _finding("ML101", Edit("pod.yaml", 0, 0, "x: [unclosed\n"))
    broken.span = Span("pod.yaml", 1, 1, 1, 1)
    plan = fixing.plan([broken])
    assert not plan.changes and plan.problems and plan.problems[0].rule == "ML003"
    assert "would not parse" in plan.problems[0].message


def test_autofix_survives_the_worker_processes(tmp_path: Path) -> None:
    """Findings come back from worker processes pickled: the fix comes with them."""
    f = _finding("ML403", Edit("Dockerfile", 1, 2, "x"))
    assert pickle.loads(pickle.dumps(f)).autofix == f.autofix
    for n in range(engine.PARALLEL_MIN_FILES):
        (tmp_path / f"{n}.Dockerfile").write_text("FROM python:3.11-slim\nRUN pip install torch==2.3.1\n")
    result = engine.scan([str(tmp_path)], Options(select=["ML403"], jobs=2))
    assert len(result.findings) == engine.PARALLEL_MIN_FILES and all(f.autofix for f in result.findings)


def test_the_pre_commit_fix_hook_fixes_the_files_it_is_given(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from ruamel.yaml import YAML

    hooks = YAML(typ="safe").load((FIXTURES.parent / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
    entry = next(h["entry"] for h in hooks if h["id"] == "mllint-fix").split()
    assert entry[0] == "mllint" and "--fix" in entry
    monkeypatch.chdir(tmp_path)
    Path("Dockerfile").write_text("FROM python:3.11-slim\nRUN pip install torch==2.3.1\n")
    code = main([*entry[1:], "--select", "ML403", "Dockerfile"])
    assert code == 0 and "--no-cache-dir" in Path("Dockerfile").read_text()
    assert "Fixed 1 finding (0 remaining)" in capsys.readouterr().err
