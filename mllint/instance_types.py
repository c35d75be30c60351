"""Cloud instance types → GPUs per instance and GPU model (`knowledge/instance_types.json`, each row with its
source), and what a set of Karpenter-style requirements leaves of them. A type or family that is not in the table
is unknown: nothing about it is guessed."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from functools import cache, lru_cache

from mllint.knowledge import table
from mllint.records import record

# Labels that name an instance type, a family, a category, a size or a GPU count: Karpenter's on AWS, EKS Auto
# Mode's (the same values under eks.amazonaws.com/), and the kubelet's instance-type label.
INSTANCE_TYPE_KEYS = frozenset({"node.kubernetes.io/instance-type", "beta.kubernetes.io/instance-type"})
_PREFIXES = ("karpenter.k8s.aws/", "eks.amazonaws.com/")
FAMILY_KEYS = frozenset(p + "instance-family" for p in _PREFIXES)
CATEGORY_KEYS = frozenset(p + "instance-category" for p in _PREFIXES)
SIZE_KEYS = frozenset(p + "instance-size" for p in _PREFIXES)
GPU_NAME_KEYS = frozenset(p + "instance-gpu-name" for p in _PREFIXES)
GPU_COUNT_KEYS = frozenset(p + "instance-gpu-count" for p in _PREFIXES) | {"nvidia.com/gpu.count"}


@record(frozen=True, slots=True)
class InstanceType:
    provider: str
    name: str  # p4d.24xlarge, Standard_ND96asr_v4
    gpus: int
    gpu: str  # the GPU model, as knowledge/gpus.json names it
    source: str
    quote: str

    @property
    def family(self) -> str:
        return self.name.split(".", 1)[0]

    @property
    def size(self) -> str:
        return self.name.split(".", 1)[1] if "." in self.name else ""

    @property
    def category(self) -> str:
        """Karpenter's instance-category: the family's leading letters (`p4d` → `p`, `g6e` → `g`)."""
        family = self.family
        end = next((i for i, ch in enumerate(family) if not ch.isalpha()), len(family))
        return family[:end]


@cache
def types() -> dict[str, InstanceType]:
    return {
        row["type"]: InstanceType(row["provider"], row["type"], row["gpus"], row["gpu"], row["source"], row["quote"])
        for row in table("instance_types")["types"]
    }


@cache
def families() -> dict[str, tuple[InstanceType, ...]]:
    """AWS families whose every GPU size is in the table (the table lists whole families)."""
    out: dict[str, list[InstanceType]] = {}
    for t in types().values():
        if t.provider == "aws":
            out.setdefault(t.family, []).append(t)
    return {family: tuple(rows) for family, rows in out.items()}


@record(frozen=True, slots=True)
class Resolved:
    """What requirements leave: the instance types (None when they do not pin the types to ones the table knows),
    the highest GPU count they allow (None: no bound), and, when nothing is known, why."""

    types: tuple[InstanceType, ...] | None
    cap: int | None
    why: str = ""

    @property
    def max_gpus(self) -> int | None:
        found = max((t.gpus for t in self.types), default=0) if self.types is not None else None
        if found is None:
            return self.cap
        return found if self.cap is None else min(found, self.cap)


def resolve(requirements: Iterable[tuple[str, str, tuple[str, ...]]]) -> Resolved:
    """The instance types that `(key, operator, values)` requirements allow (NodePool requirements, or a pod's
    selector as `In` requirements). Requirements on other labels only narrow further, so the GPUs of what is left
    bound what the nodes can have. Each pool is resolved once per pod selector, not once per workload."""
    return _resolve(tuple(requirements))


@lru_cache(maxsize=4096)
def _resolve(reqs: tuple[tuple[str, str, tuple[str, ...]], ...]) -> Resolved:
    known = types()
    universe: set[str] | None = None
    for key, op, values in reqs:
        if op != "In":
            continue
        if key in CATEGORY_KEYS and values and all(any(ch.isdigit() for ch in v) for v in values):
            return Resolved((), None, "its instance-category values are families: no instance type has them")
        if key in INSTANCE_TYPE_KEYS:
            missing = [v for v in values if v not in known]
            if missing:
                return Resolved(None, None, f"instance type {missing[0]!r} is not in mllint's instance table")
            picked = set(values)
        elif key in FAMILY_KEYS:
            missing = [v for v in values if v not in families()]
            if missing:
                return Resolved(None, None, f"instance family {missing[0]!r} is not in mllint's instance table")
            picked = {t.name for v in values for t in families()[v]}
        else:
            continue
        universe = picked if universe is None else universe & picked
    cap = _count_cap(reqs)
    if universe is None:
        if cap is None:
            return Resolved(None, None, "its requirements name no instance type, family or GPU count mllint knows")
        return Resolved(None, cap)
    left = [known[name] for name in sorted(universe) if all(_allows(known[name], r) for r in reqs)]
    return Resolved(tuple(left), cap)


def _count_cap(reqs: Sequence[tuple[str, str, tuple[str, ...]]]) -> int | None:
    cap: int | None = None
    for key, op, values in reqs:
        if key not in GPU_COUNT_KEYS:
            continue
        numbers = [int(v) for v in values if v.isdigit()]
        bound = None
        if op == "In" and numbers and len(numbers) == len(values):
            bound = max(numbers)
        elif op == "Lt" and len(numbers) == 1:
            bound = numbers[0] - 1
        if bound is not None:
            cap = bound if cap is None else min(cap, bound)
    return cap


def _allows(t: InstanceType, req: tuple[str, str, tuple[str, ...]]) -> bool:
    key, op, values = req
    if key in INSTANCE_TYPE_KEYS:
        have = t.name
    elif key in FAMILY_KEYS:
        have = t.family
    elif key in CATEGORY_KEYS:
        have = t.category
    elif key in SIZE_KEYS:
        have = t.size
    elif key in GPU_NAME_KEYS:
        return True  # EC2's GPU names (a10g, t4g) are not the table's model names: never narrow on them
    elif key in GPU_COUNT_KEYS:
        have = str(t.gpus)
    else:
        return True
    if op == "In":
        return have in values
    if op == "NotIn":
        return have not in values
    if op in ("Gt", "Lt") and len(values) == 1 and values[0].isdigit() and have.isdigit():
        return int(have) > int(values[0]) if op == "Gt" else int(have) < int(values[0])
    return True
