"""What each container is, with the evidence for it: decided once per container (`assign`, before any rule
runs) and read by the rules whose advice depends on it. The serving rules (ML501-ML503, ML516, ML409) run on
model servers only, and their messages quote the evidence.

Roles:

- `model-server`: a known server image or command (Triton, TF Serving, TorchServe, vLLM, TGI, TEI, SGLang,
  Ollama, llama.cpp, NVIDIA NIM, BentoML, `mlflow models serve`, Ray Serve, KServe and Seldon runtimes,
  OpenVINO Model Server, LMDeploy, JetStream, ...), a KServe predictor or serving runtime, a RayService, or a
  long-running container that requests a GPU and serves a port; a generic web server (uvicorn, gunicorn,
  FastAPI) only with a sign of a model (a GPU, a `--model` argument, a model-like image name);
- `training`: a training-operator kind, a launcher (torchrun, deepspeed, accelerate launch), or a GPU batch job;
- `notebook`: Jupyter, a Kubeflow Notebook;
- `gpu-daemon`: the NVIDIA device plugin, DCGM exporter, GPU Feature Discovery, driver, toolkit, MIG manager;
- `controller`: an operator, a controller-manager, an admission webhook;
- `service`: any other long-running container (databases, caches, web apps, proxies, exporters);
- `batch`: a step that runs to completion (a Job, a Workflow step) and does not train;
- `init`: an init container;
- `placeholder`: an image an operator or the runtime fills in (`FILLED BY THE OPERATOR`).

The user's word comes first: the annotation `mllint.dev/role` (or `mllint.dev/role.<container>`) on the object
or its pod template, then the configuration's `roles:` by image glob.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from fnmatch import fnmatchcase
from typing import NamedTuple

from mllint import lazy_re
from mllint.gpus import GPU_RESOURCES, gpu_names
from mllint.model import Container, ImageRef, Role, SourceFile, Workload
from mllint.sources.kinds import JOB_TEMPLATE_ROLES, SERVING_KINDS, TRAINING_KINDS

MODEL_SERVER = "model-server"
ROLES = ("model-server", "training", "notebook", "gpu-daemon", "controller", "service", "batch", "init", "placeholder")
CHOSEN_ROLES = tuple(r for r in ROLES if r != "init")  # what an annotation or the configuration may set

ANNOTATION = "mllint.dev/role"

# Model servers by what they run. Each alternative is a program or module as it stands in a command line.
SERVER_COMMAND = lazy_re.compile(
    r"\bvllm\s+serve\b|\bvllm\.entrypoints\.[\w.]*api_server\b|"
    r"\btext-generation-launcher\b|\btext-generation-router[\w-]*|\btext-embeddings-router\b|\bts\.llm_launcher\b|"
    r"(?:^|(?<=[\s/;&|\"'(]))(?:tritonserver|torchserve|ovms|llama-server|trtllm-serve)(?=$|[\s;&|\"')])|"
    r"\btensorflow_model_server\b|\bmlflow\s+models\s+serve\b|\bbentoml\s+serve\b|"
    r"(?<![\w-])serve\s+(?:run|deploy|start)\b|\bollama\s+serve\b|\bllama_cpp\.server\b|"
    r"\bsglang\.launch_server\b|\blmdeploy\s+serve\b|\bmlserver\s+start\b|\binfinity_emb\b|"
    r"\bseldon-core-microservice\b|\bopenllm\s+(?:start|serve)\b|\bxinference-local\b|"
    r"(?<=-m\s)(?:sklearn|xgb|lgb|pmml|paddle|huggingface|predictive|autogluon)server\b|"
    r"(?:^|(?<=[\s/]))model[-_]server(?:\.py)?(?=$|\s)|(?:^|(?<=\s))serve-(?:http|grpc)(?=$|\s)",
    re.I,
)
# Model servers by image: the registry and repository, tag dropped.
SERVER_IMAGE = lazy_re.compile(
    r"tritonserver|tensorflow/serving|tf-serving|torchserve|vllm|text-generation-inference|tgi-gaudi|"
    r"text-embeddings-inference|tei-gaudi|sglang|(?:^|/)ollama(?:/|$)|llama\.cpp|llamacpp|llama-cpp|"
    r"nvcr\.io/nim/|model_server|model-server|lmdeploy|(?:^|[/-])mlserver|"
    r"(?:sklearn|xgb|lgb|pmml|paddle|huggingface|predictive|autogluon)server|jetstream-(?:http|pytorch)|maxengine|"
    r"localai|"
    r"xinference|bentoml/model|llm-serving",
    re.I,
)
# An image named like a server that is a tool around it, not the server: a router, a proxy, the operator.
_NOT_A_SERVER = lazy_re.compile(
    r"router|proxy|gateway|operator|controller|webhook|exporter|bench|client|dashboard|sidecar|"
    r"(?:^|[-_])(?:ui|cli|web|frontend)(?:$|[-_])|storage-initializer|agent",
    re.I,
)
# A command that replaces the image's server with something else: an idle loop, a load generator.
_NOT_SERVING = lazy_re.compile(
    r"^\s*(?:\S*/)?(?:sleep|tail|cat|echo|true|perf_analyzer|perf_client|genai-perf|locust|pytest|nvidia-smi)\b|"
    r"^\s*(?:\S*/)?(?:ba)?sh\s+(?:-\w+\s+)*(?:--\s+)?[\"']?\s*(?:sleep|tail|while\s+true|nvidia-smi)\b",
    re.I,
)
_WEB_SERVER = lazy_re.compile(r"\b(?:uvicorn|gunicorn|fastapi|hypercorn|flask\s+run)\b", re.I)
_MODEL_ARGUMENT = lazy_re.compile(
    r"(?:^|\s)(?:--(?:model|model[-_]id|model[-_]name|model[-_]path|model[-_]dir|model[-_]repository|"
    r"model[-_]store|model[-_]base[-_]path|served[-_]model[-_]name)|model_name)(?=[=\s]|$)",
    re.I,
)
_MODEL_NAME = lazy_re.compile(
    r"model|llm|inference|infer\b|predict|serving|embedd|rerank|whisper|diffusion|bert|llama|mistral|gpt",
    re.I,
)

# A script or module named for training: `train.py`, `finetune_llama.sh`, `-m trainer.train`.
_TRAINING_SCRIPT = lazy_re.compile(
    r"(?:^|(?<=[\s/=]))[\w.-]*(?:train|finetun|fine[-_]tun)[\w.-]*\.(?:py|sh)\b|"
    r"(?<=-m\s)[\w.]*(?:train|finetun)[\w.]*",
    re.I,
)
_LAUNCHER = lazy_re.compile(
    r"torchrun|torch\.distributed\.(?:run|launch)|accelerate\s+launch|\bdeepspeed\b|horovodrun", re.I
)
BATCH_KINDS = frozenset({"Job", "CronJob", "Workflow", "WorkflowTemplate", "ClusterWorkflowTemplate", "CronWorkflow"})

_NOTEBOOK = lazy_re.compile(
    r"jupyter/|notebook-servers/|jupyterhub/|(?:^|[/-])jupyter(?:lab)?(?:$|[-_:])|-notebook\b|code-server|"
    r"\bjupyter\s+(?:lab|notebook|server)\b|start-notebook|start-singleuser",
    re.I,
)
_NOT_A_NOTEBOOK = lazy_re.compile(r"web-app|controller|webhook|operator|-ui\b|dashboard", re.I)
_GPU_DAEMON = lazy_re.compile(
    r"device-plugin|dcgm|gpu-feature-discovery|nvidia/driver|nvidia-driver|driver-manager|container-toolkit|"
    r"mig-manager|gpu-operator-validator|vgpu-manager|vgpu-device-manager|nvidia-fs|gdrdrv|dra-driver-gpu|"
    r"kata-manager|cc-manager|sandbox-device|neuron-monitor|gaudi-metric-exporter|amdgpu|"
    r"gpu-monitoring|nvidia-peermem",
    re.I,
)
_CONTROLLER_COMMAND = lazy_re.compile(
    r"(?:^|(?<=\s))(?:\S*/)?manager(?=$|\s)|--leader-elect\b|--enable-leader-election\b|--leader-election\b|"
    r"--health-probe-bind-address\b|--metrics-bind-address\b|controller-manager\b",
    re.I,
)
_CONTROLLER_IMAGE = lazy_re.compile(r"controller|operator|webhook|admission", re.I)
_KNOWN_SERVICE = lazy_re.compile(
    r"(?:^|/)(?:redis(?:-stack)?|mysql|mariadb|postgres(?:ql)?|pgvector|mongo(?:db)?|etcd|minio|nginx(?:-slim|"
    r"-unprivileged)?|envoy|grafana|tempo|loki|prometheus|node-exporter|jaeger|all-in-one|"
    r"opentelemetry-collector[\w-]*|keycloak|kafka|zookeeper|rabbitmq|elasticsearch|opensearch|qdrant|milvus|"
    r"neo4j|memcached|dex|oauth2-proxy|proxyv2|pilot|seaweedfs|azurite|dynamodb-local|kube-rbac-proxy|"
    r"gce-proxy|tinyproxy|haproxy|traefik|vault|clickhouse|cassandra|weaviate|chroma|hazelcast)$",
    re.I,
)


class Settings(NamedTuple):
    """What the configuration says about roles: image globs with the role each sets, and what counts as a GPU."""

    images: tuple[tuple[str, str], ...] = ()
    gpu_resources: tuple[str, ...] = GPU_RESOURCES


DEFAULT = Settings()


class RoleRow(NamedTuple):
    """One container's role, as `mllint scan -v` and the JSON report's `workloads` list it."""

    path: str
    line: int
    kind: str
    name: str
    container: str
    role: str
    evidence: str


def assign(file: SourceFile, settings: Settings = DEFAULT) -> None:
    """Decide the role of every container of every workload in the file."""
    for workload in file.workloads:
        assign_workload(workload, settings)


def role(workload: Workload | None, container: Container) -> Role:
    """The container's role: as `assign` decided it, or decided now with the default settings."""
    if container.role is None:
        if workload is None:
            return Role("service", "not part of a workload")
        assign_workload(workload, DEFAULT)
    assert container.role is not None
    return container.role


