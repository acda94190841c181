"""``python -m pcarn_mobile.evaluate``: Y-PSNR/SSIM of a model or an exported artifact, vs bicubic.

The same scoring runs on the PyTorch model and on TFLite / Core ML / ONNX artifacts (through
their runners), so "the converted model computes what PyTorch computes" is one command away.
Paths and options are checked before torch or any runtime is imported (seconds, and screens of
TensorFlow and coremltools start-up messages), so a wrong file is refused at once; the
runtimes' native messages then go to a temporary log, named only if something fails.
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from converters.runner import Runner

from .artifacts import ARTIFACT_RUNNERS, check_artifact, load_artifact_runner
from .data import EvalPair, load_eval_set
from .errors import CliParser, UserError, run_cli
from .evaluate_html import check_html_path
from .modelargs import add_model_args, add_tile_args, describe as describe_model, model_from_args, tiling_from_args
from .native_log import quiet_native_stderr

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
    artifacts.add_argument("--coreml", metavar="PKG", help="evaluate this .mlpackage folder instead of PyTorch "
                           "(on Linux too, through the NumPy MIL evaluator)")
    artifacts.add_argument("--onnx", metavar="FILE", help="evaluate this .onnx file instead of PyTorch")
    add_tile_args(p, None)
    p.add_argument("--json", action="store_true", help="print one JSON object instead of the table")
    p.add_argument("--html", metavar="OUT.html", help="also write a self-contained page: every image worst first, "
                   "with crops of the LR input, bicubic, ground truth, the output and the amplified difference")
    p.add_argument("-v", "--verbose", action="store_true", help="also list every image")
    return p


def _score(runner: Runner, pairs: list[EvalPair], args: argparse.Namespace, outputs: dict | None) -> dict[str, Any]:
    from .evaluation import evaluate_runner  # torch: imported once the inputs have been checked

    return evaluate_runner(runner, pairs, args.scale, outputs=outputs, **tiling_from_args(args, runner.input_size))


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    artifact = next(((k, getattr(args, k)) for k in ARTIFACT_RUNNERS if getattr(args, k)), None)
    if artifact and (args.weights or args.random_init):
        raise UserError(f"--{artifact[0]} evaluates a converted file: drop --weights/--random-init")
    if artifact:
        check_artifact(*artifact)
    if args.html:
        check_html_path(args.html)
    pairs = load_eval_set(args.data, args.scale)
    outputs: dict | None = {} if args.html else None
    if artifact:
        kind, path = artifact
        with quiet_native_stderr(f"cannot evaluate {path}"):
            runner = load_artifact_runner(kind, path)
            if runner.scale != args.scale:
                raise UserError(f"{path} upscales x{runner.scale}, but --scale {args.scale} was asked")
            scores = _score(runner, pairs, args, outputs)
        label, info = path, {"model": path, "format": kind}
    else:
        from .tiling import TorchRunner

        loaded = model_from_args(args, args.scale)
        try:
            runner = TorchRunner(loaded.model, args.scale)
        except ValueError as exc:
            raise UserError(str(exc)) from None
        scores = _score(runner, pairs, args, outputs)
        label = describe_model(loaded)
        info = {"model": loaded.source, "format": "pytorch", "arch": loaded.header.arch,
                "groups": loaded.header.groups, "sha256": loaded.sha256}
    result: dict[str, Any] = {**info, "data": str(args.data), **scores}
    if args.html:
        from . import evaluate_html
        from .fileio import write_text

        write_text(args.html, evaluate_html.render(result, label, pairs, outputs or {}))
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
