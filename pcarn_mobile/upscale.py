"""``python -m pcarn_mobile.upscale IN OUT --scale S``: super-resolve one image file.

Any 8- or 16-bit grey, grey + alpha, RGB or RGBA image; the output keeps its layout and bit
depth. Large images run in seamless overlapping tiles (bounded memory, identical result).
"""
from __future__ import annotations

import argparse
import os
import sys
import time

from .errors import CliParser, UserError, run_cli
from .imageio import check_writable, read_image, write_image
from .modelargs import add_model_args, add_tile_args, describe, model_from_args, tiling_from_args
from .tiling import TorchRunner, upscale_image

#: Default tile side in LR pixels: ~1.2x compute for the overlap, a few hundred MB of activations.
DEFAULT_TILE = 512

_LAYOUTS = {1: "grey", 2: "grey+alpha", 3: "RGB", 4: "RGBA"}


def build_parser() -> argparse.ArgumentParser:
    p = CliParser(
        prog="python -m pcarn_mobile.upscale",
        description="Upscale an image (8/16-bit grey, grey+alpha, RGB or RGBA) with PCARN-M; the output keeps "
        "the input's layout and bit depth. Grey runs as replicated RGB and comes back as the channel mean; "
        "alpha is upscaled with bicubic.",
    )
    p.add_argument("input", metavar="IN", help="input image (png, jpg, bmp, tif, webp, ...)")
    p.add_argument("output", metavar="OUT", help="output image; format from the extension (png/tif for 16-bit)")
    p.add_argument("--scale", required=True, type=int, metavar="S", help="upscaling factor (2, 3 or 4)")
    p.add_argument("--overwrite-input", action="store_true",
                   help="allow OUT to be the input file itself (the same path, a symlink or a hard link to it); "
                   "OUT is then replaced by the upscale")
    add_model_args(p)
    add_tile_args(p, DEFAULT_TILE)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    tiling = tiling_from_args(args)
    image = read_image(args.input)
    if not args.overwrite_input:
        refuse_overwriting_input(args.input, args.output)
    check_writable(args.output, like=image)  # layout and depth are kept, so fail now, not after the run
    loaded = model_from_args(args, args.scale)
    try:
        runner = TorchRunner(loaded.model, args.scale)
    except ValueError as exc:
        raise UserError(str(exc)) from None
    start = time.perf_counter()
    out = upscale_image(runner, image, progress=sys.stderr.isatty(), **tiling)
    write_image(args.output, out)
    channels = 1 if out.ndim == 2 else out.shape[2]
    print(
        f"wrote {args.output}: {out.shape[1]}x{out.shape[0]} {_LAYOUTS[channels]} {8 * out.dtype.itemsize}-bit "
        f"in {time.perf_counter() - start:.1f} s ({describe(loaded)})"
    )
    return 0


def refuse_overwriting_input(src: str, dst: str) -> None:
    """``upscale IN IN`` (or OUT a symlink or hard link to IN) would silently replace the user's photo."""
    try:
        same = os.path.samefile(src, dst)  # same device and inode: same path, symlinks and hard links alike
    except OSError:  # OUT does not exist yet (or cannot be looked at, which writing it will report)
        return
    if same:
        raise UserError(f"OUT {dst} is the input {src} (the same file); pass --overwrite-input to replace the input")


if __name__ == "__main__":
    run_cli(main)
