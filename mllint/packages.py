"""What an install command installs, and how firmly each package is pinned: pip, `python -m pip`,
`uv pip`, `uv add`, `uv tool`, pipx; conda, mamba, micromamba; apt, aptitude, apk, dnf, yum, microdnf
(`module install` too), zypper.
Requirement strings are read with `packaging`, as pip reads them."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import field

from mllint import lazy_re
from mllint.model import Stage
from mllint.records import record
from mllint.runs import Command, run_commands
from mllint.shell import Word

# How a package is pinned, from firmest to loosest. `exact` and `local` are reproducible.
EXACT, RANGE, WILDCARD, BARE = "exact", "range", "wildcard", "bare"
VCS_PINNED, VCS_FLOATING, URL_PINNED, URL_FLOATING, LOCAL, VARIABLE = (
    "vcs-pinned",
    "vcs-floating",
    "url-pinned",
    "url-floating",
    "local",
    "variable",
)

_PIP_VALUE_FLAGS = frozenset(
    """
-r --requirement -c --constraint -e --editable -i --index-url --extra-index-url -f --find-links -t --target
--prefix --root --src --trusted-host --platform --python-version --implementation --abi --upgrade-strategy
--progress-bar --cache-dir --log --log-file --timeout --retries --proxy --cert --client-cert --exists-action
--use-feature --config-settings -C --global-option --install-option --no-binary --only-binary --python --report
--keyring-provider --root-user-action --index --default-index --index-strategy -p --extra --group --with
--constraints --overrides --override --resolution --prerelease --python-platform --link-mode -P
--upgrade-package --no-build-isolation-package --exclude-newer --torch-backend --build-constraint --pip-args
--suffix --spec --package --optional --dev-group --branch --tag --rev --script -w --directory --project
""".split()
)
_CONDA_VALUE_FLAGS = frozenset(
    "-c --channel -n --name -p --prefix -f --file --repodata-fn --platform -r --root-prefix"
    " --subdir --solver --override-channels-file".split()
)
_OS_VALUE_FLAGS = frozenset(
    "-o --option -t --target-release -c --config-file -X --repository --virtual --setopt "
    "--releasever --installroot --enablerepo --disablerepo --repo --repofrom -p --root "
    "--arch --keys-dir --repositories-file --cache-dir".split()
)
HEX_COMMIT = lazy_re.compile(r"^[0-9a-f]{7,40}$")
_VERSION_REF = lazy_re.compile(r"^v?\d+(?:\.\d+)+(?:[-.+]?[A-Za-z0-9.]*)?$")
_ARCHIVE_REF = lazy_re.compile(
    r"/(?:archive|tarball|zipball)/(?:refs/(?:tags|heads)/)?([^/]+?)(?:\.tar\.gz|\.zip|\.tgz)?$"
)
_WHEEL_OR_SDIST = lazy_re.compile(r"-\d+(?:\.\d+)+[^/]*\.(?:whl|tar\.gz|zip|tgz|tar\.bz2)$")
_CONDA_SPEC = lazy_re.compile(r"^(?:[\w.-]+::)?([A-Za-z0-9_.-]+)(?:\[[^\]]*\])?\s*(.*)$")


@record(frozen=True, slots=True)
class Package:
    name: str  # canonical name ('' for a URL or VCS install without #egg=)
    word: Word  # the package as written, with its offsets
    pin: str  # one of the constants above
    specifier: str = ""  # `>=2.0`, `==1.24.*`; the ref of a VCS install


@record(slots=True)
class Install:
    """One install command."""

    manager: str  # pip | pipx | conda | apt | apk | dnf | zypper
    tool: Word  # the word naming the tool (`pip3`, `uv`, `conda`, `apt-get`), where build findings point
    packages: list[Package] = field(default_factory=list)
    requirements: list[Word] = field(default_factory=list)  # -r FILE, and conda's -f/--file FILE
    constraints: list[Word] = field(default_factory=list)  # -c FILE
    flags: dict[str, Word] = field(default_factory=dict)  # every flag given, by name (`--no-cache-dir`)
    upgrade: Word | None = None  # -U / --upgrade
    environment_file: bool = False  # conda/mamba `env create -f` / micromamba `create -f`: `requirements` are env files
    module: bool = False  # `dnf module install`: the packages are module specs, `name[:stream][/profile]`

    @property
    def tool_name(self) -> str:
        """The installer's program name (`apt-get`, `uv`, `mamba`), without its folder."""
        return self.tool[0].rsplit("/", 1)[-1]


