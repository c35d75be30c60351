"""ML307–ML309: sources fetched at build or start time without a fixed version: git clones, URL downloads
without a checksum, and models or datasets from the Hugging Face Hub without a revision."""

from __future__ import annotations

import ast
import os
import re
from collections.abc import Callable, Iterator

from mllint.checks.context import Ctx, command_words
from mllint.model import Container, Finding, Instruction, Span, Stage
from mllint.packages import HEX_COMMIT, fixed_ref, mask_credentials
from mllint.registry import rule
from mllint.runs import Command, piped, python_sources, run_commands, stage_commands, start_commands

_GIT_VALUE_FLAGS = frozenset(
    "-b --branch --depth -o --origin -c --config --reference --separate-git-dir --filter "
    "-j --jobs -u --upload-pack --template --shallow-since --shallow-exclude".split()
)
_HF_HOST = re.compile(r"^(?:https?://)?(?:www\.)?(?:huggingface\.co|hf\.co)/", re.I)
_VERIFIERS = frozenset(
    {
        "sha256sum",
        "sha512sum",
        "sha384sum",
        "sha224sum",
        "sha1sum",
        "shasum",
        "md5sum",
        "b2sum",
        "cksum",
        "gpg",
        "gpgv",
        "cosign",
        "minisign",
        "openssl",
        "rpm",
        "dpkg-sig",
    }
)
_KEY_URL = re.compile(r"(?:\.(?:asc|sig|gpg|pub|key|pem|sha256|sha512|md5)$|gpgkey|/keys?/|keyring|apt-key)", re.I)
_UNPACKERS = frozenset({"tar", "unzip", "gunzip", "bsdtar", "xz", "zstd", "bunzip2", "funzip", "7z", "dpkg", "rpm"})
_SHELL_NAMES = frozenset({"sh", "bash", "zsh", "ash", "dash", "python", "python3", "perl", "ruby", "sudo"})
_HUB_CALLS = frozenset({"snapshot_download", "hf_hub_download", "from_pretrained", "load_dataset"})


def _is_fixed(ref: str) -> bool:
    return fixed_ref(ref) or "$" in ref  # a $VARIABLE is set by ARG, for each build to choose


def _clone(command: Command) -> tuple[tuple[str, int, int], str | None] | None:
    """(URL word, `--branch` value or None) of a `git clone` / `git lfs clone`. git reads options after
    the URL too (`git clone URL -b v1.2 dir`)."""
    names = command.names
    name, at = command.program()
    if name != "git" or "clone" not in names[at + 1 : at + 4]:
        return None
    i = names.index("clone", at + 1) + 1
    url = branch = None
    while i < len(command.words):
        word = command.texts[i]
        if word.startswith("-"):
            flag, eq, value = word.partition("=")
            if flag in ("-b", "--branch"):
                branch = value if eq else (command.texts[i + 1] if i + 1 < len(command.words) else None)
            i += 2 if (flag in _GIT_VALUE_FLAGS and not eq) else 1
            continue
        if url is None:
            if not re.search(r"://|^git@|^[\w.-]+@[\w.-]+:|/", word):
                return None
            url = command.words[i]
        i += 1
    return (url, branch) if url is not None else None


def _checkout_ref(command: Command) -> str | None:
    """The ref a `git checkout|switch|reset --hard|-C dir checkout` moves to."""
    name, at = command.program()
    if name != "git":
        return None
    rest = command.texts[at + 1 :]
    while rest[:1] == ["-C"] or (rest and rest[0].startswith("-c")):
        rest = rest[2:] if rest[0] in ("-C", "-c") else rest[1:]
    if not rest or rest[0] not in ("checkout", "switch", "reset"):
        return None
    refs: list[str] = []
    words = iter(rest[1:])
    for word in words:
        if word == "--":
            break  # paths follow
        if word in ("-b", "-B", "-c", "-C", "--orphan"):
            next(words, None)  # the new branch's name; the ref it starts at, if any, follows
        elif not word.startswith("-"):
            refs.append(word)
    refs = [r for r in refs if r not in (".", "./")]  # `git checkout .` restores files, it moves to no ref
    return refs[0] if refs else None


