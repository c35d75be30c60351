"""Image references: `registry/repo/name:tag@sha256:digest`, split the way Docker's reference grammar does."""

from __future__ import annotations

from mllint.model import ImageRef, Span
from mllint.quantity import is_templated


def parse_image(raw: str, span: Span, resolved: str | None = None) -> ImageRef:
    value = (resolved if resolved is not None else raw).strip()
    ref = ImageRef(raw=raw, resolved=value, span=span, templated=is_templated(value) or "$" in value)
    rest = value
    if "@" in rest:
        rest, ref.digest = rest.split("@", 1)
    first, slash, remainder = rest.partition("/")
    if slash and ("." in first or ":" in first or first == "localhost"):
        ref.registry, rest = first, remainder
    name, colon, tag = rest.rpartition(":")
    if colon and "/" not in tag:
        ref.repository, ref.tag = name, tag
    else:
        ref.repository = rest
    return ref
