"""Find the files to scan and say what each one is."""

from __future__ import annotations

import errno
import os
import re
import stat
from collections.abc import Callable, Iterable
from fnmatch import fnmatch
from pathlib import Path

from mllint import lazy_re
from mllint.model import Skipped
from mllint.records import record

SKIP_DIRS = frozenset(
    {
        ".git",
        ".hg",
        ".svn",
        "node_modules",
        "__pycache__",
        ".tox",
        ".nox",
        ".mypy_cache",
        ".pytest_cache",
        ".ruff_cache",
        ".venv",
        "venv",
        "site-packages",
        ".terraform",
        ".hypothesis",
        ".eggs",
        ".mllint",
    }
)  # .mllint: custom rules and their bad examples
_DOCKERFILE = lazy_re.compile(
    r"^(?:(?:Docker|Container)file(?:[._-].*)?|(?:.*[._-])?(?:[Dd]ockerfile|[Cc]ontainerfile))$"
)
# Docker's per-Dockerfile ignore file (`Dockerfile.dockerignore`), templates and documents named for a Dockerfile
_NOT_DOCKERFILE = lazy_re.compile(
    r"\.(?:dockerignore|j2|jinja2?|tmpl|tpl|mustache|erb|md|rst|html?|json|ya?ml|toml|py|sh|"
    r"m?js|ts|png|svg|patch|diff|lock)$",
    re.I,
)
_COMPOSE = lazy_re.compile(r"^(?:docker-)?compose(?:[._-].*)?\.ya?ml$", re.I)
_REQUIREMENTS = lazy_re.compile(r"^requirements.*\.(?:txt|in)$", re.I)
_KUSTOMIZATION = frozenset({"kustomization.yaml", "kustomization.yml", "Kustomization"})


@record(frozen=True, slots=True)
class Candidate:
    path: str  # what to open (a string: a `Path` per file cost 600 bytes in every process of a scan)
    display: str  # relative POSIX path for reports
    kind: str  # dockerfile | compose | yaml | json | requirements


def classify(name: str) -> str | None:
    if _DOCKERFILE.match(name) and not _NOT_DOCKERFILE.search(name):
        return "dockerfile"
    if _COMPOSE.match(name):
        return "compose"
    if _REQUIREMENTS.match(name):
        return "requirements"
    if name in _KUSTOMIZATION:
        return "yaml"
    lower = name.lower()
    if lower.endswith((".yaml", ".yml")):
        return "yaml"
    if lower.endswith(".json"):
        return "json"
    return None


def is_kustomization(name: str) -> bool:
    return name in _KUSTOMIZATION


def display_path(path: Path, cwd: Path) -> str:
    """The path as reports show it: relative to `cwd` where it can be, and a byte that is not UTF-8 in a file
    name (`bad\\xff.yaml`) written as `\\xff`, so that every report format can encode it."""
    try:
        shown = path.relative_to(cwd).as_posix()
    except ValueError:
        shown = path.as_posix()
    return shown.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def _relative_display(cwd: Path) -> Callable[[str], str]:
    """`display_path` for the absolute paths of a walk, by string: below `cwd` the rest of the path, else the
    whole path."""
    prefix = str(cwd).rstrip(os.sep) + os.sep

    def shown(full: str) -> str:
        rest = full[len(prefix) :] if full.startswith(prefix) else full
        return rest.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")

    return shown


