"""discover → parse → model → index → rules → report data. Nothing here prints."""

from __future__ import annotations

import hashlib
import os
import traceback
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from mllint import suppress, yamlsrc
from mllint.checks.context import Ctx, ProjectCtx, ProjectIndex
from mllint.cuda.targets import CudaConfig
from mllint.discover import Candidate, discover, is_kustomization
from mllint.loader import MAX_BYTES, parse, read
from mllint.model import Diagnostic, Finding, SourceFile, Skipped, Span, source_lines
from mllint.project import FileFacts, ProjectFacts, file_facts
from mllint.registry import Params, Rule, builtin, registry, resolve_selector

SEVERITY_RANK = {"note": 0, "warning": 1, "error": 2}
PARALLEL_MIN_FILES = 48
Outcome = tuple[SourceFile | Skipped, list[Finding], FileFacts | None]  # one file's result


class UsageError(Exception):
    """A mistake in how mllint was called or configured (exit code 2)."""


@dataclass
class Options:
    select: Sequence[str] = ()
    ignore: Sequence[str] = ()
    extend_select: Sequence[str] = ()
    severity: Mapping[str, str] = field(default_factory=dict)
    params: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    excludes: Sequence[str] = ()
    max_bytes: int = MAX_BYTES
    jobs: int = 0  # 0: as many as there are CPUs, for large scans
    per_path_ignores: Mapping[str, Sequence[str]] = field(default_factory=dict)  # glob -> rule selectors
    inline_suppressions: bool = True
    config_root: str | None = None  # per-path globs are also matched relative to this folder
    index_paths: Sequence[str] = ()  # also read for cross-file facts; findings there are not reported
    rule_files: Sequence[str] = ()  # the custom rules activated for this scan, for workers that do not fork
    progress: Callable[[int, int], None] | None = None  # called with (files done, files in all)
    cuda: CudaConfig = field(default_factory=CudaConfig)  # cluster profile, image → CUDA, --driver-version
    host: Any = None  # live mode: the mllint.live.host.Host that Host rules check


@dataclass
class Result:
    findings: list[Finding]
    files: list[tuple[str, str]]  # (path, kind) of every file scanned
    skipped: list[Skipped]
    rules: dict[str, Rule]  # the rules that ran
    texts: dict[str, list[str]] = field(default_factory=dict)  # stdin and files already read

    def source_line(self, path: str, line: int) -> str | None:
        """Line `line` of `path`, for code frames; None when it cannot be read."""
        if path not in self.texts:
            try:
                with open(path, encoding="utf-8-sig", errors="replace", newline="") as handle:
                    self.texts[path] = source_lines(handle.read())
            except OSError:
                self.texts[path] = []
        lines = self.texts[path]
        return lines[line - 1] if 0 < line <= len(lines) else None


@dataclass(frozen=True)
class Plan:
    """The selected rules with their effective severities and parameters; picklable for workers."""

    rule_ids: tuple[str, ...]
    severity: Mapping[str, str]
    params: Mapping[str, Mapping[str, Any]]
    index: ProjectIndex
    inline_suppressions: bool = True
    rule_files: tuple[str, ...] = ()
    cuda: CudaConfig = field(default_factory=CudaConfig)

    @cached_property
    def project_rule_ids(self) -> tuple[str, ...]:
        """The selected rules that run once over the whole project (ids only: the plan goes to workers)."""
        rules = registry()
        return tuple(rid for rid in self.rule_ids if "Project" in rules[rid].meta.targets)


