"""JSON documents written a list item at a time, byte for byte as `json.dumps(doc, indent=2)` writes them whole:
a report of 100,000 findings never holds 100,000 dicts, or one string of them all, at once."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
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
        yield ("[" if first else ",") + inner + json.dumps(item, indent=2).replace("\n", inner)
        first = False
    yield ("[]" if first else "\n" + indent + "]") + text[at + len(json.dumps(_HOLE)) :] + "\n"
