"""One workspace root as the language server sees it: the configuration found there, every manifest under it
checked once (for the cross-file facts), and the documents the editor holds checked again from their unsaved
text whenever they change.

This is how the server scans text in memory. It calls the engine's own steps, so a document is checked exactly
as `mllint scan` would check the file: `engine._guarded` (parse, check, facts, redactions, within the file's time
budget) for one file, `engine._map` for the workspace, `engine._check_project` for the cross-file rules over the
facts of every file, `suppress.per_path` and `report.guard` for what may be shown."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Iterable
from functools import partial
from pathlib import Path
from typing import NamedTuple

from mllint import config, engine, project_index, suppress
from mllint.discover import Candidate, classify, discover, display_path, git_ignored, is_kustomization, named_excluded
from mllint.engine import Outcome
from mllint.loader import decode, parse, read
from mllint.model import Finding, SourceFile, Span, source_lines
from mllint.options import Options, UsageError, from_config
from mllint.plan import make_plan
from mllint.report.guard import guarded
from mllint.source_texts import SourceTexts

MAX_WORKSPACE_FILES = 5000  # beyond this many manifests, cross-file facts come from the open documents alone
# What an editor's language id says a document is, where its name does not (`classify`)
LANGUAGE_KINDS = {"dockerfile": "dockerfile", "yaml": "yaml", "pip-requirements": "requirements"}
CONFIG_NAMES = frozenset({*config.YAML_NAMES, "pyproject.toml"})

Log = Callable[[str], None]


class Shown(NamedTuple):
    """A finding as a document shows it; `origin`: where it is reported when shown at a cause in another file."""

    finding: Finding
    origin: Span | None = None


class _RootedTexts(SourceTexts):
    """Source lines by display path, read relative to the workspace root (the server's working directory is
    anywhere); documents the editor holds are added with their unsaved text."""

    def __init__(self, root: Path) -> None:
        super().__init__()
        self._root = root

    def lines(self, path: str) -> list[str]:
        if path in self._lines or os.path.isabs(path):
            return super().lines(path)
        return super().lines(str(self._root / path))


class Workspace:
    def __init__(self, root: Path, log: Log = lambda _message: None, scan_files: bool = True) -> None:
        self.root = root.resolve()
        self.log = log
        self.scan_files = scan_files
        self.problem: str | None = None  # why the configuration could not be used, shown to the user once
        self.load()

    def load(self) -> None:
        """Read the configuration and check every manifest under the root (again, when the configuration changed)."""
        self.problem = None
        try:
            cfg = config.load(None, self.root)
        except config.ConfigError as exc:
            self.problem = f"mllint: the configuration is not used: {exc}"
            cfg = config.Config(home=self.root)
        self.options = self._options(cfg)
        try:
            self.plan = make_plan(self.options, project_index.ProjectIndex())
        except UsageError as exc:
            self.problem = f"mllint: the configuration is not used: {exc}"
            self.options = Options(extend_select=["ML001"], config_root=str(self.root))
            self.plan = make_plan(self.options, project_index.ProjectIndex())
        self.candidates: dict[str, Candidate] = {}
        if self.scan_files:
            excludes = [*self.options.excludes, *git_ignored([str(self.root)], self.root)]
            found, _ = discover([str(self.root)], excludes, cwd=self.root)
            if len(found) > MAX_WORKSPACE_FILES:
                self.log(f"mllint: {len(found)} manifests under {self.root}; cross-file rules read the open ones only")
                found = []
            self.candidates = {c.display: c for c in found}
        self.unsaved: dict[str, tuple[str, str]] = {}  # display path -> (kind, text) of a document the editor holds
        self.outcomes: dict[str, Outcome] = {}
        self.plan = dataclasses.replace(self.plan, index=self._index())
        for outcome in engine._map(list(self.candidates.values()), self.plan, self.options):
            self._keep(outcome)
        self._project: list[Finding] | None = None

    def _options(self, cfg: config.Config) -> Options:
        try:
            return from_config(cfg, extend_select=["ML001"], jobs=1 if not self.scan_files else 0)
        except UsageError as exc:
            self.problem = f"mllint: the configuration is not used: {exc}"
            return Options(extend_select=["ML001"])

    def _index(self) -> project_index.ProjectIndex:
        """The project index, from the files as saved (a kustomization's or Compose file's edits count once saved)."""
        return project_index.build(self.candidates.values())

    def _keep(self, outcome: Outcome) -> None:
        """A file's new outcome; the cross-file findings are made again only when what they read of it changed."""
        before = self.outcomes.pop(outcome.file.path, None)
        after = outcome if isinstance(outcome.file, SourceFile) else None
        if after is not None:
            self.outcomes[outcome.file.path] = after
        if not _same_facts(before, after):
            self._project = None

    # which documents are the workspace's, and what they are

    def display(self, path: Path) -> str:
        return display_path(Path(os.path.abspath(path)), self.root)

    def contains(self, path: Path) -> bool:
        return Path(os.path.abspath(path)).is_relative_to(self.root)

    def kind_of(self, path: Path, language_id: str = "") -> str | None:
        """What mllint reads the file as (mllint's discovery decides); None for a file it does not check, or one
        the configuration excludes."""
        display = self.display(path)
        known = self.candidates.get(display)
        if known is not None:
            return known.kind
        kind = classify(path.name) or LANGUAGE_KINDS.get(language_id)
        if kind is None or named_excluded(display, self.options.excludes, self.root):
            return None
        return kind

    # changes

    def update(self, path: Path, kind: str, text: str) -> None:
        """Check a document's current text (unsaved or not) in place of the file's."""
        display = self.display(path)
        self.unsaved[display] = (kind, text)
        load = partial(parse, display, kind, text.encode("utf-8", "surrogatepass"))
        self._keep(engine._guarded(display, kind, load, self.plan))

    def saved(self, path: Path) -> None:
        """The editor wrote a document: what the project index reads of it counts now."""
        display, kind = self.display(path), self.kind_of(path)
        if kind is None or not self.contains(path):
            return
        if display not in self.candidates and self.scan_files:  # a new file: the project reads it from now on
            self.candidates[display] = Candidate(os.path.abspath(path), display, kind)
        if _indexed(path, kind):
            self._reindex()

    def revert(self, path: Path) -> None:
        """The editor closed a document: the file on disk counts again (or nothing, where there is none)."""
        display = self.display(path)
        self.unsaved.pop(display, None)
        cand = self.candidates.get(display)
        if cand is not None and path.is_file():
            self._keep(engine._guarded(display, cand.kind, partial(read, cand), self.plan))
        else:
            self.outcomes.pop(display, None)
            self._project = None

    def changed_on_disk(self, path: Path, deleted: bool = False) -> None:
        """A file changed outside the editor (a checkout, a generator): read it again unless the editor holds it."""
        display = self.display(path)
        if display in self.unsaved:
            return
        known = self.candidates.get(display)
        if deleted or not path.is_file():
            self.candidates.pop(display, None)
            self.outcomes.pop(display, None)
            self._project = None
        else:
            kind = self.kind_of(path)
            if kind is None:
                return
            cand = self.candidates[display] = Candidate(os.path.abspath(path), display, kind)
            self._keep(engine._guarded(display, kind, partial(read, cand), self.plan))
        now = self.candidates.get(display) or known
        if _indexed(path, now.kind if now is not None else None):
            self._reindex()

    def _reindex(self) -> None:
        """A kustomization changed: which files are patches, and which images it tags, may have too."""
        index = self._index()
        if index == self.plan.index:
            return
        moved = index.fragments ^ self.plan.index.fragments
        self.plan = dataclasses.replace(self.plan, index=index)
        for display in sorted(set(self.unsaved) | moved):
            if display in self.unsaved:
                kind, text = self.unsaved[display]
                load = partial(parse, display, kind, text.encode("utf-8", "surrogatepass"))
                self._keep(engine._guarded(display, kind, load, self.plan))
            elif display in self.candidates:
                cand = self.candidates[display]
                self._keep(engine._guarded(display, cand.kind, partial(read, cand), self.plan))

    # findings

    def findings(self, displays: Iterable[str]) -> dict[str, list[Shown]]:
        """The unsuppressed findings of each of `displays`, secrets masked, in report order."""
        wanted = list(displays)
        texts = _RootedTexts(self.root)
        for display, (_, text) in self.unsaved.items():
            texts.add(display, source_lines(text))
        for display, outcome in self.outcomes.items():
            texts.hide(display, outcome.redactions, outcome.secrets)
        if self._project is None:
            self._project = (
                engine._check_project(list(self.outcomes.values()), self.plan, texts)
                if self.plan.project_rule_ids
                else []
            )
        chosen = set(wanted)
        # a file's own findings, and those checking another file made in it (a requirements file a Dockerfile
        # installs)
        found = [f for o in self.outcomes.values() for f in o.findings if f.span.path in chosen]
        project = [f for f in self._project if f.span.path in chosen or any(c.path in chosen for c in f.causes)]
        found += project
        found = suppress.per_path(found, self.options.per_path_ignores, self.options.config_root, self.plan.names)
        found = [f for f in found if f.suppressed is None]
        moved = _at_causes(found, chosen)
        found = [*(f for f in found if f.span.path in chosen), *(m.finding for m in moved)]
        origins = {id(m.finding): m.origin for m in moved}
        result = engine.Result(found, [], [], {}, texts)
        out: dict[str, list[Shown]] = {d: [] for d in wanted}
        for before, after in zip(found, guarded(result).findings, strict=True):
            out[after.span.path].append(Shown(after, origins.get(id(before))))
        for group in out.values():
            group.sort(key=lambda s: (s.finding.span.line, s.finding.span.column, s.finding.rule, s.finding.message))
        return out

    def file_text(self, display: str) -> str | None:
        """The text a finding's offsets count in: the editor's, else the file's as mllint decodes it."""
        if display in self.unsaved:
            return self.unsaved[display][1]
        path = Path(display) if os.path.isabs(display) else self.root / display
        try:
            return decode(display, path.read_bytes())[0]
        except OSError:
            return None

    def path_of(self, display: str) -> Path:
        return Path(display) if os.path.isabs(display) else self.root / display


