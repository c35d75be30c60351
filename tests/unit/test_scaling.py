"""Inputs that once took time quadratic in their size: each is checked within a generous bound."""

from __future__ import annotations

import time
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from mllint import engine, yamlsrc
from mllint.model import Diagnostic, SourceFile

BOUND_S = 5.0

SERVER = """apiVersion: apps/v1
kind: Deployment
metadata:
  name: triton-{n}
  namespace: serving
spec:
  replicas: 3
  selector:
    matchLabels: {{app: triton-{n}}}
  template:
    metadata:
      labels: {{app: triton-{n}, team: ml}}
    spec:
      containers:
        - name: triton
          image: nvcr.io/nvidia/tritonserver:24.01-py3
          args: ["tritonserver", "--model-repository=s3://models"]
"""

PDB = """apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: pdb-{n}
  namespace: serving
spec:
  maxUnavailable: 1
  selector:
    matchLabels: {{team: ml, app: other-{n}}}
"""

PRIVILEGED = """apiVersion: v1
kind: Pod
metadata:
  name: agent-{n}
spec:
  hostNetwork: true
  hostPID: true
  containers:
    - name: agent
      image: ghcr.io/acme/agent:1.{n}
      securityContext:
        privileged: true
"""


def _timed_scan(paths: list[str], select: list[str]) -> tuple[float, engine.Result]:
    start = time.perf_counter()
    result = engine.scan(paths, engine.Options(select=select, jobs=1))
    return time.perf_counter() - start, result


def test_many_pdbs_and_servers_in_one_namespace(tmp_path: Path) -> None:
    """ML516 finds the budgets that could select a workload through an index, not by reading every budget."""
    count = 600
    (tmp_path / "servers.yaml").write_text("---\n".join(SERVER.format(n=n) for n in range(count)))
    (tmp_path / "pdbs.yaml").write_text("---\n".join(PDB.format(n=n) for n in range(count)))
    seconds, result = _timed_scan([str(tmp_path)], ["ML516"])
    assert len([f for f in result.findings if f.rule == "ML516"]) == count  # no budget selects a server's pods
    assert seconds < BOUND_S


def test_pdb_index_scales_with_budgets_and_workloads() -> None:
    """20,000 budgets and 20,000 workloads in one namespace: each workload reads the few budgets that share its
    rarest label, not all of them."""
    from mllint.checks.reliability.scaling import PdbIndex
    from mllint.project import PdbFacts

    class W:
        def __init__(self, n: int) -> None:
            self.namespace, self.labels = "serving", {"team": "ml", "app": f"triton-{n}"}

    count = 20_000
    start = time.perf_counter()
    index = PdbIndex(
        [PdbFacts(f"pdb-{n}", "serving", {"team": "ml", "app": f"other-{n}"}, False) for n in range(count)]
    )
    assert not any(index.covers(W(n)) for n in range(count))  # type: ignore[arg-type]
    assert time.perf_counter() - start < BOUND_S


def test_pdb_index_matches_every_namespace_rule() -> None:
    from mllint.checks.reliability.scaling import PdbIndex
    from mllint.project import PdbFacts

    class W:
        def __init__(self, namespace: str | None, labels: dict[str, str]) -> None:
            self.namespace, self.labels = namespace, labels

    pdbs = [PdbFacts("a", "x", {"app": "a", "team": "t"}, False), PdbFacts("b", None, {"app": "b"}, False)]
    index = PdbIndex(pdbs)
    assert index.covers(W("x", {"app": "a", "team": "t", "more": "1"}))  # type: ignore[arg-type]
    assert not index.covers(W("y", {"app": "a", "team": "t"}))  # type: ignore[arg-type]
    assert index.covers(W(None, {"app": "a", "team": "t"}))  # type: ignore[arg-type]
    assert index.covers(W("z", {"app": "b"}))  # type: ignore[arg-type]
    assert not index.covers(W("x", {"app": "a"}))  # type: ignore[arg-type]
    assert PdbIndex([PdbFacts("e", "x", {}, True)]).covers(W(None, {}))  # type: ignore[arg-type]
    assert not PdbIndex([PdbFacts("e", "x", {}, True)]).covers(W("y", {}))  # type: ignore[arg-type]


