from __future__ import annotations

import io

import pytest

from mllint.model import Diagnostic
from mllint.sources.dockerfile import build, lex, substitute


def parse(text: str):
    diags: list[Diagnostic] = []
    instructions, directives = lex("Dockerfile", text, diags)
    return instructions, directives, build("Dockerfile", instructions, directives, diags), diags


def test_heredocs_do_not_become_instructions() -> None:
    text = 'FROM python:3.11\nRUN <<EOF\npip install torch==2.3.1\nEOF\nRUN <<-A cat >x && cat <<B\n\tone\n\tA\ntwo\nB\nCMD ["x"]\n'
    instructions, _, _build, diags = parse(text)
    assert [i.keyword for i in instructions] == ["FROM", "RUN", "RUN", "CMD"]
    assert instructions[1].heredocs[0][1] == "pip install torch==2.3.1"
    assert [h[1] for h in instructions[2].heredocs] == ["\tone", "two"]  # tabs kept: offsets stay columns
    assert instructions[3].keyword_span.line == 10 and not diags


def test_continuations_map_columns_back() -> None:
    text = "FROM x:1\nRUN apt-get update \\\n    # a comment\n\n    && pip install torch\n"
    instructions, *_ = parse(text)
    run = instructions[1]
    start = run.args.index("torch")
    span = run.span_of(start, start + 5)
    assert (span.line, span.column, span.end_column) == (5, 20, 25)
    assert run.span.end_line == 5


def test_escape_directive_and_arg_substitution() -> None:
    text = "# escape=`\nARG REG=nvcr.io/nvidia\nARG IMG=${REG}/pytorch:24.01-py3\nFROM ${IMG} AS train\nRUN echo a `\n  b\nFROM train\n"
    instructions, directives, build_, _diags = parse(text)
    assert directives["escape"].text == "`"
    assert build_.stages[0].base.resolved == "nvcr.io/nvidia/pytorch:24.01-py3"
    assert build_.stages[0].base.tag == "24.01-py3" and not build_.stages[0].base.templated
    assert build_.stages[0].alias.text == "train"
    assert build_.stages[1].base_stage == 0
    assert instructions[3].args.strip() == "echo a   b"


def test_flags_and_unresolved_args() -> None:
    _, _, build_, diags = parse("ARG TAG\nFROM --platform=$BUILDPLATFORM nvidia/cuda:${TAG} AS x\n")
    stage = build_.stages[0]
    assert stage.base.templated and stage.base.span.column == 32
    assert not diags


@pytest.mark.parametrize(
    "text, message",
    [
        ("RUNN x\n", "unknown instruction"),
        ("RUN x\n", "before the first FROM"),
        ("FROM\n", "names no image"),
        ("FROM a b c\n", "optional `AS name`"),
    ],
)
def test_bad_dockerfiles_are_diagnosed(text: str, message: str) -> None:
    *_, diags = parse(text)
    assert any(message in d.message for d in diags), diags


def test_substitute_forms() -> None:
    assert substitute("${A:-x}${B:+y}$C", {"A": None, "B": "1", "C": "c"}) == ("xyc", True)
    assert substitute("${MISSING}", {}) == ("${MISSING}", False)


def test_instruction_lines_agree_with_dockerfile_parse() -> None:
    """Differential check against dockerfile-parse on files without heredocs (which it mis-splits)."""
    from dockerfile_parse import DockerfileParser

    text = (
        "# syntax=docker/dockerfile:1\nARG BASE=python:3.11-slim\nFROM ${BASE} AS build\n"
        "RUN apt-get update \\\n    && apt-get install -y git \\\n    && rm -rf /var/lib/apt/lists/*\n"
        'ENV A=1 \\\n    B=2\nCOPY --from=build /a /b\nCMD ["python", "serve.py"]\n'
    )
    parser = DockerfileParser(fileobj=io.BytesIO(text.encode()))
    theirs = [
        (i["instruction"], i["startline"] + 1, i["endline"] + 1)
        for i in parser.structure
        if i["instruction"] != "COMMENT"
    ]
    instructions, *_ = parse(text)
    ours = [(i.keyword, i.span.line, i.span.end_line) for i in instructions]
    assert ours == theirs


def test_jinja_template_is_skipped_not_reported() -> None:
    from mllint.loader import parse
    from mllint.model import Skipped

    out = parse(
        "Dockerfile", "dockerfile", b"FROM python:3.11\n{%- if gpu %}\nRUN pip install torch==2.3.1\n{%- endif %}\n"
    )
    assert isinstance(out, Skipped) and "template" in out.reason
    # `{{ }}` inside a valid instruction is not a template error: the file is scanned
    out = parse("Dockerfile", "dockerfile", b'FROM python:3.11\nLABEL doc="{{ not jinja }}"\n')
    assert not isinstance(out, Skipped)


