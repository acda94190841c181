"""``upscale --tflite/--onnx``: the converted file in the apps' tiles, every layout, and one line for each bad input.

Two real conversions (random weights, x2, small) are made once for the module: a static int8 TFLite
file (fixed shape, int8 I/O from the sidecar) and a dynamic ONNX file (free shape within the area).
"""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from pcarn_mobile.app_tiles import app_tile_shape
from pcarn_mobile.errors import run_cli
from pcarn_mobile.imageio import read_image, write_image
from pcarn_mobile.photos import sample_photos
from pcarn_mobile.tile_shape import DEFAULT_MAX_TILE_AREA, best_free_shape, tiles_along
from pcarn_mobile.upscale import main
from clitools import cli_error

ROOT = Path(__file__).resolve().parents[1]


def _convert(out: Path, *options: str) -> Path:
    cmd = [sys.executable, "-m", "pcarn_mobile.convert", "--random-init", "--scale", "2", "--out", str(out), *options]
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    return out


@pytest.fixture(scope="module")
def int8_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = _convert(tmp_path_factory.mktemp("tflite"), "--precision", "int8", "--input-size", "96x96", "--calib-count", "4")
    (path,) = out.glob("*.tflite")
    return path


@pytest.fixture(scope="module")
def onnx_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = _convert(tmp_path_factory.mktemp("onnx"), "--target", "onnx", "--dynamic")
    (path,) = out.glob("*.onnx")
    return path


@pytest.fixture(scope="module")
def photo() -> np.ndarray:
    """A real 150x100 crop, RGB uint8: 3x2 tiles of the 96x96 file."""
    return sample_photos()[0][1][60:160, 150:300].copy()