def assign_workload(workload: Workload, settings: Settings) -> None:
    for container, decided in zip(workload.pod.all_containers, workload_roles(workload, settings), strict=True):
        container.role = decided


def served(workload: Workload | None, container: Container) -> Role | None:
    """The container's role when it is a model server of a Deployment, StatefulSet, ReplicaSet or Rollout: the
    kinds whose probes and disruption budgets the user writes (KServe, Knative and KubeRay inject probes)."""
    if workload is None or workload.format != "kubernetes" or workload.kind not in SERVING_KINDS or container.init:
        return None
    decided = role(workload, container)
    return decided if decided.name == MODEL_SERVER else None


def rows(file: SourceFile) -> list[RoleRow]:
    out = []
    for workload in file.workloads:
        for container in workload.pod.all_containers:
            decided = role(workload, container)
            kind = workload.role or workload.kind
            out.append(
                RoleRow(
                    file.path, container.span.line, kind, workload.name, container.name, decided.name, decided.evidence
                )
            )
    return out


def workload_roles(workload: Workload, settings: Settings = DEFAULT) -> list[Role]:
    """The role of each of the pod's containers, init containers first (`PodSpec.all_containers`)."""
    pod = workload.pod
    roles = [classify(workload, c, settings) for c in pod.all_containers]
    # A sidecar whose port a model server's probes already check is part of that server, not a second one.
    main = [(c, r) for c, r in zip(pod.all_containers, roles, strict=True) if r.name == MODEL_SERVER and c.probes]
    for i, container in enumerate(pod.all_containers):
        if roles[i].name != MODEL_SERVER or roles[i].evidence.startswith(("annotation", "configuration")):
            continue
        for server, _ in main:
            if server is container:
                continue
            port = _probed_port(server, container)
            if port is not None:
                roles[i] = Role(
                    "service", f"a sidecar of model server {server.name!r}, whose probes already check port {port}"
                )
                break
    return roles


