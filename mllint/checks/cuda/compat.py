"""ML2xx: CUDA, driver and GPU-architecture compatibility, from what an image needs and what a node provides."""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import lru_cache

from mllint import lazy_re
from mllint.checks.context import TRUE, Ctx, ProjectCtx, who
from mllint.cuda import targets, versions
from mllint.cuda.images import Cuda, Unknown
from mllint.cuda.needs import ARCH_LIST_NAMES, Need, image_cuda, stage_needs, strongest
from mllint.cuda.targets import CudaConfig, Target
from mllint.knowledge import table
from mllint.model import Container, Finding, ImageBuild, Span, Stage, Workload, is_digits
from mllint.project import BuildFacts, ProjectFacts
from mllint.registry import rule
from mllint.shell import commands
from mllint.stages import env_pairs


def _build_targets(project: ProjectFacts, build: BuildFacts, config: CudaConfig) -> list[tuple[Target, str]]:
    """The nodes an image runs on, each with who runs it there: the targets of the workloads in the scan
    that run it (Compose `build:`, `images: {dockerfile:}`); every pool and `--driver-version` when none does."""
    uses = project.uses_by_dockerfile.get(build.key)
    if not uses:
        return [(t, "") for t in (*config.pools, *config.everywhere)]
    by_target: dict[Target, list[str]] = {}
    for use in uses:
        for target in use.targets:
            by_target.setdefault(target, []).append(use.who)
    return [(t, "; run there by " + ", ".join(dict.fromkeys(users))) for t, users in by_target.items()]


def _build_needs(project: ProjectFacts, build: BuildFacts) -> list[Need]:
    """The Dockerfile's own needs and the CUDA pins of the requirements files it installs."""
    needs = list(build.needs)
    for key in dict.fromkeys(k for k, _span in build.requirements):
        needs += [Need(n.cuda, n.span, f"the image built by {build.path}") for n in project.requirements.get(key, ())]
    return needs


# -- ML201 -----------------------------------------------------------------------------------------------------


def _driver_verdict(need: Need, target: Target) -> tuple[str, str] | None:
    """(severity, explanation) when the target's driver cannot run the need's CUDA; None when it can."""
    if target.driver_high is None:
        return None
    cuda = need.cuda
    req = versions.requirement(cuda.version)
    floor_row = versions.floor(cuda.version[0])
    toolkit = req.toolkit if req else None
    floor = versions.parse(floor_row["linux"]) if floor_row else None
    high = target.driver_high
    if toolkit is not None and high >= toolkit:
        return None
    needs = (f"driver ≥ {req.toolkit_text}" if req else f"a CUDA {cuda.version[0]} driver") + (
        f" (≥ {floor_row['linux']} with minor-version compatibility)" if floor_row and floor != toolkit else ""
    )
    have = f"on {target.name}: {target.driver_text}"
    if floor is not None and high >= floor:
        if toolkit is None:
            return None
        return "warning", (
            f"needs {needs}; {have}, so it runs only through minor-version compatibility, where "
            "PTX JIT and features newer than the driver fail"
        )
    verified = (
        cuda.verified and (req.toolkit_verified if req else True) and (floor_row is None or floor_row["verified"])
    )
    forward = versions.forward_compat(cuda.version, cuda.release) if cuda.compat else None
    if forward is not None and target.gpu is not None and target.gpu.datacenter and target.driver_low:
        on = f"on its data-center {target.gpu.model} GPUs"
        if forward.covers(target.driver_low):
            return "warning", (
                f"needs {needs}; {have}: {on} it runs only through forward compatibility (the cuda-compat "
                f"package in the image; branches {', '.join(b + '+' for b in forward.branches)} per {forward.label})"
            )
        if not forward.verified:  # an error needs a confirmed list that leaves this branch out
            known = "are not in mllint's table" if not forward.branches else "are not confirmed"
            return "warning", (
                f"needs {needs}; {have}: {on} it may run through forward compatibility, but the branches "
                f"{forward.label} allow {known}"
            )
    text = f"needs {needs}; {have}: CUDA fails with 'driver version is insufficient for CUDA runtime version'"
    if not verified:
        text += " (the table row behind this is not confirmed by NVIDIA's release notes)"
    return ("error" if verified else "warning"), text