def run_installs(stage: Stage) -> Iterator[tuple[list[Command], Command, Install]]:
    """Every install command of the stage's RUN instructions, with all the commands of its RUN (one layer:
    where a cleanup must happen)."""
    for ins in stage.instructions:
        if ins.keyword != "RUN":
            continue
        found = list(run_commands(ins))
        for command in found:
            install = parse_install(command.words, command.program()[1])
            if install is not None:
                yield found, command, install


def stage_installs(stage: Stage) -> Iterator[tuple[Command, Install]]:
    """Every install command the stage's RUN instructions run."""
    for _found, command, install in run_installs(stage):
        yield command, install


def pip_tool(command: Command) -> str:
    """How messages name a pip installer: `pip3`, `python -m pip`, `uv pip`, `uv add`, `pipx`."""
    names = command.names
    at = command.program()[1]
    if names[at].startswith("python"):
        return f"{names[at]} -m pip"
    if names[at] == "uv":
        return "uv " + next((n for n in names[at + 1 :] if not n.startswith("-")), "")
    return names[at]


_FIXED_DATE = lazy_re.compile(r"^\d{4}-\d{2}-\d{2}(?:[T ][\d:.]+(?:Z|[+-]\d{2}:?\d{2})?)?$")


def constrained(install: Install, env: dict[str, str]) -> bool:
    """Versions fixed for the whole install: `-c constraints.txt`, PIP_CONSTRAINT / UV_CONSTRAINT, or uv's
    `--exclude-newer` / UV_EXCLUDE_NEWER at a fixed date (uv resolves what was published before it; a
    relative `"7 days"` moves with every build)."""
    if install.constraints or env.get("PIP_CONSTRAINT") or env.get("UV_CONSTRAINT"):
        return True
    if install.tool_name != "uv":
        return False
    flag = install.flags.get("--exclude-newer")
    date = flag[0] if flag is not None else env.get("UV_EXCLUDE_NEWER", "")
    return bool(_FIXED_DATE.match(date.strip("\"'")))


