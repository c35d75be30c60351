"""Text for XML reports: XML 1.0 cannot hold most control characters, even as character references, nor a lone
surrogate; each is written as its escape (`\\x1b`) before the usual XML escaping."""

from __future__ import annotations

import re
from xml.sax.saxutils import escape as _escape
from xml.sax.saxutils import quoteattr

_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")


def clean(text: str) -> str:
    return _NOT_XML.sub(lambda m: m[0].encode("unicode_escape", "backslashreplace").decode("ascii"), text)


def text(value: str) -> str:
    return _escape(clean(value))


def attr(value: str) -> str:
    """A quoted attribute value; newlines and tabs as character references, so that parsers keep them."""
    return quoteattr(clean(value), {"\n": "&#10;", "\r": "&#13;", "\t": "&#9;"})
