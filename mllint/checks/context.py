"""What a rule receives besides its target."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import field

from mllint.cuda.targets import CudaConfig
from mllint.gpus import gpu_names as gpu_names  # re-exported: rules take it with Ctx
from mllint.model import Container, K8sObject, SourceFile, Span, Value, Workload
from mllint.project_index import ProjectIndex
from mllint.records import record
from mllint.registry import Params
from mllint.shell import Word, commands

TRUE = frozenset({"1", "true", "yes", "on"})  # how environment variables say yes


@record(slots=True)
class Ctx:
    params: Params
    file: SourceFile
    index: ProjectIndex = field(default_factory=ProjectIndex)
    workload: Workload | None = None
    gpu_resources: tuple[str, ...] = ()  # what counts as a GPU (`mllint.gpus`, the configuration's gpu-resources)
    cuda: CudaConfig = field(default_factory=CudaConfig)  # the cluster profile and image → CUDA mappings

    @property
    def compose(self) -> bool:
        return self.workload is not None and self.workload.format == "compose"


@record(slots=True)
class ProjectCtx:
    """What a Project rule receives besides the project's facts."""

    params: Params
    gpu_resources: tuple[str, ...] = ()
    cuda: CudaConfig = field(default_factory=CudaConfig)


@record(slots=True)
class HostCtx:
    """What a Host rule (live mode) receives besides the host's facts."""

    params: Params


def same_object(target: K8sObject | Workload, file: SourceFile) -> list[Workload]:
    """The workloads read from the object `target` is (or comes from): a PyTorchJob's Master and Worker."""
    obj = target if isinstance(target, K8sObject) else target.k8s_object
    return [w for w in file.workloads if obj is not None and w.k8s_object is obj]


def who(container: Container, ctx: Ctx) -> str:
    """How messages name a container: Compose users think in services."""
    return f"{'service' if ctx.compose else 'container'} {container.name!r}"


def span_in_value(value: Value, start: int, end: int, lines: list[str]) -> Span:
    """The span of value.text[start:end] in the source: exact for plain and quoted one-line scalars and
    for block scalars (found on the lines the value spans); the value's own span when it cannot be
    placed (escapes, folded lines)."""
    needle = value.text[start:end]
    first = value.span.line
    for number in range(first, min(len(lines), first + value.text.count("\n") + 2) + 1):
        line = lines[number - 1]
        column = line.find(needle, value.span.column - 1 if number == first else 0)
        if column >= 0 and needle:
            return Span(value.span.path, number, column + 1, number, column + 1 + len(needle))
    return value.span


Locate = Callable[[Word], Span]


def command_words(container: Container, ctx: Ctx) -> Iterator[tuple[list[Word], Locate]]:
    """A container's command line as shell words, each with a way to its span: the command and args list
    itself (one value, one word), then each value with spaces read as a script (`sh -c "..."`, a Compose
    string command)."""
    values = [*container.command, *container.args]
    lines: list[str] = []

    def locate_in(value: Value) -> Locate:
        def locate(word: Word) -> Span:
            if not lines:
                lines.extend(ctx.file.lines())  # split the file only when a word is placed
            return span_in_value(value, word[1], word[2], lines)

        return locate

    if len(values) > 1:
        yield [(v.text, i, i) for i, v in enumerate(values)], (lambda w: values[w[1]].span)
    for value in values:
        if len(values) == 1 or " " in value.text:
            for words in commands(value.text):
                yield words, locate_in(value)
