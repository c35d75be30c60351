"""The typed fields the parsers fill for rules: volumes, roles, the fields beside a pod template, the
operator fields of objects, Compose settings, and the kind groups."""

from __future__ import annotations

from decimal import Decimal

import pytest

from mllint.loader import parse
from mllint.model import K8sObject, SourceFile, Workload, role_name
from mllint.sources import kinds


def load(text: str, name: str = "k.yaml") -> SourceFile:
    file = parse(name, "yaml", text.encode())
    assert isinstance(file, SourceFile)
    return file


def only_object(file: SourceFile) -> K8sObject:
    assert len(file.objects) == 1
    return file.objects[0]


def lines_of(file: SourceFile, needle: str, skip: str = "") -> tuple[int, int]:
    """1-based (line, column) of the first occurrence of `skip + needle`, past `skip`."""
    for number, line in enumerate(file.lines(), 1):
        if skip + needle in line:
            return number, line.index(skip + needle) + len(skip) + 1
    raise AssertionError(f"{skip + needle!r} not in the file")


# -- volumes ----------------------------------------------------------------------------------------------------------

POD_WITH_VOLUMES = """\
apiVersion: v1
kind: Pod
metadata: {name: p}
spec:
  containers: [{name: main, image: 'img:1'}]
  volumes:
  - name: shm
    emptyDir:
      medium: Memory
      sizeLimit: 16Gi
  - name: host
    hostPath: {path: /var/run/docker.sock, type: Socket}
  - name: creds
    secret: {secretName: s}
  - name: cfg
    configMap: {name: c}
  - name: data
    persistentVolumeClaim: {claimName: d}
  - name: csi
    csi: {driver: x}
  - name: nfs
    nfs: {server: n, path: /export}
  - name: bad
    emptyDir: {sizeLimit: lots}
"""


def test_volumes_are_records_with_kind_and_fields() -> None:
    file = load(POD_WITH_VOLUMES)
    assert not file.diagnostics
    volumes = file.workloads[0].pod.volumes
    assert [(v.name, v.kind) for v in volumes] == [
        ("shm", "emptyDir"),
        ("host", "hostPath"),
        ("creds", "secret"),
        ("cfg", "configMap"),
        ("data", "persistentVolumeClaim"),
        ("csi", "csi"),
        ("nfs", "other"),
        ("bad", "emptyDir"),
    ]
    shm, host = volumes[0], volumes[1]
    assert shm.medium is not None and shm.medium.text == "Memory"
    assert shm.medium.span[1:3] == lines_of(file, "Memory")
    assert shm.size_limit is not None and shm.size_limit.amount == Decimal(16 * 2**30)
    assert shm.size_limit.span[1:3] == lines_of(file, "16Gi")
    assert shm.path is None and shm.type is None
    assert host.path is not None and host.path.text == "/var/run/docker.sock"
    assert host.path.span[1:3] == lines_of(file, "/var/run/docker.sock")
    assert host.type is not None and host.type.text == "Socket"
    assert shm.span[1:3] == lines_of(file, "name: shm")
    assert set(volumes[6].source) == {"nfs"}  # what a custom rule's view shows, `name` aside


def test_invalid_size_limit_is_kept_unjudged() -> None:
    file = load(POD_WITH_VOLUMES)
    bad = file.workloads[0].pod.volumes[-1]
    assert bad.size_limit is not None and bad.size_limit.raw == "lots" and bad.size_limit.amount is None
    assert not file.diagnostics  # volumes are read, not judged: no ML005


# -- roles ------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "name"),
    [
        ("PyTorchJob/Worker", "Worker"),
        ("RayCluster/workers/gpu-group", "workers/gpu-group"),
        ("InferenceService/predictor", "predictor"),
        (None, None),
    ],
)
def test_role_name(role: str | None, name: str | None) -> None:
    assert role_name(role) == name


RAY = """\
apiVersion: ray.io/v1
kind: RayCluster
metadata: {name: rc, namespace: ml}
spec:
  headGroupSpec:
    serviceType: NodePort
    rayStartParams: {num-gpus: "0", dashboard-host: 0.0.0.0}
    template: {spec: {containers: [{name: ray-head, image: 'rayproject/ray:2.9.0'}]}}
  workerGroupSpecs:
  - groupName: gpu-group
    replicas: 2
    minReplicas: 4
    maxReplicas: 3
    rayStartParams: {num-gpus: "8"}
    template: {spec: {containers: [{name: ray-worker, image: 'rayproject/ray:2.9.0'}]}}
"""


def test_workload_role_name_and_identity() -> None:
    head, worker = load(RAY).workloads
    assert (head.role, head.role_name) == ("RayCluster/head", "head")
    assert (worker.role, worker.role_name) == ("RayCluster/workers/gpu-group", "workers/gpu-group")
    assert worker.identity == "RayCluster/ml/rc/workers/gpu-group"
    assert Workload("compose", "service", "web", None, None, None, head.pod, head.span).identity == "service//web"


# -- the fields beside a pod template ----------------------------------------------------------------------------------


