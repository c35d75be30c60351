"""Mutate a folder of real files and check that mllint survives every mutant.

    python bench/fuzz.py DIR [--mutants N] [--seed S] [--timeout SECONDS] [--slow SECONDS] [--keep OUT]

Each mutant is one real file (Dockerfile, Compose, Kubernetes YAML, requirements) changed in one or more ways
that hostile or broken input takes: truncation, byte flips, indentation changes, a scalar replaced by a
hostile value (huge or non-finite numbers, Unicode digits, templates, aliases), a scalar replaced by a list or
a mapping, lone CR / NEL / LS / PS line breaks, a BOM, a NUL byte, a line repeated. Every mutant is scanned
with every rule (the opt-in ones too) and rendered in every report format, in a child process that the parent
restarts when it dies or hangs. The report counts, and lists with the mutant's path:

- crashes: the child died (a signal, such as a segfault) or an exception escaped the engine or a reporter;
- hangs: no result within --timeout seconds;
- internal errors: ML003 findings (a crash inside a parser or rule that mllint caught);
- out-of-file regions: a finding whose line or column is not in the file as an editor counts lines (LF, CRLF);
- slow: a mutant that took longer than --slow seconds.

The exit code is 1 when any of these is not zero. Mutants are written to a temporary folder (or --keep OUT,
where the failing ones stay for reproduction).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import select
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

HOSTILE = [
    b"1e9999999",
    b"NaN",
    b".nan",
    b"-.inf",
    b"Infinity",
    b'"\xc2\xb2"',
    b"\xd9\xa3",
    b"-1",
    b"0x10",
    b"1" * 5000,
    b'"{{ .Values.image }}"',
    b"{{ .Values.x }}",
    b"${X}",
    b"$(VAR)",
    b"~",
    b"[]",
    b"{}",
    b"&a [*a]",
    b"*undefined",
    b'"\\ud800"',
    b"!!binary AAAA",
    b"? a",
    b"|",
    b"'",
    b'"',
    b"- - -",
    b"<<: *x",
    b"99999999999999999999Gi",
    b"1e999999",
    b"\x00",
    b"FILLED BY THE OPERATOR",
    b"latest",
]
BREAKS = [b"\r", b"\xc2\x85", b"\xe2\x80\xa8", b"\xe2\x80\xa9"]
_SCALAR = re.compile(rb"(:[ \t]+|^[ \t]*-[ \t]+|=)([^\n#]{1,200})", re.M)


def mutate(data: bytes, rng: random.Random) -> bytes:
    for _ in range(rng.choice((1, 1, 2, 3))):
        data = rng.choice(MUTATIONS)(data, rng)
    return data


def _truncate(data: bytes, rng: random.Random) -> bytes:
    return data[: rng.randrange(len(data) + 1)]


def _flip(data: bytes, rng: random.Random) -> bytes:
    out = bytearray(data)
    for _ in range(rng.randint(1, 5)):
        if out:
            out[rng.randrange(len(out))] = rng.randrange(256)
    return bytes(out)


def _indent(data: bytes, rng: random.Random) -> bytes:
    lines = data.split(b"\n")
    for _ in range(rng.randint(1, 4)):
        i = rng.randrange(len(lines))
        lines[i] = (b" " * rng.randint(1, 4) + lines[i]) if rng.random() < 0.5 else lines[i].lstrip(b" ")
    return b"\n".join(lines)


def _scalar(data: bytes, rng: random.Random, values: list[bytes] | None = None) -> bytes:
    found = list(_SCALAR.finditer(data))
    if not found:
        return data + b"\n" + rng.choice(HOSTILE)
    match = rng.choice(found)
    value = rng.choice(values or HOSTILE)
    return data[: match.start(2)] + value + data[match.end(2) :]


def _type_swap(data: bytes, rng: random.Random) -> bytes:
    return _scalar(data, rng, [b"[a, b]", b"{a: 1}", b"[]", b"{}", b"null", b"true", b"12", b"- x"])


def _breaks(data: bytes, rng: random.Random) -> bytes:
    kind = rng.choice(BREAKS)
    if rng.random() < 0.3:  # every line break
        return data.replace(b"\r\n", b"\n").replace(b"\n", kind)
    at = rng.randrange(len(data) + 1)
    return data[:at] + kind + data[at:]


def _bom_nul(data: bytes, rng: random.Random) -> bytes:
    if rng.random() < 0.5:
        return b"\xef\xbb\xbf" + data
    at = rng.randrange(len(data) + 1)
    return data[:at] + b"\x00" + data[at:]


def _repeat(data: bytes, rng: random.Random) -> bytes:
    lines = data.split(b"\n")
    i = rng.randrange(len(lines))
    return b"\n".join(lines[: i + 1] + [lines[i]] * rng.randint(1, 50) + lines[i + 1 :])


MUTATIONS = [_truncate, _flip, _indent, _scalar, _scalar, _type_swap, _breaks, _bom_nul, _repeat]


def _sources(folder: Path) -> list[Path]:
    from mllint.discover import discover

    candidates, _skipped = discover([str(folder)], [])
    return [Path(c.path) for c in candidates]


def _editor_lines(data: bytes) -> list[str]:
    """Lines as an editor and GitHub show them: only LF and CRLF end a line."""
    text = data.decode("utf-8-sig", errors="replace")
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return [line[:-1] if line.endswith("\r") else line for line in lines]


def child(listing: str, start: int) -> None:
    """Scan each mutant from `start` on; one JSON line per mutant on stdout."""
    import resource
    import traceback

    from mllint import engine
    from mllint.registry import builtin
    from mllint.report import FORMATS, render

    limit = 4 << 30
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    paths = Path(listing).read_text().splitlines()
    every = [rid for rid, rule in builtin().items() if "Host" not in rule.meta.targets]
    for index in range(start, len(paths)):
        path = paths[index]
        print(json.dumps({"start": index}), flush=True)
        began = time.perf_counter()
        outcome: dict[str, object] = {"index": index}
        try:
            result = engine.scan([path], engine.Options(select=every, jobs=1, preview=True))
            for fmt in FORMATS:
                render(fmt, result, verbose=True)
            lines = _editor_lines(Path(path).read_bytes())
            outcome["ml003"] = [f.message for f in result.findings if f.rule == "ML003"]
            outcome["outside"] = [
                f"{f.rule} {f.span.line}:{f.span.column}"
                for f in result.findings
                if not (
                    1 <= f.span.line <= max(1, len(lines))
                    and 1 <= f.span.column <= len(lines[f.span.line - 1] if lines else "") + 1
                )
            ]
        except BaseException:  # what escaped the engine or a reporter
            outcome["crash"] = traceback.format_exc(limit=-3)
        outcome["seconds"] = round(time.perf_counter() - began, 3)
        print(json.dumps(outcome), flush=True)


def run(paths: list[str], timeout: float) -> dict[int, dict[str, object]]:
    """Every mutant's outcome; the child is restarted after a crash or a hang."""
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as listing:
        listing.write("\n".join(paths) + "\n")
    results: dict[int, dict[str, object]] = {}
    start = 0
    while start < len(paths):
        proc = subprocess.Popen(
            [sys.executable, __file__, "--child", listing.name, str(start)],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        assert proc.stdout is not None
        current, deadline = start, time.monotonic() + timeout + 30  # start-up: imports, rule loading
        while True:
            ready, _, _ = select.select([proc.stdout], [], [], max(0.0, deadline - time.monotonic()))
            if not ready:
                proc.kill()
                proc.wait()
                results[current] = {"index": current, "hang": True, "seconds": timeout}
                break
            line = proc.stdout.readline()
            if not line:
                code = proc.wait()
                if current < len(paths) and current not in results:
                    results[current] = {"index": current, "crash": f"the process died with exit code {code}"}
                break
            message = json.loads(line)
            if "start" in message:
                current, deadline = int(message["start"]), time.monotonic() + timeout
            else:
                results[int(message["index"])] = message
        start = max(results) + 1 if results else len(paths)
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    os.unlink(listing.name)
    return results


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("folder", nargs="?")
    parser.add_argument("--mutants", type=int, default=300)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--timeout", type=float, default=20.0)
    parser.add_argument("--slow", type=float, default=2.0)
    parser.add_argument("--keep", help="write the mutants here (failing ones stay for reproduction)")
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        child(args.child[0], int(args.child[1]))
        return 0
    if not args.folder:
        parser.error("give the folder of real files to mutate")
    rng = random.Random(args.seed)
    sources = _sources(Path(args.folder))
    if not sources:
        parser.error(f"{args.folder}: no files mllint reads")
    out = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="mllint-fuzz-"))
    paths = []
    for i in range(args.mutants):
        source = rng.choice(sources)
        target = out / f"m{i:05d}" / source.name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(mutate(source.read_bytes(), rng))
        paths.append(str(target))
    began = time.perf_counter()
    results = run(paths, args.timeout)
    wall = time.perf_counter() - began
    kinds: Counter[str] = Counter()
    failing: set[int] = set()
    for index, outcome in sorted(results.items()):
        problems = []
        if outcome.get("crash"):
            problems.append(("crash", str(outcome["crash"]).strip().splitlines()[-1]))
        if outcome.get("hang"):
            problems.append(("hang", f"no result in {args.timeout:g} s"))
        if outcome.get("ml003"):
            problems.append(("internal error (ML003)", str(outcome["ml003"][0])))  # type: ignore[index]
        if outcome.get("outside"):
            problems.append(("out-of-file region", ", ".join(outcome["outside"][:3])))  # type: ignore[index]
        seconds = float(outcome.get("seconds") or 0)  # type: ignore[arg-type]
        if seconds > args.slow and not outcome.get("hang"):
            problems.append(("slow", f"{seconds:.1f} s"))
        for kind, detail in problems:
            kinds[kind] += 1
            failing.add(index)
            print(f"{kind}: {paths[index]}: {detail[:300]}")
    times = sorted(float(o.get("seconds") or 0) for o in results.values())  # type: ignore[arg-type]
    print(
        f"\n{len(paths)} mutants of {len(sources)} files in {wall:.0f} s "
        f"(median {times[len(times) // 2]:.3f} s, max {times[-1]:.2f} s per mutant)"
    )
    for kind in ("crash", "hang", "internal error (ML003)", "out-of-file region", "slow"):
        print(f"  {kind}: {kinds[kind]}")
    if not args.keep:
        shutil.rmtree(out, ignore_errors=True)
    else:
        for i, path in enumerate(paths):
            if i not in failing:
                shutil.rmtree(Path(path).parent, ignore_errors=True)
    return 1 if kinds else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
