"""ML703: secrets in plain text. A variable named like a secret that holds a literal credential (not a
reference, a path, a switch or a placeholder), and a token of a known format (`mllint.secrets`) anywhere in a
scanned file, whatever holds it: a variable, a command line, a ConfigMap, a Secret's data, or a file that
does not parse. No message, fingerprint or report quotes the value."""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Iterator

from mllint.checks.context import Ctx, who
from mllint.model import Container, Finding, K8sObject, SourceFile, Span, Stage
from mllint.registry import rule
from mllint.secrets import TokenMatch, find_tokens, token_format
from mllint.stages import env_pairs

# -- what a name says ----------------------------------------------------------------------------------------------

_SEGMENT = re.compile(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])|[0-9]+")

# The last word of a name that says the variable holds something about a secret, not the secret: where it is
# (`*_FILE`, `*_PATH`, `TOKEN_URL`), which one (`SECRET_NAME`, `*_SECRET_KEY_REF`), or a setting of it.
_ABOUT = frozenset(
    "FILE FILES PATH PATHS DIR DIRECTORY FOLDER FILENAME URL URI URIS ENDPOINT HOST HOSTNAME PORT ADDR ADDRESS "
    "USER USERNAME LOGIN ID IDS NAME NAMES NAMESPACE REF REFS ARN LENGTH LEN TTL EXPIRY EXPIRES EXPIRATION "
    "LIFETIME AGE TIMEOUT INTERVAL PERIOD TYPE KIND CLASS MODE FORMAT METHOD ALGORITHM ALG HEADER PREFIX SUFFIX "
    "FIELD LOCATION MOUNT ENV VAR VERSION VER POLICY PROVIDER BACKEND DRIVER SOURCE STORE AUDIENCE ISSUER "
    "SCOPE SCOPES COUNT SIZE MAX MIN LIMIT LIMITS RATE ROUNDS ITERATIONS STRATEGY ROTATION REGION BUCKET "
    "SERVICE CONFIG CONFIGMAP TEMPLATE LABEL SELECTOR ANNOTATION ENABLED DISABLED REQUIRED ALLOWED FLAG COMMAND "
    "CMD SCRIPT IMAGE HASH ENCODING CHARSET HINT LABELS VOLUME PROJECT ACCOUNT EMAIL REALM GROUP ROLE".split()
)
# A word anywhere in the name that makes it a switch (`MYSQL_ALLOW_EMPTY_PASSWORD`, `MARIADB_RANDOM_ROOT_PASSWORD`)
_SWITCH = frozenset(
    "ENABLE ENABLED DISABLE DISABLED ALLOW ALLOWED USE REQUIRE SKIP NO IGNORE RANDOM EMPTY GENERATE AUTO INSECURE".split()
)
# Words before TOKEN that make it a tokenizer's token (`EOS_TOKEN`, `PAD_TOKEN`) or a count (`MAX_TOKEN`)
_TOKENIZER = frozenset(
    "EOS BOS PAD UNK SEP CLS MASK SPECIAL STOP START END IMAGE IMG AUDIO VIDEO CHAT SYSTEM EOT FIM TOOL THINK "
    "MAX MIN NUM NEXT CONTINUATION".split()
)
# Words before a last SECRET that make the name the name of a Secret (`DB_PASSWORD_SECRET`, `HF_TOKEN_SECRET`)
_HELD = frozenset("PASSWORD PASSWD PWD PASSPHRASE PASS TOKEN APIKEY CREDENTIAL CREDENTIALS AUTH".split())

SET = "set"  # a password the manifest sets: any literal is the credential
ISSUED = "issued"  # a token or key a service issues: a literal counts when it looks generated
USER_PASSWORD = "user:password"  # `NEO4J_AUTH=neo4j/secret`


