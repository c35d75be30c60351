"""The Dockerfile stages a Compose file builds with `build.target`: a stage that is not the last one of its
Dockerfile but is built and run all the same."""

from __future__ import annotations

import os
import posixpath
from collections.abc import Iterator


def build_dockerfile(folder: str, context: str, dockerfile: str | None) -> str | None:
    """The Dockerfile a Compose `build:` builds: `dockerfile` (default `Dockerfile`) in `context`, relative to the
    Compose file's `folder`; None for a remote context (a git URL), whose Dockerfile is not in the repository."""
    if "://" in context or context.startswith("git@"):
        return None
    return posixpath.join(folder, context, dockerfile or "Dockerfile")


def compose_targets(path: str | os.PathLike[str]) -> Iterator[tuple[str, str]]:
    """(the Dockerfile's absolute, normalized path, the target stage's name in lower case) for each service
    of the Compose file at `path` whose `build:` names a `target`. A remote context (a git URL) or a value
    with `${...}` is skipped: the Dockerfile it builds is not known."""
    from mllint import yamlsrc as y

    try:
        with open(path, encoding="utf-8-sig", errors="replace") as handle:
            text = handle.read()
    except OSError:
        return
    if "target" not in text:  # most Compose files name none: no need to parse them here
        return
    folder = os.path.dirname(os.path.abspath(path))
    for doc in y.compose(os.fspath(path), text, []):
        services = y.get(doc.root, "services")
        for _name, _key, service in y.items(services) if y.is_map(services) else ():
            build = y.get(service, "build") if y.is_map(service) else None
            if not y.is_map(build):
                continue
            target = y.text(y.get(build, "target"))
            context = y.text(y.get(build, "context")) or "."
            dockerfile = y.text(y.get(build, "dockerfile")) or "Dockerfile"
            joined = build_dockerfile(folder, context, dockerfile)
            if not target or joined is None or any("$" in v for v in (target, context, dockerfile)):
                continue
            yield os.path.normpath(joined), target.lower()
