"""Per-tensor int8 sensitivity: the Y-PSNR each activation and each conv's weights cost when quantized alone.

    python -m benchmarks.int8_sensitivity [--weights default|FILE] [--scale 2] [--data DIR] [--calib DIR]
                                          [--top 15] [--json OUT]

Exports the float dynamic-size TFLite file of the weights, calibrates it as ``convert`` does
(the same crops, ranges, tied concatenations), and scores on ``--data`` (default Set5 at the
scale): the float file, the full int8 file, then the float file with one tensor at a time
quantized (``converters.tflite_sensitivity``). Prints the tensors that cost the most, each named
by its network stage, and the sums per stage. Weights: ``default`` (embedded), a file name in
``$PCARN_SHARED/checkpoints``, or a path. Numerics only: nothing is timed.
"""
from __future__ import annotations

import argparse
import tempfile
from pathlib import Path
from typing import Any

from pcarn_mobile.errors import CliParser, UserError, run_cli
from pcarn_mobile.fileio import write_json
from pcarn_mobile.machine import describe_machine
from pcarn_mobile.shared import shared_dir


def build_parser() -> argparse.ArgumentParser:
    p = CliParser(prog="python -m benchmarks.int8_sensitivity",
                  description="Y-PSNR cost of each activation and each conv's weights quantized to int8 alone.")
    p.add_argument("--weights", default="default", help="default, a file in $PCARN_SHARED/checkpoints, or a path")
    p.add_argument("--scale", type=int, choices=(2, 3, 4), default=2)
    p.add_argument("--data", help="evaluation set (default: Set5 at --scale from the shared data)")
    p.add_argument("--calib", help="calibration photos (default: convert's, scikit-image's photos)")
    p.add_argument("--top", type=int, default=15, help="rows of the most costly tensors (default 15)")
    p.add_argument("--json", metavar="OUT", help="every tensor's figure as JSON")
    return p


def _weights(name: str) -> str | None:
    if name == "default":
        return None
    if Path(name).is_file():
        return name
    shared = shared_dir()
    if shared is not None and (shared / "checkpoints" / name).is_file():
        return str(shared / "checkpoints" / name)
    raise UserError(f"--weights {name}: no such file (nor in $PCARN_SHARED/checkpoints)")


def measure(args: argparse.Namespace) -> dict[str, Any]:
    from pcarn_mobile.data import load_eval_set
    from pcarn_mobile.export.calibration import load_calibration, random_crops

    weights = _weights(args.weights)  # every input checked before TensorFlow is imported
    shared = shared_dir()
    data = args.data or (str(shared / "data" / "Set5" / f"x{args.scale}") if shared else None)
    if data is None:
        raise UserError("--data is needed when the shared data ($PCARN_SHARED or ../shared) is absent")
    pairs = load_eval_set(data, args.scale)
    photos = load_calibration(args.calib)

    from pcarn_mobile.export import export
    from pcarn_mobile.export.options import DEFAULT_CALIB_COUNT
    from pcarn_mobile.export.parity import set_name
    from pcarn_mobile.export.sensitivity import int8_sensitivity
    from pcarn_mobile.models.stages import conv_calls
    from pcarn_mobile.weights import resolve_weights

    stages = [c.stage for c in conv_calls(resolve_weights(weights, False).model, args.scale)]
    with tempfile.TemporaryDirectory() as scratch:
        made = export(target="tflite", weights=weights, scale=args.scale, dynamic=True, precision="fp32", out=scratch)
        float_model = made.files[0].path.read_bytes()
    crops = random_crops(photos.images, DEFAULT_CALIB_COUNT)
    report = int8_sensitivity(float_model, crops, pairs, args.scale, stages, set_name(data))
    return {"machine": describe_machine(), "weights": args.weights, "scale": args.scale, **report}


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    result = measure(args)
    print(f"\nmachine: {result['machine']}")
    print(f"{result['weights']} x{result['scale']} on {result['data']}: float {result['float_psnr_y']:.3f} dB, "
          f"int8 {result['int8_psnr_y']:.3f} dB ({result['int8_psnr_y'] - result['float_psnr_y']:+.3f}); "
          f"drops of the tensors alone sum to {result['activations_alone_db']:+.3f} (activations) and "
          f"{result['weights_alone_db']:+.3f} (weights)")
    print("\n| rank | tensor | op | stage | drop alone (dB) |\n| --- | --- | --- | --- | --- |")
    for rank, r in enumerate(sorted(result["tensors"], key=lambda r: -r["drop_db"])[: args.top], start=1):
        print(f"| {rank} | {r['kind']} | #{r['op_index']} {r['op']} | {r['stage']} | {r['drop_db']:+.4f} |")
    print("\n| stage | activations (dB) | weights (dB) |\n| --- | --- | --- |")
    for stage, v in result["by_stage"].items():
        print(f"| {stage} | {v['activation']:+.4f} | {v['weights']:+.4f} |")
    if args.json:
        write_json(args.json, result)
        print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    run_cli(main)
