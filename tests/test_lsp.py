"""`mllint server` driven over stdio with real LSP messages (a subprocess, every read with a timeout: a test fails
instead of hanging), and the mapping of findings, fixes and positions to LSP objects."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from mllint.lsp import actions, protocol
from mllint.lsp.client import LspClient
from mllint.lsp.diagnostics import diagnostic, span_range
from mllint.lsp.positions import UTF8, UTF16, UTF32, TextIndex, apply_change, choose_encoding, units
from mllint.model import Edit, Finding, Fix, Span

# Each wait for the server: far above the few seconds the tests take, so that only a hang (or a server that stopped
# answering) fails them, even on a loaded machine
TIMEOUT = 30.0

# ---- the server over stdio

DOCKERFILE = 'FROM python:3.11-slim\nRUN pip install torch==2.3.0\nCMD ["python", "app.py"]\n'
TOKEN = "hf_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789"
DEPLOYMENT = f"""apiVersion: apps/v1
kind: Deployment
metadata:
  name: ml-model-server
spec:
  replicas: 1
  template:
    spec:
      containers:
      - name: model-server
        image: tensorflow/serving:2.14.1-gpu
        env:
        - name: HF_TOKEN
          value: {TOKEN}
        resources:
          limits:
            nvidia.com/gpu: 1
            memory: "8Gi"
          requests:
            nvidia.com/gpu: 2
            memory: "4Gi"
"""
QUOTA = """apiVersion: v1
kind: ResourceQuota
metadata:
  name: team-quota
  namespace: team
spec:
  hard:
    requests.nvidia.com/gpu: "4"
"""
TRAINING = """apiVersion: batch/v1
kind: Job
metadata:
  name: finetune
  namespace: team
spec:
  parallelism: 3
  template:
    spec:
      restartPolicy: Never
      containers:
        - name: train
          image: pytorch/pytorch:2.3.0-cuda12.1-cudnn8-runtime
          resources:
            limits:
              nvidia.com/gpu: 2
