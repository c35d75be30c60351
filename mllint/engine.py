"""discover → parse → model → index → rules → report data. Nothing here prints, and no rule is named here:
selection is `mllint.plan`, finishing findings `mllint.finish`, suppression `mllint.suppress`."""

from __future__ import annotations

import gc
import os
import pickle
from collections.abc import Callable, Iterator, Sequence
from dataclasses import field, replace
from functools import partial
from typing import TYPE_CHECKING, Any

from mllint import cache, project_index, redaction, roles, suppress, workers
from mllint.checks.context import Ctx, HostCtx, ProjectCtx
from mllint.discover import Candidate, classify, discover
from mllint.finish import INTERNAL_ERROR, crash, crash_message, fingerprint, finish, lines_of
from mllint.loader import decode, parse, read
from mllint.model import SHARED_EMPTY, Container, Diagnostic, Finding, PodSpec, Skipped, SourceFile, Span, Workload
from mllint.options import Options, UsageError
from mllint.plan import Plan, make_plan
from mllint.project import FileFacts, ProjectFacts, compacted, file_facts
from mllint.records import record
from mllint.registry import Params, Rule
from mllint.roles import RoleRow
from mllint.source_texts import SourceTexts

if TYPE_CHECKING:
    from concurrent.futures import ProcessPoolExecutor

__all__ = ["Options", "Plan", "Result", "UsageError", "exit_code", "scan"]

# Kinds whose containers the API server rejects without an image: one without is a patch (operators' kinds, such
# as a KServe model predictor, legitimately leave the image to a runtime)
IMAGE_REQUIRED = frozenset({"Pod", "Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job", "CronJob"})
SEVERITY_RANK = {"note": 0, "warning": 1, "error": 2}
PARALLEL_MIN_FILES = 48
GC_THRESHOLDS = (50_000, 20, 20)
# Rule tags the engine reads. `absence`: the rule reports something missing, which a kustomize patch leaves to its
# base and a placeholder container to whoever fills it in; `images`: the rule judges the image reference; `cpu`,
# `memory`, `gpu` on an absence rule tagged `resources`: the resources whose absence it reports (a controller may
# fill them in: Container.defaults).
ABSENCE, IMAGES, RESOURCES = "absence", "images", "resources"
RESOURCE_KINDS = frozenset({"cpu", "memory", "gpu"})


@record(slots=True)
class Outcome:
    """One file's result, as a worker sends it back."""

    file: SourceFile | Skipped
    findings: list[Finding]
    facts: FileFacts | None = None
    directives: list[suppress.Directive] = field(default_factory=list)  # for cross-file findings in the file
    roles: list[RoleRow] = field(default_factory=list)  # what each container is, for --verbose reports
    redactions: list[tuple[int, int, int]] = field(default_factory=list)  # where the file holds a credential
    secrets: set[str] = field(default_factory=set)  # those credentials, masked wherever a report repeats one
    digest: str = ""  # of the file's bytes as read (`mllint.cache`)
    inputs: list[cache.Input] = field(default_factory=list)  # the other files checking it read


@record
class Result:
    findings: list[Finding]
    files: list[tuple[str, str]]  # (path, kind) of every file scanned
    skipped: list[Skipped]
    rules: dict[str, Rule]  # the rules that ran
    texts: SourceTexts = field(default_factory=SourceTexts)
    workloads: list[RoleRow] = field(default_factory=list)  # every workload container's role, and why

    def source_line(self, path: str, line: int) -> str | None:
        """Line `line` of `path`, for code frames; None when it cannot be read."""
        return self.texts.line(path, line)


def scan(paths: Sequence[str], options: Options | None = None, stdin: tuple[str, bytes] | None = None) -> Result:
    thresholds = gc.get_threshold()
    gc.set_threshold(*GC_THRESHOLDS)  # a scan makes many objects that live for a file: collect less often
    try:
        return _scan(paths, options, stdin)
    finally:
        gc.set_threshold(*thresholds)


def _scan(paths: Sequence[str], options: Options | None, stdin: tuple[str, bytes] | None) -> Result:
    options = options or Options()
    pool = _early_pool(paths, options)
    try:
        return _scan_with(paths, options, stdin, pool)
    finally:
        if pool is not None:
            pool.shutdown()