def secret_name(name: str) -> str | None:
    """What kind of secret a variable named `name` holds (SET, ISSUED, USER_PASSWORD), None for any other name."""
    words = [w.upper() for part in re.split(r"[^A-Za-z0-9]+", name) for w in _SEGMENT.findall(part)]
    if not words or words[-1] in _ABOUT or _SWITCH.intersection(words):
        return None
    last = words[-1]
    if last in ("SECRET", "SECRETS") and _HELD.intersection(words[:-1]):
        return None  # DB_PASSWORD_SECRET, HF_TOKEN_SECRET: the name of the Secret that holds it
    for i, word in enumerate(words):
        before = words[i - 1] if i else ""
        after = words[i + 1] if i + 1 < len(words) else ""
        if word in ("PASSWORD", "PASSWD", "PWD", "PASSPHRASE") or (word == "PASS" and i == len(words) - 1):
            return SET
        if word in ("SECRET", "SECRETS"):
            if after == "ACCESS":  # AWS_SECRET_ACCESS_KEY
                return ISSUED
            return SET if word == "SECRET" or after == "KEY" else None
        if word == "TOKEN" and before not in _TOKENIZER:
            return ISSUED
        if word in ("APIKEY", "APIKEYS") or (word in ("KEY", "KEYS") and before in ("API", "PRIVATE")):
            return ISSUED
        if word in ("CREDENTIAL", "CREDENTIALS"):
            return ISSUED
    return USER_PASSWORD if last == "AUTH" else None


# -- what a value says ---------------------------------------------------------------------------------------------

_REFERENCE = re.compile(
    r"\$\{|\$\(|\$[A-Za-z_]|\{\{|\{%|<%|#\{|%[A-Za-z_][A-Za-z0-9_]*%|^__[A-Za-z0-9_]+__$|^@[A-Za-z0-9_]+@$|"
    r"^\{[A-Za-z0-9_.-]+\}$|^\[.*\]$|<[^>]*>"
)
_PLACEHOLDER = re.compile(
    r"your|placeholder|replace|insert[-_ ]|enter[-_ ]|fill[-_ ]?(?:in|me)|todo|tbd|fixme|redacted|example|sample|"
    r"dummy|fake|mock|change[-_ ]?this|set[-_ ]?me|not[-_ ]?set|not[-_ ]?used|not[-_ ]?needed|no[-_ ]?key|"
    r"xxx|\*\*\*|\.\.\.|…",
    re.I,
)
_NOTHING = frozenset(
    "none null nil undefined empty na n/a - unset unknown test testing token key apikey api-key api_key string value "
    "true false yes no on off y n enabled disabled".split()
)
_PATH = re.compile(
    r"^(?:/|\./|\.\./|~/|[A-Za-z]:[\\/]|file:)|"
    r"^[\w.-]+\.(?:json|pem|key|crt|cer|p12|pfx|jks|txt|ya?ml|env|ini|cfg|conf|toml|properties)$"
)
_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")
_URL_PASSWORD = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://[^/@\s:]*:[^/@\s]+@")
_USER_PASSWORD = re.compile(r"^[^/:\s]+[/:][^/:\s]+$")
_SECRET_OBJECT = re.compile(r"^(?=.*(?:secret|credential|creds))[a-z0-9]+(?:-[a-z0-9]+)+$")  # hf-token-secret

# Credentials that work out of the box or are the first ones people type: a manifest that sets one deploys a
# service whose password everyone knows (MinIO's minioadmin, Grafana's admin, the postgres image's documented
# mysecretpassword, a Java keystore's changeit). `changeme` and `example` (the database images' Compose samples)
# belong here, not with the placeholders: a service started with one runs with it.
DEFAULT_CREDENTIALS = frozenset(
    "minioadmin minio123 admin administrator admin123 password passw0rd p@ssw0rd pass changeme change-me change_me "
    "changeit root toor postgres mysql mlflow airflow grafana prom-operator mysecretpassword secret 123456 12345 "
    "1234 12345678 123456789 qwerty letmein guest example".split()
)


def _unquoted(value: str) -> str:
    value = value.strip()
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        value = value[1:-1].strip()
    return value


