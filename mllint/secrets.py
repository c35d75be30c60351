"""Known secret formats: credentials that are secrets whatever name holds them, each with the vendor's
documentation of its prefix. One place for ML703 (which reports them) and for the reports (which blank
them out of any text they print).

A format matches only with its full shape (prefix, character set, length) and a boundary on each side, so
`task-final-status-...` is not an OpenAI key and `hf_hub_download` is not a Hugging Face token. A value
wrapped in base64 (a Kubernetes Secret's `data:`) is decoded and matched the same way.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable, Iterator
from typing import NamedTuple

from mllint import lazy_re


class TokenFormat(NamedTuple):
    name: str  # how messages name it: "a Hugging Face access token"
    prefixes: tuple[str, ...]  # literal text every token of the format starts with: a cheap test before the pattern
    pattern: re.Pattern[str]  # the whole token, with its boundaries
    source: str  # the vendor's documentation of the format
    check: Callable[[str], bool] | None = None  # a further test of the matched text


def _mixed(token: str) -> bool:
    """A generated key mixes upper case, lower case and digits; a hyphenated name (`sk-learn-...`) does not."""
    body = token.split("-", 1)[1]
    return any(c.isupper() for c in body) and any(c.islower() for c in body) and any(c.isdigit() for c in body)


def _has_digit(token: str) -> bool:
    return any(c.isdigit() for c in token)


def _not_example(token: str) -> bool:
    return "EXAMPLE" not in token  # AWS's documented example key id, AKIAIOSFODNN7EXAMPLE


_PEM_BODY = lazy_re.compile(r"""(?:\s|\\n|\\r|["'|>+-])*([A-Za-z0-9+/=]+)""")


def _pem_body(text: str, end: int, least: int) -> bool:
    """A private key block with key material after its header (not `...` or `<your key>`)."""
    body = _PEM_BODY.match(text, end)
    return body is not None and len(body[1]) >= least


FORMATS: tuple[TokenFormat, ...] = (
    TokenFormat(
        "a Hugging Face access token",
        ("hf_",),
        lazy_re.compile(r"(?<![A-Za-z0-9_])hf_[A-Za-z0-9]{34,}(?![A-Za-z0-9_])"),
        "https://huggingface.co/docs/hub/security-tokens",
    ),
    TokenFormat(
        "a GitHub token",
        ("ghp_", "gho_", "ghu_", "ghs_", "ghr_"),
        lazy_re.compile(r"(?<![A-Za-z0-9_])gh[pousr]_[A-Za-z0-9_]{36,251}(?![A-Za-z0-9_])"),
        "https://docs.github.com/en/authentication/keeping-your-account-and-data-secure/"
        "about-authentication-to-github#githubs-token-formats",
    ),
    TokenFormat(
        "a GitHub fine-grained personal access token",
        ("github_pat_",),
        lazy_re.compile(r"(?<![A-Za-z0-9_])github_pat_[A-Za-z0-9_]{40,}(?![A-Za-z0-9_])"),
        "https://docs.github.com/en/authentication/keeping-your-account-and-data-secure/"
        "about-authentication-to-github#githubs-token-formats",
    ),
    TokenFormat(
        "an OpenAI API key",
        ("sk-",),
        lazy_re.compile(r"(?<![A-Za-z0-9_-])sk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_-]{32,}(?![A-Za-z0-9_-])"),
        "https://platform.openai.com/docs/api-reference/admin-api-keys",
        _mixed,
    ),
    TokenFormat(
        "an AWS access key id",
        ("AKIA", "ASIA"),
        lazy_re.compile(r"(?<![A-Za-z0-9])(?:AKIA|ASIA)[A-Z0-9]{16}(?![A-Za-z0-9])"),
        "https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_identifiers.html#identifiers-unique-ids",
        _not_example,
    ),
    TokenFormat(
        "a Slack token",
        ("xox", "xapp-"),
        lazy_re.compile(r"(?<![A-Za-z0-9])(?:xox[abprs]|xapp)-[0-9]+-[0-9A-Za-z-]{10,}(?![A-Za-z0-9-])"),
        "https://docs.slack.dev/authentication/tokens",
        _has_digit,
    ),
    TokenFormat(
        "a GitLab personal access token",
        ("glpat-",),
        lazy_re.compile(r"(?<![A-Za-z0-9])glpat-[A-Za-z0-9_.-]{20,}(?![A-Za-z0-9_.-])"),
        "https://docs.gitlab.com/ee/security/tokens/#token-prefixes",
    ),
    TokenFormat(
        "a private key",
        ("-----BEGIN",),
        lazy_re.compile(r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----"),
        "https://www.rfc-editor.org/rfc/rfc7468#section-10",
    ),
)

# base64 of each prefix at the start of an encoded value, whole 4-character groups only (`hf_` is `aGZf`)
_B64_PREFIXES = ("hf_", "ghp", "gho", "ghu", "ghs", "ghr", "github_pa", "sk-", "AKI", "ASI", "xox", "xap", "glpat-")
_B64_START = sorted(
    {base64.b64encode(p.encode()).decode()[: len(p) // 3 * 4] for p in (*_B64_PREFIXES, "-----BEGI")}, key=len
)
_B64_RUN = lazy_re.compile(r"[A-Za-z0-9+/]{16,}={0,2}")
_B64_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=")


def _b64_runs(text: str) -> Iterator[re.Match[str]]:
    """Runs of base64 that start with an encoded prefix (found with str.find: a regex alternation that tries
    every position is ten times slower on a large scan)."""
    for prefix in _B64_START:
        at = text.find(prefix)
        while at >= 0:
            if at == 0 or text[at - 1] not in _B64_CHARS:
                run = _B64_RUN.match(text, at)
                if run is not None:
                    yield run
            at = text.find(prefix, at + 1)


class TokenMatch(NamedTuple):
    format: TokenFormat
    start: int  # offsets into the searched text: the token, or the base64 run that encodes it
    end: int
    encoded: bool = False  # found inside base64


def _plain(text: str, pem_body: int = 40) -> Iterator[TokenMatch]:
    """The tokens written as they are; a private key needs `pem_body` characters of key material after its
    header (fewer in a decoded base64 line, which a wrapped value cuts short)."""
    for fmt in FORMATS:
        if not any(p in text for p in fmt.prefixes):
            continue
        for match in fmt.pattern.finditer(text):
            if fmt.check is not None and not fmt.check(match[0]):
                continue
            if fmt.prefixes == ("-----BEGIN",) and not _pem_body(text, match.end(), pem_body):
                continue
            yield TokenMatch(fmt, match.start(), match.end())


def _decoded(run: str) -> str:
    usable = run.rstrip("=")[:512]
    if len(usable) % 4 == 1:  # a character short of a byte: not base64 as written
        usable = usable[:-1]
    usable += "=" * (-len(usable) % 4)
    try:
        return binascii.a2b_base64(usable).decode("utf-8", errors="replace")
    except (binascii.Error, ValueError):
        return ""


# Any text that holds a token holds one of these: one search rules out a short text (a source line, a message)
# that holds none; a long one is faster searched prefix by prefix (`_plain`, `_b64_runs`)
_SHORT = 4096
_ANY_START = lazy_re.compile(
    "|".join(re.escape(p) for p in sorted({*(p for f in FORMATS for p in f.prefixes), *_B64_START}))
)


_last: tuple[str, tuple[TokenMatch, ...]] = ("", ())  # the last long text searched, and what was found


def find_tokens(text: str) -> tuple[TokenMatch, ...]:
    """Every known token in `text`, plain or base64-encoded, in order of position. The last long text is
    remembered: redaction and the secrets rule both search each whole file."""
    global _last
    if len(text) <= _SHORT:
        return _find_tokens(text) if _ANY_START.search(text) is not None else ()
    if text is not _last[0]:
        _last = (text, _find_tokens(text))
    return _last[1]


def _find_tokens(text: str) -> tuple[TokenMatch, ...]:
    found = list(_plain(text))
    for run in _b64_runs(text):
        decoded = _decoded(run[0])
        inner = next((m for m in _plain(decoded, pem_body=16) if m.start == 0), None)
        if inner is not None:
            found.append(TokenMatch(inner.format, run.start(), run.end(), encoded=True))
    found.sort(key=lambda m: (m.start, -m.end))
    out: list[TokenMatch] = []
    for match in found:  # one match per stretch of text (a GitHub token is not also an OpenAI key)
        if not out or match.start >= out[-1].end:
            out.append(match)
    return tuple(out)


def token_format(value: str) -> TokenFormat | None:
    """The format of the first known token in `value`, None when there is none."""
    found = find_tokens(value)
    return found[0].format if found else None


# What a message may quote of a token: its prefix and a few characters of it, where a parser shortened a
# line (`--token hf_AbC…`) and the full formats above no longer match.
_PARTIAL = lazy_re.compile(
    r"(?<![A-Za-z0-9_])(hf_|gh[pousr]_|github_pat_|sk-(?:proj-|svcacct-|admin-)?|AKIA|ASIA|"
    r"xox[abprs]-|xapp-|glpat-)[A-Za-z0-9_-]{4,}(?=…|\.\.\.)"
)
REDACTED = "<redacted>"


def redact(text: str) -> str:
    """`text` with every known token replaced by `<redacted>`, and what is left of a shortened one by its
    prefix and `<redacted>`."""
    if not text:
        return text
    for match in reversed(find_tokens(text)):
        text = text[: match.start] + REDACTED + text[match.end :]
    return _PARTIAL.sub(lambda m: m[1] + REDACTED, text)


def mask(text: str) -> str:
    """`text` with every known token (or the start of one) overwritten by `*`, its length kept: a quoted source
    line whose columns still match a finding's span."""
    if not text:
        return text
    for match in find_tokens(text):
        text = text[: match.start] + "*" * (match.end - match.start) + text[match.end :]
    return _PARTIAL.sub(lambda m: m[1] + "*" * (len(m[0]) - len(m[1])), text)
