"""What users of ruff, hadolint and kube-linter reach for: --statistics, a concise format, --quiet, a display
threshold apart from --fail-on, several reports from one scan, --force-exclude, case-insensitive levels, a
summary with -o, suppressed findings marked under -v, one-line Ctrl-C."""

from __future__ import annotations

import json
from pathlib import Path

import click
import pytest

from mllint import cli
from mllint.__main__ import main

JOB = """\
apiVersion: batch/v1
kind: Job
metadata: {name: train}
spec:
  template:
    spec:
      restartPolicy: Never
      containers:
        - name: t
          image: registry.example.com/train:latest
          resources: {requests: {cpu: "1"}}
"""
SUPPRESSED = JOB.replace("train:latest", "train:latest  # mllint: disable=ML301 -- promoted by digest")


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "k8s").mkdir()
    (tmp_path / "k8s" / "job.yaml").write_text(JOB)
    (tmp_path / "k8s" / "quiet.yaml").write_text(SUPPRESSED)
    (tmp_path / "vendor").mkdir()
    (tmp_path / "vendor" / "job.yaml").write_text(JOB)
    (tmp_path / ".mllint.yaml").write_text(
        'select: [ML301, ML504, ML505]\nseverity: {ML301: error, ML505: note}\nexclude: ["vendor/**"]\n'
    )
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _active(capsys: pytest.CaptureFixture[str], *args: str) -> list[dict[str, object]]:
    main(["scan", *args, "-f", "json"])
    return [f for f in json.loads(capsys.readouterr().out)["findings"] if f["suppressed"] is None]


