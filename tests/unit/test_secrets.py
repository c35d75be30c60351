"""ML703's secrets: the known token formats (`mllint.secrets`), what a variable's name and value say, and that
no report, message or fingerprint carries a secret's value.

Every token below is fake: the format's prefix and length with `x`, `0` or `FAKE` for the rest."""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path

import pytest

from mllint import engine
from mllint.checks.security.secrets import ISSUED, SET, USER_PASSWORD, secret_kind, secret_name
from mllint.model import Finding, Span
from mllint.report import render
from mllint.report.guard import guarded
from mllint.secrets import FORMATS, find_tokens, mask, redact, token_format

HF = "hf_" + "x" * 34
FAKES = {
    "a Hugging Face access token": HF,
    "a GitHub token": "ghp_" + "0" * 36,
    "a GitHub fine-grained personal access token": "github_pat_" + "0" * 22 + "_" + "x" * 59,
    "an OpenAI API key": "sk-proj-FAKE" + "x" * 16 + "0" * 16,
    "an AWS access key id": "AKIAFAKE000000000000",
    "a Slack token": "xoxb-" + "0" * 12 + "-" + "0" * 12 + "-" + "x" * 24,
    "a GitLab personal access token": "glpat-" + "x" * 20,
    "a private key": "-----BEGIN RSA PRIVATE KEY-----\n" + "FAKE" + "x" * 60 + "\n-----END RSA PRIVATE KEY-----",
}
FORMATS_OUT = ("text", "json", "sarif", "github", "gitlab")


def test_every_format_is_faked_here_and_cites_its_vendor() -> None:
    assert {f.name for f in FORMATS} == set(FAKES)
    assert all(f.source.startswith("https://") for f in FORMATS)


@pytest.mark.parametrize(("name", "token"), FAKES.items())
def test_a_known_format_is_found_in_any_text(name: str, token: str) -> None:
    for text in (token, f"MODEL_CONFIG={token}", f'--token "{token}" --fast', f"url: https://x:{token}@host/r.git"):
        found = find_tokens(text)
        assert [m.format.name for m in found] == [name], text
        assert text[found[0].start : found[0].end] == token.split("\n")[0]
    assert token_format(token) is not None and token_format(token).name == name  # type: ignore[union-attr]


@pytest.mark.parametrize(("name", "token"), FAKES.items())
def test_a_known_format_is_found_in_base64(name: str, token: str) -> None:
    encoded = base64.b64encode((token + "\n").encode()).decode()
    found = find_tokens(f"  HF_TOKEN: {encoded}")
    assert [(m.format.name, m.encoded, m.start) for m in found] == [(name, True, 12)]


@pytest.mark.parametrize(
    "text",
    [
        "generateName: pipeline-with-task-final-status-conditional-",  # sk- inside a word
        "sk-learn-intelex-2024-0-1-x86-64-linux-gnu-build",  # a name, not a key: one case only
        "sk-no-key-required",
        "sk-" + "x" * 40,
        "from huggingface_hub import hf_hub_download",
        "hf_" + "x" * 20,  # too short
        "AKIAIOSFODNN7EXAMPLE",  # AWS's documented example
        "ASIAPACIFICSOUTHEAST1",
        "xoxb-your-token-here",
        "-----BEGIN PRIVATE KEY-----\n...\n-----END PRIVATE KEY-----",  # no key material
        "-----BEGIN CERTIFICATE-----\n" + "A" * 64,  # public
        base64.b64encode(b"-----BEGIN CERTIFICATE-----\n" + b"A" * 64).decode(),
    ],
)
def test_look_alikes_are_not_tokens(text: str) -> None:
    assert find_tokens(text) == ()


