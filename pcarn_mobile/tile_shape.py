"""Which tile shape a photo runs at: the one that computes the fewest pixels the model file allows.

This is the one specification of the choice (docs/tile-plan.md says it in words); the Android
core (``TileShape.kt``) and the iOS core (``TileShape.swift``) implement the same integer
arithmetic and the suite checks all three against each other on the same cases. Given the
shape, the tiles themselves are :func:`pcarn_mobile.tiling.upscale_array`'s plan (step
``tile - 2*overlap``, the last tile flush with the image's end), unchanged.

Why a choice at all: a 128x128 tile with the 24-px overlap that makes tiling exact computes
2.28x the pixels of a 320x180 frame. A tile cut to the photo computes each pixel about once.

Two kinds of file, two rules (integers only, so every language gives the same answer):

- **fixed shapes** (static files, one per shipped input shape; Core ML enumerated shapes; GPU and
  NPU sessions built for one shape): among the candidate shapes, the one whose plan computes the
  fewest pixels; ties go to fewer tiles, then to the earlier candidate.
- **free shape** (a resizable CPU model): per axis of length ``L`` cut into ``n`` tiles, the
  smallest side that covers it is ``side(L, n) = ceil((L + 2*overlap*(n-1)) / n)`` (``L`` for
  ``n = 1``). Over every ``n_y`` (rows of tiles) the fewest columns ``n_x`` whose tile fits
  ``max_area`` LR pixels is taken in closed form; the pair computing the fewest pixels wins, ties
  to fewer tiles, then to the smaller ``n_y``. Taking the fewest columns is optimal while they
  number at most ``2*overlap + 1`` (49 at the shipped overlap): one more column costs ``2*overlap``
  pixels a row and saves at most the side's rounding, under one pixel per tile. Past that, more
  and narrower tiles could save a little; the rule keeps the fewest there too, by definition
  (tests/test_tile_shape.py checks it against brute force within the bound).

What bounds a free shape is memory (:func:`max_tile_area`, written into a resizable file's sidecar
as ``tiling.max_tile_area``); what the fixed shapes are is :data:`SHIPPED_SHAPES`, the input
shapes ``convert --android-demo/--ios-demo`` install (``python -m benchmarks.tiles.study`` shows
why these).
"""
from __future__ import annotations

from collections.abc import Sequence

Shape = tuple[int, int]  # (height, width) in LR pixels

#: The memory one tile may take on the phone, on top of the loaded runtime: 768 MiB. Why this
#: much: it is what lets the two x2 targets reach 1.3x the frame's compute in fp32 (a 12 MP photo
#: needs tiles of ~131k LR pixels, 686 MiB at x2); with the runtime (~50 MiB) and the app's
#: bitmaps of a 12 MP photo at x2 (49 MB in, 195 MB out) the app peaks near 1.1 GB, within what a
#: 6 GB phone (today's mid-range Android phones, iPhone 13 Pro and later) leaves a foreground app.
TILE_MEMORY_BUDGET = 768 * 2**20

#: Bytes one LR pixel of a tile costs on LiteRT (XNNPACK, 2 threads), by (scale, precision): the
#: slope of ``python -m benchmarks.tiles.memory`` over 96x96 to 320x320 tiles (fixed part under
#: 5 MiB, residuals under 1 MiB), rounded up. fp16 files compute in fp32 on the CPU, so they cost
#: what fp32 costs; a GPU running fp16 needs less, so the CPU figure bounds it.
TILE_BYTES_PER_PIXEL: dict[tuple[int, str], int] = {
    (2, "fp32"): 5_500, (2, "fp16"): 5_500, (2, "int8"): 2_600,
    (3, "fp32"): 7_600, (3, "fp16"): 7_600, (3, "int8"): 3_500,
    (4, "fp32"): 7_600, (4, "fp16"): 7_600, (4, "int8"): 3_500,
}


def max_tile_area(scale: int, precision: str) -> int:
    """The most LR pixels one tile of a resizable xS file may have within :data:`TILE_MEMORY_BUDGET`.

    A precision without its own figure (a Core ML package's fp16 activations, ONNX fp32) gets
    the float figure of its scale.
    """
    per_pixel = TILE_BYTES_PER_PIXEL.get((scale, precision), TILE_BYTES_PER_PIXEL[(max(2, min(scale, 4)), "fp32")])
    return TILE_MEMORY_BUDGET // per_pixel


#: What a reader uses where a resizable file's sidecar has no ``max_tile_area`` (files written
#: before it existed): the smallest area of any scale and precision, ``max_tile_area(4, "fp32")``.
#: The Kotlin and Swift cores carry the same literal and the cross-check compares it.
DEFAULT_MAX_TILE_AREA = 105_961

