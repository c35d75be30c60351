"""Command line: `mllint scan | rules | explain`. Exit codes: 0 clean, 1 findings at or above the
fail threshold, 2 usage or configuration error, 3 internal error."""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

import click

from mllint import __version__
from mllint.report import FORMATS, STREAMED

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
        "-f",
        "--format",
        "--output-format",
        "fmt",
        type=click.Choice(FORMATS),
        default="text",
        show_default=True,
        help="Output format (`concise`: one line per finding).",
    ),
    click.option("-o", "--output", type=click.Path(dir_okay=False, writable=True), help="Write the report to FILE."),
    click.option("--select", multiple=True, help="Only these rules: ids, names or prefixes (ML1), comma-separated."),
    click.option("--extend-select", multiple=True, help="Add rules to the default set (opt-in rules)."),
    click.option("--ignore", multiple=True, help="Skip these rules: ids, names or prefixes."),
    click.option("--severity", multiple=True, help="Override a rule's severity: ML301=error."),
    click.option(
        "--fail-on",
        type=click.Choice(["error", "warning", "note", "never"], case_sensitive=False),
        default=None,
        help="Exit 1 when a finding is at or above this severity.  [default: warning]",
    ),
    click.option("--exclude", multiple=True, help="Glob of paths to skip (repeatable)."),
    click.option(
        "--respect-gitignore/--no-respect-gitignore",
        default=True,
        show_default=True,
        help="Skip what git ignores (.gitignore, .git/info/exclude) in the folders scanned.",
    ),
    click.option(
        "--force-exclude",
        is_flag=True,
        help="Apply `exclude` to files named on the command line too (as pre-commit passes them).",
    ),
    click.option(
        "--stdin-filename",
        help="Name (and so format) of the file read from `-` (default: guessed from its content).",
    ),
    click.option("--color", type=click.Choice(["auto", "always", "never"]), default="auto", show_default=True),
    click.option("-v", "--verbose", is_flag=True, help="List skipped files and suppressed findings."),
    click.option("-q", "--quiet", is_flag=True, help="Print only the findings: no summary, no progress."),
    click.option("--statistics", is_flag=True, help="Print the number of findings per rule instead of the findings."),
    click.option(
        "--show",
        "show_level",
        type=click.Choice(["error", "warning", "note"], case_sensitive=False),
        default=None,
        help="Show only findings at or above this severity (the exit code still follows --fail-on).",
    ),
    click.option(
        "--report",
        "reports",
        multiple=True,
        metavar="FORMAT=FILE",
        help="Also write the report in FORMAT to FILE, from the same scan (repeatable): --report sarif=mllint.sarif.",
    ),
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
    click.option("--no-cache", is_flag=True, help="Check every file again; neither read nor write the cache."),
    click.option(
        "--cache-dir",
        type=click.Path(file_okay=False),
        envvar="MLLINT_CACHE_DIR",
        help="Where results are kept between scans [env: MLLINT_CACHE_DIR] (default: .mllint_cache at the "
        "project root).",
    ),
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
@click.option("--fix", is_flag=True, help="Apply the safe fixes in place, then report what is left.")
@click.option("--unsafe-fixes", is_flag=True, help="Also apply the fixes that change behaviour (with --fix, --diff).")
@click.option("--diff", is_flag=True, help="Print the fixes as a unified diff and change nothing (exit 1 if any).")
@click.option("--pins", type=click.Path(exists=True, dir_okay=False), help="Lock or pip freeze file for ML303's fix.")
def scan(
    paths: tuple[str, ...],
    profile_path: str | None,
    fix: bool,
    unsafe_fixes: bool,
    diff: bool,
    pins: str | None,
    **settings: Any,
) -> None:
    """Scan PATHS (files or directories; `-` for stdin; default `.`)."""
    fixes = None
    if fix or diff:
        from mllint.fixing import Request

        if "-" in paths:
            raise click.UsageError("--fix and --diff change files, not stdin")
        fixes = Request(write=fix and not diff, diff=diff, unsafe=unsafe_fixes)
    profile = None
    if profile_path:
        from mllint.live.host import ProfileError, read_profile

        try:
            profile = read_profile(profile_path)
        except ProfileError as exc:
            raise click.UsageError(str(exc)) from None
    _run(paths, profile=profile, fixes=fixes, pins=pins, **settings)


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
    respect_gitignore: bool,
    force_exclude: bool,
    stdin_filename: str | None,
    color: str,
    verbose: bool,
    quiet: bool,
    statistics: bool,
    show_level: str | None,
    reports: tuple[str, ...],
    jobs: int,
    config_path: str | None,
    no_inline_suppressions: bool,
    baseline_path: str | None,
    write_baseline: str | None,
    index_paths: tuple[str, ...],
    driver_version: str | None,
    preview: bool,
    no_cache: bool = False,
    cache_dir: str | None = None,
    profile: dict[str, Any] | None = None,
    host: Any = None,
    fixes: Any = None,
    pins: str | None = None,
) -> None:
    from pathlib import Path

    from mllint import baseline, engine
    from mllint.cache import DEFAULT_DIR as DEFAULT_CACHE_DIR
    from mllint.config import project_root, repository_root
    from mllint.options import from_config
    from mllint.report import chunks, render

    path_list = list(paths) or ["."]
    extra_reports = _report_targets(reports)
    cfg = _load_config(config_path, next((p for p in path_list if p != "-"), "."))
    options = from_config(
        cfg,
        select=_split(select),
        ignore=_split(ignore),
        # a file that does not parse is always reported (as ruff reports syntax errors), unless ignored by name
        extend_select=[*_split(extend_select), "ML001"],
        severity=_severity_overrides(severity),
        excludes=[*exclude, *_git_ignored([p for p in [*path_list, *index_paths] if p != "-"], respect_gitignore)],
        preview=preview,
        inline_suppressions=not no_inline_suppressions,
        cuda=_cuda_config(cfg, driver_version, profile),
        jobs=jobs,
        index_paths=list(index_paths),
        host=host,
        cache_dir=None
        if no_cache or host is not None
        # `--index .` widens the project: outside git, the cache is where a scan of the whole folder keeps it
        else cache_dir or str(project_root([*path_list, *index_paths], cfg) / DEFAULT_CACHE_DIR),
    )
    if pins:  # what ML303's fix pins to
        options.params = {**options.params, "ML303": {**options.params.get("ML303", {}), "pins": os.path.abspath(pins)}}
    fail_on = fail_on or cfg.get("fail-on") or "warning"
    if baseline_path is None and cfg.get("baseline") and not write_baseline:
        baseline_path = str(cfg.root / cfg.get("baseline"))
    if force_exclude:  # files named one by one (pre-commit) honour `exclude` as a directory walk does
        from mllint.discover import named_excluded

        path_list = [p for p in path_list if p == "-" or not named_excluded(p, options.excludes)]
    stdin = None
    if "-" in path_list:
        path_list.remove("-")
        data = sys.stdin.buffer.read()
        stdin = (stdin_filename or _guess_stdin_name(data), data)
    from mllint.progress import Progress

    progress = None if quiet else Progress.for_terminal(sys.stderr)
    options.progress = progress
    try:
        result = engine.scan(path_list, options, stdin=stdin)
    except engine.UsageError as exc:
        raise click.UsageError(str(exc)) from None
    finally:
        if progress is not None:
            progress.close()
    if fixes is not None:  # --fix, --diff: apply or show the findings' fixes (mllint.fixing), then scan again
        from dataclasses import replace

        from mllint.fixing import run as fix_run

        result = fix_run(result, fixes, lambda: engine.scan(path_list, replace(options, progress=None)))
    missing = [s for s in result.skipped if s.reason == "no such file or directory"]
    if missing:
        raise click.UsageError(f"{missing[0].path}: no such file or directory")
    root = str(project_root(path_list or ["."], cfg))
    baseline.rekey(result.findings, root, result.source_line)
    if write_baseline:
        count = baseline.write(write_baseline, result.findings, root)
        click.echo(f"mllint: wrote {count} accepted finding(s) to {write_baseline}", err=True)
        raise SystemExit(0)
    if baseline_path:
        try:
            accepted = baseline.load(baseline_path)
        except baseline.BaselineError as exc:
            raise click.UsageError(str(exc)) from None
        baseline.apply(result.findings, accepted, baseline_path, root)
        old = baseline.stale(result.findings, accepted, root)
        if old and verbose and not quiet:
            click.echo(
                f"mllint: {old} baseline entr{'y' if old == 1 else 'ies'} in {baseline_path} matched nothing "
                "(fixed, or not scanned); --write-baseline records the findings of today",
                err=True,
            )
    use_color = color == "always" or (
        color == "auto" and output is None and sys.stdout.isatty() and "NO_COLOR" not in os.environ
    )
    code = 0 if fail_on == "never" else engine.exit_code(result.findings, fail_on)
    top = str(repository_root(Path(root)))
    for extra_fmt, extra_path in extra_reports:  # every finding, whatever --show hides from the terminal
        _write(extra_path, chunks(extra_fmt, result, verbose=verbose, root=top))
    shown = _shown(result, show_level)
    text: str | Iterator[str]
    if statistics:
        from mllint.report.text_report import statistics as stats_table

        text = stats_table(shown)
    elif fmt in STREAMED:  # large reports are written as they are made
        text = chunks(fmt, shown, verbose=verbose, root=top)
    else:
        text = render(fmt, shown, color=use_color, verbose=verbose, root=top)
        hidden = sum(1 for f in result.findings if f.suppressed is None) - sum(
            1 for f in shown.findings if f.suppressed is None
        )
        if hidden and not quiet and fmt in ("text", "concise"):  # the exit code may come from what is not shown
            text += f"{hidden} finding{'s' if hidden != 1 else ''} below {show_level} not shown (--show).\n"
        if quiet and fmt in ("text", "concise"):  # the findings only
            lines = text.splitlines()
            while lines and (not lines[-1] or _is_summary(lines[-1])):
                lines.pop()
            text = "".join(line + "\n" for line in lines)
    if output:
        _write(output, text)
        if not quiet:
            from mllint.report.text_report import summary

            click.echo(summary(result), err=True)
    else:
        for piece in [text] if isinstance(text, str) else text:
            click.echo(piece, nl=False)
    raise SystemExit(code)


