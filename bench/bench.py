"""Benchmark: files/s, MB/s, start-up time and peak memory of `mllint scan` on a generated repository (or on a
folder of your own with --keep), side by side with ruamel.yaml's and PyYAML's C composers alone (the floor for any
YAML linter built on them) and with hadolint/checkov where they are installed; the scan cache warm, after one
changed file and in a pre-commit run with `--index .`; `-j 1` against `-j 2` in CPU seconds; and, with
--growth, wall time and summed memory from 0.25x to 4x the folder.

    python bench/bench.py [--files 2000] [--runs 3] [--keep DIR] [--growth]

Every figure is measured in the same run, so ratios between them hold on a busy machine too. Memory is the peak
of the summed resident memory of mllint and all its worker processes, sampled every 20 ms.
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

GPU_POD = """      containers:
      - name: {name}
        image: {image}
        command: ["torchrun", "--nproc_per_node={gpus}", "train.py", "--epochs={n}"]
        env:
        - name: NCCL_DEBUG
          value: WARN
        - name: HF_TOKEN
          valueFrom: {{secretKeyRef: {{name: hf, key: token}}}}
        resources:
          requests: {{cpu: "{cpu}", memory: {mem}Gi, nvidia.com/gpu: {gpus}}}
          limits: {{memory: {mem}Gi, nvidia.com/gpu: {gpus}}}
        volumeMounts:
        - {{name: dshm, mountPath: /dev/shm}}
        - {{name: data, mountPath: /data}}
        readinessProbe:
          httpGet: {{path: /healthz, port: 8080}}
          periodSeconds: 10
      volumes:
      - {{name: dshm, emptyDir: {{medium: Memory}}}}
      - {{name: data, persistentVolumeClaim: {{claimName: data-{n}}}}}
      nodeSelector:
        cloud.google.com/gke-accelerator: nvidia-l4
      tolerations:
      - {{key: nvidia.com/gpu, operator: Exists, effect: NoSchedule}}
