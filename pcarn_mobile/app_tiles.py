"""The tile shape the demo apps run a photo at with a converted file, read from the file's sidecar.

``upscale --tflite/--coreml/--onnx`` shows the picture the phone will make, so it must cut the
photo exactly as the apps do: the shape is :mod:`pcarn_mobile.tile_shape`'s choice (the one spec
the Kotlin and Swift cores are cross-checked against) over what the sidecar offers, and the tiles
are :func:`pcarn_mobile.tiling.upscale_array`'s plan for that shape, which the apps' ``TilePlan``
mirror. Everything comes from the sidecar, as on the phone, so the plan is known (and the memory
guard can refuse a photo) before any runtime is loaded.

- fixed shapes (a static file's one input size; a Core ML package's enumerated sizes):
  :func:`~pcarn_mobile.tile_shape.best_fixed_shape` over them;
- a resizable file: :func:`~pcarn_mobile.tile_shape.best_free_shape` within the sidecar's
  ``tiling.max_tile_area``, or :data:`DEFAULT_MAX_TILE_AREA` for sidecars written before it.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from converters.runner import Runner

from .errors import UserError
from .tile_shape import DEFAULT_MAX_TILE_AREA, Shape, best_fixed_shape, best_free_shape


def offered_shapes(sidecar: dict[str, Any]) -> list[Shape] | None:
    """The fixed input shapes the file takes (enumerated sizes, or its one static size); None when resizable."""
    sizes = sidecar["input"].get("sizes")
    if sizes:
        return [(int(h), int(w)) for h, w in sizes]
    tile = sidecar["tiling"]["tile"]
    return None if tile is None else [(int(tile[0]), int(tile[1]))]


def app_tile_shape(sidecar: dict[str, Any], height: int, width: int) -> Shape:
    """The (height, width) of the tiles an app feeds this file for a ``height`` x ``width`` photo."""
    overlap = int(sidecar["tiling"]["overlap"])
    shapes = offered_shapes(sidecar)
    try:
        if shapes is not None:
            return best_fixed_shape(height, width, shapes, overlap)
        area = sidecar["tiling"].get("max_tile_area") or DEFAULT_MAX_TILE_AREA
        shape = best_free_shape(height, width, overlap, int(area))
    except ValueError as exc:
        raise UserError(f"{sidecar['file']}: {exc}") from None
    bounds = sidecar["input"].get("size_range")  # a Core ML range: each side within [lo, hi]
    if bounds and not all(bounds[0] <= s <= bounds[1] for s in shape):
        raise UserError(f"{sidecar['file']}: the {shape[0]}x{shape[1]} tile this {height}x{width} photo needs is outside "
                        f"the package's sides {bounds[0]}..{bounds[1]}; convert with --sizes for such photos")
    return shape


class AtShape:
    """``runner`` fed tiles of exactly ``shape``: :func:`~pcarn_mobile.tiling.upscale_array` cuts a runner
    with an ``input_size`` into tiles of that size (edge-padding a smaller photo), the apps' plan."""

    def __init__(self, runner: Runner, shape: Shape) -> None:
        self.runner, self.scale, self.input_size = runner, runner.scale, shape

    def __call__(self, x: np.ndarray) -> np.ndarray:
        return self.runner(x)
