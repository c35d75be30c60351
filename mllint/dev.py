"""Tools for working on mllint itself: `python -m mllint.dev new-rule ML517 --family reliability --target Container`.

`new-rule` scaffolds the four files of a rule: its metadata (`rules/<family>/MLnnn.yaml`, status preview), a
logic module in `mllint/checks/<family>/` whose placeholder condition makes the bad fixture fire, and the
fixtures `fixtures/MLnnn/bad-example.*` and `ok-example.*` with their `# expect:` lines. It never overwrites
a file and regenerates nothing else.
"""

from __future__ import annotations

import argparse
import keyword
import re
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from mllint.records import record

# The families, in the order of their hundreds digit: ML1xx is gpu, ML5xx reliability.
FAMILY_DIGIT = {
    "meta": "0",
    "gpu": "1",
    "cuda": "2",
    "pinning": "3",
    "build": "4",
    "reliability": "5",
    "tenancy": "6",
    "security": "7",
    "live": "8",
}
SEVERITIES = ("note", "warning", "error")
NAME = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")  # the schema's pattern for rule names
MAX_NAME = 48  # longer names would not fit the stub's `def` line in 120 columns
PLACEHOLDER = "change-me"


class ScaffoldError(Exception):
    """Why a rule cannot be scaffolded: one line for the user."""


@record(frozen=True)
class Template:
    """What the scaffold writes for one target type: the stub's imports and body, and the fixtures."""

    imports: str  # the stub's mllint imports (`rule` is added)
    signature: str  # the parameters after the name, and the return type
    what: str  # the placeholder condition, as the stub's docstring and the metadata describe it
    body: str  # the function body after its docstring
    ext: str  # the fixtures' extension
    bad: str  # the bad fixture, `{id}` standing for the rule id
    ok: str  # the ok fixture


_CONTAINER_FINDING = """\
    if container.name != PLACEHOLDER:
        return
    yield Finding.at(
        container.name_span or container.span,
        f"{who(container, ctx)} is named {PLACEHOLDER!r}: TODO say what is wrong and what it costs at run time",
        fix="TODO: how to fix it",
    )
"""

_WORKLOAD_FINDING = """\
    if workload.name != PLACEHOLDER:
        return
    yield Finding.at(
        workload.name_span or workload.span,
        f"{workload.kind} {workload.name!r} is named {PLACEHOLDER!r}: TODO say what is wrong and what it costs",
        fix="TODO: how to fix it",
    )
"""

_POD_FINDING = """\
    priority = pod.priority_class_name
    if priority is None or priority.text != PLACEHOLDER:
        return
    owner = f"{ctx.workload.kind} {ctx.workload.name!r}" if ctx.workload is not None else "a pod"
    yield Finding.at(
        priority.span,
        f"{owner} sets priorityClassName {PLACEHOLDER!r}: TODO say what is wrong and what it costs",
        fix="TODO: how to fix it",
    )
"""

_OBJECT_FINDING = """\
    if obj.name != PLACEHOLDER:
        return
    yield Finding.at(
        obj.name_span or obj.span,
        f"{obj.kind} {obj.name!r} is named {PLACEHOLDER!r}: TODO say what is wrong and what it costs",
        fix="TODO: how to fix it",
    )
"""

_FILE_FINDING = """\
    for number, line in enumerate(file.lines(), 1):
        column = line.find(PLACEHOLDER) + 1
        if column:
            yield Finding.at(
                Span(file.path, number, column, number, column + len(PLACEHOLDER)),
                f"{file.path} says {PLACEHOLDER!r}: TODO say what is wrong and what it costs",
                fix="TODO: how to fix it",
            )
            return
"""

_STAGE_FINDING = """\
    if stage.alias is None or stage.alias.text != PLACEHOLDER:
        return
    yield Finding.at(
        stage.alias.span,
        f"stage {stage.index} is named {PLACEHOLDER!r}: TODO say what is wrong and what it costs",
        fix="TODO: how to fix it",
    )
"""