def _git_ignored(paths: list[str], respect: bool) -> list[str]:
    if not respect or not paths:
        return []
    from mllint.discover import git_ignored

    return git_ignored(paths)


def _write(path: str, text: str | Iterable[str]) -> None:
    try:
        with open(path, "w", encoding="utf-8") as handle:
            handle.writelines([text] if isinstance(text, str) else text)
    except OSError as exc:
        raise click.UsageError(f"cannot write {path}: {exc.strerror}") from None


def _report_targets(reports: Sequence[str]) -> list[tuple[str, str]]:
    """`--report FORMAT=FILE` values, checked before the scan."""
    out = []
    for item in reports:
        fmt, eq, path = item.partition("=")
        fmt = fmt.strip().lower()
        if not eq or not path or fmt not in FORMATS:
            raise click.BadParameter(
                f"{item!r}: expected FORMAT=FILE with FORMAT one of {', '.join(FORMATS)}", param_hint="--report"
            )
        out.append((fmt, path))
    return out


def _shown(result: Any, show_level: str | None) -> Any:
    """The result as the terminal shows it: findings below `show_level` left out."""
    if show_level is None:
        return result
    import dataclasses

    from mllint.engine import SEVERITY_RANK

    floor = SEVERITY_RANK[show_level.lower()]
    return dataclasses.replace(result, findings=[f for f in result.findings if SEVERITY_RANK[f.severity] >= floor])


