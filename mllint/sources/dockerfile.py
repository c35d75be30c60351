"""Dockerfiles → ImageBuild, with the line and column of every instruction, flag and argument.

Handles what BuildKit accepts: parser directives (`# syntax=`, `# escape=`), continuation lines
(with comment and blank lines inside them), heredocs (`RUN <<EOF`, `<<-EOF`, several per
instruction), ARG defaults substituted into FROM, and stage aliases.
"""

from __future__ import annotations

import re

from mllint import lazy_re
from mllint.imageref import parse_image
from mllint.model import Diagnostic, ImageBuild, Instruction, SourceFile, Span, Stage, Value, source_lines

KEYWORDS = frozenset(
    "FROM RUN CMD LABEL MAINTAINER EXPOSE ENV ADD COPY ENTRYPOINT VOLUME USER WORKDIR ARG ONBUILD "
    "STOPSIGNAL HEALTHCHECK SHELL".split()
)
_DIRECTIVE = lazy_re.compile(r"^#\s*([A-Za-z][A-Za-z0-9_-]*)\s*=\s*(.*?)\s*$")
_INSTRUCTION = lazy_re.compile(r"^(\s*)([A-Za-z]+)(?=\s|$)\s*")
_HEREDOC = lazy_re.compile(r"<<(-?)([\"']?)([A-Za-z_][A-Za-z0-9_.-]*)\2")
_SPACED_HEREDOC = lazy_re.compile(r"<<-?\s+([\"']?)([A-Za-z_][A-Za-z0-9_.-]*)\1")  # a shell heredoc; not one to Docker
_FLAG = lazy_re.compile(r"--([A-Za-z][A-Za-z0-9-]*)(?:=(\S*))?")
_VAR = lazy_re.compile(r"\$(?:\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-+])([^}]*))?\}|([A-Za-z_][A-Za-z0-9_]*))")
_ARG_ITEM = lazy_re.compile(r"([A-Za-z_][A-Za-z0-9_]*)(?:=(\"[^\"]*\"|'[^']*'|\S*))?")


def load(file: SourceFile) -> None:
    own: list[Diagnostic] = []
    instructions, directives = lex(file.path, file.text, own)
    other = other_format(file.path, source_lines(file.text), directives)
    if other is not None:  # YAML or a shell session under a Dockerfile's name: one note, no build
        file.not_dockerfile = other[0]
        file.diagnostics.append(other[1])
        return
    file.build = build(file.path, instructions, directives, own)
    file.diagnostics += collapse(own)


def collapse(diagnostics: list[Diagnostic]) -> list[Diagnostic]:
    """Docker stops at a Dockerfile's first error: that one, with the count of the further lines it cannot
    read, instead of an error per line (a broken file gave 60)."""
    errors = sorted((d for d in diagnostics if d.rule == "ML001"), key=lambda d: (d.span.line, d.span.column))
    if len(errors) < 2:
        return diagnostics
    first = errors[0]
    lines = sorted({d.span.line for d in errors[1:]} - {first.span.line})
    if lines:
        more = f"{len(lines)} more line{'s' if len(lines) > 1 else ''}"
        first.message += f" (and {more} Docker cannot read, the next on line {lines[0]})"
    return [d for d in diagnostics if d.rule != "ML001" or d is first]


_YAML_LINE = lazy_re.compile(
    r"""^\s*(?:-\s+)?(?:"[^"]*"|'[^']*'|[^\s#"'\[{][^:#]*?)\s*:(?:\s|$)|^\s*-(?:\s|$)|^(?:---|\.\.\.)\s*$"""
)
_PROMPT = lazy_re.compile(r"^\s*(?:\$|[\w.-]+@[\w.-]+:\S*[$#])\s+(\S.*)")  # `$ docker build`, `root@host:/src# cat x`
_KIND = lazy_re.compile(r"^kind:\s*([A-Za-z][\w.-]*)\s*$")