def test_ray_groups() -> None:
    file = load(RAY)
    head, worker = file.workloads
    assert head.group is not None and worker.group is not None
    assert head.group.ray_start_params["num-gpus"].text == "0"
    assert worker.group.ray_start_params["num-gpus"].span[1:3] == lines_of(file, '"8"')
    assert worker.group.min_replicas is not None and worker.group.min_replicas.count == 4
    assert worker.group.min_replicas.span[1:3] == lines_of(file, "4", "minReplicas: ")
    assert worker.group.max_replicas is not None and worker.group.max_replicas.count == 3
    assert worker.replicas_span is not None and worker.replicas_span[1:3] == lines_of(file, "2", "  replicas: ")
    assert head.replicas_span is None
    assert head.k8s_object is worker.k8s_object is file.objects[0]
    assert worker.name_span is not None and worker.name_span[1:3] == lines_of(file, "rc", "name: ")


def test_kubeflow_replica_spec_restart_policy_and_job_priority() -> None:
    file = load("""\
apiVersion: kubeflow.org/v1
kind: PyTorchJob
metadata: {name: train}
spec:
  runPolicy:
    backoffLimit: 3
    schedulingPolicy: {priorityClass: high}
  pytorchReplicaSpecs:
    Worker:
      replicas: 2
      restartPolicy: OnFailure
      template: {spec: {containers: [{name: pytorch, image: 'img:1'}]}}
""")
    (worker,) = file.workloads
    assert worker.group is not None and worker.group.restart_policy is not None
    assert worker.group.restart_policy.text == "OnFailure"
    assert worker.job_priority_class is not None and worker.job_priority_class.text == "high"
    limits = only_object(file).run_limits
    assert limits is not None and limits.fields is not None and set(limits.fields) == {"backoffLimit"}
    assert limits.span[1:3] == lines_of(file, "runPolicy")


# -- operator fields of objects ----------------------------------------------------------------------------------------


def test_ray_head_service_type() -> None:
    file = load(RAY)
    value = only_object(file).head_service_type
    assert value is not None and value.text == "NodePort" and value.span[1:3] == lines_of(file, "NodePort")


def test_job_limits_without_holder_point_at_the_kind() -> None:
    file = load("apiVersion: batch/v1\nkind: Job\nmetadata: {name: j}\n")
    limits = only_object(file).run_limits
    assert limits is not None and limits.fields is None and limits.span[1:3] == (2, 7)


def test_job_limits_keep_every_field_that_is_set() -> None:
    file = load(
        "apiVersion: batch/v1\nkind: Job\nmetadata: {name: j}\nspec:\n  backoffLimit:\n  "
        "backoffLimitPerIndex: {oops: 1}\n  activeDeadlineSeconds: 600\n"
        "  template: {spec: {containers: [{name: c, image: 'i:1'}]}}\n"
    )
    limits = only_object(file).run_limits
    assert limits is not None and limits.fields is not None
    # set to nothing, or to a mapping by mistake, is still set
    assert set(limits.fields) == {"backoffLimit", "backoffLimitPerIndex", "activeDeadlineSeconds"}
    assert limits.fields["backoffLimit"].text == "" and limits.fields["backoffLimitPerIndex"].text == ""
    assert limits.fields["activeDeadlineSeconds"].text == "600"
    assert limits.fields["activeDeadlineSeconds"].count == 600


@pytest.mark.parametrize(
    ("text", "written", "spec_line"),
    [
        ("apiVersion: kubeflow.org/v2beta1\nkind: MPIJob\nmetadata: {name: m}\nspec:\n  slotsPerWorker: 4\n", "4", 4),
        (
            "apiVersion: kubeflow.org/v2beta1\nkind: MPIJob\nmetadata: {name: m}\nspec:\n  mpiReplicaSpecs: {}\n",
            None,
            4,
        ),
        (
            "apiVersion: trainer.kubeflow.org/v1alpha1\nkind: TrainJob\nmetadata: {name: t}\nspec:\n"
            "  trainer: {numProcPerNode: auto}\n",
            "auto",
            4,
        ),
    ],
)
def test_processes_per_node(text: str, written: str | None, spec_line: int) -> None:
    setting = only_object(load(text)).processes
    assert setting is not None and setting.spec_span.line == spec_line
    assert (setting.value.text if setting.value is not None else None) == written


def test_no_processes_setting_without_spec() -> None:
    assert only_object(load("apiVersion: kubeflow.org/v1\nkind: PyTorchJob\nmetadata: {name: p}\n")).processes is None


def test_quota() -> None:
    file = load("""\
apiVersion: v1
kind: ResourceQuota
metadata: {name: q, namespace: ml}
spec:
  hard:
    requests.nvidia.com/gpu: "8"
    limits.nvidia.com/gpu: lots
    limits.amd.com/gpu:
  scopes: [NotBestEffort]
""")
    quota = only_object(file).quota
    assert quota is not None and quota.scoped
    keys = ["requests.nvidia.com/gpu", "limits.nvidia.com/gpu", "limits.amd.com/gpu"]
    assert [k.text for k in quota.hard_keys] == keys
    assert quota.hard_keys[1].span[1:3] == lines_of(file, "limits.nvidia.com/gpu")
    assert quota.hard["requests.nvidia.com/gpu"].amount == 8
    assert quota.hard["limits.nvidia.com/gpu"].amount is None and "limits.amd.com/gpu" not in quota.hard
    assert not file.diagnostics  # quota values are judged by the rules that read them, not by the parser


