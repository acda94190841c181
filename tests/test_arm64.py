"""The ARM64 check: files on LiteRT's aarch64 kernels under qemu, instruction counts, and its bad input.

One module-scoped conversion (random weights, a 24x32 tile: numerics are checked against the
same network, so trained weights are not needed) gives one small file per precision; each runs
at one emulated core (cortex-a76: ARMv8.2, the core whose fp16 and dot-product kernels differ
from x86's). Tests that need the emulator skip with the set-up command where it is absent; the
bad-input tests that need none run everywhere.
"""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from converters import toolchains
from converters.arm64_runner import ArmError, ArmRunner, check_budget, count_instructions, with_fp16_hint
from converters.onnx_export import export_onnx
from converters.tflite import float_tflite, onnx_to_keras, quantize_int8
from converters.tflite_runner import load_runner
from pcarn_mobile.export.calibration import load_calibration, random_crops
from pcarn_mobile.export.formats import FORMATS
from pcarn_mobile.models import SRDeploy, build_model
from pcarn_mobile.tiling import TorchRunner

STATIC = (24, 32)
CORE = "cortex-a76"
needs_arm = pytest.mark.skipif(not toolchains.installed("arm64"), reason=toolchains.missing_line("arm64"))
ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict[str, object]:
    torch.manual_seed(0)
    deploy = SRDeploy(build_model("pcarn_m", groups=4), 4).eval()
    tmp = tmp_path_factory.mktemp("arm64")
    export_onnx(deploy, tmp / "dyn.onnx", None)
    keras_model = onnx_to_keras(tmp / "dyn.onnx", tmp / "scratch")
    fp32 = float_tflite(keras_model, STATIC)
    data = {"fp32": fp32, "fp16": float_tflite(keras_model, STATIC, fp16=True),
            "int8": quantize_int8(fp32, random_crops(load_calibration(None).images, 6, 32), io="int8")}
    paths: dict[str, object] = {}
    for name, blob in data.items():
        paths[name] = tmp / f"{name}.tflite"
        paths[name].write_bytes(blob)
    paths["torch"] = TorchRunner(deploy, 4)
    return paths


def _psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))
    return float("inf") if mse == 0 else 10 * np.log10(1 / mse)


@needs_arm
@pytest.mark.parametrize("precision", ["fp32", "fp16", "int8"])
def test_small_tile_on_arm_matches_x86_and_pytorch(files, precision):
    """The aarch64 kernels compute what x86 computes (bit for bit on these files) and pass the x86 floor."""
    x = np.random.default_rng(3).random((1, 3, *STATIC), dtype=np.float32)
    with ArmRunner(files[precision], CORE) as arm:
        assert (arm.scale, arm.input_size) == (4, STATIC)
        y = arm(x)
    x86 = load_runner(files[precision])(x)
    assert y.shape == (1, 3, 4 * STATIC[0], 4 * STATIC[1])
    assert _psnr(y, x86) == float("inf")
    assert _psnr(y, files["torch"](x)) >= FORMATS["tflite"].photo_floor_db[precision]


@needs_arm
def test_fp16_hint_computes_in_half_precision_on_armv82_only(files):
    """The metadata hint changes the output on an fp16-arithmetic core, and nowhere else."""
    hinted = Path(str(files["fp16"]).replace(".tflite", "_hint.tflite"))
    hinted.write_bytes(with_fp16_hint(Path(files["fp16"]).read_bytes()))
    x = np.random.default_rng(4).random((1, 3, *STATIC), dtype=np.float32)
    plain = load_runner(files["fp16"])(x)
    with ArmRunner(hinted, "cortex-a53") as a53, ArmRunner(hinted, CORE) as a76:
        v80, v82 = a53(x), a76(x)
    assert _psnr(v80, plain) == float("inf")
    assert 45 <= _psnr(v82, plain) < float("inf")