def _driver_findings(needs: list[Need], found_targets: list[tuple[Target, str]]) -> Iterator[Finding]:
    need = strongest(needs)
    if need is None:
        return
    for target, users in found_targets:
        verdict = _driver_verdict(need, target)
        if verdict is not None:
            severity, text = verdict
            yield Finding.at(
                need.span,
                f"{need.what} needs CUDA {need.cuda} ({need.cuda.origin}), which {text}{users}",
                fix=f"use an image built for CUDA ≤ {_native(target)} or upgrade the driver of {target.name}",
                severity=severity,
            )


def _native(target: Target) -> str:
    native = versions.native_cuda(target.driver_low or ())
    return versions.show(native) if native else "what the driver supports"


def _container_needs(container: Container, ctx: Ctx) -> list[Need]:
    if container.image is None or container.image.templated:
        return []
    cuda = image_cuda(container.image.resolved, ctx.cuda)
    if not isinstance(cuda, Cuda):
        return []
    return [Need(cuda, container.image.span, f"image {container.image.resolved}")]


def _workload_targets(workload: Workload, ctx: Ctx) -> list[Target]:
    return targets.for_workload_pod(workload.pod, ctx.cuda)


@rule("ML201")
def cuda_driver_too_old(target: Workload | ProjectFacts, ctx: Ctx | ProjectCtx) -> Iterator[Finding]:
    if isinstance(target, ProjectFacts):
        for build in target.builds:
            yield from _driver_findings(_build_needs(target, build), _build_targets(target, build, ctx.cuda))
        return
    assert isinstance(ctx, Ctx)
    found = [(t, "") for t in _workload_targets(target, ctx)]
    if not found:
        return
    for container in target.pod.all_containers:
        for finding in _driver_findings(_container_needs(container, ctx), found):
            finding.message = f"{who(container, ctx)}: {finding.message}"
            yield finding


# -- ML202 -----------------------------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def _arch_rows() -> tuple[list[tuple[tuple[int, ...], tuple[int, ...]]], dict[tuple[int, ...], tuple[int, ...]]]:
    data = table("cuda_arch")
    minimum = [(versions.parse(r["from_cuda"]) or (), versions.parse(r["min_cc"]) or ()) for r in data["min_cc"]]
    first = {versions.parse(r["cc"]) or (): versions.parse(r["cuda"]) or () for r in data["first_cuda"]}
    return minimum, first


def arch_problem(cuda: tuple[int, ...], cc: tuple[int, int]) -> str | None:
    """Why CUDA `cuda` builds no cubin that runs on compute capability `cc`, or None. A cubin runs on any GPU of
    the same major and the same or a higher minor, so only a major the release does not know is a problem
    (CUDA 11.7 on an L4, 8.9, runs its 8.6 cubins; on an H100, 9.0, it has none)."""
    minimum, first = _arch_rows()
    release = (cuda + (0, 0))[:2]
    for from_cuda, min_cc in sorted(minimum, reverse=True):
        if release >= from_cuda[:2]:
            if cc < min_cc[:2]:
                return (
                    f"CUDA {versions.show(from_cuda)} and later build nothing below compute capability "
                    f"{versions.show(min_cc)}"
                )
            break
    known = [needed for row_cc, needed in first.items() if row_cc[:1] == cc[:1] and row_cc[1:2] <= cc[1:2]]
    needed = min(known, default=None)
    if needed is None:
        return None
    if (len(cuda) >= 2 and release < needed[:2]) or (len(cuda) == 1 and cuda[0] < needed[0]):
        return (
            f"CUDA {versions.show(cuda)} builds no code for compute capability {cc[0]}.x, which needs CUDA ≥ "
            f"{versions.show(needed)} (cubins of an older major do not run on it)"
        )
    return None


