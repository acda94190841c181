"""Pictures for the visual reports: what a converted file (or a model) does to an image, made visible.

A comparison is one row of small panels cut from the same window of an image: the LR input
(pixel-replicated to the output size), MATLAB bicubic, the reference (PyTorch, or the ground
truth), the output under test and the difference between the last two, amplified so that a
level of int8 rounding shows, with the amplification printed on the map. The window is where
the difference is largest, so the row shows the worst of what the output does there. Panels are
PNG (lossless: the point is exact pixels) embedded as data URIs, so a page needs nothing else.
"""
from __future__ import annotations

import base64
import io
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw

from .bicubic import imresize

#: Output pixels per panel side: small enough that a page with dozens of rows stays a few MB.
PANEL = 96
#: Amplification bounds: white on the map is between 1/2**16 of a level and 64 levels.
_SCALES = [2.0**k for k in range(-16, 7)]


@dataclass(frozen=True)
class Panel:
    title: str
    alt: str
    uri: str
    size: tuple[int, int]  # (width, height) in pixels


@dataclass(frozen=True)
class Comparison:
    """One image's row: where it was cut, how far the output is from the reference, and the panels."""

    image: str
    window: tuple[int, int, int]  # y, x, side in output pixels
    psnr_db: float | str  # of the output against the reference, whole image, peak 1
    max_levels: float  # largest difference in 8-bit levels, whole image
    white_levels: float  # the difference shown as white on the map
    panels: list[Panel]


def png_uri(img: np.ndarray) -> str:
    """A uint8 (H, W, 3) image as a ``data:image/png`` URI."""
    buffer = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(img)).save(buffer, format="PNG", optimize=True)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def _u8(img: np.ndarray) -> np.ndarray:
    return np.floor(np.clip(img, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)


def _window(diff: np.ndarray, side: int, step: int) -> tuple[int, int]:
    """Top-left (multiples of ``step``) of the ``side`` x ``side`` window holding the most difference."""
    h, w = diff.shape
    total = np.pad(diff.astype(np.float64).cumsum(0).cumsum(1), ((1, 0), (1, 0)))
    ys, xs = np.arange(0, h - side + 1, step), np.arange(0, w - side + 1, step)
    sums = (total[ys[:, None] + side, xs[None, :] + side] - total[ys[:, None], xs[None, :] + side]
            - total[ys[:, None] + side, xs[None, :]] + total[ys[:, None], xs[None, :]])
    i, j = np.unravel_index(int(np.argmax(sums)), sums.shape)
    return int(ys[i]), int(xs[j])


def level_text(levels: float) -> str:
    """8-bit levels as a reader takes them: ``4 levels``, ``1/64 level``."""
    return f"{levels:g} level{'s' if levels != 1 else ''}" if levels >= 1 else f"1/{1 / levels:g} level"


def diff_map(diff_levels: np.ndarray, white: float) -> np.ndarray:
    """Difference (levels) as an 'inferno' heat map, white at ``white`` levels, the scale printed on it."""
    from matplotlib import colormaps

    lut = (colormaps["inferno"](np.linspace(0, 1, 256))[:, :3] * 255).astype(np.uint8)
    img = Image.fromarray(lut[np.clip(diff_levels / white * 255, 0, 255).astype(np.uint8)])
    draw = ImageDraw.Draw(img)
    label = f"white={white:g} lv" if white >= 1 else f"white=1/{1 / white:g} lv"  # short enough for a PANEL-wide map
    box = draw.textbbox((2, 2), label)
    draw.rectangle((0, 0, box[2] + 2, box[3] + 2), fill=(0, 0, 0))
    draw.text((2, 2), label, fill=(255, 255, 255))
    return np.asarray(img)


def compare(image: str, lr: np.ndarray, reference: np.ndarray, output: np.ndarray, scale: int,
            names: tuple[str, str] = ("PyTorch", "converted file")) -> Comparison:
    """The row for one image: ``lr`` (h, w, 3), ``reference`` and ``output`` (s*h, s*w, 3), all float in [0, 1]."""
    diff = np.abs(output.astype(np.float64) - reference.astype(np.float64)).max(axis=2) * 255.0
    side = min(PANEL, diff.shape[0], diff.shape[1])
    side -= side % scale
    y, x = _window(diff, side, scale)
    nonzero = diff[diff > 0]
    white = next((s for s in _SCALES if s >= (np.percentile(nonzero, 99.9) if nonzero.size else 0)), _SCALES[-1])
    cut = (slice(y, y + side), slice(x, x + side))
    lr_cut = lr[y // scale : (y + side) // scale, x // scale : (x + side) // scale]
    mse = float(np.mean((output.astype(np.float64) - reference) ** 2))
    pictures = [
        ("LR input", "low-resolution input, each pixel repeated", np.repeat(np.repeat(_u8(lr_cut), scale, 0), scale, 1)),
        ("bicubic", "MATLAB bicubic upscaling of the input", imresize(_u8(lr), float(scale))[cut]),
        (names[0], f"{names[0]} output", _u8(reference[cut])),
        (names[1], f"{names[1]} output", _u8(output[cut])),
        ("difference", f"difference from {names[0]}, amplified {255 / white:g} times: white is {level_text(white)}",
         diff_map(diff[cut], white)),
    ]
    panels = [Panel(title, f"{image}: {alt}", png_uri(img), (side, side)) for title, alt, img in pictures]
    return Comparison(image, (y, x, side), round(10 * np.log10(1.0 / mse), 2) if mse > 0 else "inf",
                      round(float(diff.max()), 4), white, panels)
