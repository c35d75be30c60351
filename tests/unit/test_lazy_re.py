"""Patterns compiled on first use behave as compiled ones, and importing their modules compiles none."""

from __future__ import annotations

import re
import subprocess
import sys

from mllint import lazy_re


def test_a_lazy_pattern_answers_as_the_compiled_one() -> None:
    lazy, real = lazy_re.compile(r"(?P<k>\w+)=(\d+)", re.I), re.compile(r"(?P<k>\w+)=(\d+)", re.I)
    text = "a=1 B=22 c"
    assert lazy.pattern == real.pattern
    assert lazy.search(text)[0] == real.search(text)[0]  # type: ignore[index]
    assert [m.span() for m in lazy.finditer(text)] == [m.span() for m in real.finditer(text)]
    assert lazy.sub("x", text) == real.sub("x", text) and lazy.findall(text) == real.findall(text)
    assert (lazy.flags, lazy.groups, lazy.groupindex) == (real.flags, real.groups, real.groupindex)
    assert lazy.match("z=9") and not lazy.fullmatch("z=9 ")


def test_importing_what_a_scan_imports_compiles_none_of_mllints_patterns() -> None:
    code = (
        "import re, sys\n"
        "compiled = []\n"
        "real = re._compile\n"
        "re._compile = lambda p, f: compiled.append(sys._getframe(2).f_globals.get('__name__')) or real(p, f)\n"
        "import mllint.cli, mllint.engine, mllint.baseline, mllint.roles, mllint.redaction, mllint.packages\n"
        "import mllint.cuda.installs, mllint.cuda.images, mllint.checks.build.dockerfile, mllint.checks.cuda.compat\n"
        "import mllint.checks.pinning.packages, mllint.checks.tenancy.quotas, mllint.report.text_report\n"
        "print(sorted({m for m in compiled if m and m.startswith('mllint')}))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"
