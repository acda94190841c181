"""Evaluation reproduces the published figures, and every bad input is one `error:` line, exit 2."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from pcarn_mobile.bicubic import downscale
from pcarn_mobile.data import load_eval_set
from pcarn_mobile.errors import run_cli
from pcarn_mobile.evaluate import main
from pcarn_mobile.evaluation import evaluate_runner
from pcarn_mobile.imageio import write_image
from pcarn_mobile.photos import sample_photos
from pcarn_mobile.tiling import TorchRunner
from pcarn_mobile.weights import load_weights

pytestmark = pytest.mark.usefixtures("torch_one_thread")


def _run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as e:
        run_cli(main, argv)
    out, err = capsys.readouterr()
    return int(e.value.code), out, err


# --- acceptance: the reference figures of ../shared/README.md -------------------------------------------


def test_set5_x4_cli_json_matches_reference(upstream_l1: Path, shared: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(["--weights", str(upstream_l1), "--data", str(shared / "data/Set5/x4"), "--scale", "4",
                         "--json"], capsys)
    result = json.loads(out)
    assert code == 0 and result["count"] == 5 and len(result["images"]) == 5
    assert result["psnr_y"] == pytest.approx(31.90, abs=0.02)
    assert result["bicubic_psnr_y"] == pytest.approx(28.42, abs=0.05)
    assert 0.88 < result["ssim_y"] < 0.90 and result["bicubic_ssim_y"] < result["ssim_y"]
    assert {"name", "psnr_y", "ssim_y", "bicubic_psnr_y", "bicubic_ssim_y"} <= set(result["images"][0])


@pytest.mark.parametrize(
    "checkpoint, dataset, scale, reference",
    [
        ("PCARN-M-L1.pth", "Set5", 2, 37.70),
        ("PCARN-M-L1.pth", "Set14", 4, 28.44),
        ("carn_m.pth", "Set5", 4, 31.88),  # acceptance: >= 31.8
    ],
)
def test_reference_psnr(shared: Path, checkpoint: str, dataset: str, scale: int, reference: float) -> None:
    model = load_weights(shared / "checkpoints" / checkpoint).model
    result = evaluate_runner(TorchRunner(model, scale), load_eval_set(shared / "data" / dataset / f"x{scale}", scale),
                             scale)
    assert result["psnr_y"] == pytest.approx(reference, abs=0.02)


# --- data folders ---------------------------------------------------------------------------------------


def test_paired_folder_keeps_grey_images_as_rgb(shared: Path) -> None:
    pairs = {p.name: p for p in load_eval_set(shared / "data/Set14/x4", 4)}
    bridge = pairs["img_003_SRF_4"]  # greyscale on disk
    assert bridge.lr.shape == (128, 128, 3) and bridge.hr.shape == (512, 512, 3)
    assert np.array_equal(bridge.hr[..., 0], bridge.hr[..., 2])


def test_hr_only_folder_is_cropped_and_downscaled(tmp_path: Path) -> None:
    photo = sample_photos()[1][1]
    write_image(tmp_path / "b.png", photo[:50, :47])
    write_image(tmp_path / "a.jpg", photo[:36, :36])
    (tmp_path / "notes.txt").write_text("ignored")
    pairs = load_eval_set(tmp_path, 3)
    assert [p.name for p in pairs] == ["a", "b"]
    assert pairs[1].hr.shape == (48, 45, 3) and pairs[1].lr.shape == (16, 15, 3)
    np.testing.assert_array_equal(pairs[1].lr, downscale(photo[:48, :45], 3))


def test_table_lists_images_with_verbose(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    photo = sample_photos()[2][1]
    write_image(tmp_path / "one.png", photo[:40, :44])
    write_image(tmp_path / "two.png", photo[40:80, :44])
    code, out, _ = _run(["--random-init", "--groups", "8", "--data", str(tmp_path), "--scale", "2", "-v"], capsys)
    assert code == 0
    assert "groups=8" in out and "bicubic" in out and "one" in out and "two" in out and "mean of 2" in out
    code, out, _ = _run(["--random-init", "--data", str(tmp_path), "--scale", "2", "--tile", "16", "--overlap", "4"],
                        capsys)
    assert code == 0 and "one" not in out and "mean of 2" in out
    assert "twice --overlap" in _error(["--random-init", "--data", str(tmp_path), "--scale", "2", "--tile", "12"],
                                        capsys)


# --- bad input: one line, exit 2, no traceback ----------------------------------------------------------


def _error(argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    code, _, err = _run(argv, capsys)
    assert code == 2 and err.startswith("error: ") and err.count("\n") == 1, err
    return err


def test_bad_inputs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = ["--random-init", "--scale", "4", "--data"]
    empty = tmp_path / "empty"
    empty.mkdir()
    assert "no images" in _error([*args, str(empty)], capsys)
    assert "not found" in _error([*args, str(tmp_path / "missing")], capsys)
    corrupt = tmp_path / "corrupt"
    corrupt.mkdir()
    (corrupt / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(64))
    assert "broken.png" in _error([*args, str(corrupt)], capsys)
    tiny = tmp_path / "tiny"
    tiny.mkdir()
    write_image(tiny / "small.png", np.zeros((16, 16, 3), dtype=np.uint8))  # 16 - 2 * 4 < SSIM's 11 px
    assert "too small" in _error([*args, str(tiny)], capsys)


def test_bad_model_options(tmp_path: Path, shared: Path, capsys: pytest.CaptureFixture[str]) -> None:
    set5 = str(shared / "data/Set5/x4")
    assert "another scale" in _error(["--random-init", "--data", set5, "--scale", "2"], capsys)
    assert "groups=4" in _error(["--weights", str(shared / "checkpoints/PCARN-M-L1.pth"), "--groups", "8",
                                 "--data", set5, "--scale", "4"], capsys)
    junk = tmp_path / "w.pth"
    junk.write_bytes(b"not a checkpoint at all")
    assert "not a PyTorch checkpoint" in _error(["--weights", str(junk), "--data", set5, "--scale", "4"], capsys)
    assert "not found" in _error(["--tflite", str(tmp_path / "none.tflite"), "--data", set5, "--scale", "4"], capsys)
    assert "drop --weights" in _error(["--tflite", str(junk), "--random-init", "--data", set5, "--scale", "4"], capsys)


def test_real_process_prints_one_line_no_traceback(tmp_path: Path) -> None:
    proc = subprocess.run([sys.executable, "-m", "pcarn_mobile.evaluate", "--random-init", "--data", str(tmp_path),
                           "--scale", "2"], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert proc.stderr.startswith("error: no images") and proc.stderr.count("\n") == 1


# --- artifacts: wrong files refused at once, runtimes' messages kept out of the terminal -----------------

REPO = Path(__file__).resolve().parents[1]


def test_wrong_artifact_is_refused_before_torch_or_a_runtime_is_imported(tmp_path: Path) -> None:
    """TensorFlow or coremltools take 5-12 s to import and print screens of messages: not for a typo."""
    photo = tmp_path / "photo.png"
    write_image(photo, np.zeros((8, 8, 3), np.uint8))
    (tmp_path / "empty.mlpackage").mkdir()
    script = f"""