def classify(workload: Workload, container: Container, settings: Settings = DEFAULT) -> Role:
    """One container's role, from the user's word first, then the evidence."""
    chosen = _chosen(workload, container, settings)
    if chosen is not None:
        return chosen
    if container.image is not None and placeholder(container.image):
        return Role("placeholder", f"image {container.image.raw.strip()!r} is filled in elsewhere")
    if container.init:
        return Role("init", "an init container")
    words = _words(container)
    image = _image_name(container.image)
    gpus = gpu_names(container, settings.gpu_resources)
    kind = workload.kind
    platform = _platform(workload, container)
    if platform is not None:
        return platform
    server = SERVER_COMMAND.search(words)
    if server is not None:
        return Role(MODEL_SERVER, f"runs `{_short(server[0])}`")
    if _GPU_DAEMON.search(image) or (kind == "DaemonSet" and _GPU_DAEMON.search(container.name)):
        return Role(
            "gpu-daemon", f"image {image}" if _GPU_DAEMON.search(image) else f"DaemonSet container {container.name!r}"
        )
    controller = _controller(container, words, image)
    if controller is not None:
        return controller
    if kind == "Notebook":
        return Role("notebook", "a Kubeflow Notebook")
    notebook = _NOTEBOOK.search(words)
    if notebook is not None:
        return Role("notebook", f"runs `{_short(notebook[0])}`")
    if _NOTEBOOK.search(image) and not _NOT_A_NOTEBOOK.search(image):
        return Role("notebook", f"image {image}")
    batch = _batch(workload)
    if _server_image(container.image, image) and not _NOT_SERVING.search(words) and batch is None:
        return Role(MODEL_SERVER, f"image {image}")
    training = _training(workload, words, gpus)
    if training is not None:
        return training
    if image and _KNOWN_SERVICE.search(image):
        return Role("batch" if batch else "service", f"image {image}")
    if batch is not None:
        return Role("batch", batch)
    ports = [p.text for p in container.ports if not p.templated]
    web = _WEB_SERVER.search(words)
    model_argument = _MODEL_ARGUMENT.search(words)
    if gpus and ports and kind != "DaemonSet":
        return Role(MODEL_SERVER, f"requests {gpus[0]} and serves port {ports[0]}")
    if web is not None:
        sign = _model_sign(gpus, model_argument, image)
        if sign is not None:
            return Role(MODEL_SERVER, f"runs `{web[0]}` {sign}")
        return Role("service", f"runs `{web[0]}`, a web server, with no sign of a model")
    if model_argument is not None and ports:
        return Role(MODEL_SERVER, f"serves port {ports[0]} with `{model_argument[0].strip()}`")
    if kind == "DaemonSet":
        return Role("service", "a DaemonSet")
    if gpus:
        return Role("service", f"requests {gpus[0]} but serves no port and runs no known server")
    return Role("service", "no known model server image or command, and no GPU")


