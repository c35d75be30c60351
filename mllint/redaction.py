"""Where a file holds a credential, found once per file before any output so that no report quotes it: the
password of a URL (`https://user:PASS@host`), `curl -u user:PASS`, the value of a secret-named option or key
(`--api-key X`, `--token=X`, `password=X`, `DB_PASSWORD: X`, an env entry `name: API_TOKEN` / `value: X`, a key
that lost its colon), and every token of a known format (`mllint.secrets`). Over-masking is harmless (a few
characters of a code frame become `*`); a value that reaches an output is not."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

from mllint import lazy_re
from mllint.secrets import find_tokens

# A key or option named for a credential: the word ends there or at a separator (`HF_TOKEN`, `api-key`,
# `DB_PASSWORD_FILE`), never inside a longer word (`tokenizer`, `authors`, `secretary`)
_WORD = (
    r"(?:[A-Za-z0-9_.-]*[_.-])?(?:password|passwd|passphrase|secret|token|api[_-]?key|apikey|credentials?|auth)"
    r"(?:[_.-][A-Za-z0-9_.-]*)?(?![A-Za-z0-9])"
)
_URL = lazy_re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://[^/@\s:'\"]*:([^/@\s'\"]+)@")
_CURL_USER = lazy_re.compile(
    r"(?:^|[\s\"'\[,])(?:-u|--user|--proxy-user)(?:\s+|=|[\"']?,\s*[\"']?)[\"']?[^\s:\"']+:([^\s\"',\]]+)"
)
_OPTION = lazy_re.compile(rf"(?i)(?:^|[\s\"'\[,])--?{_WORD}(?:\s+|=|[\"']?,\s*[\"']?)[\"']?(?!-)([^\s\"',\]}}]+)")
_ASSIGN = lazy_re.compile(rf"(?i)(?:^|(?<=[\s{{,\"'(]))[\"']?{_WORD}[\"']?\s*(?:=|:\s)\s*[\"']?([^\s\"',}}#\]]+)")
# `\s*(?:-\s*)?`, not `\s*-?\s*`: the two runs of spaces could split an indentation every way before failing
_LOST_COLON = lazy_re.compile(rf"(?i)^\s*(?:-\s*)?{_WORD}\s+([^\s:#=]+)\s*$")
_ENV_NAME = lazy_re.compile(
    rf"(?i)^\s*(?:-\s*)?[\"']?name[\"']?\s*:\s*[\"']?{_WORD}[\"']?\s*,?\s*(?:value\s*:\s*[\"']?([^\s\"',}}]+))?"
)
_ENV_INLINE = lazy_re.compile(
    rf"(?i)[\"']?name[\"']?\s*:\s*[\"']?{_WORD}[\"']?\s*,\s*[\"']?value[\"']?\s*:\s*[\"']?([^\s\"',}}]+)"
)
_ENV_VALUE = lazy_re.compile(r"^\s*[\"']?value[\"']?\s*:\s*[\"']?([^\s\"',}#]+)")
_ITEM = lazy_re.compile(r"^\s*-\s|^\s*[\"']?name[\"']?\s*:")
# A line none of the patterns can match: most lines, skipped at the cost of one search
_TRIGGER = lazy_re.compile(r"(?i)pass|secret|token|api.?key|credential|auth|@|(?:^|\s)-u\b|--(?:proxy-)?user")
_TRIGGER_TEXT = lazy_re.compile(_TRIGGER.pattern, re.I | re.M)
# What every `_TRIGGER` match holds, in lower case: ASCII text is searched for these with str.find first
_TRIGGER_WORDS = ("pass", "secret", "token", "key", "credential", "auth", "@", "-u")
_TRIGGER_BYTES = tuple(word.encode() for word in _TRIGGER_WORDS)
# The characters a case-blind match takes for ASCII letters (U+0130, U+0131, U+017F, U+212A): without them, every
# `_TRIGGER` match holds one of `_TRIGGER_WORDS` at the same place in the lower-cased text (only U+0130 changes
# length when lower-cased)
_FOLDS_TO_ASCII = lazy_re.compile("[\u0130\u0131\u017f\u212a]")
_SHORTEST = 3  # shorter values (`1`, `no`) are switches, not credentials


def spans(text: str) -> list[tuple[int, int, int]]:
    """(line, first column, end column) of each credential value in `text`: 1-based, end exclusive."""
    lines = text.split("\n")
    out: list[tuple[int, int, int]] = []
    for number in _triggered(text, lines):
        line = lines[number - 1]
        for start, end in _in_line(line):
            out.append((number, start + 1, end + 1))
        match = _ENV_NAME.match(line)
        if match and match.group(1) is None:  # the value follows on one of the next lines
            for offset, following in enumerate(lines[number : number + 6], 1):
                if _ITEM.match(following):
                    break
                value = _ENV_VALUE.match(following)
                if value:  # every `value:` of the entry (a duplicated key repeats it)
                    out.append((number + offset, value.start(1) + 1, value.end(1) + 1))
    tokens = find_tokens(text)
    offsets = _line_offsets(lines) if tokens else []
    for token in tokens:
        out += _token_spans(token.start, token.end, offsets)
    return sorted({s for s in out if s[2] - s[1] >= _SHORTEST and not _switch(lines, s)})


def _triggered(text: str, lines: list[str]) -> list[int]:
    """The 1-based numbers of the lines `_TRIGGER` finds something in, without a search of every line: the text
    is searched for the words any match holds (str.find), and only the lines with one are searched."""
    if not text.isascii() and _FOLDS_TO_ASCII.search(text):  # U+017F matches `s`: one search of the text
        return _matched_lines(text)
    # Only line numbers are wanted, so other text is searched as UTF-8 with its ASCII letters lowered (whose
    # other bytes are never ASCII): `str.lower` of a non-ASCII text allocates 12 bytes per character first
    haystack = text.lower() if text.isascii() else text.encode("utf-8", "surrogatepass").lower()
    words, newline = (_TRIGGER_WORDS, "\n") if isinstance(haystack, str) else (_TRIGGER_BYTES, b"\n")
    found: list[int] = []  # no two words start at the same place
    for word in words:
        at = haystack.find(word)  # type: ignore[arg-type]
        while at >= 0:
            found.append(at)
            at = haystack.find(word, at + 1)  # type: ignore[arg-type]
    found.sort()
    numbers: list[int] = []
    line, last, searched = 1, 0, 0
    for at in found:
        line += haystack.count(newline, last, at)  # type: ignore[arg-type]
        last = at
        if line != searched:  # each line searched once, however many words it holds
            searched = line
            if _TRIGGER.search(lines[line - 1]):
                numbers.append(line)
    return numbers


def _matched_lines(text: str) -> list[int]:
    """`_triggered` by one regex search over the whole text (a match ends on the line it is found in: only a
    leading `\\s` may be the line break before it)."""
    numbers: list[int] = []
    line, at = 1, 0
    for match in _TRIGGER_TEXT.finditer(text):
        last = match.end() - 1
        line += text.count("\n", at, last)
        at = last
        if not numbers or numbers[-1] != line:
            numbers.append(line)
    return numbers


_SWITCHES = frozenset({"true", "false", "yes", "no", "on", "off", "null", "none", "enabled", "disabled"})


def _switch(lines: list[str], span: tuple[int, int, int]) -> bool:
    """A switch (`TS_DISABLE_TOKEN_AUTHORIZATION=true`), not a credential."""
    line, first, end = span
    return lines[line - 1][first - 1 : end - 1].strip("\r\"'").lower() in _SWITCHES


def _in_line(line: str) -> Iterator[tuple[int, int]]:
    for pattern in (_URL, _CURL_USER, _OPTION, _ASSIGN, _ENV_INLINE):
        for match in pattern.finditer(line):
            if match.lastindex and match.group(match.lastindex):
                yield match.start(match.lastindex), match.end(match.lastindex)
    for pattern in (_LOST_COLON, _ENV_NAME):  # anchored at the start of the line: one try there
        found = pattern.match(line)
        if found is not None and found.lastindex and found.group(found.lastindex):
            yield found.start(found.lastindex), found.end(found.lastindex)


def _line_offsets(lines: list[str]) -> list[int]:
    offsets, at = [], 0
    for line in lines:
        offsets.append(at)
        at += len(line) + 1
    return offsets


def _token_spans(start: int, end: int, offsets: list[int]) -> Iterator[tuple[int, int, int]]:
    """A token (which may run over lines, as a PEM key does) as one span per line."""
    from bisect import bisect_right

    line = bisect_right(offsets, start) - 1
    while line < len(offsets) and offsets[line] < end:
        first = max(start, offsets[line]) - offsets[line]
        last = (min(end, offsets[line + 1] - 1) if line + 1 < len(offsets) else end) - offsets[line]
        if last > first:
            yield line + 1, first + 1, last + 1
        line += 1


def values(text: str, found: Iterable[tuple[int, int, int]]) -> set[str]:
    """The credential strings themselves, to mask where a message or a hint repeats one."""
    lines = text.split("\n")
    out = set()
    for line, first, end in found:
        if line <= len(lines):
            value = lines[line - 1][first - 1 : end - 1].strip("\r")
            if len(value) >= _SHORTEST:
                out.add(value)
    return out


def mask_line(line: str, columns: Iterable[tuple[int, int]]) -> str:
    """`line` with each (first column, end column) overwritten by `*`, its length kept."""
    chars = list(line)
    for first, end in columns:
        for i in range(first - 1, min(end - 1, len(chars))):
            chars[i] = "*"
    return "".join(chars)


def mask_values(text: str, secrets: set[str]) -> str:
    """`text` with every occurrence of a credential string replaced by `****`."""
    if not text or not secrets:
        return text
    for secret in sorted(secrets, key=len, reverse=True):
        if secret in text:
            text = text.replace(secret, "****")
    return text