def _upscale(argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    capsys.readouterr()
    with pytest.raises(SystemExit) as e:
        run_cli(main, argv)
    captured = capsys.readouterr()
    assert e.value.code == 0, captured.err
    return captured.err


def _whole(kind: str, path: Path, image: np.ndarray) -> np.ndarray:
    """The same file run on the whole photo at once (a static TFLite file resized to it): no tiles at all."""
    from converters.onnx_runner import ONNXRunner
    from converters.tflite_runner import TFLiteRunner
    from pcarn_mobile.tiling import upscale_image

    runner = TFLiteRunner(path, any_size=True) if kind == "tflite" else ONNXRunner(path)
    return upscale_image(runner, image)


@pytest.mark.parametrize("kind", ["tflite", "onnx"])
def test_the_apps_tiles_give_the_untiled_picture(kind: str, int8_file: Path, onnx_file: Path, photo: np.ndarray,
                                                 tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Tiles of the plan the apps use, stitched, are the file's own whole-image output (seamless, int8 too)."""
    path = int8_file if kind == "tflite" else onnx_file
    image = photo if kind == "tflite" else sample_photos()[0][1][:, :300]  # 512x300: above the default area
    h, w = image.shape[:2]
    src, dst = tmp_path / "in.png", tmp_path / "out.png"
    write_image(src, image)
    sidecar = json.loads(path.with_name(path.name + ".json").read_text())
    shape = app_tile_shape(sidecar, h, w)
    err = _upscale([f"--{kind}", str(path), "--scale", "2", str(src), str(dst)], capsys)
    tiles = tiles_along(h, shape[0], 24) * tiles_along(w, shape[1], 24)
    assert tiles > 1 and f"{w}x{h} -> {2 * w}x{2 * h} (x2), {tiles} tiles of {shape[1]}x{shape[0]} px" in err
    if kind == "tflite":
        assert shape == (96, 96) and tiles == 6
    else:  # resizable: the free shape within the sidecar's area; DEFAULT_MAX_TILE_AREA for a sidecar without one
        area = sidecar["tiling"]["max_tile_area"]
        assert area and shape == best_free_shape(h, w, 24, area)
        older = {**sidecar, "tiling": {k: v for k, v in sidecar["tiling"].items() if k != "max_tile_area"}}
        assert app_tile_shape(older, h, w) == best_free_shape(h, w, 24, DEFAULT_MAX_TILE_AREA)
    out = read_image(dst)
    whole = _whole(kind, path, image)
    assert out.shape == whole.shape == (2 * h, 2 * w, 3) and out.dtype == np.uint8
    assert np.abs(out.astype(int) - whole).max() <= 1 and np.mean(out != whole) < 1e-3
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.png", "out.png"]


def test_the_int8_file_is_fed_with_its_sidecars_parameters(int8_file: Path, photo: np.ndarray, tmp_path: Path,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    """One 96x96 tile by hand: q = round(x / scale + zero) in, (q - zero) * scale out, as the sidecar says."""
    from ai_edge_litert.interpreter import Interpreter

    sidecar = json.loads(int8_file.with_name(int8_file.name + ".json").read_text())
    qi, qo = sidecar["input"]["quantization"], sidecar["output"]["quantization"]
    tile = photo[:96, :96]
    interpreter = Interpreter(model_path=str(int8_file))
    interpreter.allocate_tensors()
    x = tile.astype(np.float32) / 255
    q = np.clip(np.round(x / qi["scale"] + qi["zero_point"]), -128, 127).astype(np.int8)[None]
    interpreter.set_tensor(interpreter.get_input_details()[0]["index"], q)
    interpreter.invoke()
    y = (interpreter.get_tensor(interpreter.get_output_details()[0]["index"])[0].astype(np.float32) - qo["zero_point"])
    expected = np.floor(np.clip(y * qo["scale"], 0, 1) * 255 + 0.5).astype(np.uint8)
    src, dst = tmp_path / "in.png", tmp_path / "out.png"
    write_image(src, tile)
    _upscale(["--tflite", str(int8_file), "--scale", "2", str(src), str(dst)], capsys)
    np.testing.assert_array_equal(read_image(dst), expected)


@pytest.mark.parametrize("layout", ["grey8", "grey16", "greyalpha8", "rgba16"])
def test_every_layout_through_a_converted_file(layout: str, int8_file: Path, tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    shape, dtype = {"grey8": ((40, 70), np.uint8), "grey16": ((40, 70), np.uint16),
                    "greyalpha8": ((40, 70, 2), np.uint8), "rgba16": ((40, 70, 4), np.uint16)}[layout]
    img = (np.random.default_rng(1).random(shape) * np.iinfo(dtype).max).astype(dtype)
    src, dst = tmp_path / "in.png", tmp_path / "out.png"
    write_image(src, img)
    _upscale(["--tflite", str(int8_file), "--scale", "2", str(src), str(dst)], capsys)  # 40x70: padded to a 96x96 tile
    out = read_image(dst)
    assert out.dtype == dtype and out.shape == (80, 140) + shape[2:]


def _copy(path: Path, to: Path) -> Path:
    """The file and its sidecar under a new folder (to edit one of them)."""
    to.mkdir()
    shutil.copy(path, to / path.name)
    shutil.copy(path.with_name(path.name + ".json"), to / (path.name + ".json"))
    return to / path.name


def test_bad_input_is_one_line_and_writes_nothing(int8_file: Path, onnx_file: Path, tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    src, dst = tmp_path / "in.png", tmp_path / "out.png"
    write_image(src, np.zeros((30, 40, 3), np.uint8))
    before = src.read_bytes()

    def error(model: Path, *extra: str, kind: str = "tflite", out: Path = dst) -> str:
        return cli_error(main, [f"--{kind}", str(model), "--scale", "2", *extra, str(src), str(out)], capsys)

    bare = tmp_path / "bare"
    bare.mkdir()
    shutil.copy(int8_file, bare / int8_file.name)
    assert "has no sidecar" in error(bare / int8_file.name)

    renamed = _copy(int8_file, tmp_path / "renamed")
    renamed = renamed.rename(renamed.with_name("other.tflite"))
    (renamed.parent / (int8_file.name + ".json")).rename(renamed.with_name("other.tflite.json"))
    assert f"it names the file '{int8_file.name}' but the file is 'other.tflite'" in error(renamed)

    swapped = _copy(int8_file, tmp_path / "swapped")  # the ONNX export's sidecar beside the TFLite file
    doc = json.loads(onnx_file.with_name(onnx_file.name + ".json").read_text())
    swapped.with_name(swapped.name + ".json").write_text(json.dumps({**doc, "file": swapped.name}))
    assert "it says format 'onnx' but the file is 'tflite'" in error(swapped)

    requantized = _copy(int8_file, tmp_path / "requantized")  # another calibration's parameters
    side = requantized.with_name(requantized.name + ".json")
    doc = json.loads(side.read_text())
    doc["input"]["quantization"]["zero_point"] += 3
    side.write_text(json.dumps(doc))
    assert "its input is int8" in error(requantized) and "the file's is int8" in error(requantized)

    broken = _copy(int8_file, tmp_path / "broken")
    broken.with_name(broken.name + ".json").write_text('{"schema_version": 1}')
    assert "not a valid export sidecar" in error(broken)

    assert f"{int8_file} upscales x2, but --scale 4 was asked" in cli_error(
        main, ["--tflite", str(int8_file), "--scale", "4", str(src), str(dst)], capsys)
    assert "more than the 0.1 GB allowed by --max-memory" in error(int8_file, "--max-memory", "0.1")
    assert "drop --tile/--overlap" in error(int8_file, "--tile", "32")
    assert "drop --weights/--random-init" in error(int8_file, "--random-init")
    assert "is not an ONNX model (it is a TFLite model)" in error(int8_file, kind="onnx")
    assert "is the input" in error(int8_file, out=src)
    assert src.read_bytes() == before and not dst.exists()
    assert sorted(p.name for p in tmp_path.iterdir() if p.is_file()) == ["in.png"]  # no temporary left behind


def test_the_memory_guard_refuses_a_large_photo_with_the_pytorch_model_too(tmp_path: Path,
                                                                         capsys: pytest.CaptureFixture[str]) -> None:
    src = tmp_path / "in.png"
    write_image(src, np.zeros((1000, 1500, 3), np.uint8))
    err = cli_error(main, [str(src), str(tmp_path / "o.png"), "--scale", "4", "--random-init", "--max-memory", "1"], capsys)
    assert err == ("error: 1500x1000 at x4 needs about 3.5 GB, more than the 1.0 GB allowed by --max-memory: "
                   "use a smaller photo or scale (or a smaller --tile)\n")


def _raw_tile_outputs(path: Path, image: np.ndarray, tile: tuple[int, int], origins: list[tuple[int, int]]) -> list:
    """The file's own output tensor per tile (int8 as stored), its input quantized with the sidecar's parameters."""
    from ai_edge_litert.interpreter import Interpreter

    q = json.loads(path.with_name(path.name + ".json").read_text())["input"]["quantization"]
    interpreter = Interpreter(model_path=str(path))
    interpreter.allocate_tensors()
    (inp,), (out,) = interpreter.get_input_details(), interpreter.get_output_details()
    outputs = []
    for y, x in origins:
        lr = image[y : y + tile[0], x : x + tile[1]].astype(np.float32) / 255
        interpreter.set_tensor(inp["index"], np.clip(np.round(lr / q["scale"] + q["zero_point"]), -128, 127)
                               .astype(np.int8)[None])
        interpreter.invoke()
        outputs.append(interpreter.get_tensor(out["index"]).copy())
    return outputs


def test_the_bytes_are_the_android_apps(int8_file: Path, photo: np.ndarray, tmp_path: Path,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    """``upscale --tflite`` writes what the app's plain-Kotlin core (its tile loop, placement and 8-bit rounding)
    writes for the same photo, file and plan: byte for byte."""
    from benchmarks.appcores import Unavailable, kotlin

    sidecar = json.loads(int8_file.with_name(int8_file.name + ".json").read_text())
    h, w = photo.shape[:2]
    shape = app_tile_shape(sidecar, h, w)
    try:
        origins = kotlin.tile_origins(h, w, shape, sidecar["tiling"]["overlap"])
    except Unavailable as exc:
        pytest.skip(str(exc))
    app = kotlin.stitch(h, w, 2, shape, sidecar["tiling"]["overlap"], _raw_tile_outputs(int8_file, photo, shape, origins),
                        quantization=sidecar["output"]["quantization"])
    src, dst = tmp_path / "in.png", tmp_path / "out.png"
    write_image(src, photo)
    _upscale(["--tflite", str(int8_file), "--scale", "2", str(src), str(dst)], capsys)
    ours = read_image(dst)
    assert len(origins) == 6 and ours.shape == app.shape == (2 * h, 2 * w, 3)
    assert ours.tobytes() == app.tobytes()
    assert len(np.unique(app)) > 50  # a real picture, not a constant both sides agree on
