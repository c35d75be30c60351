"""Versions of CUDA and of the driver, and the driver a CUDA release needs (`knowledge/cuda_drivers.json`)."""

from __future__ import annotations

from functools import lru_cache

from mllint import lazy_re
from mllint.knowledge import table
from mllint.records import record

_VERSION = lazy_re.compile(r"^(\d+)(?:\.(\d+))?(?:\.(\d+))?")


def parse(text: str) -> tuple[int, ...] | None:
    """`12.1.1` → (12, 1, 1); `12.1` → (12, 1); `570.26` → (570, 26); None when it starts with no number."""
    match = _VERSION.match(text.strip())
    if not match:
        return None
    return tuple(int(part) for part in match.groups() if part is not None)


def show(version: tuple[int, ...]) -> str:
    return ".".join(map(str, version))


@record(frozen=True)
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
        return _major_only(cuda[0]) if cuda and floor(cuda[0]) is None else None
    major, minor = cuda[0], cuda[1]
    patch = cuda[2] if len(cuda) > 2 else 0
    same_minor = [(v, row) for v, row in _rows() if v[:2] == (major, minor)]
    if not same_minor:
        return None
    earlier = [(v, row) for v, row in same_minor if (v[2] if len(v) > 2 else 0) <= patch]
    # A confirmed row first: a later update never needs less than an earlier one, so the nearest confirmed
    # earlier row is a sound minimum where the release's own row comes from a runfile name (12.3.2)
    confirmed = [(v, row) for v, row in earlier if row["verified"]]
    _version, row = max(confirmed or earlier or [min(same_minor)], key=lambda item: item[0])
    return _requirement(row, floor(major))


def _major_only(major: int) -> Requirement | None:
    """A major alone before CUDA 11 (`pytorch/pytorch:0.4_cuda9_cudnn7`): its lowest release's driver, the least
    any CUDA of that major needs."""
    rows = [(v, row) for v, row in _rows() if v[:1] == (major,)]
    return _requirement(min(rows, key=lambda item: item[0])[1], None) if rows else None


def _requirement(row: dict, floor_row: dict | None) -> Requirement:
    data = table("cuda_drivers")
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


@record(frozen=True)
class ForwardCompat:
    """The driver branches on which a data-center GPU may run an image's newer CUDA through its cuda-compat
    package, as the image's release notes (or NVIDIA's forward-compatibility guide) list them."""

    branches: tuple[str, ...]  # empty: the list of this release was not read
    source: str
    verified: bool
    label: str  # for messages: "the NGC 21.06-21.10 release notes"

    def covers(self, driver: tuple[int, ...]) -> bool:
        for entry in self.branches:
            low = parse(entry) or ()
            if driver[:1] == low[:1] and driver >= low:
                return True
        return False


def forward_compat(cuda: tuple[int, ...], release: str | None = None) -> ForwardCompat | None:
    """The forward-compatibility list of an NGC release (its own notes), else of the CUDA release range (nvidia/cuda
    images); a release before 22.01 whose notes were not read gets an empty, unverified list."""
    if release is not None:
        for row in table("ngc_releases").get("forward_compat", []):
            if row["from"] <= release <= row["to"]:
                label = f"the NGC {row['from']}-{row['to']} release notes"
                return ForwardCompat(tuple(row["branches"]), row["source"], row["verified"], label)
        if release < "22.01":
            return ForwardCompat((), "not read", False, f"the NGC {release} release notes")
    release_minor = (cuda + (0,))[:2] if len(cuda) >= 2 else None
    for row in table("cuda_drivers")["forward_compat"]["by_cuda"]:
        low, high = parse(row["from"]) or (), parse(row["to"]) or ()
        if (release_minor is not None and low <= release_minor <= high) or (
            release_minor is None and cuda[:1] == low[:1] == high[:1]
        ):
            label = f"NVIDIA's forward-compatibility list for CUDA {row['from']}" + (
                f"-{row['to']}" if row["to"] != row["from"] else ""
            )
            return ForwardCompat(tuple(row["branches"]), row["source"], row["verified"], label)
    return None
