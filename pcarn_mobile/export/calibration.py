"""int8 calibration photos: loaded, checked up front, and cut into the crops the quantizer sees.

int8 ranges are only as good as the photos they are measured on. Two kinds of file would
silently produce a bad int8 model, so they are counted and skipped, and a set with nothing
else is refused before any conversion starts: images smaller than the calibration crop (a
1x1 PNG yields a 1x1 "crop"), and flat images (one grey level everywhere: no edge or texture
ever reaches the ranges the network uses on photos).
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..data import IMAGE_EXTENSIONS, to_rgb_u8
from ..errors import UserError
from ..imageio import read_image
from ..photos import sample_photos
from .options import CALIB_CROP

#: An image whose grey levels spread less than this (standard deviation, 0-255) is flat.
MIN_SPREAD = 4.0
BUNDLED = "scikit-image sample photos"


@dataclass
class CalibrationSet:
    """The usable photos, where they came from (a folder name, never a path) and what was skipped."""

    source: str
    images: list[tuple[str, np.ndarray]]
    skipped: dict[str, int] = field(default_factory=dict)

    def describe(self, crops: int, method: str) -> dict[str, object]:
        """The sidecar's ``calibration`` section."""
        out: dict[str, object] = {"source": self.source, "images": len(self.images), "crops": crops,
                                  "crop_size": CALIB_CROP, "method": method}
        if self.skipped:
            out["skipped"] = dict(self.skipped)
        return out


def load_calibration(directory: str | os.PathLike[str] | None) -> CalibrationSet:
    """The photos of ``directory`` (scikit-image's bundled photos when None), checked.

    Raises :class:`UserError` for a missing folder, one without a readable image, or one whose
    every image is too small or flat, saying how many were which and the minimum.
    """
    if directory is None:
        return CalibrationSet(BUNDLED, sample_photos())
    folder = Path(directory)
    if not folder.is_dir():
        raise UserError(f"calibration folder not found: {folder}")
    files = sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_EXTENSIONS)
    images, skipped = [], {"unreadable": 0, "smaller than the crop": 0, "flat": 0}
    for path in files:
        try:
            img = to_rgb_u8(read_image(path))
        except UserError:
            skipped["unreadable"] += 1
            continue
        if min(img.shape[:2]) < CALIB_CROP:
            skipped["smaller than the crop"] += 1
        elif float(img.mean(axis=2).std()) < MIN_SPREAD:
            skipped["flat"] += 1
        else:
            images.append((path.name, img))
    skipped = {k: v for k, v in skipped.items() if v}
    if not images:
        if not files or set(skipped) == {"unreadable"}:
            raise UserError(f"calibration folder {folder} holds no readable image ({', '.join(IMAGE_EXTENSIONS)})")
        counts = ", ".join(f"{n} {why}" for why, n in skipped.items())
        raise UserError(
            f"calibration folder {folder}: no usable photo among {len(files)} ({counts}); int8 needs real photos "
            f"at least {CALIB_CROP}x{CALIB_CROP} px with detail (grey-level spread >= {MIN_SPREAD:g})"
        )
    return CalibrationSet(folder.resolve().name or "(root folder)", images, skipped)


def random_crops(images: list[tuple[str, np.ndarray]], count: int, size: int = CALIB_CROP, seed: int = 0) -> list[np.ndarray]:
    """``count`` random ``size`` x ``size`` crops (NHWC float32 [0, 1]) spread evenly over the images.

    Deterministic for a given seed; every image is at least ``size`` on both sides (checked on load).
    """
    rng = np.random.default_rng(seed)
    crops = []
    for k in range(count):
        img = images[k % len(images)][1]
        h, w = img.shape[:2]
        y, x = int(rng.integers(0, h - size + 1)), int(rng.integers(0, w - size + 1))
        crops.append(np.ascontiguousarray(img[None, y : y + size, x : x + size], dtype=np.float32) / 255.0)
    return crops