"""


@pytest.fixture
def server(tmp_path: Path) -> Any:
    clients: list[LspClient] = []

    def start(files: dict[str, str]) -> LspClient:
        for name, text in files.items():
            (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
            (tmp_path / name).write_text(text, encoding="utf-8")
        client = LspClient(tmp_path, timeout=TIMEOUT)
        clients.append(client)
        result = client.request(
            "initialize",
            {"processId": os.getpid(), "rootUri": tmp_path.as_uri(), "capabilities": {}, "workspaceFolders": None},
        )
        assert result["capabilities"]["textDocumentSync"]["change"] == 2  # incremental
        assert result["capabilities"]["positionEncoding"] == "utf-16"
        client.notify("initialized", {})
        return client

    yield start
    for client in clients:
        client.kill()


def _open(client: LspClient, path: Path, language: str, version: int = 1) -> list[dict[str, Any]]:
    text = path.read_text(encoding="utf-8")
    client.notify(
        "textDocument/didOpen",
        {"textDocument": {"uri": path.as_uri(), "languageId": language, "version": version, "text": text}},
    )
    return client.diagnostics(path.as_uri(), version)


def _by_rule(diagnostics: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {d["code"]: d for d in diagnostics}


def _range(line: int, start: int, end_line: int, end: int) -> dict[str, Any]:
    return {"start": {"line": line, "character": start}, "end": {"line": end_line, "character": end}}


def test_diagnostics_fix_and_exit(server: Any, tmp_path: Path) -> None:
    client = server({"Dockerfile": DOCKERFILE, "k8s/serve.yaml": DEPLOYMENT})
    docker = tmp_path / "Dockerfile"
    found = _by_rule(_open(client, docker, "dockerfile"))
    assert set(found) == {"ML403"}
    ml403 = found["ML403"]
    assert ml403["range"] == _range(1, 4, 1, 7)  # `pip` of line 2, 0-based
    assert ml403["severity"] == 2 and ml403["source"] == "mllint"
    assert ml403["codeDescription"]["href"].endswith("#ml403-pip-cache-in-layer")

    manifest = _by_rule(_open(client, tmp_path / "k8s/serve.yaml", "yaml"))
    assert manifest["ML101"]["range"] == _range(19, 28, 19, 29)  # the request `2`
    assert manifest["ML101"]["severity"] == 1
    assert manifest["ML507"]["severity"] == 3  # a note is information
    assert "ML703" in manifest
    assert TOKEN not in json.dumps(client.notifications) + json.dumps(manifest)

    # a quick fix for the finding under the cursor, applied as an editor would: the edit as an incremental change
    fixes = client.request(
        "textDocument/codeAction",
        {"textDocument": {"uri": docker.as_uri()}, "range": _range(1, 5, 1, 5), "context": {"diagnostics": [ml403]}},
    )
    quick = [a for a in fixes if a["kind"] == "quickfix"]
    assert quick and quick[0]["isPreferred"] is True
    assert quick[0]["diagnostics"][0]["code"] == "ML403"
    edits = quick[0]["edit"]["changes"][docker.as_uri()]
    changes = [{"range": e["range"], "text": e["newText"]} for e in reversed(edits)]
    client.notify(
        "textDocument/didChange", {"textDocument": {"uri": docker.as_uri(), "version": 2}, "contentChanges": changes}
    )
    assert client.diagnostics(docker.as_uri(), 2) == []
    text = DOCKERFILE
    for change in changes:
        text = apply_change(text, change)
    assert "--no-cache-dir" in text.splitlines()[1]

    # an edit that brings the problem back, then closing the document clears its diagnostics
    client.notify(
        "textDocument/didChange",
        {"textDocument": {"uri": docker.as_uri(), "version": 3}, "contentChanges": [{"text": DOCKERFILE}]},
    )
    assert [d["code"] for d in client.diagnostics(docker.as_uri(), 3)] == ["ML403"]
    client.notify("textDocument/didClose", {"textDocument": {"uri": docker.as_uri()}})
    assert client.diagnostics(docker.as_uri()) == []
    assert client.close() == 0


def test_cross_file_quota(server: Any, tmp_path: Path) -> None:
    """ML603 on the quota comes from a Job in another file; editing that file (unsaved) updates the quota's
    diagnostics, and the Job's lines are the finding's related locations."""
    client = server({"quota.yaml": QUOTA, "train/job.yaml": TRAINING})
    quota, job = tmp_path / "quota.yaml", tmp_path / "train/job.yaml"
    found = _by_rule(_open(client, quota, "yaml"))
    assert "ML603" in found
    assert found["ML603"]["range"]["start"]["line"] == 7
    related = found["ML603"]["relatedInformation"]
    assert {r["location"]["uri"] for r in related} == {job.as_uri()}
    assert all(r["location"]["range"]["start"]["line"] > 0 for r in related)

    at_job = _by_rule(_open(client, job, "yaml"))["ML603"]  # shown at the Job too, where it is caused
    assert at_job["relatedInformation"][0] == {
        "location": {"uri": quota.as_uri(), "range": found["ML603"]["range"]},
        "message": "reported here",
    }
    client.notify(
        "textDocument/didChange",
        {
            "textDocument": {"uri": job.as_uri(), "version": 2},
            "contentChanges": [{"range": _range(6, 15, 6, 16), "text": "2"}],  # parallelism: 3 -> 2
        },
    )
    assert "ML603" not in _by_rule(client.diagnostics(job.as_uri(), 2))
    assert "ML603" not in _by_rule(client.diagnostics(quota.as_uri()))
    assert client.close() == 0


def test_configuration_and_exit_without_shutdown(server: Any, tmp_path: Path) -> None:
    client = server({".mllint.yaml": "ignore: [ML403]\n", "Dockerfile": DOCKERFILE, "notes.txt": "RUN pip install x\n"})
    assert _open(client, tmp_path / "Dockerfile", "dockerfile") == []
    assert _open(client, tmp_path / "notes.txt", "plaintext") == []  # not a file mllint reads
    # the configuration changes on disk: the open documents are checked again under it
    (tmp_path / ".mllint.yaml").write_text("ignore: [ML404]\n", encoding="utf-8")
    client.notify(
        "workspace/didChangeWatchedFiles", {"changes": [{"uri": (tmp_path / ".mllint.yaml").as_uri(), "type": 2}]}
    )
    assert [d["code"] for d in client.diagnostics((tmp_path / "Dockerfile").as_uri())] == ["ML403"]
    with pytest.raises(RuntimeError, match="-32601"):
        client.request("textDocument/hover", {})
    client.notify("exit", None)
    assert client.proc.wait(timeout=TIMEOUT) == 1  # exit before shutdown


# ---- the mapping, on hand-made findings

ASTRAL = "name: 🚀 😀x: bad\n"  # two characters outside the BMP before `bad`


def test_positions_count_utf16_code_units() -> None:
    index = TextIndex(ASTRAL)
    column = ASTRAL.index("bad") + 1  # mllint's 1-based code-point column
    span = Span("a.yaml", 1, column, 1, column + 3)
    assert span_range(index, span) == _range(0, 14, 0, 17)  # 🚀 and 😀 are two code units each
    assert span_range(index, span, UTF32) == _range(0, 12, 0, 15)
    assert span_range(index, span, UTF8)["start"]["character"] == len(ASTRAL[: column - 1].encode())
    assert index.offset({"line": 0, "character": 14}) == column - 1
    assert index.offset({"line": 0, "character": 7}) == 7  # inside the surrogate pair: the character after it
    assert index.offset({"line": 0, "character": 99}) == len(ASTRAL) - 1  # past the end: the line's end
    assert units("🚀") == 2 and units("🚀", UTF8) == 4 and units("🚀", UTF32) == 1


def test_incremental_changes_and_line_breaks() -> None:
    text = "a: 🚀\r\nb: 1\n"
    text = apply_change(text, {"range": _range(0, 5, 0, 5), "text": "!"})  # after the rocket (2 units)
    assert text == "a: 🚀!\r\nb: 1\n"
    text = apply_change(text, {"range": _range(1, 3, 1, 4), "text": "2"})
    assert text == "a: 🚀!\r\nb: 2\n"
    text = apply_change(text, {"range": _range(0, 6, 1, 0), "text": ""})  # join the lines
    assert text == "a: 🚀!b: 2\n"
    assert apply_change(text, {"text": "new"}) == "new"
    # mllint counts lines at LF only; a finding on line 2 of a CRLF file is on LSP line 1
    index = TextIndex("x\r\ny: z\r\n")
    assert span_range(index, Span("f", 2, 4, 2, 5)) == _range(1, 3, 1, 4)
    assert choose_encoding({"general": {"positionEncodings": ["utf-32", "utf-16"]}}) == UTF32
    assert choose_encoding({}) == UTF16


def _finding(fix: Fix | None, causes: tuple[Span, ...] = ()) -> Finding:
    finding = Finding("ML101", Span("a.yaml", 1, 13, 1, 16), "bad value", fix="use good", severity="error")
    finding.autofix, finding.causes = fix, causes
    return finding


def _resolve(display: str) -> tuple[str, TextIndex] | None:
    texts = {"a.yaml": ASTRAL, "b.yaml": "x: 1\n"}
    return (f"file:///w/{display}", TextIndex(texts[display])) if display in texts else None


def test_fixes_become_workspace_edits() -> None:
    bad = ASTRAL.index("bad")
    safe = Fix("replace bad with good", True, (Edit("a.yaml", bad, bad + 3, "good"), Edit("b.yaml", 3, 4, "2")))
    action = actions.quick_fix(_finding(safe), None, _resolve)
    assert action is not None
    assert action["title"] == "replace bad with good" and action["isPreferred"] is True
    assert action["edit"]["changes"]["file:///w/a.yaml"] == [{"range": _range(0, 14, 0, 17), "newText": "good"}]
    assert action["edit"]["changes"]["file:///w/b.yaml"] == [{"range": _range(0, 3, 0, 4), "newText": "2"}]

    unsafe = Fix("use the runtime image", False, (Edit("a.yaml", 0, 4, "kind"),))
    action = actions.quick_fix(_finding(unsafe), None, _resolve)
    assert action is not None and action["isPreferred"] is False and "unsafe" in action["title"]
    assert actions.quick_fix(_finding(None), None, _resolve) is None
    assert actions.quick_fix(_finding(Fix("x", True, (Edit("gone.yaml", 0, 1, ""),))), None, _resolve) is None

    # fix-all: safe fixes only, an overlapping one left for the next round
    overlapping = Fix("other", True, (Edit("a.yaml", bad + 1, bad + 2, "o"),))
    everything = actions.fix_all([_finding(safe), _finding(overlapping), _finding(unsafe)], _resolve)
    assert everything is not None and everything["title"] == "mllint: apply 1 safe fix"


def test_diagnostic_fields() -> None:
    from mllint.registry import builtin

    cause = Span("b.yaml", 1, 1, 1, 2)
    finding = _finding(None, causes=(cause,))

    def locate(span: Span) -> dict[str, Any] | None:
        target = _resolve(span.path)
        return None if target is None else {"uri": target[0], "range": span_range(target[1], span)}

    out = diagnostic(finding, TextIndex(ASTRAL), builtin(), locate)
    assert out["code"] == "ML101" and out["severity"] == 1 and out["source"] == "mllint"
    assert out["message"] == "bad value\nHelp: use good"
    assert out["codeDescription"]["href"].startswith("https://")
    assert out["relatedInformation"] == [
        {"location": {"uri": "file:///w/b.yaml", "range": _range(0, 0, 0, 1)}, "message": "caused here"}
    ]


def test_framing_round_trip() -> None:
    import io

    message = {"jsonrpc": "2.0", "method": "x", "params": {"text": "🚀"}}
    stream = io.BytesIO(protocol.encode(message) + protocol.encode(message))
    assert protocol.read_message(stream) == message
    assert protocol.read_message(stream) == message
    assert protocol.read_message(stream) is None
    with pytest.raises(protocol.ProtocolError):
        protocol.read_message(io.BytesIO(b"Content-Type: x\r\n\r\n{}"))


def test_workspace_follows_files_on_disk(tmp_path: Path) -> None:
    """Files that change outside the editor: a Job read from disk counts toward the quota, and a kustomization
    that makes an open document a patch silences what a patch leaves to its base."""
    from mllint.lsp.workspace import Workspace

    (tmp_path / "quota.yaml").write_text(QUOTA, encoding="utf-8")
    (tmp_path / "serve.yaml").write_text(DEPLOYMENT, encoding="utf-8")
    ws = Workspace(tmp_path)
    ws.update(tmp_path / "quota.yaml", "yaml", QUOTA)
    ws.update(tmp_path / "serve.yaml", "yaml", DEPLOYMENT)

    def rules(display: str) -> set[str]:
        return {shown.finding.rule for shown in ws.findings([display])[display]}

    assert "ML603" not in rules("quota.yaml")
    (tmp_path / "job.yaml").write_text(TRAINING, encoding="utf-8")
    ws.changed_on_disk(tmp_path / "job.yaml")
    assert "ML603" in rules("quota.yaml")
    (tmp_path / "job.yaml").unlink()
    ws.changed_on_disk(tmp_path / "job.yaml", deleted=True)
    assert "ML603" not in rules("quota.yaml")

    assert "ML501" in rules("serve.yaml")  # no readinessProbe
    (tmp_path / "kustomization.yaml").write_text("patches:\n  - path: serve.yaml\n", encoding="utf-8")
    ws.changed_on_disk(tmp_path / "kustomization.yaml")
    assert "ML501" not in rules("serve.yaml")  # a patch: its base has the probe
    ws.revert(tmp_path / "serve.yaml")
    assert "ML501" not in rules("serve.yaml")