def _early_pool(paths: Sequence[str], options: Options) -> ProcessPoolExecutor | None:
    """Worker processes forked before the file list and the project index exist (each would hold a copy), where
    the scan will most likely want them: a folder to walk, and no stored results to take instead."""
    jobs = options.jobs or os.cpu_count() or 1
    if jobs < 2 or not any(os.path.isdir(p) for p in (*paths, *options.index_paths)):
        return None
    if options.cache_dir is not None and cache.stored(options.cache_dir):
        return None
    return workers.prestart(jobs)


def _scan_with(
    paths: Sequence[str], options: Options, stdin: tuple[str, bytes] | None, pool: ProcessPoolExecutor | None
) -> Result:
    candidates, skipped = discover(paths, options.excludes) if paths else ([], [])
    reported: set[str] | None = None
    if options.index_paths:  # pre-commit passes the changed files; quotas and HPAs live elsewhere
        reported = {c.display for c in candidates}
        extra, extra_skipped = discover(options.index_paths, options.excludes)
        skipped += [s for s in extra_skipped if s.reason == "no such file or directory"]  # a usage error
        candidates = sorted(candidates + [c for c in extra if c.display not in reported], key=lambda c: c.display)
    plan = make_plan(options, project_index.build(candidates, options.cache_dir))
    texts = SourceTexts()
    results: list[Outcome] = []
    store = cache.Store(options.cache_dir, cache.settings_key(plan, options.max_bytes)) if options.cache_dir else None
    if stdin is not None:
        name, data = stdin
        kind = classify(os.path.basename(name)) or "yaml"
        outcome = _guarded(name, kind, lambda: parse(name, kind, data), plan)
        if isinstance(outcome.file, SourceFile):
            texts.add(name, outcome.file.lines())
        results.append(outcome)
    results += _outcomes(candidates, plan, options, store, pool)
    findings: list[Finding] = []
    files: list[tuple[str, str]] = []
    workloads: list[RoleRow] = []
    for outcome in results:
        if isinstance(outcome.file, Skipped):
            skipped.append(outcome.file)
        else:
            files.append((outcome.file.path, outcome.file.kind))
            findings.extend(outcome.findings)
            workloads.extend(outcome.roles)
            texts.hide(outcome.file.path, outcome.redactions, outcome.secrets)
    findings.extend(_check_project(results, plan, texts))
    if options.host is not None:
        findings.extend(_check_host(options.host, plan))
    findings = suppress.per_path(findings, options.per_path_ignores, options.config_root, plan.names)
    if reported is not None:
        findings = _reported_findings(findings, results, reported)
        files = [(path, kind) for path, kind in files if path in reported]
        workloads = [row for row in workloads if row.path in reported]
    findings.sort(key=lambda f: (f.span.path, f.span.line, f.span.column, f.rule, f.message))
    skipped.sort(key=lambda s: s.path)
    rules = plan.rules
    return Result(findings, files, skipped, {rid: rules[rid] for rid in plan.rule_ids}, texts, workloads)


def _outcomes(
    candidates: list[Candidate],
    plan: Plan,
    options: Options,
    store: cache.Store | None,
    pool: ProcessPoolExecutor | None = None,
) -> list[Outcome]:
    """Every candidate's outcome, in the candidates' order: from the cache where nothing it read changed, else
    checked (and stored)."""
    done: dict[str, Outcome] = {}
    if store is not None:
        for cand in candidates:
            hit = store.lookup(cand.display, cand.kind, cand.path)
            if isinstance(hit, Outcome) and (not hit.redactions or _reveal(hit, cand)):
                done[cand.display] = hit
    todo = [cand for cand in candidates if cand.display not in done]
    by_display = {cand.display: cand for cand in todo}
    for outcome in _map(todo, plan, options, pool):
        done[outcome.file.path] = outcome
        kept = _storable(outcome) if store is not None else None
        if store is not None and kept is not None:
            cand = by_display[outcome.file.path]
            store.put(cand.display, cand.kind, cand.path, outcome.digest, outcome.inputs, kept)
        if options.progress is not None:
            options.progress(len(done), len(candidates))
    if store is not None:
        store.save()
    return [done[cand.display] for cand in candidates if cand.display in done]


def _storable(outcome: Outcome) -> Outcome | None:
    """What the cache may keep of a result: one that is a property of the file's bytes (not a time-out or a crash),
    without the credentials the file holds (read again from the file on a hit), and none at all when a credential
    would still be written in it (a message or a fact that quotes one). A weak password that is also a word of the
    file's path (`password: katib` in `katib/values.yaml`) is written only where the path is: that is stored."""
    if not outcome.digest or any(f.rule == INTERNAL_ERROR for f in outcome.findings):
        return None
    if not outcome.secrets:
        return outcome
    kept = replace(outcome, secrets=set())
    blob = pickle.dumps(kept, protocol=5)
    path = outcome.file.path.encode()
    return None if any(not _only_within(blob, secret.encode(), path) for secret in outcome.secrets) else kept


