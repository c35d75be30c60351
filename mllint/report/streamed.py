"""JSON documents written a list item at a time, byte for byte as `json.dumps(doc, indent=2)` writes them whole:
a report of 100,000 findings never holds 100,000 dicts, or one string of them all, at once."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from json.encoder import encode_basestring_ascii as _string
from typing import Any

_HOLE = "@@mllint-streamed-list@@"


def streamed(frame: dict[str, Any], where: tuple[str | int, ...], items: Iterable[Any]) -> Iterator[str]:
    """`frame` with the list at `where` (an empty list there) filled with `items`, as chunks of text."""
    holder: Any = frame
    for key in where[:-1]:
        holder = holder[key]
    holder[where[-1]] = _HOLE
    text = json.dumps(frame, indent=2)
    holder[where[-1]] = []
    at = text.index(json.dumps(_HOLE))
    line_start = text.rfind("\n", 0, at) + 1
    indent = " " * (len(text[line_start:at]) - len(text[line_start:at].lstrip(" ")))
    inner = "\n" + indent + "  "
    yield text[:at]
    first = True
    for item in items:
        yield ("[" if first else ",") + inner + _indented(item, inner)
        first = False
    yield ("[]" if first else "\n" + indent + "]") + text[at + len(json.dumps(_HOLE)) :] + "\n"


class _Unusual(Exception):
    """A value `_put` leaves to `json.dumps` (a float, a key that is not a string)."""


def _indented(item: Any, newline: str) -> str:
    """`json.dumps(item, indent=2)` with `newline` for each line break, three times as fast: the standard encoder
    writes indented JSON in pure Python, a generator per container."""
    parts: list[str] = []
    try:
        _put(item, newline, parts)
    except _Unusual:
        return json.dumps(item, indent=2).replace("\n", newline)
    return "".join(parts)


def _put(value: Any, newline: str, out: list[str]) -> None:
    kind = type(value)
    if kind is str:
        out.append(_string(value))
    elif kind is dict:
        if not value:
            out.append("{}")
            return
        inner = newline + "  "
        opening = "{"
        for key, child in value.items():
            if type(key) is not str:
                raise _Unusual
            out.append(opening + inner + _string(key) + ": ")
            opening = ","
            _put(child, inner, out)
        out.append(newline + "}")
    elif kind is list or kind is tuple:
        if not value:
            out.append("[]")
            return
        inner = newline + "  "
        opening = "["
        for child in value:
            out.append(opening + inner)
            opening = ","
            _put(child, inner, out)
        out.append(newline + "]")
    elif value is None:
        out.append("null")
    elif value is True:
        out.append("true")
    elif value is False:
        out.append("false")
    elif kind is int:
        out.append(int.__repr__(value))
    else:
        raise _Unusual
