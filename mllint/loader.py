"""Read one file, decode it, and hand it to the parser its kind calls for."""

from __future__ import annotations

import os
import re

from mllint import yamlsrc
from mllint.cache import digest_bytes
from mllint.discover import Candidate
from mllint.model import Diagnostic, Skipped, SourceFile, Span

MAX_BYTES = 8 * 1024 * 1024


def decode(path: str, data: bytes) -> tuple[str, Diagnostic | None]:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16"), None
        except UnicodeDecodeError:
            pass
    try:
        return data.decode("utf-8-sig"), None
    except UnicodeDecodeError as exc:
        text = data.decode("utf-8-sig", errors="replace")
        line = data.count(b"\n", 0, exc.start) + 1
        line_start = data.rfind(b"\n", 0, exc.start) + 1
        col = len(data[line_start : exc.start].decode("utf-8", errors="replace").lstrip("\ufeff")) + 1
        return text, Diagnostic(
            "ML001",
            Span(path, line, col, line, col + 1),
            f"not valid UTF-8: byte 0x{data[exc.start]:02x} cannot be decoded",
        )


def read(candidate: Candidate, max_bytes: int = MAX_BYTES) -> SourceFile | Skipped:
    try:
        size = os.stat(candidate.path).st_size
        if size > max_bytes:
            return Skipped(candidate.display, f"larger than {max_bytes // (1024 * 1024)} MiB ({size} bytes)")
        with open(candidate.path, "rb") as handle:  # at most the cap, whatever the size said (/proc, a growing file)
            data = handle.read(max_bytes + 1)
        if len(data) > max_bytes:
            return Skipped(candidate.display, f"larger than {max_bytes // (1024 * 1024)} MiB")
    except OSError as exc:
        file = SourceFile(candidate.display, candidate.kind)
        file.diagnostics.append(
            Diagnostic("ML001", Span(candidate.display, 1, 1, 1, 1), f"cannot read file: {exc.strerror or exc}")
        )
        return file
    loaded = parse(candidate.display, candidate.kind, data)
    loaded.digest = digest_bytes(data)  # a template or a binary file is skipped for what its bytes hold, too
    return loaded


def parse(display: str, kind: str, data: bytes) -> SourceFile | Skipped:
    if b"\x00" in data[:8192] and not data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return Skipped(display, "binary file")
    text, problem = decode(display, data)
    file = SourceFile(display, kind, text)
    if problem is not None:
        file.diagnostics.append(problem)
        if kind != "dockerfile":
            return file
    if kind == "dockerfile":
        from mllint.sources import dockerfile

        dockerfile.load(file)
        if any(d.rule == "ML001" for d in file.diagnostics) and re.search(r"\{\{|\{%", text):
            return Skipped(
                display, "template syntax ({{ }}, {% %}) that is not a Dockerfile; scan the rendered output instead"
            )
    elif kind == "requirements":
        pass  # indexed for `pip install -r`; its checks belong to the pinning rules
    elif kind == "json" and '"apiVersion"' not in text:
        file.kind = "other"
    else:
        return _parse_yaml(file)
    return file


def _parse_yaml(file: SourceFile) -> SourceFile | Skipped:
    docs = yamlsrc.compose(file.path, file.text, file.diagnostics)
    if ("{{" in file.text or "{%" in file.text) and any(d.rule == "ML001" for d in file.diagnostics):
        return Skipped(file.path, "template syntax ({{ }}, {% %}) that is not YAML; scan the rendered output instead")
    from mllint.sources import compose, k8s

    docs = [doc for doc in docs if yamlsrc.check_document(file.path, doc.root, file.diagnostics)]
    compose_docs = docs if file.kind == "compose" else [d for d in docs if compose.is_compose(d.root)]
    taken = {id(d) for d in compose_docs}
    k8s_docs = [d for d in docs if id(d) not in taken and k8s.is_k8s_object(d.root)]
    if compose_docs:
        compose.load(file, compose_docs)
    if k8s_docs:
        k8s.load(file, k8s_docs)
    if compose_docs or k8s_docs:
        file.kind = "kubernetes" if k8s_docs and not compose_docs else "compose" if not k8s_docs else "mixed"
    else:
        file.kind = "yaml"
        file.diagnostics = [d for d in file.diagnostics if d.rule == "ML001"]  # not ours to judge beyond syntax
    return file
