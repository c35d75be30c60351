"""Kubernetes resource quantities (`500m`, `8Gi`, `1e3`, `2`), parsed by the API server's grammar."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

_QUANTITY = re.compile(
    r"^(?P<num>[+-]?(?:\d+(?:\.\d*)?|\.\d+))"
    r"(?P<suffix>Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E|[eE][+-]?\d+)?$"
)
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
_TEMPLATE = re.compile(r"\{\{|\$\{|\$\(|^\$[A-Za-z_]|<[A-Za-z_ -]+>")


def is_templated(text: str) -> bool:
    """True for values a template engine or shell fills in later: `{{ x }}`, `${X}`, `$(X)`, `$X`."""
    return bool(_TEMPLATE.search(text))


def parse_quantity(text: str) -> Decimal | None:
    """The quantity's value in base units, or None when `text` is not a valid quantity."""
    match = _QUANTITY.match(text.strip())
    if match is None:
        return None
    try:
        number = Decimal(match["num"])
    except InvalidOperation:  # pragma: no cover - the regex admits only decimals
        return None
    suffix = match["suffix"]
    if not suffix:
        return number
    if suffix in _BINARY:
        return number * _BINARY[suffix]
    if suffix in _DECIMAL:
        return number * _DECIMAL[suffix]
    return number.scaleb(int(suffix[1:]))
