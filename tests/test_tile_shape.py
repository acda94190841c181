"""The tile shape choice (pcarn_mobile/tile_shape.py, docs/tile-plan.md): optimal, its ties and refusals, exact.

Optimality is checked against brute force over every tile shape on small images; the plan's
tile count and computed pixels against what ``upscale_array`` really runs (a recording model);
exactness with the network itself at the chosen shapes.
"""
from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch

from pcarn_mobile.archinfo import MIN_TILE_SIDE
from pcarn_mobile.export.options import DEFAULT_INPUT_SIZE
from pcarn_mobile.export.parity import FixedSizeRunner
from pcarn_mobile.models import build_model
from pcarn_mobile.photos import sample_photos
from pcarn_mobile.tile_shape import (DEFAULT_MAX_TILE_AREA, SHIPPED_SHAPES, TILE_BYTES_PER_PIXEL, best_fixed_shape,
                                     best_free_shape, computed_pixels, fewest_tiles, max_tile_area, side,
                                     tiles_along)
from pcarn_mobile.tiling import TorchRunner, upscale_array
from tileplan import run_plan


def _brute_free(h: int, w: int, overlap: int, max_area: int) -> tuple[int, int] | None:
    """(fewest computed pixels, fewest tiles among them) over every shape no larger than the image."""
    best = None
    for th, tw in itertools.product(range(1, h + 1), range(1, w + 1)):
        if th * tw > max_area or (th < h and th <= 2 * overlap) or (tw < w and tw <= 2 * overlap):
            continue
        key = (computed_pixels(h, w, (th, tw), overlap), tiles_along(h, th, overlap) * tiles_along(w, tw, overlap))
        best = key if best is None or key < best else best
    return best


