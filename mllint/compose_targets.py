"""The Dockerfile stages a Compose file builds with `build.target`: a stage that is not the last one of its
Dockerfile but is built and run all the same."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path


def compose_targets(path: Path) -> Iterator[tuple[str, str]]:
    """(the Dockerfile's absolute, normalized path, the target stage's name in lower case) for each service
    of the Compose file at `path` whose `build:` names a `target`. A remote context (a git URL) or a value
    with `${...}` is skipped: the Dockerfile it builds is not known."""
    from mllint import yamlsrc as y

    try:
        text = path.read_text(encoding="utf-8-sig", errors="replace")
    except OSError:
        return
    if "target" not in text:  # most Compose files name none: no need to parse them here
        return
    folder = os.path.dirname(os.path.abspath(path))
    for doc in y.compose(str(path), text, []):
        services = y.get(doc.root, "services")
        for _name, _key, service in y.items(services) if y.is_map(services) else ():
            build = y.get(service, "build") if y.is_map(service) else None
            if not y.is_map(build):
                continue
            target = y.text(y.get(build, "target"))
            context = y.text(y.get(build, "context")) or "."
            dockerfile = y.text(y.get(build, "dockerfile")) or "Dockerfile"
            if not target or any("$" in v or "://" in v or v.startswith("git@") for v in (target, context, dockerfile)):
                continue
            joined = os.path.normpath(os.path.join(folder, context, dockerfile))
            yield joined, target.lower()
