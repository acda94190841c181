"""Y-PSNR/SSIM: the BT.601 convention, the border shave, MATLAB-like SSIM settings."""
from __future__ import annotations

import math

import numpy as np
import pytest
from skimage.metrics import structural_similarity

from pcarn_mobile.bicubic import imresize
from pcarn_mobile.errors import UserError
from pcarn_mobile.metrics import SSIM_WINDOW, psnr_y, rgb_to_y, ssim_y
from pcarn_mobile.photos import sample_photos


def test_bt601_y_values() -> None:
    colours = np.array([[[0, 0, 0], [255, 255, 255], [255, 0, 0], [0, 255, 0], [0, 0, 255]]], dtype=np.uint8)
    np.testing.assert_allclose(rgb_to_y(colours)[0], [16.0, 235.0, 16 + 65.481, 16 + 128.553, 16 + 24.966])


def test_grey_is_used_as_it_is() -> None:
    grey = np.arange(12, dtype=np.uint8).reshape(3, 4)
    np.testing.assert_array_equal(rgb_to_y(grey), grey.astype(np.float64))
    with pytest.raises(ValueError):
        rgb_to_y(np.zeros((3, 4, 4), dtype=np.uint8))


def test_psnr_known_value_and_identity() -> None:
    hr = np.full((20, 20), 100, dtype=np.uint8)
    sr = np.full((20, 20), 110, dtype=np.uint8)
    assert psnr_y(sr, hr, 2) == pytest.approx(10 * math.log10(255**2 / 100))
    assert psnr_y(hr, hr, 2) == math.inf


def test_shave_ignores_border_errors() -> None:
    rng = np.random.default_rng(0)
    hr = rng.integers(0, 256, (24, 24, 3), dtype=np.uint8)
    sr = hr.copy()
    sr[:3] = 0
    sr[:, -3:] = 255
    assert psnr_y(sr, hr, 3) == math.inf
    assert psnr_y(sr, hr, 2) < 20.0


def test_ssim_uses_matlab_settings() -> None:
    hr = sample_photos()[0][1][:64, :64]
    sr = imresize(imresize(hr, 0.5), 2.0)  # a blurred estimate, like an SR output
    y_sr, y_hr = rgb_to_y(sr)[4:-4, 4:-4], rgb_to_y(hr)[4:-4, 4:-4]
    matlab = structural_similarity(y_sr, y_hr, gaussian_weights=True, sigma=1.5,
                                   use_sample_covariance=False, data_range=255)
    default = structural_similarity(y_sr, y_hr, data_range=255)
    assert ssim_y(sr, hr, 4) == pytest.approx(matlab, abs=1e-12)
    assert abs(matlab - default) > 1e-3  # the settings matter
    assert ssim_y(hr, hr, 4) == pytest.approx(1.0)


def test_image_smaller_than_the_shave_is_a_user_error() -> None:
    img = np.zeros((2 * 4 + SSIM_WINDOW - 1, 40, 3), dtype=np.uint8)
    with pytest.raises(UserError, match="too small"):
        psnr_y(img, img, 4)
    ok = np.zeros((2 * 4 + SSIM_WINDOW, 2 * 4 + SSIM_WINDOW, 3), dtype=np.uint8)
    assert ssim_y(ok, ok, 4) == pytest.approx(1.0)
