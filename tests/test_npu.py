"""``--npu qualcomm:...`` end to end: the compile in the NPU env, the sidecar's npu section, emulated parity.

One export (64x64 int8, the embedded weights) asks for SM8650 and SM8750; the test makes the
SM8750 compile fail after the fact (as a compiler that leaves a 0-byte file does), so one run
shows both a written compiled file and a per-SoC failure. Skips with one reason where
``make toolchain-npu`` has not run.
"""
from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from converters import npu_env, toolchains

pytestmark = pytest.mark.skipif(not toolchains.installed("npu"), reason=toolchains.missing_line("npu"))

REPO = Path(__file__).resolve().parents[1]
PLAIN = "pcarn_m_g4_x4_64x64_int8.tflite"
COMPILED = "pcarn_m_g4_x4_64x64_int8_qualcomm_sm8650.tflite"


def _fail_sm8750(real):
    """run_script as it is, then SM8750's outcome replaced by a failure with a 0-byte file."""

    def run(env, name, args, log=None):
        code = real(env, name, args, log)
        work = Path(args[1])
        if (work / "SM8750.json").is_file():
            (work / "SM8750.tflite").write_bytes(b"")
            (work / "SM8750.json").write_text(json.dumps({"soc": "SM8750", "ok": False, "error": "injected failure"}))
        return code

    return run


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    from pcarn_mobile.export import export

    out = tmp_path_factory.mktemp("npu") / "out"
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(npu_env, "run_script", _fail_sm8750(npu_env.run_script))
        result = export(target="tflite", precision="int8", input_size="64x64", npu="qualcomm:SM8650,SM8750", out=str(out))
    return result, out


def test_compiled_file_and_its_npu_section(run):
    result, out = run
    meta = json.loads((out / (COMPILED + ".json")).read_text())
    npu = meta["npu"]
    assert meta["schema_version"] == 2 and meta["file"] == COMPILED and meta["precision"] == "int8"
    assert (npu["vendor"], npu["soc"], npu["source_file"]) == ("qualcomm", "SM8650", PLAIN)
    assert npu["compiler"] == {"name": "ai-edge-litert", "version": "2.3.0"}
    assert (npu["sdk"]["name"], npu["sdk"]["version"], npu["sdk"]["expected"]) == ("QNN", "2.51", "2.50")
    assert npu["ops_on_npu"] == npu["ops_total"] > 75 and npu["partitions"] == 1  # the whole shaped graph
    assert npu["ops_on_reference_kernels"] == 0 and npu["reference_kernels"] == {}
    assert npu["shaping"]["grouped_convs_split"] > 0 and npu["compile_seconds"] > 0
    assert meta["size_bytes"] == (out / COMPILED).stat().st_size > 100_000
    assert meta["input"] == json.loads((out / (PLAIN + ".json")).read_text())["input"]


def test_emulated_parity_against_cpu_file_and_pytorch(run):
    _, out = run
    parity = json.loads((out / (COMPILED + ".json")).read_text())["parity"]
    cpu = parity["npu"]["against_cpu"]
    assert parity["verdict"] == "OK" and cpu["file"] == PLAIN
    assert cpu["photos"]["psnr_db"] >= 45 and cpu["max_levels"] <= 12 and cpu["within_one_level"] > 0.9
    assert parity["photos"]["psnr_db"] >= parity["limits"]["photo_floor_db"]
    html = (out / "report.html").read_text()
    assert "Files compiled for an NPU" in html and COMPILED in html and "expects 2.50" in html


def test_one_soc_failing_leaves_the_others_and_no_empty_file(run):
    result, out = run
    assert not result.ok and result.report["verdict"] == "OK"
    assert result.report["npu_failures"] == [{"file": PLAIN, "soc": "SM8750", "error": "injected failure"}]
    assert not list(out.glob("*sm8750*")) and all(p.stat().st_size > 0 for p in out.iterdir())
    assert sorted(p.name for p in out.glob("*.tflite")) == [PLAIN, COMPILED]


def test_compiling_again_gives_identical_bytes(run, tmp_path):
    from converters.npu_compile import compile_file
    from converters.npu_shaping import split_grouped_convs

    _, out = run
    source = tmp_path / PLAIN
    source.write_bytes(split_grouped_convs((out / PLAIN).read_bytes())[0])
    (again,) = compile_file(source, ("SM8650",), tmp_path)
    assert again.ok and again.path.read_bytes() == (out / COMPILED).read_bytes()


def test_sigterm_during_compile_stops_the_compiler_and_leaves_nothing(run, tmp_path):
    _, out = run
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    script = (f"from pathlib import Path\nfrom pcarn_mobile.errors import run_cli\n"
              f"from converters.npu_compile import compile_file, KNOWN_SOCS\n"
              f"run_cli(lambda argv: compile_file(Path({str(out / PLAIN)!r}), KNOWN_SOCS, Path({str(scratch)!r})) and 0)")
    child = subprocess.Popen([sys.executable, "-c", script], cwd=REPO, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while not any(scratch.glob("npu-*/.*")) and time.monotonic() < deadline:  # a SoC's compile under way
        time.sleep(0.1)
    child.send_signal(signal.SIGTERM)
    _, err = child.communicate(timeout=60)
    assert child.returncode == 128 + signal.SIGTERM and "Traceback" not in err
    time.sleep(1)  # nothing keeps writing after the exit
    assert list(scratch.iterdir()) == []


def test_the_npu_schema_can_fail(run):
    """The npu section's keys are required, its source file has no folder, and version 1 is not this version."""
    from pcarn_mobile.export.sidecar import schema_errors

    _, out = run
    meta = json.loads((out / (COMPILED + ".json")).read_text())
    assert schema_errors(meta) == []
    assert schema_errors({**meta, "npu": {k: v for k, v in meta["npu"].items() if k != "ops_on_reference_kernels"}})
    assert schema_errors({**meta, "npu": {**meta["npu"], "source_file": "/home/me/x.tflite"}})
    assert schema_errors({**meta, "schema_version": 1})
