"""Live mode: host facts through the NVML interface (fake hosts answering as real ones do), the host
profile round trip, the findings in every output format, and the error paths."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import FIXTURES, ROOT
from mllint.cli import cli
from mllint.live import nvml
from mllint.live.fake import FakeNvml, FakeNvmlError
from mllint.live.host import Host, read_profile

HOSTS = FIXTURES / "hosts"
REPO = "tests/data/live-repo"

# (rule, path, line) each fake host must produce on tests/data/live-repo, ML2xx and ML8xx only
EXPECTED = {
    "t4-470": {  # one T4 on a 470 driver: CUDA 12.3 only through forward compatibility, one GPU per node
        ("ML201", f"{REPO}/Dockerfile", 1),
        ("ML201", f"{REPO}/train.yaml", 11),
        ("ML801", f"{REPO}/train.yaml", 14),
        ("ML207", f"{REPO}/notebook.yaml", 17),
        ("ML804", "nvml://t4-node-07/gpu/0", 0),
        ("ML805", "nvml://t4-node-07/gpu/0", 0),
    },
    "a100-mig": {  # MIG on both GPUs, 535 driver: below 545 only minor-version compatibility
        ("ML201", f"{REPO}/Dockerfile", 1),
        ("ML201", f"{REPO}/train.yaml", 11),
        ("ML803", f"{REPO}/train.yaml", 14),
        ("ML207", f"{REPO}/notebook.yaml", 17),
    },
    "dgx-h100": {("ML207", f"{REPO}/notebook.yaml", 17)},  # 8 GPUs, 550 driver, MIG off
    "gpu-lost": {  # four A100 40GB, one fallen off the bus
        ("ML201", f"{REPO}/Dockerfile", 1),
        ("ML201", f"{REPO}/train.yaml", 11),
        ("ML207", f"{REPO}/notebook.yaml", 17),
        ("ML806", "nvml://a100-node-03/gpu/2", 0),
    },
}


def _read(name: str) -> Host:
    return nvml.read_host(FakeNvml.from_file(HOSTS / f"{name}.json"))


def _live(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["live", *args], catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def test_host_facts_of_an_h100_node() -> None:
    host = _read("dgx-h100")
    assert (host.hostname, host.driver, host.cuda_driver) == ("dgx-h100-01", "550.54.15", (12, 4))
    assert len(host.gpus) == 8
    gpu = host.gpus[0]
    assert (gpu.name, gpu.memory_mib, gpu.cc, gpu.mig_enabled, gpu.persistence, gpu.ecc_uncorrected) == (
        "NVIDIA H100 80GB HBM3",
        81559,
        (9, 0),
        False,
        True,
        0,
    )
    assert host.pool() == {
        "name": "dgx-h100-01",
        "host": True,
        "driver": "550.54.15",
        "gpus": 8,
        "gpu": "NVIDIA H100 80GB HBM3",
        "compute-capability": "9.0",
        "gpu-memory": 81559,
        "mig-profiles": [],
    }


def test_host_facts_of_mig_t4_and_lost_gpus() -> None:
    mig = _read("a100-mig")
    assert [g.mig_devices for g in mig.gpus] == [["3g.40gb", "2g.20gb", "1g.10gb", "1g.10gb"], ["3g.40gb", "3g.40gb"]]
    assert mig.pool()["mig"] is True and mig.pool()["mig-profiles"] == ["1g.10gb", "2g.20gb", "3g.40gb"]
    t4 = _read("t4-470")
    assert (t4.cuda_driver, t4.gpus[0].persistence, t4.gpus[0].ecc_uncorrected) == ((11, 4), False, 2)
    assert "mig" not in t4.pool()  # MIG is not supported on a T4: NVML answers NotSupported
    lost = _read("gpu-lost")
    assert [g.lost for g in lost.gpus] == [None, None, "GPU is lost", None]
    assert lost.pool()["gpus"] == 3


def test_host_compute_capability_judges_unknown_models(tmp_path: Path) -> None:
    spec = json.loads((HOSTS / "t4-470.json").read_text())
    spec["driver"], spec["gpus"][0]["name"], spec["gpus"][0]["cc"] = "580.65.06", "NVIDIA Future GPU", [6, 1]
    (tmp_path / "host.json").write_text(json.dumps(spec))
    (tmp_path / "Dockerfile").write_text("FROM nvidia/cuda:13.0.0-runtime-ubuntu24.04\n")
    code, out, _err = _live(str(tmp_path), "--fake-nvml", str(tmp_path / "host.json"), "--select", "ML202")
    assert code == 1 and "compute capability 6.1" in out and "CUDA 13.0 and later build nothing below" in out


@pytest.mark.parametrize(
    ("host", "words"),
    [
        ("no-library", "libnvidia-ml.so.1"),
        ("driver-not-loaded", "kernel driver is not loaded"),
        ("no-permission", "Insufficient Permissions"),
    ],
)
def test_nvml_errors_are_one_clear_line(host: str, words: str) -> None:
    with pytest.raises(nvml.LiveError, match=words):
        _read(host)
    code, out, err = _live(REPO, "--fake-nvml", str(HOSTS / f"{host}.json"))
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and words in err and "static scanning (`mllint scan`) does not need it" in err


def test_nvml_is_shut_down_when_reading_fails() -> None:
    fake = FakeNvml(json.loads((HOSTS / "dgx-h100.json").read_text()))

    def broken(handle: object) -> str:
        raise FakeNvmlError(999)  # NVML_ERROR_UNKNOWN in the middle of the reading

    fake.nvmlDeviceGetUUID = broken  # type: ignore[method-assign]
    with pytest.raises(nvml.LiveError, match="NVML failed"):
        nvml.read_host(fake)
    assert fake.initialized == 0


@pytest.mark.parametrize("host", sorted(EXPECTED))
def test_live_findings_per_host(host: str) -> None:
    code, out, _err = _live(REPO, "--fake-nvml", str(HOSTS / f"{host}.json"), "--select", "ML2,ML8", "-f", "json")
    findings = json.loads(out)["findings"]
    assert {(f["rule"], f["path"], f["line"]) for f in findings} == EXPECTED[host]
    assert len(findings) == len(EXPECTED[host])
    assert code == (1 if any(f["severity"] in ("error", "warning") for f in findings) else 0)


@pytest.mark.parametrize("fmt", ["text", "sarif", "github", "gitlab"])
def test_live_findings_in_every_format(fmt: str) -> None:
    _code, out, _err = _live(REPO, "--fake-nvml", str(HOSTS / "t4-470.json"), "--select", "ML2,ML8", "-f", fmt)
    for rule, path, _line in EXPECTED["t4-470"]:
        assert rule in out and path in out
    if fmt == "sarif":
        results = json.loads(out)["runs"][0]["results"]
        host_results = [r for r in results if r["ruleId"] in ("ML804", "ML805")]
        assert [r["locations"][0] for r in host_results] == [
            {"logicalLocations": [{"fullyQualifiedName": "nvml://t4-node-07/gpu/0", "kind": "resource"}]}
        ] * 2
    if fmt == "text":
        assert "nvml://t4-node-07/gpu/0: ML804 note:" in out


def test_profile_round_trip(tmp_path: Path) -> None:
    profile = tmp_path / "host.json"
    _code, live_out, err = _live(
        REPO,
        "--fake-nvml",
        str(HOSTS / "t4-470.json"),
        "--select",
        "ML2,ML8",
        "--write-profile",
        str(profile),
        "-f",
        "json",
    )
    assert "wrote the profile of t4-node-07" in err
    assert read_profile(str(profile))["pools"][0]["driver"] == "470.57.02"
    result = CliRunner().invoke(cli, ["scan", REPO, "--profile", str(profile), "--select", "ML2,ML8", "-f", "json"])
    from_live = {
        (f["rule"], f["path"], f["line"], f["message"])
        for f in json.loads(live_out)["findings"]
        if not f["path"].startswith("nvml://")
    }
    from_profile = {(f["rule"], f["path"], f["line"], f["message"]) for f in json.loads(result.stdout)["findings"]}
    assert from_profile == from_live and from_live


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("{", "host.json:"),
        ('{"cluster": {}}', "not an mllint host profile"),
        (
            '{"mllint-host-profile": 1,\n "cluster": {"pools": [{"name": "x", "gpus": "eight"}]}}',
            "host.json:2:46: cluster.pools.0.gpus: 'eight' is not of type 'integer'",
        ),
    ],
)
def test_bad_profiles_are_usage_errors(tmp_path: Path, text: str, words: str) -> None:
    profile = tmp_path / "host.json"
    profile.write_text(text)
    result = CliRunner().invoke(cli, ["scan", REPO, "--profile", str(profile)])
    assert result.exit_code == 2 and words in result.stderr


def test_static_scan_never_imports_nvml() -> None:
    code = (
        "import sys\nfrom mllint.cli import cli\n"
        "try:\n    cli(['scan', 'tests/data/live-repo'])\n"
        "except SystemExit:\n    pass\n"
        "assert 'pynvml' not in sys.modules and 'mllint.live.nvml' not in sys.modules, 'NVML imported'\n"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr


def test_real_nvml_when_a_gpu_is_present() -> None:
    try:
        backend = nvml.load()
        host = nvml.read_host(backend)
    except nvml.LiveError as exc:
        pytest.skip(f"no NVIDIA GPU and driver on this machine ({exc})")
    assert host.driver and host.gpus, "NVML answered but reported no driver or no GPU"
    for gpu in host.live_gpus:
        assert gpu.name and gpu.uuid.startswith(("GPU-", "MIG-")) and gpu.cc is not None and gpu.memory_mib
    print(json.dumps(host.profile()["cluster"]))
