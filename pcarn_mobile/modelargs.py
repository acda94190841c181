"""The command-line options shared by every CLI that runs a network: which network, and tiling.

``--weights`` decides the architecture: a checkpoint says what it holds (arch, groups, scales),
so ``--groups``/``--arch`` are only checks against it (a mismatch is an error naming both),
and ``carn_m.pth`` works with no extra flag. They pick the network only with ``--random-init``.
Nothing here imports torch before a network is built, so that a CLI refuses a bad option at once.
"""
from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from .archinfo import ARCH_NAMES, DEFAULT_OVERLAP, MIN_TILE_SIDE, RECEPTIVE_RADIUS, VALID_GROUPS
from .errors import UserError

if TYPE_CHECKING:
    from .weights import LoadedWeights

_DEFAULT_ARCH, _DEFAULT_GROUPS = "pcarn_m", 4


def add_model_args(parser: argparse.ArgumentParser) -> None:
    """Adds --weights, --random-init, --groups and --arch."""
    parser.add_argument("--weights", metavar="FILE", help="checkpoint: the authors' .pth or this project's .pt "
                        "(default: the embedded default weights)")
    parser.add_argument("--random-init", action="store_true", help="use an untrained network (for testing tools)")
    parser.add_argument("--groups", type=int, choices=VALID_GROUPS, metavar="G",
                        help=f"group count, one of {', '.join(map(str, VALID_GROUPS))} (default: from the "
                        f"checkpoint; {_DEFAULT_GROUPS} with --random-init)")
    parser.add_argument("--arch", choices=sorted(ARCH_NAMES),
                        help=f"architecture (default: from the checkpoint; {_DEFAULT_ARCH} with --random-init)")


def model_from_args(args: argparse.Namespace, scale: int) -> LoadedWeights:
    """The network the options describe, with its weights, able to run at ``scale``."""
    from .weights import resolve_weights  # imports torch: only once the options have been checked

    if args.weights or not args.random_init:
        # None means "whatever the checkpoint holds"; a given value is checked against it.
        return resolve_weights(args.weights, args.random_init, groups=args.groups, scale=scale,  # type: ignore[arg-type]
                               arch=args.arch)  # type: ignore[arg-type]
    try:
        return resolve_weights(None, True, groups=args.groups or _DEFAULT_GROUPS, scale=scale,
                               arch=args.arch or _DEFAULT_ARCH)
    except ValueError as exc:
        raise UserError(str(exc)) from None


def describe(loaded: LoadedWeights) -> str:
    """One line naming the network and where its weights came from."""
    h = loaded.header
    return f"{h.arch} groups={h.groups} scales={'/'.join(f'x{s}' for s in h.scales)} weights={loaded.source}"


def add_tile_args(parser: argparse.ArgumentParser, default_tile: int | None) -> None:
    """Adds --tile (0 or absent: whole image, unless the artifact has a fixed input size) and --overlap."""
    default = f"default {default_tile}" if default_tile else "default: whole images"
    parser.add_argument("--tile", type=int, default=default_tile, metavar="N",
                        help=f"run in N x N input tiles, 0 for whole images ({default}); artifacts with a fixed "
                        "input size always run in tiles of that size")
    parser.add_argument("--overlap", type=int, default=DEFAULT_OVERLAP, metavar="N",
                        help=f"context pixels per tile side; >= {RECEPTIVE_RADIUS} (the receptive radius) gives "
                        f"exactly the untiled result (default {DEFAULT_OVERLAP})")


def tiling_from_args(args: argparse.Namespace, input_size: tuple[int, int] | None = None) -> dict[str, int | None]:
    """``tile``/``overlap`` keywords for :func:`~pcarn_mobile.tiling.upscale_array`, checked."""
    if (args.tile or 0) < 0 or args.overlap < 0:
        raise UserError("--tile and --overlap must be >= 0")
    side = min(input_size) if input_size else args.tile
    if side and side <= 2 * args.overlap:
        if input_size is None:
            raise UserError(f"--tile {side} must exceed twice --overlap ({args.overlap}); lower --overlap or raise --tile")
        if side > 2 * RECEPTIVE_RADIUS:
            raise UserError(f"the artifact's fixed input size {input_size[0]}x{input_size[1]} must exceed twice --overlap "
                            f"({args.overlap}): pass --overlap {(side - 1) // 2} or less (at least {RECEPTIVE_RADIUS} "
                            "keeps tiles seamless)")
        raise UserError(f"the artifact's fixed input size {input_size[0]}x{input_size[1]} is too small to tile: no overlap "
                        f"of at least {RECEPTIVE_RADIUS} px fits twice; convert again with --input-size of at least "
                        f"{MIN_TILE_SIDE} per side, or --dynamic")
    return {"tile": args.tile or None, "overlap": args.overlap}