def _columns_within_bound(h: int, w: int, overlap: int, max_area: int) -> bool:
    """Whether every row count the spec tries needs at most ``2*overlap + 1`` columns: the regime in
    which taking the fewest columns is provably optimal (tile_shape's docstring)."""
    for ny in range(1, h + 1):
        th = side(h, ny, overlap)
        if th <= max_area:
            nx = fewest_tiles(w, max_area // th, overlap)
            if nx is not None and nx > 2 * overlap + 1:
                return False
    return True


@pytest.mark.parametrize("overlap", [1, 2, 3])
def test_free_shape_is_optimal_against_brute_force(overlap):
    """Images up to 17x19, random area caps: computed pixels minimal, then tiles minimal."""
    rng = np.random.default_rng(overlap)
    cases = [(h, w, a) for h in range(1, 18, 2) for w in range(1, 20, 3) for a in rng.integers(1, h * w + 8, 3)]
    checked = refused = 0
    for h, w, area in cases:
        brute = _brute_free(h, w, overlap, int(area))
        if brute is None:
            with pytest.raises(ValueError, match="no tile of at most"):
                best_free_shape(h, w, overlap, int(area))
            refused += 1
            continue
        if not _columns_within_bound(h, w, overlap, int(area)):
            continue
        th, tw = best_free_shape(h, w, overlap, int(area))
        assert th * tw <= area and th <= h and tw <= w
        got = (computed_pixels(h, w, (th, tw), overlap), tiles_along(h, th, overlap) * tiles_along(w, tw, overlap))
        assert got == brute, (h, w, area, (th, tw))
        checked += 1
    assert checked > 100 and refused > 0  # both branches exercised


def test_free_shape_beyond_the_bound_keeps_fewest_columns():
    """Past 2*overlap+1 columns, narrower tiles can save the side's rounding (7 tiles of 1 px compute 7, not
    4 of 2 px, 8); the spec keeps the fewest columns there, and the Kotlin and Swift cores mirror exactly that.
    At the shipped overlap (24) that takes more than 49 tiles in a row."""
    assert best_free_shape(1, 7, 0, 2) == (1, 2) and _brute_free(1, 7, 0, 2) == (7, 7)


def test_free_shape_ties_go_to_fewer_rows():
    """A 10x10 image with overlap 0 and 50 px: 2 tiles either way (5x10 or 10x5); the plan takes one row."""
    assert best_free_shape(10, 10, 0, 50) == (10, 5)
    assert best_free_shape(10, 10, 0, 100) == (10, 10)  # the whole image when it fits


def test_fixed_shape_choice_ties_and_refusals():
    # 100x100, overlap 10: 60x100 and 100x60 both compute 2 tiles of 6000; the earlier wins.
    assert best_fixed_shape(100, 100, [(60, 100), (100, 60)], 10) == (60, 100)
    assert best_fixed_shape(100, 100, [(100, 60), (60, 100)], 10) == (100, 60)
    # Equal computed pixels, fewer tiles wins: 1 tile of 100x120 (12000) against 4 of 60x50 (12000).
    assert best_fixed_shape(100, 100, [(50, 60), (100, 120)], 10) == (100, 120)
    # A side not above twice the overlap cannot tile a longer image: skipped, and none left is refused.
    assert best_fixed_shape(100, 100, [(20, 20), (128, 128)], 10) == (128, 128)
    with pytest.raises(ValueError, match="can tile a 100x100 image"):
        best_fixed_shape(100, 100, [(20, 20)], 10)
    with pytest.raises(ValueError):
        best_free_shape(0, 10, 24, 1000)


@pytest.mark.parametrize("h,w", [(180, 320), (37, 203), (300, 71), (540, 960)])
def test_plan_counts_what_upscale_array_runs(h, w):
    """The spec's tiles and computed pixels are what ``upscale_array`` feeds the model (padding included)."""
    free = best_free_shape(h, w, 24, 20_000)
    tiles, _ = run_plan(h, w, 2, 24, tile=free)  # type: ignore[arg-type]
    assert len(tiles) == tiles_along(h, free[0], 24) * tiles_along(w, free[1], 24)
    assert sum(th * tw for _, _, th, tw in tiles) == computed_pixels(h, w, free, 24)
    fixed = best_fixed_shape(h, w, SHIPPED_SHAPES, 24)
    tiles, _ = run_plan(h, w, 2, 24, fixed=fixed)
    assert sum(th * tw for _, _, th, tw in tiles) == computed_pixels(h, w, fixed, 24)


@pytest.fixture(scope="module")
def network(torch_one_thread):
    torch.manual_seed(0)
    return TorchRunner(build_model("pcarn_m", channels=16).eval(), 2)


def test_tiled_output_at_chosen_shapes_is_exact(network):
    """The network through the chosen free shape (2x2 tiles of 64x74) and a fixed shape equals the whole-image run."""
    img = sample_photos()[0][1][40:120, 100:200].astype(np.float32) / 255.0  # 80x100
    whole = upscale_array(network, img)
    free = best_free_shape(80, 100, 24, 5000)
    assert free == (64, 74) and tiles_along(80, 64, 24) * tiles_along(100, 74, 24) == 4
    assert np.abs(upscale_array(network, img, tile=free) - whole).max() < 1e-6
    fixed = best_fixed_shape(80, 100, [(56, 56), (64, 72)], 24)
    tiled = upscale_array(FixedSizeRunner(network, fixed), img)
    assert np.abs(tiled - whole).max() < 1e-6
    assert np.abs(upscale_array(network, img, tile=(52, 52), overlap=2) - whole).max() > 1e-3  # it can fail


def test_budget_constants():
    areas = {(s, p): max_tile_area(s, p) for s, p in TILE_BYTES_PER_PIXEL}
    assert DEFAULT_MAX_TILE_AREA == min(areas.values()) == max_tile_area(4, "fp32") == 105_961
    assert max_tile_area(2, "int8") > max_tile_area(2, "fp32") > max_tile_area(4, "fp32")
    assert max_tile_area(4, "palette6") == max_tile_area(4, "fp32")  # no figure of its own: the float one
    assert SHIPPED_SHAPES[0] == DEFAULT_INPUT_SIZE
    assert all(min(s) >= MIN_TILE_SIDE and s[0] * s[1] <= DEFAULT_MAX_TILE_AREA for s in SHIPPED_SHAPES)


@pytest.mark.parametrize("h,w,scale", [(180, 320, 4), (540, 960, 2), (3024, 4032, 2)])
def test_issue_targets_on_the_three_frames(h, w, scale):
    """Resizable files within the budget reach 1.3x; the shipped shapes 1.5x, in both orientations."""
    for hh, ww in ((h, w), (w, h)):
        free = best_free_shape(hh, ww, 24, max_tile_area(scale, "fp32"))
        assert computed_pixels(hh, ww, free, 24) <= 1.3 * hh * ww
        fixed = best_fixed_shape(hh, ww, SHIPPED_SHAPES, 24)
        assert computed_pixels(hh, ww, fixed, 24) <= 1.5 * hh * ww
    assert computed_pixels(h, w, (128, 128), 24) > 1.5 * h * w  # the old fixed tile did not
