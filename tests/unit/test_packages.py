"""How install commands are read and how firmly each package is pinned."""

from __future__ import annotations

import pytest

from mllint import engine
from mllint.packages import judge_conda, judge_os, judge_pip, parse_install
from mllint.shell import commands


@pytest.mark.parametrize(
    ("spec", "pin"),
    [
        ("torch", "bare"),
        ("torch==2.3.1", "exact"),
        ("numpy===1.26.4", "exact"),
        ("numpy==1.26.*", "wildcard"),
        ("pandas>=2", "range"),
        ("transformers[torch]~=4.40", "range"),
        ("numpy<2,>=1.24", "range"),
        ("git+https://github.com/a/b.git", "vcs-floating"),
        ("git+https://github.com/a/b@main", "vcs-floating"),
        ("git+https://github.com/a/b@v1.2.3", "vcs-pinned"),
        ("x @ git+https://github.com/a/b@3f2a9c1", "vcs-pinned"),
        ("unsloth[colab-new] @ git+https://github.com/unslothai/unsloth.git@2025.3.19", "vcs-pinned"),
        ("https://github.com/a/b/archive/main.zip", "url-floating"),
        ("https://github.com/a/b/archive/refs/tags/v1.0.tar.gz", "url-pinned"),
        ("https://example.com/x.tar.gz#sha256=00ff", "url-pinned"),
        ("https://download.pytorch.org/whl/cu121/torch-2.1.0%2Bcu121-cp310-cp310-linux_x86_64.whl", "url-pinned"),
        ("./dist/pkg.whl", "local"),
        ("./dist/x-2.35.0-py3-none-any.whl[all]", "local"),
        ("tritonclient-2.35.0-py3-none-manylinux1_x86_64.whl[all]", "local"),
        ("/tmp/wheels/*.whl", "local"),
        (".", "local"),
        ("$PACKAGES", "variable"),
        ("${TORCH}", "variable"),
    ],
)
def test_pip_pins(spec: str, pin: str) -> None:
    assert judge_pip((spec, 0, len(spec))).pin == pin


@pytest.mark.parametrize(
    ("spec", "name"),
    [
        ("torch==${PYTORCH_VERSION}", "torch"),
        ("Flash_Attn>=$FA", "flash-attn"),
        ("transformers[torch]==${V}", "transformers"),
        ("${PKG}==1.0", ""),
        ("torch${SUFFIX}", ""),
        ("$PACKAGES", ""),
    ],
)
def test_a_variable_version_keeps_the_package_name(spec: str, name: str) -> None:
    package = judge_pip((spec, 0, len(spec)))
    assert (package.pin, package.name) == ("variable", name)


@pytest.mark.parametrize(
    ("spec", "pin"),
    [
        ("numpy", "bare"),
        ("numpy=1.26.4", "exact"),
        ("numpy==1.26.4", "exact"),
        ("pytorch=2.3.1=*cuda*", "exact"),
        ("numpy>=1.26", "range"),
        ("numpy=1.26.*", "wildcard"),
        ("conda-forge::numpy", "bare"),
        ("x.tar.bz2", "local"),
    ],
)
def test_conda_pins(spec: str, pin: str) -> None:
    assert judge_conda((spec, 0, len(spec))).pin == pin


@pytest.mark.parametrize(
    ("manager", "spec", "pin"),
    [
        ("apt", "curl", "bare"),
        ("apt", "curl=7.81.0-1ubuntu1.16", "exact"),
        ("apt", "git/bookworm-backports", "exact"),
        ("apk", "curl=8.9.1-r0", "exact"),
        ("apk", "curl~8.9", "range"),
        ("dnf", "gcc-11.2.1", "exact"),
        ("dnf", "make", "bare"),
        ("dnf", "openssl-1:1.1.1k", "exact"),
        ("yum", "openssl-1:1.1.1k-12.el8_9", "exact"),
        ("dnf", "python3.11", "bare"),
        ("zypper", "python311=3.11.9", "exact"),
        ("zypper", "libnuma1>=2.0.14", "range"),
        ("zypper", "gcc13 >= 13.2", "range"),
        ("zypper", "libnuma1", "bare"),
        ("apt", "./x.deb", "local"),
    ],
)
def test_os_pins(manager: str, spec: str, pin: str) -> None:
    assert judge_os(manager, (spec, 0, len(spec))).pin == pin


@pytest.mark.parametrize(
    ("line", "manager", "names"),
    [
        ("sudo -E pip3 install -q --no-cache-dir torch numpy", "pip", ["torch", "numpy"]),
        ("python3.11 -m pip install -U pip", "pip", ["pip"]),
        ("uv pip install --system -r r.txt vllm==0.5.0", "pip", ["vllm"]),
        ("uv add transformers", "pip", ["transformers"]),
        ("pipx inject poetry poetry-plugin-export", "pipx", ["poetry-plugin-export"]),
        ("/opt/conda/bin/conda install -y -c pytorch pytorch=2.3.1", "conda", ["pytorch"]),
        ("DEBIAN_FRONTEND=noninteractive apt-get install -y -o Dpkg::Options::=--force-confnew git", "apt", ["git"]),
        ("apt-get -o Acquire::Retries=5 install -y curl", "apt", ["curl"]),
        ("uv --directory /app pip install httpx", "pip", ["httpx"]),
        ("micromamba -r /opt/conda install -y numpy", "conda", ["numpy"]),
    ],
)
def test_parse_install(line: str, manager: str, names: list[str]) -> None:
    install = parse_install(commands(line)[0])
    assert install is not None and install.manager == manager
    assert [p.name for p in install.packages] == names


def test_pip_install_flags_and_files() -> None:
    install = parse_install(commands("pip install -r requirements.txt -c constraints.txt -rextra.txt torch")[0])
    assert install is not None
    assert [w for w, _s, _e in install.requirements] == ["requirements.txt", "extra.txt"]
    assert [w for w, _s, _e in install.constraints] == ["constraints.txt"]
    assert parse_install(commands("pip download torch")[0]) is None


def test_loose_pins_are_notes_and_bare_names_warnings(tmp_path) -> None:
    (tmp_path / "Dockerfile").write_text("FROM python:3.11\nRUN pip install --no-cache-dir torch 'numpy>=1.26'\n")
    result = engine.scan([str(tmp_path)], engine.Options(select=["ML303"], jobs=1))
    assert [(f.span.column, f.severity) for f in result.findings] == [(32, "warning"), (38, "note")]


@pytest.mark.parametrize(
    ("ref", "fixed"),
    [
        ("v1.2.3", True),
        ("3f2a9c1", True),
        ("google-cloud-pipeline-components-2.22.0", True),
        ("sdk-2.7.0", True),
        ("release-23.02", False),
        ("release-1.2.3", False),
        ("main", False),
        ("bmax_fix", False),
    ],
)
def test_fixed_refs(ref: str, fixed: bool) -> None:
    from mllint.packages import fixed_ref

    assert fixed_ref(ref) is fixed


def test_installer_inside_if_is_the_program_not_the_keyword() -> None:
    from mllint.packages import pip_tool, stage_installs
    from mllint.sources.dockerfile import build, lex

    text = 'FROM python:3.11\nRUN if [ "$X" = 1 ]; then python -m pip install a; else pip3 install b; fi\n'
    instructions, directives = lex("Dockerfile", text, [])
    stage = build("Dockerfile", instructions, directives, []).stages[0]
    assert [pip_tool(c) for c, _i in stage_installs(stage)] == ["python -m pip", "pip3"]