def discover(
    paths: Iterable[str], excludes: Iterable[str] = (), cwd: Path | None = None
) -> tuple[list[Candidate], list[Skipped]]:
    cwd = cwd or Path.cwd()
    patterns, absolute = _split_patterns(excludes)
    found: dict[str, Candidate] = {}
    skipped: list[Skipped] = []

    def excluded(display: str, name: str, full: str = "") -> bool:
        if full and _absolute_excluded(full, absolute):
            return True
        return any(fnmatch(display, p) or fnmatch(name, p) or fnmatch(display, f"{p.rstrip('/')}/*") for p in patterns)

    for raw in paths:
        root = Path(raw)
        abs_root = root if root.is_absolute() else cwd / root
        if not os.path.lexists(abs_root):
            skipped.append(Skipped(raw, "no such file or directory"))
            continue
        try:
            os.stat(abs_root)
        except OSError as exc:
            if exc.errno == errno.ELOOP:
                skipped.append(Skipped(raw, "symlink loop: the link never reaches a file or directory"))
                continue
        if abs_root.is_dir():
            _walk(abs_root, cwd, excluded, found, skipped)
            continue
        display = display_path(abs_root, cwd) if not root.is_absolute() else root.as_posix()
        if not _regular(abs_root):
            skipped.append(Skipped(display, "not a regular file (a pipe, device or socket is never read)"))
            continue
        kind = classify(abs_root.name) or _sniff(abs_root)  # a file named explicitly is read by its content
        found.setdefault(display, Candidate(str(abs_root), display, kind))
    return sorted(found.values(), key=lambda c: c.display), skipped


_GLOB = lazy_re.compile(r"[*?\[]")


def _split_patterns(excludes: Iterable[str]) -> tuple[list[str], tuple[frozenset[str], list[str]]]:
    """Exclude globs matched against paths as displayed, and absolute ones (`/srv/repo/build`, what git
    ignores) matched against the absolute path: those without glob characters by lookup."""
    relative: list[str] = []
    exact: set[str] = set()
    globs: list[str] = []
    for p in excludes:
        if not os.path.isabs(p):
            relative.append(p)
        elif _GLOB.search(p):
            globs.append(p.rstrip("/"))
        else:
            exact.add(os.path.normpath(p))
    return relative, (frozenset(exact), globs)


def _absolute_excluded(full: str, absolute: tuple[frozenset[str], list[str]]) -> bool:
    exact, globs = absolute
    if not exact and not globs:
        return False
    full = os.path.normpath(full)
    return full in exact or any(fnmatch(full, g) for g in globs)


def glob_escape(path: str) -> str:
    """`path` as a glob that matches only itself."""
    return _GLOB.sub(lambda m: f"[{m[0]}]", path)


def git_ignored(paths: Iterable[str], cwd: Path | None = None) -> list[str]:
    """What git ignores (.gitignore, .git/info/exclude, the global excludes file) in the repositories that hold
    `paths`, as absolute exclude globs; nothing outside a git repository or without git."""
    cwd = cwd or Path.cwd()
    tops: set[Path] = set()
    for raw in paths:
        here = Path(raw) if Path(raw).is_absolute() else cwd / raw
        folder = here if here.is_dir() else here.parent
        top = next((f for f in (folder, *folder.parents) if (f / ".git").exists()), None)
        if top is not None:
            tops.add(top)
    if not tops:
        return []
    import shutil
    import subprocess

    git = shutil.which("git")
    if git is None:
        return []
    out: list[str] = []
    for top in sorted(tops):
        try:
            listed = subprocess.run(
                [git, "-C", str(top), "ls-files", "-z", "--others", "--ignored", "--exclude-standard", "--directory"],
                capture_output=True,
                timeout=30,
                check=True,
            ).stdout
        except (OSError, subprocess.SubprocessError):
            continue  # not a repository git can read: nothing ignored
        for entry in listed.split(b"\0"):
            if entry:
                name = os.fsdecode(entry).rstrip("/")
                out.append(glob_escape(os.path.join(str(top), name)))
    return out


def named_excluded(raw: str, excludes: Iterable[str], cwd: Path | None = None) -> bool:
    """Whether a path named on the command line falls under an `exclude` glob, as it would in a walk of the
    folders above it: the glob matches the path, one of its folders, or its name (`--force-exclude`)."""
    patterns, absolute = _split_patterns(excludes)
    cwd = cwd or Path.cwd()
    path = Path(raw) if Path(raw).is_absolute() else cwd / raw
    full = Path(os.path.abspath(path))
    if any(_absolute_excluded(str(p), absolute) for p in (full, *full.parents)):
        return True
    if not patterns:
        return False
    parts = Path(display_path(path, cwd)).parts
    for end in range(1, len(parts) + 1):
        display, name = "/".join(parts[:end]), parts[end - 1]
        if any(fnmatch(display, p) or fnmatch(name, p) or fnmatch(display, f"{p.rstrip('/')}/*") for p in patterns):
            return True
    return False


