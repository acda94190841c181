"""``python -m pcarn_mobile.evaluate``: Y-PSNR/SSIM of a model or an exported artifact, vs bicubic.

The same scoring runs on the PyTorch model and on TFLite / Core ML / ONNX artifacts (through
their runners), so "the converted model computes what PyTorch computes" is one command away.
"""
from __future__ import annotations

import argparse
import importlib
import json
from pathlib import Path
from typing import Any

from converters.runner import Runner

from .data import load_eval_set
from .errors import CliParser, UserError, run_cli
from .evaluation import evaluate_runner
from .modelargs import add_model_args, add_tile_args, describe, model_from_args, tiling_from_args
from .tiling import TorchRunner

#: Artifact option -> module whose ``load_runner(path)`` opens it (imported only when used).
ARTIFACT_RUNNERS: dict[str, str] = {
    "tflite": "converters.tflite_runner",
    "coreml": "converters.coreml_runner",
    "onnx": "converters.onnx_runner",
}


def build_parser() -> argparse.ArgumentParser:
    p = CliParser(
        prog="python -m pcarn_mobile.evaluate",
        description="Y-channel PSNR/SSIM (scale px shaved, BT.601, uint8 output) of a model or exported "
        "artifact on a paired folder (*_HR + *_LR) or a folder of HR images, next to MATLAB bicubic.",
    )
    p.add_argument("--data", required=True, metavar="DIR", help="paired folder (e.g. Set5/x4) or HR images")
    p.add_argument("--scale", required=True, type=int, metavar="S", help="upscaling factor (2, 3 or 4)")
    add_model_args(p)
    artifacts = p.add_mutually_exclusive_group()
    artifacts.add_argument("--tflite", metavar="FILE", help="evaluate this .tflite file instead of PyTorch")
    artifacts.add_argument("--coreml", metavar="PKG", help="evaluate this .mlpackage (macOS) instead of PyTorch")
    artifacts.add_argument("--onnx", metavar="FILE", help="evaluate this .onnx file instead of PyTorch")
    add_tile_args(p, None)
    p.add_argument("--json", action="store_true", help="print one JSON object instead of the table")
    p.add_argument("-v", "--verbose", action="store_true", help="also list every image")
    return p


def _artifact_runner(kind: str, path: str) -> Runner:
    module_name = ARTIFACT_RUNNERS[kind]
    if not Path(path).exists():
        raise UserError(f"--{kind} {path}: not found")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise UserError(f"--{kind} needs {module_name}, which cannot be imported here ({exc})") from None
    try:
        return module.load_runner(path)
    except (OSError, ValueError, RuntimeError) as exc:
        raise UserError(f"cannot load {path}: {str(exc).strip().splitlines()[0] if str(exc).strip() else exc!r}") from None


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    artifact = next(((k, getattr(args, k)) for k in ARTIFACT_RUNNERS if getattr(args, k)), None)
    if artifact and (args.weights or args.random_init):
        raise UserError(f"--{artifact[0]} evaluates a converted file: drop --weights/--random-init")
    pairs = load_eval_set(args.data, args.scale)
    if artifact:
        runner, label, info = _artifact_runner(*artifact), artifact[1], {"model": artifact[1], "format": artifact[0]}
        if runner.scale != args.scale:
            raise UserError(f"{artifact[1]} upscales x{runner.scale}, but --scale {args.scale} was asked")
    else:
        loaded = model_from_args(args, args.scale)
        try:
            runner = TorchRunner(loaded.model, args.scale)
        except ValueError as exc:
            raise UserError(str(exc)) from None
        label = describe(loaded)
        info = {"model": loaded.source, "format": "pytorch", "arch": loaded.header.arch,
                "groups": loaded.header.groups, "sha256": loaded.sha256}
    tiling = tiling_from_args(args, runner.input_size)
    result: dict[str, Any] = {**info, "data": str(args.data), **evaluate_runner(runner, pairs, args.scale, **tiling)}
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print(format_table(result, label, args.verbose))
    return 0


def format_table(result: dict[str, Any], label: str, verbose: bool) -> str:
    """Model vs bicubic, mean over the set (and per image when ``verbose``)."""
    rows = [(im["name"], im) for im in result["images"]] if verbose else []
    rows.append((f"mean of {result['count']}", result))
    width = max(12, *(len(name) for name, _ in rows))
    lines = [
        f"{label}",
        f"data {result['data']}, x{result['scale']}, Y channel (BT.601), {result['scale']} px border shaved",
        f"{'image':<{width}}  {'PSNR-Y':>8} {'SSIM-Y':>7}   {'bicubic PSNR-Y':>14} {'SSIM-Y':>7}",
    ]
    for name, r in rows:
        lines.append(
            f"{name:<{width}}  {r['psnr_y']:8.2f} {r['ssim_y']:7.4f}   {r['bicubic_psnr_y']:14.2f} {r['bicubic_ssim_y']:7.4f}"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    run_cli(main)