def _ptx_covers(value: str | None, cc: tuple[int, int]) -> bool:
    """Whether an arch list (`8.0 8.6+PTX`) embeds PTX at or below `cc`, which the driver may JIT-compile."""
    return bool(value) and any(m[3] and (int(m[1]), int(m[2])) <= cc for m in _ARCH_ENTRY.finditer(value or ""))


_ARCH_ENTRY = lazy_re.compile(r"(\d+)\.(\d+)(\+PTX)?", re.I)


def arch_list_covers(value: str, cc: tuple[int, int]) -> bool:
    """Whether TORCH_CUDA_ARCH_LIST (`7.5 8.0;8.6+PTX`) builds code that runs on `cc`: a cubin of the same
    major at or below its minor, or PTX at or below it."""
    for match in _ARCH_ENTRY.finditer(value):
        entry = (int(match[1]), int(match[2]))
        if (entry[0] == cc[0] and entry[1] <= cc[1]) or (match[3] and entry <= cc):
            return True
    return not _ARCH_ENTRY.search(value)  # names like "Ampere" or "All": not judged


def _arch_findings(
    needs: list[Need], found_targets: list[tuple[Target, str]], arch_list: str | None = None
) -> Iterator[Finding]:
    need = strongest(needs)
    for target, users in found_targets:
        if target.cc is None:
            continue
        if need is not None:
            problem = arch_problem(need.cuda.version, target.cc)
            if problem is not None:
                gpu = target.gpu.model if target.gpu else "GPU"
                ptx = _ptx_covers(arch_list, target.cc)
                jit = (
                    "its arch list embeds PTX, which the driver JIT-compiles for the GPU (slowly, at first start)"
                    if ptx
                    else "kernels fail with 'no kernel image is available' unless the binaries carry PTX, which "
                    "the driver may JIT-compile"
                )
                sure = need.cuda.verified and (target.gpu is None or target.gpu.verified or target.cc != target.gpu.cc)
                yield Finding.at(
                    need.span,
                    f"{need.what} needs CUDA {need.cuda} ({need.cuda.origin}); "
                    f"on {target.name} the GPU is {gpu} (compute capability {versions.show(target.cc)}): "
                    f"{problem}, so {jit}{users}",
                    fix=f"build for a CUDA release that supports compute capability "
                    f"{versions.show(target.cc)}, or schedule on GPUs the image supports",
                    severity="error" if sure and not ptx else "warning",
                )


def _arch_list_findings(setting: tuple[str, Span] | None, found_targets: list[tuple[Target, str]]) -> Iterator[Finding]:
    if setting is None:
        return
    value, span = setting
    for target, users in found_targets:
        if target.cc is not None and not arch_list_covers(value, target.cc):
            gpu = target.gpu.model if target.gpu else "GPU"
            yield Finding.at(
                span,
                f"TORCH_CUDA_ARCH_LIST={value!r} builds no code that runs on {target.name} "
                f"({gpu}, compute capability {versions.show(target.cc)}){users}",
                fix=f"add {versions.show(target.cc)} (or a lower {target.cc[0]}.x, or +PTX) to the list",
            )


@rule("ML202")
def gpu_arch_unsupported(target: Workload | ProjectFacts, ctx: Ctx | ProjectCtx) -> Iterator[Finding]:
    if isinstance(target, ProjectFacts):
        for build in target.builds:
            found = _build_targets(target, build, ctx.cuda)
            arch = build.arch_list[0] if build.arch_list else None
            yield from _arch_findings(_build_needs(target, build), found, arch)
            yield from _arch_list_findings(build.arch_list, found)
        return
    assert isinstance(ctx, Ctx)
    found = [(t, "") for t in _workload_targets(target, ctx)]
    for container in target.pod.all_containers:
        setting = next(((e.value, e.span) for e in container.env if e.name in ARCH_LIST_NAMES and e.value), None)
        for finding in _arch_findings(_container_needs(container, ctx), found, setting[0] if setting else None):
            finding.message = f"{who(container, ctx)}: {finding.message}"
            yield finding
        yield from _arch_list_findings(setting, found)


