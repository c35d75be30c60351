"""Facts from other files that a per-file rule needs, gathered before any file is checked."""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from typing import Any

from mllint.discover import Candidate, is_kustomization
from mllint.records import record


@record(frozen=True, slots=True)
class ProjectIndex:
    """Facts that come from other files of the scan."""

    kustomize_images: frozenset[str] = frozenset()  # images whose tags a kustomization sets
    # Files a kustomization applies as patches (display paths): each holds parts of objects that its base
    # completes, so what it leaves out is not missing
    fragments: frozenset[str] = frozenset()
    # (Dockerfile display path, stage name in lower case) for each stage a Compose `build.target` builds
    build_targets: frozenset[tuple[str, str]] = frozenset()


@record(frozen=True, slots=True)
class Kustomization:
    """What the index reads of one kustomization file: its image names, and its patch and resource paths as
    written (relative to its folder)."""

    images: frozenset[str] = frozenset()
    patches: tuple[str, ...] = ()
    resources: tuple[str, ...] = ()


def build(candidates: Iterable[Candidate], cache_dir: str | None = None) -> ProjectIndex:
    """The index of `candidates`; with `cache_dir`, a kustomization whose bytes are unchanged is not parsed again
    (a pre-commit run reads every kustomization of the repository)."""
    from mllint import cache

    candidates = list(candidates)
    store = cache.Store(cache_dir, cache.part_key("kustomizations")) if cache_dir else None
    images: set[str] = set()
    patches: set[str] = set()
    resources: set[str] = set()
    for cand in candidates:
        if not is_kustomization(os.path.basename(cand.path)):
            continue
        read = store.lookup(cand.display, cand.kind, cand.path) if store is not None else None
        if not isinstance(read, Kustomization):
            read, digest = _kustomization(cand)
            if store is not None:
                store.put(cand.display, cand.kind, cand.path, digest, (), read)
        images |= read.images
        folder = os.path.dirname(os.path.abspath(cand.path))
        patches |= {_resolve(folder, entry) for entry in read.patches}
        resources |= {_resolve(folder, entry) for entry in read.resources}
    if store is not None:
        store.save()
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


def _kustomization(cand: Candidate) -> tuple[Kustomization, str]:
    """What the index reads of the kustomization `cand`, and the digest of its bytes ("" when unreadable)."""
    from mllint import yamlsrc
    from mllint.cache import digest_bytes

    try:
        with open(cand.path, "rb") as handle:
            data = handle.read()
    except OSError:
        return Kustomization(), ""
    images: set[str] = set()
    patches: list[str] = []
    resources: list[str] = []
    text = data.decode("utf-8-sig", errors="replace").replace("\r\n", "\n").replace("\r", "\n")  # as text mode reads
    for doc in yamlsrc.compose(cand.display, text, []):
        images |= _kustomize_images(doc.root)
        patches += _patch_paths(doc.root)
        resources += _resource_paths(doc.root)
    return Kustomization(frozenset(images), tuple(patches), tuple(resources)), digest_bytes(data)


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
