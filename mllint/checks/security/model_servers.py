"""ML709: a model server whose own authentication is switched off. TorchServe enforces token authorization by
default and documents three ways to turn it off (pytorch.org/serve/token_authorization_api.html): the
environment variable TS_DISABLE_TOKEN_AUTHORIZATION=true, the command-line flag --disable-token-auth, and
`disable_token_authorization=true` in config.properties."""

from __future__ import annotations

from collections.abc import Iterator

from mllint.checks.context import Ctx, command_words, who
from mllint.model import Container, Finding, Stage
from mllint.registry import rule
from mllint.runs import run_commands, start_commands
from mllint.stages import env_pairs

_ENV = "TS_DISABLE_TOKEN_AUTHORIZATION"
_FLAG = "--disable-token-auth"
_PROPERTY = "disable_token_authorization=true"
_WHY = "anyone who reaches its inference and management ports can call every API, model registration included"
_FIX = "remove it and pass the token from the key file TorchServe writes (or put an authenticating proxy in front)"


@rule("ML709")
def model_server_auth_disabled(target: Stage | Container, ctx: Ctx) -> Iterator[Finding]:
    if isinstance(target, Stage):
        yield from _stage(target, ctx)
        return
    for env in target.env:
        if env.name == _ENV and (env.value or "").strip().lower() == "true":
            yield Finding.at(
                env.span,
                f"{who(target, ctx)} sets {_ENV}=true: TorchServe's token authorization is off; {_WHY}",
                fix=_FIX,
            )
    for words, locate in command_words(target, ctx):
        for word in words:
            if word[0] == _FLAG:
                yield Finding.at(locate(word), f"{who(target, ctx)} starts TorchServe with {_FLAG}: {_WHY}", fix=_FIX)


def _stage(stage: Stage, ctx: Ctx) -> Iterator[Finding]:
    build = ctx.file.build
    if build is None or stage is not build.final_stage:
        return
    for ins in stage.instructions:
        if ins.keyword == "ENV":
            for name, value, start, end in env_pairs(ins):
                if name == _ENV and value.strip().strip("\"'").lower() == "true":
                    yield Finding.at(
                        ins.span_of(start, end),
                        f"the image sets {_ENV}=true: TorchServe's token authorization is off; {_WHY}",
                        fix=_FIX,
                    )
        elif ins.keyword == "RUN" and _PROPERTY in ins.args.replace(" ", ""):
            for command in run_commands(ins):
                for word in command.words:
                    if _PROPERTY in word[0].replace(" ", ""):
                        yield Finding.at(
                            command.span(word),
                            f"the image writes {_PROPERTY} into TorchServe's config.properties: {_WHY}",
                            fix=_FIX,
                        )
    for command in start_commands(stage):
        for word in command.words:
            if word[0] == _FLAG:
                yield Finding.at(command.span(word), f"the image starts TorchServe with {_FLAG}: {_WHY}", fix=_FIX)
