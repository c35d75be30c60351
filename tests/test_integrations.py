"""Configuration files, inline suppressions and baselines, through the command line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mllint import config, engine
from mllint.__main__ import main

DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: api
spec:
  template:
    spec:
      containers:
        - name: api
          image: ghcr.io/acme/api:latest
          resources:
            limits: {cpu: "1", memory: 1Gi}
"""


def _scan(tmp_path: Path, *args: str) -> tuple[int, dict]:
    out = tmp_path / "report.json"
    code = main(["scan", str(tmp_path / "src"), "-f", "json", "-o", str(out), *args])
    return code, json.loads(out.read_text()) if out.exists() else {}


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / "src" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def _active(report: dict) -> list[tuple[str, int]]:
    return [(f["rule"], f["line"]) for f in report["findings"] if f["suppressed"] is None]


def test_yaml_config_is_found_upward_and_applied(tmp_path: Path) -> None:
    _write(tmp_path, "k8s/api.yaml", DEPLOYMENT)
    (tmp_path / ".mllint.yaml").write_text("severity:\n  latest-image-tag: error\nfail-on: error\n")
    code, report = _scan(tmp_path)
    assert code == 1 and [f["severity"] for f in report["findings"] if f["rule"] == "ML301"] == ["error"]
    (tmp_path / ".mllint.yaml").write_text("ignore: [ML301]\n")
    code, report = _scan(tmp_path)
    assert code == 0 and not _active(report)


def test_pyproject_config_with_rule_parameters_and_per_path_ignores(tmp_path: Path) -> None:
    _write(tmp_path, "k8s/api.yaml", DEPLOYMENT)
    _write(tmp_path, "tests/api.yaml", DEPLOYMENT)
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "x"\n\n[tool.mllint]\nselect = ["ML301"]\n\n'
        '[tool.mllint.per-path-ignores]\n"src/tests/*" = ["latest-image-tag"]\n'
    )
    _code, report = _scan(tmp_path)
    assert [f["path"].endswith("k8s/api.yaml") for f in report["findings"]] == [True]


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ("severity:\n  ML301: fatal\n", ":2:10: severity.ML301: 'fatal' is not one of"),
        ("selct: [ML1]\n", ":1:1: selct: unknown key 'selct'"),
        ("rules:\n  ML503: {model_load_secs: 1}\n", ":2:11: rules.ML503.model_load_secs: unknown key"),
        (
            "rules:\n  ML503: {model_load_seconds: soon}\n",
            ":2:31: rules.ML503.model_load_seconds: 'soon' is not of type",
        ),
        ("select: [ML1\n", ":1:13: YAML syntax error"),
    ],
)
def test_config_errors_name_file_line_and_key(
    tmp_path: Path, text: str, where: str, capsys: pytest.CaptureFixture[str]
) -> None:
    _write(tmp_path, "k8s/api.yaml", DEPLOYMENT)
    (tmp_path / ".mllint.yaml").write_text(text)
    code, _ = _scan(tmp_path)
    err = capsys.readouterr().err
    assert code == 2 and f".mllint.yaml{where}" in err, err
    assert main(["config", "validate", str(tmp_path)]) == 2


def test_config_schema_command_prints_the_schema(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["config", "schema"]) == 0
    assert json.loads(capsys.readouterr().out)["properties"]["fail-on"]["enum"][-1] == "never"


def test_rule_parameters_reach_the_rules(tmp_path: Path) -> None:
    cfg = config.Config(values={"rules": {"gpu-taint-not-tolerated": {"key": "dedicated", "value": "gpu"}}})
    assert config.rule_params(cfg) == {"ML110": {"key": "dedicated", "value": "gpu"}}
    result = engine.scan(
        ["fixtures/ML110/ok-tolerated.yaml"], engine.Options(select=["ML110"], params=config.rule_params(cfg), jobs=1)
    )
    assert {f.message.split(" asks")[0] for f in result.findings} == {
        "container 'triton'",
        "container 'kserve-container'",
    }


def test_inline_comments_annotations_and_file_level_suppressions(tmp_path: Path) -> None:
    _write(
        tmp_path,
        "a.yaml",
        DEPLOYMENT.replace("api:latest", "api:latest  # mllint: disable=ML301 -- promoted by digest in CD"),
    )
    _write(
        tmp_path,
        "b.yaml",
        DEPLOYMENT.replace("  name: api\n", "  name: api\n  annotations:\n    mllint.dev/ignore: latest-image-tag\n"),
    )
    _write(tmp_path, "c.yaml", "# mllint: disable-file=ML3\n" + DEPLOYMENT)
    _write(
        tmp_path,
        "Dockerfile",
        "# mllint: disable=ML301 -- rebuilt nightly\nFROM pytorch/pytorch:latest \\\n    AS base\n",
    )
    code, report = _scan(tmp_path, "--select", "ML301,ML006")
    assert code == 0 and not _active(report)
    reasons = {Path(f["path"]).name: f["suppressed"] for f in report["findings"]}
    assert reasons["a.yaml"] == "promoted by digest in CD" and reasons["Dockerfile"] == "rebuilt nightly"
    assert reasons["b.yaml"].startswith("annotation mllint.dev/ignore")
    code, report = _scan(tmp_path, "--select", "ML301", "--no-inline-suppressions")
    assert code == 1 and len(_active(report)) == 4