def test_many_findings_in_one_large_file(tmp_path: Path) -> None:
    """ML707 places a finding per object: the file's lines are split once, not once per finding."""
    count = 3000
    (tmp_path / "agents.yaml").write_text("---\n".join(PRIVILEGED.format(n=n) for n in range(count)))
    seconds, result = _timed_scan([str(tmp_path)], ["ML707"])
    assert len([f for f in result.findings if f.rule == "ML707"]) >= count
    assert seconds < BOUND_S


def test_source_lines_are_split_once() -> None:
    file = SourceFile("a.yaml", "yaml", "a: 1\nb: 2\n")
    assert file.lines() is file.lines() and file.lines() == ["a: 1", "b: 2"]
    file.text = "c: 3\n"
    assert file.lines() == ["c: 3"]


def test_thousands_of_syntax_errors_in_one_file() -> None:
    """Each syntax error resumes at the next document; the work per file is bounded."""
    broken = "".join(f"---\nkey-{n}: a: b\nother: {n}\n" for n in range(4000))
    diagnostics: list[Diagnostic] = []
    start = time.perf_counter()
    docs = yamlsrc.compose("broken.yaml", broken, diagnostics)
    assert time.perf_counter() - start < BOUND_S
    assert docs == []
    assert len(diagnostics) == yamlsrc.MAX_SYNTAX_ERRORS + 1
    assert "are not read" in diagnostics[-1].message
    assert diagnostics[0].span.line == 2


def test_a_few_syntax_errors_are_all_reported() -> None:
    broken = "".join(f"---\nkey-{n}: a: b\n---\nfine-{n}: 1\n" for n in range(20))
    diagnostics: list[Diagnostic] = []
    docs = yamlsrc.compose("broken.yaml", broken, diagnostics)
    assert len(diagnostics) == 20 and len(docs) == 20


def test_the_sequential_scan_keeps_no_file_contents(tmp_path: Path) -> None:
    """Memory stays flat: a file's text, nodes and model are dropped once its findings are made, at -j 1 too."""
    for n in range(10):
        (tmp_path / f"m{n}.yaml").write_text("---\n".join(SERVER.format(n=n * 100 + k) for k in range(10)))
    candidates, _ = engine.discover([str(tmp_path)], [])
    plan = engine.make_plan(engine.Options(jobs=1), engine.project_index.build(candidates))
    outcomes = list(engine._map(candidates, plan, engine.Options(jobs=1)))
    assert len(outcomes) == 10 and all(o.findings for o in outcomes)
    assert all(isinstance(o.file, SourceFile) and not o.file.text and not o.file.workloads for o in outcomes)


def test_redaction_lines_found_without_a_search_per_line() -> None:
    import re

    from mllint import redaction

    per_line = re.compile(redaction._TRIGGER.pattern)
    texts = [
        "-u x\n-u y",
        "a\n\n-u",
        "\n-u",
        "x -u\n",
        "@\n@@\n\n@",
        "pa\u017fs: 1\n",
        "API-KEY: 1\nx",
        "a\r\n-u\r\n",
        "curl --user a:b\n  --proxy-user c:d\nTOKEN=1\ncredentials: x\nauthor: me\nkeys: [1]\n",
    ]
    for text in texts:
        lines = text.split("\n")
        expected = [n for n, line in enumerate(lines, 1) if per_line.search(line)]
        assert redaction._triggered(text, lines) == expected == redaction._matched_lines(text), text


