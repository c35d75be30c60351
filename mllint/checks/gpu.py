"""ML1xx: GPU resources and scheduling."""

from __future__ import annotations

from collections.abc import Iterator

from mllint.checks.context import Ctx, gpu_names, who
from mllint.model import Container, Finding
from mllint.registry import rule


@rule("ML101")
def gpu_request_without_limit(container: Container, ctx: Ctx) -> Iterator[Finding]:
    compose = ctx.workload is not None and ctx.workload.format == "compose"
    for name in gpu_names(container, ctx.params.gpu_resources):
        request = container.resources.requests.get(name)
        limit = container.resources.limits.get(name)
        if request is None:
            continue
        if limit is None:
            yield Finding.at(
                request.span,
                f"{who(container, ctx)} requests {request} {name} without a limit; "
                "the API server rejects the pod",
                fix=f"set resources.limits[{name!r}]: {request} (a GPU limit alone is enough: it becomes the request)",
            )
        elif request.amount is not None and limit.amount is not None and request.amount != limit.amount:
            if compose:
                yield Finding.at(
                    request.span,
                    f"{who(container, ctx)} reserves {request} GPU(s) in deploy.resources.reservations.devices "
                    f"but `gpus:` grants {limit}",
                    fix="keep one of the two, or make the counts equal",
                )
            else:
                yield Finding.at(
                    request.span,
                    f"{who(container, ctx)} requests {request} {name} but limits it to {limit}; "
                    "GPUs cannot be overcommitted, so request and limit must be equal",
                    fix=f"set both to the same count, or drop the request and keep limits[{name!r}]: {limit}",
                )