_FIRST_INSTRUCTION = lazy_re.compile(r"^\s*(?:FROM|ARG)\s", re.I)


def _sniff(path: Path) -> str:
    """A Dockerfile when its first line that is not a comment is FROM or ARG (`Dockerfile_gpu.txt`),
    else YAML (Kubernetes or Compose by content)."""
    try:
        with open(path, "rb") as handle:
            head = handle.read(8192).decode("utf-8", "replace")
    except OSError:
        return "yaml"  # the parser reports the read error
    for line in head.splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            return "dockerfile" if _FIRST_INSTRUCTION.match(line) else "yaml"
    return "yaml"


def _regular(path: Path | str) -> bool:
    """A regular file (after links): never a FIFO, device or socket, which could block or never end."""
    try:
        return stat.S_ISREG(os.stat(path).st_mode)
    except OSError:
        return True  # the reader reports why it cannot be read


def _inside(path: Path | str, top: str) -> bool:
    """Whether `path`, its links resolved, lies under the folder `top` (already resolved)."""
    try:
        real = os.path.realpath(path)
    except OSError:  # pragma: no cover
        return False
    return real == top or real.startswith(top.rstrip(os.sep) + os.sep)


def _walk(
    root: Path,
    cwd: Path,
    excluded: Callable[[str, str, str], bool],
    found: dict[str, Candidate],
    skipped: list[Skipped],
) -> None:
    """Every file under `root` that mllint reads. Paths are strings here (a `Path` per directory entry cost more
    than the walk itself)."""
    top = os.path.realpath(root)
    under = _relative_display(cwd)
    seen: set[tuple[int, int]] = set()
    stack = [str(root)]
    while stack:
        directory = stack.pop()
        try:
            info = os.stat(directory)
        except OSError:  # pragma: no cover - gone since its parent was read
            continue
        if (info.st_dev, info.st_ino) in seen:
            skipped.append(Skipped(under(directory), "symlink loop: directory already scanned"))
            continue
        seen.add((info.st_dev, info.st_ino))
        try:
            entries = sorted(os.scandir(directory), key=lambda e: e.name)
        except OSError as exc:
            skipped.append(Skipped(under(directory), f"cannot read directory: {exc.strerror}"))
            continue
        names = {e.name for e in entries}
        if directory != str(root) and "pyvenv.cfg" in names:  # a virtual environment
            continue
        chart = "Chart.yaml" in names
        folders: list[str] = []
        for entry in entries:
            display = under(entry.path)
            if excluded(display, entry.name, entry.path):
                continue
            try:
                is_dir = entry.is_dir()
                link = entry.is_symlink()
            except OSError:
                is_dir = link = False
            if link and not _inside(entry.path, top):
                if is_dir or classify(entry.name) is not None:
                    skipped.append(Skipped(display, "a link that leads outside the scanned folder"))
                continue
            if is_dir:
                if entry.name in SKIP_DIRS:
                    continue
                if chart and entry.name == "templates":
                    skipped.append(
                        Skipped(
                            display,
                            "Helm chart templates (Go template syntax); scan the output of `helm template` instead",
                        )
                    )
                    continue
                folders.append(entry.path)
                continue
            kind = classify(entry.name)
            if kind is not None:
                if not (entry.is_file() or _regular(entry.path)):
                    skipped.append(Skipped(display, "not a regular file (a pipe, device or socket is never read)"))
                    continue
                found.setdefault(display, Candidate(entry.path, display, kind))
        stack += reversed(folders)  # the smallest on top: folders are visited in `Path` order
