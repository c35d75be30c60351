"""ML3xx: reproducibility and pinning."""

from __future__ import annotations

import re
from collections.abc import Iterator

from mllint.checks.context import Ctx, gpu_names, who
from mllint.model import Container, Finding, ImageRef, Stage
from mllint.registry import rule

# Tags that name a channel rather than a release: `latest-gpu`, `gpu-latest`, `nightly`, `nightly-cuda`, `edge`
MOVING_TAG = re.compile(r"(?i)(?:latest|nightly|edge)(?:[-_.][\w.-]*)?|[\w.-]*[-_.](?:latest|nightly)")


def _floating(image: ImageRef) -> str | None:
    """Why `image` floats, or None when it is pinned by tag or digest."""
    if image.digest:
        return None
    if image.tag is None:
        return "has no tag, so it follows `latest`"
    if image.tag.lower() == "latest":
        return "uses the moving tag `latest`"
    if MOVING_TAG.fullmatch(image.tag):
        return f"uses the moving tag `{image.tag}`, which its publisher moves to each new release or build"
    return None


def _pin_hint(image: ImageRef) -> str:
    name = f"{image.registry}/{image.repository}" if image.registry else image.repository
    return f"pin a version tag, e.g. {name}:<version>, or a digest (@sha256:...)"


def _shown(image: ImageRef) -> str:
    return repr(image.raw) if image.raw == image.resolved else f"{image.raw!r} (resolves to {image.resolved!r})"


@rule("ML301")
def latest_image_tag(target: Stage | Container, ctx: Ctx) -> Iterator[Finding]:
    if isinstance(target, Stage):
        base = target.base
        if target.base_stage is not None or base.resolved.lower() == "scratch" or base.templated:
            return
        if base.resolved.lower() in ctx.params.placeholder_images:
            return
        why = _floating(base)
        if why:
            yield Finding.at(base.span, f"base image {_shown(base)} {why}", fix=_pin_hint(base))
        return
    image = target.image
    if image is None or image.templated or image.resolved.lower() in ctx.params.placeholder_images:
        return
    if image.raw.startswith("ko://"):
        return  # ko builds it from Go source and writes its digest in (`ko resolve`, `ko apply`)
    workload = ctx.workload
    if workload is not None and workload.build is not None:
        return  # Compose builds this image and names it; nothing is pulled
    name = f"{image.registry}/{image.repository}" if image.registry else image.repository
    if name in ctx.index.kustomize_images or image.repository in ctx.index.kustomize_images:
        return
    why = _floating(image)
    if why:
        # a floating tag on a GPU container or a base image is what breaks builds
        gpu = bool(gpu_names(target, ctx.gpu_resources))
        yield Finding.at(
            image.span,
            f"{who(target, ctx)} image {_shown(image)} {why}",
            fix=_pin_hint(image),
            severity="" if gpu else "note",
        )


@rule("ML302")
def base_image_not_digest(stage: Stage, ctx: Ctx) -> Iterator[Finding]:
    image = stage.base
    if stage.base_stage is not None or image.digest or image.templated or image.resolved.lower() == "scratch":
        return
    if image.resolved.lower() in ctx.params.placeholder_images or _floating(image):
        return  # ML301 reports untagged and `latest` images
    yield Finding.at(
        image.span,
        f"base image {_shown(image)} is pinned by tag only; the tag can be re-pushed",
        fix=f"pin the digest too: FROM {image.resolved}@sha256:<digest>",
    )
