"""The facts live mode reads from a GPU host, and the host profile they become: one node pool of the
`cluster` configuration, which `mllint scan --profile` reads back."""

from __future__ import annotations

import json
from dataclasses import asdict, field
from pathlib import Path
from typing import Any

from mllint.records import record

PROFILE_VERSION = 1


class ProfileError(Exception):
    """A host profile that cannot be read; the message names the file and the problem."""


@record(slots=True)
class HostGpu:
    index: int
    name: str = ""
    uuid: str = ""
    memory_mib: int | None = None
    cc: tuple[int, int] | None = None
    mig_enabled: bool = False
    mig_devices: list[str] = field(default_factory=list)  # the profiles of its MIG devices: 1g.10gb, ...
    persistence: bool | None = None  # None: not reported (Windows, some virtual GPUs)
    ecc_uncorrected: int | None = None  # volatile uncorrected ECC errors; None where ECC is not supported
    lost: str | None = None  # why NVML cannot reach the GPU ("GPU is lost"), or None


@record(slots=True)
class Host:
    hostname: str
    driver: str
    cuda_driver: tuple[int, int] | None  # the driver API version NVML reports (12040 -> 12.4)
    gpus: list[HostGpu] = field(default_factory=list)

    @property
    def live_gpus(self) -> list[HostGpu]:
        return [g for g in self.gpus if g.lost is None]

    def location(self, gpu: HostGpu | None = None) -> str:
        """How findings name the host (or one of its GPUs): `nvml://node-1/gpu/3`."""
        return f"nvml://{self.hostname}" + (f"/gpu/{gpu.index}" if gpu is not None else "")

    def pool(self) -> dict[str, Any]:
        """The host as one node pool of the cluster profile (the schema of `cluster.pools[]`)."""
        live = self.live_gpus
        pool: dict[str, Any] = {"name": self.hostname, "host": True, "driver": self.driver, "gpus": len(live)}
        models = list(dict.fromkeys(g.name for g in live if g.name))
        if models:
            pool["gpu"] = models[0]
        capabilities = sorted({g.cc for g in live if g.cc is not None})
        if capabilities:
            pool["compute-capability"] = "{}.{}".format(*capabilities[0])  # the oldest GPU decides
        memory = [g.memory_mib for g in live if g.memory_mib is not None]
        if memory:
            pool["gpu-memory"] = min(memory)
        if live and all(g.mig_enabled for g in live):
            pool["mig"] = True
        pool["mig-profiles"] = sorted({p for g in live for p in g.mig_devices})
        return pool

    def profile(self) -> dict[str, Any]:
        return {
            "mllint-host-profile": PROFILE_VERSION,
            "cluster": {"pools": [self.pool()]},
            "host": {**asdict(self), "gpus": [asdict(g) for g in self.gpus]},
        }


def write_profile(host: Host, path: str) -> None:
    Path(path).write_text(json.dumps(host.profile(), indent=2) + "\n", encoding="utf-8")


def read_profile(path: str) -> dict[str, Any]:
    """The `cluster` value of a host profile, checked against the configuration schema's `cluster`;
    a mistake is reported as `file:line:col: key: message`, like a configuration file's."""
    import jsonschema

    from mllint.config import ConfigError, load_yaml, schema, schema_error

    try:
        text = Path(path).read_text(encoding="utf-8")
        values, locate = load_yaml(Path(path), text)  # JSON is YAML: one reader, with positions
    except OSError as exc:
        raise ProfileError(f"{path}: cannot read: {exc.strerror}") from None
    except ConfigError as exc:
        raise ProfileError(str(exc)) from None
    if not isinstance(values, dict) or values.get("mllint-host-profile") != PROFILE_VERSION:
        raise ProfileError(f"{path}: not an mllint host profile (write one with `mllint live --write-profile`)")
    cluster = schema()["properties"]["cluster"]
    error = next(
        iter(
            sorted(
                jsonschema.Draft202012Validator(cluster).iter_errors(values.get("cluster")),
                key=lambda e: list(map(str, e.absolute_path)),
            )
        ),
        None,
    )
    if error is not None:
        raise ProfileError(str(schema_error(Path(path), error, ["cluster"], locate, ", ".join(cluster["properties"]))))
    return dict(values.get("cluster") or {})
