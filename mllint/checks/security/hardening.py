"""ML701, ML702, ML704–ML706, ML708: security of ML images and services: root users, notebooks and dashboards
without authentication, and scripts piped from the network into a shell. Secrets in plain text (ML703) are in
`secrets`, host access (ML707) in `host`."""

from __future__ import annotations

import re
from collections.abc import Iterator
from fnmatch import fnmatchcase

from mllint.checks.context import Ctx, command_words, same_object, who
from mllint.model import Container, Finding, ImageBuild, K8sObject, ServiceSpec, Span, Stage, Value, role_name
from mllint.registry import rule
from mllint.runs import Command, image_start_commands, piped, run_commands, start_commands
from mllint.shell import Word
from mllint.sources.kinds import RAY_KINDS
from mllint.stages import chain, dev_container, environment

# -- ML701, ML702: the user the image runs as ---------------------------------------------------------------------


def _last_user(stage: Stage, ctx: Ctx) -> tuple[str, Span] | None:
    build = ctx.file.build
    for current in chain(build, stage) if build is not None else [stage]:
        for ins in reversed(current.instructions):
            if ins.keyword == "USER":
                text = ins.args[ins.args_offset :].strip()
                return text, ins.span_of(ins.args_offset, len(ins.args.rstrip()))
    return None


def _is_final(stage: Stage, ctx: Ctx) -> bool:
    build = ctx.file.build
    return build is not None and stage is build.final_stage


def _runs_as_user(stage: Stage, ctx: Ctx) -> bool:
    """The final stage of an image that ships: a dev container's user is the developer's choice."""
    build = ctx.file.build
    return build is not None and stage is build.final_stage and not dev_container(build)


@rule("ML701")
def runs_as_root(stage: Stage, ctx: Ctx) -> Iterator[Finding]:
    if not _runs_as_user(stage, ctx):
        return
    user = _last_user(stage, ctx)
    if user is not None and user[0].split(":")[0] in ("root", "0"):
        yield Finding.at(
            user[1],
            f"USER {user[0]} is the last USER of the final stage: every process of the image, "
            "the model server and notebook included, runs as root",
            fix="switch back to an unprivileged user after the steps that need root (USER 1000:1000, "
            "or a named user created with useradd)",
        )


@rule("ML702")
def no_user(stage: Stage, ctx: Ctx) -> Iterator[Finding]:
    if not _runs_as_user(stage, ctx) or _last_user(stage, ctx) is not None:
        return
    build = ctx.file.build
    root = chain(build, stage)[-1] if build is not None else stage
    base = root.base.resolved.lower()
    if base == "scratch" or root.base.templated or any(fnmatchcase(base, p) for p in ctx.params.nonroot_images):
        return
    yield Finding.at(
        stage.span,
        f"the final stage (FROM {stage.base.resolved}) sets no USER, so the image runs "
        "as root unless its base image switched user",
        fix="create a user and end with USER <name> (or USER 1000:1000)",
    )


# -- ML704: Jupyter without authentication ---------------------------------------------------------------------------

_JUPYTER_OPTION = re.compile(r"^--(?:NotebookApp|ServerApp|IdentityProvider)\.(token|password)=(.*)$")


def _jupyter_open(words: list[Word], env: dict[str, str]) -> Word | None:
    """The word that turns off the token of a Jupyter start command, when no password replaces it."""
    texts = [w for w, _s, _e in words]
    if not any("jupyter" in t or "notebook" in t or "start-notebook" in t or t == "lab" for t in texts):
        return None
    empty_token = None
    password = False
    for word in words:
        match = _JUPYTER_OPTION.match(word[0])
        if match and match[1] == "token" and match[2].strip("'\"") == "":
            empty_token = word
        elif match and match[1] == "password" and match[2].strip("'\""):
            password = True
    if empty_token is None and env.get("JUPYTER_TOKEN") == "" and "JUPYTER_TOKEN" in env:
        return words[0]
    return None if password else empty_token


