"""Versions of CUDA and of the driver, and the driver a CUDA release needs (`knowledge/cuda_drivers.json`)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from mllint.knowledge import table

_VERSION = re.compile(r"^(\d+)(?:\.(\d+))?(?:\.(\d+))?")


def parse(text: str) -> tuple[int, ...] | None:
    """`12.1.1` → (12, 1, 1); `12.1` → (12, 1); `570.26` → (570, 26); None when it starts with no number."""
    match = _VERSION.match(text.strip())
    if not match:
        return None
    return tuple(int(part) for part in match.groups() if part is not None)


def show(version: tuple[int, ...]) -> str:
    return ".".join(map(str, version))


@dataclass(frozen=True)
class Requirement:
    cuda: str  # the release the row is for
    toolkit_text: str  # the driver as NVIDIA writes it (545.23.08)
    floor_text: str | None
    toolkit: tuple[int, ...]  # every feature (Table 3)
    toolkit_verified: bool
    floor: tuple[int, ...] | None  # minor-version compatibility (Table 2), None before CUDA 11
    floor_verified: bool
    source: str


@lru_cache(maxsize=1)
def _rows() -> list[tuple[tuple[int, ...], dict]]:
    return [(parse(row["cuda"]) or (), row) for row in table("cuda_drivers")["toolkit"]]


def floor(major: int) -> dict | None:
    """The minor-version-compatibility row of a CUDA major (Table 2), or None before CUDA 11."""
    return next((f for f in table("cuda_drivers")["minor_compat"] if f["major"] == major), None)


def requirement(cuda: tuple[int, ...]) -> Requirement | None:
    """The driver CUDA `cuda` needs: the row of that release, or of the same minor's nearest earlier update
    (`12.4` alone means its GA release, the lowest of the minor); None when the table has no such minor."""
    if len(cuda) < 2:
        return None
    major, minor = cuda[0], cuda[1]
    patch = cuda[2] if len(cuda) > 2 else 0
    same_minor = [(v, row) for v, row in _rows() if v[:2] == (major, minor)]
    if not same_minor:
        return None
    earlier = [(v, row) for v, row in same_minor if (v[2] if len(v) > 2 else 0) <= patch]
    _version, row = max(earlier or [min(same_minor)], key=lambda item: item[0])
    data = table("cuda_drivers")
    floor_row = floor(major)
    return Requirement(
        cuda=row["cuda"],
        toolkit_text=row["linux"],
        floor_text=floor_row["linux"] if floor_row else None,
        toolkit=parse(row["linux"]) or (),
        toolkit_verified=row["verified"],
        floor=parse(floor_row["linux"]) if floor_row else None,
        floor_verified=bool(floor_row and floor_row["verified"]),
        source=data["sources"][row["source"]],
    )


def native_cuda(driver: tuple[int, ...]) -> tuple[int, ...] | None:
    """The newest CUDA release whose Table 3 driver is at or below `driver` (what `nvidia-smi` would show)."""
    best = None
    for version, row in _rows():
        if (parse(row["linux"]) or ()) <= driver and (best is None or version > best):
            best = version
    return best[:2] if best else None


def forward_compat_branch(driver: tuple[int, ...]) -> bool:
    """Whether a data-center GPU on this driver may run a newer CUDA through the image's cuda-compat package."""
    for entry in table("cuda_drivers")["forward_compat"]["branches"]:
        floor = parse(entry) or ()
        if driver[:1] == floor[:1] and driver >= floor:
            return True
    return False