def test_annotations_suppress_cross_file_findings_inside_their_object(tmp_path: Path) -> None:
    quota = (
        "apiVersion: v1\nkind: ResourceQuota\nmetadata: {name: q, namespace: other}\n"
        "spec: {hard: {requests.nvidia.com/gpu: '4'}}\n"
    )
    gpu_job = DEPLOYMENT.replace("  name: api\n", "  name: api\n  namespace: ml\n").replace(
        'limits: {cpu: "1", memory: 1Gi}', 'limits: {cpu: "1", memory: 1Gi, nvidia.com/gpu: 1}'
    )
    _write(tmp_path, "quota.yaml", quota)
    path = _write(tmp_path, "api.yaml", gpu_job)
    code, report = _scan(tmp_path, "--select", "ML602")
    assert _active(report) == [("ML602", 13)]
    path.write_text(
        gpu_job.replace(
            "  namespace: ml\n", "  namespace: ml\n  annotations:\n    mllint.dev/ignore: namespace-gpu-without-quota\n"
        )
    )
    code, report = _scan(tmp_path, "--select", "ML602")
    assert code == 0 and not _active(report)
    assert report["findings"][0]["suppressed"] == "annotation mllint.dev/ignore: namespace-gpu-without-quota"
    code, report = _scan(tmp_path, "--select", "ML602", "--no-inline-suppressions")
    assert code == 1 and len(_active(report)) == 1


def test_suppressions_reach_sarif(tmp_path: Path) -> None:
    _write(tmp_path, "a.yaml", DEPLOYMENT.replace("api:latest", "api:latest  # mllint: disable=ML301 -- ok"))
    out = tmp_path / "r.sarif"
    assert main(["scan", str(tmp_path / "src"), "--select", "ML301", "-f", "sarif", "-o", str(out)]) == 0
    [result] = json.loads(out.read_text())["runs"][0]["results"]
    assert result["suppressions"] == [{"kind": "inSource", "status": "accepted", "justification": "ok"}]


def test_baseline_accepts_old_findings_even_when_lines_move(tmp_path: Path) -> None:
    path = _write(tmp_path, "api.yaml", DEPLOYMENT)
    base = tmp_path / "baseline.json"
    assert main(["scan", str(tmp_path / "src"), "--select", "ML301", "--write-baseline", str(base)]) == 0
    path.write_text("# a comment that moves every line\n\n" + DEPLOYMENT)
    code, report = _scan(tmp_path, "--select", "ML301", "--baseline", str(base))
    assert code == 0 and report["findings"][0]["suppressed"] == "accepted in baseline baseline.json"
    path.write_text(DEPLOYMENT + "---\n" + DEPLOYMENT.replace("name: api", "name: worker"))
    code, report = _scan(tmp_path, "--select", "ML301", "--baseline", str(base), "--fail-on", "note")
    assert code == 1 and _active(report) == [("ML301", 23)]  # only the new object's finding
    out = tmp_path / "r.sarif"
    main(["scan", str(tmp_path / "src"), "--select", "ML301", "--baseline", str(base), "-f", "sarif", "-o", str(out)])
    kinds = [r.get("suppressions", [{}])[0].get("kind") for r in json.loads(out.read_text())["runs"][0]["results"]]
    assert sorted(map(str, kinds)) == ["None", "external"]


def test_unreadable_baseline_is_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _write(tmp_path, "api.yaml", DEPLOYMENT)
    (tmp_path / "b.json").write_text("{not json")
    code, _ = _scan(tmp_path, "--baseline", str(tmp_path / "b.json"))
    assert code == 2 and "not a readable mllint baseline" in capsys.readouterr().err


def test_config_selectors_must_name_rules(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _write(tmp_path, "k8s/api.yaml", DEPLOYMENT)
    (tmp_path / ".mllint.yaml").write_text('per-path-ignores:\n  "tests/**": [ML301, latest-tag]\n')
    code, _ = _scan(tmp_path)
    assert (
        code == 2
        and ".mllint.yaml:2:23: per-path-ignores.tests/**.1: 'latest-tag' matches no rule" in capsys.readouterr().err
    )


def test_missing_index_path_is_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _write(tmp_path, "k8s/api.yaml", DEPLOYMENT)
    code, _ = _scan(tmp_path, "--index", str(tmp_path / "nowhere"))
    assert code == 2 and "no such file or directory" in capsys.readouterr().err


def test_the_readme_configuration_example_is_valid(tmp_path: Path) -> None:
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    block = readme.split("## Configuration", 1)[1].split("```yaml\n", 1)[1].split("```", 1)[0]
    (tmp_path / ".mllint.yaml").write_text(block)
    (tmp_path / ".mllint" / "rules").mkdir(parents=True)
    cfg = config.load(None, tmp_path)
    assert cfg.get("cluster")["pools"][0]["driver"] == "535.104.05"


def test_named_build_contexts_are_not_stage_typos(tmp_path: Path) -> None:
    """ML407: `--from=shared` is a note (maybe `--build-context shared=...`), `build_contexts` accepts it,
    and a near miss of a stage name is an error that names the stage."""
    dockerfile = tmp_path / "Dockerfile"
    dockerfile.write_text(
        "FROM python:3.11 AS wheels\nFROM python:3.11-slim\nCOPY --from=shared /a /a\nCOPY --from=weels /w /w\n"
    )
    found = engine.scan([str(dockerfile)], engine.Options(select=["ML407"], jobs=1)).findings
    assert [(f.span.line, f.severity) for f in found] == [(3, "note"), (4, "error")]
    assert "did you mean 'wheels' (line 1)" in found[1].message
    params = {"ML407": {"build_contexts": ["shared"]}}
    found = engine.scan([str(dockerfile)], engine.Options(select=["ML407"], params=params, jobs=1)).findings
    assert [f.span.line for f in found] == [4]
