"""What a Dockerfile's image serves (ML409): the model server its final stage starts, and whether it declares
a HEALTHCHECK. Which containers of a workload are model servers is `mllint.roles`."""

from __future__ import annotations

from mllint.model import ImageBuild, Span, Stage
from mllint.roles import SERVER_COMMAND
from mllint.runs import start_commands
from mllint.stages import chain

# Programs that take a path or a word as their argument and never run it
_RUNS_NOTHING = frozenset(
    {"ldconfig", "echo", "printf", "cat", "ls", "test", "[", "chmod", "chown", "mkdir", "touch", "which", "stat"}
)


def server_start(build: ImageBuild, stage: Stage) -> tuple[str, Span] | None:
    """The model server the stage starts (its CMD or ENTRYPOINT, or the nearest stage's it builds FROM): a known
    server's program or module (`vllm serve`, `tritonserver`, `text-generation-launcher`), never a generic web
    server such as uvicorn, which starts model servers and web apps alike."""
    for current in chain(build, stage):
        started = start_commands(current)
        if not started:
            continue
        # one line of text, ENTRYPOINT's words then CMD's, so that `vllm serve` and `ollama` + `serve` match
        text, starts = "", []
        for command in started:
            if command.program()[0].rsplit("/", 1)[-1] in _RUNS_NOTHING:
                continue  # `CMD ["ldconfig", "/app/bin/text-generation-launcher"]` names a server, runs none
            for word in command.words:
                starts.append((len(text), command, word))
                text += word[0] + " "
        match = SERVER_COMMAND.search(text)
        if match is None:
            return None
        _start, command, word = max((s for s in starts if s[0] <= match.start()), key=lambda s: s[0])
        return " ".join(match[0].split()), command.span(word)
    return None


def healthcheck(build: ImageBuild, stage: Stage) -> bool:
    """Whether the stage's last HEALTHCHECK (or, without one, the nearest base stage's) is other than NONE."""
    for current in chain(build, stage):
        for ins in reversed(current.instructions):
            if ins.keyword == "HEALTHCHECK":
                return ins.args[ins.args_offset :].strip().upper() != "NONE"
    return False