@given(
    st.lists(
        st.sampled_from(["pass", "SECRET", "Token", "api_key", "AUTH", "@", " -u ", "--user", "\n", " ", "é", "ü"])
        | st.builds(  # a word with one letter written as a character that folds to it
            lambda word, at, char: word[:at] + char + word[at + 1 :],
            st.sampled_from(["pass", "secret", "token", "key", "auth", "credential"]),
            st.integers(0, 5),
            st.sampled_from(["\u0130", "\u0131", "\u017f", "\u212a"]),
        )
        | st.sampled_from(["\u0130", "\u0131", "\u017f", "\u212a", "K", "ß", "ﬅ"])
        | st.text(max_size=3),
        max_size=12,
    )
)
def test_redaction_lines_any_text(parts: list[str]) -> None:
    """Non-ASCII text takes the fast path unless it holds a character a case-blind match takes for an ASCII
    letter: the lines are those a search of each line finds."""
    import re

    from mllint import redaction

    text = "".join(parts)
    lines = text.split("\n")
    per_line = re.compile(redaction._TRIGGER.pattern)
    expected = [n for n, line in enumerate(lines, 1) if per_line.search(line)]
    assert redaction._triggered(text, lines) == expected


POOL = """apiVersion: karpenter.sh/v1
kind: NodePool
metadata: {{name: gpu-{n}}}
spec:
  template:
    metadata:
      labels: {{team: t{n}}}
    spec:
      requirements:
      - {{key: karpenter.k8s.aws/instance-family, operator: In, values: [p4d, g5]}}
  limits:
    nvidia.com/gpu: 4
"""
NODE = """apiVersion: v1
kind: Node
metadata:
  name: node-{n}
  labels: {{team: n{n}, nvidia.com/gpu.product: NVIDIA-A100-SXM4-40GB}}
status:
  allocatable: {{nvidia.com/gpu: "8"}}
"""
GPU_JOB = """apiVersion: batch/v1
kind: Job
metadata: {{name: job-{n}}}
spec:
  backoffLimit: 3
  template:
    spec:
      restartPolicy: Never
      nodeSelector: {{team: t{pool}}}
      containers:
      - name: c
        image: nvcr.io/nvidia/pytorch:24.01-py3
        resources:
          limits: {{nvidia.com/gpu: {gpus}}}
"""


def test_many_pools_nodes_and_gpu_jobs(tmp_path: Path) -> None:
    """ML605 finds each job's only pool once, not once per pool: 100 pools, 50 nodes and 1,000 GPU jobs."""
    (tmp_path / "pools.yaml").write_text("---\n".join(POOL.format(n=n) for n in range(100)))
    (tmp_path / "nodes.yaml").write_text("---\n".join(NODE.format(n=n) for n in range(50)))
    (tmp_path / "jobs.yaml").write_text(
        "---\n".join(GPU_JOB.format(n=n, pool=n % 100, gpus=1 + n % 16) for n in range(1000))
    )
    seconds, result = _timed_scan([str(tmp_path)], ["ML605", "ML111"])
    over = [f for f in result.findings if f.rule == "ML605"]
    assert len(over) == sum(1 for n in range(1000) if 1 + n % 16 > 4)  # each job over its pool's limit of 4
    assert seconds < BOUND_S


TRAIN_JOB = """apiVersion: batch/v1
kind: Job
metadata:
  name: train-{n}
spec:
  template:
    spec:
      containers:
        - name: train
          image: nvcr.io/nvidia/pytorch:24.01-py3
          command: ["torchrun", "train.py"]
          resources:
            limits:
              nvidia.com/gpu: 8
"""


def test_a_fix_per_finding_in_one_large_file(tmp_path: Path) -> None:
    """Each finding's fix places its edit without splitting the whole file again (3,000 fixable findings)."""
    count = 3000
    (tmp_path / "jobs.yaml").write_text("---\n".join(TRAIN_JOB.format(n=n) for n in range(count)))
    seconds, result = _timed_scan([str(tmp_path)], ["ML507"])
    assert sum(1 for f in result.findings if f.rule == "ML507" and f.autofix is not None) == count
    assert seconds < BOUND_S
