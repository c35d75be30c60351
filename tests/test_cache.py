"""The scan cache (`mllint.cache`): sound reuse, identical reports, and never trusting a pack it did not write."""

from __future__ import annotations

import io
import json
import os
import pickle
import subprocess
import sys
from pathlib import Path

import pytest

from mllint import cache, engine
from mllint.options import Options
from mllint.report import render

GPU_JOB = """\
apiVersion: batch/v1
kind: Job
metadata: {name: train}
spec:
  template:
    spec:
      containers:
      - name: train
        image: nvcr.io/nvidia/pytorch:24.01-py3
        resources:
          limits: {nvidia.com/gpu: 2}
"""
DOCKERFILE = "FROM python:3.11-slim\nCOPY requirements.txt .\nRUN pip install --no-cache-dir -r requirements.txt\n"


def _project(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    (root / "k8s").mkdir(parents=True)
    (root / "k8s" / "job.yaml").write_text(GPU_JOB)
    (root / "k8s" / "quota.yaml").write_text(
        "apiVersion: v1\nkind: ResourceQuota\nmetadata: {name: q}\nspec:\n  hard: {requests.nvidia.com/gpu: 1}\n"
    )
    (root / "Dockerfile").write_text(DOCKERFILE)
    (root / "requirements.txt").write_text("torch==2.1.0\n")
    return root


def _cli_env() -> dict[str, str]:
    """The environment of an `mllint` run in a subprocess: this checkout's code, the cache where it chooses."""
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    env.pop("MLLINT_CACHE_DIR", None)
    return env


def _age(root: Path, seconds: int = 60) -> None:
    """Files written well before the scan hashes them (not racily clean): their stat alone proves them unchanged."""
    for path in root.rglob("*"):
        if path.is_file() and ".mllint_cache" not in path.parts:
            st = path.stat()
            os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns - seconds * 1_000_000_000))