@rule("ML704")
def jupyter_without_auth(target: Stage | Container, ctx: Ctx) -> Iterator[Finding]:
    message = (
        "Jupyter starts with an empty token and no password: anyone who reaches the port runs code in the "
        "container, with its credentials, data and GPUs"
    )
    fix = "remove the empty --*App.token= (Jupyter then generates a token) or set a hashed password"
    if isinstance(target, Stage):
        yield from _jupyter_stage(target, ctx, message, fix)
        return
    env = {e.name: e.value or "" for e in target.env if not e.from_ref}
    if not _mentions(target, ("jupyter", "notebook", "lab")):
        return
    for words, locate in command_words(target, ctx):
        word = _jupyter_open(words, env)
        if word is not None:
            yield Finding.at(locate(word), f"{who(target, ctx)}: {message}", fix=fix)
            return


def _built_stages(ctx: Ctx) -> list[Stage]:
    """The stages whose image is built and run: the final one, and those a Compose `build.target` names.
    Any other stage is only a step of the build (a builder, a test stage) whose CMD no container runs."""
    build = ctx.file.build
    if build is None:
        return []
    targets = {name for path, name in ctx.index.build_targets if path == ctx.file.path}
    return [
        s for s in build.stages if s is build.final_stage or (s.alias is not None and s.alias.text.lower() in targets)
    ]


def _jupyter_stage(stage: Stage, ctx: Ctx, message: str, fix: str) -> Iterator[Finding]:
    """Findings at this stage's own CMD/ENTRYPOINT, where it is what a built image starts (its own image,
    or that of a built stage FROM it that keeps the command)."""
    build = ctx.file.build
    if build is None:
        return
    own = {id(ins) for ins in stage.instructions}
    seen: set[tuple[int, int]] = set()
    for built in _built_stages(ctx):
        env = environment(build, built)
        for command in image_start_commands(build, built):
            if id(command.ins) not in own:
                continue
            word = _jupyter_open(command.words, env)
            if word is None:
                continue
            span = command.span(word)
            if (span.line, span.column) in seen:
                continue
            seen.add((span.line, span.column))
            yield Finding.at(span, _started_by(build, built, stage, command.ins.keyword) + message, fix=fix)


def _started_by(build: ImageBuild, built: Stage, stage: Stage, keyword: str) -> str:
    """How a message names the image that runs a stage's start command, when it is not simply the final stage."""
    name = repr(built.alias.text) if built.alias is not None else str(built.index)
    if built is not build.final_stage:
        what = f"stage {name}, which a Compose build.target builds"
        return f"{what}, keeps this {keyword}: " if built is not stage else f"{what}: "
    return f"the final stage builds FROM this one and keeps its {keyword}: " if built is not stage else ""


def _mentions(container: Container, needles: tuple[str, ...]) -> bool:
    """A cheap test before the command line is parsed: does any command or args value name one of these?"""
    return any(n in v.text for v in (*container.command, *container.args) for n in needles)


# -- ML705: Ray dashboard reachable from outside the cluster ------------------------------------------------------

_EXPOSED = ("NodePort", "LoadBalancer")


def _published(port: str) -> tuple[str, str | None]:
    """(container port, host address or None) of a Compose ports entry `[ip:]host:container[/proto]`."""
    text = port.split("/")[0]
    parts = text.rsplit(":", 2) if text.count(":") <= 2 else [text]
    container = parts[-1]
    address = parts[0] if len(parts) == 3 else None
    return container.split("-")[0], address


def _publicly_published(container: Container, port: str) -> Value | None:
    for value in container.ports:
        target, address = _published(value.text)
        if target == port and (address is None or address not in ("127.0.0.1", "localhost", "::1", "[::1]")):
            return value
    return None


def _runs_ray(container: Container) -> bool:
    image = container.image.resolved.lower() if container.image is not None else ""
    command = " ".join(v.text for v in (*container.command, *container.args))
    return "ray" in image.rsplit("/", 1)[-1].split(":")[0] or bool(re.search(r"\bray\s+start\b", command))


