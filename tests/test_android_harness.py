"""python -m benchmarks.android end to end, against a STAND-IN adb (tests/standin_adb.py): there is no phone here.

The stand-in is an executable ``adb`` in a temporary folder put first on PATH; it replays
benchmark_model output in each format (tests/data/benchmark_model/) and records every call, so
these tests check what the harness asked of the device (taskset mask, flags, clean-up) as well as
the JSON it wrote.
"""
from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks.adb import big_core_mask, choose, parse_devices, parse_temperatures
from benchmarks.results import schema_errors
from pcarn_mobile.errors import UserError

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = Path(__file__).parent / "data" / "benchmark_model"
SERIAL = "R5CT30XYZ"
PROPS = {"ro.product.manufacturer": "samsung", "ro.product.model": "SM-S911B", "ro.soc.model": "SM8550",
         "ro.board.platform": "kalama", "ro.build.version.release": "14", "ro.build.version.sdk": "34",
         "ro.product.cpu.abi": "arm64-v8a", "ro.product.cpu.abilist": "arm64-v8a,armeabi-v7a,armeabi",
         "ro.build.type": "user"}
#: A 3+4+1 layout (Snapdragon 8 Gen 2 style): CPUs 0-2 little, 3-6 big, 7 prime.
MAX_FREQ = {"0": 2016000, "1": 2016000, "2": 2016000, "3": 2803200, "4": 2803200, "5": 2803200, "6": 2803200,
            "7": 3360000}
MODEL = "pcarn_m_g4_x4_128x128_fp16.tflite"


def elf(machine: int) -> bytes:
    """An ELF header for ``machine`` (0xB7 aarch64), enough for the harness's ABI check."""
    return b"\x7fELF\x02\x01\x01" + bytes(11) + machine.to_bytes(2, "little") + bytes(44)


class Phone:
    """The stand-in adb's folder, its scenario, and the harness run as a user runs it."""

    def __init__(self, tmp: Path) -> None:
        self.bin, self.work = tmp / "bin", tmp / "work"
        self.bin.mkdir()
        self.work.mkdir()
        adb = self.bin / "adb"
        adb.write_text(f"#!{sys.executable} -S\n" + (Path(__file__).parent / "standin_adb.py").read_text())
        adb.chmod(0o755)
        self.scenario = {"devices": [[SERIAL, "device"]], "props": PROPS, "max_freq": MAX_FREQ,
                         "temps": [[31500, 29800, -273000, 0]], "outputs": {}}
        self.binary = self.work / "benchmark_model"
        self.binary.write_bytes(elf(0xB7))
        self.model = self.add_model(MODEL, [1, 128, 128, 3], "fp16")

    def add_model(self, name: str, shape: list[int], precision: str) -> Path:
        path = self.work / name
        path.write_bytes(b"\x1c\x00\x00\x00TFL3" + bytes(64))
        sidecar = {"schema_version": 1, "file": name, "format": "tflite", "precision": precision, "variant": precision,
                   "scale": 4, "groups": 4, "input": {"name": "lr", "shape": shape, "dtype": "float32",
                                                      "layout": "NHWC", "range": [0, 1], "quantization": None}}
        path.with_name(name + ".json").write_text(json.dumps(sidecar))
        return path

    def replay(self, delegate: str, sample: str, status: int = 0) -> None:
        self.scenario["outputs"][delegate] = {"file": str(SAMPLES / f"{sample}.txt"), "status": status}

    def run(self, *args: str, path: str | None = None) -> subprocess.CompletedProcess[str]:
        (self.bin / "scenario.json").write_text(json.dumps(self.scenario))
        env = {**os.environ, "PATH": path if path is not None else f"{self.bin}{os.pathsep}{os.environ['PATH']}"}
        argv = ["--model", str(self.model), "--benchmark-binary", str(self.binary), "--json", str(self.out), *args]
        return subprocess.run([sys.executable, "-m", "benchmarks.android", *argv], cwd=ROOT, env=env,
                              capture_output=True, text=True, timeout=60)

    @property
    def out(self) -> Path:
        return self.work / "android.json"

    def calls(self) -> list[list[str]]:
        log = self.bin / "adb.log"
        return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []

    def shell_commands(self) -> list[str]:
        return [c[3] for c in self.calls() if c[2:3] == ["shell"]]

    def result(self) -> dict:
        doc = json.loads(self.out.read_text())
        assert schema_errors(doc) == []
        return doc


