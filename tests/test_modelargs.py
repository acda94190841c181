"""The shared tiling options: a fixed-size artifact's message says what can change (the overlap), not its size."""
from __future__ import annotations

import argparse

import pytest

from pcarn_mobile.errors import UserError
from pcarn_mobile.modelargs import tiling_from_args


@pytest.mark.parametrize("size,match", [
    ((5, 5), "too small to tile: no overlap of at least 21 px fits twice; convert again with --input-size of at least 49"),
    ((46, 60), "pass --overlap 22 or less (at least 21 keeps tiles seamless)"),
])
def test_fixed_size_artifact_advice(size, match):
    with pytest.raises(UserError, match=match.replace("(", r"\(").replace(")", r"\)")):
        tiling_from_args(argparse.Namespace(tile=None, overlap=24), size)
    assert tiling_from_args(argparse.Namespace(tile=None, overlap=24), (49, 49)) == {"tile": None, "overlap": 24}


def test_tile_advice():
    with pytest.raises(UserError, match="--tile 40 must exceed twice --overlap"):
        tiling_from_args(argparse.Namespace(tile=40, overlap=24))
