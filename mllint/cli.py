"""Command line: `mllint scan | rules | explain`. Exit codes: 0 clean, 1 findings at or above the
fail threshold, 2 usage or configuration error, 3 internal error."""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import click

from mllint import __version__
from mllint.report import FORMATS

if TYPE_CHECKING:
    from mllint.config import Config
    from mllint.cuda.targets import CudaConfig

EXIT_USAGE, EXIT_INTERNAL = 2, 3


def _split(values: Sequence[str]) -> list[str]:
    return [part.strip() for value in values for part in value.split(",") if part.strip()]


def _severity_overrides(values: Sequence[str]) -> dict[str, str]:
    out = {}
    for item in _split(values):
        key, eq, level = item.partition("=")
        if not eq:
            raise click.BadParameter(f"{item!r}: expected RULE=LEVEL, e.g. ML301=error", param_hint="--severity")
        out[key.strip()] = level.strip().lower()
    return out


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", "-V", prog_name="mllint", message="%(prog)s %(version)s")
def cli() -> None:
    """Lint Dockerfiles, Compose files and Kubernetes manifests for ML workloads."""


_SCAN_OPTIONS = [
    click.option(
        "-f", "--format", "fmt", type=click.Choice(FORMATS), default="text", show_default=True, help="Output format."
    ),
    click.option("-o", "--output", type=click.Path(dir_okay=False, writable=True), help="Write the report to FILE."),
    click.option("--select", multiple=True, help="Only these rules: ids, names or prefixes (ML1), comma-separated."),
    click.option("--extend-select", multiple=True, help="Add rules to the default set (opt-in rules)."),
    click.option("--ignore", multiple=True, help="Skip these rules: ids, names or prefixes."),
    click.option("--severity", multiple=True, help="Override a rule's severity: ML301=error."),
    click.option(
        "--fail-on",
        type=click.Choice(["error", "warning", "note", "never"]),
        default=None,
        help="Exit 1 when a finding is at or above this severity.  [default: warning]",
    ),
    click.option("--exclude", multiple=True, help="Glob of paths to skip (repeatable)."),
    click.option("--stdin-filename", help="Name (and so format) of the file read from `-`."),
    click.option("--color", type=click.Choice(["auto", "always", "never"]), default="auto", show_default=True),
    click.option("-v", "--verbose", is_flag=True, help="List skipped files and suppressed findings."),
    click.option("-j", "--jobs", type=click.IntRange(0), default=0, help="Worker processes (0: one per CPU)."),
    click.option(
        "--config",
        "config_path",
        type=click.Path(dir_okay=False),
        help="Configuration file (default: .mllint.yaml or pyproject.toml [tool.mllint], found upward).",
    ),
    click.option(
        "--no-inline-suppressions",
        is_flag=True,
        help="Ignore `# mllint: disable` comments and mllint.dev/ignore annotations.",
    ),
    click.option(
        "--baseline",
        "baseline_path",
        type=click.Path(dir_okay=False),
        help="Accept the findings recorded in this baseline file; report only new ones.",
    ),
    click.option("--write-baseline", type=click.Path(dir_okay=False), help="Record the current findings as accepted."),
    click.option(
        "--index",
        "index_paths",
        multiple=True,
        type=click.Path(),
        help="Also read these paths for cross-file facts (quotas, HPAs, PriorityClasses), reporting only "
        "on PATHS: what a pre-commit hook needs.",
    ),
    click.option("--driver-version", help="Check images and workloads against this NVIDIA driver (e.g. 535.104.05)."),
    click.option("--preview", is_flag=True, help="Also run the rules whose status is preview."),
]


def _scan_options(func: Any) -> Any:
    """The options `scan` and `live` share."""
    for option in reversed(_SCAN_OPTIONS):
        func = option(func)
    return func


@cli.command()
@click.argument("paths", nargs=-1, type=click.Path())
@_scan_options
@click.option(
    "--profile",
    "profile_path",
    type=click.Path(dir_okay=False),
    help="Check against the host profile `mllint live --write-profile` wrote (in place of `cluster`).",
)
def scan(paths: tuple[str, ...], profile_path: str | None, **settings: Any) -> None:
    """Scan PATHS (files or directories; `-` for stdin; default `.`)."""
    profile = None
    if profile_path:
        from mllint.live.host import ProfileError, read_profile

        try:
            profile = read_profile(profile_path)
        except ProfileError as exc:
            raise click.UsageError(str(exc)) from None
    _run(paths, profile=profile, **settings)


