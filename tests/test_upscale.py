"""Tiling is seamless (tiled == untiled), and the upscale CLI keeps every image layout and bit depth."""
from __future__ import annotations

import os
import stat
from pathlib import Path

import numpy as np
import pytest
import torch

from pcarn_mobile.bicubic import imresize
from pcarn_mobile.errors import run_cli
from pcarn_mobile.evaluation import to_uint8
from pcarn_mobile.imageio import read_image, write_image
from pcarn_mobile.models import build_model
from pcarn_mobile.photos import sample_photos
from pcarn_mobile.tiling import (
    DEFAULT_OVERLAP, RECEPTIVE_RADIUS, TorchRunner, count_tiles, upscale_array, upscale_image,
)
from pcarn_mobile.upscale import DEFAULT_TILE, announce, main
from clitools import cli_error


@pytest.fixture(scope="module")
def model(torch_one_thread: None) -> torch.nn.Module:
    """Untrained, seeded, 16 channels: the receptive field, not width or weights, decides seamlessness."""
    torch.manual_seed(0)
    return build_model("pcarn_m", channels=16).eval()


@pytest.fixture(scope="module")
def photo() -> np.ndarray:
    """A real 64x72 crop (texture and edges), float RGB in [0, 1]."""
    return sample_photos()[0][1][60:124, 150:222].astype(np.float32) / 255.0


def test_receptive_radius_is_what_tiling_assumes(torch_one_thread: None, photo: np.ndarray) -> None:
    """Perturb one LR pixel: outputs change within RECEPTIVE_RADIUS LR px of it, and not beyond."""
    torch.manual_seed(0)  # full width: with 16 channels some paths die at a ReLU and the reach looks shorter
    runner = TorchRunner(build_model("pcarn_m").eval(), 4)
    img = photo[:64, :64].copy()
    bumped = img.copy()
    bumped[32, 32] = 1.0
    changed = np.abs(upscale_array(runner, bumped) - upscale_array(runner, img)).max(axis=2) > 0
    rows, cols = np.nonzero(changed)
    reach = max(32 * 4 - rows.min(), rows.max() - (32 * 4 + 3), 32 * 4 - cols.min(), cols.max() - (32 * 4 + 3))
    assert RECEPTIVE_RADIUS - 1 < reach / 4 <= RECEPTIVE_RADIUS
    assert DEFAULT_OVERLAP >= RECEPTIVE_RADIUS


@pytest.mark.parametrize("scale", [2, 3, 4])
def test_tiled_equals_untiled(model: torch.nn.Module, photo: np.ndarray, scale: int) -> None:
    runner = TorchRunner(model, scale)
    whole = upscale_array(runner, photo)
    tiled = upscale_array(runner, photo, tile=48, overlap=RECEPTIVE_RADIUS)  # 2 x 3 tiles
    assert tiled.shape == whole.shape == (64 * scale, 72 * scale, 3)
    assert np.abs(tiled - whole).max() < 1e-4
    assert np.abs(to_uint8(tiled).astype(int) - to_uint8(whole)).max() <= 1
    if scale == 4:  # the check can fail: too little context leaves visible seams
        seamy = upscale_array(runner, photo, tile=48, overlap=2)
        assert np.abs(seamy - whole).max() > 1e-3


class _FixedSize:
    """A runner that, like most TFLite/Core ML exports, accepts exactly one input size."""

    def __init__(self, runner: TorchRunner, size: tuple[int, int]) -> None:
        self.inner, self.scale, self.input_size, self.calls = runner, runner.scale, size, 0

    def __call__(self, x: np.ndarray) -> np.ndarray:
        assert x.shape == (1, 3, *self.input_size), x.shape
        self.calls += 1
        return self.inner(x)


def test_fixed_input_size_runner(model: torch.nn.Module, photo: np.ndarray) -> None:
    torch_runner = TorchRunner(model, 2)
    fixed = _FixedSize(torch_runner, (56, 60))
    img = photo
    out = upscale_array(fixed, img)  # default overlap
    assert fixed.calls == 4 and out.shape == (128, 144, 3)
    assert np.abs(to_uint8(out).astype(int) - to_uint8(upscale_array(torch_runner, img))).max() <= 1
    small = photo[:20, :30]  # smaller than the input size: padded, then cropped
    assert upscale_array(fixed, small).shape == (40, 60, 3)


def test_grey_and_alpha_handling(model: torch.nn.Module, photo: np.ndarray) -> None:
    runner = TorchRunner(model, 2)
    grey = to_uint8(photo[:24, :32].mean(axis=2))
    alpha = np.linspace(0, 255, 24 * 32).reshape(24, 32).astype(np.uint8)
    out = upscale_image(runner, np.dstack([grey, alpha]))
    assert out.shape == (48, 64, 2) and out.dtype == np.uint8
    rgb = upscale_array(runner, np.repeat(grey[..., None], 3, axis=2).astype(np.float32) / 255.0)
    np.testing.assert_array_equal(out[..., 0], to_uint8(np.clip(rgb, 0, 1).mean(axis=2)))  # grey = channel mean
    expected_alpha = np.floor(np.clip(imresize(alpha.astype(np.float64), 2.0), 0, 255) + 0.5)
    np.testing.assert_array_equal(out[..., 1], expected_alpha)  # alpha = bicubic


LAYOUTS = {
    "rgb8": ((18, 22, 3), np.uint8),
    "rgb16": ((18, 22, 3), np.uint16),
    "grey8": ((18, 22), np.uint8),
    "grey16": ((18, 22), np.uint16),
    "rgba8": ((18, 22, 4), np.uint8),
    "rgba16": ((18, 22, 4), np.uint16),
}