@pytest.fixture
def phone(tmp_path: Path) -> Phone:
    return Phone(tmp_path)


def one_error_line(done: subprocess.CompletedProcess[str]) -> str:
    assert done.returncode == 2, done.stderr
    assert done.stderr.startswith("error: ") and done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
    return done.stderr


def assert_cleaned_up(phone: Phone) -> None:
    commands = phone.shell_commands()
    scratch = next(c.split()[-1] for c in commands if c.startswith("mkdir -p "))
    assert scratch.startswith("/data/local/tmp/pcarn-bench-")
    assert commands[-1] == f"rm -rf {scratch}"


@pytest.mark.parametrize("delegate,sample,status,expected", [
    ("gpu", "gpu_full_litert", 0, "full"),
    ("gpu", "gpu_partial_tf", 0, "partial"),
    ("nnapi", "nnapi_none_litert", 0, "none"),
    ("cpu", "cpu_old_tf", 0, "not-applicable"),
])
def test_each_delegation_outcome_is_recorded(phone: Phone, delegate: str, sample: str, status: int, expected: str):
    phone.replay(delegate, sample, status)
    done = phone.run("--delegate", delegate, "--runs", "20", "--warmup", "3")
    assert done.returncode == 0, done.stderr
    doc = phone.result()
    assert doc["harness"] == "android"
    assert doc["device"]["description"] == "samsung SM-S911B (SM8550, Android 14)"
    assert doc["device"]["properties"] == {k: v for k, v in PROPS.items() if k not in ("ro.product.cpu.abilist",
                                                                                      "ro.build.type")}
    (r,) = doc["results"]
    assert (r["model"], r["precision"], r["backend"], r["runtime"]) == (MODEL, "fp16", delegate, "benchmark_model")
    assert r["delegation"]["status"] == expected
    assert r["latency_ms"]["p50"] > 0 and r["input"] == [128, 128]
    assert r["sha256"] == hashlib.sha256(phone.model.read_bytes()).hexdigest()
    assert r["cpu_mask"] == "f8" and r["threads"] == 5  # CPUs 3-7: big and prime, from the stand-in's cpufreq
    assert r["temperature_c"] == 31.5  # hottest plausible zone; disabled zones (0, -273000) ignored
    bench = next(c for c in phone.shell_commands() if "benchmark_model --graph" in c)
    assert bench.startswith("taskset f8 /data/local/tmp/pcarn-bench-")
    assert "--num_threads=5" in bench and "--num_runs=20" in bench and "--warmup_runs=3" in bench
    assert f"delegation: {expected}" in done.stdout
    assert_cleaned_up(phone)


def test_a_failed_delegate_exits_1_and_still_writes_the_result(phone: Phone):
    phone.replay("gpu", "gpu_failed", 1)
    phone.replay("xnnpack", "xnnpack_profile_count1")
    done = phone.run("--delegate", "gpu,xnnpack")
    assert done.returncode == 1, done.stderr
    gpu, xnnpack = phone.result()["results"]
    assert gpu["latency_ms"] is None and gpu["delegation"]["status"] == "failed"
    assert gpu["error"] == "benchmark_model exited with status 1: Failed to apply GPU delegate."
    assert xnnpack["latency_ms"]["p50"] == 148.236
    assert "FAILED: benchmark_model exited with status 1" in done.stdout
    assert_cleaned_up(phone)


