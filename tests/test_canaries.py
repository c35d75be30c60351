"""Secrets never reach an output: distinct canary credentials are planted in every place a credential is written
(an env value next to other findings' lines, a one-line container, a duplicated key, an unused suppression on
the secret's line, `--api-key`/`--token` arguments, `password=` on a command line, URLs with a password in pip,
git and curl commands, `curl -u`, Dockerfile ENV and ARG, Compose environment, a key that lost its colon in a
file that does not parse), and no canary may appear in any report format, with or without -v, whichever rules
run, nor in a written baseline."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT

CANARIES = ROOT / "tests" / "data" / "canaries"
CANARY = re.compile(r"Canary[A-Za-z]*[0-9]+")


def _planted() -> set[str]:
    return {m for p in CANARIES.iterdir() for m in CANARY.findall(p.read_text(encoding="utf-8"))}


def test_every_place_holds_a_distinct_canary() -> None:
    assert len(_planted()) == 18


@pytest.mark.parametrize("selection", [[], ["--select", "ML301,ML001,ML004,ML006,ML307,ML708"]])
def test_no_canary_in_any_output(tmp_path: Path, selection: list[str]) -> None:
    project = tmp_path / "project"
    shutil.copytree(CANARIES, project)
    outputs = []
    for fmt in ("text", "json", "sarif", "github", "gitlab"):
        for verbose in ([], ["-v"]):
            done = subprocess.run(
                [sys.executable, "-m", "mllint", "scan", ".", "-f", fmt, "--fail-on", "never", *verbose, *selection],
                cwd=project,
                capture_output=True,
                text=True,
                timeout=120,
            )
            assert done.returncode == 0, done.stderr
            outputs.append(done.stdout + done.stderr)
    subprocess.run(
        [sys.executable, "-m", "mllint", "scan", ".", "--write-baseline", "base.json", *selection],
        cwd=project,
        capture_output=True,
        timeout=120,
        check=True,
    )
    outputs.append((project / "base.json").read_text(encoding="utf-8"))
    leaked = {m for text in outputs for m in CANARY.findall(text)}
    assert not leaked
    assert "ML" in outputs[0]  # the scan did report findings on those lines
