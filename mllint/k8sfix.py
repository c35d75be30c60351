"""Fixes of Kubernetes manifests, as edits of the text (`mllint.yamledit`): a GPU limit beside its request, a
quota key's prefix, a memory-backed /dev/shm, a startupProbe in front of a liveness probe. Each returns None where
the YAML is not written in a way the edit can be placed with certainty (flow style, a value on the key's line)."""

from __future__ import annotations

import math

from mllint.edits import span_offsets
from mllint.model import Container, Edit, Fix, PodSpec, Probe, Quantity, SourceFile, Value
from mllint.yamledit import Block

SHM_VOLUME = "dshm"
_TIMINGS = frozenset({"initialDelaySeconds", "periodSeconds", "failureThreshold", "successThreshold"})


def _written(file: SourceFile, value: Quantity | Value) -> str:
    start, end = span_offsets(file.text, value.span)
    return file.text[start:end]


def gpu_limit(file: SourceFile, request: Quantity) -> Fix | None:
    """`limits: {<gpu>: <the request>}` beside the requests (safe: the API server rejects the pod without it)."""
    if request.key_span is None or request.templated or request.span.line != request.key_span.line:
        return None
    block = Block.of(file)
    entry = request.key_span.line
    requests = block.parent(entry)
    if requests is None or block.key(requests) != "requests":
        return None
    key_start, key_end = span_offsets(file.text, request.key_span)
    key, value = file.text[key_start:key_end], _written(file, request)
    limits = block.siblings(requests).get("limits")
    if limits is None:
        pad, child = " " * block.indent(requests), " " * block.indent(entry)
        edit = block.insert_after(block.end(requests), [f"{pad}limits:", f"{child}{key}: {value}"])
    else:
        first = block.first_child(limits)
        if not block.opens_block(limits) or first is None or block.dash(first):
            return None
        edit = block.insert_after(block.end(limits), [f"{' ' * block.indent(first)}{key}: {value}"])
    return Fix(f"set limits {key}: {value}", True, (edit,))


def gpu_request_to_limit(file: SourceFile, request: Quantity, limit: Quantity) -> Fix | None:
    """The request set to the limit's count (unsafe: which of the two counts was meant is the user's call)."""
    if request.templated or limit.templated:
        return None
    start, end = span_offsets(file.text, request.span)
    value = _written(file, limit)
    return Fix(f"set the request to the limit ({value})", False, (Edit(file.path, start, end, value),))


def quota_requests(file: SourceFile, item: Value, taken: set[str]) -> Fix | None:
    """`limits.<resource>` → `requests.<resource>` in a ResourceQuota's hard (none when that key exists already)."""
    start, end = span_offsets(file.text, item.span)
    written = file.text[start:end]
    at = written.find("limits.")
    resource = item.text[len("limits.") :]
    if at < 0 or f"requests.{resource}" in taken:
        return None
    edit = Edit(file.path, start + at, start + at + len("limits."), "requests.")
    return Fix(f"use requests.{resource}", True, (edit,))


def shm_volume(file: SourceFile, pod: PodSpec, container: Container, size: str) -> Fix | None:
    """An emptyDir with medium: Memory and a sizeLimit, mounted at /dev/shm (unsafe: what it holds counts against
    the container's memory)."""
    if container.name_span is None or pod.span == container.span:
        return None
    existing = next((v for v in pod.volumes if v.name == SHM_VOLUME), None)
    if existing is not None and not (
        existing.kind == "emptyDir" and existing.medium and existing.medium.text == "Memory"
    ):
        return None
    block = Block.of(file)
    keys = block.siblings(container.name_span.line)
    if not keys:
        return None
    edits: list[Edit] = []
    mount = _add_item(block, keys, "volumeMounts", [f"name: {SHM_VOLUME}", "mountPath: /dev/shm"])
    if mount is None:
        return None
    edits.append(mount)
    if existing is None:
        containers = block.parent(min(keys.values()))
        if containers is None or block.key(containers) != "containers":
            return None
        volume = _add_item(
            block,
            block.siblings(containers),
            "volumes",
            [f"name: {SHM_VOLUME}", "emptyDir:", "  medium: Memory", f"  sizeLimit: {size}"],
        )
        if volume is None:
            return None
        if volume.start == mount.start:  # the container is the pod's last: its mount first, then the pod's volumes
            edits = [Edit(file.path, mount.start, mount.end, mount.replacement + volume.replacement)]
        else:
            edits.append(volume)
    return Fix(f"mount an emptyDir (medium: Memory, sizeLimit: {size}) at /dev/shm", False, tuple(edits))


def _add_item(block: Block, keys: dict[str, int], key: str, item: list[str]) -> Edit | None:
    """Append a mapping `item` (its lines, relative indentation) to the sequence `key` of the mapping whose keys are
    `keys`, or add `key` with that one item after the mapping's last line."""
    line = keys.get(key)
    if line is None:
        pad = " " * block.indent(min(keys.values()))
        last = max(block.end(n) for n in keys.values())
        return block.insert_after(last, [f"{pad}{key}:", *_item(pad + "  ", 2, item)])
    first = block.first_child(line)
    if not block.opens_block(line) or first is None or not block.dash(first):
        return None
    dash = block.lines[first - 1][: len(block.lines[first - 1]) - len(block.lines[first - 1].lstrip(" "))]
    return block.insert_after(block.end(line), _item(dash, block.indent(first) - len(dash), item))


def _item(dash: str, gap: int, item: list[str]) -> list[str]:
    first, *rest = item
    return [f"{dash}-{' ' * (gap - 1)}{first}", *(f"{dash}{' ' * gap}{text}" for text in rest)]


def startup_probe(file: SourceFile, probe: Probe, load_seconds: int) -> Fix | None:
    """A startupProbe with the liveness probe's check, whose period x failureThreshold covers `load_seconds`
    (safe: the liveness probe starts once the model has loaded, as it is meant to)."""
    block = Block.of(file)
    line = probe.span.line
    if block.key(line) != "livenessProbe" or not block.opens_block(line):
        return None
    child = block.first_child(line)
    if child is None:
        return None
    indent = block.indent(child)
    body: list[str] = []
    n = line + 1
    last = block.end(line)
    while n <= last:
        if block.blank(n):
            n += 1
            continue
        skip = block.indent(n) == indent and not block.dash(n) and block.key(n) in _TIMINGS
        stop = block.end(n) if block.indent(n) == indent and not block.dash(n) else n
        if not skip:
            body.extend(block.lines[k - 1] for k in range(n, stop + 1) if not block.blank(k))
        n = stop + 1
    period = probe.period_seconds or 10
    failures = max(1, math.ceil(load_seconds / period))
    pad = " " * block.indent(line)
    timings = [f"{' ' * indent}periodSeconds: {period}", f"{' ' * indent}failureThreshold: {failures}"]
    edit = block.insert_after(last, [f"{pad}startupProbe:", *body, *timings])
    return Fix(
        f"add a startupProbe (periodSeconds: {period}, failureThreshold: {failures}: {period * failures} s to load)",
        True,
        (edit,),
    )