"""

IMAGES = [
    "nvcr.io/nvidia/pytorch:24.01-py3",
    "pytorch/pytorch:2.3.1-cuda12.1-cudnn8-runtime",
    "rayproject/ray:2.9.0-py310-gpu",
    "vllm/vllm-openai:latest",
    "ghcr.io/acme/train:{n}.0",
    "tensorflow/tensorflow:2.15.0-gpu",
    "python",
]


def _indent(text: str, spaces: int) -> str:
    return "".join(" " * spaces + line if line.strip() else line for line in text.splitlines(True))


def pod(n: int, name: str) -> str:
    rnd = random.Random(n)
    return GPU_POD.format(
        name=name,
        image=rnd.choice(IMAGES).format(n=n),
        gpus=rnd.choice([1, 2, 4, 8]),
        cpu=rnd.choice([4, 8, 16]),
        mem=rnd.choice([16, 32, 64]),
        n=n,
    )


def k8s_file(n: int) -> str:
    docs = []
    docs.append(
        f"apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: server-{n}\n  namespace: ml\nspec:\n"
        f"  replicas: 2\n  selector: {{matchLabels: {{app: s{n}}}}}\n  template:\n    metadata:\n"
        f"      labels: {{app: s{n}}}\n    spec:\n" + _indent(pod(n, "server"), 2)
    )
    docs.append(
        f"apiVersion: kubeflow.org/v1\nkind: PyTorchJob\nmetadata:\n  name: train-{n}\nspec:\n"
        f"  pytorchReplicaSpecs:\n"
        + "".join(
            f"    {role}:\n      replicas: {r}\n      template:\n        spec:\n" + _indent(pod(n + r, "pytorch"), 6)
            for role, r in (("Master", 1), ("Worker", 4))
        )
    )
    docs.append(
        f"apiVersion: ray.io/v1\nkind: RayCluster\nmetadata:\n  name: ray-{n}\nspec:\n  headGroupSpec:\n"
        f"    rayStartParams: {{num-gpus: '0'}}\n    template:\n      spec:\n"
        + _indent(pod(n, "ray-head"), 4)
        + "  workerGroupSpecs:\n  - groupName: gpu\n    replicas: 2\n    minReplicas: 1\n    maxReplicas: 4\n"
        "    rayStartParams: {}\n    template:\n      spec:\n" + _indent(pod(n + 7, "ray-worker"), 4)
    )
    docs.append(
        f"apiVersion: v1\nkind: Service\nmetadata:\n  name: svc-{n}\nspec:\n  selector: {{app: s{n}}}\n"
        "  ports:\n  - {port: 80, targetPort: 8080}\n"
    )
    docs.append(
        f"apiVersion: v1\nkind: ResourceQuota\nmetadata:\n  name: gpu-{n}\n  namespace: ml\nspec:\n"
        "  hard: {requests.nvidia.com/gpu: '16', limits.memory: 512Gi}\n"
    )
    return "---\n".join(docs)


def dockerfile(n: int) -> str:
    return (
        f"# syntax=docker/dockerfile:1.7\nARG BASE=nvcr.io/nvidia/pytorch:24.0{n % 9 + 1}-py3\n"
        "FROM ${BASE} AS build\nWORKDIR /src\nRUN apt-get update \\\n    && apt-get install -y --no-install-recommends git \\\n"
        "    && rm -rf /var/lib/apt/lists/*\nCOPY requirements.txt .\nRUN pip install --no-cache-dir -r requirements.txt\n"
        "RUN <<EOF\nset -eux\npip install --no-cache-dir flash-attn==2.5.8\nEOF\n"
        "FROM nvidia/cuda:12.4.1-runtime-ubuntu22.04\nCOPY --from=build /src /src\nUSER 1000\n"
        f"HEALTHCHECK CMD curl -f http://localhost:{8000 + n % 100}/health || exit 1\n"
        'CMD ["python", "-m", "serve"]\n'
    )


def compose_file(n: int) -> str:
    return (
        f"services:\n  trainer:\n    image: ghcr.io/acme/train:{n}.1\n    shm_size: 16gb\n"
        "    environment:\n      - NCCL_DEBUG=WARN\n      - WANDB_MODE=offline\n    deploy:\n      resources:\n"
        "        reservations:\n          devices:\n            - driver: nvidia\n              count: 2\n"
        "              capabilities: [gpu]\n        limits: {cpus: '8', memory: 32G}\n"
        "  notebook:\n    image: jupyter/tensorflow-notebook:2024-04-29\n    ports: ['8888:8888']\n"
    )


def generate(root: Path, files: int) -> None:
    for n in range(files):
        d = root / f"team{n % 20}" / f"project{n % 97}"
        d.mkdir(parents=True, exist_ok=True)
        kind = n % 10
        if kind < 6:
            (d / f"manifests-{n}.yaml").write_text(k8s_file(n))
        elif kind < 8:
            (d / f"Dockerfile.{n}").write_text(dockerfile(n))
        else:
            (d / f"docker-compose.{n}.yml").write_text(compose_file(n))


def timed(cmd: list[str], cwd: Path | None = None) -> tuple[float, int]:
    """Wall seconds and peak RSS (KiB) of the command, children included."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    start = time.perf_counter()
    subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False, cwd=cwd)
    elapsed = time.perf_counter() - start
    return elapsed, max(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, before)


def _tree_rss_kib(pid: int) -> int:
    """Resident memory of `pid` and all its descendants (Linux /proc), in KiB."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(entry))
        rss[int(entry)] = int(fields[21]) * os.sysconf("SC_PAGE_SIZE") // 1024
    total, todo = 0, [pid]
    while todo:
        current = todo.pop()
        total += rss.get(current, 0)
        todo += children.get(current, [])
    return total


def measured(cmd: list[str], cwd: Path | None = None) -> tuple[float, float, int]:
    """Wall seconds, CPU seconds (user + system, children included) and peak summed RSS (KiB) of the command."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=cwd)
    peak = 0
    while proc.poll() is None:
        peak = max(peak, _tree_rss_kib(proc.pid))
        time.sleep(0.02)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    return wall, cpu, peak


def _scan_cmd(mllint: list[str], root: Path, *extra: str) -> list[str]:
    return [*mllint, "scan", str(root), "--format", "sarif", "--output", os.devnull, "--fail-on", "never", *extra]