@rule("ML705")
def ray_dashboard_exposed(target: K8sObject | Container, ctx: Ctx) -> Iterator[Finding]:
    if isinstance(target, Container):
        if not ctx.compose or not _runs_ray(target):
            return  # 8265 is also Tdarr's web UI, among others
        value = _publicly_published(target, "8265")
        if value is not None:
            yield Finding.at(
                value.span,
                f"{who(target, ctx)} publishes Ray's dashboard and job API (8265) on every "
                "interface of the host: Ray has no authentication, so anyone who reaches it "
                "runs jobs on the cluster (CVE-2023-48022, exploited in the wild)",
                fix='publish it on 127.0.0.1 only ("127.0.0.1:8265:8265") and reach it through an SSH '
                "tunnel or an authenticating proxy",
            )
        return
    if target.kind in RAY_KINDS:
        yield from _ray_head_exposed(target, ctx)
    elif target.service is not None:
        yield from _service_to_dashboard(target, target.service)
    elif target.kind == "Ingress":
        yield from _ingress_to_dashboard(target)


# Annotations that make a cloud load balancer internal: reachable from the VPC, not from the internet
_INTERNAL_LB = {
    "service.beta.kubernetes.io/aws-load-balancer-internal": ("true", "0.0.0.0/0"),
    "service.beta.kubernetes.io/aws-load-balancer-scheme": ("internal",),
    "networking.gke.io/load-balancer-type": ("internal",),
    "cloud.google.com/load-balancer-type": ("internal",),
    "service.beta.kubernetes.io/azure-load-balancer-internal": ("true",),
    "service.beta.kubernetes.io/oci-load-balancer-internal": ("true",),
}
_INGRESS_AUTH = re.compile(r"auth-url|auth-type|auth-signin|authenticate-|oauth", re.I)


def _ray_head_exposed(target: K8sObject, ctx: Ctx) -> Iterator[Finding]:
    """KubeRay's head service of type NodePort or LoadBalancer (`headGroupSpec.serviceType`, or the custom
    `headGroupSpec.headService`, whose type wins) when it carries the dashboard port, and `enableIngress`."""
    head = next((w for w in same_object(target, ctx.file) if role_name(w.role) == "head"), None)
    params = head.group.ray_start_params if head is not None and head.group is not None else {}
    include = params.get("include-dashboard")
    host = params.get("dashboard-host")
    if (include is not None and include.text.lower() == "false") or (
        host is not None and host.text in ("127.0.0.1", "localhost", "::1")
    ):
        return  # no dashboard, or one that listens inside the head pod only
    port = params["dashboard-port"].text if "dashboard-port" in params else "8265"
    custom = target.head_service
    service_type = custom.type if custom is not None and custom.type is not None else target.head_service_type
    container = head.pod.containers[0] if head is not None and head.pod.containers else None
    carried = _dashboard_in_head_service(custom, container, port)
    if service_type is not None and service_type.text in _EXPOSED and carried is not None:
        if service_type.text == "LoadBalancer" and custom is not None and _restricted(custom.source_ranges):
            return
        internal = _internal_lb(target.head_service_annotations) if service_type.text == "LoadBalancer" else None
        reach = (
            f"every machine of the network behind its internal load balancer ({internal})"
            if internal
            else "anyone outside the cluster"
        )
        field = "headService type" if custom is not None and service_type is custom.type else "serviceType"
        yield Finding.at(
            service_type.span,
            f"{target.kind} {target.name!r} exposes its head service as {service_type.text} ({field}), and "
            f"{carried}: {reach} reaches the dashboard and job API on port {port} without authentication "
            "(CVE-2023-48022)",
            fix="keep the head service ClusterIP and use kubectl port-forward, or an Ingress with "
            "authentication in front",
        )
    ingress = target.head_ingress
    if (
        ingress is not None
        and ingress.text.lower() == "true"
        and not any(map(_INGRESS_AUTH.search, target.annotations))
    ):
        yield Finding.at(
            ingress.span,
            f"enableIngress makes KubeRay create an Ingress to the dashboard of {target.kind} {target.name!r} "
            f"(port {port}), and no authentication annotation is set on it: anyone who reaches the Ingress "
            "runs jobs on the cluster (CVE-2023-48022)",
            fix="remove enableIngress and use kubectl port-forward, or annotate the cluster with the Ingress "
            "controller's authentication (KubeRay copies its annotations to the Ingress)",
        )