def other_format(path: str, lines: list[str], directives: dict[str, Value]) -> tuple[str, Diagnostic] | None:
    """(format, note) when the text is not a Dockerfile but YAML (a manifest, a build spec for another
    frontend) or a pasted shell session: Docker stops at its first line, and reading it as instructions
    gives an error per line."""
    meaningful = [(n, line) for n, line in enumerate(lines) if line.strip() and not line.lstrip().startswith("#")]
    if not meaningful:
        return None
    first_line, first = meaningful[0]
    match = _INSTRUCTION.match(first.lstrip("\ufeff"))
    if match is not None and match[2].upper() in KEYWORDS:
        return None
    prompt = next(((n, line) for n, line in meaningful if _PROMPT.match(line)), None)
    head = [line for n, line in meaningful if prompt is None or n < prompt[0]]
    if _YAML_LINE.match(first) and 2 * sum(1 for line in head if _YAML_LINE.match(line)) >= len(head):
        kind = next((m[1] for line in head if (m := _KIND.match(line))), None)
        what, format_ = f"YAML{f' (a {kind})' if kind else ''}", "YAML"
        if prompt is not None:
            what += f", then a pasted shell session (a {_command(prompt[1])} command on line {prompt[0] + 1})"
    elif prompt is not None and prompt[0] == first_line:
        what = format_ = "a pasted shell session"
        what += f" (a {_command(first)} command on line {first_line + 1})"
    else:
        return None
    syntax = directives.get("syntax")
    other = syntax is not None and not re.search(r"(?:^|/)dockerfile(?:-upstream)?(?::|@|$)", syntax.text)
    if syntax is not None and other:
        after = f"; its `# syntax=` line (line {syntax.span.line}) hands it to the build frontend {syntax.text}"
    else:
        after = f"; Docker stops at line {first_line + 1}"
    start = len(first) - len(first.lstrip()) + 1
    word = first.split()[0]
    return format_, Diagnostic(
        "ML001",
        Span(path, first_line + 1, start, first_line + 1, start + len(word)),
        f"not a Dockerfile: it reads as {what}{after}",
        None if other else "keep only the Dockerfile's instructions in it, or rename it",
        severity="note",
    )


def lex(path: str, text: str, diagnostics: list[Diagnostic]) -> tuple[list[Instruction], dict[str, Value]]:
    lines = source_lines(text)
    directives: dict[str, Value] = {}
    i = 0
    while i < len(lines):
        match = _DIRECTIVE.match(lines[i].lstrip("\ufeff"))
        if match is None or match[1].lower() in directives:
            break
        col = lines[i].index(match[2]) + 1 if match[2] else len(lines[i]) + 1
        directives[match[1].lower()] = Value(match[2], Span(path, i + 1, col, i + 1, col + len(match[2])))
        i += 1
    escape = directives["escape"].text if "escape" in directives and directives["escape"].text in ("`", "\\") else "\\"
    out: list[Instruction] = []
    while i < len(lines):
        line = lines[i].lstrip("\ufeff") if i == 0 else lines[i]
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            i += 1
            continue
        match = _INSTRUCTION.match(line)
        keyword = match[2].upper() if match else ""
        if keyword not in KEYWORDS:
            word = stripped.split()[0]
            col = line.index(word) + 1
            diagnostics.append(
                _lost_escape(path, lines, i, out, escape)
                or Diagnostic(
                    "ML001",
                    Span(path, i + 1, col, i + 1, col + len(word)),
                    f"unknown instruction {word!r}; Docker refuses to build this file",
                )
            )
            i = _skip_continuation(lines, i, escape)
            continue
        assert match is not None
        kw_col = len(match[1]) + 1
        start = i
        pieces = [(0, i + 1, match.end() + 1)]
        logical = ""
        current = line[match.end() :]
        while True:
            body = current.rstrip()
            if body.endswith(escape):
                logical += body[:-1]
                i += 1
                while i < len(lines) and (not lines[i].strip() or lines[i].lstrip().startswith("#")):
                    i += 1
                if i >= len(lines):
                    break
                pieces.append((len(logical), i + 1, 1))
                current = lines[i]
            else:
                logical += current
                i += 1
                break
        end_line = min(i, len(lines))
        inst = Instruction(
            keyword=keyword,
            span=Span(path, start + 1, kw_col, end_line, len(lines[end_line - 1]) + 1),
            keyword_span=Span(path, start + 1, kw_col, start + 1, kw_col + len(keyword)),
            args=logical,
            pieces=pieces,
        )
        if keyword in ("RUN", "COPY", "ADD") and "<<" in logical:
            i = _heredocs(path, lines, i, inst, diagnostics)
            if not inst.heredocs:
                i = _spaced_heredoc(lines, i, inst, diagnostics)
        _flags(inst)
        out.append(inst)
        inner = _onbuild_run(inst) if keyword == "ONBUILD" else None
        if inner is not None:  # checked as the RUN it is, at its own position, in every child build
            _flags(inner)
            out.append(inner)
    return out, directives