# -- ML204 -----------------------------------------------------------------------------------------------------


@rule("ML204")
def cuda_major_differs_across_stages(build: ImageBuild, ctx: Ctx) -> Iterator[Finding]:
    aliases = {s.alias.text.lower(): s for s in build.stages if s.alias}
    for stage in build.stages:
        own = strongest(stage_needs(build, stage, ctx.cuda, copies=False))
        if own is None:
            continue
        for ins in stage.instructions:
            source_flag = ins.flags.get("from") if ins.keyword == "COPY" else None
            if source_flag is None:
                continue
            name = source_flag.text.lower()
            source = aliases.get(name) or (
                build.stages[int(name)] if is_digits(name) and int(name) < len(build.stages) else None
            )
            if source is None or source is stage:
                continue
            theirs = strongest(stage_needs(build, source, ctx.cuda, copies=False))
            if theirs is not None and theirs.cuda.version[0] != own.cuda.version[0]:
                yield Finding.at(
                    source_flag.span,
                    f"COPY --from={source_flag.text} brings files built against CUDA {theirs.cuda} "
                    f"({theirs.cuda.origin}) into a stage on CUDA {own.cuda} ({own.cuda.origin}); "
                    f"libraries of CUDA {theirs.cuda.version[0]} do not load on the CUDA "
                    f"{own.cuda.version[0]} runtime",
                    fix="build both stages on the same CUDA major",
                )


# -- ML205, ML206, ML208 ------------------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def _driver_packages() -> re.Pattern[str]:
    data = table("frameworks")["cuda_drivers_packages"]
    names = {*data["apt"], *data["dnf"]}
    globbed = "|".join(re.escape(n).replace(r"\*", "[A-Za-z0-9.+-]*") for n in sorted(names))
    return re.compile(rf"^(?:{globbed})(?:=.*)?$")


@rule("ML205")
def driver_installed_in_image(stage: Stage, ctx: Ctx) -> Iterator[Finding]:
    for ins in stage.instructions:
        if ins.keyword != "RUN":
            continue
        text = ins.args[ins.args_offset :]
        for words in commands(text):
            names = [w.rsplit("/", 1)[-1] for w, _s, _e in words]
            runfile = next(((w, s, e) for w, s, e in words if re.match(r"(?:\./|.*/)?NVIDIA-Linux-.*\.run$", w)), None)
            hits = []
            if runfile and not any(n in ("wget", "curl") for n in names):
                hits.append(runfile)
            if any(n in ("apt-get", "apt", "aptitude", "dnf", "yum", "microdnf") for n in names) and "install" in names:
                hits += [(w, s, e) for w, s, e in words if _driver_packages().match(w)]
            for word, start, end in hits:
                yield Finding.at(
                    ins.span_of(start + ins.args_offset, end + ins.args_offset),
                    f"{word} installs an NVIDIA driver inside the image; the container toolkit mounts the host's "
                    "driver libraries, and a second copy in the image shadows them when versions differ",
                    fix="remove the driver from the image; install only CUDA user-space libraries (cuda-libraries-*, "
                    "cuda-runtime-*)",
                )


@rule("ML206")
def nvidia_disable_require(target: Stage | Container, ctx: Ctx) -> Iterator[Finding]:
    if isinstance(target, Stage):
        for ins in target.instructions:
            if ins.keyword == "ENV":
                for name, value, start, end in env_pairs(ins):
                    if name == "NVIDIA_DISABLE_REQUIRE" and value.strip().lower() in TRUE:
                        yield _disable_finding(ins.span_of(start, end))
        return
    for env in target.env:
        if env.name == "NVIDIA_DISABLE_REQUIRE" and (env.value or "").strip().lower() in TRUE:
            yield _disable_finding(env.span)


