"""Facts from other files that a per-file rule needs, gathered before any file is checked."""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from mllint.discover import Candidate, is_kustomization


@dataclass(frozen=True, slots=True)
class ProjectIndex:
    """Facts that come from other files of the scan."""

    kustomize_images: frozenset[str] = frozenset()  # images whose tags a kustomization sets
    # Files a kustomization applies as patches (display paths): each holds parts of objects that its base
    # completes, so what it leaves out is not missing
    fragments: frozenset[str] = frozenset()
    # (Dockerfile display path, stage name in lower case) for each stage a Compose `build.target` builds
    build_targets: frozenset[tuple[str, str]] = frozenset()


def build(candidates: Iterable[Candidate]) -> ProjectIndex:
    candidates = list(candidates)
    images: set[str] = set()
    patches: set[str] = set()
    resources: set[str] = set()
    for cand, doc in _kustomizations(candidates):
        images |= _kustomize_images(doc)
        folder = os.path.dirname(os.path.abspath(cand.path))
        patches |= {_resolve(folder, entry) for entry in _patch_paths(doc)}
        resources |= {_resolve(folder, entry) for entry in _resource_paths(doc)}
    # a file that a kustomization also takes whole (under `resources`) is a complete object there
    fragments = patches - resources
    return ProjectIndex(
        kustomize_images=frozenset(images),
        fragments=frozenset(c.display for c in candidates if _resolve("", str(c.path)) in fragments),
        build_targets=_build_targets(candidates),
    )


def _build_targets(candidates: list[Candidate]) -> frozenset[tuple[str, str]]:
    """The Dockerfile stages Compose services build with `build.target`, joined to the Dockerfiles scanned."""
    from mllint.compose_targets import compose_targets

    dockerfiles = {_resolve("", str(c.path)): c.display for c in candidates if c.kind == "dockerfile"}
    if not dockerfiles:
        return frozenset()
    found = set()
    for cand in candidates:
        if cand.kind == "compose":
            for path, stage in compose_targets(cand.path):
                if path in dockerfiles:
                    found.add((dockerfiles[path], stage))
    return frozenset(found)


def _kustomizations(candidates: Iterable[Candidate]) -> Iterator[tuple[Candidate, Any]]:
    """(candidate, root node) for each document of each kustomization in the scan."""
    from mllint import yamlsrc

    for cand in candidates:
        if not is_kustomization(os.path.basename(cand.path)):
            continue
        try:
            with open(cand.path, encoding="utf-8-sig", errors="replace") as handle:
                text = handle.read()
        except OSError:
            continue
        for doc in yamlsrc.compose(cand.display, text, []):
            yield cand, doc.root


def _kustomize_images(root: Any) -> set[str]:
    """Image names whose tags the kustomization sets (`images: [{name: ...}]`)."""
    from mllint import yamlsrc

    names: set[str] = set()
    images = yamlsrc.get(root, "images")
    for entry in images.value if yamlsrc.is_seq(images) else []:
        name = yamlsrc.text(yamlsrc.get(entry, "name"))
        if name:
            names.add(name)
    return names


def _patch_paths(root: Any) -> Iterator[str]:
    """The files the kustomization applies as patches: `patches: [{path: x.yaml}]`, `patchesJson6902` entries
    with a `path`, and `patchesStrategicMerge` (a list of paths; an entry holding a patch inline is skipped)."""
    from mllint import yamlsrc

    for key in ("patches", "patchesStrategicMerge", "patchesJson6902"):
        entries = yamlsrc.get(root, key)
        for entry in entries.value if yamlsrc.is_seq(entries) else []:
            path = yamlsrc.text(entry) if yamlsrc.is_scalar(entry) else yamlsrc.text(yamlsrc.get(entry, "path"))
            if path and _is_path(path):
                yield path


def _resource_paths(root: Any) -> Iterator[str]:
    """The files the kustomization takes whole (`resources`, and the older `bases`)."""
    from mllint import yamlsrc

    for key in ("resources", "bases"):
        entries = yamlsrc.get(root, key)
        for entry in entries.value if yamlsrc.is_seq(entries) else []:
            path = yamlsrc.text(entry) if yamlsrc.is_scalar(entry) else None
            if path and _is_path(path):
                yield path


def _is_path(text: str) -> bool:
    """A relative file path, not a patch written inline or a remote resource (`github.com/...?ref=`, a URL)."""
    return "\n" not in text and ":" not in text and not text.startswith("/")


def _resolve(folder: str, path: str) -> str:
    return os.path.normpath(os.path.join(folder, path)) if folder else os.path.normpath(os.path.abspath(path))
