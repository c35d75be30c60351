"""Where a GPU pod can run: the candidates (Nodes, Karpenter NodePools and Provisioners in the scan, the pools of
the configured cluster profile, and the nodes its own selector pins to an instance type), whether its selectors,
affinity and tolerations let it land on each, and how many GPUs each offers a pod. One set of facts, read by the
placement rules (ML111, ML605) and by `mllint placement`.

A candidate matches a pod's labels `definitely` (every label the pod selects is one the candidate has or, for a
Karpenter pool, can give its nodes), `maybe` (the candidate does not say) or not at all (a label with another
value, a requirement that excludes it, a taint the pod does not tolerate). A finding needs a definite match, and
that no matching candidate fits or is unknown.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import field
from decimal import Decimal
from functools import lru_cache
from typing import TYPE_CHECKING

from mllint.instance_types import (
    CATEGORY_KEYS,
    FAMILY_KEYS,
    GPU_COUNT_KEYS,
    GPU_NAME_KEYS,
    INSTANCE_TYPE_KEYS,
    SIZE_KEYS,
    resolve,
)
from mllint.model import PodSpec, Span
from mllint.records import record
from mllint.sources.nodes import NodeFacts, PoolFacts
from mllint.sources.sharing import MpsUse, mps_use

if TYPE_CHECKING:
    from mllint.cuda.targets import CudaConfig, Target
    from mllint.project import ProjectFacts, WorkloadFacts

GPU = "nvidia.com/gpu"  # what instance types and profile pools count
NO_SCHEDULE = frozenset({"NoSchedule", "NoExecute"})
# Labels Karpenter gives a node from the instance type it launches: a pool that does not constrain one can
# still satisfy a pod that selects it.
_KARPENTER_WELL_KNOWN = (
    INSTANCE_TYPE_KEYS
    | FAMILY_KEYS
    | CATEGORY_KEYS
    | SIZE_KEYS
    | GPU_NAME_KEYS
    | GPU_COUNT_KEYS
    | {
        "karpenter.sh/capacity-type",
        "karpenter.sh/nodepool",
        "karpenter.sh/provisioner-name",
        "topology.kubernetes.io/zone",
        "topology.kubernetes.io/region",
        "kubernetes.io/arch",
        "kubernetes.io/os",
    }
)
_KARPENTER_PREFIXES = ("karpenter.k8s.aws/", "eks.amazonaws.com/", "karpenter.sh/")
_MAX_LABEL_SETS = 16


@record(slots=True)
class Placement:
    """What a pod says about where it may run (picklable: it travels in the project index)."""

    label_sets: list[dict[str, str]]  # nodeSelector with each combination of its required affinity (any applies)
    tolerations: list[dict[str, str]]
    gpu_spans: dict[str, Span] = field(default_factory=dict)  # resource -> its first quantity's span
    mps: MpsUse | None = None  # a container that sets CUDA MPS client settings

    @property
    def selects(self) -> bool:
        return any(self.label_sets)


def placement(pod: PodSpec, gpu_spans: dict[str, Span]) -> Placement:
    from mllint.cuda.targets import pod_selectors

    sets = pod_selectors({k: v.text for k, v in pod.node_selector.items()}, pod.node_affinity, _MAX_LABEL_SETS)
    return Placement(sets, [dict(t) for t in pod.tolerations], dict(gpu_spans), mps_use(pod))


@record(slots=True)
class Candidate:
    """One place a pod may land, judged for one resource."""

    kind: str  # Node | NodePool | Provisioner | profile | selector
    name: str  # how messages name it: "Node 'gpu-worker-1'", "pool 'a100' of the cluster profile"
    span: Span | None  # where it is written (None for the configuration's pools)
    match: str  # definite | maybe | no
    offers: Decimal | None  # GPUs of the resource per node; None when unknown
    basis: str  # how `offers` is known ("status.allocatable nvidia.com/gpu: 8"), or why it is not
    why_not: str = ""  # why it does not match (match == "no")
    gpu_model: str | None = None
    limit: str = ""  # a Karpenter pool's limit on the resource, as written ("16")

    @property
    def where(self) -> str:
        return f" ({self.span.path}:{self.span.line})" if self.span is not None else ""

    def fits(self, need: Decimal) -> bool | None:
        return None if self.offers is None else self.offers >= need


@record(slots=True)
class Cluster:
    nodes: list[NodeFacts]
    pools: list[PoolFacts]
    profile: tuple[Target, ...] = ()

    @property
    def empty(self) -> bool:
        return not self.nodes and not self.pools and not self.profile


def cluster(project: ProjectFacts, cuda: CudaConfig | None) -> Cluster:
    nodes = [n for f in project.files for n in f.cluster if isinstance(n, NodeFacts)]
    pools = [p for f in project.files for p in f.cluster if isinstance(p, PoolFacts)]
    return Cluster(nodes, pools, cuda.pools if cuda is not None else ())


# -- the verdict for one pod ---------------------------------------------------------------------------------------


@record(slots=True)
class Verdict:
    """One resource of one pod against every candidate, for each label set the pod may be placed by."""

    resource: str
    need: Decimal
    candidates: list[Candidate]  # of the label set that decides (the first that could fit, else the first)
    never: bool  # no candidate it may land on can ever give it `need`, and at least one definitely matches
    reason: str  # why it stays silent, when it does


def verdicts(w: WorkloadFacts, place: Placement, world: Cluster) -> Iterator[Verdict]:
    for resource, need in w.gpus.items():
        if need <= 0:
            continue
        results = [_judge(resource, need, labels, place, world) for labels in place.label_sets or [{}]]
        failing = [v for v in results if v.never]
        if len(failing) == len(results):
            yield failing[0]
        else:
            yield next(v for v in results if not v.never)


def _judge(resource: str, need: Decimal, labels: dict[str, str], place: Placement, world: Cluster) -> Verdict:
    found = list(candidates(resource, labels, place, world))
    landing = [c for c in found if c.match != "no"]
    if not landing:
        return Verdict(resource, need, found, False, "no node or pool in the scan matches its selectors")
    if any(c.fits(need) is not False for c in landing):
        unknown = [c for c in landing if c.fits(need) is None]
        reason = (
            f"{unknown[0].name}: {unknown[0].basis}"
            if unknown and not any(c.fits(need) for c in landing)
            else "a candidate fits"
        )
        return Verdict(resource, need, found, False, reason)
    if not any(c.match == "definite" for c in landing):
        return Verdict(resource, need, found, False, "no candidate is known to match its selectors")
    return Verdict(resource, need, found, True, "")


def candidates(resource: str, labels: dict[str, str], place: Placement, world: Cluster) -> Iterator[Candidate]:
    # ExtendedResourceToleration (on in EKS and GKE) tolerates the taints keyed on the resources the pod requests
    tolerations = place.tolerations + [{"key": r, "operator": "Exists"} for r in place.gpu_spans]
    pinned = _pinned(resource, labels)
    found = [_node(node, resource, labels, tolerations) for node in world.nodes]
    found += [_pool(pool, resource, labels, tolerations) for pool in world.pools]
    found += [_profile(target, resource, labels) for target in world.profile]
    for c in found:
        if pinned is not None and pinned.offers is not None and (c.offers is None or c.offers > pinned.offers):
            # the pod lands only on nodes of the instance type (or GPU count) it selects
            c.offers, c.basis = pinned.offers, f"the pod selects {pinned.name[len('nodes with ') :]}: {pinned.basis}"
        yield c
    if pinned is not None:
        yield pinned


def _node(node: NodeFacts, resource: str, labels: dict[str, str], tolerations: list[dict[str, str]]) -> Candidate:
    name = f"Node {node.name!r}"
    model = _gpu_model(node.labels)
    amount = node.resources.get(resource)
    if amount is not None and amount.amount is not None:
        offers: Decimal | None = amount.amount
        basis = f"{node.source} {resource}: {amount.raw}"
    elif resource == GPU and node.labels.get("nvidia.com/gpu.count", "").isdigit():
        offers = Decimal(node.labels["nvidia.com/gpu.count"])
        basis = f"label nvidia.com/gpu.count={node.labels['nvidia.com/gpu.count']}"
    elif node.source.startswith("status."):  # a node's status lists every resource it has
        offers, basis = Decimal(0), f"{node.source} lists no {resource}"
    else:
        offers, basis = None, f"it lists no {resource}"
    match, why = "definite", ""
    for key, value in labels.items():
        have = node.labels.get(key)
        if have is None:
            match = "maybe"
        elif have != value:
            match, why = "no", f"its label {key}={have}, the pod selects {key}={value}"
            break
    if match != "no":
        taint = _untolerated(((t.key, t.value, t.effect) for t in node.taints), tolerations)
        if taint:
            match, why = "no", f"the pod does not tolerate its taint {taint}"
    return Candidate("Node", name, node.span, match, offers, basis, why, model)


def _pool(pool: PoolFacts, resource: str, labels: dict[str, str], tolerations: list[dict[str, str]]) -> Candidate:
    name = f"{pool.kind} {pool.name!r}"
    match, why = "definite", ""
    by_key: dict[str, list[tuple[str, tuple[str, ...]]]] = {}
    for r in pool.requirements:
        by_key.setdefault(r.key, []).append((r.operator, r.values))
    for key, value in labels.items():
        if key in pool.labels:
            if pool.labels[key] != value:
                match, why = "no", f"its nodes get label {key}={pool.labels[key]}, the pod selects {key}={value}"
                break
            continue
        if key in by_key:
            refused = next(
                (f"{key} {op} {list(vals)}" for op, vals in by_key[key] if not _satisfies(value, op, vals)), None
            )
            if refused:
                match, why = "no", f"its requirement {refused} excludes {key}={value}"
                break
            continue
        if key not in _KARPENTER_WELL_KNOWN and not key.startswith(_KARPENTER_PREFIXES):
            match = "maybe"  # a label the pool neither sets nor requires: Karpenter cannot promise it
    if match != "no":
        taint = _untolerated(((t.key, t.value, t.effect) for t in pool.taints), tolerations)
        if taint:
            match, why = "no", f"the pod does not tolerate its taint {taint}"
    offers: Decimal | None = None
    model = None
    if resource != GPU:
        basis = f"instance types say nothing of {resource}"
    else:
        reqs = [(r.key, r.operator, r.values) for r in pool.requirements]
        reqs += [(k, "In", (v,)) for k, v in labels.items()]  # the pod's own selector narrows the types too
        resolved = resolve(reqs)
        most = resolved.max_gpus
        if most is None:
            basis = resolved.why
        else:
            offers = Decimal(most)
            if resolved.types is not None:
                shown = ", ".join(f"{t.name} ({t.gpus})" for t in resolved.types[:4])
                more = f" and {len(resolved.types) - 4} more" if len(resolved.types) > 4 else ""
                basis = f"its instance types {shown}{more}" if resolved.types else "no instance type it allows"
                if not resolved.types and match != "no":
                    match, why = "no", resolved.why or "its requirements and the pod's selector leave no instance type"
                models = {t.gpu for t in resolved.types}
                model = models.pop() if len(models) == 1 else None
            else:
                basis = f"its GPU count requirement allows at most {most}"
    limit = pool.limits.get(resource)
    return Candidate(pool.kind, name, pool.span, match, offers, basis, why, model, limit.raw if limit else "")


def profile_name(target: Target) -> str:
    return f"{target.name} of the cluster profile"


def _profile(target: Target, resource: str, labels: dict[str, str]) -> Candidate:
    name = profile_name(target)
    match, why = "definite", ""
    pool_labels = dict(target.labels)
    for key, value in labels.items():
        if key not in pool_labels:
            match = "maybe"
        elif pool_labels[key] != value:
            match, why = "no", f"its label {key}={pool_labels[key]}, the pod selects {key}={value}"
            break
    if resource != GPU or target.gpus is None:
        offers, basis = (
            None,
            "the profile gives no GPUs per node" if resource == GPU else f"it says nothing of {resource}",
        )
    elif target.mig:
        offers, basis = None, "its GPUs are MIG-partitioned: the device plugin may count slices"
    else:
        offers, basis = Decimal(target.gpus), f"gpus: {target.gpus} in the cluster profile"
    return Candidate("profile", name, None, match, offers, basis, why, target.gpu.model if target.gpu else None)


def _pinned(resource: str, labels: dict[str, str]) -> Candidate | None:
    """The nodes the pod's own selector pins to an instance type or GPU count (`node.kubernetes.io/instance-type:
    g5.xlarge`): every node it may land on has that many GPUs."""
    if resource != GPU:
        return None
    keys = sorted(k for k in labels if k in INSTANCE_TYPE_KEYS or k in FAMILY_KEYS or k in GPU_COUNT_KEYS)
    if not keys:
        return None
    resolved = resolve((k, "In", (labels[k],)) for k in keys)
    most = resolved.max_gpus
    if most is None:
        return None
    name = "nodes with " + ", ".join(f"{k}={labels[k]}" for k in keys)
    if resolved.types:
        basis = ", ".join(f"{t.name} has {t.gpus} GPU{'s' if t.gpus != 1 else ''}" for t in resolved.types[:3])
    else:
        basis = f"at most {most} by the selected GPU count"
    models = {t.gpu for t in resolved.types or ()}
    return Candidate(
        "selector", name, None, "definite", Decimal(most), basis, "", models.pop() if len(models) == 1 else None
    )


def _satisfies(value: str, op: str, values: tuple[str, ...]) -> bool:
    if op == "In":
        return value in values
    if op == "NotIn":
        return value not in values
    if op == "DoesNotExist":
        return False
    if op in ("Gt", "Lt") and len(values) == 1 and value.isdigit() and values[0].isdigit():
        return int(value) > int(values[0]) if op == "Gt" else int(value) < int(values[0])
    return True


def _untolerated(taints: Iterable[tuple[str, str, str]], tolerations: list[dict[str, str]]) -> str | None:
    """The first NoSchedule or NoExecute taint none of the tolerations tolerates, as `key=value:effect`."""
    for key, value, effect in taints:
        if effect not in NO_SCHEDULE:
            continue
        if not any(_tolerates(t, key, value, effect) for t in tolerations):
            return f"{key}={value}:{effect}" if value else f"{key}:{effect}"
    return None


def _tolerates(tol: dict[str, str], key: str, value: str, effect: str) -> bool:
    if tol.get("effect") and tol["effect"] != effect:
        return False
    operator = tol.get("operator") or "Equal"
    if not tol.get("key"):
        return operator == "Exists"
    if tol["key"] != key:
        return False
    return operator == "Exists" or tol.get("value", "") == value


def _gpu_model(labels: dict[str, str]) -> str | None:
    return _model_of(tuple(sorted(labels.items())))


@lru_cache(maxsize=1024)
def _model_of(items: tuple[tuple[str, str], ...]) -> str | None:
    """The GPU model a node's labels name (once per label set: every pod is judged against every node)."""
    from mllint.cuda.targets import from_selector

    labels = dict(items)
    legacy = labels.get("accelerator")
    selector = dict(labels)
    if legacy and "cloud.google.com/gke-accelerator" not in selector:
        selector["cloud.google.com/gke-accelerator"] = legacy  # the legacy label took GKE's values
    target = from_selector(selector)
    return target.gpu.model if target is not None and target.gpu is not None else None


# -- one job: every pod group of one object --------------------------------------------------------------------


def jobs(project: ProjectFacts) -> dict[tuple[str, str, str | None, str], list[WorkloadFacts]]:
    """The workloads of each object (`PyTorchJob` Master and Worker), keyed by (path, kind, namespace, name)."""
    out: dict[tuple[str, str, str | None, str], list[WorkloadFacts]] = {}
    for w in project.workloads:
        out.setdefault((w.path, w.kind, w.namespace, w.name), []).append(w)
    return out
