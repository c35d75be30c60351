"""The scan cache: per file, what checking it produced, keyed on its bytes and on everything else it read.

`mllint scan` keeps one pack per scan settings under the cache folder (default `.mllint_cache/` at the project
root; `--cache-dir`, `--no-cache`). The settings key covers mllint's own code and rule files, the plan (rules,
severities, parameters, configuration, the project index built from kustomizations and Compose files) and the
custom rule files' bytes; a change to any of them starts a new pack. An entry holds one file's outcome (findings,
project facts, suppression directives, container roles), the digest of its bytes and the digest of every other
file that checking it read (the requirements files its Dockerfile installs). An entry is reused only when all of
them still match; project rules always rerun on the facts.

A file's stat (size, mtime, inode) stands in for reading it only when its mtime is older than the moment it was
hashed by more than the file system's timestamp granularity, as git's index does; otherwise its bytes are hashed
again. Outcomes with an internal error (a time-out is not a property of the file) and files that hold a
credential are never stored: the cache never holds a secret.

The pack is written to a temporary file and renamed over the old one, so concurrent scans never see half a file;
a pack that is corrupt, truncated, from another version or not written by mllint is ignored. Reading it
unpickles only mllint's own record types (dataclasses and named tuples of `mllint.*`, sets, Decimal): a planted
pack cannot run code.
"""

from __future__ import annotations

import dataclasses
import io
import os
import pickle
import stat
import time
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import Any, NamedTuple

from mllint import __version__
from mllint.digests import blake2b
from mllint.records import SPEC

DEFAULT_DIR = ".mllint_cache"  # at the project root
MAGIC = b"mllint-cache 1\n"
RACY_NS = 2_000_000_000  # mtimes this close to the moment a file was hashed may hide a later change
INPUT_LIMIT = 4 * 1024 * 1024  # what is read of another file a check needs (a requirements file)
MAX_HASHED = 64 * 1024 * 1024  # a file larger than any mllint reads is never a hit
PACKAGE = Path(__file__).resolve().parent
_FOREIGN_OK = {("decimal", "Decimal")}


def digest_bytes(data: bytes) -> str:
    return blake2b(data, digest_size=16).hexdigest()


class Stat(NamedTuple):
    size: int
    mtime_ns: int
    ino: int

    @classmethod
    def of(cls, path: str | os.PathLike[str]) -> Stat | None:
        try:
            st = os.stat(path)
        except OSError:
            return None
        return cls(st.st_size, st.st_mtime_ns, st.st_ino)


class Input(NamedTuple):
    """Another file that checking a file read: its path as opened and the digest of what was read (`""`: none)."""

    path: str
    digest: str


class Entry(NamedTuple):
    kind: str
    stat: Stat
    hashed_ns: int  # when the bytes behind `digest` were read
    digest: str
    inputs: tuple[Input, ...]
    outcome: Any  # mllint.engine.Outcome, stripped as workers send it


# -- what a file's check read besides the file ------------------------------------------------------------------

_reads: list[Input] | None = None


@contextmanager
def recording() -> Iterator[list[Input]]:
    """Collect the other files read while checking one file (`noted` is called by whoever reads them)."""
    global _reads
    outer, _reads = _reads, []
    try:
        yield _reads
    finally:
        _reads = outer


def noted(path: str, data: bytes | None) -> None:
    if _reads is not None:
        _reads.append(Input(path, "" if data is None else digest_bytes(data)))


def read_input(path: str) -> bytes | None:
    """A regular file's first INPUT_LIMIT bytes (never a pipe or a device, which could block), recorded as an
    input of the file being checked."""
    data = _regular_bytes(path)
    noted(path, data)
    return data


def _regular_bytes(path: str) -> bytes | None:
    try:
        if not stat.S_ISREG(os.stat(path).st_mode):
            return None
        with open(path, "rb") as handle:
            return handle.read(INPUT_LIMIT)
    except OSError:
        return None


# -- the settings key ---------------------------------------------------------------------------------------------


def _canonical(value: Any) -> Any:
    """A value in a form that hashes the same in every process (sets sorted, dataclasses by field)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return [type(value).__name__, [[f.name, _canonical(getattr(value, f.name))] for f in dataclasses.fields(value)]]
    if isinstance(value, Mapping):
        return ["map", sorted(([repr(k), _canonical(v)] for k, v in value.items()), key=repr)]
    if isinstance(value, (set, frozenset)):
        return ["set", sorted((_canonical(v) for v in value), key=repr)]
    if isinstance(value, (list, tuple)):
        return [_canonical(v) for v in value]
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return repr(value)


def _code_stamp(h: Any) -> None:
    """mllint's own code, knowledge and rule files, by path, size and mtime (a changed checkout is new code)."""
    h.update(_code_digest())


def part_key(name: str) -> str:
    """The key of a pack that holds what one step of mllint's code makes of files (`name`), whatever the scan's
    settings."""
    h = blake2b(digest_size=16)
    h.update(f"{__version__}\0{name}\0".encode())
    _code_stamp(h)
    return h.hexdigest()


@cache
def _code_digest() -> bytes:
    from mllint.data import data_root

    h = blake2b(digest_size=16)
    for top in (PACKAGE, data_root() / "rules", data_root() / "schemas"):
        _stamp_folder(h, str(top), "")
    return h.digest()


