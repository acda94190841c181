"""Evaluation sets: the SR literature's paired folders, or any folder of HR images.

Paired folders (``*_HR.png`` + ``*_LR.png``, as in ``../shared/data/Set5/x4``) are used as
shipped, because their LR images are what published figures were measured on. A folder of HR
images gets its LR made here exactly as the literature makes it (crop to a multiple of the
scale, MATLAB bicubic 1/scale), so any photo collection becomes an evaluation set.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .bicubic import downscale
from .errors import UserError
from .imageio import read_image

#: Extensions of HR-only folders.
IMAGE_EXTENSIONS: tuple[str, ...] = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff")


@dataclass(frozen=True)
class EvalPair:
    """One evaluation image: uint8 RGB LR (h, w, 3) and HR (s*h, s*w, 3).

    Greyscale files are replicated to RGB: the network takes RGB, and the reference figures
    score such images through the same Y formula as colour ones.
    """

    name: str
    lr: np.ndarray
    hr: np.ndarray


def to_rgb_u8(img: np.ndarray) -> np.ndarray:
    """Any :func:`read_image` layout -> uint8 RGB; grey replicated, alpha dropped, 16 bits rounded to 8."""
    if img.dtype == np.uint16:
        img = np.floor(img.astype(np.float64) / 257.0 + 0.5).astype(np.uint8)
    grey = img.ndim == 2 or img.shape[2] <= 2
    if img.ndim == 2:
        img = img[..., None]
    img = img[..., :1] if grey else img[..., :3]
    return np.ascontiguousarray(np.broadcast_to(img, img.shape[:2] + (3,)))


def require_folder(path: str | Path, what: str) -> Path:
    """``path`` as a Path if it is a folder; else a :class:`UserError` that says whether it is missing or a file."""
    path = Path(path)
    if path.is_file():
        raise UserError(f"{what} {path} is a file, not a folder")
    if not path.is_dir():
        raise UserError(f"{what} not found: {path}")
    return path


def load_eval_set(directory: str | Path, scale: int) -> list[EvalPair]:
    """Loads a paired folder, else an HR-only folder, sorted by name; raises :class:`UserError` if empty."""
    directory = require_folder(directory, "data folder")
    files = sorted(p for p in directory.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_EXTENSIONS)
    hr_files = [p for p in files if p.stem.endswith("_HR")]
    pairs = _load_paired(hr_files, scale) if hr_files else _load_hr_only(files, scale)
    if not pairs:
        raise UserError(f"no images ({', '.join(IMAGE_EXTENSIONS)}) in {directory}")
    return pairs


def _load_paired(hr_files: list[Path], scale: int) -> list[EvalPair]:
    pairs = []
    for hr_path in hr_files:
        stem = hr_path.stem[: -len("_HR")]
        lr_path = hr_path.with_name(f"{stem}_LR{hr_path.suffix}")
        if not lr_path.is_file():
            raise UserError(f"{hr_path} has no matching LR image {lr_path.name}")
        hr = to_rgb_u8(read_image(hr_path))
        lr = to_rgb_u8(read_image(lr_path))
        (lh, lw), (hh, hw) = lr.shape[:2], hr.shape[:2]
        if not (0 <= hh - scale * lh < scale and 0 <= hw - scale * lw < scale):
            raise UserError(
                f"{lr_path.name} ({lw}x{lh}) times x{scale} does not give {hr_path.name} ({hw}x{hh}): "
                f"is this folder for another scale than x{scale}?"
            )
        pairs.append(EvalPair(stem, lr, np.ascontiguousarray(hr[: scale * lh, : scale * lw])))
    return pairs


def _load_hr_only(files: list[Path], scale: int) -> list[EvalPair]:
    pairs = []
    for path in files:
        hr = to_rgb_u8(read_image(path))
        h, w = hr.shape[:2]
        if h < scale or w < scale:
            raise UserError(f"{path} ({w}x{h}) is smaller than the scale x{scale}")
        hr = np.ascontiguousarray(hr[: h - h % scale, : w - w % scale])
        pairs.append(EvalPair(path.stem, downscale(hr, scale), hr))
    return pairs