@cli.command()
@click.argument("paths", nargs=-1, type=click.Path())
@_scan_options
@click.option(
    "--write-profile",
    type=click.Path(dir_okay=False),
    help="Save the host as a profile for `mllint scan --profile` (e.g. in CI, where there is no GPU).",
)
@click.option(
    "--fake-nvml",
    type=click.Path(exists=True, dir_okay=False),
    hidden=True,
    help="Read a fake host description (JSON) instead of NVML, for tests and demonstrations.",
)
def live(paths: tuple[str, ...], write_profile: str | None, fake_nvml: str | None, **settings: Any) -> None:
    """Read this host's GPUs through NVML and check PATHS (default `.`) against them."""
    from mllint.live import nvml
    from mllint.live.host import write_profile as save

    try:
        if fake_nvml:
            from mllint.live.fake import FakeNvml

            backend: nvml.Backend = FakeNvml.from_file(fake_nvml)
        else:
            backend = nvml.load()
        host = nvml.read_host(backend)
    except nvml.LiveError as exc:
        click.echo(f"mllint live: {exc}", err=True)
        raise SystemExit(EXIT_USAGE) from None
    if write_profile:
        try:
            save(host, write_profile)
        except OSError as exc:
            raise click.UsageError(f"cannot write {write_profile}: {exc.strerror}") from None
        click.echo(
            f"mllint: wrote the profile of {host.hostname} ({len(host.gpus)} GPUs, driver {host.driver}) "
            f"to {write_profile}",
            err=True,
        )
    _run(paths, profile={"pools": [host.pool()]}, host=host, **settings)


def _run(
    paths: tuple[str, ...],
    fmt: str,
    output: str | None,
    select: tuple[str, ...],
    extend_select: tuple[str, ...],
    ignore: tuple[str, ...],
    severity: tuple[str, ...],
    fail_on: str | None,
    exclude: tuple[str, ...],
    stdin_filename: str | None,
    color: str,
    verbose: bool,
    jobs: int,
    config_path: str | None,
    no_inline_suppressions: bool,
    baseline_path: str | None,
    write_baseline: str | None,
    index_paths: tuple[str, ...],
    driver_version: str | None,
    preview: bool,
    profile: dict[str, Any] | None = None,
    host: Any = None,
) -> None:
    from mllint import baseline, engine
    from mllint.options import from_config
    from mllint.report import render

    path_list = list(paths) or ["."]
    cfg = _load_config(config_path, next((p for p in path_list if p != "-"), "."))
    options = from_config(
        cfg,
        select=_split(select),
        ignore=_split(ignore),
        extend_select=_split(extend_select),
        severity=_severity_overrides(severity),
        excludes=exclude,
        preview=preview,
        inline_suppressions=not no_inline_suppressions,
        cuda=_cuda_config(cfg, driver_version, profile),
        jobs=jobs,
        index_paths=list(index_paths),
        host=host,
    )
    fail_on = fail_on or cfg.get("fail-on") or "warning"
    if baseline_path is None and cfg.get("baseline") and not write_baseline:
        baseline_path = str(cfg.root / cfg.get("baseline"))
    stdin = None
    if "-" in path_list:
        path_list.remove("-")
        if not stdin_filename:
            raise click.UsageError("reading `-` needs --stdin-filename (e.g. deploy.yaml or Dockerfile)")
        stdin = (stdin_filename, sys.stdin.buffer.read())
    from mllint.progress import Progress

    progress = Progress.for_terminal(sys.stderr)
    options.progress = progress
    try:
        result = engine.scan(path_list, options, stdin=stdin)
    except engine.UsageError as exc:
        raise click.UsageError(str(exc)) from None
    finally:
        if progress is not None:
            progress.close()
    missing = [s for s in result.skipped if s.reason == "no such file or directory"]
    if missing:
        raise click.UsageError(f"{missing[0].path}: no such file or directory")
    if write_baseline:
        count = baseline.write(write_baseline, result.findings)
        click.echo(f"mllint: wrote {count} accepted finding(s) to {write_baseline}", err=True)
        raise SystemExit(0)
    if baseline_path:
        try:
            baseline.apply(result.findings, baseline.load(baseline_path), baseline_path)
        except baseline.BaselineError as exc:
            raise click.UsageError(str(exc)) from None
    use_color = color == "always" or (
        color == "auto" and output is None and sys.stdout.isatty() and "NO_COLOR" not in os.environ
    )
    text = render(fmt, result, color=use_color, verbose=verbose)
    if output:
        try:
            with open(output, "w", encoding="utf-8") as handle:
                handle.write(text)
        except OSError as exc:
            raise click.UsageError(f"cannot write {output}: {exc.strerror}") from None
        if fmt != "text":
            from mllint.report.text_report import summary

            click.echo(summary(result), err=True)
    else:
        click.echo(text, nl=False)
    code = 0 if fail_on == "never" else engine.exit_code(result.findings, fail_on)
    raise SystemExit(code)


@cli.group("config")
def config_group() -> None:
    """Check the configuration file, or print its JSON Schema (for editors)."""


