"""Which rules a scan runs, at which severity and with which parameters: the options resolved against
the rule table once, into a plan that worker processes receive."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import field
from functools import cached_property, lru_cache
from typing import Any

from mllint.cuda.targets import CudaConfig
from mllint.options import Options, UsageError
from mllint.project_index import ProjectIndex
from mllint.records import record
from mllint.registry import SEVERITIES, Params, Rule, names, table
from mllint.roles import Settings
from mllint.selectors import exact, resolve, unknown_message


@lru_cache(maxsize=8)
def rules_for(rule_files: tuple[str, ...]) -> dict[str, Rule]:
    """The built-in rules and the custom rules in `rule_files` (loaded once per process)."""
    if not rule_files:
        return table()
    from mllint import policy

    return table(policy.load_files(rule_files))


@record(frozen=True)
class Plan:
    """The selected rules with their effective severities and parameters; picklable for workers."""

    rule_ids: tuple[str, ...]
    severity: Mapping[str, str]
    params: Mapping[str, Mapping[str, Any]]
    index: ProjectIndex = field(default_factory=ProjectIndex)
    inline_suppressions: bool = True
    rule_files: tuple[str, ...] = ()
    cuda: CudaConfig = field(default_factory=CudaConfig)
    gpu_resources: tuple[str, ...] = ()
    file_seconds: float = 60.0  # each file's time budget (`mllint.workers.time_limit`)
    roles: tuple[tuple[str, str], ...] = ()  # the configuration's `roles:`: (image glob, role)

    @property
    def role_settings(self) -> Settings:
        """What decides each container's role besides the manifests (`mllint.roles`)."""
        return Settings(self.roles, self.gpu_resources)

    @property
    def rules(self) -> dict[str, Rule]:
        return rules_for(self.rule_files)

    @cached_property
    def names(self) -> dict[str, str]:
        return names(self.rules)

    @cached_property
    def project_rule_ids(self) -> tuple[str, ...]:
        """The selected rules that run once over the whole project (ids only: the plan goes to workers)."""
        rules = self.rules
        return tuple(rid for rid in self.rule_ids if "Project" in rules[rid].meta.targets)

    @cached_property
    def file_rule_ids(self) -> tuple[str, ...]:
        """The selected rules that run on each file alone (not also over the whole project)."""
        return tuple(rid for rid in self.rule_ids if rid not in self.project_rule_ids)

    def severity_of(self, rule_id: str, chosen: str = "") -> str:
        """A finding's severity: the user's override, else what the rule chose, else the rule's default."""
        return self.severity.get(rule_id) or chosen or self.rules[rule_id].meta.severity

    def params_of(self, rule_id: str) -> Params:
        return Params(self.params.get(rule_id, {}))


def make_plan(options: Options, index: ProjectIndex) -> Plan:
    rules = rules_for(tuple(options.rule_files))
    selected, severity = select_rules(options, rules)
    return Plan(
        tuple(selected),
        severity,
        parameters(options, rules),
        index,
        options.inline_suppressions,
        tuple(options.rule_files),
        options.cuda,
        tuple(options.gpu_resources),
        roles=tuple(options.roles.items()),
        file_seconds=options.file_seconds,
    )


def select_rules(options: Options, rules: Mapping[str, Rule]) -> tuple[list[str], dict[str, str]]:
    """The ids of the rules to run, and the severities the options set."""
    known = names(rules)

    def expand(selectors: Sequence[str], what: str) -> set[str]:
        out: set[str] = set()
        for sel in selectors:
            matched = resolve(sel, known)
            if not matched:
                raise UsageError(f"{what}: {unknown_message(sel, known)}")
            one = exact(sel, known)
            if one is not None and rules[one].meta.preview and not options.preview and what != "--ignore":
                raise UsageError(
                    f"{what}: {one} ({rules[one].meta.name}) is a preview rule: add --preview "
                    "(or `preview: true` in the configuration) to run it"
                )
            out.update(matched)
        return out

    if options.select:
        chosen = expand(options.select, "--select")
    else:
        chosen = {rid for rid, r in rules.items() if r.meta.enabled}
    chosen |= expand(options.extend_select, "--extend-select")
    chosen -= expand(options.ignore, "--ignore")
    if not options.preview:
        chosen = {rid for rid in chosen if not rules[rid].meta.preview}
    severity: dict[str, str] = {}
    for sel, level in options.severity.items():
        if level not in SEVERITIES:
            raise UsageError(f"--severity {sel}={level}: the level must be one of error, warning, note")
        for rid in expand([sel], "--severity"):
            severity[rid] = level
    return sorted(chosen), severity


def parameters(options: Options, rules: Mapping[str, Rule]) -> dict[str, dict[str, Any]]:
    """Every rule's parameters: its defaults, with the options' values over them."""
    out: dict[str, dict[str, Any]] = {}
    for rid, rule in rules.items():
        values = rule.meta.defaults()
        for key, value in options.params.get(rid, {}).items():
            if key not in values:
                raise UsageError(f"rule {rid} has no parameter {key!r} (it has: {', '.join(values) or 'none'})")
            values[key] = value
        out[rid] = values
    return out