def cache_figures(mllint: list[str], root: Path, runs: int) -> None:
    """Cold (no cache), warm (nothing changed), one changed file, and a pre-commit run with `--index .`."""
    store = Path(tempfile.mkdtemp(prefix="mllint-cache-"))
    cache = ["--cache-dir", str(store)]
    cold = statistics.median(measured(_scan_cmd(mllint, root, "--no-cache"))[0] for _ in range(runs))
    measured(_scan_cmd(mllint, root, *cache))  # fills the cache
    warm = statistics.median(measured(_scan_cmd(mllint, root, *cache))[0] for _ in range(runs))
    target = next(p for p in sorted(root.rglob("*.y*ml")) if p.is_file() and ".mllint_cache" not in p.parts)
    original = target.read_bytes()
    changed = []
    try:
        for n in range(runs):
            target.write_bytes(original + f"\n# edited {n}\n".encode())
            changed.append(measured(_scan_cmd(mllint, root, *cache))[0])
        hook = [*mllint, "scan", str(target.relative_to(root)), "--index", ".", "--fail-on", "never", "-q", *cache]
        measured(hook, cwd=root)
        precommit = statistics.median(measured(hook, cwd=root)[0] for _ in range(runs))
    finally:
        target.write_bytes(original)
        shutil.rmtree(store, ignore_errors=True)
    print(
        f"cache: cold {cold:.2f} s; warm {warm:.2f} s ({warm / cold:.2f} x cold); one changed file "
        f"{statistics.median(changed):.2f} s ({statistics.median(changed) / cold:.2f} x cold); "
        f"pre-commit (one file, --index .) warm {precommit:.2f} s"
    )


def jobs_figures(mllint: list[str], root: Path, runs: int) -> None:
    """CPU seconds and summed memory of -j 1 against -j 2 (no cache), in pairs run one after the other."""
    ratios, last = [], None
    for _ in range(runs):
        one = measured(_scan_cmd(mllint, root, "--no-cache", "-j", "1"))
        two = measured(_scan_cmd(mllint, root, "--no-cache", "-j", "2"))
        ratios.append(one[1] / two[1])
        last = (one, two)
    assert last is not None
    one, two = last
    print(
        f"-j 1: {one[0]:.2f} s wall, {one[1]:.2f} CPU-s, {one[2] / 1024:.0f} MiB; -j 2: {two[0]:.2f} s wall, "
        f"{two[1]:.2f} CPU-s, {two[2] / 1024:.0f} MiB summed; CPU -j 1 / -j 2 per pair: median "
        f"{statistics.median(ratios):.2f} ({', '.join(f'{r:.2f}' for r in ratios)})"
    )


def growth_figures(mllint: list[str], root: Path) -> None:
    """Wall time and summed memory of a cold scan of 0.25x, 0.5x, 1x, 2x and 4x the folder (copies of it)."""
    files = sorted(p for p in root.rglob("*") if p.is_file() and ".mllint_cache" not in p.parts)
    base = None
    for factor in (0.25, 0.5, 1, 2, 4):
        folder = Path(tempfile.mkdtemp(prefix="mllint-growth-"))
        try:
            chosen = files[:: round(1 / factor)] if factor < 1 else files  # every 4th file: the same mix
            for copy in range(int(max(1, factor))):
                for path in chosen:
                    dest = folder / f"copy{copy}" / path.relative_to(root)
                    dest.parent.mkdir(parents=True, exist_ok=True)
                    shutil.copyfile(path, dest)
            wall, _cpu, rss = measured(_scan_cmd(mllint, folder, "--no-cache"))
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        base = base or (wall / factor, rss / factor)
        print(
            f"growth {factor:>4}x: {wall:6.2f} s ({wall / factor / base[0]:.2f} of linear), "
            f"{rss / 1024:5.0f} MiB summed ({rss / factor / base[1]:.2f} of linear per unit)"
        )


def _yaml_texts(root: Path) -> list[str]:
    return [p.read_text(errors="replace") for p in sorted(root.rglob("*.y*ml")) if p.is_file()]


def compose_floor(root: Path) -> float:
    """ruamel.yaml's C composer alone over every YAML file, on one core."""
    from ruamel.yaml import YAML

    yaml = YAML(typ="safe", pure=False)
    texts = _yaml_texts(root)
    start = time.perf_counter()
    for text in texts:
        try:
            for _ in yaml.compose_all(text):
                pass
        except Exception:
            pass
    return time.perf_counter() - start


def pyyaml_floor(root: Path) -> float | None:
    """PyYAML's C composer (libyaml) alone over every YAML file, on one core; None without it."""
    try:
        import yaml
        from yaml import CSafeLoader
    except ImportError:
        return None
    texts = _yaml_texts(root)
    start = time.perf_counter()
    for text in texts:
        try:
            for _ in yaml.compose_all(text, Loader=CSafeLoader):
                pass
        except Exception:
            pass
    return time.perf_counter() - start


