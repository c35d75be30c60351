"""The shell commands a Dockerfile stage runs: each RUN instruction (shell or exec form) and the heredoc
bodies BuildKit runs as scripts, split into simple commands by `mllint.shell`, with a span for any word.
Python code handed to an interpreter (`python -c CODE`, `python <<EOF`) is kept apart for the rules
that read it."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator

from mllint import lazy_re
from mllint.model import ImageBuild, Instruction, Span, Stage, is_digits
from mllint.records import record
from mllint.shell import Word, commands
from mllint.stages import chain

_SHELLS = frozenset({"sh", "bash", "ash", "dash", "zsh"})
_PYTHON = lazy_re.compile(r"^python(?:\d+(?:\.\d+)?)?$")
_HEREDOC_WORD = lazy_re.compile(r"^<<-?[A-Za-z_][A-Za-z0-9_.-]*$")
_WRAPPERS = frozenset(
    {
        "sudo",
        "env",
        "nohup",
        "exec",
        "time",
        "timeout",
        "xargs",
        "stdbuf",
        "nice",
        "ionice",
        "eatmydata",
        "gosu",
        "su-exec",
        "tini",
        "dumb-init",
        "command",
    }
)
ASSIGNMENT = lazy_re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=")


@record(slots=True)
class Command:
    """One simple command: its words (offsets into `text`) and where they are in the Dockerfile."""

    words: list[Word]
    ins: Instruction
    locate: Callable[[int, int], Span]
    source: str = ""  # the text the word offsets index
    shell: bool = True  # False for an exec-form RUN, whose words no shell reads

    def raw(self, word: Word) -> str:
        """The word as written, quotes and escapes included."""
        return self.source[word[1] : word[2]]

    @property
    def texts(self) -> list[str]:
        return [w for w, _s, _e in self.words]

    @property
    def names(self) -> list[str]:
        """Each word's last path component: `/opt/conda/bin/pip` is `pip`."""
        return [w.rsplit("/", 1)[-1] for w, _s, _e in self.words]

    def span(self, word: Word) -> Span:
        return self.locate(word[1], word[2])

    def program(self) -> tuple[str, int]:
        """The program the command runs, past `sudo`, `env A=b`, `VAR=x` prefixes, and its word index."""
        names = self.names
        i = 0
        while i < len(names):
            name = names[i]
            if ASSIGNMENT.match(self.words[i][0]) or name in _WRAPPERS:
                i += 1
                while i < len(names) and names[i].startswith("-") and names[i - 1] in _WRAPPERS:
                    i += 1  # the wrapper's own flags: `sudo -E`, `timeout -s KILL`
                continue
            if is_digits(name) and i and names[i - 1] == "timeout":
                i += 1
                continue
            return name, i
        return "", len(names)


@record(frozen=True, slots=True)
class Mount:
    """One `RUN --mount=...` flag: its type (bind, the default, cache, tmpfs, secret, ssh) and target."""

    type: str
    target: str  # as written ('' when not given; a secret's default is /run/secrets/<id>)
    span: Span  # the whole flag


_MOUNT = lazy_re.compile(r"--mount=(\"[^\"]*\"|'[^']*'|\S+)")


def mounts(ins: Instruction) -> list[Mount]:
    """The mounts of a RUN instruction, each read on its own (`target=`, `dst=` and `destination=` alike)."""
    out: list[Mount] = []
    for match in _MOUNT.finditer(ins.args[: ins.args_offset]):
        fields: dict[str, str] = {}
        for item in match[1].strip("\"'").split(","):
            key, _eq, value = item.partition("=")
            fields.setdefault(key.strip().lower(), value.strip().strip("\"'"))
        target = fields.get("target") or fields.get("dst") or fields.get("destination") or ""
        out.append(Mount(fields.get("type", "bind").lower(), target, ins.span_of(match.start(), match.end())))
    return out


def covers(directory: str, path: str) -> bool:
    """Whether `path` is `directory` or inside it (both absolute, `/x/` and `/x` alike)."""
    if not directory.startswith("/") or not path.startswith("/"):
        return False
    directory = directory.rstrip("/")
    path = path.rstrip("/")
    return bool(path) and (path == directory or path.startswith(directory + "/"))


def stage_commands(stage: Stage) -> Iterator[Command]:
    for ins in stage.instructions:
        if ins.keyword == "RUN":
            yield from run_commands(ins)


def start_commands(stage: Stage) -> list[Command]:
    """What the image runs when a container starts: the stage's last ENTRYPOINT and last CMD."""
    out: list[Command] = []
    for keyword in ("ENTRYPOINT", "CMD"):
        last = next((ins for ins in reversed(stage.instructions) if ins.keyword == keyword), None)
        if last is not None:
            out += _line_commands(last)
    return out


