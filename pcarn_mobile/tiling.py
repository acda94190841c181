"""Running any :class:`~converters.runner.Runner` on whole images, in seamless overlapping tiles.

Tiles bound memory on large photos and are the only way to feed artifacts with a fixed input
size (most TFLite/Core ML exports). Each tile is run with ``overlap`` LR pixels of real image
context on every side that touches another tile, and only its centre is kept. When the
context covers the network's receptive field the kept pixels depend on exactly the same
inputs as in a whole-image run, so the tiled result equals the untiled one (up to float
rounding): no blending, no seams. Image borders keep the network's own zero padding, since
tiles are never padded there unless the image is smaller than a fixed-size tile.

The plan and :func:`upscale_array` need NumPy only; torch is imported by :class:`TorchRunner`
alone, so that a process which runs a TFLite or ONNX file in tiles (the host latency harness's
workers, whose peak memory is reported) does not carry PyTorch's 240 MB.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Iterator

import numpy as np
from tqdm import tqdm

from converters.runner import Runner

from .archinfo import DEFAULT_OVERLAP, RECEPTIVE_RADIUS  # noqa: F401 - re-exported: tiling's own parameters
from .bicubic import imresize

if TYPE_CHECKING:
    from torch import nn


class TorchRunner:
    """The PyTorch model as a :class:`Runner`: any input size, output clamped to [0, 1]."""

    input_size: tuple[int, int] | None = None

    def __init__(self, model: nn.Module, scale: int) -> None:
        from .models import SRDeploy

        self.scale = scale
        self.module = (model if isinstance(model, SRDeploy) else SRDeploy(model, scale)).eval()

    def __call__(self, x: np.ndarray) -> np.ndarray:
        import torch

        with torch.inference_mode():
            return self.module(torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32))).numpy()


def _starts(length: int, tile: int, overlap: int) -> list[int]:
    """Tile origins along one axis: step ``tile - 2*overlap``, the last one flush with the end."""
    if length <= tile:
        return [0]
    step = tile - 2 * overlap
    starts = list(range(0, length - tile, step))
    return starts + [length - tile]


def count_tiles(h: int, w: int, tile: int | tuple[int, int] | None, overlap: int = DEFAULT_OVERLAP) -> int:
    """How many runs :func:`upscale_array` makes for an ``h`` x ``w`` image: ``tile`` x ``tile`` tiles of an
    any-size runner, or a fixed-size runner's ``(height, width)`` (a side shorter than the tile is
    edge-padded to it: one tile along that side either way)."""
    if not tile:
        return 1
    th, tw = (tile, tile) if isinstance(tile, int) else tile
    return len(_starts(h, th, overlap)) * len(_starts(w, tw, overlap))


def _kept(start: int, tile: int, length: int, overlap: int) -> tuple[int, int]:
    """The part of a tile whose pixels have full context: all but ``overlap`` on inner sides."""
    lo = start + overlap if start > 0 else 0
    hi = start + tile - overlap if start + tile < length else length
    return lo, hi


def _tiles(h: int, w: int, th: int, tw: int, overlap: int) -> Iterator[tuple[int, int, tuple[int, int], tuple[int, int]]]:
    for y in _starts(h, th, overlap):
        for x in _starts(w, tw, overlap):
            yield y, x, _kept(y, min(th, h), h, overlap), _kept(x, min(tw, w), w, overlap)


def upscale_array(
    runner: Runner,
    img: np.ndarray,
    tile: int | tuple[int, int] | None = None,
    overlap: int = DEFAULT_OVERLAP,
    progress: bool = False,
) -> np.ndarray:
    """Upscales float RGB (H, W, 3) in [0, 1] to float32 (s*H, s*W, 3).

    The whole image goes in one call when ``tile`` is None and the runner takes any size;
    otherwise it is cut into ``tile`` x ``tile`` pieces, or ``(height, width)`` ones (what
    :func:`pcarn_mobile.tile_shape.best_free_shape` chooses for an any-size runner), or exactly
    ``runner.input_size`` when that is fixed, overlapping by ``overlap`` pixels of context per
    side. An image smaller than a fixed input size is edge-padded up to it and the result
    cropped; an any-size runner gets a tile no larger than the image (docs/tile-plan.md).
    """
    if img.ndim != 3 or img.shape[2] != 3:
        raise ValueError(f"expected (H, W, 3) RGB, got {img.shape}")
    s = runner.scale
    h, w = img.shape[:2]
    if runner.input_size is None and tile is None:
        return _run(runner, img)[0].transpose(1, 2, 0)
    th, tw = runner.input_size if runner.input_size is not None else ((tile, tile) if isinstance(tile, int) else tile)
    if runner.input_size is not None and (h < th or w < tw):
        padded = np.pad(img, ((0, max(th - h, 0)), (0, max(tw - w, 0)), (0, 0)), mode="edge")
        return upscale_array(runner, padded, tile, overlap, progress)[: s * h, : s * w]
    for side, length in ((th, h), (tw, w)):  # per axis: a short side is fine where one tile spans the image
        if side <= 2 * overlap and length > side:
            raise ValueError(f"tile side {side} must exceed twice the overlap ({overlap}); use a larger tile")
    out = np.empty((s * h, s * w, 3), dtype=np.float32)
    tiles = list(_tiles(h, w, th, tw, overlap))
    for y, x, (y0, y1), (x0, x1) in tqdm(tiles, desc="tiles", unit="tile", disable=not progress or len(tiles) < 2):
        sr = _run(runner, img[y : y + th, x : x + tw])[0].transpose(1, 2, 0)
        out[s * y0 : s * y1, s * x0 : s * x1] = sr[s * (y0 - y) : s * (y1 - y), s * (x0 - x) : s * (x1 - x)]
    return out


def _run(runner: Runner, img: np.ndarray) -> np.ndarray:
    x = np.ascontiguousarray(img.transpose(2, 0, 1)[None], dtype=np.float32)
    return runner(x)


def upscale_image(runner: Runner, image: np.ndarray, **tiling: object) -> np.ndarray:
    """Upscales any :func:`~pcarn_mobile.imageio.read_image` layout, keeping layout and bit depth.

    Grey is replicated to RGB for the network and brought back as the mean of the three
    output channels (they differ by a level or two; the mean favours none). Alpha is not
    something the network was trained on, so it is upscaled with MATLAB bicubic. ``tiling``
    goes to :func:`upscale_array` (``tile``, ``overlap``, ``progress``).
    """
    peak = float(np.iinfo(image.dtype).max)
    channels = 1 if image.ndim == 2 else image.shape[2]
    colour = image[..., :3] if channels >= 3 else (image if image.ndim == 2 else image[..., 0])
    rgb = colour.astype(np.float32) / peak
    if channels < 3:
        rgb = np.repeat(rgb[..., None], 3, axis=2)
    out = upscale_array(runner, rgb, **tiling)  # type: ignore[arg-type]
    np.clip(out, 0.0, 1.0, out=out)  # in place: a x4 output of a 12 MP photo is 2.3 GB as float32
    if channels < 3:
        out = out.mean(axis=2)
    out *= peak
    out += 0.5
    out = np.floor(out, out=out).astype(image.dtype)
    if channels in (2, 4):
        alpha = np.clip(imresize(image[..., -1].astype(np.float64), float(runner.scale)), 0.0, peak)
        out = np.dstack([out, np.floor(alpha + 0.5).astype(image.dtype)])
    return out
