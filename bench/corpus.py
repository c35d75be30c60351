"""Run every rule over a folder of real-world files and report what a reviewer needs.

    python bench/corpus.py DIR [--sample N] [--rules ML303,ML406] [--seed S]

Prints the files scanned and skipped (with the reasons), the files that do not parse (ML001), every
internal error (ML003: a crash, which must not happen; the exit code is 1 when there is one), the
findings per rule, and with --sample a random sample of N findings per rule with the source line each
points at, for a reviewer to judge.
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
from collections import Counter, defaultdict
from pathlib import Path


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("folder")
    parser.add_argument("--sample", type=int, default=0)
    parser.add_argument("--rules", default="")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    done = subprocess.run(
        [sys.executable, "-m", "mllint", "scan", "-f", "json", args.folder], capture_output=True, text=True
    )
    if done.returncode not in (0, 1):
        print(done.stderr, file=sys.stderr)
        return 2
    report = json.loads(done.stdout)
    findings = report["findings"]
    print(f"{report['summary']['files']} files scanned, {len(report['skipped'])} skipped")
    for reason, count in Counter(s["reason"] for s in report["skipped"]).most_common():
        print(f"  skipped: {count} x {reason}")
    unparsed = {f["path"] for f in findings if f["rule"] == "ML001"}
    print(f"{len(unparsed)} files do not parse (ML001)")
    crashes = [f for f in findings if f["rule"] == "ML003"]
    for crash in crashes:
        print(f"  CRASH {crash['path']}:{crash['line']}: {crash['message']}")
    print(f"{len(crashes)} internal errors (ML003)")
    by_rule: dict[str, list[dict]] = defaultdict(list)
    for finding in findings:
        by_rule[finding["rule"]].append(finding)
    for rule in sorted(by_rule):
        severities = Counter(f["severity"] for f in by_rule[rule])
        print(
            f"  {rule}: {len(by_rule[rule])} ({', '.join(f'{n} {s}' for s, n in severities.most_common())}) "
            f"in {len({f['path'] for f in by_rule[rule]})} files"
        )
    wanted = [r for r in args.rules.split(",") if r] or sorted(by_rule)
    rng = random.Random(args.seed)
    for rule in wanted if args.sample else []:
        print(f"\n## {rule}")
        for f in rng.sample(by_rule[rule], min(args.sample, len(by_rule[rule]))):
            lines = Path(f["path"]).read_text(encoding="utf-8", errors="replace").splitlines()
            source = lines[f["line"] - 1].strip() if f["line"] <= len(lines) else ""
            print(f"{f['path']}:{f['line']}:{f['column']} [{f['severity']}] {f['message']}\n    | {source[:160]}")
    return 1 if crashes else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