def _only_within(blob: bytes, secret: bytes, public: bytes) -> bool:
    """Every occurrence of `secret` in `blob` lies inside an occurrence of `public`."""
    inside = []
    at = blob.find(public)
    while at >= 0:
        inside.append((at, at + len(public)))
        at = blob.find(public, at + 1)
    at = blob.find(secret)
    while at >= 0:
        if not any(start <= at and at + len(secret) <= end for start, end in inside):
            return False
        at = blob.find(secret, at + 1)
    return True


def _reveal(outcome: Outcome, cand: Candidate) -> bool:
    """Restore the credentials of a stored result from the file (where its redaction spans say they are)."""
    try:
        with open(cand.path, "rb") as handle:
            text, _problem = decode(cand.display, handle.read())
    except OSError:
        return False
    outcome.secrets = redaction.values(text, outcome.redactions)
    return True


def _reported_findings(findings: list[Finding], results: list[Outcome], reported: set[str]) -> list[Finding]:
    """With `--index`: the findings in the reported files, those that checking a reported file made elsewhere
    (a requirements file its Dockerfile installs), and a cross-file finding whose cause is in a reported file
    (a new Job that pushes its namespace over a quota), moved to that cause."""
    made = {id(f) for o in results if isinstance(o.file, SourceFile) and o.file.path in reported for f in o.findings}
    out: list[Finding] = []
    for f in findings:
        if f.span.path in reported or id(f) in made:
            out.append(f)
            continue
        cause = next((span for span in f.causes if span.path in reported), None)
        if cause is not None:
            where = f"{f.span.path}:{f.span.line}:{f.span.column}"
            out.append(
                replace(
                    f, span=cause, message=f"{f.message} (at {where}; reported here, where a checked file causes it)"
                )
            )
    return out