def placeholder(name: str, value: str) -> bool:
    """The value is no credential: empty, a reference to another variable or a template, a path, a URL without
    a password, a switch, or a stand-in for the real one (`<your-token>`, `YOUR_API_KEY`, `xxx`)."""
    text = _unquoted(value)
    lowered = text.lower()
    if not text or lowered in _NOTHING or _REFERENCE.search(text) or _PLACEHOLDER.search(text):
        return True
    if _PATH.match(text) or (_URL.match(text) and not _URL_PASSWORD.match(text)) or _SECRET_OBJECT.match(text):
        return True
    if len(set(lowered)) == 1:  # 0000, ****
        return True
    return lowered.replace("-", "_") == name.lower().replace("-", "_")


def _generated(value: str) -> bool:
    """Looks like a key a service issued: long, no spaces, letters mixed with digits or cases."""
    classes = sum((any(c.islower() for c in value), any(c.isupper() for c in value), any(c.isdigit() for c in value)))
    return len(value) >= 16 and not any(c.isspace() for c in value) and classes >= 2


def secret_kind(name: str, value: str | None) -> str | None:
    """Why `name=value` is a secret in plain text, in words for a message (never the value itself), or None."""
    if not value:
        return None
    found = token_format(value)
    if found is not None:
        return found.name
    kind = secret_name(name)
    if kind is None:
        return None
    text = _unquoted(value)
    if text.lower() in DEFAULT_CREDENTIALS:
        return "a well-known default credential"
    if placeholder(name, value):
        return None
    if kind == SET or (kind == ISSUED and _generated(text)) or (kind == USER_PASSWORD and _USER_PASSWORD.match(text)):
        return "a literal value"
    return None


# -- findings ------------------------------------------------------------------------------------------------------

_FIX = (
    "pass it at run time from a secret store (Kubernetes Secret with secretKeyRef, Compose secrets or an "
    "env_file kept out of git, `docker build --secret`), and rotate it"
)


def _secret_finding(span: Span, what: str, kind: str, stored: str, name: str, value: Span | None) -> Finding:
    finding = Finding.at(span, f"{what} holds {kind} (not shown): {stored}", fix=_FIX)
    finding.sensitive = True
    finding.secret_name = name
    finding.secret_span = value
    return finding


@rule("ML703")
def secret_in_plain_text(target: Stage | Container | SourceFile, ctx: Ctx) -> Iterator[Finding]:
    if isinstance(target, SourceFile):
        yield from _tokens_in_text(target)
        return
    if isinstance(target, Stage):
        for ins in target.instructions:
            if ins.keyword not in ("ENV", "ARG"):
                continue
            for name, value, start, end in env_pairs(ins):
                kind = secret_kind(name, value)
                if kind:
                    yield _secret_finding(
                        ins.span_of(start - len(name) - 1, start - 1),
                        f"{ins.keyword} {name}",
                        kind,
                        "ENV and ARG values are kept in the image's history, readable by anyone who can pull it",
                        name,
                        ins.span_of(start, end) if end > start else None,
                    )
        return
    for env in target.env:
        if env.from_ref or env.from_secret:
            continue
        kind = secret_kind(env.name, env.value)
        if kind:
            yield _secret_finding(
                env.name_span,
                f"environment variable {env.name} of {who(target, ctx)}",
                kind,
                "anyone who can read this file or the object has it",
                env.name,
                env.span,
            )


# -- tokens anywhere in the text -------------------------------------------------------------------------------------

_KEY_BEFORE = re.compile(
    r"""(?:(--[A-Za-z0-9][A-Za-z0-9_.-]*)["']?(?:=|,\s*|\s+)|([A-Za-z_][A-Za-z0-9_.-]*)["']?\s*[:=]\s*)["']?"""
    r"""(?:Bearer\s+)?$"""
)
_ENV_NAME = re.compile(r"""^\s*-?\s*name:\s*["']?([A-Za-z_][A-Za-z0-9_.-]*)""")
_BLOCK_KEY = re.compile(r"""^\s*-?\s*["']?([A-Za-z_][A-Za-z0-9_.-]*)["']?\s*:\s*[|>][-+0-9]*\s*$""")