def _compiled() -> None:
    """Byte-compile mllint's modules first: with PYTHONDONTWRITEBYTECODE set (or a checkout just edited), every
    start-up would otherwise compile the changed modules again and the start-up figures would measure that."""
    import compileall
    import contextlib

    import mllint

    with contextlib.suppress(OSError):  # an installed, read-only copy is compiled already
        compileall.compile_dir(str(Path(mllint.__file__).parent), quiet=1)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--files", type=int, default=2000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--keep", type=Path, help="scan this folder (generated there first when empty; kept)")
    ap.add_argument("-j", "--jobs", type=int, help="worker processes for mllint (default: its own)")
    ap.add_argument("--growth", action="store_true", help="also scan 0.25x to 4x the folder (copies)")
    args = ap.parse_args()
    mllint = [sys.executable, "-m", "mllint"]
    exe = shutil.which("mllint")
    if exe:
        mllint = [exe]
    root = args.keep or Path(tempfile.mkdtemp(prefix="mllint-bench-"))
    if not any(root.rglob("*")):
        generate(root, args.files)
    files = [p for p in root.rglob("*") if p.is_file()]
    size = sum(p.stat().st_size for p in files)
    yaml_size = sum(p.stat().st_size for p in files if p.suffix in (".yaml", ".yml"))
    one = next(p for p in files if p.suffix == ".yaml")
    print(f"corpus: {len(files)} files, {size / 1e6:.2f} MB ({yaml_size / 1e6:.2f} MB YAML), {os.cpu_count()} CPUs")

    _compiled()
    version = statistics.median(timed([*mllint, "--version"])[0] for _ in range(15))
    single = statistics.median(timed([*mllint, "scan", str(one), "--fail-on", "never"])[0] for _ in range(10))
    bare = statistics.median(timed([sys.executable, "-c", "import click"])[0] for _ in range(10))
    print(
        f"start-up: mllint --version {version * 1000:.0f} ms; one-file scan {single * 1000:.0f} ms; "
        f"python -c 'import click' {bare * 1000:.0f} ms (medians)"
    )

    walls, peak, ratios = [], 0, []
    jobs = ["-j", str(args.jobs)] if args.jobs is not None else []
    for _ in range(args.runs):  # each scan beside a composer run: a machine whose speed drifts shifts both
        wall, _cpu, rss = measured(_scan_cmd(mllint, root, "--no-cache", *jobs))
        walls.append(wall)
        peak = max(peak, rss)
        beside = pyyaml_floor(root)
        if beside is not None:
            ratios.append(wall / beside)
    wall = statistics.median(walls)
    floor = statistics.median(compose_floor(root) for _ in range(args.runs))
    print(
        f"whole scan, cold (parse, model, rules, SARIF): {wall:.2f} s, {len(files) / wall:.0f} files/s, "
        f"{size / 1e6 / wall:.2f} MB/s, peak summed RSS of all processes {peak / 1024:.0f} MiB"
    )
    print(
        f"ruamel C composer alone on the YAML, one core: {floor:.2f} s ({yaml_size / 1e6 / floor:.2f} MB/s); "
        f"mllint / composer = {wall / floor:.2f}"
    )
    floors = [f for f in (pyyaml_floor(root) for _ in range(args.runs)) if f is not None]
    if floors:
        pyyaml = statistics.median(floors)
        print(f"PyYAML C composer alone on the YAML, one core: {pyyaml:.2f} s; mllint / composer = {wall / pyyaml:.2f}")
    if ratios:
        print(
            f"mllint / PyYAML composer, each scan beside a composer run: median {statistics.median(ratios):.2f} "
            f"({', '.join(f'{r:.2f}' for r in ratios)})"
        )
    cache_figures(mllint, root, args.runs)
    jobs_figures(mllint, root, args.runs)
    if args.growth:
        growth_figures(mllint, root)
    for name, cmd in (
        ("hadolint", ["hadolint", "--no-fail", *[str(p) for p in files if "Dockerfile" in p.name]]),
        ("checkov", ["checkov", "-d", str(root), "--quiet", "--skip-download", "-o", "sarif"]),
    ):
        if shutil.which(name):
            with tempfile.TemporaryDirectory(prefix=f"{name}-") as scratch:  # checkov writes results.sarif here
                t, _cpu, rss = measured(cmd, cwd=Path(scratch))
            print(f"{name}: {t:.2f} s, peak summed RSS {rss / 1024:.0f} MiB; {name} / mllint cold = {t / wall:.1f}")
    if args.keep is None:
        shutil.rmtree(root)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