_BUILD_FINDING = """\
    final = build.final_stage
    if final is None or final.alias is None or final.alias.text != PLACEHOLDER:
        return
    yield Finding.at(
        final.alias.span,
        f"the final stage of {build.path} is named {PLACEHOLDER!r}: TODO say what is wrong and what it costs",
        fix="TODO: how to fix it",
    )
"""

_PROJECT_FINDING = """\
    for workload in project.workloads:
        if workload.name == PLACEHOLDER:
            yield Finding.at(
                workload.name_span,
                f"{workload.kind} {workload.name!r} is named {PLACEHOLDER!r}: TODO say what is wrong, across files",
                fix="TODO: how to fix it",
            )
"""

_HEADER = "# {id}: a placeholder case; replace it with real ones (and their expect comments).\n"

_POD = """\
apiVersion: v1
kind: Pod
metadata:
  name: {name}
spec:
  containers:
    - name: {container}
      image: ghcr.io/acme/trainer:1.0.0
"""

_POD_PRIORITY = """\
apiVersion: v1
kind: Pod
metadata:
  name: trainer
spec:
  priorityClassName: {priority}
  containers:
    - name: trainer
      image: ghcr.io/acme/trainer:1.0.0
"""

_CONFIGMAP = """\
apiVersion: v1
kind: ConfigMap
metadata:
  name: {name}
data:
  mode: {mode}
"""

_DOCKERFILE = """\
{expect}FROM python:3.12-slim AS {alias}
RUN python -c "print('hello')"
"""

_EXPECT = "  # expect: {id}@"


def _pod(name: str, container: str) -> str:
    return _POD.format(name=name, container=container)


TEMPLATES: dict[str, Template] = {
    "Container": Template(
        imports="from mllint.checks.context import Ctx, who\nfrom mllint.model import Container, Finding\n",
        signature="container: Container, ctx: Ctx",
        what="a container named `change-me`",
        body=_CONTAINER_FINDING,
        ext="yaml",
        bad=_pod("trainer", PLACEHOLDER + _EXPECT + "13"),
        ok=_pod("trainer", "trainer"),
    ),
    "Workload": Template(
        imports="from mllint.checks.context import Ctx\nfrom mllint.model import Finding, Workload\n",
        signature="workload: Workload, ctx: Ctx",
        what="a workload named `change-me`",
        body=_WORKLOAD_FINDING,
        ext="yaml",
        bad=_pod(PLACEHOLDER + _EXPECT + "9", "trainer"),
        ok=_pod("trainer", "trainer"),
    ),
    "PodSpec": Template(
        imports="from mllint.checks.context import Ctx\nfrom mllint.model import Finding, PodSpec\n",
        signature="pod: PodSpec, ctx: Ctx",
        what="a pod with `priorityClassName: change-me`",
        body=_POD_FINDING,
        ext="yaml",
        bad=_POD_PRIORITY.format(priority=PLACEHOLDER + _EXPECT + "22"),
        ok=_POD_PRIORITY.format(priority="training"),
    ),
    "Object": Template(
        imports="from mllint.checks.context import Ctx\nfrom mllint.model import Finding, K8sObject\n",
        signature="obj: K8sObject, ctx: Ctx",
        what="an object named `change-me`",
        body=_OBJECT_FINDING,
        ext="yaml",
        bad=_CONFIGMAP.format(name=PLACEHOLDER + _EXPECT + "9", mode="train"),
        ok=_CONFIGMAP.format(name="trainer", mode="train"),
    ),
    "File": Template(
        imports="from mllint.checks.context import Ctx\nfrom mllint.model import Finding, SourceFile, Span\n",
        signature="file: SourceFile, ctx: Ctx",
        what="the first `change-me` in a file",
        body=_FILE_FINDING,
        ext="yaml",
        bad=_CONFIGMAP.format(name="trainer", mode=PLACEHOLDER + _EXPECT + "9"),
        ok=_CONFIGMAP.format(name="trainer", mode="train"),
    ),
    "Stage": Template(
        imports="from mllint.checks.context import Ctx\nfrom mllint.model import Finding, Stage\n",
        signature="stage: Stage, ctx: Ctx",
        what="a build stage named `change-me`",
        body=_STAGE_FINDING,
        ext="Dockerfile",
        bad=_DOCKERFILE.format(expect="# expect: {id}@26\n", alias=PLACEHOLDER),
        ok=_DOCKERFILE.format(expect="", alias="runtime"),
    ),
    "ImageBuild": Template(
        imports="from mllint.checks.context import Ctx\nfrom mllint.model import Finding, ImageBuild\n",
        signature="build: ImageBuild, ctx: Ctx",
        what="an image whose final stage is named `change-me`",
        body=_BUILD_FINDING,
        ext="Dockerfile",
        bad=_DOCKERFILE.format(expect="# expect: {id}@26\n", alias=PLACEHOLDER),
        ok=_DOCKERFILE.format(expect="", alias="runtime"),
    ),
    "Project": Template(
        imports="from mllint.checks.context import ProjectCtx\nfrom mllint.model import Finding\n"
        "from mllint.project import ProjectFacts\n",
        signature="project: ProjectFacts, ctx: ProjectCtx",
        what="a workload named `change-me` in any scanned file",
        body=_PROJECT_FINDING,
        ext="yaml",
        bad=_pod(PLACEHOLDER + _EXPECT + "9", "trainer"),
        ok=_pod("trainer", "trainer"),
    ),
}
UNSUPPORTED = {
    "Host": "Host rules (live mode) are tested against a fake NVML host, not a manifest: write them by hand, like ML804",
}

