"""PSNR and SSIM on the Y channel, with the SR literature's convention, so figures compare to papers.

The convention (``../shared/README.md``): Y of ITU-R BT.601 YCbCr computed from uint8 RGB
(``16 + 65.481 R + 128.553 G + 24.966 B`` with RGB in [0, 1]), greyscale images used as they
are, ``shave`` pixels cut from every border (usually the scale), peak 255. SSIM is
scikit-image's with the settings that reproduce Wang et al.'s MATLAB code (11x11 Gaussian
window, sigma 1.5, population covariance), which is what published tables use.
"""
from __future__ import annotations

import math

import numpy as np
from skimage.metrics import structural_similarity

from .errors import UserError

#: BT.601 RGB -> Y weights for RGB in [0, 255] (65.481, 128.553, 24.966 divided by 255).
_Y_WEIGHTS = np.array([65.481, 128.553, 24.966], dtype=np.float64) / 255.0

#: Side of SSIM's Gaussian window (sigma 1.5, truncated at 3.5 sigma) in pixels.
SSIM_WINDOW = 11


def rgb_to_y(img: np.ndarray) -> np.ndarray:
    """Y in [16, 235] as float64 from uint8 RGB (H, W, 3); a grey (H, W) image is returned as it is."""
    if img.ndim == 2:
        return img.astype(np.float64)
    if img.ndim != 3 or img.shape[2] != 3:
        raise ValueError(f"expected an (H, W) grey or (H, W, 3) RGB image, got shape {img.shape}")
    return 16.0 + img.astype(np.float64) @ _Y_WEIGHTS


def _shaved_pair(sr: np.ndarray, hr: np.ndarray, shave: int) -> tuple[np.ndarray, np.ndarray]:
    if sr.shape != hr.shape:
        raise ValueError(f"SR {sr.shape} and HR {hr.shape} differ in shape")
    h, w = hr.shape[:2]
    if h - 2 * shave < SSIM_WINDOW or w - 2 * shave < SSIM_WINDOW:
        raise UserError(
            f"a {w}x{h} image is too small: after shaving {shave} px from each border "
            f"at least {SSIM_WINDOW}x{SSIM_WINDOW} px must remain for PSNR/SSIM"
        )
    y_sr, y_hr = rgb_to_y(sr), rgb_to_y(hr)
    if shave:
        y_sr, y_hr = y_sr[shave:-shave, shave:-shave], y_hr[shave:-shave, shave:-shave]
    return y_sr, y_hr


def psnr_y(sr_u8: np.ndarray, hr_u8: np.ndarray, shave: int) -> float:
    """Y-channel PSNR in dB (peak 255); ``inf`` for identical images."""
    y_sr, y_hr = _shaved_pair(sr_u8, hr_u8, shave)
    mse = float(np.mean((y_sr - y_hr) ** 2))
    return math.inf if mse == 0 else 10.0 * math.log10(255.0**2 / mse)


def ssim_y(sr_u8: np.ndarray, hr_u8: np.ndarray, shave: int) -> float:
    """Y-channel SSIM with MATLAB-compatible settings (Gaussian 11x11, sigma 1.5, data range 255)."""
    y_sr, y_hr = _shaved_pair(sr_u8, hr_u8, shave)
    return float(
        structural_similarity(
            y_sr, y_hr, gaussian_weights=True, sigma=1.5, use_sample_covariance=False, data_range=255.0
        )
    )
