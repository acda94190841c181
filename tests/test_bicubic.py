"""MATLAB-compatible bicubic: the shipped LR images are reproduced, and the kernel behaves like MATLAB's."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from pcarn_mobile.bicubic import downscale, imresize
from pcarn_mobile.imageio import read_image


def _psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)
    return float("inf") if mse == 0 else 10 * np.log10(255.0**2 / mse)


def test_downscaler_reproduces_shipped_set5_x4_lr(shared: Path) -> None:
    """Acceptance: the SR literature's LR images, made by MATLAB, reproduced to >= 50 dB (RGB)."""
    folder = shared / "data" / "Set5" / "x4"
    scores = {}
    for hr_path in sorted(folder.glob("*_HR.png")):
        lr = read_image(hr_path.with_name(hr_path.name.replace("_HR", "_LR")))
        scores[hr_path.stem] = _psnr(downscale(read_image(hr_path), 4), lr)
    assert len(scores) == 5
    print({k: round(v, 1) for k, v in scores.items()})
    assert min(scores.values()) >= 50.0, scores


def test_linear_ramp_is_reproduced_in_the_interior() -> None:
    # Keys' cubic (a = -0.5) reproduces linear functions; MATLAB samples output x at x/s + 0.5(1 - 1/s)
    ramp = np.tile(np.arange(16, dtype=np.float64), (4, 1))
    up = imresize(ramp, 2.0)
    expected = (np.arange(1, 33) / 2.0 + 0.25) - 1.0  # 0-based source coordinate
    np.testing.assert_allclose(up[0, 4:-4], expected[4:-4], atol=1e-12)


def test_constant_image_stays_constant_and_sizes_round_up() -> None:
    img = np.full((7, 10, 3), 77, dtype=np.uint8)
    down = imresize(img, 1 / 3)
    assert down.shape == (3, 4, 3) and down.dtype == np.uint8 and np.all(down == 77)
    assert imresize(img, output_shape=(5, 9)).shape == (5, 9, 3)


def test_downscale_crops_to_a_multiple_of_the_scale() -> None:
    hr = np.random.default_rng(0).integers(0, 256, (50, 47, 3), dtype=np.uint8)
    assert downscale(hr, 4).shape == (12, 11, 3)
    np.testing.assert_array_equal(downscale(hr, 4), imresize(hr[:48, :44], 0.25))


def test_antialiasing_on_downscale() -> None:
    # a 1-pixel checkerboard averages out when antialiased; sampling it without would alias it
    board = (np.indices((36, 36)).sum(axis=0) % 2 * 255).astype(np.float64)
    assert np.ptp(imresize(board, 1 / 3)[2:-2, 2:-2]) < 1.0
    assert np.ptp(imresize(board, 1 / 3, antialias=False)[2:-2, 2:-2]) > 50.0


def test_rejects_ambiguous_size() -> None:
    with pytest.raises(ValueError):
        imresize(np.zeros((4, 4)), 2.0, output_shape=(8, 8))