def test_redact_and_mask() -> None:
    assert redact(f"HF_TOKEN={HF} ok") == "HF_TOKEN=<redacted> ok"
    assert mask(f"x {HF} y") == "x " + "*" * len(HF) + " y"
    # a parser that shortened a line leaves the start of a token: that goes too
    assert redact("unknown instruction 'HF_TOKEN=hf_AbCdEfGh…'") == "unknown instruction 'HF_TOKEN=hf_<redacted>…'"
    assert redact("hf_token holds a token") == "hf_token holds a token"  # an identifier is not a token


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("HF_TOKEN", ISSUED),
        ("hfToken", ISSUED),
        ("WANDB_API_KEY", ISSUED),
        ("OPENAI_API_KEYS", ISSUED),
        ("AWS_SECRET_ACCESS_KEY", ISSUED),
        ("GOOGLE_APPLICATION_CREDENTIALS", ISSUED),
        ("MINIO_SECRET_KEY", SET),
        ("GF_SECURITY_ADMIN_PASSWORD", SET),
        ("DB_PASS", SET),
        ("JWT_SECRET", SET),
        ("NEO4J_AUTH", USER_PASSWORD),
        ("AWS_ACCESS_KEY_ID", None),
        ("MINIO_ACCESS_KEY", None),
        ("SECRET_NAME", None),
        ("HF_SECRET_KEY_REF", None),
        ("TOKEN_URL", None),
        ("SECRETS_PATH", None),
        ("HF_TOKEN_FILE", None),
        ("DB_PASSWORD_SECRET", None),
        ("MYSQL_RANDOM_ROOT_PASSWORD", None),
        ("MYSQL_ALLOW_EMPTY_PASSWORD", None),
        ("TS_DISABLE_TOKEN_AUTHORIZATION", None),
        ("EOS_TOKEN", None),
        ("MAX_TOKENS", None),
        ("TOKENIZERS_PARALLELISM", None),
        ("PASS_DEVICE_SPECS", None),
        ("PASSWORD_MIN_LENGTH", None),
        ("RAY_AUTH_MODE", None),
    ],
)
def test_what_a_name_says(name: str, kind: str | None) -> None:
    assert secret_name(name) == kind


@pytest.mark.parametrize(
    ("name", "value", "kind"),
    [
        ("MODEL_CONFIG", HF, "a Hugging Face access token"),
        ("HF_TOKEN", HF, "a Hugging Face access token"),
        ("MINIO_ROOT_PASSWORD", "minioadmin", "a well-known default credential"),
        ("GF_SECURITY_ADMIN_PASSWORD", "admin", "a well-known default credential"),
        ("DB_PASSWORD", "changeme", "a well-known default credential"),
        ("POSTGRES_PASSWORD", "example", "a well-known default credential"),
        ("SECURITY_TOKEN", '"12345"', "a well-known default credential"),
        ("DB_PASSWORD", "s3cret", "a literal value"),
        ("WANDB_API_KEY", "0123456789abcdef0123456789abcdef01234567", "a literal value"),
        ("NEO4J_AUTH", "neo4j/s3cret", "a literal value"),
        ("HF_TOKEN", "", None),
        ("HF_TOKEN", "${HF_TOKEN}", None),
        ("HF_TOKEN", "$(HF_TOKEN)", None),
        ("HF_TOKEN", "$HF_TOKEN", None),
        ("HF_TOKEN", "{{ .Values.hfToken }}", None),
        ("HF_TOKEN", "<your-token>", None),
        ("HF_TOKEN", "<HF_token>", None),
        ("HF_TOKEN", "PLACEHOLDER_HF_TOKEN", None),
        ("HF_TOKEN", "hf_...", None),
        ("OPENAI_API_KEY", "YOUR_API_KEY", None),
        ("OPENAI_API_KEY", "EMPTY", None),
        ("GITHUB_TOKEN", "xxx", None),
        ("HF_TOKEN", "HF_TOKEN", None),
        ("AWS_SECRET_ACCESS_KEY", "test", None),  # localstack takes anything
        ("HF_TOKEN", "token", None),  # an issued key is no short word
        ("GOOGLE_APPLICATION_CREDENTIALS", "/var/run/secret/cloud.google.com/sa.json", None),
        ("GOOGLE_APPLICATION_CREDENTIALS", "sa.json", None),
        ("ALLOW_EMPTY_PASSWORD", "yes", None),
        ("DB_PASSWORD", "true", None),
        ("DB_PASSWORD", "****", None),
        ("API_KEY_SECRET", "hf-token-secret", None),
        ("DB_PASSWORD", "postgres://db:5432/mlflow", None),
        ("DB_PASSWORD", "postgres://mlflow:s3cret@db:5432/mlflow", "a literal value"),
        ("NEO4J_AUTH", "none", None),
    ],
)
def test_what_a_value_says(name: str, value: str, kind: str | None) -> None:
    assert secret_kind(name, value) == kind


# -- nothing carries the value -------------------------------------------------------------------------------------


def _scan(tmp_path: Path, files: dict[str, str], **options: object) -> engine.Result:
    for name, text in files.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    return engine.scan([str(tmp_path / name) for name in files], engine.Options(jobs=1, **options))  # type: ignore[arg-type]


DOCKERFILE = f"""FROM python:3.11
ENV DB_PASSWORD=s3cretpass
RUN pip install torch && huggingface-cli login --token {HF}
RUN pip install numpy
USER 1000
"""
COMPOSE = f"""services:
  trainer:
    image: pytorch/pytorch:2.3.1-cuda12.1-cudnn8-runtime
    privileged: true
    environment:
      - DB_PASSWORD=s3cretpass
      - MODEL_CONFIG={HF}
    command: ["huggingface-cli", "login", "--token", "{HF}"]
"""
NOT_A_DOCKERFILE = f"""apiVersion: v1
kind: Pod
metadata: {{name: x}}
spec:
  containers:
    - name: x
      image: python:3.11
HF_TOKEN={HF}
$ docker build -t x --build-arg TOKEN={HF} .
"""


