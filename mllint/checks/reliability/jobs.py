"""ML508-ML510: batch and training jobs: restart policy, retry limit, deadline."""

from __future__ import annotations

from collections.abc import Iterator

from mllint.checks.context import Ctx, gpu_names, same_object
from mllint.model import Finding, K8sObject, Workload
from mllint.registry import rule
from mllint.sources.kinds import JOB_TEMPLATE_ROLES, REPLICA_RESTART_DEFAULTS, RETRY_POLICIES


@rule("ML508")
def job_restart_policy_always(workload: Workload, ctx: Ctx) -> Iterator[Finding]:
    policy = workload.pod.restart_policy
    batch = workload.api_version.startswith("batch/")  # not Volcano's batch.volcano.sh Job
    if policy is None and batch and workload.kind in ("Job", "CronJob") and not workload.fragment:
        yield Finding.at(
            workload.pod.span,
            f"{workload.kind} {workload.name!r} has no restartPolicy in its pod template: the API server rejects "
            'the Job (spec.template.spec.restartPolicy: Required value: "OnFailure", "Never"), since a pod\'s '
            "default, Always, never lets it complete",
            fix="set restartPolicy: OnFailure (retry in the same pod) or Never (the Job creates a new pod)",
        )
        return
    if workload.format != "kubernetes" or policy is None or policy.text != "Always":
        return
    if workload.kind not in JOB_TEMPLATE_ROLES and (workload.role or "") not in JOB_TEMPLATE_ROLES:
        return
    what = f"the {workload.role_name} pod of " if workload.role else ""
    yield Finding.at(
        policy.span,
        f"{what}{workload.kind} {workload.name!r} sets restartPolicy: Always, which Kubernetes rejects for pods "
        "that run to completion (a Job's pods allow only OnFailure or Never)",
        fix="use restartPolicy: OnFailure to retry in place, or Never to let the Job create a new pod",
    )


def _gpu_workloads(obj: K8sObject, ctx: Ctx) -> list[Workload]:
    """The workloads of `obj` whose containers ask for GPUs."""
    return [w for w in same_object(obj, ctx.file) if any(gpu_names(c, ctx.gpu_resources) for c in w.pod.all_containers)]


def _sets_any(obj: K8sObject, keys: tuple[str, ...]) -> bool:
    """Whether the holder of the kind's retry fields sets one of `keys`."""
    fields = obj.run_limits.fields if obj.run_limits is not None else None
    return fields is not None and any(k in fields for k in keys)


def _restarting_roles(obj: K8sObject, ctx: Ctx) -> list[str]:
    """Kubeflow replica specs whose restartPolicy restarts failed pods (OnFailure, Always, ExitCode)."""
    roles = []
    for w in same_object(obj, ctx.file):
        if w.group is None or not w.role:
            continue
        policy = w.group.restart_policy.text if w.group.restart_policy is not None else None
        if policy is None and obj.kind in REPLICA_RESTART_DEFAULTS:
            policy = REPLICA_RESTART_DEFAULTS[obj.kind]
            shown = f"{policy}, the operator's default"
        else:
            shown = policy or ""
        if policy in ("OnFailure", "Always", "ExitCode"):
            roles.append(f"{w.role_name} ({shown})")
    return roles


@rule("ML509")
def job_without_backoff_limit(obj: K8sObject, ctx: Ctx) -> Iterator[Finding]:
    policy = RETRY_POLICIES.get(obj.kind)
    if policy is None or obj.run_limits is None or not policy.backoff or not _gpu_workloads(obj, ctx):
        return
    span = obj.run_limits.span
    if _sets_any(obj, policy.backoff):
        return
    field = policy.field(policy.backoff[0])
    if policy.per_replica:
        roles = _restarting_roles(obj, ctx)
        if not roles:
            return  # restartPolicy Never (the default of most kinds): a failed replica fails the job
        why = f"{', '.join(roles)} restart failed pods and {policy.unbounded}"
    else:
        why = policy.unbounded
    yield Finding.at(
        span,
        f"GPU {obj.kind} {obj.name!r} has no {field}: {why}, holding the GPUs while a failing run repeats",
        fix=f"set {field} to the number of retries a failure deserves (e.g. 3)",
    )


@rule("ML510")
def job_without_deadline(obj: K8sObject, ctx: Ctx) -> Iterator[Finding]:
    policy = RETRY_POLICIES.get(obj.kind)
    if policy is None or obj.run_limits is None or not _gpu_workloads(obj, ctx):
        return
    span = obj.run_limits.span
    if _sets_any(obj, policy.deadline):
        return
    field = policy.field(policy.deadline[0])
    yield Finding.at(
        span,
        f"GPU {obj.kind} {obj.name!r} has no {field}: a hung run (a stuck NCCL collective, a deadlocked "
        "data loader) keeps its GPUs until someone notices",
        fix=f"set {field} to a generous bound on the run's wall time",
    )
