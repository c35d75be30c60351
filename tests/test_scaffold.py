"""`python -m mllint.dev new-rule` scaffolds a rule that works as written: in a copy of the repository, the
scaffolded rules' bad fixtures fire and their ok fixtures stay quiet under the fixture harness, and
`mllint rules` lists them as preview. What it refuses, it refuses in one line with exit status 2, writing nothing."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
from ruamel.yaml import YAML

from conftest import ROOT
from mllint import __version__, dev

COPIED = ("mllint", "rules", "schemas", "fixtures", "tests", "pyproject.toml")
FIRST = "Container"  # scaffolded through the command line; the other targets through dev.main
TAKEN = "job-restart-policy-always"  # ML508's name


def _copy(dest: Path) -> Path:
    """What the scaffold and the fixture harness need of the repository, without caches."""
    dest.mkdir()
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", ".pytest_cache", ".hypothesis", ".mypy_cache")
    for name in COPIED:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, dest / name, ignore=ignore)
        else:
            shutil.copy2(source, dest / name)
    return dest


def _python(args: list[str], root: Path, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """`python ARGS` with the copy's package first on the path (not the checkout's)."""
    env = {**os.environ, "PYTHONPATH": str(root), "PYTHONDONTWRITEBYTECODE": "1"}
    return subprocess.run(
        [sys.executable, *args], cwd=cwd or root, env=env, capture_output=True, text=True, timeout=120
    )


def _new_rule(rule_id: str, target: str, root: Path, *extra: str, family: str = "reliability") -> list[str]:
    """The arguments of `python -m mllint.dev` that scaffold a rule into `root`."""
    return ["new-rule", rule_id, "--family", family, "--target", target, *extra, "--root", str(root)]


def _free_ids(root: Path, family: str, count: int) -> list[str]:
    """Ids of the family that no rule, fixture folder or binding uses in the copy."""
    digit = int(dev.FAMILY_DIGIT[family])
    taken = {p.stem for p in (root / "rules").glob("*/ML*.yaml")} | {p.name for p in (root / "fixtures").glob("ML*")}
    free = [f"ML{n:03d}" for n in range(digit * 100 + 1, digit * 100 + 100) if f"ML{n:03d}" not in taken]
    return free[:count]


def _tree(root: Path) -> set[str]:
    """Every path under the folders the scaffold writes to."""
    found = (p for folder in ("rules", "mllint", "fixtures") for p in (root / folder).rglob("*"))
    return {p.relative_to(root).as_posix() for p in found if "__pycache__" not in p.parts}


@pytest.fixture(scope="module")
def scaffolded(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str], str]:
    """A copy of the repository with one scaffolded rule per target: (root, target -> id, the CLI's output)."""
    root = _copy(tmp_path_factory.mktemp("scaffold") / "repo")
    targets = list(dev.TEMPLATES)
    ids = dict(zip(targets, _free_ids(root, "reliability", len(targets)), strict=True))
    # --root names the copy, not the working directory
    proc = _python(["-m", "mllint.dev", *_new_rule(ids[FIRST], FIRST, root)], root, cwd=root.parent)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    for target, rule_id in ids.items():
        if target != FIRST:
            assert dev.main(_new_rule(rule_id, target, root, "--severity", "note")) == 0
    return root, ids, proc.stdout


def test_the_scaffold_writes_four_files_and_says_what_next(scaffolded: tuple[Path, dict[str, str], str]) -> None:
    root, ids, output = scaffolded
    rule_id = ids[FIRST]
    written = [line.removeprefix("wrote ") for line in output.splitlines() if line.startswith("wrote ")]
    module = f"mllint/checks/reliability/todo_{rule_id.lower()}.py"
    assert written == [
        f"rules/reliability/{rule_id}.yaml",
        module,
        f"fixtures/{rule_id}/bad-example.yaml",
        f"fixtures/{rule_id}/ok-example.yaml",
    ]
    assert all((root / path).is_file() for path in written)
    assert f"python -m pytest tests/test_rule_fixtures.py -k {rule_id}" in output
    assert "mllint rules --format markdown > docs/rules.md" in output

    data = YAML(typ="safe", pure=True).load((root / written[0]).read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator(json.loads((ROOT / "schemas" / "rule.schema.json").read_text())).validate(data)
    assert (data["id"], data["family"], data["target"]) == (rule_id, "reliability", FIRST)
    assert (data["status"], data["since"], data["severity"]) == ("preview", __version__, "warning")
    assert data["examples"] == {"bad": written[2], "good": written[3]}
    for key in ("summary", "description", "remediation"):
        assert "TODO" in data[key], f"the scaffolded {key} must say plainly that it is a placeholder"
    stub = (root / module).read_text(encoding="utf-8")
    assert f'@rule("{rule_id}")' in stub and "placeholder" in stub
    assert f"# expect: {rule_id}@" in (root / written[2]).read_text(encoding="utf-8")
    assert "# expect:" not in (root / written[3]).read_text(encoding="utf-8")


def test_scaffolded_rules_pass_the_fixture_harness(scaffolded: tuple[Path, dict[str, str], str]) -> None:
    """The copy's own harness, on the copy's package: each bad fixture fires at its `# expect:` column and
    each ok fixture has no finding."""
    root, ids, _output = scaffolded
    for target, rule_id in ids.items():
        ext = "Dockerfile" if target in ("Stage", "ImageBuild") else "yaml"
        assert sorted(p.name for p in (root / "fixtures" / rule_id).iterdir()) == [
            f"bad-example.{ext}",
            f"ok-example.{ext}",
        ]
    harness = str(root / "tests" / "test_rule_fixtures.py")
    proc = _python(["-m", "pytest", "-q", harness, "-p", "no:cacheprovider", "-k", " or ".join(ids.values())], root)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    passed = re.search(r"(\d+) passed", proc.stdout)
    assert passed and int(passed[1]) == 2 * len(ids), proc.stdout  # a bad and an ok fixture for each


def test_mllint_rules_lists_the_scaffolded_rules_as_preview(scaffolded: tuple[Path, dict[str, str], str]) -> None:
    root, ids, _output = scaffolded
    proc = _python(["-m", "mllint", "rules"], root)
    assert proc.returncode == 0, proc.stderr
    rows = {line.split()[0]: line for line in proc.stdout.splitlines() if line.strip()}
    for rule_id in ids.values():
        assert rule_id in rows, f"{rule_id} is not listed:\n{proc.stdout}"
        assert "(preview)" in rows[rule_id], rows[rule_id]


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the repository that the refusal tests leave as it is."""
    return _copy(tmp_path_factory.mktemp("refusals") / "repo")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["ML508", "--family", "reliability", "--target", "Workload"], "ML508 exists: rules/reliability/ML508.yaml"),
        (["{gpu}", "--family", "reliability", "--target", "Container"], "does not belong to reliability: its ids are"),
        (["{reliability}", "--family", "reliabilty", "--target", "Container"], "unknown family 'reliabilty'"),
        (["{reliability}", "--family", "reliability", "--target", "Pod"], "unknown target 'Pod'"),
        (["{live}", "--family", "live", "--target", "Host"], "Host rules (live mode)"),
        (
            ["{reliability}", "--family", "reliability", "--target", "Container", "--name", TAKEN],
            f"the name {TAKEN!r} is taken by ML508",
        ),
        (
            ["{reliability}", "--family", "reliability", "--target", "Container", "--name", "Bad_Name"],
            "not a rule name",
        ),
        (
            ["{reliability}", "--family", "reliability", "--target", "Container", "--severity", "fatal"],
            "unknown severity 'fatal'",
        ),
        (["517", "--family", "reliability", "--target", "Container"], "'517' is not a rule id"),
    ],
)
def test_refusals(pristine: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str) -> None:
    free = {family: _free_ids(pristine, family, 1)[0] for family in ("gpu", "reliability", "live")}
    before = _tree(pristine)
    assert dev.main(["new-rule", *(a.format(**free) for a in args), "--root", str(pristine)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("mllint.dev: error: ") and message in err, err
    assert _tree(pristine) == before, "a refused scaffold writes nothing"


def test_refuses_to_overwrite_and_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """An id whose fixtures folder (or module) exists is refused from the command line, and nothing changes."""
    root = _copy(tmp_path / "repo")
    [rule_id] = _free_ids(root, "reliability", 1)
    (root / "fixtures" / rule_id).mkdir()
    (root / "fixtures" / rule_id / "bad-mine.yaml").write_text("kind: Pod\n", encoding="utf-8")
    before = _tree(root)
    proc = _python(["-m", "mllint.dev", *_new_rule(rule_id, "Container", root)], root)
    assert proc.returncode == 2 and proc.stdout == "", proc.stdout + proc.stderr
    assert proc.stderr.strip().splitlines() == [
        f"mllint.dev: error: fixtures/{rule_id} exists; pick another id or remove it"
    ]
    assert _tree(root) == before

    (root / "fixtures" / rule_id / "bad-mine.yaml").unlink()
    (root / "fixtures" / rule_id).rmdir()
    module = root / "mllint" / "checks" / "reliability" / "mine.py"
    module.write_text('"""mine"""\n', encoding="utf-8")
    assert dev.main(_new_rule(rule_id, "Container", root, "--name", "mine")) == 2
    assert "mllint/checks/reliability/mine.py exists" in capsys.readouterr().err
    assert module.read_text(encoding="utf-8") == '"""mine"""\n'
    assert not (root / "rules" / "reliability" / f"{rule_id}.yaml").exists()


def test_a_root_that_is_no_checkout_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert dev.main(_new_rule("ML599", "Container", tmp_path)) == 2
    assert "is not an mllint checkout" in capsys.readouterr().err
