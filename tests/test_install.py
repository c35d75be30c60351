"""How mllint is installed: under a distribution name that is mllint's own (PyPI's `mllint` is another
project), with the command `mllint`, and every install instruction in the README using that name."""

from __future__ import annotations

import re
import sys

from conftest import ROOT

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

DISTRIBUTION = "mllint-infra"


def _readme() -> str:
    return (ROOT / "README.md").read_text(encoding="utf-8")


def test_distribution_name_is_not_the_taken_one_and_the_command_stays() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert project["name"] == DISTRIBUTION
    assert project["scripts"] == {"mllint": "mllint.__main__:main"}


def test_every_readme_install_names_the_distribution() -> None:
    installs = re.findall(r"\bpipx? install\s+[^\n`\"]+", _readme())  # an install command, not the words
    named = [line for line in installs if not re.search(r"install\s+(-r|\.|'\.|--|dist/|git\+)", line)]
    assert named, installs
    for line in named:
        assert DISTRIBUTION in line, line  # never `pip install mllint` or 'mllint[live]'
    assert not re.search(r"install\s+['\"]?mllint(\[|\s|$|['\"])", _readme(), re.M)


def test_install_section_documents_pipx_repository_wheel_and_tags_without_test_extras() -> None:
    section = _readme().split("## Install", 1)[1].split("\n## ", 1)[0]
    assert f"pipx install {DISTRIBUTION}" in section and "git+https://" in section and ".whl" in section
    assert "[test]" not in section.split("```", 2)[1]  # the commands users run install no test tools
    assert "rev: v" in section or "v0.1.0" in section  # the tags that pre-commit and the Action pin
    first = _readme().split("```sh\n", 1)[1].splitlines()[:2]  # the README's first two lines: set up and scan, test
    assert "mllint scan examples/" in first[0] and first[1] == "python -m pytest"


def test_no_message_of_mllint_installs_the_other_project() -> None:
    for path in (ROOT / "mllint").rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"install\s+['\"]?mllint(\[|\s|['\"])", text), path
