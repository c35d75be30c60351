"""What serves a model: the servers mllint recognises in a command line or an image, the containers that
serve (ML501, ML502 and the project index), and the server a Dockerfile's final stage starts (ML409)."""

from __future__ import annotations

import re

from mllint.model import Container, ImageBuild, Span, Stage, Workload
from mllint.runs import start_commands
from mllint.sources.kinds import SERVING_KINDS
from mllint.stages import chain

SERVER = re.compile(  # model servers and the web servers that front them
    r"tritonserver|tensorflow_model_server|tensorflow/serving|model[-_]?serv|torchserve|vllm|text-generation-launcher|text-generation-inference|"
    r"uvicorn|gunicorn|mlflow|bentoml|(?<![\w-])serve\s+(?:run|deploy|start)\b|ray\s+serve|sglang|ollama|"
    r"llama[-_.]?cpp|infinity_emb|fastapi",
    re.I,
)


def runs_server(container: Container) -> bool:
    """The container's image, command or args name a known server."""
    words = " ".join(
        [
            container.image.resolved if container.image else "",
            *(v.text for v in container.command),
            *(v.text for v in container.args),
        ]
    )
    return bool(SERVER.search(words))


def is_model_server(workload: Workload | None, container: Container) -> bool:
    """A long-running serving container: a serving kind, not an init container, and it listens on a
    port or runs a known model server."""
    if workload is None or workload.format != "kubernetes" or workload.kind not in SERVING_KINDS or container.init:
        return False
    return bool(container.ports) or runs_server(container)


def server_start(build: ImageBuild, stage: Stage) -> tuple[str, Span] | None:
    """The model server the stage starts (its CMD or ENTRYPOINT, or the nearest stage's it builds FROM)."""
    for current in chain(build, stage):
        started = start_commands(current)
        if not started:
            continue
        for command in started:
            text, starts = "", []
            for word in command.words:  # one line of text, so that `ray serve` and `serve run` match
                starts.append(len(text))
                text += word[0] + " "
            match = SERVER.search(text)
            if match:
                at = max(i for i, start in enumerate(starts) if start <= match.start())
                return match[0].strip(), command.span(command.words[at])
        return None
    return None


def healthcheck(build: ImageBuild, stage: Stage) -> bool:
    """Whether the stage's last HEALTHCHECK (or, without one, the nearest base stage's) is other than NONE."""
    for current in chain(build, stage):
        for ins in reversed(current.instructions):
            if ins.keyword == "HEALTHCHECK":
                return ins.args[ins.args_offset :].strip().upper() != "NONE"
    return False