def parse_install(words: list[Word], at: int | None = None) -> Install | None:
    """The install that `words` (one simple command) runs, or None. `at`: the program's index, when known."""
    names = [w.rsplit("/", 1)[-1] for w, _s, _e in words]
    start = at if at is not None else 0
    for i in range(start, min(len(names), start + 4) if at is not None else len(names)):
        name = names[i]
        rest = names[i + 1 :]
        if re.fullmatch(r"pip\d?(?:\.\d+)?", name) and _first_command(rest, _PIP_VALUE_FLAGS) == "install":
            return _pip("pip", words, i, i + 1 + _command_index(rest, _PIP_VALUE_FLAGS))
        if (
            re.fullmatch(r"python\d?(?:\.\d+)?", name)
            and rest[:2] == ["-m", "pip"]
            and _first_command(rest[2:], _PIP_VALUE_FLAGS) == "install"
        ):
            return _pip("pip", words, i, i + 3 + _command_index(rest[2:], _PIP_VALUE_FLAGS))
        if name == "uv":
            sub = _first_command(rest, _PIP_VALUE_FLAGS)
            j = i + 1 + _command_index(rest, _PIP_VALUE_FLAGS)
            after = names[j + 1 :]
            if sub == "pip" and _first_command(after, _PIP_VALUE_FLAGS) == "install":
                return _pip("pip", words, i, j + 1 + _command_index(after, _PIP_VALUE_FLAGS))
            if sub == "add":
                return _pip("pip", words, i, j)
            if sub == "tool" and _first_command(after, _PIP_VALUE_FLAGS) == "install":
                return _pip("pipx", words, i, j + 1 + _command_index(after, _PIP_VALUE_FLAGS))
        if name == "pipx" and _first_command(rest, _PIP_VALUE_FLAGS) in ("install", "inject"):
            sub_at = i + 1 + _command_index(rest, _PIP_VALUE_FLAGS)
            install = _pip("pipx", words, i, sub_at)
            if names[sub_at] == "inject" and install.packages:
                install.packages.pop(0)  # `pipx inject VENV pkg...`: the first word names the venv
            return install
        if name in ("conda", "mamba", "micromamba"):
            return _conda(words, i, rest)
        sub = _first_command(rest, _OS_VALUE_FLAGS)  # `apt-get -o Acquire::Retries=5 install ...`
        sub_at = i + 1 + _command_index(rest, _OS_VALUE_FLAGS)
        if sub == "module" and name in _MODULE_TOOLS:  # `dnf module install nodejs:18/common`
            after = names[sub_at + 1 :]
            if _first_command(after, _OS_VALUE_FLAGS) == "install":
                return _os("dnf", words, i, sub_at + 1 + _command_index(after, _OS_VALUE_FLAGS), module=True)
        manager = _OS_INSTALL.get((name, sub))
        if manager is not None:
            return _os(manager, words, i, sub_at)
    return None


_MODULE_TOOLS = frozenset({"dnf", "yum", "microdnf"})


_OS_INSTALL = {
    ("apt-get", "install"): "apt",
    ("apt", "install"): "apt",
    ("aptitude", "install"): "apt",
    ("apk", "add"): "apk",
    ("dnf", "install"): "dnf",
    ("yum", "install"): "dnf",
    ("microdnf", "install"): "dnf",
    ("tdnf", "install"): "dnf",
    ("zypper", "install"): "zypper",
    ("zypper", "in"): "zypper",
}


def _command_index(rest: list[str], value_flags: frozenset[str] = frozenset()) -> int:
    """The index of the first word that is not a flag (nor the value of one of `value_flags`)."""
    k = 0
    while k < len(rest):
        if not rest[k].startswith("-"):
            return k
        k += 2 if rest[k] in value_flags else 1
    return len(rest)


def _first_command(rest: list[str], value_flags: frozenset[str] = frozenset()) -> str:
    """The first word that is not a flag: pip's subcommand after global options such as `-q`."""
    k = _command_index(rest, value_flags)
    return rest[k] if k < len(rest) else ""


def _arguments(words: list[Word], start: int, value_flags: frozenset[str], install: Install) -> list[Word]:
    """Positional words after `start`; flags go into `install.flags` (value flags with their value)."""
    out: list[Word] = []
    i = start
    while i < len(words):
        word = words[i]
        text = word[0]
        if text in (">", ">>", "2>", "<") or re.match(r"^\d?[<>]", text):
            i += 2 if text in (">", ">>", "2>", "<") else 1
            continue
        if text.startswith("-") and len(text) > 1:
            flag, eq, value = text.partition("=")
            given: Word | None = None
            if eq:
                given = (value, word[1] + len(flag) + 1, word[2])
            elif flag in value_flags and i + 1 < len(words):
                given = words[i + 1]
                i += 1
            elif (
                install.manager in ("pip", "pipx")
                and len(flag) > 2
                and flag[:2] in ("-r", "-c")
                and not flag.startswith("--")
            ):
                flag, given = flag[:2], (flag[2:], word[1] + 2, word[2])  # -rrequirements.txt
            install.flags[flag] = given or word
            if given is not None:
                _collect_file(flag, given, install)
            i += 1
            continue
        out.append(word)
        i += 1
    return out