_ONBUILD_RUN = lazy_re.compile(r"\s*(RUN)\s+", re.I)


def _onbuild_run(outer: Instruction) -> Instruction | None:
    """The RUN an `ONBUILD RUN ...` holds, with its own keyword span and arguments mapped to their columns."""
    match = _ONBUILD_RUN.match(outer.args)
    if match is None:
        return None
    cut = match.end()
    first_line, first_column = outer.pieces[0][1], outer.pieces[0][2]
    pieces = [(0, first_line, first_column + cut)]
    pieces += [(offset - cut, line, column) for offset, line, column in outer.pieces[1:] if offset >= cut]
    keyword_column = first_column + match.start(1)
    return Instruction(
        keyword="RUN",
        span=outer.span,
        keyword_span=Span(outer.span.path, first_line, keyword_column, first_line, keyword_column + 3),
        args=outer.args[cut:],
        pieces=pieces,
        onbuild=True,
    )


def _command(line: str) -> str:
    """The command of a prompt line as messages quote it: its program, and its subcommand when it has one
    (`docker build`, `cat`); never its other arguments, which may hold a password or a token."""
    match = _PROMPT.match(line)
    words = (match[1] if match else line).split()
    shown = words[:2] if len(words) > 1 and re.fullmatch(r"[a-z][a-z0-9-]*", words[1]) else words[:1]
    return f"`{' '.join(shown)}`"


def _lost_escape(path: str, lines: list[str], i: int, out: list[Instruction], escape: str) -> Diagnostic | None:
    """An indented shell line (`    && pip install x`) right after a RUN that ended: the line above lost
    its continuation escape, and that line is where the error is."""
    line = lines[i]
    if not out or out[-1].keyword != "RUN" or out[-1].heredocs or not re.match(r"^(?:\s+\S|&&|\|\||;)", line):
        return None
    above = out[-1].span.end_line - 1
    if any(lines[j].strip() and not lines[j].lstrip().startswith("#") for j in range(above + 1, i)):
        return None
    last = lines[above].rstrip()
    word = last.split()[-1]
    col = len(last) - len(word) + 1
    return Diagnostic(
        "ML001",
        Span(path, above + 1, col, above + 1, col + len(word)),
        f"line {above + 1} ends the RUN instruction without `{escape}`, so Docker reads line {i + 1} "
        f"as an instruction of its own, {line.split()[0]!r}, and refuses to build this file",
        f"end line {above + 1} with ` {escape}`",
    )


def _skip_continuation(lines: list[str], i: int, escape: str) -> int:
    while i < len(lines) and lines[i].rstrip().endswith(escape):
        i += 1
    return i + 1


def _heredocs(path: str, lines: list[str], i: int, inst: Instruction, diagnostics: list[Diagnostic]) -> int:
    for match in _HEREDOC.finditer(inst.args):
        strip_tabs, delimiter = match[1] == "-", match[3]
        body_start = i
        while i < len(lines):
            candidate = lines[i].lstrip("\t") if strip_tabs else lines[i]
            if candidate == delimiter:
                break
            i += 1
        if i >= len(lines):
            diagnostics.append(
                Diagnostic(
                    "ML001",
                    inst.span_of(match.start(), match.end()),
                    f"heredoc <<{delimiter} is never terminated; Docker reads to the end of the file",
                )
            )
            body_span = (
                Span(path, body_start + 1, 1, len(lines), len(lines[-1]) + 1)
                if body_start < len(lines)
                else inst.span_of(match.start(), match.end())
            )
            inst.heredocs.append((delimiter, "\n".join(lines[body_start:]), body_span))
            return i
        body = "\n".join(lines[body_start:i])  # `<<-` tabs kept: offsets stay columns; shells skip them
        inst.heredocs.append((delimiter, body, Span(path, body_start + 1, 1, i + 1, len(lines[i]) + 1)))
        inst.span = inst.span._replace(end_line=i + 1, end_column=len(lines[i]) + 1)
        i += 1
    return i


