"""One selector grammar: the same selector names the same rules on the command line, in the configuration,
in `# mllint: disable` comments and in the `mllint.dev/ignore` annotation; one that names no rule is refused
(command line, configuration) or reported as ML007 (comments, annotations), with the same words."""

from __future__ import annotations

from pathlib import Path

import pytest

from mllint import config, engine
from mllint.options import from_config
from mllint.registry import builtin, names
from mllint.selectors import resolve, suggestion, unknown_message

MANIFEST = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: vllm
{annotations}spec:
  template:
    spec:
      containers:
        - name: vllm
          image: vllm/vllm-openai:latest
          args: [--model, /models/llama]
          resources:
            requests: {{nvidia.com/gpu: 1}}
"""
COMMENT = "# mllint: disable-file={selector} -- reviewed\n"
ANNOTATION = '  annotations:\n    mllint.dev/ignore: "{selector}"\n'

VALID = [
    "ML101",
    "ml101",
    "ML1",
    "ml1",
    "ML",
    "gpu-request-without-limit",
    "latest-image-tag",
    "all",
    "ALL",
    "ML3,ML101",
]
INVALID = [
    ("M", None),
    ("ML1O1", "ML101"),
    ("ML999", None),
    ("GPU-Request-Without-Limit", "gpu-request-without-limit"),
    ("gpu-request-without-limt", "gpu-request-without-limit"),
    ("ML01", "ML001"),
]


def _write(tmp_path: Path, text: str, settings: str = "") -> str:
    (tmp_path / "deploy.yaml").write_text(text)
    if settings:
        (tmp_path / ".mllint.yaml").write_text(settings)
    return str(tmp_path / "deploy.yaml")


def _fired(tmp_path: Path) -> set[str]:
    path = _write(tmp_path, MANIFEST.format(annotations=""))
    return {f.rule for f in engine.scan([path], engine.Options(jobs=1)).findings}


def _expected(selector: str) -> set[str]:
    return {rid for part in selector.split(",") for rid in resolve(part, names(builtin()))}


@pytest.mark.parametrize("selector", VALID)
def test_a_selector_names_the_same_rules_everywhere(tmp_path: Path, selector: str) -> None:
    fired = _fired(tmp_path)
    assert {"ML101", "ML301"} <= fired
    named = _expected(selector) & fired
    assert named
    parts = selector.split(",")
    # command line: --ignore
    path = _write(tmp_path, MANIFEST.format(annotations=""))
    kept = {f.rule for f in engine.scan([path], engine.Options(ignore=parts, jobs=1)).findings}
    assert fired - kept == named
    # configuration: ignore
    path = _write(tmp_path, MANIFEST.format(annotations=""), f"ignore: {parts!r}\n")
    cfg = config.load(None, path)
    kept = {f.rule for f in engine.scan([path], from_config(cfg, jobs=1)).findings}
    assert fired - kept == named
    (tmp_path / ".mllint.yaml").unlink()
    # a comment, and the annotation
    for text in (
        COMMENT.format(selector=selector) + MANIFEST.format(annotations=""),
        MANIFEST.format(annotations=ANNOTATION.format(selector=selector)),
    ):
        path = _write(tmp_path, text)
        findings = engine.scan([path], engine.Options(jobs=1)).findings
        assert {f.rule for f in findings if f.suppressed} == named, text
        assert not [f for f in findings if f.rule == "ML007"]


@pytest.mark.parametrize(("selector", "close"), INVALID)
def test_a_selector_that_names_no_rule_is_refused_everywhere(tmp_path: Path, selector: str, close: str | None) -> None:
    known = names(builtin())
    assert resolve(selector, known) == []
    assert suggestion(selector, known) == close
    message = unknown_message(selector, known)
    assert (f"did you mean {close!r}?" in message) == (close is not None)
    path = _write(tmp_path, MANIFEST.format(annotations=""))
    with pytest.raises(
        engine.UsageError, match=f"--ignore: {message}".replace("(", r"\(").replace(")", r"\)").replace("?", r"\?")
    ):
        engine.scan([path], engine.Options(ignore=[selector], jobs=1))
    _write(tmp_path, MANIFEST.format(annotations=""), f"ignore: [{selector!r}]\n")
    with pytest.raises(config.ConfigError) as refused:
        config.load(None, path)
    assert str(refused.value).endswith(f".mllint.yaml:1:10: ignore.0: {message}")
    (tmp_path / ".mllint.yaml").unlink()
    for text in (
        COMMENT.format(selector=selector) + MANIFEST.format(annotations=""),
        MANIFEST.format(annotations=ANNOTATION.format(selector=selector)),
    ):
        path = _write(tmp_path, text)
        findings = engine.scan([path], engine.Options(jobs=1)).findings
        unknown = [f for f in findings if f.rule == "ML007"]
        assert len(unknown) == 1 and f"{selector!r} in this" in unknown[0].message, text
        assert unknown[0].message.endswith(f"({message.split(' (', 1)[1]}")
        assert not [f for f in findings if f.suppressed]
        line = text.splitlines()[unknown[0].span.line - 1]
        assert line[unknown[0].span.column - 1 : unknown[0].span.end_column - 1] == selector


def test_a_preview_rule_runs_only_with_preview(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from dataclasses import replace

    rule = builtin()["ML301"]
    monkeypatch.setitem(builtin(), "ML301", type(rule)(replace(rule.meta, preview=True), rule.func))
    path = _write(tmp_path, MANIFEST.format(annotations=""))
    assert "ML301" not in {f.rule for f in engine.scan([path], engine.Options(jobs=1)).findings}
    assert "ML301" not in {f.rule for f in engine.scan([path], engine.Options(select=["ML3"], jobs=1)).findings}
    with pytest.raises(engine.UsageError, match=r"ML301 \(latest-image-tag\) is a preview rule: add --preview"):
        engine.scan([path], engine.Options(select=["ML301"], jobs=1))
    found = engine.scan([path], engine.Options(select=["ML301"], preview=True, jobs=1)).findings
    assert {f.rule for f in found} == {"ML301"}