def select_rules(options: Options) -> tuple[dict[str, Rule], dict[str, str]]:
    rules = registry()

    def expand(selectors: Sequence[str], what: str) -> set[str]:
        out: set[str] = set()
        for sel in selectors:
            matched = resolve_selector(sel, rules)
            if not matched:
                raise UsageError(f"{what}: {sel!r} matches no rule (give an id such as ML101, a name, or a prefix such as ML1)")
            out.update(matched)
        return out

    if options.select:
        chosen = expand(options.select, "--select")
    else:
        chosen = {rid for rid, r in rules.items() if r.meta.enabled}
    chosen |= expand(options.extend_select, "--extend-select")
    chosen -= expand(options.ignore, "--ignore")
    severity: dict[str, str] = {}
    for sel, level in options.severity.items():
        if level not in SEVERITY_RANK:
            raise UsageError(f"--severity {sel}={level}: the level must be one of error, warning, note")
        for rid in expand([sel], "--severity"):
            severity[rid] = level
    return {rid: rules[rid] for rid in sorted(chosen)}, severity


def scan(paths: Sequence[str], options: Options | None = None, stdin: tuple[str, bytes] | None = None) -> Result:
    options = options or Options()
    selected, severity = select_rules(options)
    candidates, skipped = discover(paths, options.excludes) if paths else ([], [])
    reported: set[str] | None = None
    if options.index_paths:  # pre-commit passes the changed files; quotas and HPAs live elsewhere
        reported = {c.display for c in candidates}
        extra, extra_skipped = discover(options.index_paths, options.excludes)
        skipped += [s for s in extra_skipped if s.reason == "no such file or directory"]  # a usage error
        known = set(reported)
        candidates = sorted(candidates + [c for c in extra if c.display not in known], key=lambda c: c.display)
    params = _params(options)
    index = ProjectIndex(kustomize_images=frozenset(_kustomize_images(candidates)))
    plan = Plan(tuple(selected), severity, params, index, options.inline_suppressions, tuple(options.rule_files),
                options.cuda)
    results: list[Outcome] = []
    texts: dict[str, list[str]] = {}
    if stdin is not None:
        name, data = stdin
        from mllint.discover import classify

        outcome = _process_data(name, classify(os.path.basename(name)) or "yaml", data, plan)
        if isinstance(outcome[0], SourceFile):
            texts[name] = outcome[0].lines()
        results.append(outcome)
    for done, outcome in enumerate(_map(candidates, plan, options), 1):
        results.append(outcome)
        if options.progress is not None:
            options.progress(done, len(candidates))
    findings: list[Finding] = []
    files: list[tuple[str, str]] = []
    facts: list[FileFacts] = []
    for outcome, file_findings, file_facts_ in results:
        if isinstance(outcome, Skipped):
            skipped.append(outcome)
        else:
            files.append((outcome.path, outcome.kind))
            findings.extend(file_findings)
        if file_facts_ is not None:
            facts.append(file_facts_)
    findings.extend(_check_project(ProjectFacts(facts), plan, texts))
    if options.host is not None:
        findings.extend(_check_host(options.host, plan))
    if options.per_path_ignores:
        findings = _drop_per_path(findings, options)
    if reported is not None:
        findings = [f for f in findings if f.span.path in reported]
        files = [(path, kind) for path, kind in files if path in reported]
    findings.sort(key=lambda f: (f.span.path, f.span.line, f.span.column, f.rule, f.message))
    skipped.sort(key=lambda s: s.path)
    return Result(findings, files, skipped, selected, texts)


def _params(options: Options) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    rules = registry()
    for rid, rule in rules.items():
        values = rule.meta.defaults()
        for key, value in options.params.get(rid, {}).items():
            if key not in values:
                raise UsageError(f"rule {rid} has no parameter {key!r} (it has: {', '.join(values) or 'none'})")
            values[key] = value
        out[rid] = values
    return out


def _kustomize_images(candidates: list[Candidate]) -> set[str]:
    """Image names whose tags a kustomization in the scan sets (`images: [{name: ...}]`)."""
    names: set[str] = set()
    for cand in candidates:
        if not is_kustomization(cand.path.name):
            continue
        try:
            text = cand.path.read_text(encoding="utf-8-sig", errors="replace")
        except OSError:
            continue
        for doc in yamlsrc.compose(cand.display, text, []):
            for entry in (yamlsrc.get(doc.root, "images").value if yamlsrc.is_seq(yamlsrc.get(doc.root, "images")) else []):
                name = yamlsrc.text(yamlsrc.get(entry, "name"))
                if name:
                    names.add(name)
    return names


