"""What a rule receives besides its target."""

from __future__ import annotations

from dataclasses import dataclass, field
from fnmatch import fnmatchcase

from mllint.model import Container, SourceFile, Workload
from mllint.registry import Params


@dataclass(slots=True)
class ProjectIndex:
    """Facts that come from other files of the scan."""

    kustomize_images: frozenset[str] = frozenset()


@dataclass(slots=True)
class Ctx:
    params: Params
    file: SourceFile
    index: ProjectIndex = field(default_factory=ProjectIndex)
    workload: Workload | None = None
    gpu_resources: tuple[str, ...] = ()  # ML101's `gpu_resources` parameter: what counts as a GPU everywhere

    @property
    def compose(self) -> bool:
        return self.workload is not None and self.workload.format == "compose"


def gpu_names(container: Container, patterns: tuple[str, ...] | list[str]) -> list[str]:
    """The container's resource names (requests or limits) that are GPUs by the `patterns` globs."""
    names = dict.fromkeys([*container.resources.requests, *container.resources.limits])
    return [n for n in names if any(fnmatchcase(n, p) for p in patterns)]


def who(container: Container, ctx: Ctx) -> str:
    """How messages name a container: Compose users think in services."""
    return f"{'service' if ctx.compose else 'container'} {container.name!r}"
