"""RUN lines as the shell reads them: simple commands split at `&&`, `||`, `;`, `|`, `&` and newlines,
and words with quotes and backslash escapes removed, each with its offsets in the text, so a finding can
point at one package or flag inside a long RUN instruction. Not a full POSIX parser: enough of its
grammar to never split inside quotes or `$(...)`, and to skip comments."""

from __future__ import annotations

from functools import lru_cache

Word = tuple[str, int, int]  # (text as the command sees it, start offset, end offset)

_OPERATORS = ("&&", "||", ";;", ";", "|", "&", "\n", "(", ")")
_OPERATOR_STARTS = frozenset("&|;\n()")
# Reserved words that open a compound command: the simple command is what follows them
# (`then pip install x` runs pip, `if ! grep -q x f` runs grep)
_OPENERS = frozenset({"if", "then", "else", "elif", "do", "while", "until", "!", "{"})


def commands(text: str) -> list[list[Word]]:
    """The simple commands of shell `text`, each a list of words with offsets into `text`. Several rule
    families read the same RUN line, so the split is computed once per text."""
    return [list(words) for words in _split(text)]


@lru_cache(maxsize=2048)
def _split(text: str) -> tuple[tuple[Word, ...], ...]:
    out: list[list[Word]] = []
    words: list[Word] = []
    chars: list[str] = []
    start = -1
    i, n = 0, len(text)

    def end_word(at: int) -> None:
        nonlocal chars, start
        if start >= 0 and not (not words and text[start:at] in _OPENERS):
            words.append(("".join(chars), start, at))
        chars, start = [], -1

    def end_command() -> None:
        nonlocal words
        if words:
            out.append(words)
        words = []

    while i < n:
        c = text[i]
        if c == "\\" and i + 1 < n and text[i + 1] == "\n":  # a line continuation joins the lines
            i += 2
            continue
        if start < 0 and c == "#":  # a comment runs to the end of the line
            while i < n and text[i] != "\n":
                i += 1
            continue
        if c in " \t\r":
            end_word(i)
            i += 1
            continue
        operator = next((op for op in _OPERATORS if text.startswith(op, i)), None) if c in _OPERATOR_STARTS else None
        if operator == "&" and (text.startswith("&>", i) or (i and text[i - 1] in "<>")):
            operator = None  # a redirection: 2>&1, &>/dev/null
        if operator is not None and not (operator == "(" and start >= 0):
            end_word(i)
            end_command()
            i += len(operator)
            continue
        if start < 0:
            start = i
        if c == "\\" and i + 1 < n:
            chars.append(text[i + 1])
            i += 2
        elif c == "'":
            close = text.find("'", i + 1)
            close = n if close < 0 else close
            chars.append(text[i + 1 : close])
            i = close + 1
        elif c == '"':
            i = _double_quoted(text, i + 1, chars)
        elif c == "$" and text.startswith("$(", i):
            close = _matching_paren(text, i + 1)
            chars.append(text[i : close + 1])
            i = close + 1
        else:
            chars.append(c)
            i += 1
    end_word(min(i, n))
    end_command()
    return tuple(tuple(words) for words in out)


def _double_quoted(text: str, i: int, chars: list[str]) -> int:
    """Append the inside of a double-quoted string starting at `i`; the offset after its closing quote."""
    n = len(text)
    while i < n and text[i] != '"':
        if text[i] == "\\" and i + 1 < n and text[i + 1] in '"\\$`\n':
            if text[i + 1] != "\n":
                chars.append(text[i + 1])
            i += 2
        elif text.startswith("$(", i):
            close = _matching_paren(text, i + 1)
            chars.append(text[i : close + 1])
            i = close + 1
        else:
            chars.append(text[i])
            i += 1
    return i + 1


def _matching_paren(text: str, i: int) -> int:
    """The offset of the `)` that closes the `(` at `i` (the last offset when it never closes)."""
    depth = 0
    for j in range(i, len(text)):
        if text[j] == "(":
            depth += 1
        elif text[j] == ")":
            depth -= 1
            if depth == 0:
                return j
    return len(text) - 1