_METADATA = """\
id: {id}
name: {name}
family: {family}
target: {target}
status: preview
since: "{since}"
severity: {severity}
tags: [todo]
summary: "TODO: what {id} reports, in one line (the placeholder reports {what_short})"
description: |
  TODO: what goes wrong at run time and why; which objects the rule reads and which it leaves alone.
  So far {module} holds a placeholder
  that reports {what}: replace it, the fixtures and this text before the rule leaves preview.
remediation: "TODO: how to fix what the rule reports, in a sentence or two."
examples:
  bad: {bad}
  good: {good}
"""

_STUB = '''\
"""{id}: TODO: what the rule checks, in one line."""

from __future__ import annotations

from collections.abc import Iterator

{imports}from mllint.registry import rule

PLACEHOLDER = "{placeholder}"


@rule("{id}")
def {function}({signature}) -> Iterator[Finding]:
    """TODO: replace this placeholder. It reports {what} so that the scaffolded
    {bad} fires; write the rule's real condition, then real bad-* and ok-* fixtures."""
{body}'''


@record(frozen=True)
class Scaffold:
    """The four files of a new rule, relative to the repository root, and their text."""

    files: dict[str, str]


def find_root(start: Path | None = None) -> Path | None:
    """The repository root: the checkout this package was imported from, else `start` (the working
    directory) or a folder above it; None when neither holds rules/, schemas/ and mllint/checks/."""
    here = (start or Path.cwd()).resolve()
    for folder in (Path(__file__).resolve().parent.parent, here, *here.parents):
        if _is_root(folder):
            return folder
    return None


def _is_root(folder: Path) -> bool:
    return (
        (folder / "rules").is_dir()
        and (folder / "schemas" / "rule.schema.json").is_file()
        and (folder / "mllint" / "checks").is_dir()
    )


def _version(root: Path) -> str:
    found = re.search(r'^__version__\s*=\s*"([^"]+)"', (root / "mllint" / "__init__.py").read_text("utf-8"), re.M)
    if found is None:
        raise ScaffoldError(f"no __version__ in {root / 'mllint' / '__init__.py'}")
    return found[1]


def _existing(root: Path) -> tuple[dict[str, str], dict[str, str]]:
    """The rules already in the repository: id -> metadata file, and name -> id."""
    from ruamel.yaml import YAML

    yaml = YAML(typ="safe", pure=True)
    ids: dict[str, str] = {}
    names: dict[str, str] = {}
    for path in sorted((root / "rules").glob("*/ML*.yaml")):
        data = yaml.load(path.read_text(encoding="utf-8"))
        display = path.relative_to(root).as_posix()
        ids[path.stem] = display
        if isinstance(data, dict):
            ids[str(data.get("id", path.stem))] = display
            names[str(data.get("name", ""))] = str(data.get("id", path.stem))
    return ids, names