def _map(candidates: list[Candidate], plan: Plan, options: Options) -> Iterator[Outcome]:
    jobs = options.jobs or os.cpu_count() or 1
    if jobs > 1 and len(candidates) >= PARALLEL_MIN_FILES:
        import multiprocessing

        try:
            ctx = multiprocessing.get_context("fork")
        except ValueError:  # pragma: no cover - platforms without fork
            ctx = multiprocessing.get_context()
        chunk = max(1, min(64, len(candidates) // (jobs * 8)))
        with ctx.Pool(jobs, initializer=_start_worker, initargs=(plan.rule_files,)) as pool:
            yield from pool.imap(_Worker(plan, options.max_bytes), candidates, chunksize=chunk)
        return
    for cand in candidates:
        yield _process(cand, plan, options.max_bytes)


def _start_worker(rule_files: tuple[str, ...]) -> None:
    """Load the rules once per worker; a worker that was not forked loads the custom rules again."""
    from pathlib import Path

    if rule_files and not set(registry()) - set(builtin()):
        from mllint import policy
        from mllint.registry import activate

        activate(policy.load([Path(f) for f in rule_files]))
    registry()


class _Worker:
    def __init__(self, plan: Plan, max_bytes: int) -> None:
        self.plan, self.max_bytes = plan, max_bytes

    def __call__(self, cand: Candidate) -> Outcome:
        outcome, findings, facts = _process(cand, self.plan, self.max_bytes)
        if isinstance(outcome, SourceFile):  # send back only what the report needs
            outcome = SourceFile(outcome.path, outcome.kind)
        return outcome, findings, facts


def _process(cand: Candidate, plan: Plan, max_bytes: int) -> Outcome:
    return _guarded(cand.display, cand.kind, lambda: read(cand, max_bytes), plan)


def _process_data(name: str, kind: str, data: bytes, plan: Plan) -> Outcome:
    return _guarded(name, kind, lambda: parse(name, kind, data), plan)


def _guarded(path: str, kind: str, load: Callable[[], SourceFile | Skipped], plan: Plan) -> Outcome:
    try:
        outcome = load()
    except Exception as exc:  # a parser bug must not lose the rest of the report
        outcome = _crashed_file(path, kind, "the parser", exc)
    findings = _check(outcome, plan)
    facts = None
    if isinstance(outcome, SourceFile) and plan.project_rule_ids:
        try:
            facts = file_facts(outcome, _gpu_patterns(plan), plan.cuda)
        except Exception as exc:
            if "ML003" in plan.rule_ids:
                findings.append(_crash_finding(Span(path, 1, 1, 1, 1), "the project index", exc, plan))
    return outcome, findings, facts


def _crashed_file(path: str, kind: str, where: str, exc: BaseException) -> SourceFile:
    file = SourceFile(path, kind)
    file.diagnostics.append(Diagnostic("ML003", Span(path, 1, 1, 1, 1), _crash_message(where, exc)))
    return file


def _crash_message(where: str, exc: BaseException) -> str:
    frame = traceback.extract_tb(exc.__traceback__)[-1] if exc.__traceback__ else None
    at = f" at {os.path.basename(frame.filename)}:{frame.lineno}" if frame else ""
    return f"internal error in {where}: {type(exc).__name__}: {exc}{at}; please report it with this file"


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


def _check(outcome: SourceFile | Skipped, plan: Plan) -> list[Finding]:
    if isinstance(outcome, Skipped):
        return []
    rules = registry()
    by_target: dict[str, list[Rule]] = {}
    for rid in plan.rule_ids:
        for target in rules[rid].meta.targets:
            by_target.setdefault(target, []).append(rules[rid])
    gpu = _gpu_patterns(plan)
    params = {rid: Params(plan.params.get(rid, {})) for rid in plan.rule_ids}
    findings: list[Finding] = []
    for target_type, target, workload in _targets(outcome):
        ignored = _annotated_ignores(target, workload) if plan.inline_suppressions else ()
        for rule in by_target.get(target_type, ()):
            ctx = Ctx(params[rule.meta.id], outcome, plan.index, workload, gpu, plan.cuda)
            try:
                for finding in rule.func(target, ctx):
                    finding.rule = rule.meta.id
                    _finish(finding, rule, plan, target, workload)
                    if any(suppress.matches(s, rule.meta.id, rule.meta.name) for s in ignored):
                        finding.suppressed = f"annotation {suppress.ANNOTATION}: {', '.join(ignored)}"
                    findings.append(finding)
            except Exception as exc:
                if "ML003" not in plan.rule_ids:
                    continue
                span = getattr(target, "span", None) or Span(outcome.path, 1, 1, 1, 1)
                crash = _crash_finding(span, f"rule {rule.meta.id} ({rule.meta.name})", exc, plan)
                _finish(crash, registry()["ML003"], plan, target, workload)
                findings.append(crash)
    if plan.inline_suppressions:
        findings += _apply_comments(outcome, findings, plan)
    _fingerprint(findings, outcome.text)
    return findings


def _annotated_ignores(target: Any, workload: Any) -> list[str]:
    """Rules the `mllint.dev/ignore` annotation of the object or its pod template names."""
    if workload is not None:
        return suppress.annotation_rules(workload.annotations) + suppress.annotation_rules(workload.pod.annotations)
    node = getattr(target, "node", None)
    if node is not None and hasattr(target, "kind"):
        return suppress.object_rules(node)
    return []


def _rule_names() -> dict[str, str]:
    return {rid: r.meta.name for rid, r in registry().items()}


def _apply_comments(file: SourceFile, findings: list[Finding], plan: Plan) -> list[Finding]:
    """Mark findings that `# mllint:` comments suppress; ML006 findings for comments that suppress nothing."""
    found = suppress.directives(file.path, file.text)
    if not found:
        return []
    starts: dict[int, int] = {}
    if file.build is not None:  # a comment above an instruction covers its continuation lines
        for stage in file.build.stages:
            for ins in stage.instructions:
                for line in range(ins.span.line, ins.span.end_line + 1):
                    starts[line] = ins.span.line
    names = _rule_names()
    suppress.apply(findings, found, names, starts)
    if "ML006" not in plan.rule_ids:
        return []
    per_file = [rid for rid in plan.rule_ids if rid not in plan.project_rule_ids]
    extra = suppress.unused(found, per_file, names)
    for f in extra:
        _finish(f, registry()["ML006"], plan, file, None)
    return extra


def _drop_per_path(findings: list[Finding], options: Options) -> list[Finding]:
    from fnmatch import fnmatchcase

    rules = registry()
    compiled = [(glob, {rid for sel in sels for rid in resolve_selector(sel, rules)})
                for glob, sels in options.per_path_ignores.items()]
    root = os.path.abspath(options.config_root) if options.config_root else None
    kept = []
    for f in findings:
        paths = [f.span.path]
        if root:
            paths.append(os.path.relpath(os.path.abspath(f.span.path), root).replace(os.sep, "/"))
        if not any(f.rule in ids and any(fnmatchcase(p, glob) for p in paths) for glob, ids in compiled):
            kept.append(f)
    return kept


def _gpu_patterns(plan: Plan) -> tuple[str, ...]:
    """ML101's `gpu_resources` parameter: what counts as a GPU for every rule."""
    return tuple(plan.params.get("ML101", {}).get("gpu_resources") or ())


def _crash_finding(span: Span, where: str, exc: BaseException, plan: Plan) -> Finding:
    crash = Finding("ML003", span, _crash_message(where, exc))
    crash.severity = plan.severity.get("ML003") or registry()["ML003"].meta.severity
    return crash


def _check_project(project: ProjectFacts, plan: Plan, texts: dict[str, list[str]]) -> list[Finding]:
    """Run the Project rules once over the facts of every file."""
    findings: list[Finding] = []
    for rule in (registry()[rid] for rid in plan.project_rule_ids):
        ctx = ProjectCtx(Params(plan.params.get(rule.meta.id, {})), _gpu_patterns(plan), plan.cuda)
        try:
            for finding in rule.func(project, ctx):
                finding.rule = rule.meta.id
                _finish(finding, rule, plan, project, None)
                findings.append(finding)
        except Exception as exc:
            if "ML003" in plan.rule_ids and project.files:
                where = Span(project.files[0].path, 1, 1, 1, 1)
                findings.append(_crash_finding(where, f"rule {rule.meta.id} ({rule.meta.name})", exc, plan))
    by_path: dict[str, list[Finding]] = {}
    for f in findings:
        by_path.setdefault(f.span.path, []).append(f)
    if plan.inline_suppressions:
        _apply_annotations(project, by_path)
    for path, group in by_path.items():
        if path in texts:
            text = "\n".join(texts[path])
        else:
            try:
                with open(path, encoding="utf-8-sig", errors="replace", newline="") as handle:
                    text = handle.read()
            except OSError:
                text = ""
        if plan.inline_suppressions:
            suppress.apply(group, suppress.directives(path, text), _rule_names())
        _fingerprint(group, text)
    return findings


def _check_host(host: Any, plan: Plan) -> list[Finding]:
    """Run the Host rules (live mode) once over the host's facts; their findings name the host, not a file."""
    from mllint.checks.context import HostCtx

    findings: list[Finding] = []
    for rule in (registry()[rid] for rid in plan.rule_ids if "Host" in registry()[rid].meta.targets):
        for finding in rule.func(host, HostCtx(Params(plan.params.get(rule.meta.id, {})))):
            finding.rule = rule.meta.id
            _finish(finding, rule, plan, host, None)
            findings.append(finding)
    _fingerprint(findings, "")
    return findings


def _apply_annotations(project: ProjectFacts, by_path: dict[str, list[Finding]]) -> None:
    """Project findings inside an object (or pod template) whose `mllint.dev/ignore` names their rule."""
    names = _rule_names()
    for facts in project.files:
        for first, last, selectors in facts.ignored:
            for f in by_path.get(facts.path, ()):
                if first <= f.span.line <= last and any(suppress.matches(s, f.rule, names.get(f.rule))
                                                        for s in selectors):
                    f.suppressed = f"annotation {suppress.ANNOTATION}: {', '.join(selectors)}"


def _finish(finding: Finding, rule: Rule, plan: Plan, target: Any, workload: Any) -> None:
    finding.severity = plan.severity.get(rule.meta.id) or finding.severity or rule.meta.severity
    if workload is not None:
        container = getattr(target, "name", None) if hasattr(target, "image") else None
        finding.logical = workload.identity + (f"/{container}" if container else "")
    elif hasattr(target, "base"):  # a Dockerfile stage
        finding.logical = f"stage/{target.alias.text if target.alias else target.index}"


def _fingerprint(findings: list[Finding], text: str) -> None:
    """A key per finding from the rule, the object and the offending text, not the line number."""
    lines = source_lines(text)
    counts: dict[str, int] = {}
    for f in findings:
        line = lines[f.span.line - 1] if 0 < f.span.line <= len(lines) else ""
        end = f.span.end_column - 1 if f.span.end_line == f.span.line else len(line)
        snippet = " ".join(line[f.span.column - 1:end].split()) or " ".join(line.split())
        base = f"{f.rule}|{f.span.path}|{f.logical or ''}|{snippet}"
        counts[base] = counts.get(base, 0) + 1
        f.fingerprint_key = hashlib.sha256(f"{base}|{counts[base]}".encode()).hexdigest()[:32]


def exit_code(findings: Sequence[Finding], fail_on: str) -> int:
    threshold = SEVERITY_RANK[fail_on]
    return 1 if any(SEVERITY_RANK[f.severity] >= threshold and not f.suppressed for f in findings) else 0