def _later_checkouts(found: list[Command], index: int) -> list[str]:
    """The refs checked out after clone `index`, up to the next clone."""
    out = []
    for command in found[index + 1 :]:
        if _clone(command) is not None:
            break
        ref = _checkout_ref(command)
        if ref is not None:
            out.append(ref)
    return out


@rule("ML307")
def git_clone_unpinned(stage: Stage, ctx: Ctx) -> Iterator[Finding]:
    all_commands = list(stage_commands(stage))
    for index, command in enumerate(all_commands):
        clone = _clone(command)
        if clone is None:
            continue
        url, branch = clone
        if _HF_HOST.match(url[0]):
            continue  # a model repository: ML309
        later = _later_checkouts(all_commands, index)
        if any(_is_fixed(ref) for ref in later) or (branch is not None and _is_fixed(branch)):
            continue
        moving = branch or (later[0] if later else None)
        repo = mask_credentials(url[0])
        if moving is not None:
            yield Finding.at(
                command.span(url),
                f"git clone of {repo} follows branch {moving!r}; the build gets whatever it holds that day",
                fix="clone a release tag (--branch v1.2.3) or check out a commit after the clone",
                severity="note",
            )
        else:
            yield Finding.at(
                command.span(url),
                f"git clone of {repo} takes the default branch as it is on the day of the build",
                fix="add --branch <release tag>, or `git checkout <commit>` after the clone",
            )


def _downloads(command: Command, next_command: Command | None) -> tuple[str, int, int] | None:
    """The URL word when `command` is a curl or wget that saves a file (not a call to an API)."""
    name, at = command.program()
    if name not in ("curl", "wget"):
        return None
    url = next((w for w in command.words[at + 1 :] if re.match(r"^(?:https?|ftp)://", w[0])), None)
    if url is None or _KEY_URL.search(url[0]):
        return None
    flags = [w for w in command.texts[at + 1 :] if w.startswith("-")]
    if next_command is not None:
        into = next_command.program()[0]
        return url if into in _UNPACKERS else None  # `| sh` is ML708's; `| gpg --dearmor` imports a key
    if name == "wget":
        return None if "--spider" in flags else url
    saves = any(
        f in ("--output", "--remote-name", "--remote-name-all", "-O", "-o")
        or (not f.startswith("--") and re.search(r"[oO]", f))
        for f in flags
    )
    redirected = any(w.startswith(">") for w in command.texts)
    return url if saves or redirected else None


@rule("ML308")
def download_without_checksum(stage: Stage, ctx: Ctx) -> Iterator[Finding]:
    for ins in stage.instructions:
        if ins.keyword == "ADD":
            yield from _add(ins)
        elif ins.keyword == "RUN":
            found = list(run_commands(ins))
            if any(c.program()[0] in _VERIFIERS for c in found) or any("checksum" in w for c in found for w in c.texts):
                continue
            for index, command in enumerate(found):
                url = _downloads(command, found[index + 1] if piped(found, index) else None)
                if url is None or _keyring_output(command):
                    continue
                yield Finding.at(
                    command.span(url),
                    f"{command.program()[0]} downloads {mask_credentials(url[0])} and nothing checks what arrived",
                    fix='verify it in the same RUN: echo "<sha256>  file" | sha256sum -c -',
                    severity="note",
                )


def _keyring_output(command: Command) -> bool:
    return any(re.search(r"keyring|trusted\.gpg|\.gpg$|\.asc$", w) for w in command.texts)