def plan(root: Path, rule_id: str, family: str, target: str, name: str | None, severity: str) -> Scaffold:
    """The files `new-rule` writes, after every check that could refuse them."""
    rule_id = rule_id.upper()
    if not re.fullmatch(r"ML\d{3}", rule_id):
        raise ScaffoldError(f"{rule_id!r} is not a rule id: ML and three digits, e.g. ML517")
    if family not in FAMILY_DIGIT:
        raise ScaffoldError(f"unknown family {family!r}; one of: {', '.join(FAMILY_DIGIT)}")
    if rule_id[2] != FAMILY_DIGIT[family]:
        raise ScaffoldError(
            f"{rule_id} does not belong to {family}: its ids are ML{FAMILY_DIGIT[family]}xx (the hundreds digit)"
        )
    if target in UNSUPPORTED:
        raise ScaffoldError(UNSUPPORTED[target])
    if target not in TEMPLATES:
        raise ScaffoldError(f"unknown target {target!r}; one of: {', '.join(TEMPLATES)}")
    if severity not in SEVERITIES:
        raise ScaffoldError(f"unknown severity {severity!r}; one of: {', '.join(SEVERITIES)}")
    name = name or f"todo-{rule_id.lower()}"
    if not NAME.fullmatch(name) or len(name) > MAX_NAME:
        raise ScaffoldError(f"{name!r} is not a rule name: kebab-case (lower case, digits, dashes), at most {MAX_NAME}")
    module = name.replace("-", "_")
    if keyword.iskeyword(module):
        raise ScaffoldError(f"{name!r} cannot name a Python module")
    package = root / "mllint" / "checks" / family
    if not (package / "__init__.py").is_file():
        raise ScaffoldError(f"{package.relative_to(root).as_posix()}/ is not a package: the family has no checks")

    ids, names = _existing(root)
    if rule_id in ids:
        raise ScaffoldError(f"{rule_id} exists: {ids[rule_id]}")
    if name in names:
        raise ScaffoldError(f"the name {name!r} is taken by {names[name]}")
    bound = re.compile(rf"""@rule\(\s*["']{rule_id}["']\s*\)""")
    for path in sorted((root / "mllint" / "checks").rglob("*.py")):
        if bound.search(path.read_text(encoding="utf-8")):
            raise ScaffoldError(f"{rule_id} is already bound in {path.relative_to(root).as_posix()}")
    fixtures = root / "fixtures" / rule_id
    if fixtures.exists():
        raise ScaffoldError(f"fixtures/{rule_id} exists; pick another id or remove it")

    template = TEMPLATES[target]
    module_path = f"mllint/checks/{family}/{module}.py"
    if (root / module_path).exists() or (package / module).exists():
        raise ScaffoldError(f"{module_path} exists; pick another --name")
    bad = f"fixtures/{rule_id}/bad-example.{template.ext}"
    good = f"fixtures/{rule_id}/ok-example.{template.ext}"
    metadata = _METADATA.format(
        id=rule_id,
        name=name,
        family=family,
        target=target,
        since=_version(root),
        severity=severity,
        what=template.what,
        what_short=template.what.replace("`", ""),
        module=module_path,
        bad=bad,
        good=good,
    )
    _validate(root, metadata)
    stub = _STUB.format(
        id=rule_id,
        imports=template.imports,
        placeholder=PLACEHOLDER,
        function=module,
        signature=template.signature,
        what=template.what,
        bad=bad,
        body=template.body,
    )
    header = _HEADER.format(id=rule_id)
    return Scaffold(
        {
            f"rules/{family}/{rule_id}.yaml": metadata,
            module_path: stub,
            bad: header + template.bad.format(id=rule_id),
            good: header + template.ok.format(id=rule_id),
        }
    )


