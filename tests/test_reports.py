"""Every output format, validated against its schema; exit codes; the CLI's error paths."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest

from conftest import ROOT
from mllint import engine
from mllint.__main__ import main
from mllint.registry import builtin
from mllint.report import render

SARIF_SCHEMA = json.loads((ROOT / "schemas" / "sarif-2.1.0.json").read_text())
REPORT_SCHEMA = json.loads((ROOT / "schemas" / "report.schema.json").read_text())
ALL_FIXTURES = ["fixtures"]


def validate_sarif(text: str) -> dict:
    doc = json.loads(text)
    jsonschema.validators.validator_for(SARIF_SCHEMA)(SARIF_SCHEMA).validate(doc)
    return doc


@pytest.fixture(scope="module")
def result() -> engine.Result:
    return engine.scan(ALL_FIXTURES, engine.Options(jobs=1))


def test_sarif_is_valid_and_complete(result: engine.Result) -> None:
    doc = validate_sarif(render("sarif", result))
    run = doc["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    assert [r["id"] for r in rules] == sorted(r["id"] for r in rules)
    for rule in rules:
        assert rule["shortDescription"]["text"] and rule["fullDescription"]["text"] and rule["help"]["markdown"]
        assert rule["defaultConfiguration"]["level"] in ("error", "warning", "note")
    assert run["results"], "the fixtures produce findings"
    for res in run["results"]:
        assert rules[res["ruleIndex"]]["id"] == res["ruleId"]
        loc = res["locations"][0]["physicalLocation"]
        assert not loc["artifactLocation"]["uri"].startswith("/")
        region = loc["region"]
        assert region["startLine"] >= 1 and region["startColumn"] >= 1 and region["endColumn"] >= 1
        assert res["partialFingerprints"]["mllint/v1"]


def test_sarif_for_a_clean_scan_has_results_array(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text("FROM python:3.11-slim\n")
    doc = validate_sarif(render("sarif", engine.scan([str(tmp_path / "Dockerfile")])))
    assert doc["runs"][0]["results"] == []


def test_json_report_matches_its_schema(result: engine.Result) -> None:
    doc = json.loads(render("json", result))
    jsonschema.Draft202012Validator(REPORT_SCHEMA).validate(doc)
    assert doc["summary"]["findings"] == len([f for f in doc["findings"] if f["suppressed"] is None])
    assert any(f["suppressed"] for f in doc["findings"])  # fixtures/ML006/ok-used.yaml suppresses two


def test_text_report_has_frame_and_summary(result: engine.Result) -> None:
    text = render("text", result)
    assert "fixtures/ML101/bad-operators.yaml:25:31: ML101 error:" in text
    assert "^" in text and "= help:" in text and text.rstrip().splitlines()[-1].startswith("Found ")


def test_github_annotations(result: engine.Result) -> None:
    lines = render("github", result).splitlines()
    assert lines and all(line.startswith(("::error ", "::warning ", "::notice ")) for line in lines)
    assert all("\n" not in line for line in lines)


def test_fingerprints_survive_line_moves(tmp_path: Path) -> None:
    body = "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n  - name: c\n    image: x:latest\n"
    pod = tmp_path / "pod.yaml"
    pod.write_text(body)
    only = engine.Options(select=["ML301"])
    first = engine.scan([str(pod)], only).findings[0]
    pod.write_text("# a comment\n\n" + body)
    second = engine.scan([str(pod)], only).findings[0]
    assert first.span.line + 2 == second.span.line
    assert first.logical == second.logical == "Pod//p/c"
    assert first.fingerprint_key == second.fingerprint_key
    pod.write_text(body.replace("x:latest", "y:latest"))
    assert engine.scan([str(pod)], only).findings[0].fingerprint_key != first.fingerprint_key


def run_cli(*args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mllint", *args],
        input=stdin.decode() if stdin else None,
        capture_output=True,
        text=True,
        cwd=ROOT,
    )


def test_exit_codes() -> None:
    assert main(["scan", "fixtures/ML101/ok-limit-only.yaml", "--select", "ML101"]) == 0
    assert main(["scan", "fixtures/ML101/bad-operators.yaml"]) == 1
    assert main(["scan", "fixtures/ML301/bad-latest.Dockerfile", "--fail-on", "error"]) == 0
    assert (
        main(["scan", "fixtures/ML301/bad-latest.Dockerfile", "--severity", "ML301=error", "--fail-on", "error"]) == 1
    )
    assert main(["scan", "fixtures/ML101/bad-operators.yaml", "--fail-on", "never"]) == 0
    assert main(["scan", "no/such/path"]) == 2
    assert main(["scan", "--select", "ML999", "."]) == 2
    assert main(["scan", "--severity", "ML101", "."]) == 2
    assert main(["explain", "ML999"]) == 2
    assert main(["--version"]) == 0


def test_select_by_name_and_prefix() -> None:
    by_name = engine.scan(["fixtures/ML101"], engine.Options(select=["gpu-request-without-limit"]))
    by_prefix = engine.scan(["fixtures/ML101"], engine.Options(select=["ML1"]))
    assert by_name.findings and {f.rule for f in by_name.findings} == {"ML101"}
    assert [f.span for f in by_name.findings] == [f.span for f in by_prefix.findings if f.rule == "ML101"]
    assert "ML110" in by_prefix.rules  # a prefix selects opt-in rules too
    ignored = engine.scan(["fixtures/ML101"], engine.Options(ignore=["ML1"]))
    assert not [f for f in ignored.findings if f.rule == "ML101"]


def test_stdin_and_errors_are_one_line() -> None:
    proc = run_cli("scan", "-", "--stdin-filename", "Dockerfile", "-f", "json", stdin=b"FROM python\n")
    assert proc.returncode == 1, proc.stderr
    assert json.loads(proc.stdout)["findings"][0]["path"] == "Dockerfile"
    # without --stdin-filename the format is guessed from the content (`helm template chart | mllint scan -`)
    proc = run_cli("scan", "-", "-f", "json", stdin=b"# syntax=docker/dockerfile:1\nFROM python\n")
    assert proc.returncode == 1 and json.loads(proc.stdout)["findings"][0]["path"] == "stdin.Dockerfile", proc.stderr
    proc = run_cli("scan", "-", "-f", "json", stdin=b"# rendered\n---\napiVersion: v1\nkind: Pod\n")
    assert json.loads(proc.stdout)["summary"]["files"] == 1 and "Traceback" not in proc.stderr
    assert {f["path"] for f in json.loads(proc.stdout)["findings"]} <= {"stdin.yaml"}
    proc = run_cli("scan", "missing-dir")
    assert proc.returncode == 2 and "Traceback" not in proc.stderr


def test_output_file_and_rules_listing(tmp_path: Path) -> None:
    out = tmp_path / "out.sarif"
    assert main(["scan", "fixtures/ML301", "-f", "sarif", "-o", str(out)]) == 1
    validate_sarif(out.read_text())
    proc = run_cli("rules", "--format", "json")
    assert proc.returncode == 0 and {r["id"] for r in json.loads(proc.stdout)} >= {"ML001", "ML101", "ML301"}
    proc = run_cli("explain", "gpu-request-without-limit")
    assert proc.returncode == 0 and "Bad (`fixtures/ML101/" in proc.stdout


def test_parallel_and_serial_scans_agree() -> None:
    serial = engine.scan(["fixtures"], engine.Options(jobs=1))
    old = engine.PARALLEL_MIN_FILES
    engine.PARALLEL_MIN_FILES = 1
    try:
        parallel = engine.scan(["fixtures"], engine.Options(jobs=2))
    finally:
        engine.PARALLEL_MIN_FILES = old
    assert render("json", serial) == render("json", parallel)


def test_rules_and_explain_work_from_any_directory(tmp_path: Path) -> None:
    """The rules, schemas and example fixtures ship inside the package (mllint/_data in a wheel)."""
    proc = subprocess.run(
        [sys.executable, "-m", "mllint", "explain", "ML301"], capture_output=True, text=True, cwd=tmp_path
    )
    assert proc.returncode == 0, proc.stderr
    assert "FROM pytorch/pytorch:latest" in proc.stdout


def test_cross_file_findings_survive_a_crashing_project_rule(monkeypatch: pytest.MonkeyPatch) -> None:
    case = ["fixtures/ML603/bad-over-quota", "fixtures/ML604"]
    broken = builtin()["ML603"]

    def explode(*_args: object) -> object:
        raise RuntimeError("boom")

    monkeypatch.setitem(builtin(), "ML603", type(broken)(broken.meta, explode))
    result = engine.scan(case, engine.Options(select=["ML003", "ML603", "ML604"], jobs=1))
    crashes = [f for f in result.findings if f.rule == "ML003"]
    assert len(crashes) == 1 and "rule ML603 (gpu-quota-exceeded)" in crashes[0].message
    assert {f.rule for f in result.findings} == {"ML003", "ML604"}  # the other cross-file rule still ran


def test_project_findings_get_logical_locations_and_fingerprints() -> None:
    result = engine.scan(["fixtures/ML603/bad-over-quota"], engine.Options(select=["ML603"], jobs=1))
    [finding] = result.findings
    assert finding.logical == "ResourceQuota/ml-team/ml-team-quota"
    assert finding.fingerprint_key and finding.severity == "warning"
    assert "PyTorchJob 'bert-ddp' Worker 3 × 2" in finding.message and "= 12;" in finding.message


# The fields GitLab documents for a Code Quality report (docs.gitlab.com, "Code Quality report format"):
# description, check_name, fingerprint, severity (info|minor|major|critical|blocker), location.path, and
# location.lines.begin or location.positions.begin.line.
GITLAB_SCHEMA = {
    "type": "array",
    "items": {
        "type": "object",
        "required": ["description", "check_name", "fingerprint", "severity", "location"],
        "properties": {
            "description": {"type": "string", "minLength": 1},
            "check_name": {"type": "string", "minLength": 1},
            "fingerprint": {"type": "string", "minLength": 1},
            "severity": {"enum": ["info", "minor", "major", "critical", "blocker"]},
            "location": {
                "type": "object",
                "required": ["path", "positions"],
                "properties": {
                    "path": {"type": "string"},
                    "positions": {
                        "type": "object",
                        "required": ["begin"],
                        "properties": {
                            "begin": {
                                "type": "object",
                                "required": ["line"],
                                "properties": {"line": {"type": "integer", "minimum": 1}},
                            }
                        },
                    },
                },
            },
        },
    },
}


def test_gitlab_code_quality_report(result: engine.Result) -> None:
    issues = json.loads(render("gitlab", result))
    jsonschema.Draft202012Validator(GITLAB_SCHEMA).validate(issues)
    assert len(issues) == len([f for f in result.findings if f.suppressed is None])
    assert len({i["fingerprint"] for i in issues}) == len(issues)  # GitLab dedupes by fingerprint


@pytest.mark.parametrize("fmt", ["text", "json", "sarif", "github", "gitlab"])
def test_secret_values_are_never_echoed(fmt: str) -> None:
    paths = [
        "fixtures/ML703/bad-compose-secrets.yaml",
        "fixtures/ML703/bad-env.Dockerfile",
        "fixtures/ML703/bad-k8s-env.yaml",
    ]
    result = engine.scan(paths, engine.Options(select=["ML703"], jobs=1))
    assert len(result.findings) >= 7
    out = render(fmt, result)
    for secret in (
        "minioadmin",
        "hf_" + "x" * 34,
        "0123456789abcdef0123456789abcdef01234567",
        "s3cret",
    ):
        assert secret not in out, f"{fmt} echoes a secret value"
    assert "HF_TOKEN" in out  # the variable is named, its value is not
