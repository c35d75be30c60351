"""Benchmark: how long after a change the language server publishes a document's diagnostics, for a manifest of
about 1,000 lines (GPU Deployments and Jobs, beside a ResourceQuota so the cross-file rules run too).

    python bench/lsp_latency.py [--lines 1000] [--changes 40]

Each change edits one `replicas:` value (an incremental change, as an editor sends a keystroke); the time is from
writing the didChange to reading the publishDiagnostics of that version, over stdio, as an editor sees it.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from mllint.lsp.client import LspClient

OBJECT = """---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: server-{n}
  namespace: team
spec:
  replicas: {replicas}
  selector:
    matchLabels: {{app: server-{n}}}
  template:
    metadata:
      labels: {{app: server-{n}}}
    spec:
      containers:
      - name: server
        image: vllm/vllm-openai:v0.4.{n}
        args: ["--model", "meta-llama/Llama-2-7b-hf", "--tensor-parallel-size", "1"]
        ports:
        - containerPort: 8000
        env:
        - name: HF_TOKEN
          valueFrom: {{secretKeyRef: {{name: hf, key: token}}}}
        resources:
          requests: {{cpu: "4", memory: 32Gi, nvidia.com/gpu: 1}}
          limits: {{memory: 32Gi, nvidia.com/gpu: 1}}
        readinessProbe:
          httpGet: {{path: /health, port: 8000}}
          periodSeconds: 10
"""
QUOTA = """apiVersion: v1
kind: ResourceQuota
metadata:
  name: team-quota
  namespace: team
spec:
  hard:
    requests.nvidia.com/gpu: "16"
"""


def manifest(lines: int) -> str:
    parts: list[str] = []
    n = 0
    while sum(p.count("\n") for p in parts) < lines:
        parts.append(OBJECT.format(n=n, replicas=1 + n % 3))
        n += 1
    return "".join(parts)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=1000)
    parser.add_argument("--changes", type=int, default=40)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        text = manifest(args.lines)
        (root / "serving.yaml").write_text(text, encoding="utf-8")
        (root / "quota.yaml").write_text(QUOTA, encoding="utf-8")
        uri = (root / "serving.yaml").as_uri()
        replicas = [i for i, line in enumerate(text.split("\n")) if line.startswith("  replicas: ")]
        client = LspClient(root, timeout=60)
        try:
            started = time.perf_counter()
            client.request("initialize", {"processId": None, "rootUri": root.as_uri(), "capabilities": {}})
            client.notify("initialized", {})
            client.notify(
                "textDocument/didOpen",
                {"textDocument": {"uri": uri, "languageId": "yaml", "version": 1, "text": text}},
            )
            first = client.diagnostics(uri, 1)
            opened = (time.perf_counter() - started) * 1000
            times: list[float] = []
            for version in range(2, args.changes + 2):
                line = replicas[version % len(replicas)]
                change = {
                    "range": {"start": {"line": line, "character": 12}, "end": {"line": line, "character": 13}},
                    "text": str(1 + version % 4),
                }
                sent = time.perf_counter()
                client.notify(
                    "textDocument/didChange",
                    {"textDocument": {"uri": uri, "version": version}, "contentChanges": [change]},
                )
                client.diagnostics(uri, version)
                times.append((time.perf_counter() - sent) * 1000)
            code = client.close()
        finally:
            client.kill()
    times.sort()
    print(f"manifest: {text.count(chr(10))} lines, {len(first)} diagnostics; server exit status {code}")
    print(f"start-up to first diagnostics (initialize, workspace scan, open): {opened:.0f} ms")
    print(
        f"diagnostics after a change ({len(times)} changes): median {statistics.median(times):.1f} ms, "
        f"p90 {times[int(len(times) * 0.9) - 1]:.1f} ms, max {times[-1]:.1f} ms (target: median <= 200 ms)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