@pytest.mark.parametrize("layout", sorted(LAYOUTS))
def test_cli_round_trip_keeps_layout_and_depth(tmp_path: Path, capsys: pytest.CaptureFixture[str], layout: str) -> None:
    shape, dtype = LAYOUTS[layout]
    peak = np.iinfo(dtype).max
    img = (np.random.default_rng(0).random(shape) * peak).astype(dtype)
    src, dst = tmp_path / "in.png", tmp_path / "out.png"
    write_image(src, img)
    with pytest.raises(SystemExit) as e:
        run_cli(main, [str(src), str(dst), "--scale", "2", "--random-init", "--tile", "0"])
    assert e.value.code == 0
    out = read_image(dst)
    assert out.dtype == dtype and out.shape == (36, 44) + shape[2:]
    if dtype == np.uint16:  # really 16-bit: values between the 8-bit levels
        assert np.any(out % 257 != 0)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.png", "out.png"]  # no temporary left behind
    assert "wrote" in capsys.readouterr().out


def test_announces_the_job_and_shows_progress_per_tile_without_a_tty(tmp_path: Path,
                                                                     capsys: pytest.CaptureFixture[str]) -> None:
    src, dst = tmp_path / "in.png", tmp_path / "out.png"
    write_image(src, np.zeros((64, 64, 3), np.uint8))
    capsys.readouterr()
    with pytest.raises(SystemExit) as e:
        run_cli(main, [str(src), str(dst), "--scale", "2", "--random-init", "--tile", "40", "--overlap", "8"])
    assert e.value.code == 0
    err = capsys.readouterr().err  # pytest's capture is no TTY, like a log file or CI
    assert err.startswith(f"upscaling {src}: 64x64 -> 128x128 (x2), 4 tiles of 40x40 px, peak memory about 0.")
    assert "tiles: 100%" in err and "4/4" in err


def test_the_announced_peak_memory_of_the_measured_case() -> None:
    """1000x1000 RGB to 4000x4000 in 512 px tiles: ~3 GB measured on this project's build machine."""
    tiles = count_tiles(1000, 1000, DEFAULT_TILE, DEFAULT_OVERLAP)
    line = announce("photo.jpg", np.zeros((1000, 1000, 3), np.uint8), 4, DEFAULT_TILE, tiles)
    assert line == "upscaling photo.jpg: 1000x1000 -> 4000x4000 (x4), 9 tiles of 512x512 px, peak memory about 3.4 GB"
    assert "in one piece" in announce("small.png", np.zeros((20, 30), np.uint16), 2, DEFAULT_TILE, 1)


def test_output_gets_the_permissions_of_a_plain_file(tmp_path: Path) -> None:
    """Not mkstemp's 0600: an upscaled photo is as readable as any file the user writes."""
    src, dst = tmp_path / "in.png", tmp_path / "out.png"
    write_image(src, np.zeros((8, 8, 3), np.uint8))
    previous = os.umask(0o027)
    try:
        with pytest.raises(SystemExit) as e:
            run_cli(main, [str(src), str(dst), "--scale", "2", "--random-init"])
    finally:
        os.umask(previous)
    assert e.value.code == 0
    assert stat.S_IMODE(dst.stat().st_mode) == 0o666 & ~0o027


@pytest.mark.parametrize("link", ["same path", "symlink", "hard link"])
def test_output_that_is_the_input_needs_overwrite_input(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                         link: str) -> None:
    src = tmp_path / "photo.png"
    write_image(src, np.full((8, 8, 3), 7, np.uint8))
    dst = {"same path": src, "symlink": tmp_path / "link.png", "hard link": tmp_path / "hard.png"}[link]
    if link == "symlink":
        dst.symlink_to(src.name)
    elif link == "hard link":
        os.link(src, dst)
    before = src.read_bytes()
    err = cli_error(main, [str(src), str(dst), "--scale", "2", "--random-init"], capsys)
    assert str(src) in err and str(dst) in err and "--overwrite-input" in err
    assert src.read_bytes() == before and read_image(dst).shape == (8, 8, 3)
    with pytest.raises(SystemExit) as e:
        run_cli(main, [str(src), str(dst), "--scale", "2", "--random-init", "--overwrite-input"])
    assert e.value.code == 0 and read_image(dst).shape == (16, 16, 3)


def test_cli_bad_inputs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = tmp_path / "in.png"
    write_image(src, np.zeros((8, 8, 3), dtype=np.uint8))
    (tmp_path / "junk.png").write_bytes(b"\x89PNG\r\n\x1a\n not really")
    (tmp_path / "afile").write_text("x")
    run = ["--scale", "2", "--random-init"]
    assert "junk.png" in cli_error(main, [str(tmp_path / "junk.png"), str(tmp_path / "o.png"), *run], capsys)
    assert "not found" in cli_error(main, [str(tmp_path / "missing.png"), str(tmp_path / "o.png"), *run], capsys)
    assert "does not exist" in cli_error(main, [str(src), str(tmp_path / "no" / "o.png"), *run], capsys)
    assert "is not a folder" in cli_error(main, [str(src), str(tmp_path / "afile" / "o.png"), *run], capsys)
    write_image(tmp_path / "in16.png", np.zeros((8, 8), np.uint16))
    assert "8 bits only" in cli_error(main, [str(tmp_path / "in16.png"), str(tmp_path / "o.jpg"), *run], capsys)
    assert "unknown extension" in cli_error(main, [str(src), str(tmp_path / "o.xyz"), *run], capsys)
    assert "x8" in cli_error(main, [str(src), str(tmp_path / "o.png"), "--scale", "8", "--random-init"], capsys)
    assert not (tmp_path / "o.png").exists()
