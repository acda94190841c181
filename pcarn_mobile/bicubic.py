"""MATLAB-compatible bicubic resize (``imresize(img, scale, 'bicubic')``).

The SR literature's LR images and its "bicubic" baseline both come from MATLAB, whose resize
differs from PIL's and OpenCV's in three ways that cost tenths of a dB when ignored: the
cubic kernel has a = -0.5, downscaling widens the kernel by 1/scale (antialiasing), and
borders are mirrored symmetrically. MATLAB also resizes one axis at a time, the axis with the
smaller scale first, and for uint8 images rounds to uint8 after each pass; this does the same.
No library reproduces this exactly, hence the hand-written version.
"""
from __future__ import annotations

import math
from functools import lru_cache

import numpy as np


def _cubic(x: np.ndarray) -> np.ndarray:
    """Keys' cubic kernel with a = -0.5, as in MATLAB's ``imresize``."""
    ax = np.abs(x)
    ax2, ax3 = ax * ax, ax * ax * ax
    return (1.5 * ax3 - 2.5 * ax2 + 1.0) * (ax <= 1) + (-0.5 * ax3 + 2.5 * ax2 - 4.0 * ax + 2.0) * (
        (ax > 1) & (ax <= 2)
    )


@lru_cache(maxsize=256)
def resize_matrix(in_len: int, out_len: int, scale: float, antialias: bool = True) -> np.ndarray:
    """Dense (out_len, in_len) matrix M with ``out = M @ in`` along one axis.

    Built from MATLAB's ``contributions``: kernel centres at ``x/scale + 0.5(1 - 1/scale)``,
    weights normalised to sum to one, out-of-range taps mirrored back symmetrically.
    """
    kernel_width = 4.0
    if scale < 1 and antialias:
        kernel_width /= scale
        kernel = lambda t: scale * _cubic(scale * t)  # noqa: E731 - mirrors MATLAB's h = @(x) ...
    else:
        kernel = _cubic
    x = np.arange(1, out_len + 1, dtype=np.float64)
    u = x / scale + 0.5 * (1.0 - 1.0 / scale)
    left = np.floor(u - kernel_width / 2.0)
    taps = int(math.ceil(kernel_width)) + 2
    idx = left[:, None] + np.arange(taps)[None, :]
    w = kernel(u[:, None] - idx)
    w /= w.sum(axis=1, keepdims=True)
    mirror = np.concatenate([np.arange(in_len), np.arange(in_len - 1, -1, -1)])
    src = mirror[np.mod(idx.astype(np.int64) - 1, 2 * in_len)]
    mat = np.zeros((out_len, in_len), dtype=np.float64)
    np.add.at(mat, (np.repeat(np.arange(out_len), taps), src.ravel()), w.ravel())
    mat.setflags(write=False)
    return mat


def _round_uint8(x: np.ndarray) -> np.ndarray:
    """MATLAB's double -> uint8: round half away from zero, saturate."""
    return np.clip(np.floor(x + 0.5), 0, 255).astype(np.uint8)


def imresize(
    img: np.ndarray,
    scale: float | None = None,
    output_shape: tuple[int, int] | None = None,
    antialias: bool = True,
) -> np.ndarray:
    """Resizes an (H, W) or (H, W, C) image like MATLAB ``imresize(img, scale, 'bicubic')``.

    uint8 in, uint8 out (rounded after each axis, as MATLAB does); float in, float64 out, no
    rounding or clipping. Give ``scale`` (output size ``ceil(size * scale)``) or ``output_shape``.
    """
    if (scale is None) == (output_shape is None):
        raise ValueError("give exactly one of scale and output_shape")
    h, w = img.shape[:2]
    if output_shape is None:
        out_h, out_w = int(math.ceil(h * scale)), int(math.ceil(w * scale))
        scales = (float(scale), float(scale))
    else:
        out_h, out_w = output_shape
        scales = (out_h / h, out_w / w)
    is_uint8 = img.dtype == np.uint8
    out = img.astype(np.float64)
    for axis in sorted((0, 1), key=lambda a: scales[a]):  # smaller scale first; stable for ties
        in_len, out_len = out.shape[axis], (out_h, out_w)[axis]
        mat = resize_matrix(in_len, out_len, scales[axis], antialias)
        out = np.moveaxis(np.tensordot(mat, np.moveaxis(out, axis, 0), axes=(1, 0)), 0, axis)
        if is_uint8:
            out = _round_uint8(out).astype(np.float64)
    return out.astype(np.uint8) if is_uint8 else out


def downscale(hr: np.ndarray, scale: int) -> np.ndarray:
    """The SR literature's LR image: crop HR to a multiple of ``scale``, then bicubic 1/scale."""
    h, w = hr.shape[:2]
    hr = hr[: h - h % scale, : w - w % scale]
    return imresize(hr, 1.0 / scale)