def _collect_file(flag: str, value: Word, install: Install) -> None:
    if install.manager in ("pip", "pipx"):
        if flag in ("-r", "--requirement"):
            install.requirements.append(value)
        elif flag in ("-c", "--constraint", "--constraints", "--build-constraint"):
            install.constraints.append(value)
        elif flag in ("-e", "--editable"):
            install.packages.append(judge_pip(value))
    elif install.manager == "conda" and flag in ("-f", "--file"):
        install.requirements.append(value)


def _pip(manager: str, words: list[Word], tool: int, sub: int) -> Install:
    install = Install(manager, words[tool])
    _arguments(words[:sub], tool + 1, _PIP_VALUE_FLAGS, install)  # general options: `pip --no-cache-dir install`
    for word in _arguments(words, sub + 1, _PIP_VALUE_FLAGS, install):
        install.packages.append(judge_pip(word))
    install.upgrade = install.flags.get("-U") or install.flags.get("--upgrade")
    return install


_NAMED_VERSION_REF = lazy_re.compile(
    r"^(?!(?:release|rel|r|branch|stable|dev)[-_/])[A-Za-z][\w.-]*?[-_/]v?\d+\.\d+\.\d+(?:[-.+]?[A-Za-z0-9.]*)?$"
)


def fixed_ref(ref: str) -> bool:
    """A git ref that names one version: a commit hash or a version tag (`v1.2.3`, `1.2.3`, a package's
    release tag of a monorepo such as `google-cloud-pipeline-components-2.22.0`; not `release-23.02`,
    which projects use as branch names)."""
    return bool(HEX_COMMIT.match(ref) or _VERSION_REF.match(ref) or _NAMED_VERSION_REF.match(ref))


def mask_credentials(url: str) -> str:
    """A URL as messages show it: `https://user:token@host` becomes `https://***@host`."""
    return re.sub(r"//[^/@\s]+@", "//***@", url)


def canonicalize_name(name: str) -> str:
    """PEP 503's normal form, as `packaging.utils.canonicalize_name` computes it."""
    return re.sub(r"[-_.]+", "-", name).lower()


_NAMED_VARIABLE = lazy_re.compile(
    r"^([A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]$]*\])?\s*(?:===|==|~=|!=|<=|>=|<|>)\s*[$\w{]"
)


def judge_pip(word: Word) -> Package:
    """How firmly one pip argument (`torch==2.3.1`, `git+https://...@v1`, `./pkg`) is pinned."""
    from packaging.requirements import InvalidRequirement, Requirement  # only for files with pip installs

    text = word[0].strip()
    if "$" in re.sub(r"://[^/@\s]+@", "://", text) or "{{" in text:  # a variable outside the URL's credentials
        named = _NAMED_VARIABLE.match(text)  # `torch==${TORCH_VERSION}`: the version varies, the package is known
        return Package(canonicalize_name(named[1]) if named else "", word, VARIABLE)
    if _is_local(text):
        return Package("", word, LOCAL)
    vcs = re.match(r"^(?:([A-Za-z0-9_.-]+)(?:\[[^\]]*\])?\s*@\s*)?(git|hg|svn|bzr)\+", text)
    if vcs:
        return _vcs(text, word, vcs[1])
    named_url = re.match(r"^([A-Za-z0-9_.-]+)(?:\[[^\]]*\])?\s*@\s*(\S+://\S+)$", text)
    if "://" in text:
        url = named_url[2] if named_url else text
        name = canonicalize_name(named_url[1]) if named_url else ""
        return Package(name, word, URL_PINNED if _url_fixed(url) else URL_FLOATING)
    try:
        requirement = Requirement(text)
    except InvalidRequirement:
        return Package("", word, VARIABLE)
    name = canonicalize_name(requirement.name)
    specs = list(requirement.specifier)
    if not specs:
        return Package(name, word, BARE)
    if any(s.operator == "===" or (s.operator == "==" and not s.version.endswith(".*")) for s in specs):
        return Package(name, word, EXACT, str(requirement.specifier))
    if any(s.operator == "==" for s in specs):
        return Package(name, word, WILDCARD, str(requirement.specifier))
    return Package(name, word, RANGE, str(requirement.specifier))


