"""The cases the tile benchmark asks the apps' cores, and the Python spec's answer to the same cases.

A case is what ``benchmarks.appcores`` takes (``{"height", "width", "overlap"}`` plus ``"shapes"`` or
``"max_area"``); an answer ``{"shape": [th, tw], "tiles": n, "computed": pixels}`` or ``{"error": str}``.
Which kinds each app has, and what each ran before, is stated here once, for the table and the tests.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pcarn_mobile.archinfo import DEFAULT_OVERLAP
from pcarn_mobile.tile_shape import (SHIPPED_SHAPES, TILE_BYTES_PER_PIXEL, best_fixed_shape, best_free_shape,
                                     max_tile_area, tiles_along)


@dataclass(frozen=True)
class Frame:
    """A photo the benchmark plans for: LR input (height, width) and the scale it is upscaled at."""

    name: str
    height: int
    width: int
    scale: int


#: The three frames of issue 24: a 720p-x4 video frame, a 1080p-x2 one, a 12 MP photo at x2.
FRAMES: tuple[Frame, ...] = (
    Frame("720p-x4", 180, 320, 4), Frame("1080p-x2", 540, 960, 2), Frame("12 MP photo x2", 3024, 4032, 2),
)


@dataclass(frozen=True)
class Kind:
    """One way an app runs a model: which core answers, what the file allows, what it ran before."""

    app: str  # "android" (the Kotlin core) or "ios" (the Swift core)
    label: str
    precision: str  # the file's precision, for the memory estimate
    resizable: bool  # True: best_free_shape within max_tile_area; False: best_fixed_shape over SHIPPED_SHAPES
    before: tuple[int, int]  # the tile the app used before the choice


#: Android loaded only static 128x128 files; iOS tiled at 256 on a range package (ModelCatalog.preferredTile).
#: ``convert --ios-demo`` installs two packages of each network, which the app pairs (ModelChoice):
#: CPU and GPU compute units load the range package (a free shape within max_tile_area; its side
#: bound, ``options.ios_demo_range``, does not bind on these frames), the Neural Engine the enumerated one.
KINDS: tuple[Kind, ...] = (
    Kind("android", "CPU, resizable file (fp32)", "fp32", True, (128, 128)),
    Kind("android", "GPU, one shape per session (fp16)", "fp16", True, (128, 128)),
    Kind("android", "NPU, static files of the shipped shapes (int8)", "int8", False, (128, 128)),
    Kind("ios", "CPU, GPU: Core ML range package (fp16)", "fp16", True, (256, 256)),
    Kind("ios", "Neural Engine: Core ML enumerated package of the shipped shapes (fp16)", "fp16", False, (256, 256)),
)

#: Resident memory of the loaded LiteRT runtime and file before any tile (benchmarks.tiles.memory: 47-48 MiB).
RUNTIME_MIB = 48


def case(frame: Frame, kind: Kind, after: bool) -> dict[str, Any]:
    """What a core is asked for ``frame`` in ``kind``: the old fixed tile, or the shipped choice."""
    base = {"height": frame.height, "width": frame.width, "overlap": DEFAULT_OVERLAP}
    if not after:
        return {**base, "shapes": [list(kind.before)]}
    if kind.resizable:
        return {**base, "max_area": max_tile_area(frame.scale, kind.precision)}
    return {**base, "shapes": [list(s) for s in SHIPPED_SHAPES]}


def spec_plan(c: dict[str, Any]) -> dict[str, Any]:
    """The Python spec's (``pcarn_mobile.tile_shape``) answer to one case, in the cores' format."""
    h, w, o = c["height"], c["width"], c["overlap"]
    try:
        shape = (best_free_shape(h, w, o, c["max_area"]) if "max_area" in c
                 else best_fixed_shape(h, w, [tuple(s) for s in c["shapes"]], o))
    except ValueError as exc:
        return {"error": str(exc)}
    tiles = tiles_along(h, shape[0], o) * tiles_along(w, shape[1], o)
    return {"shape": list(shape), "tiles": tiles, "computed": tiles * shape[0] * shape[1]}


def spec_plans(cases: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``tile_plans`` as the Python spec answers it (``--core python``)."""
    return [spec_plan(c) for c in cases]


def tile_mib(frame: Frame, kind: Kind, shape: list[int]) -> float | None:
    """One tile's peak memory on LiteRT's CPU runtime (the loaded runtime plus the measured cost per
    pixel); None for Core ML, whose memory this machine cannot measure."""
    if kind.app == "ios":
        return None
    return RUNTIME_MIB + TILE_BYTES_PER_PIXEL[(frame.scale, kind.precision)] * shape[0] * shape[1] / 2**20