def _validate(root: Path, metadata: str) -> None:
    """The metadata must be valid against the repository's own rule schema."""
    import json

    import jsonschema
    from ruamel.yaml import YAML

    schema = json.loads((root / "schemas" / "rule.schema.json").read_text(encoding="utf-8"))
    data: Any = YAML(typ="safe", pure=True).load(metadata)
    errors = sorted(jsonschema.Draft202012Validator(schema).iter_errors(data), key=str)
    if errors:
        where = "/".join(str(p) for p in errors[0].absolute_path) or "(top)"
        raise ScaffoldError(f"the scaffolded metadata is not valid at {where}: {errors[0].message}")


def write(root: Path, scaffold: Scaffold) -> list[str]:
    """Write the files, each new (never over an existing one); returns their paths."""
    for relative in scaffold.files:
        if (root / relative).exists():
            raise ScaffoldError(f"{relative} exists; nothing was written")
    written: list[str] = []
    for relative, text in scaffold.files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("x", encoding="utf-8", newline="\n") as out:
            out.write(text)
        written.append(relative)
    return written


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m mllint.dev", description="Tools for working on mllint.")
    commands = parser.add_subparsers(dest="command", required=True)
    new = commands.add_parser(
        "new-rule",
        help="scaffold a rule: metadata, a logic stub and bad/ok fixtures",
        description="Scaffold a preview rule: rules/<family>/MLnnn.yaml, a module in mllint/checks/<family>/ "
        "and fixtures/MLnnn/bad-example.* and ok-example.*, whose placeholder condition makes the bad fixture fire.",
    )
    new.add_argument("rule_id", metavar="MLnnn", help="the new rule's id; its hundreds digit is the family's")
    new.add_argument("--family", required=True, help=f"one of: {', '.join(FAMILY_DIGIT)}")
    new.add_argument("--target", required=True, help=f"what the rule reads, one of: {', '.join(TEMPLATES)}")
    new.add_argument("--name", help="the rule's kebab-case name, also its module's (default: todo-mlnnn)")
    new.add_argument("--severity", default="warning", help=f"one of: {', '.join(SEVERITIES)} (default: warning)")
    new.add_argument("--root", type=Path, help="the repository root (default: this checkout, or the working directory)")
    commands.add_parser(
        "compile-rules",
        help="rewrite mllint/rule_index.json from rules/ (after changing a rule's metadata or moving its function)",
    )
    return parser


def compile_rules() -> int:
    """Write the compact rule index from the rule YAMLs and the modules their functions live in."""
    from mllint import registry, rule_index
    from mllint.data import rules_dir

    rules = registry.from_yaml()  # binds every function, checked both ways
    modules = {rid: getattr(r.func, "__module__", "") for rid, r in rules.items()}
    text = rule_index.render(rules_dir(), registry.load_metadata(), modules)
    rule_index.INDEX_PATH.write_text(text, encoding="utf-8")
    print(f"wrote {rule_index.INDEX_PATH.name}: {len(rules)} rules")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "compile-rules":
        return compile_rules()
    root = args.root.resolve() if args.root else find_root()
    try:
        if root is None or not _is_root(root):
            where = root or Path.cwd()
            raise ScaffoldError(f"{where} is not an mllint checkout (rules/, schemas/, mllint/checks/); pass --root")
        written = write(root, plan(root, args.rule_id, args.family, args.target, args.name, args.severity))
    except ScaffoldError as exc:
        print(f"mllint.dev: error: {exc}", file=sys.stderr)
        return 2
    rule_id = args.rule_id.upper()
    for relative in written:
        print(f"wrote {relative}")
    print(
        "next:\n"
        f"  python -m pytest tests/test_rule_fixtures.py -k {rule_id}  # the placeholder fires on bad-example only\n"
        "  mllint rules --format markdown > docs/rules.md  # regenerate the rules reference\n"
        "  python -m mllint.dev compile-rules  # the compact rule index mllint starts from\n"
        f"  mllint scan --preview --select {rule_id} fixtures/{rule_id}  # preview rules run only with --preview\n"
        "then replace the placeholder and every TODO, and the fixtures with real cases."
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