def _is_local(text: str) -> bool:
    """A file or folder, not a name: `./pkg`, `/tmp/wheels/*.whl`, `x-2.35.0-py3-none-any.whl[all]`."""
    text = re.sub(r"\[[^\]]*\]$", "", text)  # extras after a path: `./dist/x.whl[all]`
    return (
        text.startswith((".", "/", "~", "file:"))
        or (text.endswith((".whl", ".tar.gz", ".zip")) and "://" not in text)
        or ("/" in text and "://" not in text and "@" not in text and "+" not in text)
    )


def _vcs(text: str, word: Word, named: str | None) -> Package:
    egg = re.search(r"#egg=([A-Za-z0-9_.-]+)", text)
    name = canonicalize_name(named or (egg[1] if egg else "") or _repo_name(text))
    location = text.split("#", 1)[0]
    path = location.split("://", 1)[-1]
    ref = path.rsplit("@", 1)[1] if "@" in path.split("/", 1)[-1] else ""
    if ref and (fixed_ref(ref)):
        return Package(name, word, VCS_PINNED, ref)
    return Package(name, word, VCS_FLOATING, ref)


def _repo_name(url: str) -> str:
    match = re.search(r"/([A-Za-z0-9_.-]+?)(?:\.git)?(?:@[^/]*)?(?:#.*)?$", url)
    return match[1] if match else ""


def _url_fixed(url: str) -> bool:
    """A URL install is fixed when it carries a hash or names one release's file."""
    if re.search(r"#(?:sha256|sha384|sha512|md5)=", url):
        return True
    path = url.split("#", 1)[0].split("?", 1)[0]
    archive = _ARCHIVE_REF.search(path)
    if archive and ("github.com" in path or "gitlab" in path):
        return bool(fixed_ref(archive[1]))
    return bool(_WHEEL_OR_SDIST.search(path))


def _conda(words: list[Word], tool: int, rest: list[str]) -> Install | None:
    sub = _first_command(rest, _CONDA_VALUE_FLAGS)
    sub_at = tool + 1 + _command_index(rest, _CONDA_VALUE_FLAGS)
    install = Install("conda", words[tool])
    if sub == "env" and _first_command([w.rsplit("/", 1)[-1] for w, _s, _e in words[sub_at + 1 :]]) in (
        "create",
        "update",
    ):
        install.environment_file = True
        sub_at += 1 + _command_index([w for w, _s, _e in words[sub_at + 1 :]])
    elif sub not in ("install", "create", "update"):
        return None
    positional = _arguments(words, sub_at + 1, _CONDA_VALUE_FLAGS, install)
    if sub in ("create", "install") and words[tool][0].rsplit("/", 1)[-1] == "micromamba":
        install.environment_file = any(re.search(r"\.ya?ml$", w) for w, _s, _e in install.requirements)
    if install.environment_file and not install.requirements:
        install.requirements.append(("environment.yml", words[sub_at][1], words[sub_at][2]))  # conda's default file
    for word in positional:
        install.packages.append(judge_conda(word))
    install.upgrade = None
    return install


def judge_conda(word: Word) -> Package:
    """`numpy`, `numpy=1.26.4`, `numpy>=1.26`, `pytorch::pytorch=2.3=*cuda*`, `"numpy 1.26.*"`."""
    text = word[0].strip()
    if "$" in text:
        return Package("", word, VARIABLE)
    if _is_local(text) or text.endswith((".tar.bz2", ".conda")):
        return Package("", word, LOCAL)
    match = _CONDA_SPEC.match(text)
    if match is None:
        return Package("", word, VARIABLE)
    name, spec = match[1].lower(), match[2].strip()
    if not spec:
        return Package(name, word, BARE)
    version = spec.lstrip("=").split("=", 1)[0].strip()
    if spec.startswith(("=", " ")) or re.match(r"^\d", spec):
        if "*" in version or "|" in version or "," in version:
            return Package(name, word, WILDCARD if "*" in version else RANGE, spec)
        if spec.startswith("==") or re.fullmatch(r"[\w.+!-]+", version):
            return Package(name, word, EXACT, spec)
    return Package(name, word, RANGE, spec)


