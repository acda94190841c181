"""The convert CLI: bad input (one line, exit 2, nothing at the final paths), sidecars, report, parity."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from pcarn_mobile import convert
from pcarn_mobile.errors import UserError
from pcarn_mobile.models import build_model
from pcarn_mobile.weights import Header, save_checkpoint

ROOT = Path(__file__).resolve().parent.parent


def _fails(argv: list[str], match: str, capsys) -> None:
    """main() refuses with a UserError; run_cli turns that into one stderr line and exit 2."""
    with pytest.raises(SystemExit) as exit_info:
        convert.run_cli(convert.main, argv)
    assert exit_info.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: ") and match in err[0], err


@pytest.fixture()
def x4_only_checkpoint(tmp_path) -> Path:
    torch.manual_seed(0)
    path = tmp_path / "x4only.pt"
    save_checkpoint(path, build_model("pcarn_m", 4, (4,)), Header("pcarn_m", 4, (4,)))
    return path


@pytest.mark.parametrize("extra,match", [
    (["--precision", "fp32,bf16"], "unknown precision bf16"),
    (["--groups", "5"], "must divide the 64 channels"),
    (["--input-size", "0x64"], "positive HEIGHTxWIDTH"),
    (["--input-size", "big"], "positive HEIGHTxWIDTH"),
    (["--input-size", "64x-3"], "positive HEIGHTxWIDTH"),
    (["--calib-count", "0"], "at least 1"),
    (["--target", "tensorrt"], "invalid choice"),
])
def test_bad_options_are_one_line_and_leave_nothing(extra, match, tmp_path, capsys):
    out = tmp_path / "out"
    _fails(["--random-init", "--out", str(out), *extra], match, capsys)
    assert not out.exists()


def test_scale_the_weights_lack(x4_only_checkpoint, tmp_path, capsys):
    _fails(["--weights", str(x4_only_checkpoint), "--scale", "2", "--out", str(tmp_path / "o")], "x2 was asked", capsys)


def test_calibration_folder_empty_or_unreadable(tmp_path, capsys):
    empty = tmp_path / "empty"
    empty.mkdir()
    _fails(["--random-init", "--calib", str(empty), "--out", str(tmp_path / "o")], "no readable image", capsys)
    junk = tmp_path / "junk"
    junk.mkdir()
    (junk / "a.png").write_bytes(b"not a png")
    _fails(["--random-init", "--calib", str(junk), "--out", str(tmp_path / "o")], "no readable image", capsys)
    _fails(["--random-init", "--calib", str(tmp_path / "nope"), "--out", str(tmp_path / "o")], "not found", capsys)
    assert not (tmp_path / "o").exists()


def test_output_folder_not_writable(tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("a file where a folder should go")
    _fails(["--random-init", "--out", str(blocker / "sub")], "not writable", capsys)


def test_no_default_weights_message_until_they_ship(tmp_path, capsys, monkeypatch):
    from pcarn_mobile import weights

    monkeypatch.setattr(weights, "DEFAULT_WEIGHTS", tmp_path / "absent.pt")
    _fails(["--out", str(tmp_path / "o")], "pass --weights FILE", capsys)


def test_failure_mid_conversion_leaves_no_partial_files(tmp_path, monkeypatch, capsys):
    def broken(job):
        (job.workdir / f"{job.stem('fp32')}.tflite").write_bytes(b"half")
        raise UserError("simulated failure")

    monkeypatch.setitem(convert.FORMATS, "tflite", convert.FORMATS["tflite"].__class__(
        ".tflite", ("fp32",), ("fp32",), broken, "broken"))
    out = tmp_path / "out"
    _fails(["--random-init", "--input-size", "16x16", "--out", str(out)], "simulated failure", capsys)
    # The temporary build folder is gone too; only the converters' log stays, for the bug report.
    assert [p.name for p in out.iterdir()] == [convert.LOG_NAME]


@pytest.fixture(scope="module")
def small_run(tmp_path_factory) -> tuple[Path, str, str]:
    """One whole CLI run (random weights, small tile): every file, its sidecar and the report."""
    out = tmp_path_factory.mktemp("exports")
    cmd = [sys.executable, "-m", "pcarn_mobile.convert", "--random-init", "--input-size", "24x32",
           "--calib-count", "6", "--io", "uint8", "--out", str(out)]
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    return out, done.stdout, done.stderr


def test_run_writes_named_files_sidecars_and_report(small_run):
    out, stdout, stderr = small_run
    names = sorted(p.name for p in out.iterdir())
    stems = [f"pcarn_m_g4_x4_24x32_{p}.tflite" for p in ("fp16", "fp32", "int8")]
    assert names == sorted(["report.json", "convert.log", *stems, *(s + ".json" for s in stems)])
    assert "UNTRAINED" in stdout and "wall time" in stdout
    assert "weights: random-init; pcarn_m g4 x4 -> tflite fp32/fp16/int8" in stdout
    # TensorFlow's and XNNPACK's native start-up lines go to the log, not to the user's terminal.
    assert "XNNPACK" in (out / "convert.log").read_text() and "XNNPACK" not in stderr
    report = json.loads((out / "report.json").read_text())
    assert report["wall_time_s"] > 0 and " cores" in report["machine"]
    assert [a["precision"] for a in report["artifacts"]] == ["fp32", "fp16", "int8"]
    for stem in stems:
        meta = json.loads((out / f"{stem}.json").read_text())
        assert meta["scale"] == 4 and meta["groups"] == 4 and meta["file"] == stem
        assert meta["weights"]["source"] == "random-init"
        assert {"torch", "onnx2tf", "tensorflow", "ai-edge-litert"} <= set(meta["tools"])
        (inp,), (outp,) = meta["inputs"], meta["outputs"]
        assert inp["shape"] == [1, 24, 32, 3] and outp["shape"] == [1, 96, 128, 3]
        assert inp["layout"] == outp["layout"] == "NHWC" and inp["range"] == [0.0, 1.0]
        assert meta["graph"]["delegate_ready"] is True and meta["graph"]["max_rank"] <= 4
        assert meta["parity"]["photos"]["psnr_db"] >= (35 if meta["precision"] == "int8" else 45)
        if meta["precision"] == "int8":
            assert inp["dtype"] == outp["dtype"] == "uint8"
            assert inp["quantization"] == {"scale": pytest.approx(1 / 255), "zero_point": 0}
            assert meta["calibration"]["crops"] == 6
        else:
            assert inp["dtype"] == "float32" and inp["quantization"] is None


def test_onnx_target_and_expand_groups_cost(tmp_path):
    cmd = [sys.executable, "-m", "pcarn_mobile.convert", "--target", "onnx", "--random-init", "--dynamic",
           "--expand-groups", "--out", str(tmp_path)]
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "--expand-groups:" in done.stdout and "Mult-Adds" in done.stdout
    meta = json.loads((tmp_path / "pcarn_m_g4_x4_dyn_dense_fp32.onnx.json").read_text())
    assert meta["inputs"][0]["shape"] == [1, 3, "height", "width"] and meta["graph"]["opset"] >= 17
    assert meta["parity"]["photos"]["psnr_db"] >= 60
    cost = json.loads((tmp_path / "report.json").read_text())["expand_groups_cost"]
    assert cost["dense_mult_adds"] > 2 * cost["grouped_mult_adds"]


@pytest.mark.parametrize("precision,floor", [("fp32", 60.0), ("fp16", 45.0)])
def test_parity_with_upstream_weights(upstream_int8_run, precision, floor):
    meta = upstream_int8_run["artifacts"][precision]
    assert meta["parity"]["photos"]["psnr_db"] >= floor


def test_int8_set5_quality_with_upstream_weights(upstream_int8_run):
    """Acceptance: int8 Set5 x4 Y-PSNR >= 31.84 (fp32 31.90) with the authors' PCARN-M-L1."""
    quality = upstream_int8_run["artifacts"]["int8"]["parity"]["quality"]
    print(f"\nint8 Set5 x4 Y-PSNR {quality['psnr_y']:.3f} (PyTorch {quality['torch_psnr_y']:.3f})")
    assert quality["psnr_y"] >= 31.84
    assert upstream_int8_run["artifacts"]["fp32"]["parity"]["quality"]["psnr_y"] == pytest.approx(31.90, abs=0.02)


