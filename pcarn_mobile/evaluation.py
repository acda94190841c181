"""Scoring any runner on an evaluation set, next to the bicubic baseline, with the paper's convention.

Input = LR uint8 / 255; output clamped to [0, 1] and rounded to uint8 (what a user gets in a
file); Y-channel PSNR/SSIM with ``scale`` pixels shaved. Bicubic is MATLAB's ``imresize`` of
the same LR image, the baseline row of every SR table. Greyscale images (Set14's bridge) are
replicated to RGB when loaded and scored through the same Y formula as colour ones: that is how
the reference figures were measured (Set14 x4 28.44); comparing raw grey values instead scores
that image 1.3 dB lower, because Y's [16, 235] range shrinks every error by 219/255.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from converters.runner import Runner

from .bicubic import imresize
from .data import EvalPair
from .metrics import psnr_y, ssim_y
from .tiling import DEFAULT_OVERLAP, upscale_array


def to_uint8(img: np.ndarray) -> np.ndarray:
    """Float in [0, 1] -> uint8, clamped and rounded half up."""
    return np.floor(np.clip(img, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)


def score(sr: np.ndarray, hr: np.ndarray, scale: int) -> tuple[float, float]:
    """(Y-PSNR, Y-SSIM) of uint8 RGB ``sr`` against ``hr``, ``scale`` px shaved."""
    return psnr_y(sr, hr, scale), ssim_y(sr, hr, scale)


def evaluate_runner(
    runner: Runner, pairs: list[EvalPair], scale: int, tile: int | None = None, overlap: int = DEFAULT_OVERLAP,
    outputs: dict[str, np.ndarray] | None = None,
) -> dict[str, Any]:
    """Mean and per-image Y-PSNR/SSIM of ``runner`` and of bicubic on ``pairs``.

    Returns ``{"scale", "count", "psnr_y", "ssim_y", "bicubic_psnr_y", "bicubic_ssim_y",
    "images": [{"name", "psnr_y", "ssim_y", "bicubic_psnr_y", "bicubic_ssim_y"}, ...]}``. With
    ``outputs``, each image's uint8 SR output is kept there by name (for the visual reports).
    """
    if runner.scale != scale:
        raise ValueError(f"runner is x{runner.scale}, evaluation asked for x{scale}")
    images = []
    for pair in pairs:
        sr = to_uint8(upscale_array(runner, pair.lr.astype(np.float32) / 255.0, tile=tile, overlap=overlap))
        if outputs is not None:
            outputs[pair.name] = sr
        bic = imresize(pair.lr, float(scale))
        p, s = score(sr, pair.hr, scale)
        bp, bs = score(bic, pair.hr, scale)
        images.append({"name": pair.name, "psnr_y": p, "ssim_y": s, "bicubic_psnr_y": bp, "bicubic_ssim_y": bs})
    keys = ("psnr_y", "ssim_y", "bicubic_psnr_y", "bicubic_ssim_y")
    means = {k: float(np.mean([im[k] for im in images])) for k in keys}
    return {"scale": scale, "count": len(images), **means, "images": images}