def _map(
    candidates: list[Candidate], plan: Plan, options: Options, pool: ProcessPoolExecutor | None = None
) -> Iterator[Outcome]:
    jobs = options.jobs or os.cpu_count() or 1
    if jobs > 1 and len(candidates) >= PARALLEL_MIN_FILES:
        chunk = max(1, min(64, len(candidates) // (jobs * 8)))
        worker = _Worker(plan, options.max_bytes)
        large, rest = _large_first(candidates)
        yield from workers.parallel(
            large + rest, worker, partial(_died, plan), jobs, chunk, started=pool, singles=len(large)
        )
        return
    if pool is not None:
        pool.shutdown()
    for cand in candidates:
        yield _stripped(_guarded(cand.display, cand.kind, partial(read, cand, options.max_bytes), plan))


def _large_first(candidates: list[Candidate]) -> tuple[list[Candidate], list[Candidate]]:
    """The large files, largest first, and the others in order: the large ones go out at the start, to one worker
    after the other, so that no worker is left with a large file at the end, no two workers compose one at once,
    and their memory peaks come while the main process holds few results."""
    sizes = {}
    for cand in candidates:
        try:
            sizes[cand.display] = os.stat(cand.path).st_size
        except OSError:
            sizes[cand.display] = 0
    large = sorted((c for c in candidates if sizes[c.display] >= workers.LARGE_FILE), key=lambda c: -sizes[c.display])
    return large, [c for c in candidates if sizes[c.display] < workers.LARGE_FILE]


def _stripped(outcome: Outcome) -> Outcome:
    """Only what the report needs: not the file's text, YAML nodes and model (a worker sends back no more), and
    no empty list of its own: the main process holds every file's result until the report is written."""
    if isinstance(outcome.file, SourceFile):
        empty = SHARED_EMPTY
        outcome.file = SourceFile(
            outcome.file.path, outcome.file.kind, workloads=empty, objects=empty, diagnostics=empty
        )
    for name in ("findings", "directives", "roles", "redactions", "secrets", "inputs"):
        if not getattr(outcome, name):
            setattr(outcome, name, SHARED_EMPTY)
    if outcome.facts is not None:
        outcome.facts = compacted(outcome.facts)
    return outcome


def _died(plan: Plan, cand: Candidate) -> Outcome:
    """The file whose worker process died reading it (twice): an internal error for it, the scan goes on."""
    return _stopped(cand.display, cand.kind, "the process reading this file died (a crash below Python)", plan)


def _stopped(path: str, kind: str, why: str, plan: Plan) -> Outcome:
    """A file mllint could not finish: one internal-error finding (when that rule runs), nothing else."""
    stopped = Finding(INTERNAL_ERROR, Span(path, 1, 1, 1, 1), f"internal error: {why}; please report it")
    found = [finish(stopped, INTERNAL_ERROR, plan)] if INTERNAL_ERROR in plan.rule_ids else []
    return Outcome(SourceFile(path, kind), found)


class _Worker:
    def __init__(self, plan: Plan, max_bytes: int) -> None:
        self.plan, self.max_bytes = plan, max_bytes

    def __call__(self, cand: Candidate) -> Outcome:
        gc.set_threshold(*GC_THRESHOLDS)  # a scan makes many objects that live for a file: collect less often
        outcome = _stripped(_guarded(cand.display, cand.kind, lambda: read(cand, self.max_bytes), self.plan))
        workers.release_memory(cand.path)
        return outcome


def _guarded(path: str, kind: str, load: Callable[[], SourceFile | Skipped], plan: Plan) -> Outcome:
    """One file, within its time budget: an overrun is an internal error for that file, never a hang."""
    try:
        with workers.time_limit(plan.file_seconds):
            return _one(path, kind, load, plan)
    except workers.Overrun:
        return _stopped(
            path, kind, f"checking this file took longer than {plan.file_seconds:g} s and was stopped", plan
        )


def _one(path: str, kind: str, load: Callable[[], SourceFile | Skipped], plan: Plan) -> Outcome:
    try:
        loaded = load()
    except Exception as exc:  # a parser bug must not lose the rest of the report
        loaded = SourceFile(path, kind)
        loaded.diagnostics.append(Diagnostic(INTERNAL_ERROR, Span(path, 1, 1, 1, 1), crash_message("the parser", exc)))
    if isinstance(loaded, Skipped):
        return Outcome(loaded, [], digest=loaded.digest)
    if loaded.path in plan.index.fragments:  # a kustomize patch
        loaded.fragment = True
    for workload in loaded.workloads:  # a patch, or a core pod template whose containers name no image: a part
        containers = workload.pod.all_containers
        workload.fragment = loaded.fragment or (
            workload.kind in IMAGE_REQUIRED and bool(containers) and all(c.image is None for c in containers)
        )
    roles.assign(loaded, plan.role_settings)  # what each container is, decided once before any rule reads it
    found = suppress.directives(loaded.path, loaded.text) if plan.inline_suppressions else []
    with cache.recording() as inputs:  # what else checking the file reads (the requirements files it installs)
        outcome = Outcome(loaded, _check(loaded, plan, found), directives=found, digest=loaded.digest, inputs=inputs)
        outcome.roles = roles.rows(loaded)
        outcome.redactions = redaction.spans(loaded.text)
        outcome.secrets = redaction.values(loaded.text, outcome.redactions)
        if plan.project_rule_ids:
            try:
                outcome.facts = file_facts(loaded, plan.gpu_resources, plan.cuda)
            except Exception as exc:
                outcome.findings += crash(Span(path, 1, 1, 1, 1), "the project index", exc, plan)
    return outcome


def _targets(file: SourceFile) -> Iterator[tuple[str, Any, Any]]:
    """(target type, target, workload) for every model object in the file."""
    yield "File", file, None
    for obj in file.objects:
        yield "Object", obj, None
    if file.build is not None:
        yield "ImageBuild", file.build, None
        for stage in file.build.stages:
            yield "Stage", stage, None
    for workload in file.workloads:
        yield "Workload", workload, workload
        yield "PodSpec", workload.pod, workload
        for container in workload.pod.all_containers:
            yield "Container", container, workload


_tables: tuple[Plan, dict[str, list[Rule]], dict[str, Params]] | None = None


def _rule_tables(plan: Plan) -> tuple[dict[str, list[Rule]], dict[str, Params]]:
    """The selected rules by target type, and their parameters: built once per plan, not per file."""
    global _tables
    if _tables is None or _tables[0] is not plan:
        rules = plan.rules
        by_target: dict[str, list[Rule]] = {}
        for rid in plan.rule_ids:
            for target in rules[rid].meta.targets:
                by_target.setdefault(target, []).append(rules[rid])
        _tables = (plan, by_target, {rid: plan.params_of(rid) for rid in plan.rule_ids})
    return _tables[1], _tables[2]


def _check(file: SourceFile, plan: Plan, found: list[suppress.Directive]) -> list[Finding]:
    by_target, params = _rule_tables(plan)
    findings: list[Finding] = []
    for target_type, target, workload in _targets(file):
        ignored = suppress.annotated(target, workload) if plan.inline_suppressions else ()
        for rule in by_target.get(target_type, ()):
            if _left_open(rule.meta.tags, target, workload, file):
                continue
            ctx = Ctx(params[rule.meta.id], file, plan.index, workload, plan.gpu_resources, plan.cuda)
            try:
                for finding in rule.func(target, ctx):
                    finish(finding, rule.meta.id, plan, target, workload)
                    if ignored:
                        suppress.mark_annotated(finding, ignored, plan.names)
                    findings.append(finding)
            except Exception as exc:
                span = getattr(target, "span", None) or Span(file.path, 1, 1, 1, 1)
                findings += crash(span, f"rule {rule.meta.id} ({rule.meta.name})", exc, plan, target, workload)
    if plan.inline_suppressions:
        findings += suppress.in_file(file, findings, found, plan)
    fingerprint(findings, lines_of(file.lines()))
    return findings


def _left_open(tags: tuple[str, ...], target: Any, workload: Workload | None, file: SourceFile) -> bool:
    """Whether what a rule with `tags` judges is left to something outside the file: an absence rule on a kustomize
    patch or a placeholder container, an image rule on a placeholder image, an absence of resources that the
    controller fills in."""
    absence = ABSENCE in tags
    if absence and (file.fragment or (workload is not None and workload.fragment)):
        return True
    if isinstance(target, Container):
        if target.placeholder and (absence or IMAGES in tags):
            return True
        named = RESOURCE_KINDS.intersection(tags) if absence and RESOURCES in tags else frozenset()
        return bool(named) and named <= target.defaults
    if absence and workload is not None and isinstance(target, (Workload, PodSpec)):
        containers = workload.pod.containers
        return bool(containers) and all(c.placeholder for c in containers)
    return False


def _check_project(results: list[Outcome], plan: Plan, texts: SourceTexts) -> list[Finding]:
    """Run the Project rules once over the facts of every file."""
    project = ProjectFacts([o.facts for o in results if o.facts is not None])
    findings: list[Finding] = []
    for rule in (plan.rules[rid] for rid in plan.project_rule_ids):
        if rule.meta.project_reads and not any(getattr(project, name) for name in rule.meta.project_reads):
            continue  # nothing it reads: no findings, and its module need not be imported
        ctx = ProjectCtx(plan.params_of(rule.meta.id), plan.gpu_resources, plan.cuda)
        try:
            findings += [finish(f, rule.meta.id, plan, project) for f in rule.func(project, ctx)]
        except Exception as exc:
            if project.files:
                where = Span(project.files[0].path, 1, 1, 1, 1)
                findings += crash(where, f"rule {rule.meta.id} ({rule.meta.name})", exc, plan)
    by_path: dict[str, list[Finding]] = {}
    for f in findings:
        by_path.setdefault(f.span.path, []).append(f)
    if plan.inline_suppressions:
        for facts in project.files:
            suppress.in_ranges(by_path.get(facts.path, ()), facts.ignored, plan.names)
        directives = {o.file.path: o.directives for o in results if o.directives}
        for path, group in by_path.items():
            suppress.apply(group, directives.get(path, []), plan.names)
    for path, group in by_path.items():
        fingerprint(group, partial(texts.line, path))
    return findings


def _check_host(host: Any, plan: Plan) -> list[Finding]:
    """Run the Host rules (live mode) once over the host's facts; their findings name the host, not a file."""
    findings: list[Finding] = []
    for rule in (plan.rules[rid] for rid in plan.rule_ids if "Host" in plan.rules[rid].meta.targets):
        findings += [
            finish(f, rule.meta.id, plan, host) for f in rule.func(host, HostCtx(plan.params_of(rule.meta.id)))
        ]
    fingerprint(findings, lambda n: None)
    return findings


def exit_code(findings: Sequence[Finding], fail_on: str) -> int:
    threshold = SEVERITY_RANK[fail_on]
    return 1 if any(SEVERITY_RANK[f.severity] >= threshold and not f.suppressed for f in findings) else 0