def _indexed(path: Path, kind: str | None) -> bool:
    """Whether the project index reads the file: a kustomization, or a Compose file (its `build.target`s)."""
    return is_kustomization(path.name) or kind == "compose"


def _at_causes(findings: list[Finding], displays: set[str]) -> list[Shown]:
    """A cross-file finding shown also where an open document causes it (the Job that pushes its namespace over
    the quota), at its first cause there, with the finding's own place as its origin and its other causes."""
    out: list[Shown] = []
    for f in findings:
        seen: set[str] = set()
        for cause in f.causes:
            if cause.path in displays and cause.path != f.span.path and cause.path not in seen:
                seen.add(cause.path)
                where = f"{f.span.path}:{f.span.line}:{f.span.column}"
                others = tuple(c for c in f.causes if c != cause)
                moved = dataclasses.replace(f, span=cause, causes=others, message=f"{f.message} (at {where})")
                out.append(Shown(moved, f.span))
    return out


def _same_facts(before: Outcome | None, after: Outcome | None) -> bool:
    """Whether the cross-file rules read the same of both outcomes: the file's facts, and its suppression
    comments (which of them a scan used aside)."""
    if before is None or after is None or before.facts is None or after.facts is None:
        return before is None and after is None
    return before.facts == after.facts and [_directive(d) for d in before.directives] == [
        _directive(d) for d in after.directives
    ]


def _directive(d: suppress.Directive) -> tuple[object, ...]:
    return (d.kind, d.selectors, d.reason, d.span, d.applies_to)