def _os(manager: str, words: list[Word], tool: int, sub: int, module: bool = False) -> Install:
    install = Install(manager, words[tool], module=module)
    _arguments(words[:sub], tool + 1, _OS_VALUE_FLAGS, install)  # `apt-get --no-install-recommends -y install`
    aptitude = install.tool_name == "aptitude"
    for word in _arguments(words, sub + 1, _OS_VALUE_FLAGS, install):
        if aptitude and _APTITUDE_ACTION.search(word[0]):
            continue  # `pkg-` removes, `pkg_` purges, `pkg=` holds, `pkg:` keeps, `pkg&M` marks: nothing installed
        install.packages.append(judge_module(word) if module else judge_os(manager, word))
    return install


# aptitude's per-package actions written after the name (aptitude(8), "install"): all but `+` install nothing
_APTITUDE_ACTION = lazy_re.compile(r"(?:[-_=:]|&[MmB][D]?)$")


def judge_module(word: Word, text: str | None = None) -> Package:
    """A dnf module spec: `nodejs` (the default stream, which a distribution update can move), `nodejs:18`,
    `nodejs:18:8090020240213/common` (a stream, the form dnf pins a module to). `text`: the spec when the
    word carries more (`@nodejs:18`)."""
    text = word[0] if text is None else text
    if "$" in text:
        return Package("", word, VARIABLE)
    name, colon, stream = text.split("/", 1)[0].partition(":")
    return Package(name, word, EXACT if colon and stream else BARE, stream)


def judge_os(manager: str, word: Word) -> Package:
    text = word[0]
    if "$" in text:
        return Package("", word, VARIABLE)
    if text.endswith((".deb", ".rpm", ".apk")) or text.startswith(("/", "./")):
        return Package("", word, LOCAL)
    if manager == "apt" and text.startswith(("~", "?")):
        return Package("", word, VARIABLE)  # an aptitude search pattern (`~n^python3-`), no one package
    if manager in ("dnf", "zypper") and text.startswith("@") and ":" in text:
        return judge_module(word, text[1:])  # `dnf install @nodejs:18`: a module stream
    if manager == "apt":
        name, eq, version = text.partition("=")
        pinned = bool(eq and version) or "/" in name  # `pkg=1.2-3`, `pkg/bookworm-backports`
        return Package(name.split("/")[0], word, EXACT if pinned else BARE, version)
    if manager == "apk":
        match = re.match(r"^([^=~<>]+)([=~<>].*)?$", text)
        name = match[1] if match else text
        spec = match[2] or "" if match else ""
        return Package(name, word, EXACT if spec.startswith("=") else RANGE if spec else BARE, spec)
    # dnf, yum, zypper: `name-1.2.3`, `name-1.2.3-1.el9`, an epoch `name-1:1.1.1k`, `name = 1.2`,
    # `name=1.2`, `name>=1.2` (zypper's and dnf's version relations)
    relation = re.match(r"^([^<>=\s]+)\s*(==?|>=|<=|>|<)\s*(\S+)$", text)
    if relation:
        exact = relation[2] in ("=", "==")
        return Package(relation[1], word, EXACT if exact else RANGE, f"{relation[2]}{relation[3]}")
    match = re.match(r"^(.+?)-((?:\d+:)?\d[\w.+~^:-]*)$", text)
    if match:
        return Package(match[1], word, EXACT, match[2])
    return Package(text, word, BARE)
