"""``python -m pcarn_mobile.upscale IN OUT --scale S``: super-resolve one image file.

Any 8- or 16-bit grey, grey + alpha, RGB or RGBA image; the output keeps its layout and bit
depth. Large images run in seamless overlapping tiles (bounded memory, identical result). A
1000x1000 photo at x4 takes minutes and gigabytes on a laptop CPU, so the job is announced
(sizes, tiles, an estimate of peak memory), refused when that estimate exceeds the memory
available (``--max-memory``), and followed tile by tile on stderr. Paths and options are
checked before torch is imported, so a mistake is refused at once.

``--tflite FILE`` / ``--coreml PKG`` / ``--onnx FILE`` run a converted file instead of PyTorch, with
the tile plan the demo apps use for it (:mod:`pcarn_mobile.app_tiles`, from its sidecar) and its
int8 parameters: the picture the phone will make, before shipping it. For an 8-bit RGB photo and
a ``.tflite`` file the bytes written are the Android app's (tests/test_upscale_artifact.py).
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

from converters.runner import Runner

from .archinfo import DEFAULT_OVERLAP
from .artifacts import ARTIFACT_RUNNERS, check_artifact, check_runner_matches, load_artifact_runner, read_sidecar
from .errors import CliParser, UserError, run_cli
from .imageio import check_writable, read_image, write_image
from .modelargs import add_model_args, add_tile_args, describe, model_from_args, tiling_from_args

#: Default tile side in LR pixels: ~1.2x compute for the overlap, about 2.8 GB of activations at x4.
DEFAULT_TILE = 512

#: Resident memory of torch and the network before any image is run (measured: 330 MB).
RUNTIME_BYTES = 330e6

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
    p.add_argument("--max-memory", type=float, metavar="GB",
                   help="refuse a job whose estimated peak memory exceeds this (default: the memory available now)")
    add_model_args(p)
    artifacts = p.add_mutually_exclusive_group()
    artifacts.add_argument("--tflite", metavar="FILE", help="run this .tflite file (and its sidecar) instead of PyTorch, "
                           "in the Android app's tiles")
    artifacts.add_argument("--coreml", metavar="PKG", help="run this .mlpackage folder instead of PyTorch, in the iOS "
                           "app's tiles (on Linux too, through the NumPy MIL evaluator)")
    artifacts.add_argument("--onnx", metavar="FILE", help="run this .onnx file (and its sidecar) instead of PyTorch")
    add_tile_args(p, DEFAULT_TILE)
    p.set_defaults(tile=None, overlap=None)  # given only for PyTorch: a converted file runs in the apps' tiles
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    artifact = next(((k, getattr(args, k)) for k in ARTIFACT_RUNNERS if getattr(args, k)), None)
    sidecar = _check_artifact_args(args, artifact) if artifact else None
    if sidecar is None:
        args.tile = DEFAULT_TILE if args.tile is None else args.tile
        args.overlap = DEFAULT_OVERLAP if args.overlap is None else args.overlap
        tiling = tiling_from_args(args)
    image = read_image(args.input)
    if not args.overwrite_input:
        refuse_overwriting_input(args.input, args.output)
    check_writable(args.output, like=image)  # layout and depth are kept, so fail now, not after the run
    if artifact and sidecar is not None:
        from .app_tiles import app_tile_shape

        plan: int | tuple[int, int] | None = app_tile_shape(sidecar, *image.shape[:2])
        tiling = {"tile": None, "overlap": int(sidecar["tiling"]["overlap"])}
    else:
        plan = tiling["tile"]
    from .tiling import count_tiles  # NumPy only

    check_memory(image, args.scale, plan, args.max_memory)
    runner, label = _artifact(artifact, sidecar, plan) if artifact and sidecar else _torch(args)  # type: ignore[arg-type]
    tiles = count_tiles(*image.shape[:2], plan, tiling["overlap"])
    print(announce(args.input, image, args.scale, plan, tiles), file=sys.stderr, flush=True)
    from .tiling import upscale_image

    start = time.perf_counter()
    out = upscale_image(runner, image, progress=True, **tiling)  # a bar when there are several tiles, TTY or log
    write_image(args.output, out)
    channels = 1 if out.ndim == 2 else out.shape[2]
    print(
        f"wrote {args.output}: {out.shape[1]}x{out.shape[0]} {_LAYOUTS[channels]} {8 * out.dtype.itemsize}-bit "
        f"in {time.perf_counter() - start:.1f} s ({label})"
    )
    return 0


def _check_artifact_args(args: argparse.Namespace, artifact: tuple[str, str]) -> dict:
    """The converted file's sidecar, once the options that cannot go with a converted file are refused."""
    kind, path = artifact
    if args.weights or args.random_init or args.groups or args.arch:
        raise UserError(f"--{kind} runs a converted file: drop --weights/--random-init/--groups/--arch")
    if args.tile is not None or args.overlap is not None:
        raise UserError(f"--{kind} runs in the apps' tiles (from {Path(path).name}.json): drop --tile/--overlap")
    check_artifact(kind, path)
    sidecar = read_sidecar(kind, path)
    if sidecar["scale"] != args.scale:
        raise UserError(f"{path} upscales x{sidecar['scale']}, but --scale {args.scale} was asked")
    return sidecar