def _model_sign(gpus: Sequence[str], model_argument: re.Match[str] | None, image: str) -> str | None:
    """What says a generic web server serves a model: a GPU, a model argument, a model-like image name."""
    if gpus:
        return f"and requests {gpus[0]}"
    if model_argument is not None:
        return f"with `{model_argument[0].strip()}`"
    last = image.rsplit("/", 1)[-1]
    if last and _MODEL_NAME.search(last) and not _NOT_A_SERVER.search(last):
        return f"in image {image}"
    return None


def placeholder(image: ImageRef | None) -> bool:
    """An image an operator or the runtime fills in: `FILLED BY THE OPERATOR`, KFP's
    `should-be-overridden-during-runtime` (the parser's `ImageRef.placeholder` where it sets one)."""
    if image is None:
        return False
    return image.placeholder or bool(_PLACEHOLDER.search(image.raw))


_PLACEHOLDER = lazy_re.compile(r"^\s*filled[ _-]by\b|should-be-overridden-during-runtime", re.I)


# -- the steps ---------------------------------------------------------------------------------------------------


def _chosen(workload: Workload, container: Container, settings: Settings) -> Role | None:
    for written, where in ((workload.pod.annotations, "pod template"), (workload.annotations, "object")):
        for key in (f"{ANNOTATION}.{container.name}", ANNOTATION):
            value = written.get(key)
            if value is None or (key == ANNOTATION and container.init):
                continue
            value = value.strip()
            if value in CHOSEN_ROLES:
                return Role(value, f"annotation {key}: {value} on the {where}")
    image = container.image
    if image is not None and settings.images:
        ref = image.resolved.strip()
        bare = _image_name(image)
        for pattern, chosen in settings.images:
            if fnmatchcase(ref, pattern) or fnmatchcase(bare, pattern):
                return Role(chosen, f"configuration roles: {pattern!r} matches image {ref}")
    return None