#: The input shapes the demo apps get for fixed-shape models (static TFLite files for GPU and NPU,
#: a Core ML package's enumerated shapes for the Neural Engine): 128x128 (the default, what the
#: contract and tests name), 184x184 (a 720p-x4 frame's 180 rows in one band) and 304x304 (large
#: photos). Square, so a portrait photo does as well as a landscape one; each within
#: DEFAULT_MAX_TILE_AREA. The best of them computes at most 1.46x the pixels of the three target
#: frames (docs/tile-plan.md, ``python -m benchmarks.tiles.study``).
SHIPPED_SHAPES: tuple[Shape, ...] = ((128, 128), (184, 184), (304, 304))


def free_side_bound(max_area: int, overlap: int) -> int:
    """The longest side a free tile of at most ``max_area`` pixels takes on a photo cut along both axes.

    Why: a range-flexible package (Core ML) bounds each side as well as the area. A tile side that
    cuts its axis exceeds ``2*overlap``, so the other side is at most ``max_area // (2*overlap + 1)``;
    a range reaching that far never binds before ``max_area`` does, except on a photo thinner than
    ``2*overlap + 1`` (one band, whose length may then take more tiles than the area alone needs).
    """
    return max_area // (2 * overlap + 1)


def tiles_along(length: int, tile: int, overlap: int) -> int:
    """Tiles of side ``tile`` along an axis of ``length``: ``upscale_array``'s count (1 if it fits, edge-padded)."""
    if length <= tile:
        return 1
    step = tile - 2 * overlap
    if step <= 0:
        raise ValueError(f"tile side {tile} must exceed twice the overlap ({overlap}); use a larger tile")
    return -(-(length - tile) // step) + 1


def computed_pixels(height: int, width: int, shape: Shape, overlap: int) -> int:
    """LR pixels the network computes for an image in tiles of ``shape``: tiles times tile area."""
    th, tw = shape
    return tiles_along(height, th, overlap) * tiles_along(width, tw, overlap) * th * tw


def best_fixed_shape(height: int, width: int, shapes: Sequence[Shape], overlap: int) -> Shape:
    """The candidate whose plan computes the fewest pixels (ties: fewer tiles, then list order).

    A candidate whose side cannot tile this image (side not above twice the overlap where the image
    is longer) is skipped; none left is a ValueError.
    """
    best: tuple[int, int, int] | None = None
    for i, (th, tw) in enumerate(shapes):
        if (height > th and th <= 2 * overlap) or (width > tw and tw <= 2 * overlap):
            continue
        key = (computed_pixels(height, width, (th, tw), overlap),
               tiles_along(height, th, overlap) * tiles_along(width, tw, overlap), i)
        best = key if best is None or key < best else best
    if best is None:
        raise ValueError(f"no input shape of {list(shapes)} can tile a {height}x{width} image with overlap {overlap}")
    return tuple(shapes[best[2]])  # type: ignore[return-value]


def side(length: int, n: int, overlap: int) -> int:
    """The smallest tile side that covers ``length`` in ``n`` tiles overlapping by ``2*overlap``."""
    return length if n == 1 else -(-(length + 2 * overlap * (n - 1)) // n)


def fewest_tiles(length: int, cap: int, overlap: int) -> int | None:
    """The fewest tiles along ``length`` whose side is at most ``cap``; None if no side that small can tile."""
    if length <= cap:
        return 1
    if cap <= 2 * overlap:
        return None
    return -(-(length - 2 * overlap) // (cap - 2 * overlap))


def best_free_shape(height: int, width: int, overlap: int, max_area: int) -> Shape:
    """The tile shape of at most ``max_area`` LR pixels that computes the fewest pixels for this image."""
    if height <= 0 or width <= 0 or max_area <= 0:
        raise ValueError(f"no tile plan for a {height}x{width} image within {max_area} pixels")
    best: tuple[int, int, int, int, int] | None = None  # (computed, tiles, n_y, th, tw)
    for ny in range(1, height + 1):
        th = side(height, ny, overlap)
        if ny > 1 and (th <= 2 * overlap or th >= height):
            continue
        if th > max_area:
            continue
        nx = fewest_tiles(width, max_area // th, overlap)
        if nx is None:
            continue
        tw = side(width, nx, overlap)
        key = (ny * th * nx * tw, ny * nx, ny, th, tw)
        if best is None or key < best:
            best = key
        if (height + 2 * overlap * (ny - 1)) * width > best[0]:
            break  # every later n_y computes more rows than the best plan's whole area
    if best is None:
        raise ValueError(f"no tile of at most {max_area} pixels can tile a {height}x{width} image with overlap {overlap}")
    return best[3], best[4]
