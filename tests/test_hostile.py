"""Hostile input is a clear finding or error, never a hang, a crash or a read outside the project. Each
input is generated here, not committed."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from mllint import config, engine
from mllint.configfile import ConfigError
from mllint.registry import builtin
from mllint.schema_safety import nested_repeat

POD = "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n    - {name: c, image: python:3.11}\n"
RULE = """\
id: ACME001
name: acme-check
target: Container
severity: warning
summary: A check of the team's own
description: A description of the team's own check, long enough for the schema.
remediation: Do what the team asks.
schema: SCHEMA
"""


def _mllint(*args: str, cwd: Path, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mllint", *args], cwd=cwd, capture_output=True, text=True, timeout=timeout
    )


def test_a_long_suppression_comment_is_read_in_linear_time(tmp_path: Path) -> None:
    (tmp_path / "pod.yaml").write_text(
        POD.replace("{name: p}", "{name: p}  # mllint: disable=ML301" + " " * 20000 + "x")
    )
    began = time.perf_counter()
    result = engine.scan([str(tmp_path / "pod.yaml")], engine.Options(jobs=1))
    assert time.perf_counter() - began < 10  # a backtracking pattern took minutes on this
    assert [f.rule for f in result.findings if f.rule == "ML007"] == ["ML007"]  # `ML301 ... x` names no rule


@pytest.mark.parametrize("text", ["select: &a [*a]\n", "a: &a {b: *a}\n"])
def test_a_configuration_alias_that_contains_itself_is_a_configuration_error(tmp_path: Path, text: str) -> None:
    (tmp_path / ".mllint.yaml").write_text(text)
    with pytest.raises(ConfigError, match=r"\.mllint\.yaml:1:\d+: an alias refers to a node that contains it"):
        config.load(tmp_path / ".mllint.yaml")
    (tmp_path / "pod.yaml").write_text(POD)
    done = _mllint("scan", "pod.yaml", cwd=tmp_path)
    assert done.returncode == 2 and "an alias refers to a node that contains it" in done.stderr


@pytest.mark.parametrize(
    ("schema", "why"),
    [
        ('{$ref: "http://127.0.0.1:9/schema.json"}', "points outside this rule file"),
        ('{$ref: "file:///etc/passwd"}', "points outside this rule file"),
        ('{properties: {x: {$dynamicRef: "https://example.com/s"}}}', "points outside this rule file"),
        ('{properties: {name: {pattern: "^(a+)+$"}}}', "repeats a repetition"),
        ('{patternProperties: {"(\\\\w+\\\\s?)*": {}}}', "repeats a repetition"),
    ],
)
def test_a_custom_rule_cannot_reach_out_or_backtrack(tmp_path: Path, schema: str, why: str) -> None:
    (tmp_path / ".mllint" / "rules").mkdir(parents=True)
    (tmp_path / ".mllint" / "rules" / "acme.yaml").write_text(RULE.replace("SCHEMA", schema))
    with pytest.raises(ConfigError, match=why):
        config.load(None, tmp_path)


def test_a_custom_rule_may_refer_inside_its_own_file(tmp_path: Path) -> None:
    schema = (
        '{$defs: {tagged: {properties: {image: {properties: {tag: {pattern: "^v[0-9]+$"}}}}}}, $ref: "#/$defs/tagged"}'
    )
    (tmp_path / ".mllint" / "rules").mkdir(parents=True)
    (tmp_path / ".mllint" / "rules" / "acme.yaml").write_text(RULE.replace("SCHEMA", schema))
    (tmp_path / "pod.yaml").write_text(POD)
    cfg = config.load(None, tmp_path)
    found = engine.scan(
        [str(tmp_path / "pod.yaml")], engine.Options(select=["ACME001"], jobs=1, rule_files=cfg.rule_files)
    ).findings
    assert ([f.rule for f in found] == ["ACME001"] and "'v[0-9]+'" in found[0].message) or "does not match" in found[
        0
    ].message


@pytest.mark.parametrize(
    ("pattern", "nested"),
    [
        ("^(a+)+$", True),
        ("(a*)*", True),
        ("(a|b+)*", True),
        ("^(x{1,20})+$", True),
        ("(?=(a+)+)", True),
        ("^[a-z0-9-]+$", False),
        ("(ab){2,3}", False),
        ("^(?:a|b)*$", False),
        ("^v[0-9]+(\\.[0-9]+)*$", False),
    ],
)
def test_nested_repetition_is_recognised(pattern: str, nested: bool) -> None:
    assert nested_repeat(pattern) is nested


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs on this platform")
def test_pipes_devices_and_links_out_of_the_folder_are_never_read(tmp_path: Path) -> None:
    project, outside = tmp_path / "project", tmp_path / "outside"
    project.mkdir()
    outside.mkdir()
    (outside / "Dockerfile").write_text("FROM python:latest\n")
    (project / "pod.yaml").write_text(POD)
    os.mkfifo(project / "pipe.yaml")
    (project / "zero.yaml").symlink_to("/dev/zero")
    (project / "stdin.yaml").symlink_to("/proc/self/fd/0")
    (project / "elsewhere").symlink_to(outside, target_is_directory=True)
    (project / "inside").symlink_to(project / "pod.yaml")
    done = _mllint("scan", "project", "-v", "-f", "json", cwd=tmp_path, timeout=60)
    assert done.returncode in (0, 1), done.stderr
    import json

    report = json.loads(done.stdout)
    skipped = {s["path"]: s["reason"] for s in report["skipped"]}
    assert skipped["project/pipe.yaml"].startswith("not a regular file")
    assert (
        skipped["project/zero.yaml"] == skipped["project/stdin.yaml"] == "a link that leads outside the scanned folder"
    )
    assert skipped["project/elsewhere"] == "a link that leads outside the scanned folder"
    assert not [f for f in report["findings"] if "outside" in f["path"] or "elsewhere" in f["path"]]
    named = _mllint("scan", "project/pipe.yaml", "-f", "json", cwd=tmp_path, timeout=60)  # named: still not read
    assert named.returncode == 0 and json.loads(named.stdout)["skipped"][0]["reason"].startswith("not a regular")


def _scan_text(tmp_path: Path, name: str, text: str) -> list:
    (tmp_path / name).write_text(text, encoding="utf-8")
    every = [rid for rid, rule in builtin().items() if "Host" not in rule.meta.targets]
    return engine.scan([str(tmp_path / name)], engine.Options(select=every, jobs=1)).findings


HUGE = [
    ("memory: 1e9999999", "ML005"),
    ("nvidia.com/gpu: 1e999999", "ML005"),
    ("memory: " + "9" * 5000 + "Gi", "ML005"),
    ("cpu: '\u00b2'", "ML005"),
]


@pytest.mark.parametrize(("limit", "rule"), HUGE)
def test_numbers_are_ascii_finite_and_bounded(tmp_path: Path, limit: str, rule: str) -> None:
    pod = POD.replace(
        "image: python:3.11}",
        f"image: python:3.11, command: [torchrun, --nproc_per_node=8, t.py], resources: {{limits: {{{limit}}}}}}}",
    )
    began = time.perf_counter()
    found = _scan_text(tmp_path, "pod.yaml", pod)
    assert time.perf_counter() - began < 10
    assert rule in {f.rule for f in found} and "ML003" not in {f.rule for f in found}, [f.message for f in found]


@pytest.mark.parametrize("value", ["NaN", "sNaN", "Infinity", "-Infinity", "1e999", "\u00b2", "9" * 5000])
def test_compose_counts_that_are_not_numbers_crash_no_rule(tmp_path: Path, value: str) -> None:
    compose = (
        f"services:\n  train:\n    image: pytorch/pytorch:2.3.1-cuda12.1-cudnn8-runtime\n    cpus: '{value}'\n"
        f"    gpus: '{value}'\n    command: torchrun --nproc_per_node=8 train.py\n"
        "    deploy: {resources: {reservations: {devices: [{driver: nvidia, count: '" + value + "', "
        "capabilities: [gpu]}]}}}\n"
    )
    assert "ML003" not in {f.rule for f in _scan_text(tmp_path, "compose.yaml", compose)}


def test_unicode_digits_are_not_counts(tmp_path: Path) -> None:
    deployment = (
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\nspec:\n  replicas: '\u00b2'\n"
        "  template:\n    spec:\n      securityContext: {runAsUser: '\u00b2'}\n"
        "      containers: [{name: c, image: 'python:3.11', securityContext: {runAsUser: '\u0663'}}]\n"
    )
    assert "ML003" not in {f.rule for f in _scan_text(tmp_path, "d.yaml", deployment)}


def _list_bomb() -> str:
    """A `kind: List` whose items stand for 10**5 pods through five levels of ten aliases each."""
    lines = ["x: &l0 {apiVersion: v1, kind: Pod, metadata: {name: p}, spec: {containers: [{name: c, image: x}]}}"]
    lines += [f"l{i}: &l{i} [" + ", ".join([f"*l{i - 1}"] * 10) + "]" for i in range(1, 6)]
    return "\n".join(lines) + "\napiVersion: v1\nkind: List\nitems: *l5\n"


def _merge_bomb() -> str:
    """Merge keys that merge eight copies of the level below, seven levels deep."""
    lines = ["m0: &m0 {k: v}"]
    lines += [f"m{i}: &m{i} {{<<: [" + ", ".join([f"*m{i - 1}"] * 8) + f"], k{i}: v}}" for i in range(1, 8)]
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize(
    "text",
    [
        "apiVersion: v1\nkind: List\nitems: &a\n- apiVersion: v1\n  kind: List\n  items: *a\n",
        _list_bomb(),
        _merge_bomb(),
    ],
)
def test_alias_bombs_and_self_references_are_refused_quickly(tmp_path: Path, text: str) -> None:
    began = time.perf_counter()
    found = _scan_text(tmp_path, "bomb.yaml", text)
    assert time.perf_counter() - began < 10
    assert "ML003" not in [f.rule for f in found], [f.message for f in found]


BREAKS = {"LF": "\n", "CRLF": "\r\n"}
POD_LATEST = (
    "apiVersion: v1\nkind: Pod\nmetadata: {name: p}  # caf\u00e9 SEP more\nspec:\n  containers:\n"
    "    - name: c\n      image: python:latest\n"
)


@pytest.mark.parametrize("end", ["LF", "CRLF"])
@pytest.mark.parametrize("inner", ["\x85", "\u2028", "\u2029", "\r", "\x0b", "\x0c"])
def test_positions_count_lines_as_an_editor_does(tmp_path: Path, end: str, inner: str) -> None:
    """Only LF (and CRLF) end a line; NEL, LS, PS and a lone CR inside a line move nothing. VT and FF are not
    printable YAML: the error is at the character itself."""
    text = POD_LATEST.replace("SEP", inner).replace("\n", BREAKS[end])
    (tmp_path / "pod.yaml").write_bytes(text.encode("utf-8"))
    found = engine.scan([str(tmp_path / "pod.yaml")], engine.Options(select=["ML001", "ML301"], jobs=1)).findings
    expected = [("ML001", 3, 29)] if inner in "\x0b\x0c" else [("ML301", 7, 14)]
    assert [(f.rule, f.span.line, f.span.column) for f in found] == expected


def test_a_file_whose_lines_end_with_a_lone_cr_is_one_clear_error(tmp_path: Path) -> None:
    (tmp_path / "pod.yaml").write_bytes(POD_LATEST.replace("SEP", "").replace("\n", "\r").encode())
    found = engine.scan([str(tmp_path / "pod.yaml")], engine.Options(jobs=1)).findings
    assert [(f.rule, f.span.line) for f in found] == [("ML001", 1)]
    assert "lone CR" in found[0].message


def _project_of(tmp_path: Path, count: int) -> list[str]:
    for i in range(count):
        (tmp_path / f"pod{i:02d}.yaml").write_text(POD.replace("python:3.11", "python:latest"))
    return [str(tmp_path)]


def test_a_worker_that_dies_costs_one_file_not_the_scan(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    paths = _project_of(tmp_path, 60)
    real = engine._one

    def one(path: str, *args: object) -> engine.Outcome:
        if path.endswith("pod07.yaml"):
            os.kill(os.getpid(), 9)  # what a crash in a C extension does to the worker
        return real(path, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(engine, "_one", one)
    result = engine.scan(paths, engine.Options(select=["ML003", "ML301"], jobs=2))
    by_file = {(f.span.path.rsplit("/", 1)[-1], f.rule) for f in result.findings}
    assert ("pod07.yaml", "ML003") in by_file and ("pod07.yaml", "ML301") not in by_file
    assert {name for name, rule in by_file if rule == "ML301"} == {f"pod{i:02d}.yaml" for i in range(60) if i != 7}
    assert len(result.files) == 60


def test_a_worker_that_dies_on_a_large_file_costs_that_file_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Large files go out to one worker before the rest: a crash among them still costs only the file."""
    paths = _project_of(tmp_path, 60)
    padding = "\n".join(f"# {'x' * 70}" for _ in range(4000))  # past workers.LARGE_FILE
    for name in ("pod03.yaml", "pod40.yaml", "pod41.yaml"):
        (tmp_path / name).write_text(POD.replace("python:3.11", "python:latest") + padding + "\n")
    real = engine._one

    def one(path: str, *args: object) -> engine.Outcome:
        if path.endswith("pod40.yaml"):
            os.kill(os.getpid(), 9)
        return real(path, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(engine, "_one", one)
    large, rest = engine._large_first(engine.discover(paths)[0])
    assert [c.display.rsplit("/", 1)[-1] for c in large] == ["pod03.yaml", "pod40.yaml", "pod41.yaml"]
    assert len(rest) == 57
    result = engine.scan(paths, engine.Options(select=["ML003", "ML301"], jobs=2))
    by_file = {(f.span.path.rsplit("/", 1)[-1], f.rule) for f in result.findings}
    assert ("pod40.yaml", "ML003") in by_file and ("pod40.yaml", "ML301") not in by_file
    assert {name for name, rule in by_file if rule == "ML301"} == {f"pod{i:02d}.yaml" for i in range(60) if i != 40}
    assert [path.rsplit("/", 1)[-1] for path, _kind in result.files] == [f"pod{i:02d}.yaml" for i in range(60)]


def test_a_file_past_its_time_budget_is_stopped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    paths = _project_of(tmp_path, 3)
    real = engine._one

    def one(path: str, *args: object) -> engine.Outcome:
        if path.endswith("pod01.yaml"):
            while True:  # a loop that never ends
                pass
        return real(path, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(engine, "_one", one)
    result = engine.scan(paths, engine.Options(select=["ML003", "ML301"], jobs=1, file_seconds=0.5))
    stopped = [f for f in result.findings if f.rule == "ML003"]
    assert [f.span.path.rsplit("/", 1)[-1] for f in stopped] == ["pod01.yaml"]
    assert "took longer than 0.5 s" in stopped[0].message
    assert len([f for f in result.findings if f.rule == "ML301"]) == 2


@pytest.mark.parametrize("indicator", ["? ", "- ", "[", "{ "])
def test_deep_nesting_on_one_line_is_refused_before_the_parser(tmp_path: Path, indicator: str) -> None:
    """libyaml's composer recursed until the process died on 50,000 complex-key indicators on one line."""
    (tmp_path / "deep.yaml").write_text(indicator * 50000 + "a\n")
    done = _mllint("scan", "deep.yaml", "-f", "json", cwd=tmp_path, timeout=120)
    assert done.returncode == 1, done.stderr
    import json

    assert [f["rule"] for f in json.loads(done.stdout)["findings"]] == ["ML001"]


DOCKERFILE_WITH_REQUIREMENTS = "FROM python:3.11-slim\nCOPY requirements.txt .\nRUN pip install -r requirements.txt\n"


def _build_findings(tmp_path: Path) -> list:
    (tmp_path / "Dockerfile").write_text(DOCKERFILE_WITH_REQUIREMENTS)
    return engine.scan([str(tmp_path)], engine.Options(select=["ML303", "ML003"], jobs=1)).findings


def test_requirement_include_loops_are_read_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "requirements.txt").write_text("torch\n" + "-r requirements.txt\n" * 20 + "-r b.txt\n")
    (tmp_path / "b.txt").write_text("numpy\n-r requirements.txt\n")
    began = time.perf_counter()
    found = _build_findings(tmp_path)
    assert time.perf_counter() - began < 10
    unpinned = sorted((f.span.path.rsplit("/", 1)[-1], f.span.line) for f in found if f.rule == "ML303")
    assert unpinned == [("b.txt", 1), ("requirements.txt", 1)]


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs on this platform")
def test_requirement_includes_never_leave_the_project_or_read_a_pipe(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = tmp_path / "project"
    project.mkdir()
    monkeypatch.chdir(project)
    (tmp_path / "outside.txt").write_text("secret-package\n")
    os.mkfifo(project / "pipe.txt")
    (project / "requirements.txt").write_text("-r ../outside.txt\n-r /etc/hostname\n-r pipe.txt\n-r /dev/zero\ntorch\n")
    found = _build_findings(project)
    assert {f.span.path.rsplit("/", 1)[-1] for f in found if f.rule == "ML303"} == {"requirements.txt"}
    assert not [f for f in found if f.rule == "ML003"]


def test_terminal_escapes_from_a_file_never_reach_the_terminal(tmp_path: Path) -> None:
    name = "evil\x1b[2J\nname\u202e.yaml"
    (tmp_path / name).write_text(POD.replace("python:3.11", "python:latest").replace("name: c", 'name: "c\\e[31m"'))
    for fmt in ("text", "github"):
        done = _mllint("scan", ".", "-f", fmt, "-v", "--fail-on", "never", cwd=tmp_path)
        assert done.returncode == 0, done.stderr
        assert "\x1b" not in done.stdout and "\u202e" not in done.stdout, done.stdout
        assert "\\x1b[2J" in done.stdout and "\\u202e" in done.stdout


def test_a_one_line_manifest_of_800_kb_is_shown_as_a_window(tmp_path: Path) -> None:
    env = ", ".join(f'{{name: V{i}, value: "{i}"}}' for i in range(30000))
    text = (
        '{"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}, "spec": {"containers": '
        f'[{{"name": "c", "image": "python:latest", "env": [{env}]}}]}}}}\n'
    )
    assert len(text) > 800_000
    (tmp_path / "pod.yaml").write_text(text)
    (tmp_path / "small.yaml").write_text(text.replace(env, '{name: V0, value: "0"}'))
    for fmt in ("text", "sarif"):
        sizes = []
        for name in ("pod.yaml", "small.yaml"):
            done = _mllint("scan", name, "-f", fmt, "--fail-on", "never", cwd=tmp_path)
            assert done.returncode == 0 and "ML301" in done.stdout, done.stderr
            sizes.append(len(done.stdout))
        assert sizes[0] - sizes[1] < 5_000, sizes  # the same findings, each shown as a window of its line


@pytest.mark.parametrize(
    "text",
    [
        POD.replace("python:3.11", '"python\\ud800:latest"'),
        POD.replace("{name: p}", '{name: "p\\udfff"}'),
        POD.replace("{name: p}", '{name: "p\\ud83d\\ude00"}'),
    ],
)
def test_lone_surrogates_from_yaml_escapes_reach_every_format(tmp_path: Path, text: str) -> None:
    (tmp_path / "pod.yaml").write_text(text)
    for fmt in ("text", "json", "sarif", "github", "gitlab"):
        done = _mllint("scan", "pod.yaml", "-f", fmt, "-v", "--fail-on", "never", cwd=tmp_path)
        assert done.returncode == 0 and "ML504" in done.stdout, (fmt, done.stderr)


@pytest.mark.skipif(sys.platform == "darwin", reason="macOS refuses file names that are not UTF-8")
def test_a_file_name_that_is_not_utf8_reaches_every_format(tmp_path: Path) -> None:
    (tmp_path / os.fsdecode(b"bad\xff.yaml")).write_text(POD.replace("python:3.11", "python:latest"))
    for fmt in ("text", "json", "sarif", "github", "gitlab"):
        done = _mllint("scan", ".", "-f", fmt, "--fail-on", "never", cwd=tmp_path)
        shown = "bad%5Cxff.yaml" if fmt == "sarif" else "bad\\xff.yaml"  # SARIF holds a URI
        assert done.returncode == 0 and shown in done.stdout.replace("\\\\", "\\"), (fmt, done.stderr)


def test_an_unreadable_folder_is_skipped_with_its_reason(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from mllint import discover

    (tmp_path / "locked").mkdir()
    (tmp_path / "pod.yaml").write_text(POD)
    real = os.scandir

    def scandir(path: object) -> object:
        if str(path).endswith("locked"):
            raise PermissionError(13, "Permission denied")
        return real(path)  # type: ignore[arg-type]

    monkeypatch.setattr(discover.os, "scandir", scandir)
    candidates, skipped = discover.discover([str(tmp_path)])
    assert [c.display.rsplit("/", 1)[-1] for c in candidates] == ["pod.yaml"]
    assert [s.reason for s in skipped] == ["cannot read directory: Permission denied"]


@pytest.mark.parametrize(
    "text",
    [
        "FROM python:3.11 AS build\nFROM python:3.11-slim\nCOPY --from=" + "9" * 5000 + " /a /a\n",
        "FROM python:3.11 AS build\nFROM build\nRUN timeout " + "9" * 5000 + " python train.py\n",
    ],
)
def test_digit_runs_past_any_count_crash_no_dockerfile_rule(tmp_path: Path, text: str) -> None:
    rules = [f.rule for f in _scan_text(tmp_path, "Dockerfile", text)]
    assert "ML003" not in rules