def _disable_finding(span: Span) -> Finding:
    return Finding.at(
        span,
        "NVIDIA_DISABLE_REQUIRE turns off the container runtime's check that the host driver "
        "can run the image's CUDA; an incompatible node then fails inside the application",
        fix="remove it and fix the driver/CUDA mismatch it hides (mllint scan --driver-version)",
    )


_SUGGEST = {
    "tensorflow/tensorflow": "tensorflow/tensorflow:2.15.0-gpu (CUDA 12.2)",
    "pytorch/pytorch": "pytorch/pytorch:2.4.0-cuda12.4-cudnn9-runtime",
    "nvidia/cuda": "nvidia/cuda:12.4.1-runtime-ubuntu22.04",
}


def _unknown_finding(unknown: Unknown, span: Span, reference: str) -> Finding:
    repo = reference.split("@")[0].rsplit(":", 1)[0] if ":" in reference.rsplit("/", 1)[-1] else reference
    example = next((v for k, v in _SUGGEST.items() if repo.endswith(k)), None)
    return Finding.at(
        span,
        f"the CUDA of {reference} cannot be determined: {unknown.reason}",
        fix=f"pin a versioned tag{' such as ' + example if example else ' that names the CUDA release'}, "
        "or declare it under `images:` in the configuration",
    )


@rule("ML208")
def cuda_version_unknown(target: Stage | Container, ctx: Ctx) -> Iterator[Finding]:
    image = target.base if isinstance(target, Stage) else target.image
    if image is None or image.templated or (isinstance(target, Stage) and target.base_stage is not None):
        return
    cuda = image_cuda(image.resolved, ctx.cuda)
    if isinstance(cuda, Unknown):
        yield _unknown_finding(cuda, image.span, image.resolved)


# -- ML207 -----------------------------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def _mig_by_model() -> dict[str, frozenset[str]]:
    """MIG profiles per GPU model of gpus.json (the memory variants of one model together)."""
    out: dict[str, set[str]] = {}
    for name, profiles in table("mig_profiles")["gpus"].items():
        found = targets.gpu(name)  # "A100-80GB", "H100-NVL-94GB", "RTX-PRO-6000-Blackwell"
        if found is not None:
            out.setdefault(found.model, set()).update(profiles)
    return {model: frozenset(p) for model, p in out.items()}


@rule("ML207")
def mig_profile_not_on_target(container: Container, ctx: Ctx) -> Iterator[Finding]:
    if ctx.workload is None:
        return
    found = _workload_targets(ctx.workload, ctx)
    for name, q in {**container.resources.requests, **container.resources.limits}.items():
        if not name.startswith("nvidia.com/mig-"):
            continue
        profile = name[len("nvidia.com/mig-") :]
        for target in found:
            offered = target.mig_profiles
            where = f"{target.name} is partitioned into {', '.join(offered or ()) or 'no MIG profiles'}"
            if offered is None and target.gpu is not None:
                known = _mig_by_model().get(target.gpu.model)
                offered = tuple(sorted(known)) if known else ()
                where = f"{target.name} has {target.gpu.model} GPUs, which offer " + (
                    ", ".join(offered) if offered else "no MIG at all"
                )
            # the device plugin spells a profile's `+` as `.` in resource names: mig-1g.10gb.me, mig-1g.24gb.gfx
            variant = profile.replace(".me", "+me").replace(".gfx", "+gfx")
            if offered is None or profile in offered or variant in offered:
                continue
            yield Finding.at(
                q.span,
                f"{who(container, ctx)} asks for {name}, but {where}: no node there advertises it, "
                "so the pod stays Pending",
                fix=f"ask for a profile {target.name} offers, or schedule on a pool partitioned into {profile}",
            )
