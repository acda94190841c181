"""Tile plans at the frame's own compute (issue 24, docs/tile-plan.md).

- ``python -m benchmarks.tiles``: for the three target frames, per app and model kind, the plan
  before (the apps' old fixed tiles) and after (``pcarn_mobile.tile_shape``'s choice), as the
  apps' own cores compute it (``benchmarks.appcores``), checked against the Python spec;
- ``python -m benchmarks.tiles.memory``: a tile's peak memory per area on LiteRT (the budget
  behind ``max_tile_area``);
- ``python -m benchmarks.tiles.study``: why the shipped fixed shapes are the ones they are.
"""
