"""NVML behind one small interface: the functions of `pynvml` (nvidia-ml-py) mllint calls, an error
translation that a user understands, and `read_host()`, which turns them into `Host` facts.

The real backend is the `pynvml` module itself; `mllint.live.fake.FakeNvml` implements the same
functions for tests. Only live mode imports this module; `mllint scan` never loads NVML."""

from __future__ import annotations

import contextlib
import re
import socket
from typing import Any, Protocol

from mllint.live.host import Host, HostGpu

# NVML_ERROR_* codes (nvml.h; nvidia-ml-py 13.615.71 pynvml.py)
NOT_SUPPORTED, NO_PERMISSION, NOT_FOUND, DRIVER_NOT_LOADED = 3, 4, 6, 9
LIBRARY_NOT_FOUND, FUNCTION_NOT_FOUND, GPU_IS_LOST, LIB_RM_VERSION_MISMATCH = 12, 13, 15, 18
MIG_ENABLE, MEMORY_ERROR_TYPE_UNCORRECTED, VOLATILE_ECC = 1, 1, 0

NOT_NEEDED = "static scanning (`mllint scan`) does not need it"
_MESSAGES = {
    LIBRARY_NOT_FOUND: "the NVIDIA driver's NVML library (libnvidia-ml.so.1) is not on this machine: it has no "
    "NVIDIA driver, or this container was started without the GPU (--gpus all, the NVIDIA "
    "container toolkit)",
    DRIVER_NOT_LOADED: "the NVIDIA kernel driver is not loaded (NVML: Driver Not Loaded); `nvidia-smi` fails the "
    "same way until the driver is installed and loaded",
    NO_PERMISSION: "NVML refused access (Insufficient Permissions): run as a user that may open /dev/nvidiactl "
    "and /dev/nvidia*",
    LIB_RM_VERSION_MISMATCH: "the NVML library and the loaded kernel driver have different versions (the driver "
    "was upgraded without a reboot): reboot or reload the nvidia module",
}


class LiveError(Exception):
    """Live mode cannot read the host; the message is one line for the user."""


class Backend(Protocol):
    """The functions of `pynvml` that mllint calls (the real module satisfies it, and so does FakeNvml)."""

    def nvmlInit(self) -> None: ...
    def nvmlShutdown(self) -> None: ...
    def nvmlSystemGetDriverVersion(self) -> str: ...
    def nvmlSystemGetCudaDriverVersion(self) -> int: ...
    def nvmlDeviceGetCount(self) -> int: ...
    def nvmlDeviceGetHandleByIndex(self, index: int) -> Any: ...
    def nvmlDeviceGetName(self, handle: Any) -> str: ...
    def nvmlDeviceGetUUID(self, handle: Any) -> str: ...
    def nvmlDeviceGetMemoryInfo(self, handle: Any) -> Any: ...
    def nvmlDeviceGetCudaComputeCapability(self, handle: Any) -> tuple[int, int]: ...
    def nvmlDeviceGetMigMode(self, handle: Any) -> list[int]: ...
    def nvmlDeviceGetMaxMigDeviceCount(self, handle: Any) -> int: ...
    def nvmlDeviceGetMigDeviceHandleByIndex(self, handle: Any, index: int) -> Any: ...
    def nvmlDeviceGetPersistenceMode(self, handle: Any) -> int: ...
    def nvmlDeviceGetTotalEccErrors(self, handle: Any, error_type: int, counter_type: int) -> int: ...


def load() -> Backend:
    """The real NVML bindings; LiveError when nvidia-ml-py is not installed."""
    try:
        import pynvml
    except ImportError:
        raise LiveError(
            f"live mode needs the nvidia-ml-py package (pip install 'mllint-infra[live]'); {NOT_NEEDED}"
        ) from None
    return pynvml


def code(exc: BaseException) -> int | None:
    """The NVML_ERROR_* code of an NVMLError (real or fake), or None for other exceptions."""
    value = getattr(exc, "value", None)
    return value if isinstance(value, int) else None