def test_every_delegate_flag_reaches_benchmark_model(phone: Phone):
    for delegate, sample in (("cpu", "cpu_old_tf"), ("xnnpack", "xnnpack_profile_count1"), ("gpu", "gpu_full_litert"),
                             ("nnapi", "nnapi_none_litert")):
        phone.replay(delegate, sample)
    assert phone.run("--delegate", "cpu,xnnpack,gpu,nnapi").returncode == 0
    runs = [c for c in phone.shell_commands() if "--graph=" in c]
    for flag, command in zip(("--use_xnnpack=false", "--use_xnnpack=true", "--use_gpu=true", "--use_nnapi=true"), runs):
        assert flag in command.split()
    assert [r["delegation"]["status"] for r in phone.result()["results"]] == ["not-applicable", "full", "full", "none"]


def test_op_profile_is_kept(phone: Phone):
    phone.replay("xnnpack", "xnnpack_profile_count1")
    assert phone.run("--op-profile").returncode == 0
    assert "--enable_op_profiling=true" in next(c for c in phone.shell_commands() if "--graph=" in c).split()
    (r,) = phone.result()["results"]
    assert r["op_profile"][0] == {"op": "Convolution (NHWC, F32) IGEMM", "count": 34, "avg_ms": 101.207,
                                  "percent": 68.334}


def test_explicit_mask_and_no_pinning(phone: Phone):
    phone.replay("xnnpack", "xnnpack_profile_count1")
    assert phone.run("--cpu-mask", "0x30").returncode == 0
    (r,) = phone.result()["results"]
    assert (r["cpu_mask"], r["threads"]) == ("30", 2)
    assert phone.run("--cpu-mask", "none", "--threads", "2").returncode == 0
    (r,) = phone.result()["results"]
    assert "cpu_mask" not in r and r["threads"] == 2
    assert not next(c for c in reversed(phone.shell_commands()) if "--graph=" in c).startswith("taskset")
    assert "names CPUs" in one_error_line(phone.run("--cpu-mask", "f00"))  # CPUs 8-11: the phone has 0-7


def test_without_cpufreq_the_run_is_unpinned(phone: Phone):
    phone.replay("xnnpack", "xnnpack_profile_count1")
    phone.scenario["max_freq"] = {}
    done = phone.run()
    assert done.returncode == 0 and "running unpinned" in done.stderr
    (r,) = phone.result()["results"]
    assert "cpu_mask" not in r and r["threads"] is None


def test_hot_phone_waits_for_the_cooldown_then_measures(phone: Phone):
    phone.replay("xnnpack", "xnnpack_profile_count1")
    phone.scenario["temps"] = [[48000, 51500, 30000]]
    done = phone.run("--cooldown", "0.3", "--max-temp", "40")
    assert done.returncode == 0
    assert "hottest thermal zone 51.5 C after 0.3 s of cooldown (limit 40 C); measuring anyway" in done.stderr
    assert phone.result()["results"][0]["temperature_c"] == 51.5
    assert sum("thermal_zone" in c for c in phone.shell_commands()) >= 2  # it read again while waiting


def test_dynamic_model_needs_and_gets_an_input_size(phone: Phone):
    phone.model = phone.add_model("pcarn_m_g4_x4_dynamic_fp32.tflite", [1, -1, -1, 3], "fp32")
    phone.replay("xnnpack", "xnnpack_profile_count1")
    assert "--input-size" in one_error_line(phone.run())
    assert phone.run("--input-size", "96x160").returncode == 0
    bench = next(c for c in phone.shell_commands() if "--graph=" in c).split()
    assert "--input_layer=lr" in bench and "--input_layer_shape=1,96,160,3" in bench
    assert phone.result()["results"][0]["input"] == [96, 160]