def test_service_and_ingress() -> None:
    file = load("""\
apiVersion: v1
kind: Service
metadata: {name: head}
spec:
  type: LoadBalancer
  selector: {ray.io/node-type: head}
  ports: [{port: 8265, targetPort: dashboard}, {port: 80}]
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: ing}
spec:
  defaultBackend: {service: {name: a, port: {name: dashboard}}}
  rules:
  - http:
      paths:
      - backend: {service: {name: b, port: {number: 8265}}}
""")
    service, ingress = file.objects
    assert service.service is not None and service.service.type is not None
    assert service.service.type.text == "LoadBalancer" and set(service.service.selector) == {"ray.io/node-type"}
    ports = service.service.ports
    assert [(p.port.text if p.port else None, p.target_port.text if p.target_port else None) for p in ports] == [
        ("8265", "dashboard"),
        ("80", None),
    ]
    assert [
        (b.service.text if b.service else None, b.port_name, b.port_number.text if b.port_number else None)
        for b in ingress.backends
    ] == [("a", "dashboard", None), ("b", None, "8265")]
    assert ingress.backends[1].port_number is not None
    assert ingress.backends[1].port_number.span.line == 17


# -- Compose -----------------------------------------------------------------------------------------------------------


def test_compose_settings_devices_and_volume_sources() -> None:
    file = load(
        """\
x-host: &host
  network_mode: host
services:
  train:
    <<: *host
    image: img:1
    pid: host
    build: {context: ., dockerfile: Dockerfile.gpu}
    volumes:
    - /var/run/docker.sock:/var/run/docker.sock
    - type: bind
      source: /
      target: /host
    - data:/data
    deploy:
      resources:
        reservations:
          devices:
          - driver: nvidia
            count: 1
            device_ids: ["0"]
""",
        "docker-compose.yml",
    )
    (service,) = file.workloads
    pod = service.pod
    assert pod.network_mode is not None and pod.network_mode.key_span is not None
    assert pod.network_mode.key_span[1:3] == lines_of(file, "network_mode")  # through the merge key
    assert pod.host_network and pod.host_pid and pod.pid is not None
    assert [v.text for v in pod.volume_sources] == ["/var/run/docker.sock", "/", "data"]
    assert pod.volume_sources[1].span[1:3] == lines_of(file, "type: bind")
    (device,) = pod.devices
    assert device.driver == "nvidia" and device.count is not None and device.count.text == "1"
    assert not device.capabilities and device.device_ids is not None
    assert device.span[1:3] == lines_of(file, "driver: nvidia")
    assert service.dockerfile is not None and service.dockerfile.text == "Dockerfile.gpu"


# -- kind groups -------------------------------------------------------------------------------------------------------


def test_kind_groups_come_from_the_tables() -> None:
    ray = {"RayCluster", "RayJob", "RayService"}
    operators = {"PyTorchJob", "TFJob", "MPIJob", "XGBoostJob", "PaddleJob", "JAXJob", "MXJob"}
    assert ray == set(kinds.RAY_KINDS)
    assert operators == set(kinds.TRAINING_OPERATOR_KINDS)
    assert kinds.RAY_KINDS.issubset(kinds.KINDS) and kinds.TRAINING_OPERATOR_KINDS.issubset(kinds.KINDS)
    assert kinds.TRAINING_OPERATOR_KINDS.issubset(kinds.RETRY_POLICIES)
    assert (kinds.TRAINING_OPERATOR_KINDS | kinds.TRAINER_KINDS).issubset(kinds.TRAINING_KINDS)
    assert "RayService" not in kinds.TRAINING_KINDS and not kinds.SERVING_KINDS & kinds.TRAINING_KINDS
    assert kinds.PROBE_INJECTING_KINDS.issubset(kinds.SERVING_PLATFORM_KINDS)
    assert "RayService" in kinds.SERVING_PLATFORM_KINDS
    assert set(kinds.PROCESSES_PER_NODE).issubset(kinds.KINDS)
    assert kinds.PROCESSES_PER_NODE["TrainJob"].key == "numProcPerNode"
    for role in kinds.JOB_TEMPLATE_ROLES:
        assert role.split("/", 1)[0] in kinds.KINDS


def test_ray_extraction_uses_the_cluster_spec_paths() -> None:
    for kind, spec in kinds.RAY_CLUSTER_SPECS.items():
        paths = [e.path for e in kinds.KINDS[kind]]
        assert f"{spec}.headGroupSpec.template.spec" in paths
        assert f"{spec}.workerGroupSpecs.[].template.spec" in paths
