"""Kubernetes resource quantities (`500m`, `8Gi`, `1e3`, `2`), parsed by the API server's grammar."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from mllint import lazy_re

_QUANTITY = lazy_re.compile(
    r"^(?P<num>[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+))"
    r"(?P<suffix>Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E|[eE][+-]?[0-9]+)?$"
)
_MAX_DIGITS = 40  # digits of the number or its exponent past any quantity a node has (int64 holds 19 digits)
_BINARY = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50, "Ei": 2**60}
_DECIMAL = {
    "n": Decimal("1e-9"),
    "u": Decimal("1e-6"),
    "m": Decimal("1e-3"),
    "k": Decimal(10**3),
    "M": Decimal(10**6),
    "G": Decimal(10**9),
    "T": Decimal(10**12),
    "P": Decimal(10**15),
    "E": Decimal(10**18),
}
_TEMPLATE = lazy_re.compile(r"\{\{|\{%|\$\{|\$\(|^\$[A-Za-z_]|<[A-Za-z_ -]+>")
# A word that stands where a value belongs until a script or an operator writes the value in: capitals joined
# by `_` or spaces (`PLACEHOLDER_NUM_GPU_PER_NODE`, `FILLED BY THE OPERATOR`), or a name between sed-style
# markers (`__GPUS__`, `%GPUS%`, `@GPUS@`). No quantity, and no image Docker can pull, is written so.
_CAPS_WORDS = lazy_re.compile(r"[A-Z][A-Z0-9]*(?:[_ ]+[A-Z0-9]+)+")
_MARKED = lazy_re.compile(r"(__|%|@)[A-Za-z][A-Za-z0-9_]*\1")
_PLACEHOLDER_WORDS = frozenset({"placeholder", "changeme", "change-me", "replaceme", "replace-me"})


def is_templated(text: str) -> bool:
    """True for values a template engine or shell fills in later: `{{ x }}`, `{% x %}`, `${X}`, `$(X)`, `$X`."""
    return bool(_TEMPLATE.search(text))


def is_placeholder(text: str) -> bool:
    """True for a placeholder word that a script or an operator replaces before the file is used:
    `PLACEHOLDER_NUM_GPU_PER_NODE`, `FILLED BY THE OPERATOR`, `__GPUS__`, `changeme`."""
    word = text.strip()
    return bool(_CAPS_WORDS.fullmatch(word) or _MARKED.fullmatch(word)) or word.lower() in _PLACEHOLDER_WORDS


def is_unresolved(text: str) -> bool:
    """A template or a placeholder word: a value that is not there yet, never judged as a literal."""
    return is_templated(text) or is_placeholder(text)


def parse_quantity(text: str) -> Decimal | None:
    """The quantity's value in base units, or None when `text` is not a valid quantity."""
    match = _QUANTITY.match(text.strip())
    if match is None or len(match["num"]) > _MAX_DIGITS:
        return None
    suffix = match["suffix"]
    if suffix and suffix[0] in "eE" and abs(int(suffix[1:][: _MAX_DIGITS + 2])) > _MAX_DIGITS:
        return None  # 1e9999999: no node has it, and the arithmetic on it would not end
    try:
        number = Decimal(match["num"])
    except InvalidOperation:  # pragma: no cover - the regex admits only decimals
        return None
    if not suffix:
        return number
    if suffix in _BINARY:
        return number * _BINARY[suffix]
    if suffix in _DECIMAL:
        return number * _DECIMAL[suffix]
    return number.scaleb(int(suffix[1:]))