@pytest.mark.parametrize("devices,args,message", [
    ([], [], "error: no Android device found: connect one with USB debugging enabled (adb devices lists none)\n"),
    ([[SERIAL, "unauthorized"]], [], f"error: device {SERIAL} is unauthorized: unlock it and accept the 'Allow USB "
                                     "debugging' prompt, then run again\n"),
    ([[SERIAL, "offline"]], [], f"error: device {SERIAL} is offline: reconnect the cable (or run 'adb kill-server'), "
                                "then run again\n"),
    ([[SERIAL, "device"], ["emulator-5554", "device"]], [], f"error: 2 devices are connected ({SERIAL} (device), "
                                                            "emulator-5554 (device)): choose one with --serial\n"),
    ([[SERIAL, "device"]], ["--serial", "0A1B2C"], f"error: no device 0A1B2C is connected (adb devices lists: {SERIAL} "
                                                   "(device))\n"),
])
def test_device_problems_are_one_line(phone: Phone, devices: list, args: list[str], message: str):
    phone.scenario["devices"] = devices
    done = phone.run(*args)
    assert one_error_line(done) == message
    assert not any(c[2:3] == ["push"] for c in phone.calls())


def test_serial_picks_one_of_several(phone: Phone):
    phone.scenario["devices"] = [["emulator-5554", "device"], [SERIAL, "device"]]
    phone.replay("xnnpack", "xnnpack_profile_count1")
    assert phone.run("--serial", SERIAL).returncode == 0
    assert {c[1] for c in phone.calls() if c[0] == "-s"} == {SERIAL}


def test_binary_problems_are_caught_before_the_phone_is_touched(phone: Phone):
    phone.binary = phone.work / "missing_benchmark_model"
    assert one_error_line(phone.run()).startswith(f"error: --benchmark-binary {phone.binary}: no such file")
    assert phone.calls() == []
    phone.binary = phone.work / "benchmark.apk"
    phone.binary.write_bytes(b"PK\x03\x04" + bytes(40))
    assert "not an ELF executable" in one_error_line(phone.run())
    phone.binary = phone.work / "benchmark_model_x86_64"
    phone.binary.write_bytes(elf(0x3E))
    assert "is built for x86_64 but device R5CT30XYZ runs arm64-v8a, armeabi-v7a, armeabi" in one_error_line(phone.run())


def test_bad_input_is_one_line(phone: Phone):
    assert "--delegate 'gpu,tpu'" in one_error_line(phone.run("--delegate", "gpu,tpu"))
    assert "not a non-zero hex CPU mask" in one_error_line(phone.run("--cpu-mask", "big"))
    assert "--runs must be at least 1" in one_error_line(phone.run("--runs", "0"))
    assert "adb not found on PATH" in one_error_line(phone.run(path=str(phone.work)))
    phone.model.with_name(MODEL + ".json").write_text('{"schema_version": 1, "format": "onnx"}')
    assert "not a TFLite export sidecar of schema v1" in one_error_line(phone.run())
    phone.model.with_name(MODEL + ".json").unlink()
    assert f"{MODEL} has no sidecar {MODEL}.json beside it" in one_error_line(phone.run())
    assert phone.calls() == []


def test_device_parsers():
    assert parse_devices("* daemon started successfully\nList of devices attached\nA1\tdevice\nB2\tno permissions "
                         "(user in plugdev group); see [http://developer.android.com/tools/device.html]\n\n") == [
        ("A1", "device"), ("B2", "no permissions (user in plugdev group); see "
                                 "[http://developer.android.com/tools/device.html]")]
    with pytest.raises(UserError, match="not ready"):
        choose([("B2", "no permissions (...)")], None)
    assert big_core_mask({0: 1800, 1: 1800, 2: 1800, 3: 1800, 4: 2400, 5: 2400, 6: 2400, 7: 3000}) == "f0"
    assert big_core_mask({0: 2000, 1: 2000}) == "3"  # all alike: all of them
    assert big_core_mask({}) is None
    assert parse_temperatures("36500\n41\n-273000\n0\nerror\n") == [36.5, 41.0]
