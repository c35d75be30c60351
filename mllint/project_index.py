"""Facts from other files that a per-file rule needs, gathered before any file is checked."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from mllint.discover import Candidate, is_kustomization


@dataclass(frozen=True, slots=True)
class ProjectIndex:
    """Facts that come from other files of the scan."""

    kustomize_images: frozenset[str] = frozenset()  # images whose tags a kustomization sets


def build(candidates: Iterable[Candidate]) -> ProjectIndex:
    return ProjectIndex(kustomize_images=frozenset(_kustomize_images(candidates)))


def _kustomize_images(candidates: Iterable[Candidate]) -> set[str]:
    """Image names whose tags a kustomization in the scan sets (`images: [{name: ...}]`)."""
    from mllint import yamlsrc

    names: set[str] = set()
    for cand in candidates:
        if not is_kustomization(cand.path.name):
            continue
        try:
            text = cand.path.read_text(encoding="utf-8-sig", errors="replace")
        except OSError:
            continue
        for doc in yamlsrc.compose(cand.display, text, []):
            images = yamlsrc.get(doc.root, "images")
            for entry in images.value if yamlsrc.is_seq(images) else []:
                name = yamlsrc.text(yamlsrc.get(entry, "name"))
                if name:
                    names.add(name)
    return names