def _load(text: str):
    from mllint.model import SourceFile
    from mllint.sources.dockerfile import load

    file = SourceFile("Dockerfile", "dockerfile", text)
    load(file)
    return file


def test_first_error_reported_once_with_the_count_of_the_rest() -> None:
    file = _load("FROM python:3.11\n!pip install a\n!pip install b\n%cd /x\nRUN echo ok\n")
    assert [(d.span.line, d.span.column) for d in file.diagnostics] == [(2, 1)]
    assert "(and 2 more lines Docker cannot read, the next on line 3)" in file.diagnostics[0].message
    assert file.build is not None and file.not_dockerfile is None


def test_lost_continuation_is_reported_at_the_line_that_lost_it() -> None:
    file = _load("FROM python:3.11\nRUN apt-get update && \\\n    apt-get install -y git\n    curl \\\n    wget\n")
    (diag,) = file.diagnostics
    assert (diag.span.line, diag.span.column, diag.span.end_column) == (3, 24, 27)
    assert "line 3 ends the RUN instruction without `\\`" in diag.message and diag.severity == ""
    assert "'curl'" in diag.message


@pytest.mark.parametrize(
    ("text", "format_", "words"),
    [
        ("apiVersion: v1\nkind: Pod\nmetadata:\n  name: x\n", "YAML", ["a Pod"]),
        (
            "# syntax=ghcr.io/azure/dalec/frontend:0.18\n\nargs:\n  VERSION: ${VERSION}\nname: skopeo\n",
            "YAML",
            ["build frontend ghcr.io/azure/dalec/frontend:0.18"],
        ),
        (
            "kind: PyTorchJob\nspec:\n  x: 1\nroot@host:/src# cat Dockerfile\nFROM python:3.11\nRUN pip install x\n",
            "YAML",
            ["then a pasted shell session (a `cat` command on line 4)"],
        ),
        (
            "$ docker login -u me -p hunter2\nLogin Succeeded\n",
            "a pasted shell session",
            ["(a `docker login` command on line 1)"],
        ),
    ],
)
def test_other_formats_are_one_note(text: str, format_: str, words: list[str]) -> None:
    file = _load(text)
    assert file.build is None and file.not_dockerfile == format_
    (diag,) = file.diagnostics
    assert diag.severity == "note" and diag.message.startswith("not a Dockerfile: it reads as ")
    assert all(w in diag.message for w in words), diag.message
    assert "hunter2" not in diag.message  # a prompt line's arguments are never quoted


@pytest.mark.parametrize(
    "text",
    [
        "FROM python:3.11\nRUNN x\n",  # a Dockerfile with a typo stays a Dockerfile
        "# a comment\nARG X=1\nFROM python:${X}\n",
        "LABEL a=b\nFROM x\n",
    ],
)
def test_dockerfiles_are_not_taken_for_other_formats(text: str) -> None:
    assert _load(text).not_dockerfile is None


def test_scoped_variables_follow_docker() -> None:
    from mllint.stages import scoped

    text = (
        "ARG TORCH=2.4\nFROM python:3.11 AS a\nARG TORCH\nARG CU=121\nENV SPEC=torch==${TORCH}+cu${CU}\n"
        "RUN pip install $SPEC\nFROM a\nRUN echo\n"
    )
    file = _load(text)
    assert file.build is not None
    seen = [(ins.keyword, v) for _s, ins, v in scoped(file.build, file.build.stages[1])]
    assert seen[3] == ("RUN", {"TORCH": "2.4", "CU": "121", "SPEC": "torch==2.4+cu121"})
    assert seen[4] == ("RUN", {"SPEC": "torch==2.4+cu121"})  # ARGs end with their stage, ENV carries over


def test_the_run_inside_onbuild_is_read_at_its_position() -> None:
    text = "FROM python:3.11\nONBUILD RUN pip install torch \\\n    transformers\n"
    instructions, _, _build, _diags = parse(text)
    inner = [i for i in instructions if i.onbuild]
    assert [i.keyword for i in instructions] == ["FROM", "ONBUILD", "RUN"] and len(inner) == 1
    assert inner[0].keyword_span[1:3] == (2, 9)
    start = inner[0].args.index("transformers")
    assert inner[0].span_of(start, start + len("transformers"))[1:] == (3, 5, 3, 17)