def _artifact(artifact: tuple[str, str], sidecar: dict, shape: tuple[int, int]) -> tuple[Runner, str]:
    """The converted file's runner (its runtime imported now, its native chatter kept in a log), fed ``shape`` tiles."""
    from .app_tiles import AtShape
    from .native_log import quiet_native_stderr

    kind, path = artifact
    with quiet_native_stderr(f"cannot run {path}"):
        runner = load_artifact_runner(kind, path)
    check_runner_matches(runner, sidecar, path)
    return AtShape(runner, shape), f"{Path(path).name}, {sidecar['precision']}, the apps' tiles of {shape[1]}x{shape[0]}"


def _torch(args: argparse.Namespace) -> tuple[Runner, str]:
    from .tiling import TorchRunner  # torch: only once the paths have been checked

    loaded = model_from_args(args, args.scale)
    try:
        return TorchRunner(loaded.model, args.scale), describe(loaded)
    except ValueError as exc:
        raise UserError(str(exc)) from None


def tile_hw(image: np.ndarray, tile: int | tuple[int, int] | None) -> tuple[int, int]:
    """The (height, width) each run gets: a square ``tile`` cut to the image, a fixed shape as it is."""
    h, w = image.shape[:2]
    if isinstance(tile, tuple):
        return tile
    return (min(tile, h), min(tile, w)) if tile else (h, w)


def announce(path: str, image: np.ndarray, scale: int, tile: int | tuple[int, int] | None, tiles: int) -> str:
    """``upscaling IN: 1000x1000 -> 4000x4000 (x4), 9 tiles of 512x512 px, peak memory about 3.4 GB``."""
    h, w = image.shape[:2]
    th, tw = tile_hw(image, tile)
    how = f"{tiles} tiles of {tw}x{th} px" if tiles > 1 else ("in one piece" if (th, tw) == (h, w) else
                                                             f"in one {tw}x{th} px tile")
    peak = peak_memory_bytes(image, scale, th * tw)
    return f"upscaling {path}: {w}x{h} -> {scale * w}x{scale * h} (x{scale}), {how}, peak memory about {peak / 1e9:.1f} GB"


def check_memory(image: np.ndarray, scale: int, tile: int | tuple[int, int] | None, limit_gb: float | None) -> None:
    """Refuses, before any work, a job whose estimated peak exceeds ``limit_gb`` (default: memory available now):
    a 12 MP photo at x4 holds a 2.3 GB float output, and running out of memory half-way helps no one."""
    th, tw = tile_hw(image, tile)
    peak = peak_memory_bytes(image, scale, th * tw)
    if limit_gb is None:
        import psutil

        limit, what = psutil.virtual_memory().available, "available now"
    else:
        limit, what = limit_gb * 1e9, "allowed by --max-memory"
    if peak > limit:
        h, w = image.shape[:2]
        raise UserError(f"{w}x{h} at x{scale} needs about {peak / 1e9:.1f} GB, more than the {limit / 1e9:.1f} GB "
                        f"{what}: use a smaller photo or scale (or a smaller --tile)")


def peak_memory_bytes(image: np.ndarray, scale: int, tile_pixels: int) -> float:
    """Estimated peak resident memory of an upscale (within ~10 % of measurements with PCARN-M).

    One tile's activations dominate: ~1.5 KB per LR pixel in the cascading blocks plus the
    upsampler's maps at HR resolution, ~0.6 KB x scale^2 (measured: 3.8 / 6.5 / 10.7 KB per
    pixel at x2 / x3 / x4). The whole output is held as float32 RGB, then in the file's layout.
    """
    channels = 1 if image.ndim == 2 else image.shape[2]
    output = scale**2 * image.shape[0] * image.shape[1] * (3 * 4 + image.itemsize * channels)
    return RUNTIME_BYTES + tile_pixels * (1536 + 576 * scale**2) + output


def refuse_overwriting_input(src: str, dst: str) -> None:
    """``upscale IN IN`` (or OUT a symlink or hard link to IN) would silently replace the user's photo."""
    try:
        same = os.path.samefile(src, dst)  # same device and inode: same path, symlinks and hard links alike
    except OSError:  # OUT does not exist yet (or cannot be looked at, which writing it will report)
        return
    if same:
        raise UserError(f"OUT {dst} is the input {src} (the same file); pass --overwrite-input to write over it")


if __name__ == "__main__":
    run_cli(main)