import sys
from pcarn_mobile.errors import run_cli
from pcarn_mobile.evaluate import main
for option, path in [("--tflite", "{photo}"), ("--onnx", "{photo}"), ("--coreml", "{photo}"),
                     ("--coreml", "{tmp_path / 'empty.mlpackage'}")]:
    try:
        run_cli(main, [option, path, "--data", "{tmp_path}", "--scale", "2"])
    except SystemExit as exc:
        assert exc.code == 2
heavy = sorted(m for m in ("torch", "tensorflow", "coremltools", "onnxruntime", "ai_edge_litert") if m in sys.modules)
print("imported:", heavy)
"""
    proc = subprocess.run([sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "imported: []\n"
    assert proc.stderr.splitlines() == [
        f"error: {photo} is not a TFLite model (it is a PNG image)",
        f"error: {photo} is not an ONNX model (it is a PNG image)",
        f"error: {photo} is not a Core ML package (it is a PNG image); --coreml takes the .mlpackage folder",
        f"error: {tmp_path / 'empty.mlpackage'} is not a Core ML package (it is a folder without Manifest.json); "
        "--coreml takes the .mlpackage folder",
    ]


def _tiny_tflite(path: Path) -> Path:
    """A 64x64 x2 TFLite model (a conv and a depth-to-space) made in seconds by TensorFlow's own converter."""
    import tensorflow as tf

    weights = tf.constant(np.random.default_rng(0).uniform(-0.1, 0.1, (3, 3, 3, 12)).astype(np.float32))

    @tf.function(input_signature=[tf.TensorSpec((1, 64, 64, 3), tf.float32)])
    def upscale(x: tf.Tensor) -> tf.Tensor:
        return tf.nn.depth_to_space(tf.nn.conv2d(x, weights, 1, "SAME") + 0.5, 2)

    converter = tf.lite.TFLiteConverter.from_concrete_functions([upscale.get_concrete_function()], upscale)
    path.write_bytes(converter.convert())
    return path


def _evaluate_process(argv: list[str], tmp: Path) -> subprocess.CompletedProcess[str]:
    """``python -m pcarn_mobile.evaluate`` with its temporary files in ``tmp``."""
    tmp.mkdir(exist_ok=True)
    return subprocess.run([sys.executable, "-m", "pcarn_mobile.evaluate", *argv], cwd=REPO, capture_output=True,
                          text=True, timeout=120, env={**os.environ, "TMPDIR": str(tmp)})


def test_artifact_runtimes_print_nothing_and_failures_name_their_log(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    write_image(data / "a.png", sample_photos()[0][1][:80, :80])
    model = _tiny_tflite(tmp_path / "tiny.tflite")
    proc = _evaluate_process(["--tflite", str(model), "--data", str(data), "--scale", "2"], tmp_path / "tmp")
    assert proc.returncode == 0 and "mean of 1" in proc.stdout
    assert proc.stderr == ""  # no XNNPACK "Created TensorFlow Lite delegate", no TensorFlow start-up lines
    assert list((tmp_path / "tmp").iterdir()) == []  # the log of a run that went well is deleted

    garbage = tmp_path / "model.onnx"
    garbage.write_bytes(bytes(range(7, 256)) * 4)  # no kind filekind knows: it takes ONNX Runtime to refuse it
    proc = _evaluate_process(["--onnx", str(garbage), "--data", str(data), "--scale", "2"], tmp_path / "tmp")
    (log,) = (tmp_path / "tmp").iterdir()
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr
    assert proc.stderr.startswith(f"error: cannot evaluate {garbage}: ") and str(log) in proc.stderr
    assert "Traceback" in log.read_text()  # what a bug report needs is in the log