def _covered(file: SourceFile, starts: list[int]) -> tuple[set[int], list[Span]]:
    """Where ML703's variable checks already look, so that a token is reported once: the offsets of the tokens
    in literal environment values of containers (a block scalar's span keeps to its first line, so each token
    is found in the text from where its value starts), and the spans of Dockerfile ENV and ARG instructions."""
    offsets: set[int] = set()
    for workload in file.workloads:
        for container in workload.pod.all_containers:
            for env in container.env:
                if env.value is None or env.from_ref or env.from_secret or env.span.line > len(starts):
                    continue
                at = starts[env.span.line - 1] + env.span.column - 1
                for match in find_tokens(env.value):
                    found = file.text.find(env.value[match.start : match.end], at)
                    if found >= 0:
                        offsets.add(found)
                        at = found + 1
    spans = []
    if file.build is not None:
        spans = [i.span for s in file.build.stages for i in s.instructions if i.keyword in ("ENV", "ARG")]
    return offsets, spans


def _inside(span: Span, line: int, column: int) -> bool:
    return (span.line, span.column) <= (line, column) < (span.end_line, span.end_column)


def _object_at(file: SourceFile, line: int) -> K8sObject | None:
    return next((o for o in file.objects if o.span.line <= line <= o.span.end_line), None)


def _tokens_in_text(file: SourceFile) -> Iterator[Finding]:
    found = find_tokens(file.text)
    if not found:
        return
    starts = [0] + [i + 1 for i, c in enumerate(file.text) if c == "\n"]
    lines = file.lines()
    offsets, spans = _covered(file, starts)
    for match in found:
        number = bisect_right(starts, match.start)
        column = match.start - starts[number - 1] + 1
        if match.start in offsets or any(_inside(span, number, column) for span in spans):
            continue
        end_column = column + (match.end - match.start)
        span = Span(file.path, number, column, number, end_column)
        yield _text_finding(file, match, span, lines)


def _key(lines: list[str], span: Span) -> str | None:
    """The key, variable or option that holds the token on its line (`HF_TOKEN:`, `--token`), and for a
    Kubernetes `value:` the `name:` above it."""
    line = lines[span.line - 1] if span.line <= len(lines) else ""
    match = _KEY_BEFORE.search(line[: span.column - 1])
    key = (match[1] or match[2]) if match else None
    above = next((t for t in reversed(lines[: span.line - 1]) if t.strip() and not t.lstrip().startswith("#")), "")
    if key == "value":
        name = _ENV_NAME.match(above)
        key = name[1] if name else key
    elif key is None and not line[: span.column - 1].strip():  # the first line of a block scalar
        block = _BLOCK_KEY.match(above)
        key = block[1] if block else None
    return key


def _text_finding(file: SourceFile, match: TokenMatch, span: Span, lines: list[str]) -> Finding:
    key = _key(lines, span)
    obj = _object_at(file, span.line)
    where = f"{obj.kind} {obj.name!r}: " if obj is not None and obj.name else ""
    what = f"{where}{key if key else f'line {span.line}'} holds {match.format.name}"
    if match.encoded:
        what += ", base64-encoded (base64 is an encoding, not encryption)"
    not_dockerfile = getattr(file, "not_dockerfile", None)
    if not_dockerfile:
        stored = f"the file is {not_dockerfile} under a Dockerfile's name, and anyone who can read it has the key"
    elif any(d.rule == "ML001" for d in file.diagnostics):
        stored = "the file does not parse, but anyone who can read it has the key"
    else:
        stored = "anyone who can read this file has it"
    fix = (
        "create the Secret at deploy time (kubectl create secret, External Secrets, Sealed Secrets) instead of "
        "committing it, and revoke the exposed key"
        if obj is not None and obj.kind == "Secret"
        else "remove it from the file, revoke it, and pass the new one at run time from a secret store "
        "(Kubernetes Secret with secretKeyRef, Compose secrets, `docker build --secret`)"
    )
    finding = Finding.at(span, f"{what} (not shown): {stored}", fix=fix)
    finding.sensitive = True
    finding.secret_name = key or match.format.name
    finding.secret_span = span
    if obj is not None:
        finding.logical = f"{obj.kind}/{obj.namespace or ''}/{obj.name}"
    return finding
