"""What one scan is asked to do: the command line and the configuration merged into plain data."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import field
from typing import TYPE_CHECKING, Any

from mllint.cuda.targets import CudaConfig
from mllint.gpus import GPU_RESOURCES
from mllint.loader import MAX_BYTES
from mllint.records import record

if TYPE_CHECKING:
    from mllint.config import Config


class UsageError(Exception):
    """A mistake in how mllint was called or configured (exit code 2)."""


@record
class Options:
    select: Sequence[str] = ()
    ignore: Sequence[str] = ()
    extend_select: Sequence[str] = ()
    severity: Mapping[str, str] = field(default_factory=dict)
    params: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    excludes: Sequence[str] = ()
    max_bytes: int = MAX_BYTES
    jobs: int = 0  # 0: as many as there are CPUs, for large scans
    per_path_ignores: Mapping[str, Sequence[str]] = field(default_factory=dict)  # glob -> rule selectors
    inline_suppressions: bool = True
    config_root: str | None = None  # per-path globs are also matched relative to this folder
    index_paths: Sequence[str] = ()  # also read for cross-file facts; findings there are not reported
    rule_files: Sequence[str] = ()  # the project's custom rules (`mllint.policy`)
    preview: bool = False  # run the rules whose status is preview
    file_seconds: float = 60.0  # each file's time budget; an overrun is an internal error for that file
    gpu_resources: Sequence[str] = GPU_RESOURCES  # extended resources that are GPUs, as globs
    progress: Callable[[int, int], None] | None = None  # called with (files done, files in all)
    cuda: CudaConfig = field(default_factory=CudaConfig)  # cluster profile, image → CUDA, --driver-version
    roles: Mapping[str, str] = field(default_factory=dict)  # image glob -> container role (configuration `roles:`)
    host: Any = None  # live mode: the mllint.live.host.Host that Host rules check
    cache_dir: str | None = None  # where results are kept between scans (`mllint.cache`); None: no cache


def from_config(
    cfg: Config,
    *,
    select: Sequence[str] = (),
    ignore: Sequence[str] = (),
    extend_select: Sequence[str] = (),
    severity: Mapping[str, str] | None = None,
    excludes: Sequence[str] = (),
    preview: bool = False,
    inline_suppressions: bool = True,
    cuda: CudaConfig | None = None,
    **rest: Any,
) -> Options:
    """The options of a scan under `cfg`: command-line `select` replaces the configuration's; ignores,
    extensions, excludes and severities add to it (the command line wins on the same rule)."""
    from mllint import config
    from mllint.cuda import targets

    return Options(
        select=list(select) or list(cfg.get("select", [])),
        ignore=[*cfg.get("ignore", []), *ignore],
        extend_select=[*cfg.get("extend-select", []), *extend_select],
        severity={**cfg.get("severity", {}), **(severity or {})},
        params=config.rule_params(cfg),
        excludes=[*cfg.get("exclude", []), *excludes],
        per_path_ignores=cfg.get("per-path-ignores", {}),
        inline_suppressions=inline_suppressions and cfg.get("inline-suppressions", True),
        config_root=str(cfg.root) if cfg.path else None,
        rule_files=cfg.rule_files,
        preview=preview or bool(cfg.get("preview", False)),
        gpu_resources=tuple(cfg.get("gpu-resources", GPU_RESOURCES)),
        roles=dict(cfg.get("roles") or {}),
        cuda=cuda if cuda is not None else targets.from_config(cfg.values, None, str(cfg.root)),
        **rest,
    )
