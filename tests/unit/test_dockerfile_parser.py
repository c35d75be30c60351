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