def test_statistics_counts_per_rule(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    active = _active(capsys, "k8s")
    assert main(["scan", "k8s", "--statistics"]) == 1
    rows = [line.split("\t") for line in capsys.readouterr().out.splitlines()]
    counts = {str(f["rule"]): sum(1 for g in active if g["rule"] == f["rule"]) for f in active}
    assert {(row[1], int(row[0].strip())) for row in rows} == set(counts.items())
    assert [int(row[0]) for row in rows] == sorted((int(row[0]) for row in rows), reverse=True)
    assert ["ML301", "latest-image-tag", "error"] in [row[1:] for row in rows]


def test_concise_and_quiet(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    active = _active(capsys, "k8s")
    assert main(["scan", "k8s", "--output-format", "concise"]) == 1
    out = capsys.readouterr().out.splitlines()
    assert "k8s/job.yaml:10:18: ML301 error: container 't' image" in "\n".join(out)
    assert len(out) == len(active) + 1 and out[-1].startswith(f"Found {len(active)} problems")
    assert all("|" not in line for line in out)  # no code frames
    assert main(["scan", "k8s", "-f", "concise", "-q"]) == 1
    quiet = capsys.readouterr().out.splitlines()
    assert quiet == out[:-1]


def test_show_threshold_leaves_the_exit_code_to_fail_on(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["scan", "k8s", "-f", "concise", "--show", "error", "--fail-on", "note"]) == 1
    out = capsys.readouterr().out
    assert "ML301" in out and "ML505" not in out
    assert out.splitlines()[-1].endswith("below error not shown (--show).")
    assert main(["scan", "k8s", "-f", "concise", "--show", "ERROR", "--fail-on", "ERROR"]) == 1  # any case


def test_several_reports_from_one_scan_and_a_summary_with_output(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["scan", "k8s", "-o", "out.txt", "--report", "sarif=out.sarif", "--report", "JSON=out.json"])
    assert code == 1
    assert capsys.readouterr().err.strip().startswith("Found ")  # text to a file: the summary still shows
    assert "ML301" in (project / "out.txt").read_text()
    assert json.loads((project / "out.json").read_text())["summary"]["findings"] >= 1
    assert json.loads((project / "out.sarif").read_text())["version"] == "2.1.0"
    assert main(["scan", "k8s", "--report", "xml=out.xml"]) == 2


def test_force_exclude_applies_exclude_to_named_files(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["scan", "vendor/job.yaml", "-f", "concise"]) == 1  # named: read, as ruff does without the flag
    capsys.readouterr()
    assert main(["scan", "vendor/job.yaml", "k8s/quiet.yaml", "--force-exclude", "-f", "concise"]) == 0
    assert "vendor" not in capsys.readouterr().out


def test_verbose_marks_suppressed_and_baselined_findings(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["scan", "k8s/job.yaml", "--write-baseline", "base.json"]) == 0
    capsys.readouterr()
    assert main(["scan", "k8s", "-v", "--baseline", "base.json", "-f", "concise"]) == 0
    out = capsys.readouterr().out
    assert "ML301 error: container 't' image" in out
    assert "(suppressed: promoted by digest)" in out and "(baselined: accepted in baseline base.json)" in out
    assert main(["scan", "k8s", "-v", "--baseline", "base.json"]) == 0
    text = capsys.readouterr().out
    assert "[latest-image-tag] (suppressed: promoted by digest)" in text and "(baselined: " in text


def test_config_validate_of_a_missing_path_and_schema_key(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["config", "validate", "/nonexistent/path"]) == 2
    (project / ".mllint.yaml").write_text("$schema: https://mllint.dev/schemas/config.schema.json\nselect: [ML301]\n")
    assert main(["config", "validate"]) == 0


def test_ctrl_c_is_one_line_and_exit_130(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    def interrupted(*args: object, **kwargs: object) -> None:
        raise click.exceptions.Abort() from KeyboardInterrupt()

    monkeypatch.setattr(cli.cli, "main", interrupted)
    assert cli.run(["scan"]) == 130
    assert capsys.readouterr().err == "mllint: interrupted\n"


def test_parse_errors_report_whatever_is_selected(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("apiVersion: v1\nkind: Pod\nmetadata: {name: x\n")
    assert main(["scan", str(bad), "--select", "ML5", "-f", "concise"]) == 1
    assert " ML001 error: " in capsys.readouterr().out
    assert main(["scan", str(bad), "--select", "ML5", "--ignore", "ML001"]) == 0  # unless ignored by name


def test_a_symlink_loop_named_as_a_path_is_skipped_not_a_crash(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "loop").symlink_to("loop")
    assert main(["scan", str(tmp_path / "loop"), "-v"]) == 0
    assert "symlink loop" in capsys.readouterr().out


def test_rule_urls_rules_json_and_explain_without_markers(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["scan", "fixtures/ML301", "-f", "json", "--fail-on", "never"]) == 0
    finding = json.loads(capsys.readouterr().out)["findings"][0]
    assert finding["url"].endswith(f"docs/rules.md#{finding['rule'].lower()}-{finding['name']}")
    assert main(["rules", "-f", "json"]) == 0
    rules = {r["id"]: r for r in json.loads(capsys.readouterr().out)}
    assert rules["ML110"]["enabled"] is False and rules["ML301"]["enabled"] is True
    assert rules["ML110"]["parameters"]["key"]["default"] == "nvidia.com/gpu" and rules["ML301"]["url"]
    assert main(["explain", "ML508"]) == 0
    assert "expect:" not in capsys.readouterr().out


def test_custom_rule_findings_carry_the_remediation(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["scan", "examples/ml-platform/k8s/serving.yaml", "--select", "ACME001", "-f", "json"]) == 1
    findings = json.loads(capsys.readouterr().out)["findings"]
    assert findings and all(f["fix"] and "priorityClassName" in f["fix"] for f in findings)
    assert all(f["url"] is None for f in findings)  # a team's rule is not in mllint's docs


def test_verbose_names_stale_baseline_entries(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["scan", "k8s", "--write-baseline", "base.json"]) == 0
    (project / "k8s" / "job.yaml").write_text(JOB.replace("train:latest", "train:1.0"))  # one finding fixed
    capsys.readouterr()
    main(["scan", "k8s", "--baseline", "base.json", "-v"])
    assert "1 baseline entry in base.json matched nothing" in capsys.readouterr().err


@pytest.mark.parametrize("fmt", ["junit", "checkstyle"])
def test_xml_reports_parse_and_count_the_active_findings(
    fmt: str, project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import xml.etree.ElementTree as ET

    (project / "k8s" / "Dockerfile").write_bytes(b"FROM evil\x1b[31m\x01:latest\nUSER app\n")
    active = _active(capsys, "k8s", "--extend-select", "ML301")
    assert main(["scan", "k8s", "--extend-select", "ML301", "-f", fmt, "-o", "out.xml"]) == 1
    root = ET.fromstring((project / "out.xml").read_bytes())
    if fmt == "junit":
        cases = root.findall("./testsuite/testcase")
        assert {c.get("name") for c in cases} == {"k8s/job.yaml", "k8s/quiet.yaml", "k8s/Dockerfile"}
        reported = "".join(f.text or "" for f in root.iter("failure"))
        assert reported.count(": ML") == len(active) and "\\x1b" in reported
        assert root.get("failures") == str(len({f["path"] for f in active}))
    else:
        errors = root.findall("./file/error")
        assert len(errors) == len(active) and {e.get("source") for e in errors} == {
            f"mllint.{f['rule']}" for f in active
        }
        assert any("\\x1b" in (e.get("message") or "") for e in errors)


def test_config_extend_builds_on_a_shared_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    team, repo = tmp_path / "team", tmp_path / "repo"
    (team / "rules-folder").mkdir(parents=True)
    (repo / "k8s").mkdir(parents=True)
    (team / "base.yaml").write_text('select: [ML301, ML505]\nseverity: {ML301: error}\nexclude: ["vendor/**"]\n')
    (repo / ".mllint.yaml").write_text("extend: ../team/base.yaml\nseverity: {ML505: error}\n")
    (repo / "k8s" / "job.yaml").write_text(JOB)
    assert main(["scan", str(repo / "k8s"), "-f", "json"]) == 1
    found = {(f["rule"], f["severity"]) for f in json.loads(capsys.readouterr().out)["findings"]}
    assert found == {("ML301", "error"), ("ML505", "error")}  # the team's selection, both severities merged
    (repo / "a.yaml").write_text("extend: b.yaml\n")
    (repo / "b.yaml").write_text("extend: a.yaml\n")
    assert main(["scan", str(repo / "k8s"), "--config", str(repo / "a.yaml")]) == 2
    assert "a loop" in capsys.readouterr().err


@pytest.mark.skipif(__import__("shutil").which("git") is None, reason="git is not installed")
def test_what_git_ignores_is_not_scanned(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import subprocess

    monkeypatch.chdir(tmp_path)
    subprocess.run(["git", "init", "-q"], check=True)
    for name in ("k8s/job.yaml", "out/rendered.yaml", "k8s/we[i]rd.yaml"):
        (tmp_path / name).parent.mkdir(exist_ok=True)
        (tmp_path / name).write_text(JOB)
    (tmp_path / ".gitignore").write_text("out/\nk8s/we[[]i]rd.yaml\n")

    def scanned(*args: str) -> set[str]:
        main(["scan", *args, "--select", "ML301", "-f", "json", "--fail-on", "never"])
        return {f["path"] for f in json.loads(capsys.readouterr().out)["findings"]}

    assert scanned(".") == {"k8s/job.yaml"}
    monkeypatch.chdir(tmp_path / "k8s")
    assert scanned(str(tmp_path)) == {"job.yaml"}  # an absolute path, from a subfolder: the same files
    monkeypatch.chdir(tmp_path)
    assert scanned(".", "--no-respect-gitignore") == {"k8s/job.yaml", "out/rendered.yaml", "k8s/we[i]rd.yaml"}
    assert scanned("out/rendered.yaml") == {"out/rendered.yaml"}  # named: read, unless --force-exclude
    assert scanned("out/rendered.yaml", "--force-exclude") == set()