def explain(exc: BaseException) -> str:
    return _MESSAGES.get(code(exc) or -1, f"NVML failed: {exc}")


def read_host(nvml: Backend, hostname: str | None = None) -> Host:
    """Every fact live mode checks, read once; NVML is shut down however the reading ends."""
    try:
        nvml.nvmlInit()
    except Exception as exc:  # NVMLError, or the OSError of a broken libnvidia-ml
        raise LiveError(f"cannot read the GPUs: {explain(exc)}; {NOT_NEEDED}") from None
    try:
        host = Host(
            hostname or getattr(nvml, "hostname", None) or socket.gethostname(),
            _text(nvml.nvmlSystemGetDriverVersion()),
            _cuda(nvml),
        )
        for index in range(nvml.nvmlDeviceGetCount()):
            host.gpus.append(_gpu(nvml, index))
        return host
    except LiveError:
        raise
    except Exception as exc:
        if code(exc) is None:
            raise
        raise LiveError(f"cannot read the GPUs: {explain(exc)}; {NOT_NEEDED}") from None
    finally:
        with contextlib.suppress(Exception):  # a failed shutdown loses nothing that was read
            nvml.nvmlShutdown()


def _text(value: str | bytes) -> str:
    return value.decode() if isinstance(value, bytes) else value


def _cuda(nvml: Backend) -> tuple[int, int] | None:
    """nvml.h: NVML_CUDA_DRIVER_VERSION_MAJOR(v) = v / 1000, _MINOR(v) = (v % 1000) / 10."""
    try:
        value = nvml.nvmlSystemGetCudaDriverVersion()
    except Exception as exc:
        if code(exc) is None:
            raise
        return None
    return value // 1000, (value % 1000) // 10


def _optional(call: Any, *args: Any) -> Any:
    """A value NVML may not support on this GPU (ECC on GeForce, MIG on pre-Ampere): None then."""
    try:
        return call(*args)
    except Exception as exc:
        if code(exc) in (NOT_SUPPORTED, FUNCTION_NOT_FOUND, NOT_FOUND):
            return None
        raise


def _gpu(nvml: Backend, index: int) -> HostGpu:
    gpu = HostGpu(index)
    try:
        handle = nvml.nvmlDeviceGetHandleByIndex(index)
        gpu.name = _text(nvml.nvmlDeviceGetName(handle))
        gpu.uuid = _text(nvml.nvmlDeviceGetUUID(handle))
        gpu.memory_mib = int(nvml.nvmlDeviceGetMemoryInfo(handle).total) // (1024 * 1024)
        cc = nvml.nvmlDeviceGetCudaComputeCapability(handle)
        gpu.cc = (int(cc[0]), int(cc[1]))
        mig = _optional(nvml.nvmlDeviceGetMigMode, handle)
        gpu.mig_enabled = bool(mig) and mig[0] == MIG_ENABLE
        if gpu.mig_enabled:
            for slot in range(nvml.nvmlDeviceGetMaxMigDeviceCount(handle)):
                device = _optional(nvml.nvmlDeviceGetMigDeviceHandleByIndex, handle, slot)
                if device is not None:
                    match = re.search(r"MIG (\S+)$", _text(nvml.nvmlDeviceGetName(device)))
                    if match:
                        gpu.mig_devices.append(match[1])
        persistence = _optional(nvml.nvmlDeviceGetPersistenceMode, handle)
        gpu.persistence = None if persistence is None else persistence == 1
        gpu.ecc_uncorrected = _optional(
            nvml.nvmlDeviceGetTotalEccErrors, handle, MEMORY_ERROR_TYPE_UNCORRECTED, VOLATILE_ECC
        )
    except Exception as exc:
        if code(exc) != GPU_IS_LOST:
            raise
        gpu.lost = "GPU is lost"
    return gpu
