"""`project_reads`: a Project rule whose facts are all empty is skipped, and it could not have reported anyway."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from mllint import engine
from mllint.checks.context import ProjectCtx
from mllint.options import Options
from mllint.project import ProjectFacts
from mllint.registry import builtin

ROOT = Path(__file__).resolve().parent.parent
DECLARED = [rid for rid, rule in builtin().items() if rule.meta.project_reads]


def test_some_project_rules_declare_what_they_read_and_only_project_rules() -> None:
    assert len(DECLARED) >= 5
    empty = ProjectFacts([])
    for rid in DECLARED:
        meta = builtin()[rid].meta
        assert "Project" in meta.targets, rid
        for name in meta.project_reads:
            assert isinstance(getattr(empty, name), (list, dict)), (rid, name)


@pytest.fixture(scope="module")
def fixture_project() -> tuple[list[Any], Any]:
    """The facts of every fixture file, as the project rules get them, and the plan they ran under."""
    seen: list[tuple[list[Any], Any]] = []
    real = engine._check_project

    def spy(results: list[Any], plan: Any, texts: Any) -> Any:
        seen.append(([o.facts for o in results if o.facts is not None], plan))
        return real(results, plan, texts)

    engine._check_project = spy  # type: ignore[assignment]
    try:
        engine.scan([str(ROOT / "fixtures")], Options(jobs=1, preview=True))
    finally:
        engine._check_project = real  # type: ignore[assignment]
    return seen[0]


@pytest.mark.parametrize("rule_id", DECLARED)
def test_with_what_it_reads_emptied_the_project_part_reports_nothing(
    rule_id: str, fixture_project: tuple[list[Any], Any]
) -> None:
    files, plan = fixture_project
    rule = builtin()[rule_id]
    ctx = ProjectCtx(plan.params_of(rule_id), plan.gpu_resources, plan.cuda)
    full = ProjectFacts(files)
    assert all(getattr(full, name) for name in rule.meta.project_reads)  # the fixtures fill them
    emptied = ProjectFacts(files)
    for name in rule.meta.project_reads:
        setattr(emptied, name, type(getattr(emptied, name))())
    assert list(rule.func(emptied, ctx)) == []


def test_the_reporting_rules_do_report_over_the_fixture_builds(fixture_project: tuple[list[Any], Any]) -> None:
    files, plan = fixture_project
    reported = set()
    for rule_id in DECLARED:
        ctx = ProjectCtx(plan.params_of(rule_id), plan.gpu_resources, plan.cuda)
        if list(builtin()[rule_id].func(ProjectFacts(files), ctx)):
            reported.add(rule_id)
    assert len(reported) >= 3, reported  # the emptied runs above are silent for a reason, not always


def test_a_cached_scan_of_one_manifest_imports_no_module_of_a_rule_with_nothing_to_read(tmp_path: Path) -> None:
    (tmp_path / "deploy.yaml").write_text(
        (ROOT / "fixtures" / "ML101" / "bad-deployment-job.yaml").read_text(encoding="utf-8"), encoding="utf-8"
    )
    code = (
        "import sys\n"
        "from mllint.cli import run\n"
        "run(['scan', 'deploy.yaml', '--fail-on', 'never', '-q'])\n"
        "print(sorted(m for m in sys.modules if m.startswith(('mllint.checks.cuda', 'mllint.checks.pinning',"
        " 'mllint.checks.build'))))\n"
    )
    subprocess.run([sys.executable, "-c", code], cwd=tmp_path, check=True, capture_output=True)  # fills the cache
    done = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, check=True, capture_output=True, text=True)
    assert done.stdout.strip().splitlines()[-1] == "[]"