@pytest.mark.parametrize("fmt", FORMATS_OUT)
@pytest.mark.parametrize("select", [None, ["ML703"], ["ML0", "ML3", "ML4", "ML7"]])
def test_no_report_echoes_a_secret(tmp_path: Path, fmt: str, select: list[str] | None) -> None:
    files = {"Dockerfile": DOCKERFILE, "compose.yaml": COMPOSE, "Dockerfile.job": NOT_A_DOCKERFILE}
    result = _scan(tmp_path, files, **({"select": select} if select else {}))
    assert result.findings
    out = render(fmt, result, verbose=True)
    assert HF not in out and "hf_xxxx" not in out, f"{fmt} echoes a token"
    if select != ["ML0", "ML3", "ML4", "ML7"]:  # the password is known for a secret once ML703 runs
        assert "s3cretpass" not in out, f"{fmt} echoes a password"


def test_the_token_in_a_file_that_is_not_a_dockerfile_is_reported_where_it_is(tmp_path: Path) -> None:
    result = _scan(tmp_path, {"Dockerfile.job": NOT_A_DOCKERFILE}, select=["ML703"])
    got = sorted((f.span.line, f.span.column, f.sensitive) for f in result.findings)
    lines = NOT_A_DOCKERFILE.splitlines()
    assert got == [(n, lines[n - 1].index(HF) + 1, True) for n in (8, 9)]


def test_a_token_in_a_variable_is_reported_once(tmp_path: Path) -> None:
    result = _scan(tmp_path, {"compose.yaml": COMPOSE, "Dockerfile": DOCKERFILE}, select=["ML703"])
    got = sorted((Path(f.span.path).name, f.span.line, f.span.column) for f in result.findings)
    run = DOCKERFILE.splitlines()[2].index(HF) + 1
    command = COMPOSE.splitlines()[7].index(HF) + 1
    assert got == [
        ("Dockerfile", 2, 5),
        ("Dockerfile", 3, run),
        ("compose.yaml", 6, 9),
        ("compose.yaml", 7, 9),
        ("compose.yaml", 8, command),
    ]


def test_sarif_quotes_no_line_near_a_secret(tmp_path: Path) -> None:
    result = _scan(tmp_path, {"compose.yaml": COMPOSE})
    doc = json.loads(render("sarif", result))
    quoted = json.dumps(doc)
    assert "s3cretpass" not in quoted and HF not in quoted
    privileged = [r for r in doc["runs"][0]["results"] if r["ruleId"] == "ML707"]
    assert privileged, "the privileged service is reported"
    location = privileged[0]["locations"][0]["physicalLocation"]
    assert "contextRegion" not in location  # lines 2-6 include the password's line


def test_a_secret_fingerprint_keys_on_the_name_not_the_value(tmp_path: Path) -> None:
    prints = []
    for value in ("s3cretpass", "an0therpass"):
        (tmp_path / "Dockerfile").write_text(f"FROM python:3.11\nENV DB_PASSWORD={value}\n", encoding="utf-8")
        result = engine.scan([str(tmp_path / "Dockerfile")], engine.Options(jobs=1, select=["ML703"]))
        prints.append([f.fingerprint_key for f in result.findings])
    assert prints[0] == prints[1] and len(prints[0]) == 1
    finding = result.findings[0]
    base = f"ML703|{finding.span.path}|{finding.logical or ''}|secret:DB_PASSWORD|1"
    assert finding.fingerprint_key == hashlib.sha256(base.encode()).hexdigest()[:32]


def test_the_guard_redacts_messages_and_hides_secret_lines(tmp_path: Path) -> None:
    (tmp_path / "f.yaml").write_text(f"a: 1\nb: {HF}\nc: s3cretpass\n", encoding="utf-8")
    path = str(tmp_path / "f.yaml")
    leak = Finding("ML001", Span(path, 2, 1, 2, 2), f"unknown instruction 'b: {HF}'")
    secret = Finding("ML703", Span(path, 3, 1, 3, 2), "c holds a literal value (not shown)", sensitive=True)
    result = engine.Result([leak, secret], [(path, "yaml")], [], {})
    safe = guarded(result)
    assert HF not in safe.findings[0].message
    assert safe.source_line(path, 2) == "b: " + "*" * len(HF)
    assert safe.source_line(path, 3) is None
    assert safe.source_line(path, 1) == "a: 1"