class Reads:
    """Counts the files the engine parses (a cache hit parses nothing)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.paths: list[str] = []
        real = engine.read

        def read(cand, max_bytes=0):  # type: ignore[no-untyped-def]
            self.paths.append(cand.display)
            return real(cand, max_bytes) if max_bytes else real(cand)

        monkeypatch.setattr(engine, "read", read)


def _scan(root: Path, cache_dir: Path | None, **kw: object) -> engine.Result:
    options = Options(jobs=1, cache_dir=str(cache_dir) if cache_dir else None, **kw)  # type: ignore[arg-type]
    return engine.scan([str(root)], options)


def _reports(result: engine.Result) -> tuple[str, str]:
    return render("json", result), render("sarif", result, root=str(result.files[0][0]).rsplit("/", 3)[0])


def test_warm_scan_reads_nothing_and_reports_the_same(tmp_path, monkeypatch):
    root = _project(tmp_path)
    _age(root)
    store = tmp_path / "cache"
    cold = _reports(_scan(root, None))
    first = _scan(root, store)
    assert _reports(first) == cold
    reads = Reads(monkeypatch)
    warm = _scan(root, store)
    assert reads.paths == []
    assert _reports(warm) == cold
    assert any(f.rule == "ML603" for f in warm.findings)  # project rules ran again on the stored facts


def test_a_changed_file_alone_is_checked_again(tmp_path, monkeypatch):
    root = _project(tmp_path)
    _age(root)
    store = tmp_path / "cache"
    _scan(root, store)
    (root / "k8s" / "job.yaml").write_text(GPU_JOB.replace("gpu: 2", "gpu: 0.5"))
    reads = Reads(monkeypatch)
    warm = _scan(root, store)
    assert [Path(p).name for p in reads.paths] == ["job.yaml"]
    assert _reports(warm) == _reports(_scan(root, None))
    assert any(f.rule == "ML102" for f in warm.findings)


def test_an_installed_requirements_file_is_an_input_of_its_dockerfile(tmp_path, monkeypatch):
    root = _project(tmp_path)
    _age(root)
    store = tmp_path / "cache"
    assert not [f for f in _scan(root, store).findings if f.rule == "ML303"]
    (root / "requirements.txt").write_text("torch\n")
    reads = Reads(monkeypatch)
    warm = _scan(root, store)
    assert sorted(Path(p).name for p in reads.paths) == ["Dockerfile", "requirements.txt"]
    assert [f.rule for f in warm.findings if f.rule == "ML303"] == ["ML303"]


def test_a_requirements_file_that_appears_later_is_seen(tmp_path):
    root = _project(tmp_path)
    (root / "requirements.txt").unlink()
    _age(root)
    store = tmp_path / "cache"
    assert not [f for f in _scan(root, store).findings if f.rule == "ML303"]
    (root / "requirements.txt").write_text("torch\n")
    assert [f.rule for f in _scan(root, store).findings if f.rule == "ML303"] == ["ML303"]


def test_a_racily_clean_file_is_hashed_again(tmp_path, monkeypatch):
    """Same size and mtime as when it was stored, written within the timestamp granularity: its bytes decide."""
    root = _project(tmp_path)
    store = tmp_path / "cache"
    _scan(root, store)
    job = root / "k8s" / "job.yaml"
    before = job.stat()
    job.write_text(GPU_JOB.replace("gpu: 2", "gpu: 7"))  # same length
    os.utime(job, ns=(before.st_atime_ns, before.st_mtime_ns))
    findings = _scan(root, store).findings
    assert any("7" in f.message for f in findings if f.rule == "ML603")


def test_other_settings_use_another_pack(tmp_path, monkeypatch):
    root = _project(tmp_path)
    _age(root)
    store = tmp_path / "cache"
    _scan(root, store)
    reads = Reads(monkeypatch)
    narrowed = _scan(root, store, select=["ML102"])
    assert len(reads.paths) == 4
    assert {f.rule for f in narrowed.findings} <= {"ML102", "ML001"}
    assert len(list((store / cache.__version__).glob("*.pack"))) == 2


@pytest.mark.parametrize(
    "damage",
    [
        lambda blob: blob[: len(blob) // 2],  # truncated
        lambda blob: blob[:-1] + bytes([blob[-1] ^ 1]),  # one bit flipped
        lambda blob: b"not a cache at all",
        lambda blob: b"",
    ],
)
def test_a_damaged_pack_is_ignored(tmp_path, monkeypatch, damage):
    root = _project(tmp_path)
    _age(root)
    store = tmp_path / "cache"
    cold = _reports(_scan(root, store))
    (pack,) = (store / cache.__version__).glob("*.pack")
    pack.write_bytes(damage(pack.read_bytes()))
    reads = Reads(monkeypatch)
    assert _reports(_scan(root, store)) == cold
    assert len(reads.paths) == 4


class _Planted:
    def __reduce__(self):  # type: ignore[no-untyped-def]
        return (os.system, ("echo planted",))


def test_a_planted_pack_cannot_run_code(tmp_path):
    """A pack with a valid header and checksum whose pickle calls a function: refused, never run."""
    payload = pickle.dumps(("key", {"x": _Planted()}), protocol=5)
    blob = cache.MAGIC + cache.digest_bytes(payload).encode() + b"\n" + payload
    pack = tmp_path / cache.__version__ / "key.pack"
    pack.parent.mkdir(parents=True)
    pack.write_bytes(blob)
    assert cache.Store(tmp_path, "key").entries == {}
    with pytest.raises(pickle.UnpicklingError):
        cache._Unpickler(io.BytesIO(payload)).load()


def test_a_credential_is_never_stored(tmp_path, monkeypatch):
    """A file that holds a credential is stored without it (read again from the file on a hit): the pack never
    holds the token, and the warm report masks it exactly as the cold one does."""
    root = _project(tmp_path)
    token = "hf_" + "aBcDeFgHiJkLmNoPqRsTuVwXyZ012345"
    (root / "k8s" / "secret-env.yaml").write_text(
        GPU_JOB.replace(
            "        resources:", f"        env:\n        - {{name: HF_TOKEN, value: {token}}}\n        resources:"
        )
    )
    _age(root)
    store = tmp_path / "cache"
    cold = _reports(_scan(root, store))
    blobs = b"".join(p.read_bytes() for p in store.rglob("*.pack"))
    assert blobs and token.encode() not in blobs
    entries = cache.Store(store, next(store.rglob("*.pack")).stem).entries
    assert any("secret-env" in display for display in entries)
    reads = Reads(monkeypatch)
    warm = _scan(root, store)
    assert reads.paths == []
    assert _reports(warm) == cold
    assert token not in "".join(cold)


def test_a_result_that_quotes_a_credential_is_not_stored():
    from mllint.model import Finding, SourceFile, Span

    token = "hf_" + "aBcDeFgHiJkLmNoPqRsTuVwXyZ012345"
    quoting = Finding("ML999", Span("x.yaml", 1, 1, 1, 2), f"runs `login --token {token}`")
    outcome = engine.Outcome(SourceFile("x.yaml", "kubernetes"), [quoting], digest="d", secrets={token})
    assert engine._storable(outcome) is None
    outcome.findings = []
    kept = engine._storable(outcome)
    assert kept is not None and kept.secrets == set() and outcome.secrets == {token}


def test_a_weak_password_that_is_a_word_of_the_path_is_stored_unless_written_elsewhere():
    from mllint.model import Finding, SourceFile, Span

    path = "installs/katib-postgres/db.yaml"
    at = Finding("ML999", Span(path, 1, 1, 1, 2), "a finding in the file")
    outcome = engine.Outcome(SourceFile(path, "kubernetes"), [at], digest="d", secrets={"katib"})
    assert engine._storable(outcome) is not None  # "katib" is written only inside the path
    at.message = "the password is katib"
    assert engine._storable(outcome) is None
    at.message = f"{path}katib"  # right after the path, outside it
    assert engine._storable(outcome) is None
    assert not engine._only_within(b"xaaa", b"aa", b"xa") and engine._only_within(b"xaa-xaa", b"aa", b"xaa")


def test_a_skipped_template_is_stored(tmp_path, monkeypatch):
    root = _project(tmp_path)
    (root / "k8s" / "chart.yaml").write_text("apiVersion: v1\nkind: Pod\nmetadata:\n  name: {{ .Values.name }\n")
    _age(root)
    store = tmp_path / "cache"
    cold = _scan(root, store)
    assert any("chart.yaml" in s.path for s in cold.skipped)
    reads = Reads(monkeypatch)
    warm = _scan(root, store)
    assert reads.paths == []
    assert [(s.path, s.reason) for s in warm.skipped] == [(s.path, s.reason) for s in cold.skipped]


def test_the_cli_keeps_its_cache_at_the_project_root(tmp_path):
    root = _project(tmp_path)
    (root / ".git").mkdir()
    env = _cli_env()

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        cmd = [sys.executable, "-m", "mllint", "scan", "k8s", "-f", "json", "--fail-on", "never", *args]
        return subprocess.run(cmd, cwd=root, capture_output=True, text=True, env=env, timeout=60)

    no_cache = run("--no-cache")
    assert not (root / ".mllint_cache").exists()
    first, second = run(), run()
    assert (root / ".mllint_cache" / ".gitignore").read_text().splitlines()[-1] == "*"
    assert (root / ".mllint_cache" / "CACHEDIR.TAG").exists()
    assert json.loads(first.stdout) == json.loads(no_cache.stdout)
    assert second.stdout == first.stdout
    elsewhere = tmp_path / "elsewhere"
    run("--cache-dir", str(elsewhere))
    assert list(elsewhere.rglob("*.pack"))


def test_a_pre_commit_run_outside_git_uses_the_cache_of_the_whole_folder(tmp_path):
    """`scan FILE --index .` in a folder that is not a repository: the cache of `scan .`, not a new one in the
    file's folder."""
    root = _project(tmp_path)
    env = _cli_env()
    named = next(p for p in sorted((root / "k8s").rglob("*.yaml")))
    cmd = [sys.executable, "-m", "mllint", "scan", "--fail-on", "never", "-q"]
    subprocess.run([*cmd, "."], cwd=root, env=env, check=True, timeout=60)
    subprocess.run([*cmd, str(named.relative_to(root)), "--index", "."], cwd=root, env=env, check=True, timeout=60)
    assert [p.relative_to(root).parts[0] for p in root.rglob("*.pack")] == [".mllint_cache"]