def _dashboard_in_head_service(custom: ServiceSpec | None, container: Container | None, port: str) -> str | None:
    """Why KubeRay's head service carries the dashboard port, or None when it does not: the custom service
    lists it, or KubeRay adds the head container's declared ports (its defaults, 8265 among them, when the
    container declares none)."""
    if custom is not None and any(
        v is not None and v.text in (port, "dashboard") for p in custom.ports for v in (p.port, p.target_port)
    ):
        return f"its headService lists port {port}"
    if container is None or not container.ports:
        if port != "8265":
            return None  # the defaults carry 8265, where this dashboard does not listen
        return "the head container declares no ports, so KubeRay gives the service its defaults, 8265 among them"
    if port in (v.text for v in container.ports) or container.port_names.get("dashboard") == port:
        return f"KubeRay adds the head container's port {port} to it"
    return None


def _restricted(ranges: list[str]) -> bool:
    """loadBalancerSourceRanges given, none of them open to every address."""
    return bool(ranges) and not any(r.strip() in ("0.0.0.0/0", "::/0") for r in ranges)


def _internal_lb(annotations: dict[str, str]) -> str | None:
    for key, values in _INTERNAL_LB.items():
        if annotations.get(key, "").strip().lower() in values:
            return f"{key}: {annotations[key]}"
    return None


def _service_to_dashboard(target: K8sObject, service: ServiceSpec) -> Iterator[Finding]:
    ray = "ray" in target.name.lower() or any(key.startswith("ray.io/") for key in service.selector)
    node_type = service.selector.get("ray.io/node-type")
    if service.type is None or service.type.text not in _EXPOSED or not ray or node_type not in (None, "head"):
        return  # the dashboard runs on the head pod only
    if service.type.text == "LoadBalancer" and _restricted(service.source_ranges):
        return
    for port in service.ports:
        value = next(
            (v for v in (port.port, port.target_port) if v is not None and v.text in ("8265", "dashboard")), None
        )
        if value is not None:
            yield Finding.at(
                value.span,
                f"Service {target.name!r} ({service.type.text}) exposes port {value.text}, Ray's "
                "dashboard and job API, outside the cluster without authentication (CVE-2023-48022)",
                fix="use type: ClusterIP and kubectl port-forward, or put an authenticating proxy in front",
            )


def _ingress_to_dashboard(target: K8sObject) -> Iterator[Finding]:
    for backend in target.backends:
        name = backend.service.text if backend.service is not None else ""
        number = backend.port_number
        if (
            (number is not None and number.text == "8265")
            or backend.port_name == "dashboard"
            or (name.endswith("-head-svc") and number is None)
        ):
            where = number or backend.service
            yield Finding.at(
                where.span if where is not None else backend.span,
                f"Ingress {target.name!r} routes to Ray's dashboard and job API ({name}): Ray has no "
                "authentication, so anyone who reaches the Ingress runs jobs on the cluster "
                "(CVE-2023-48022)",
                fix="remove the route, or put authentication in front (oauth2-proxy, the Ingress "
                "controller's auth annotations)",
            )


# -- ML706: MLflow and TensorBoard published without authentication -----------------------------------------------


