from __future__ import annotations

from decimal import Decimal

import pytest

from mllint.imageref import parse_image
from mllint.model import Span
from mllint.quantity import is_templated, parse_quantity

S = Span("x", 1, 1, 1, 2)


@pytest.mark.parametrize(
    "text, value",
    [
        ("2", Decimal(2)),
        ("500m", Decimal("0.5")),
        ("8Gi", Decimal(8 * 2**30)),
        ("1e3", Decimal(1000)),
        ("1.5", Decimal("1.5")),
        ("3000m", Decimal(3)),
        ("1k", Decimal(1000)),
        ("+1", Decimal(1)),
        (".5", Decimal("0.5")),
        ("2E2", Decimal(200)),
        ("100Mi", Decimal(100 * 2**20)),
    ],
)
def test_valid_quantities(text: str, value: Decimal) -> None:
    assert parse_quantity(text) == value


@pytest.mark.parametrize("text", ["8 Gi", "8GB", "two", "1e3M", "", "Gi", "1.2.3", "0x10"])
def test_invalid_quantities(text: str) -> None:
    assert parse_quantity(text) is None


@pytest.mark.parametrize("text", ["{{ .Values.gpus }}", "${GPUS}", "$(GPUS)", "$GPUS", "<your-image>"])
def test_templates(text: str) -> None:
    assert is_templated(text)


@pytest.mark.parametrize(
    "raw, registry, repository, tag, digest",
    [
        ("python", None, "python", None, None),
        (
            "pytorch/pytorch:2.3.1-cuda12.1-cudnn8-runtime",
            None,
            "pytorch/pytorch",
            "2.3.1-cuda12.1-cudnn8-runtime",
            None,
        ),
        ("nvcr.io/nvidia/pytorch:24.01-py3", "nvcr.io", "nvidia/pytorch", "24.01-py3", None),
        ("localhost:5000/team/img", "localhost:5000", "team/img", None, None),
        ("registry.example.com:5000/team/server:2.1.0", "registry.example.com:5000", "team/server", "2.1.0", None),
        ("img@sha256:abc", None, "img", None, "sha256:abc"),
        ("img:1.0@sha256:abc", None, "img", "1.0", "sha256:abc"),
    ],
)
def test_image_reference(raw: str, registry: str | None, repository: str, tag: str | None, digest: str | None) -> None:
    ref = parse_image(raw, S)
    assert (ref.registry, ref.repository, ref.tag, ref.digest) == (registry, repository, tag, digest)