def test_concurrent_scans_leave_a_valid_pack(tmp_path):
    root = _project(tmp_path)
    store = tmp_path / "cache"
    env = _cli_env()
    cmd = [sys.executable, "-m", "mllint", "scan", str(root), "-q", "--fail-on", "never", "--cache-dir", str(store)]
    procs = [subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE) for _ in range(4)]
    assert all(p.wait(timeout=120) == 0 for p in procs)
    (pack,) = (store / cache.__version__).glob("*.pack")
    assert len(cache.Store(store, pack.stem).entries) == 4
    assert not list(pack.parent.glob(".pack-*"))


def test_kustomizations_are_read_again_only_when_changed(tmp_path, monkeypatch):
    """The project index keeps what it read of each kustomization by the file's bytes: a pre-commit run does not
    parse every kustomization of the repository again, and a changed one is read again."""
    from mllint import project_index, yamlsrc
    from mllint.discover import discover

    root = tmp_path / "k"
    root.mkdir()
    kustomization = root / "kustomization.yaml"
    kustomization.write_text("resources: [job.yaml]\npatches: [{path: patch.yaml}]\nimages: [{name: trainer}]\n")
    (root / "job.yaml").write_text(GPU_JOB)
    (root / "patch.yaml").write_text("apiVersion: batch/v1\nkind: Job\nmetadata: {name: j}\n")
    _age(root)
    store = tmp_path / "cache"
    candidates, _ = discover([str(root)], cwd=tmp_path)
    first = project_index.build(candidates, str(store))
    composed: list[str] = []
    real = yamlsrc.compose
    monkeypatch.setattr(yamlsrc, "compose", lambda path, *a: composed.append(path) or real(path, *a))
    assert project_index.build(candidates, str(store)) == first and composed == []
    assert first.kustomize_images == {"trainer"} and first.fragments == {"k/patch.yaml"}
    kustomization.write_text("resources: [job.yaml, patch.yaml]\npatches: [{path: patch.yaml}]\n")
    _age(root)
    again = project_index.build(candidates, str(store))
    assert composed == ["k/kustomization.yaml"] and again.fragments == frozenset() and not again.kustomize_images
