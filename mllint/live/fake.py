"""A fake NVML with the functions of `pynvml` mllint calls, answering from a host description (JSON):
what tests and `mllint live --fake-nvml` use where no GPU is present.

    {"hostname": "dgx-h100-01", "driver": "550.54.15", "cuda_driver": 12040,
     "gpus": [{"name": "NVIDIA H100 80GB HBM3", "uuid": "GPU-...", "memory_mib": 81559, "cc": [9, 0],
               "mig": null, "mig_devices": [], "persistence": 1, "ecc_uncorrected": 0, "lost": false}],
     "error": null}

`mig: null` means the GPU does not support MIG; `ecc_uncorrected: null` that it has no ECC; `lost`
that it has fallen off the bus; `error` makes nvmlInit fail with that NVML_ERROR_* code."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from mllint.live import nvml
from mllint.records import record


class FakeNvmlError(Exception):
    """Raised like pynvml's NVMLError: `.value` is the NVML_ERROR_* code."""

    def __init__(self, value: int) -> None:
        super().__init__(f"NVML error {value}")
        self.value = value


@record(frozen=True)
class _Memory:
    total: int
    free: int
    used: int


class FakeNvml:
    def __init__(self, spec: dict[str, Any]) -> None:
        self.spec = spec
        self.hostname = spec.get("hostname", "fake-host")
        self.initialized = 0

    @classmethod
    def from_file(cls, path: str | Path) -> FakeNvml:
        return cls(json.loads(Path(path).read_text(encoding="utf-8")))

    def _check(self) -> None:
        if self.initialized <= 0:
            raise FakeNvmlError(1)  # NVML_ERROR_UNINITIALIZED

    def nvmlInit(self) -> None:
        if self.spec.get("error") is not None:
            raise FakeNvmlError(int(self.spec["error"]))
        self.initialized += 1

    def nvmlShutdown(self) -> None:
        self._check()
        self.initialized -= 1

    def nvmlSystemGetDriverVersion(self) -> str:
        self._check()
        return str(self.spec["driver"])

    def nvmlSystemGetCudaDriverVersion(self) -> int:
        self._check()
        return int(self.spec["cuda_driver"])

    def nvmlDeviceGetCount(self) -> int:
        self._check()
        return len(self.spec.get("gpus", []))

    def nvmlDeviceGetHandleByIndex(self, index: int) -> Any:
        self._check()
        gpus = self.spec.get("gpus", [])
        if not 0 <= index < len(gpus):
            raise FakeNvmlError(2)  # NVML_ERROR_INVALID_ARGUMENT
        if gpus[index].get("lost"):
            raise FakeNvmlError(nvml.GPU_IS_LOST)
        return ("gpu", index)

    def _gpu(self, handle: Any) -> dict[str, Any]:
        self._check()
        return dict(self.spec["gpus"][handle[1]])

    def nvmlDeviceGetName(self, handle: Any) -> str:
        gpu = self._gpu(handle)
        if handle[0] == "mig":
            return f"{gpu['name']} MIG {gpu['mig_devices'][handle[2]]}"
        return str(gpu["name"])

    def nvmlDeviceGetUUID(self, handle: Any) -> str:
        gpu = self._gpu(handle)
        return (
            str(gpu.get("uuid", f"GPU-fake-{handle[1]}")) if handle[0] == "gpu" else f"MIG-fake-{handle[1]}-{handle[2]}"
        )

    def nvmlDeviceGetMemoryInfo(self, handle: Any) -> _Memory:
        total = int(self._gpu(handle)["memory_mib"]) * 1024 * 1024
        return _Memory(total, total, 0)

    def nvmlDeviceGetCudaComputeCapability(self, handle: Any) -> tuple[int, int]:
        major, minor = self._gpu(handle)["cc"]
        return int(major), int(minor)

    def nvmlDeviceGetMigMode(self, handle: Any) -> list[int]:
        mig = self._gpu(handle).get("mig")
        if mig is None:
            raise FakeNvmlError(nvml.NOT_SUPPORTED)
        return [int(mig), int(mig)]

    def nvmlDeviceGetMaxMigDeviceCount(self, handle: Any) -> int:
        return 7 if self._gpu(handle).get("mig") is not None else 0

    def nvmlDeviceGetMigDeviceHandleByIndex(self, handle: Any, index: int) -> Any:
        devices = self._gpu(handle).get("mig_devices", [])
        if index >= len(devices):
            raise FakeNvmlError(nvml.NOT_FOUND)
        return ("mig", handle[1], index)

    def nvmlDeviceGetPersistenceMode(self, handle: Any) -> int:
        value = self._gpu(handle).get("persistence")
        if value is None:
            raise FakeNvmlError(nvml.NOT_SUPPORTED)
        return int(value)

    def nvmlDeviceGetTotalEccErrors(self, handle: Any, error_type: int, counter_type: int) -> int:
        value = self._gpu(handle).get("ecc_uncorrected")
        if value is None:
            raise FakeNvmlError(nvml.NOT_SUPPORTED)
        return int(value)