@config_group.command("validate")
@click.argument("path", required=False, type=click.Path())
@click.option("--config", "config_path", type=click.Path(dir_okay=False), help="The file to check.")
def config_validate(path: str | None, config_path: str | None) -> None:
    """Validate the configuration that `mllint scan PATH` would use."""
    cfg = _load_config(config_path, path or ".")
    click.echo(f"{cfg.path}: valid" if cfg.path else "no configuration file found; mllint uses its defaults")
    problems = _check_examples(cfg)
    for line in problems:
        click.echo(line, err=True)
    if cfg.rule_files:
        click.echo(
            f"{len(cfg.rule_files)} custom rule(s): "
            + ("examples checked" if not problems else f"{len(problems)} example problem(s)")
        )
    raise SystemExit(1 if problems else 0)


def _check_examples(cfg: Config) -> list[str]:
    """Run each custom rule on its own examples: the bad one must be reported, the good one not."""
    from pathlib import Path

    from mllint import engine

    problems: list[str] = []
    for rid, rule in cfg.custom.items():
        for kind, path in rule.meta.examples.items():
            if not Path(path).exists():
                problems.append(f"{rule.meta.source}: {rid} {kind} example {path} does not exist")
                continue
            result = engine.scan([path], engine.Options(select=[rid], jobs=1, rule_files=cfg.rule_files))
            hits = [f for f in result.findings if f.rule == rid and not f.suppressed]
            if kind == "bad" and not hits:
                problems.append(f"{rule.meta.source}: {rid} reports nothing in its bad example {path}")
            elif kind == "good" and hits:
                problems.append(
                    f"{rule.meta.source}: {rid} reports its good example: {hits[0].span}: {hits[0].message}"
                )
    return problems


def _cuda_config(cfg: Config, driver_version: str | None, profile: dict[str, Any] | None = None) -> CudaConfig:
    from mllint.cuda import targets

    if driver_version is not None and not re.fullmatch(r"\d+\.\d+(\.\d+)?", driver_version.strip()):
        raise click.BadParameter(
            f"{driver_version!r}: expected a driver version such as 535.104.05", param_hint="--driver-version"
        )
    return targets.from_config(cfg.values, driver_version, str(cfg.root), profile)


def _load_config(config_path: str | None, start: str) -> Config:
    """The configuration (and custom rules) that applies at `start`; a mistake is a usage error."""
    from mllint import config

    try:
        return config.load(config_path, start)
    except config.ConfigError as exc:
        raise click.UsageError(str(exc)) from None


@config_group.command("schema")
def config_schema() -> None:
    """Print the configuration's JSON Schema."""
    import json

    from mllint import config

    click.echo(json.dumps(config.schema(), indent=2))


_CONFIG_OPTION = click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False),
    help="Configuration file whose custom rules to include (default: found upward).",
)


@cli.command("rules")
@click.option(
    "-f", "--format", "fmt", type=click.Choice(["table", "json", "markdown"]), default="table", show_default=True
)
@click.option("--builtin", is_flag=True, help="Only mllint's own rules, not the project's custom rules.")
@_CONFIG_OPTION
def rules_cmd(fmt: str, builtin: bool, config_path: str | None) -> None:
    """List every rule (with the project's custom rules)."""
    from mllint import docs
    from mllint.registry import table

    rules = table() if builtin else _load_config(config_path, ".").rules
    click.echo({"table": docs.table, "json": docs.as_json, "markdown": docs.markdown}[fmt](rules), nl=False)


@cli.command()
@click.argument("rule")
@_CONFIG_OPTION
def explain(rule: str, config_path: str | None) -> None:
    """Show a rule's documentation with its bad and good examples (RULE: id or name)."""
    from mllint import docs
    from mllint.registry import names
    from mllint.selectors import exact, suggestion

    rules = _load_config(config_path, ".").rules
    rule_id = exact(rule, names(rules))
    if rule_id is None:
        close = suggestion(rule, names(rules))
        hint = f"did you mean {close!r}? " if close else ""
        raise click.UsageError(f"{rule!r} is not a rule id or name; {hint}`mllint rules` lists them")
    click.echo(docs.explain_text(rules[rule_id]))


def run(argv: Sequence[str]) -> int:
    try:
        cli.main(args=list(argv), prog_name="mllint", standalone_mode=False)
    except SystemExit as exc:
        return int(exc.code or 0)
    except click.exceptions.Abort:
        click.echo("mllint: aborted", err=True)
        return EXIT_USAGE
    except click.ClickException as exc:
        exc.show()
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # a bug in mllint: one line, the traceback only on request
        if os.environ.get("MLLINT_DEBUG"):
            raise
        click.echo(
            f"mllint: internal error: {type(exc).__name__}: {exc} (set MLLINT_DEBUG=1 for the traceback)", err=True
        )
        return EXIT_INTERNAL
    return 0
