"""RUN lines split as the shell reads them, with offsets that point back into the text."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mllint.shell import commands


def _texts(text: str) -> list[list[str]]:
    return [[w for w, _s, _e in cmd] for cmd in commands(text)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("apt-get update && apt-get install -y curl", [["apt-get", "update"], ["apt-get", "install", "-y", "curl"]]),
        ("a; b || c | d & e", [["a"], ["b"], ["c"], ["d"], ["e"]]),
        (
            "pip install \"torch>=2.1; python_version>'3.8'\" numpy",
            [["pip", "install", "torch>=2.1; python_version>'3.8'", "numpy"]],
        ),
        ("pip install 'a && b' c\\ d", [["pip", "install", "a && b", "c d"]]),
        (
            '--extra-index-url="https://download.pytorch.org/whl/cu121"',
            [["--extra-index-url=https://download.pytorch.org/whl/cu121"]],
        ),
        ("pip install torch==$(cat v.txt | tr -d ' ') x", [["pip", "install", "torch==$(cat v.txt | tr -d ' ')", "x"]]),
        ("make 2>&1 >/dev/null && ok &>log", [["make", "2>&1", ">/dev/null"], ["ok", "&>log"]]),
        ("(cd /src && pip install .)", [["cd", "/src"], ["pip", "install", "."]]),
        ("pip install a \\\n    b # a comment && not a command\nc", [["pip", "install", "a", "b"], ["c"]]),
        ('echo "unterminated', [["echo", "unterminated"]]),
        (
            'if [ "$A" = 1 ]; then pip install a; else pip3 install b; fi',
            [["[", "$A", "=", "1", "]"], ["pip", "install", "a"], ["pip3", "install", "b"], ["fi"]],
        ),
        ("if ! pip show x; then\n  pip install x\nfi", [["pip", "show", "x"], ["pip", "install", "x"], ["fi"]]),
        ("for p in a b; do pip install $p; done", [["for", "p", "in", "a", "b"], ["pip", "install", "$p"], ["done"]]),
        ("echo then 'if'", [["echo", "then", "if"]]),
    ],
)
def test_commands(text: str, expected: list[list[str]]) -> None:
    assert _texts(text) == expected


def test_offsets_cover_the_word_as_written() -> None:
    text = 'RUN pip install --no-cache-dir "flash-attn==2.6.3"'[4:]
    words = commands(text)[0]
    assert [text[s:e] for _w, s, e in words] == ["pip", "install", "--no-cache-dir", '"flash-attn==2.6.3"']


@given(
    st.lists(st.from_regex(r"[A-Za-z0-9_.=+/-]{1,12}", fullmatch=True), min_size=1, max_size=8),
    st.sampled_from([" ", "  ", "\t"]),
)
def test_plain_words_round_trip(words: list[str], gap: str) -> None:
    text = gap.join(words)
    found = commands(text)
    assert [w for w, _s, _e in found[0]] == words
    assert all(text[s:e] == w for w, s, e in found[0])
