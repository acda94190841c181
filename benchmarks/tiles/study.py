"""``python -m benchmarks.tiles.study``: which fixed input shapes to ship, and why those.

Fixed-shape models (static TFLite files for GPU and NPU sessions, a Core ML package's enumerated
shapes for the Neural Engine) can only choose among the shapes shipped; each static shape is one
more file per precision and one more compile on the phone, so the set must be small. Its figure
of merit is the worst, over the target frames in both orientations (a portrait photo is as
common as a landscape one), of the best plan's computed pixels over the frame's own
(``best_fixed_shape``). Every set contains 128x128, the default the contract and tests name; no
shape exceeds ``DEFAULT_MAX_TILE_AREA``, the memory budget of every scale and precision.

Searched: square sides in steps of 8, and any oblong shape in steps of 16, in sets of 1 to 3.
"""
from __future__ import annotations

import argparse
import itertools
import sys

import numpy as np

from pcarn_mobile.archinfo import DEFAULT_OVERLAP
from pcarn_mobile.machine import describe_machine
from pcarn_mobile.tile_shape import DEFAULT_MAX_TILE_AREA, SHIPPED_SHAPES, Shape, computed_pixels

from .plans import FRAMES

#: Other common inputs, reported for the chosen set (not optimised for): VGA, 360p/720p/1080p/4K, 8 and 12 MP.
OTHER_SIZES: tuple[tuple[int, int], ...] = ((480, 640), (360, 640), (720, 1280), (1080, 1920), (2160, 3840),
                                            (2448, 3264), (3000, 4000))
DEFAULT = (128, 128)


def ratios(shape: Shape, sizes: list[tuple[int, int]]) -> np.ndarray:
    """Computed pixels over each size's own when tiled at ``shape``."""
    return np.array([computed_pixels(h, w, shape, DEFAULT_OVERLAP) / (h * w) for h, w in sizes])


def best_sets(shapes: list[Shape], sizes: list[tuple[int, int]], extra: int) -> tuple[float, tuple[Shape, ...], np.ndarray]:
    """The set of 128x128 plus ``extra`` (0-2) of ``shapes`` whose worst best plan over ``sizes`` is smallest."""
    table = np.stack([ratios(s, sizes) for s in shapes])
    base = ratios(DEFAULT, sizes)
    if extra == 0:
        return float(base.max()), (DEFAULT,), base
    if extra == 1:
        worst = np.minimum(base, table).max(axis=1)
        i = int(worst.argmin())
        return float(worst[i]), (DEFAULT, shapes[i]), np.minimum(base, table[i])
    best: tuple[float, int, int] | None = None
    for i in range(len(shapes)):  # row by row: a full pair matrix of oblong shapes would not fit comfortably
        worst = np.minimum(base, np.minimum(table[i], table)).max(axis=1)
        j = int(worst.argmin())
        if best is None or worst[j] < best[0]:
            best = (float(worst[j]), i, j)
    assert best is not None
    _, i, j = best
    return best[0], (DEFAULT, shapes[i], shapes[j]), np.minimum(base, np.minimum(table[i], table[j]))


def _fmt(shapes: tuple[Shape, ...]) -> str:
    return ", ".join(f"{h}x{w}" for h, w in shapes)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.tiles.study", description=__doc__.split("\n\n")[0])
    parser.parse_args(argv)
    landscape = [(f.height, f.width) for f in FRAMES]
    both = landscape + [(w, h) for h, w in landscape]
    squares = [(s, s) for s in range(64, 1024, 8) if s * s <= DEFAULT_MAX_TILE_AREA and s != 128]
    oblong = [(h, w) for h, w in itertools.product(range(64, 1024, 16), repeat=2)
              if h * w <= DEFAULT_MAX_TILE_AREA and (h, w) != DEFAULT]
    print(f"Searched on {describe_machine()}; overlap {DEFAULT_OVERLAP}; shapes within {DEFAULT_MAX_TILE_AREA} LR px")
    print("frames: " + ", ".join(f"{f.name} {f.height}x{f.width}" for f in FRAMES) + " (and each transposed)")
    print("| candidates | frames | set | worst | per frame |")
    print("| --- | --- | --- | --- | --- |")
    for label, shapes, sizes, what in (("squares", squares, both, "both orientations"),
                                       ("oblong", oblong, landscape, "landscape only"),
                                       ("oblong", oblong, both, "both orientations")):
        for extra in (0, 1, 2) if label == "squares" else (1, 2):
            worst, chosen, each = best_sets(shapes, sizes, extra)
            print(f"| {label} | {what} | {_fmt(chosen)} | {worst:.3f}x | {' '.join(f'{r:.2f}' for r in each)} |")
    shipped = [tuple(s) for s in SHIPPED_SHAPES]
    each = np.min(np.stack([ratios(s, both) for s in shipped]), axis=0)
    print(f"shipped ({_fmt(tuple(shipped))}): worst {each.max():.3f}x on the target frames; on other common inputs: "
          + ", ".join(f"{h}x{w} {r:.2f}x" for (h, w), r in
                      zip(OTHER_SIZES, np.min(np.stack([ratios(s, list(OTHER_SIZES)) for s in shipped]), axis=0))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
