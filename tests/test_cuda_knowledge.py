"""The CUDA knowledge tables and the judgements built on them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mllint import engine
from mllint.__main__ import main
from mllint.checks.cuda.compat import arch_list_covers, arch_problem
from mllint.cuda import targets, versions
from mllint.knowledge import table


def test_every_row_has_a_source_and_a_verified_flag() -> None:
    drivers = table("cuda_drivers")
    for row in drivers["toolkit"] + drivers["minor_compat"]:
        assert row["source"] in drivers["sources"] and isinstance(row["verified"], bool)
    for row in table("ngc_releases")["releases"]:
        assert set(row["evidence"]) <= set(table("ngc_releases")["evidence"]) and isinstance(row["verified"], bool)
    for name in ("cuda_arch",):
        for row in table(name)["min_cc"] + table(name)["first_cuda"]:
            assert row["source"] and row["verified"] is True
    assert table("gpus")["source"] and table("frameworks")["tensorflow"]["source"]
    for row in table("ngc_releases")["releases"]:  # every row added or changed since 22.01 names its source
        assert row["release"] >= "22.01" or row["source"].startswith("https://docs.nvidia.com/")
    for row in table("ngc_releases")["forward_compat"] + table("cuda_drivers")["forward_compat"]["by_cuda"]:
        assert row["source"] and isinstance(row["verified"], bool) and row["branches"]
    for family in table("nvidia_images")["families"]:
        assert family["source"] and isinstance(family["verified"], bool) and family["tags"]
        for entry in family["tags"].values():
            assert ("cuda" in entry) != ("ngc" in entry) and isinstance(entry.get("verified", True), bool)
            assert entry.get("verified", True) or entry.get("source")  # an unconfirmed tag says why


@pytest.mark.parametrize(
    "cuda, toolkit, floor",
    [
        ("12.4", "550.54.14", "525.60.13"),  # a minor alone: its GA release
        ("12.6.1", "560.35.03", "525.60.13"),
        ("12.3.2", "545.23.08", "525.60.13"),  # runfile driver: Table 3 has no 12.3.2 row
        ("13.0.0", "580.65.06", "580.65.06"),
        ("11.8.0", "520.61.05", "450.80.02"),
        ("10.2", "440.33", None),  # no minor-version compatibility before CUDA 11
    ],
)
def test_driver_requirements(cuda: str, toolkit: str, floor: str | None) -> None:
    req = versions.requirement(versions.parse(cuda) or ())
    assert req is not None and req.toolkit_text == toolkit and req.floor_text == floor


def test_unknown_minor_and_native_cuda() -> None:
    assert versions.requirement((12, 7)) is None  # there is no CUDA 12.7
    assert versions.native_cuda(versions.parse("535.104.05") or ()) == (12, 2)
    assert versions.native_cuda(versions.parse("470.57.02") or ()) == (11, 4)


@pytest.mark.parametrize(
    "cuda, cc, problem",
    [
        ((13, 0), (7, 0), "below compute capability 7.5"),  # Volta on CUDA 13
        ((12, 1), (3, 7), "below compute capability 5.0"),  # K80 on CUDA 12
        ((12, 6, 3), (10, 0), "needs CUDA ≥ 12.8"),  # B200 before Blackwell support
        ((12, 8), (12, 1), None),  # GB10: 12.0 cubins run on 12.1 (same major)
        ((12, 8), (10, 3), None),  # B300: 10.0 cubins run on 10.3
        ((11, 7), (8, 9), None),  # L4: 8.6 cubins run on 8.9
        ((11, 0), (8, 7), None),  # Jetson Orin
        ((9, 2), (7, 5), None),  # T4: 7.0 cubins run on 7.5
        ((11, 7), (9, 0), "needs CUDA ≥ 11.8"),  # H100: a new major
        ((8, 0), (7, 5), "needs CUDA ≥ 9.0"),  # no Volta code before CUDA 9
        ((9,), (7, 5), None),
        ((12, 8), (10, 0), None),
        ((11, 8), (3, 7), None),  # the last CUDA that targets the K80
        ((12,), (7, 0), None),
    ],
)
def test_architecture_support(cuda: tuple[int, ...], cc: tuple[int, int], problem: str | None) -> None:
    found = arch_problem(cuda, cc)
    assert (found is None) if problem is None else (problem in (found or ""))


@pytest.mark.parametrize(
    "value, cc, covered",
    [
        ("7.0 8.0", (10, 0), False),
        ("8.0;8.6;9.0", (12, 0), False),
        ("8.0 9.0+PTX", (12, 0), True),
        ("8.6", (8, 9), True),
        ("8.0", (8, 6), True),
        ("9.0", (8, 9), False),
        ("Ampere", (9, 0), True),
    ],
)
def test_torch_cuda_arch_list(value: str, cc: tuple[int, int], covered: bool) -> None:
    assert arch_list_covers(value, cc) is covered


@pytest.mark.parametrize(
    "product, model",
    [
        ("NVIDIA-A100-SXM4-80GB", "A100"),
        ("Tesla-T4", "T4"),
        ("A100-SXM4-40GB-MIG-1g.5gb", "A100"),
        ("NVIDIA-L4-SHARED", "L4"),
        ("NVIDIA-L40S", "L40S"),
        ("NVIDIA-GH200-480GB", "GH200"),
        ("NVIDIA-H200", "H200"),
        ("NVIDIA-A10G", "A10"),
        ("NVIDIA-GeForce-RTX-4090", "GeForce RTX 40"),
        ("Unknown-Accelerator", None),
    ],
)
def test_gpu_feature_discovery_products(product: str, model: str | None) -> None:
    found = targets.gpu(product)
    assert (found.model if found else None) == model


def test_selectors_name_their_nodes() -> None:
    gke = targets.from_selector({"cloud.google.com/gke-accelerator": "nvidia-tesla-v100"})
    assert gke is not None and gke.cc == (7, 0) and gke.driver_low is None
    aws = targets.from_selector({"node.kubernetes.io/instance-type": "p4d.24xlarge"})
    assert aws is not None and aws.gpu is not None and aws.gpu.model == "A100"
    gfd = targets.from_selector(
        {
            "nvidia.com/cuda.driver-version.full": "550.54.15",
            "nvidia.com/gpu.compute.major": "9",
            "nvidia.com/gpu.compute.minor": "0",
        }
    )
    assert gfd is not None and gfd.driver_text == "driver 550.54.15" and gfd.cc == (9, 0)
    assert targets.from_selector({"kubernetes.io/arch": "amd64"}) is None


def test_an_unconfirmed_row_never_makes_an_error(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text("FROM nvcr.io/nvidia/pytorch:26.08-py3\n")  # CUDA 13.4.1: R615 inferred
    options = engine.Options(select=["ML201"], jobs=1, cuda=targets.from_config({}, "570.124.06"))
    [finding] = engine.scan([str(tmp_path)], options).findings
    assert finding.severity == "warning" and "not confirmed" in finding.message
    (tmp_path / "Dockerfile").write_text("FROM nvcr.io/nvidia/pytorch:25.10-py3\n")  # CUDA 13.0.2, Table 3
    [finding] = engine.scan([str(tmp_path)], options).findings
    assert finding.severity == "error" and "driver ≥ 580.95.05" in finding.message


def test_driver_version_on_the_command_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "Dockerfile").write_text("FROM nvidia/cuda:12.4.1-runtime-ubuntu22.04\n")
    out = tmp_path / "r.json"
    assert (
        main(
            ["scan", str(tmp_path), "--select", "ML201", "--driver-version", "470.57.02", "-f", "json", "-o", str(out)]
        )
        == 1
    )
    [finding] = json.loads(out.read_text())["findings"]
    assert (finding["line"], finding["column"]) == (1, 6)
    assert (
        "needs CUDA 12.4.1 (nvidia/cuda tag 12.4.1-runtime-ubuntu22.04), which needs driver ≥ 550.54.15"
        in finding["message"]
        and "--driver-version 470.57.02: driver 470.57.02" in finding["message"]
    )
    assert main(["scan", str(tmp_path), "--select", "ML201", "--driver-version", "550.54.15"]) == 0
    assert main(["scan", str(tmp_path), "--driver-version", "latest"]) == 2
    assert "expected a driver version" in capsys.readouterr().err


def test_configured_image_cuda_and_profile(tmp_path: Path) -> None:
    (tmp_path / ".mllint.yaml").write_text(
        'cluster:\n  pools:\n    - {name: old, driver: "470.57.02", gpu: A100}\n'
        'images:\n  registry.acme.io/train: {cuda: "12.4"}\n'
    )
    (tmp_path / "job.yaml").write_text(
        "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n"
        "    - name: t\n      image: registry.acme.io/train:2024-06-01\n"
    )
    out = tmp_path / "r.json"
    main(["scan", str(tmp_path), "--select", "ML201", "-f", "json", "-o", str(out)])
    [finding] = json.loads(out.read_text())["findings"]
    assert "the configured CUDA of registry.acme.io/train:2024-06-01" in finding["message"]
    assert "pool 'old'" in finding["message"]


def test_image_mapping_takes_one_of_cuda_or_dockerfile(tmp_path: Path) -> None:
    from mllint import config

    for body in ("{}", "{cuda: '12.4', dockerfile: Dockerfile}"):
        (tmp_path / ".mllint.yaml").write_text(f"images:\n  registry.acme.io/train: {body}\n")
        with pytest.raises(config.ConfigError, match="images"):
            config.load(tmp_path / ".mllint.yaml")
    (tmp_path / ".mllint.yaml").write_text("images:\n  registry.acme.io/train: {dockerfile: docker/Dockerfile}\n")
    values = config.load(tmp_path / ".mllint.yaml").values
    mapped = targets.from_config(values, root=str(tmp_path))
    assert targets.image_dockerfile("registry.acme.io/train:v3", mapped) == str(tmp_path / "docker" / "Dockerfile")
    assert targets.image_cuda("registry.acme.io/train:v3", mapped) is None


def test_requirements_files_pin_cuda() -> None:
    from mllint.cuda import installs

    text = "--extra-index-url https://download.pytorch.org/whl/cu121\nnumpy==1.26.4  # pinned\ntorch==2.1.2\n"
    found = installs.from_requirements(text)
    assert [(str(e.cuda), text[e.start : e.end]) for e in found] == [("12.1", "torch==2.1.2")]
    assert installs.requirement_refs(
        "pip install -r requirements.txt && uv pip install --requirement=gpu.txt -c c.txt"
    ) == [("requirements.txt", 15, 31), ("gpu.txt", 64, 71), ("c.txt", 75, 80)]


def test_build_numbers_are_stored_as_the_toolkit_row() -> None:
    """`11.0.194` is CUDA 11.0, not patch 194 of 11.0.3, which would overstate the driver."""
    from mllint.cuda import images

    found = images.resolve("nvcr.io/nvidia/pytorch:20.07-py3")
    assert isinstance(found, images.Cuda) and found.version == (11, 0) and found.release == "20.07"
    req = versions.requirement(found.version)
    assert req is not None and req.toolkit_text == "450.36.06"
    nine = versions.requirement((9,))  # pytorch/pytorch:0.4_cuda9_cudnn7: the least any CUDA 9 needs
    assert nine is not None and nine.toolkit_text == "384.81"


def test_runfile_rows_are_not_minimums() -> None:
    rows = {r["cuda"]: r for r in table("cuda_drivers")["toolkit"]}
    for cuda in ("12.3.2", "12.8.2", "12.9.2", "13.0.3", "13.1.2", "13.3.0", "13.3.1"):
        assert rows[cuda]["source"] == "RUN" and rows[cuda]["verified"] is False
    assert "13.4.0" not in rows and rows["13.4.1"]["verified"] is False  # 13.4.0 was a developer preview
    req = versions.requirement((12, 8, 2))  # the nearest confirmed earlier row of the minor
    assert req is not None and req.cuda == "12.8.1" and req.toolkit_verified


def test_forward_compatibility_is_per_release() -> None:
    fc = versions.forward_compat((11, 3, 1), "21.06")
    assert fc is not None and fc.covers((418, 40, 4)) and fc.covers((460, 91)) and not fc.covers((410, 48))
    assert fc.verified and "21.04-21.10" in fc.source
    assert versions.forward_compat((10, 1), "19.09").branches == ()  # the notes' list was not read
    assert versions.forward_compat((10, 1), "19.10").covers((396, 26))  # 19.10 adds R396 to 19.08's list
    assert not versions.forward_compat((10, 1), "19.08").covers((396, 26))
    late = versions.forward_compat((12, 4, 1), "24.05")
    assert late is not None and late.covers((545, 23, 8)) and not late.covers((450, 80, 2))
    assert versions.forward_compat((12, 4, 1)).covers((550, 54, 15))  # nvidia/cuda: the CUDA 12 list
    assert not versions.forward_compat((11, 8, 0)).covers((418, 40, 4))  # R418 is not forward-compatible with 11.8
    assert versions.forward_compat((11, 2, 2)).covers((418, 40, 4))


def _ml201(tmp_path: Path, image: str, driver: str, gpu: str) -> list:
    (tmp_path / "Dockerfile").write_text(f"FROM {image}\n")
    cfg = targets.from_config({"cluster": {"pools": [{"name": "p", "driver": driver, "gpu": gpu}]}})
    return engine.scan([str(tmp_path / "Dockerfile")], engine.Options(select=["ML201"], jobs=1, cuda=cfg)).findings


@pytest.mark.parametrize(
    "image, driver, gpu, severity",
    [
        ("nvcr.io/nvidia/pytorch:21.06-py3", "418.40.04", "T4", "warning"),  # 21.06 lists 418.40+
        ("nvcr.io/nvidia/pytorch:21.06-py3", "418.40.04", "GeForce-RTX-2080", "error"),  # no forward compat
        ("nvcr.io/nvidia/pytorch:21.06-py3", "410.104", "T4", "error"),  # R410 is not on 21.06's list
        ("nvcr.io/nvidia/pytorch:24.05-py3", "450.80.02", "A100", "error"),  # 24.05 no longer lists R450
        ("nvcr.io/nvidia/pytorch:22.09-py3", "450.80.02", "A100", "warning"),  # 22.09 still does
        ("nvcr.io/nvidia/pytorch:19.09-py3", "410.48", "T4", "warning"),  # its list was not read
        ("nvcr.io/nvidia/pytorch:19.08-py3", "410.48", "T4", "warning"),  # 19.08 lists 410
        ("nvcr.io/nvidia/pytorch:19.08-py3", "396.26", "T4", "error"),  # but not R396
        ("nvcr.io/nvidia/pytorch:21.06-py3", "470.57.02", "T4", None),
    ],
)
def test_forward_compatibility_findings(
    tmp_path: Path, image: str, driver: str, gpu: str, severity: str | None
) -> None:
    found = _ml201(tmp_path, image, driver, gpu)
    assert [f.severity for f in found] == ([severity] if severity else [])
    if severity == "warning" and "21.06" in image:
        assert "21.04-21.10 release notes" in found[0].message


def test_gpu_rows_name_their_source() -> None:
    rows = {r["model"]: r for r in table("gpus")["gpus"]}
    assert rows["H20"]["verified"] is False and "not on developer.nvidia.com/cuda-gpus" in rows["H20"]["source"]
    assert rows["RTX PRO Blackwell"]["datacenter"] is False
    assert rows["RTX PRO Blackwell Server Edition"]["datacenter"] is True
    server = targets.gpu("NVIDIA-RTX-PRO-6000-Blackwell-Server-Edition")
    workstation = targets.gpu("NVIDIA-RTX-PRO-6000-Blackwell-Workstation-Edition")
    assert server is not None and server.datacenter and workstation is not None and not workstation.datacenter