def _stamp_folder(h: Any, folder: str, prefix: str) -> None:
    """Each code, knowledge and rule file under `folder`: relative path, size and mtime, in name order."""
    with os.scandir(folder) as it:
        entries = sorted(it, key=lambda e: e.name)
    for entry in entries:
        if entry.is_dir(follow_symlinks=False):
            if entry.name != "__pycache__":
                _stamp_folder(h, entry.path, f"{prefix}{entry.name}/")
        elif entry.name.endswith((".py", ".json", ".yaml")):
            st = entry.stat()
            h.update(f"{prefix}{entry.name}\0{st.st_size}\0{st.st_mtime_ns}\0".encode())


def settings_key(plan: Any, max_bytes: int) -> str:
    h = blake2b(digest_size=16)
    h.update(f"{__version__}\0{max_bytes}\0".encode())
    _code_stamp(h)
    h.update(repr(_canonical(plan)).encode())
    for rule_file in getattr(plan, "rule_files", ()):
        try:
            h.update(Path(rule_file).read_bytes())
        except OSError:
            h.update(b"\0missing")
    return h.hexdigest()


# -- the pack -----------------------------------------------------------------------------------------------------


class _Unpickler(pickle.Unpickler):
    """Only mllint's record types: a record or named tuple defined in an `mllint.` module."""

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) in _FOREIGN_OK:
            return super().find_class(module, name)
        if module == "mllint" or module.startswith("mllint."):
            cls = super().find_class(module, name)
            # asked as `in __dict__`: `dataclasses.is_dataclass` would make the record (`mllint.records`)
            if isinstance(cls, type) and (SPEC in cls.__dict__ or hasattr(cls, "_fields")):
                return cls
        raise pickle.UnpicklingError(f"{module}.{name} is not an mllint record")


def _load(path: Path, key: str) -> dict[str, Entry]:
    try:
        blob = path.read_bytes()
    except OSError:
        return {}
    head, _, rest = blob.partition(b"\n")
    header = head + b"\n"
    if header != MAGIC or len(rest) < 33:
        return {}
    checksum, payload = rest[:32], rest[33:]
    if checksum.decode("ascii", "replace") != digest_bytes(payload):
        return {}
    try:
        data = _Unpickler(io.BytesIO(payload)).load()
    except Exception:  # a foreign or damaged pack is ignored, never trusted
        return {}
    if not isinstance(data, tuple) or len(data) != 2 or data[0] != key or not isinstance(data[1], dict):
        return {}
    return {k: v for k, v in data[1].items() if isinstance(k, str) and isinstance(v, Entry)}


def stored(folder: str | os.PathLike[str]) -> bool:
    """Whether `folder` holds results of this version of mllint (under any settings)."""
    try:
        return any(name.endswith(".pack") for name in os.listdir(Path(folder) / __version__))
    except OSError:
        return False


class Store:
    """One pack: the entries of one settings key, loaded once and written back once when changed."""

    def __init__(self, folder: str | os.PathLike[str], key: str) -> None:
        self.folder = Path(folder)
        self.key = key
        self.path = self.folder / __version__ / f"{key}.pack"
        self.entries = _load(self.path, key)
        self.changed = False
        self.started_ns = time.time_ns()
        self.hits = 0

    def lookup(self, display: str, kind: str, path: str | os.PathLike[str]) -> Any | None:
        """The stored outcome of `display` when the file and everything else it read are unchanged."""
        entry = self.entries.get(display)
        if entry is None or entry.kind != kind:
            return None
        if not _unchanged(path, entry.stat, entry.hashed_ns, entry.digest):
            return None
        for item in entry.inputs:
            if _input_digest(item.path) != item.digest:
                return None
        self.hits += 1
        return entry.outcome

    def put(
        self, display: str, kind: str, path: str | os.PathLike[str], digest: str, inputs: Iterable[Input], outcome: Any
    ) -> None:
        """Store `outcome` for the file whose read bytes had `digest`; a file changed since is not stored."""
        stat = Stat.of(path)
        if stat is None or not digest:
            return
        self.entries[display] = Entry(kind, stat, self.started_ns, digest, tuple(inputs), outcome)
        self.changed = True

    def save(self) -> None:
        if not self.changed:
            return
        payload = pickle.dumps((self.key, self.entries), protocol=5)
        blob = MAGIC + digest_bytes(payload).encode() + b"\n" + payload
        import tempfile

        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            _mark(self.folder)
            fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".pack-")
            try:
                with os.fdopen(fd, "wb") as handle:
                    handle.write(blob)
                os.replace(tmp, self.path)
            except BaseException:
                os.unlink(tmp)
                raise
        except OSError:
            return  # a read-only checkout scans as before, without a cache
        self.changed = False


def _unchanged(path: str | os.PathLike[str], stat: Stat, hashed_ns: int, digest: str) -> bool:
    now = Stat.of(path)
    if now is None:
        return False
    if now == stat and stat.mtime_ns < hashed_ns - RACY_NS:
        return True  # same size, mtime and inode, and written well before it was hashed
    if now.size > MAX_HASHED:
        return False
    try:
        with open(path, "rb") as handle:
            return digest_bytes(handle.read()) == digest
    except OSError:
        return False


def _input_digest(path: str) -> str:
    """What `noted` records for `path` as it is now."""
    data = _regular_bytes(path)
    return "" if data is None else digest_bytes(data)


def _mark(folder: Path) -> None:
    """Like other tools' caches: git ignores the folder, and backup tools skip it (CACHEDIR.TAG)."""
    ignore = folder / ".gitignore"
    if not ignore.exists():
        ignore.write_text("# created by mllint\n*\n", encoding="utf-8")
    tag = folder / "CACHEDIR.TAG"
    if not tag.exists():
        tag.write_text(
            "Signature: 8a477f597d28d172789f06886806bc55\n# created by mllint: https://bford.info/cachedir/\n",
            encoding="utf-8",
        )