def _is_summary(line: str) -> bool:
    return line.startswith(("Found ", "No problems found"))


def _guess_stdin_name(data: bytes) -> str:
    """A name for stdin read without --stdin-filename, from its content: a Dockerfile when its first
    instruction is FROM, ARG or a parser directive; else YAML (Kubernetes or Compose by content), or JSON."""
    text = data[:65536].decode("utf-8", "replace").lstrip("\ufeff")
    for raw in text.splitlines():
        line = raw.strip()
        if not line or (line.startswith("#") and not re.match(r"#\s*(syntax|escape|check)\s*=", line, re.I)):
            continue
        if re.match(r"(FROM|ARG)\s", line, re.I) or line.startswith("#"):
            return "stdin.Dockerfile"
        return "stdin.json" if line.startswith(("{", "[")) else "stdin.yaml"
    return "stdin.yaml"


@cli.group("config")
def config_group() -> None:
    """Check the configuration file, or print its JSON Schema (for editors)."""


@config_group.command("validate")
@click.argument("path", required=False, type=click.Path())
@click.option("--config", "config_path", type=click.Path(dir_okay=False), help="The file to check.")
def config_validate(path: str | None, config_path: str | None) -> None:
    """Validate the configuration that `mllint scan PATH` would use."""
    if path is not None and not os.path.lexists(path):
        raise click.UsageError(f"{path}: no such file or directory")
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


@cli.command()
@click.argument("paths", nargs=-1, type=click.Path())
@click.option("-f", "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@_CONFIG_OPTION
def placement(paths: tuple[str, ...], fmt: str, config_path: str | None) -> None:
    """Where each GPU workload can run: GPUs per pod and per job, each candidate node or pool, and why it fits."""
    from mllint import placement as place
    from mllint.gpus import GPU_RESOURCES

    cfg = _load_config(config_path, paths[0] if paths else ".")
    cuda = _cuda_config(cfg, None)
    facts = place.project(paths or (".",), tuple(cfg.get("gpu-resources", GPU_RESOURCES)), cuda, cfg.get("exclude", []))
    world, rows = place.rows(facts, cuda)
    click.echo((place.as_json if fmt == "json" else place.text)(world, rows), nl=False)


@cli.command()
@click.option("--stdio", is_flag=True, help="Speak over stdin and stdout (the default, and the only transport).")
def server(stdio: bool) -> None:
    """Run the language server (LSP over stdio): diagnostics as you type, fixes as code actions."""
    from mllint.lsp.server import serve

    raise SystemExit(serve())


def run(argv: Sequence[str]) -> int:
    try:
        cli.main(args=list(argv), prog_name="mllint", standalone_mode=False)
    except SystemExit as exc:
        return int(exc.code or 0)
    except click.exceptions.Abort as exc:
        if isinstance(exc.__cause__, KeyboardInterrupt):  # Ctrl-C: the shell's convention, one line
            click.echo("mllint: interrupted", err=True)
            return 130
        click.echo("mllint: aborted", err=True)
        return EXIT_USAGE
    except click.ClickException as exc:
        exc.show()
        return EXIT_USAGE
    except KeyboardInterrupt:
        click.echo("mllint: interrupted", err=True)
        return 130
    except Exception as exc:  # a bug in mllint: one line, the traceback only on request
        if os.environ.get("MLLINT_DEBUG"):
            raise
        click.echo(
            f"mllint: internal error: {type(exc).__name__}: {exc} (set MLLINT_DEBUG=1 for the traceback)", err=True
        )
        return EXIT_INTERNAL
    return 0
