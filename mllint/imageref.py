"""Image references: `registry/repo/name:tag@sha256:digest`, split the way Docker's reference grammar does."""

from __future__ import annotations

import re

from mllint import lazy_re
from mllint.model import ImageRef, Span
from mllint.quantity import is_placeholder, is_templated

# Images that stand in for one a controller sets at run time: KFP's executor template names
# `gcr.io/ml-pipeline/should-be-overridden-during-runtime` and patches the pod (podSpecPatch).
_STAND_IN = lazy_re.compile(r"(?:^|/)should-be-overridden[\w.-]*(?::[\w.-]+)?$", re.I)


def is_placeholder_image(value: str) -> bool:
    """An image nobody pulls as written: a placeholder word (`FILLED BY THE OPERATOR`, `PLACEHOLDER_IMAGE`:
    Docker repository names are lower case) or a stand-in the runtime replaces."""
    return is_placeholder(value) or bool(_STAND_IN.search(value.strip()))


def parse_image(raw: str, span: Span, resolved: str | None = None) -> ImageRef:
    value = (resolved if resolved is not None else raw).strip()
    placeholder = is_placeholder_image(value)
    ref = ImageRef(
        raw=raw,
        resolved=value,
        span=span,
        templated=placeholder or is_templated(value) or "$" in value,
        placeholder=placeholder,
    )
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
