"""The CUDA resolver, table-driven: real image references and install lines with the CUDA they bring."""

from __future__ import annotations

from pathlib import Path

import pytest

from mllint.cuda import images, installs

CASES = [
    line.split("\t")
    for line in (Path(__file__).parent / "data" / "cuda_resolver_cases.tsv").read_text(encoding="utf-8").splitlines()
    if line and not line.startswith("#")
]


def _answer(kind: str, text: str) -> str:
    if kind == "image":
        found = images.resolve(text)
        if isinstance(found, images.Unknown):
            return "unknown"
        return str(found) if found is not None else "none"
    if kind == "run":
        evidence = installs.from_run(text)
        best = max(evidence, key=lambda e: e.cuda.version, default=None)
        return str(best.cuda) if best else "none"
    name, _, value = text.partition("=")
    found_env = installs.from_env(name, value)
    return str(found_env) if found_env else "none"


def test_the_table_is_large_enough() -> None:
    assert len(CASES) >= 150


@pytest.mark.parametrize("kind, text, expected", CASES, ids=[c[1][:60] for c in CASES])
def test_resolves(kind: str, text: str, expected: str) -> None:
    assert _answer(kind, text) == expected


def test_each_answer_says_where_it_came_from() -> None:
    found = images.resolve("nvcr.io/nvidia/pytorch:24.01-py3")
    assert isinstance(found, images.Cuda) and found.origin == "NGC release 24.01" and found.compat
    [evidence] = installs.from_run("pip install torch==2.3.0")
    assert evidence.cuda.origin == "pip install torch==2.3.0 (PyPI's torch 2.3 wheels use CUDA 12.1)"
    assert "pip install torch==2.3.0"[evidence.start : evidence.end] == "torch==2.3.0"


def test_rows_not_confirmed_are_marked() -> None:
    assert images.resolve("nvcr.io/nvidia/pytorch:25.07-py3").verified is False  # from memory only
    assert images.resolve("nvcr.io/nvidia/pytorch:24.01-py3").verified is True
    [unpinned] = installs.from_run("pip install torch")
    assert unpinned.cuda.verified is False  # PyPI's newest torch moves