def _spaced_heredoc(lines: list[str], i: int, inst: Instruction, diagnostics: list[Diagnostic]) -> int:
    """`RUN cat > f << 'EOF'`: a shell reads a heredoc, Docker does not (its heredoc word is `<<EOF`, with
    no space), so every line up to EOF is an instruction to it and the build fails. One error at the
    `<<`, and the lines up to the delimiter are passed over instead of reported one by one."""
    match = _SPACED_HEREDOC.search(inst.args)
    if match is None:
        return i
    delimiter = match[2]
    end = next((j for j in range(i, len(lines)) if lines[j].strip() == delimiter), None)
    if end is None:
        return i
    diagnostics.append(
        Diagnostic(
            "ML001",
            inst.span_of(match.start(), match.end()),
            f"Docker reads a heredoc only when the delimiter follows << directly "
            f"(<<{match[1]}{delimiter}{match[1]}); with the space, lines {i + 1}-{end + 1} are "
            "read as instructions and the build fails",
            f"write <<{match[1]}{delimiter}{match[1]} without the space (BuildKit heredocs, "
            "`# syntax=docker/dockerfile:1`), or COPY the script as a file",
        )
    )
    return end + 1


def _flags(inst: Instruction) -> None:
    pos = 0
    args = inst.args
    while True:
        while pos < len(args) and args[pos] in " \t":
            pos += 1
        match = _FLAG.match(args, pos)
        if match is None or (pos < len(args) and not args.startswith("--", pos)):
            break
        whole = inst.span_of(match.start(), match.end())
        value = inst.span_of(match.start(2), match.end(2)) if match[2] else whole
        inst.flags[match[1].lower()] = Value(match[2] or "", value, key_span=whole)
        pos = match.end()
    inst.args_offset = pos


def substitute(text: str, variables: dict[str, str | None]) -> tuple[str, bool]:
    """Apply Dockerfile variable substitution; the flag says whether every variable resolved."""
    complete = True

    def repl(match: re.Match[str]) -> str:
        nonlocal complete
        name = match[1] or match[4]
        value = variables.get(name)
        if match[2] in (":-", "-"):
            return value if value else match[3]
        if match[2] in (":+", "+"):
            return match[3] if value else ""
        if value is None:
            complete = False
            return match[0]
        return value

    return _VAR.sub(repl, text), complete


def unquote(value: str) -> str:
    return value[1:-1] if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'" else value


def build(
    path: str, instructions: list[Instruction], directives: dict[str, Value], diagnostics: list[Diagnostic]
) -> ImageBuild:
    global_args: dict[str, str | None] = {}
    stages: list[Stage] = []
    aliases: dict[str, int] = {}
    for inst in instructions:
        if inst.keyword == "ARG" and not stages:
            for match in _ARG_ITEM.finditer(inst.args):
                default = unquote(match[2]) if match[2] is not None else None
                global_args[match[1]] = substitute(default, global_args)[0] if default is not None else None
        elif inst.keyword == "FROM":
            stage = _stage(inst, len(stages), global_args, aliases, diagnostics)
            if stage is not None:
                stages.append(stage)
                if stage.alias is not None:
                    aliases.setdefault(stage.alias.text.lower(), stage.index)
        elif not stages:
            diagnostics.append(
                Diagnostic("ML001", inst.keyword_span, f"{inst.keyword} before the first FROM; only ARG may come first")
            )
        else:
            stages[-1].instructions.append(inst)
    return ImageBuild(path=path, stages=stages, global_args=global_args, directives=directives)


def _stage(
    inst: Instruction,
    index: int,
    global_args: dict[str, str | None],
    aliases: dict[str, int],
    diagnostics: list[Diagnostic],
) -> Stage | None:
    words = [(m.start(), m.end(), m[0]) for m in re.finditer(r"\S+", inst.args[inst.args_offset :])]
    words = [(s + inst.args_offset, e + inst.args_offset, w) for s, e, w in words]
    if not words:
        diagnostics.append(Diagnostic("ML001", inst.keyword_span, "FROM names no image"))
        return None
    start, end, raw = words[0]
    resolved, _complete = substitute(raw, global_args)  # unresolved variables stay, and mark it templated
    image = parse_image(raw, inst.span_of(start, end), resolved)
    alias = None
    if len(words) >= 3 and words[1][2].upper() == "AS":
        a_start, a_end, a_text = words[2]
        alias = Value(a_text, inst.span_of(a_start, a_end))
    elif len(words) >= 2:
        diagnostics.append(
            Diagnostic(
                "ML001",
                inst.span_of(words[1][0], words[-1][1]),
                "FROM takes an image and an optional `AS name`; the rest is not understood",
            )
        )
    base_stage = aliases.get(resolved.lower())
    return Stage(index=index, base=image, alias=alias, instructions=[], span=inst.span, base_stage=base_stage)