def _add(ins: Instruction) -> Iterator[Finding]:
    if "checksum" in ins.flags:
        return
    text = ins.args[ins.args_offset :]
    for match in re.finditer(r"\S+", text):
        source = match[0].strip("\"'[],")
        if not re.match(r"^https?://", source):
            continue
        if re.search(r"\.git(?:#|$)", source):
            ref = source.split("#", 1)[1] if "#" in source else ""
            if _is_fixed(ref.split(":")[0]):
                continue
        elif _KEY_URL.search(source):
            continue
        span = ins.span_of(ins.args_offset + match.start(), ins.args_offset + match.end())
        yield Finding.at(
            span,
            f"ADD downloads {mask_credentials(source)} without --checksum: a changed or tampered file "
            "goes into the image unnoticed",
            fix="add --checksum=sha256:<digest> (BuildKit, Dockerfile 1.6+), or pin a git URL to a tag "
            "or commit (#v1.2.3)",
        )


# -- ML309 ----------------------------------------------------------------------------------------------------------


@rule("ML309")
def model_download_without_revision(target: Stage | Container, ctx: Ctx) -> Iterator[Finding]:
    if isinstance(target, Container):
        yield from _container_downloads(target, ctx)
        return
    found = list(stage_commands(target)) + start_commands(target)
    for index, command in enumerate(found):
        yield from _cli_download(command.words, command.span)
        clone = _clone(command)
        if clone is not None and _HF_HOST.match(clone[0][0]):
            later = _later_checkouts(found, index)
            if not any(HEX_COMMIT.match(r) or "$" in r for r in later):
                yield Finding.at(
                    command.span(clone[0]),
                    f"git clone of the Hub repository {clone[0][0]} takes its main branch: the model "
                    "files change whenever the repository is updated",
                    fix="check out a commit after the clone (git checkout <sha>), or use "
                    "`hf download <repo> --revision <sha>`",
                )
    for code, locate in python_sources(target):
        yield from _python_calls(code, locate)


def _cli_download(words: list[tuple[str, int, int]], span: Callable[[tuple[str, int, int]], Span]) -> Iterator[Finding]:
    names = [w.rsplit("/", 1)[-1] for w, _s, _e in words]
    for i, name in enumerate(names[:-1]):
        if name in ("huggingface-cli", "hf") and names[i + 1] == "download":
            rest = [w for w, _s, _e in words[i + 2 :]]
            if any(w == "--revision" or w.startswith("--revision=") for w in rest):
                return
            repo = _first_positional(words[i + 2 :])
            if repo is None or repo[0].startswith(("/", ".")) or "$" in repo[0]:
                return
            yield Finding.at(
                span(repo),
                f"{name} download {repo[0]} has no --revision: it fetches the repository's "
                "main branch, so the model can change under the same image",
                fix=f"add --revision <commit sha> ({name} download {repo[0]} --revision <sha>)",
            )
            return


_HF_VALUE_FLAGS = frozenset(
    "--local-dir --cache-dir --repo-type --token --max-workers --include --exclude "
    "--local-dir-use-symlinks --etag-timeout".split()
)


def _first_positional(words: list[tuple[str, int, int]]) -> tuple[str, int, int] | None:
    i = 0
    while i < len(words):
        if words[i][0].startswith("-"):
            i += 1 if "=" in words[i][0] or words[i][0] not in _HF_VALUE_FLAGS else 2
            continue
        return words[i]
    return None