def _platform(workload: Workload, container: Container) -> Role | None:
    """Kinds whose main container serves by construction: KServe, Seldon, Ray Serve."""
    kind, role_name = workload.kind, workload.role_name
    first = workload.pod.containers[0] if workload.pod.containers else None
    main = container is first or container.name == "kserve-container"
    if kind == "InferenceService" and main:
        if role_name == "predictor":
            return Role(MODEL_SERVER, "KServe InferenceService predictor")
        return Role("service", f"KServe InferenceService {role_name or 'component'}")
    if kind in ("ServingRuntime", "ClusterServingRuntime") and main:
        return Role(MODEL_SERVER, f"KServe {kind}")
    if kind == "SeldonDeployment":
        return Role(MODEL_SERVER, "SeldonDeployment component")
    if kind == "RayService" and container is first:
        return Role(MODEL_SERVER, f"RayService {'head' if role_name == 'head' else 'worker'} (Ray Serve)")
    return None


def _server_image(ref: ImageRef | None, image: str) -> bool:
    """A model server's image, not a tool around it (a router, the operator) nor its client SDK (Triton's `-sdk`)."""
    if ref is None or not image or not SERVER_IMAGE.search(image):
        return False
    return not _NOT_A_SERVER.search(image.rsplit("/", 1)[-1]) and not (ref.tag or "").lower().endswith("-sdk")


def _controller(container: Container, words: str, image: str) -> Role | None:
    command = _CONTROLLER_COMMAND.search(words)
    if command is not None:
        return Role("controller", f"runs `{_short(command[0].strip())}`")
    last = image.rsplit("/", 1)[-1]
    if image and _CONTROLLER_IMAGE.search(last) and not SERVER_IMAGE.search(last):
        return Role("controller", f"image {image}")
    if container.name == "manager":
        return Role("controller", "container 'manager', the controller-manager of a kubebuilder layout")
    return None


def _training(workload: Workload, words: str, gpus: Sequence[str]) -> Role | None:
    kind = workload.kind
    if kind in TRAINING_KINDS and workload.role not in JOB_TEMPLATE_ROLES:
        return Role("training", f"a {kind}")
    launcher = _LAUNCHER.search(words)
    if launcher is not None:
        return Role("training", f"runs `{_short(launcher[0])}`")
    if kind in BATCH_KINDS or kind in ("service", "Pod"):
        script = _TRAINING_SCRIPT.search(words)
        if script is not None:
            return Role("training", f"runs `{_short(script[0].strip())}`")
    if gpus and kind in BATCH_KINDS:
        return Role("training", f"a GPU batch job (requests {gpus[0]})")
    return None


def _batch(workload: Workload) -> str | None:
    """Why the workload runs to completion, or None."""
    kind = workload.kind
    if kind == "Job" and workload.api_version.startswith("batch.volcano"):
        return "a Volcano Job task that runs to completion"
    if kind in BATCH_KINDS or kind in JOB_TEMPLATE_ROLES or workload.role in JOB_TEMPLATE_ROLES:
        return f"a {workload.role or kind} step that runs to completion"
    policy = workload.pod.restart_policy
    if kind == "Pod" and policy is not None and policy.text in ("Never", "OnFailure"):
        return f"a Pod with restartPolicy {policy.text}"
    return None


def _probed_port(server: Container, sidecar: Container) -> str | None:
    """The sidecar's port that one of the server's probes checks, or None."""
    ports = {p.text for p in sidecar.ports}
    named = sidecar.port_names
    for probe in server.probes.values():
        if probe.port is None:
            continue
        number = named.get(probe.port, probe.port)
        if number in ports and probe.port not in server.port_names and number not in {p.text for p in server.ports}:
            return number
    return None


def _words(container: Container) -> str:
    return " ".join(v.text for v in (*container.command, *container.args))


def _image_name(image: ImageRef | None) -> str:
    """registry/repository without the tag or digest, as messages name an image."""
    if image is None:
        return ""
    if image.templated or not image.repository:  # `${REGISTRY:-opea}/vllm:${TAG:-latest}`: as written
        return image.raw.strip()
    return f"{image.registry}/{image.repository}" if image.registry else image.repository


def _short(text: str, limit: int = 60) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _word_at(text: str, start: int) -> str:
    """The whitespace-delimited word of `text` around offset `start`."""
    begin = text.rfind(" ", 0, start) + 1
    end = text.find(" ", start)
    return text[begin : end if end >= 0 else len(text)]