def test_upstream_files_are_delegate_ready(upstream_int8_run):
    """Trained weights change calibrated ranges, hence where the quantizer puts requantize ops."""
    for precision, meta in upstream_int8_run["artifacts"].items():
        graph = meta["graph"]
        print(f"\n{meta['file']}: ops {graph['ops']}, max tensor rank {graph['max_rank']}, "
              f"internal requantize {graph['internal_requantize']}")
        assert graph["delegate_ready"] and graph["problems"] == [] and graph["max_rank"] <= 4
        assert graph["internal_requantize"] == 0


@pytest.fixture(scope="module")
def upstream_int8_run(upstream_l1, shared, tmp_path_factory) -> dict:
    out = tmp_path_factory.mktemp("upstream")
    convert.main(["--weights", str(upstream_l1), "--parity-data", str(shared / "data" / "Set5" / "x4"),
                  "--input-size", "48x48", "--out", str(out)])
    report = json.loads((out / "report.json").read_text())
    return {**report, "artifacts": {a["precision"]: a for a in report["artifacts"]}}


def test_parity_figures_can_fail():
    """parity_on_photos reports a real difference, not a constant."""
    from pcarn_mobile.export_report import parity_crops, parity_on_photos
    from pcarn_mobile.tiling import TorchRunner

    torch.manual_seed(0)
    model = build_model("pcarn_m", 4)
    crops = parity_crops((16, 16), count=2)
    reference = TorchRunner(model, 4)
    same = parity_on_photos(TorchRunner(model, 4), reference, crops)
    off = parity_on_photos(lambda x: np.clip(reference(x) + 0.01, 0, 1), reference, crops)  # type: ignore[arg-type]
    assert same["psnr_db"] == "inf" and same["max_abs"] == 0
    assert off["psnr_db"] < 41 and off["max_abs"] == pytest.approx(0.01, abs=1e-6)