@needs_arm
def test_instruction_count_is_reproducible(files):
    """Two emulator runs of the counter agree to 1e-5 (measured: within 2e-6); the count is one inference's."""
    first, second = (count_instructions(files["int8"], CORE, (16, 16))[0] for _ in range(2))
    assert 1_000_000 < first < 1_000_000_000  # Python's start-up and imports alone are billions
    assert abs(first - second) <= 1e-5 * first


@needs_arm
def test_timeout_and_crash_name_the_file_and_core(files):
    path = files["int8"]
    with pytest.raises(ArmError, match=rf"int8.tflite on {CORE}: no answer within 0 s loading it"):
        ArmRunner(path, CORE, limit_s=0.01)
    with ArmRunner(path, CORE) as arm:  # a static file fed the wrong size: the guest raises and exits
        with pytest.raises(ArmError, match=rf"int8.tflite on {CORE}: the emulator stopped \(exit code 1\) running "
                                           r"a 16x16 tile: ValueError: .*takes 24x32 input"):
            arm(np.zeros((1, 3, 16, 16), np.float32))


def test_too_large_for_the_time_limit_is_refused_up_front(files):
    with pytest.raises(ArmError, match=r"fp32.tflite on cortex-a53: about \d+ s per emulated inference of 4194304 "
                                       r"LR pixels, over the 600 s limit"):
        check_budget(files["fp32"], "cortex-a53", 2048 * 2048, 600.0, 2)


def _cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, *args], capture_output=True, text=True, cwd=ROOT, env=env, timeout=120)


def test_missing_runtime_names_the_set_up_command(tmp_path, files, monkeypatch):
    import os

    env = {**os.environ, "PCARN_TOOLCHAINS": str(tmp_path)}
    for args in (["-m", "pcarn_mobile.convert", "--random-init", "--parity-on", "arm64", "--out", str(tmp_path / "o")],
                 ["-m", "pcarn_mobile.parity", str(files["int8"]), "--on", "arm64"]):
        done = _cli(*args, env=env)
        lines = done.stderr.strip().splitlines()
        assert done.returncode == 2 and len(lines) == 1, done.stderr
        assert "arm64 toolchain is not installed" in lines[0] and "make toolchain-arm64" in lines[0]
    monkeypatch.setenv("PCARN_TOOLCHAINS", str(tmp_path))
    for part in (".complete", "root/usr/bin/python3.11", "bin/qemu-aarch64-static", "qemu/usr/bin/qemu-aarch64"):
        (tmp_path / "arm64" / part).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / "arm64" / part).touch()
    with pytest.raises(ArmError, match=r"the instruction-count plugin is missing .*make toolchain-arm64"):
        count_instructions(files["int8"], CORE, (16, 16))


@pytest.mark.parametrize("args, line", [
    (["--target", "onnx", "--parity-on", "arm64"], "--parity-on arm64 checks TFLite files, and --target onnx writes none"),
    (["--parity-on", "x86"], "unknown --parity-on x86; choose arm64"),
    (["--arm-time-limit", "5"], "--arm-time-limit applies to --parity-on arm64"),
])
def test_convert_refuses_bad_arm_options(tmp_path, args, line):
    done = _cli("-m", "pcarn_mobile.convert", "--random-init", *args, "--out", str(tmp_path / "o"))
    lines = done.stderr.strip().splitlines()
    assert done.returncode == 2 and len(lines) == 1 and lines[0].startswith(f"error: {line}"), done.stderr
    assert not (tmp_path / "o").exists()


@needs_arm
def test_convert_refuses_a_tile_too_large_for_the_time_limit(tmp_path):
    done = _cli("-m", "pcarn_mobile.convert", "--random-init", "--parity-on", "arm64", "--input-size", "1024x1024",
                "--out", str(tmp_path / "o"))
    lines = done.stderr.strip().splitlines()
    assert done.returncode == 2 and len(lines) == 1, done.stderr
    assert lines[0].startswith("error: --parity-on arm64 at 1024x1024: about ") and "over the 600 s limit" in lines[0]