def _python_calls(code: str, locate: Callable[[int, int], Span]) -> Iterator[Finding]:
    try:
        tree = ast.parse(code)
    except (SyntaxError, ValueError):
        return
    starts = [0]
    for line in code.split("\n"):
        starts.append(starts[-1] + len(line) + 1)
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
        if name not in _HUB_CALLS or any(k.arg in ("revision", None) for k in node.keywords):
            continue
        first = (
            node.args[0]
            if node.args
            else next(
                (k.value for k in node.keywords if k.arg in ("repo_id", "pretrained_model_name_or_path", "path")), None
            )
        )
        if (
            not isinstance(first, ast.Constant)
            or not isinstance(first.value, str)
            or first.value.startswith((".", "/", "~"))
            or ("/" not in first.value and name != "load_dataset")
        ):
            continue  # a local path, a variable, or a bare name we cannot tell from a local folder
        start = starts[first.lineno - 1] + first.col_offset
        end = starts[(first.end_lineno or first.lineno) - 1] + (first.end_col_offset or first.col_offset)
        yield Finding.at(
            locate(start, end),
            f"{name}({first.value!r}) has no revision=: it downloads the "
            "repository's main branch, so the model can change under the same image",
            fix=f'pass revision="<commit sha>" to {name}',
        )


def _container_downloads(container: Container, ctx: Ctx) -> Iterator[Finding]:
    downloads = any("download" in v.text for v in (*container.command, *container.args))
    revision = {e.name for e in container.env if e.value or e.from_ref} & _REVISION_ENV
    for words, locate in command_words(container, ctx):
        if downloads:
            yield from _cli_download(words, locate)
        yield from _served_model(words, locate, revision)
    yield from _served_model_env(container, revision)


# Model servers that pull a Hub model at start, by the option that names it; each takes --revision
_SERVER_MODEL_OPTIONS = {
    "--model": "vLLM",
    "--model-id": "TGI",
    "--model-path": "SGLang",
    "--model_id": "KServe Hugging Face",
}
_REVISION_OPTIONS = ("--revision", "--model_revision", "--model-revision")
_HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")  # org/name: not a path (/models/x, ./x), not a template
_REVISION_ENV = frozenset({"REVISION", "HF_REVISION", "MODEL_REVISION"})


def _served_model(
    words: list[tuple[str, int, int]], locate: Callable[[tuple[str, int, int]], Span], revision: set[str]
) -> Iterator[Finding]:
    """`vllm serve org/model`, `--model org/model`, `--model-id org/model`, `--model-path org/model` without a
    `--revision` among the same words (or a revision in the environment)."""
    texts = [w for w, _s, _e in words]
    if revision or any(t.split("=", 1)[0] in _REVISION_OPTIONS for t in texts):
        return
    for i, text in enumerate(texts):
        option, _, inline = text.partition("=")
        server = _SERVER_MODEL_OPTIONS.get(option)
        if server is not None:
            value = inline or (texts[i + 1] if i + 1 < len(texts) else "")
            word = words[i] if inline else (words[i + 1] if i + 1 < len(texts) else words[i])
        elif i >= 1 and texts[i - 1] == "serve" and i >= 2 and texts[i - 2].rsplit("/", 1)[-1] == "vllm":
            server, value, word = "vLLM", text, words[i]
        else:
            continue
        if _HUB_ID.match(value) and not os.path.isabs(value):
            yield Finding.at(
                locate(word),
                f"the {server} server pulls the Hub model {value} at start without a revision: the weights it serves "
                "change whenever the repository's main branch does, with no deploy",
                fix="add --revision <commit sha> (the Hub's Files tab shows it), or serve a copy from a volume",
            )


def _served_model_env(container: Container, revision: set[str]) -> Iterator[Finding]:
    """TGI's MODEL_ID in the environment without REVISION."""
    if revision:
        return
    for env in container.env:
        if env.name == "MODEL_ID" and env.value and _HUB_ID.match(env.value) and _mentions_tgi(container):
            yield Finding.at(
                env.span,
                f"TGI pulls the Hub model {env.value} at start without a revision (no REVISION): the weights it serves "
                "change whenever the repository's main branch does, with no deploy",
                fix="set REVISION to a commit sha, or serve a copy from a volume",
            )


def _mentions_tgi(container: Container) -> bool:
    image = container.image.resolved if container.image is not None else ""
    return "text-generation-inference" in image or any("text-generation-launcher" in v.text for v in container.command)
