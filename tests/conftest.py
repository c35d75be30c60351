from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures"
EXPECT = re.compile(r"#\s*expect:\s*(ML\d{3}(?:@\d+)?(?:\s*,\s*ML\d{3}(?:@\d+)?)*)")


def expectations(path: Path, display: str) -> set[tuple[str, str, int, int | None]]:
    """(path, rule, line, column or None) from `# expect:` comments: trailing ones refer to their own
    line, a comment alone on a line to the next line that is neither blank nor a comment."""
    out: set[tuple[str, str, int, int | None]] = set()
    lines = path.read_text(encoding="utf-8").splitlines()
    pending: list[str] = []
    for number, line in enumerate(lines, 1):
        match = EXPECT.search(line)
        stripped = line.strip()
        if match and stripped.startswith("#"):
            pending.extend(p.strip() for p in match[1].split(","))
            continue
        if not stripped or stripped.startswith("#"):
            continue
        items = [p.strip() for p in match[1].split(",")] if match else []
        for item in pending + items:
            rule, _, col = item.partition("@")
            out.add((display, rule, number, int(col) if col else None))
        pending = []
    if pending:  # an expectation after the last line refers to the end of the file
        for item in pending:
            rule, _, col = item.partition("@")
            out.add((display, rule, len(lines), int(col) if col else None))
    return out


@pytest.fixture(autouse=True)
def _chdir_root(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
