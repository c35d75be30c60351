"""Edits that fix a Dockerfile's RUN lines in place: a flag after an install's subcommand, a command appended to
the RUN. Each checks the text it anchors on (the word as written), so a fix never lands on a guessed offset."""

from __future__ import annotations

from mllint.edits import line_starts, span_offsets
from mllint.model import Edit, ImageRef, Instruction, SourceFile, Stage
from mllint.packages import LOCAL, URL_FLOATING, URL_PINNED, VARIABLE, VCS_FLOATING, VCS_PINNED, parse_install
from mllint.runs import Command, run_commands, stage_commands
from mllint.shell import Word


def _word_end(file: SourceFile, command: Command, word: Word) -> int | None:
    """The offset just past `word` in the file, when the file holds it there as the command's source does."""
    start, end = span_offsets(file.text, command.span(word), line_starts(file.text))
    return end if file.text[start:end] == command.raw(word) and end > start else None


def flag_after(file: SourceFile, command: Command, after: tuple[str, ...], flag: str) -> Edit | None:
    """Insert ` flag` after the first word past the program that is one of `after` (`install`, `add`)."""
    if not command.shell:
        return None
    _name, at = command.program()
    word = next((w for w in command.words[at + 1 :] if w[0] in after), None)
    if word is None or command.raw(word) != word[0]:
        return None
    end = _word_end(file, command, word)
    return Edit(file.path, end, end, f" {flag}") if end is not None else None


def append_to_run(file: SourceFile, ins: Instruction, command_text: str) -> Edit | None:
    """Append `&& command_text` after the last command of a shell-form RUN (before a trailing comment); None for
    an exec-form RUN, a heredoc, or a RUN whose text ends otherwise than with its last word."""
    text = ins.args[ins.args_offset :]
    if ins.heredocs or text.lstrip().startswith("["):
        return None
    line = [c for c in run_commands(ins) if c.source is text or c.source == text]
    if not line or not line[-1].words:
        return None
    last = line[-1]
    word = last.words[-1]
    tail = text[word[2] :]
    if tail.strip() and not tail.lstrip(" \t").startswith("#"):
        return None
    end = _word_end(file, last, word)
    return Edit(file.path, end, end, f" && {command_text}") if end is not None else None


_COMPILERS = frozenset(
    {"nvcc", "gcc", "g++", "cc", "c++", "clang", "clang++", "make", "cmake", "ninja", "bazel", "meson", "cargo"}
)
# pip packages that build CUDA extensions with nvcc when no wheel fits
_SOURCE_BUILDS = frozenset(
    {"flash-attn", "apex", "mamba-ssm", "causal-conv1d", "torch-scatter", "torch-sparse", "torch-cluster"}
)


def compiles(stage: Stage) -> bool:
    """Whether a RUN of the stage may compile: a compiler or build tool, `setup.py`, TORCH_CUDA_ARCH_LIST, a pip
    install from source (a path, VCS, URL, `--no-binary`), of a package that builds CUDA extensions, or from a
    requirements file (what it lists is not read here)."""
    for ins in stage.instructions:
        if ins.keyword in ("ENV", "ARG") and "TORCH_CUDA_ARCH_LIST" in ins.args:
            return True
    for command in stage_commands(stage):
        name, at = command.program()
        if name in _COMPILERS or any(w in ("setup.py", "build_ext", "bdist_wheel") for w in command.texts[at:]):
            return True
        install = parse_install(command.words, at)
        if install is None or install.manager not in ("pip", "pipx", "conda"):
            continue
        if (
            install.requirements
            or "--no-binary" in install.flags
            or any(
                p.pin in (LOCAL, VCS_PINNED, VCS_FLOATING, URL_PINNED, URL_FLOATING, VARIABLE)
                or p.name in _SOURCE_BUILDS
                for p in install.packages
            )
        ):
            return True
    return False


def runtime_base(file: SourceFile, image: ImageRef, devel: str, runtime: str) -> Edit | None:
    """The FROM's tag `devel` written as `runtime` (only where the image is written without variables)."""
    if image.raw != image.resolved or image.templated:
        return None
    start, end = span_offsets(file.text, image.span, line_starts(file.text))
    written = file.text[start:end]
    at = written.rfind(":" + devel)
    if written != image.raw or at < 0:
        return None
    return Edit(file.path, start + at + 1, start + at + 1 + len(devel), runtime)