def _open_server(words: list[Word]) -> tuple[str, Word] | None:
    texts = [w for w, _s, _e in words]
    names = [t.rsplit("/", 1)[-1] for t in texts]
    for i, name in enumerate(names):
        if name == "mlflow" and i + 1 < len(names) and names[i + 1] in ("server", "ui"):
            if any(t.startswith("--app-name") for t in texts) or "basic-auth" in texts:
                return None
            for j, t in enumerate(texts[i + 2 :], i + 2):
                if t in ("--host", "-h") and j + 1 < len(texts) and texts[j + 1] == "0.0.0.0":
                    return "MLflow", words[j + 1]
                if t == "--host=0.0.0.0":
                    return "MLflow", words[j]
        if name == "tensorboard":
            for j, t in enumerate(texts[i + 1 :], i + 1):
                if t == "--bind_all":
                    return "TensorBoard", words[j]
                if t in ("--host", "--host=0.0.0.0") and (t.endswith("0.0.0.0") or texts[j + 1 : j + 2] == ["0.0.0.0"]):
                    return "TensorBoard", words[j + (0 if t.endswith("0.0.0.0") else 1)]
    return None


@rule("ML706")
def tracking_server_exposed(target: Stage | Container, ctx: Ctx) -> Iterator[Finding]:
    fix = (
        "bind it to 127.0.0.1 and publish the port on 127.0.0.1 only, or put authentication in front (MLflow: "
        "--app-name basic-auth; an authenticating reverse proxy)"
    )
    if isinstance(target, Stage):
        if not _is_final(target, ctx):
            return
        for command in start_commands(target):
            found = _open_server(command.words)
            if found is not None:
                yield Finding.at(
                    command.span(found[1]),
                    f"the image starts {found[0]} on all interfaces without "
                    "authentication: `docker run -p` makes it reachable by "
                    "anyone on the network",
                    fix=fix,
                )
        return
    if not ctx.compose or not target.ports or not _mentions(target, ("mlflow", "tensorboard")):
        return
    for words, locate in command_words(target, ctx):
        found = _open_server(words)
        if found is not None and any(_published(v.text)[1] in (None, "0.0.0.0") for v in target.ports):
            yield Finding.at(
                locate(found[1]),
                f"{who(target, ctx)} serves {found[0]} on all interfaces without "
                "authentication and publishes its port: anyone on the network reads "
                "and overwrites experiments, models and artifacts",
                fix=fix,
            )
            return


# -- ML708: a script from the network piped into a shell ----------------------------------------------------------

_INTERPRETERS = frozenset({"sh", "bash", "zsh", "ash", "dash", "python", "python3", "perl", "ruby", "node"})


@rule("ML708")
def curl_pipe_shell(stage: Stage, ctx: Ctx) -> Iterator[Finding]:
    for ins in stage.instructions:
        if ins.keyword != "RUN":
            continue
        found = list(run_commands(ins))
        for index, command in enumerate(found):
            name, at = command.program()
            if name in ("curl", "wget") and piped(found, index):
                into, _ = found[index + 1].program()
                if into in _INTERPRETERS:
                    yield _pipe_finding(command, at, into)
            elif name in _INTERPRETERS:
                for word in command.words[at + 1 :]:
                    if re.search(r"(?:\$\(|<\()\s*(?:curl|wget)\b", word[0]):
                        yield Finding.at(
                            command.span(word),
                            f"{name} runs a script fetched from the network at "
                            "build time; its content is whatever the server sends",
                            fix=_PIPE_FIX,
                        )


_PIPE_FIX = (
    "download the installer to a file, check its sha256 (sha256sum -c) and then run it; or install a "
    "pinned package instead"
)


def _pipe_finding(command: Command, at: int, into: str) -> Finding:
    url = next((w for w in command.words[at + 1 :] if "://" in w[0]), command.words[at])
    return Finding.at(
        command.span(url),
        f"{command.names[at]} pipes {url[0]} into {into}: the script runs unchecked, "
        "and a changed or compromised server changes the image",
        fix=_PIPE_FIX,
    )