def image_start_commands(build: ImageBuild, stage: Stage) -> list[Command]:
    """What a container of the image that `stage` builds runs when it starts: the last ENTRYPOINT and the
    last CMD of the stage or, failing that, of the stages it builds FROM (nearest first). An ENTRYPOINT
    set in a nearer stage than the CMD resets that inherited CMD, as Docker does."""
    found: dict[str, tuple[int, Instruction]] = {}
    for depth, current in enumerate(chain(build, stage)):
        for ins in reversed(current.instructions):
            if ins.keyword in ("ENTRYPOINT", "CMD") and ins.keyword not in found:
                found[ins.keyword] = (depth, ins)
    entry, cmd = found.get("ENTRYPOINT"), found.get("CMD")
    if entry is not None and cmd is not None and entry[0] < cmd[0]:
        cmd = None
    return [c for item in (entry, cmd) if item is not None for c in _line_commands(item[1])]


def piped(commands_: list[Command], index: int) -> bool:
    """Whether command `index` writes into the next one through a pipe (`curl ... | sh`)."""
    if index + 1 >= len(commands_):
        return False
    here, after = commands_[index], commands_[index + 1]
    if here.source is not after.source or not here.words or not after.words:
        return False
    between = here.source[here.words[-1][2] : after.words[0][1]].strip()
    return between == "|" or between == "|&"


def run_commands(ins: Instruction) -> Iterator[Command]:
    """The simple commands of one RUN instruction, heredoc scripts included."""
    line = _line_commands(ins)
    yield from line
    for (_delimiter, body, span), owner in zip(ins.heredocs, _heredoc_owners(line, ins), strict=False):
        rest = (
            []
            if owner is None
            else [
                n
                for w, n in zip(owner.texts, owner.names, strict=True)
                if not _HEREDOC_WORD.match(w) and not w.startswith("-")
            ]
        )
        if not rest or rest[0] in _SHELLS:  # `RUN <<EOF` alone runs in the default shell; `bash <<EOF` too
            for words in commands(body):
                yield Command(words, ins, _body_locator(body, span), body)


def python_sources(stage: Stage) -> Iterator[tuple[str, Callable[[int, int], Span]]]:
    """Python code the stage runs: `python -c CODE` words and heredocs fed to `python`."""
    for ins in stage.instructions:
        if ins.keyword != "RUN":
            continue
        line = _line_commands(ins)
        for command in line:
            name, at = command.program()
            if not _PYTHON.match(name):
                continue
            for i in range(at + 1, len(command.words) - 1):
                if command.words[i][0] == "-c":
                    code, start, _end = command.words[i + 1]
                    quoted = ins.args[ins.args_offset + start : ins.args_offset + start + 1] in ("'", '"')
                    yield code, _shifted(command.locate, start + quoted)  # offsets hold while it has no escapes
                    break
        for (_delimiter, body, span), owner in zip(ins.heredocs, _heredoc_owners(line, ins), strict=False):
            if owner is not None and _PYTHON.match(owner.program()[0]):
                yield body, _body_locator(body, span)


def _line_commands(ins: Instruction) -> list[Command]:
    """The commands written on the RUN line itself (continuations joined)."""
    text = ins.args[ins.args_offset :]
    base = ins.args_offset

    def locate(start: int, end: int) -> Span:
        return ins.span_of(start + base, end + base)

    exec_form = _exec_words(text)
    if exec_form is None:
        return [Command(words, ins, locate, text) for words in commands(text)]
    if len(exec_form) >= 3 and exec_form[0][0].rsplit("/", 1)[-1] in _SHELLS and exec_form[1][0] == "-c":
        script, start, _end = exec_form[2]  # ["sh", "-c", "script"]: offsets hold while it has no escapes
        return [
            Command([(w, s + start, e + start) for w, s, e in words], ins, locate, text) for words in commands(script)
        ]
    return [Command(exec_form, ins, locate, text, shell=False)] if exec_form else []


def _shifted(locate: Callable[[int, int], Span], base: int) -> Callable[[int, int], Span]:
    return lambda start, end: locate(start + base, end + base)


def _heredoc_owners(line: list[Command], ins: Instruction) -> list[Command | None]:
    """The command each heredoc of the RUN line feeds, in order."""
    owners: list[Command | None] = []
    for command in line:
        owners += [command] * sum(1 for w in command.texts if _HEREDOC_WORD.match(w))
    return owners + [None] * (len(ins.heredocs) - len(owners))


def _body_locator(body: str, span: Span) -> Callable[[int, int], Span]:
    def locate(start: int, end: int) -> Span:
        line = span.line + body.count("\n", 0, start)
        column = start - (body.rfind("\n", 0, start) + 1) + 1
        end_line = span.line + body.count("\n", 0, max(start, end - 1))
        end_column = end - (body.rfind("\n", 0, max(start, end - 1)) + 1) + 1
        return Span(span.path, line, column, end_line, end_column)

    return locate


_JSON_STRING = lazy_re.compile(r'"((?:[^"\\]|\\.)*)"')


def _exec_words(text: str) -> list[Word] | None:
    """The words of an exec-form RUN (`RUN ["pip", "install", "x"]`), None for the shell form."""
    stripped = text.strip()
    if not (stripped.startswith("[") and stripped.endswith("]")):
        return None
    try:
        values = json.loads(stripped)
    except ValueError:
        return None
    if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
        return None
    found = list(_JSON_STRING.finditer(text))
    if len(found) != len(values):
        return None
    return [(value, m.start(1), m.end(1)) for value, m in zip(values, found, strict=True)]
