"""Test helper: the tile plan ``pcarn_mobile.tiling.upscale_array`` really runs, read off a recording model.

The demo apps reimplement the plan in Kotlin and Swift; their tests compare against what Python
actually does, padding, windows, kept regions and crop included, not against a second copy of
the arithmetic. The stand-in model gets an image whose pixels hold their own coordinates, notes
where each tile starts, and answers (k, row, column) for each output pixel of its k-th tile (small
integers: exact in float32), so the stitched output says which tile pixel landed where.
"""
from __future__ import annotations

import numpy as np

from pcarn_mobile.tiling import upscale_array


class Recorder:
    """A model of fixed ``input_size`` (or any size, None) that records each tile's origin and size."""

    def __init__(self, input_size: tuple[int, int] | None, scale: int) -> None:
        self.input_size, self.scale = input_size, scale
        self.tiles: list[tuple[int, int, int, int]] = []  # (y, x, height, width) in LR pixels

    def __call__(self, x: np.ndarray) -> np.ndarray:
        k, (h, w), s = len(self.tiles), x.shape[2:], self.scale
        self.tiles.append((int(x[0, 0, 0, 0]), int(x[0, 1, 0, 0]), h, w))
        rows, cols = np.meshgrid(np.arange(s * h), np.arange(s * w), indexing="ij")
        return np.stack([np.full_like(rows, k), rows, cols])[None].astype(np.float32)


def run_plan(height: int, width: int, scale: int, overlap: int, fixed: tuple[int, int] | None = None,
             tile: int | None = None) -> tuple[list[tuple[int, int, int, int]], np.ndarray]:
    """Tiles (y, x, h, w) and the (s*H, s*W, 3) map of (tile k, row, column in its output) of one ``upscale_array`` run.

    ``fixed``: a model that takes only that size; else an any-size model fed ``tile`` x ``tile`` tiles.
    ``upscale_array``'s ValueError (a tile it cannot use) propagates.
    """
    yy, xx = np.meshgrid(np.arange(height), np.arange(width), indexing="ij")
    image = np.stack([yy, xx, np.zeros_like(yy)], axis=-1).astype(np.float32)
    model = Recorder(fixed, scale)
    out = upscale_array(model, image, tile=tile, overlap=overlap)
    return model.tiles, out.astype(np.int64)
