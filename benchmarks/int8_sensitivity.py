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


def _stage_names(weights: str | None, scale: int) -> list[str]:
    """The network stage of the k-th conv, as PyTorch calls them (``benchmarks.stages``)."""
    from pcarn_mobile.weights import resolve_weights

    from .stages import conv_calls

    return [c.stage for c in conv_calls(resolve_weights(weights, False).model, scale)]


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

    import numpy as np
    from tensorflow.lite.tools import flatbuffer_utils

    from converters import tflite
    from converters.tflite_runner import load_runner
    from converters.tflite_sensitivity import probes, variant
    from pcarn_mobile.evaluation import evaluate_runner
    from pcarn_mobile.export import export
    from pcarn_mobile.export.options import DEFAULT_CALIB_COUNT

    stages = _stage_names(weights, args.scale)
    with tempfile.TemporaryDirectory() as scratch:
        made = export(target="tflite", weights=weights, scale=args.scale, dynamic=True, precision="fp32", out=scratch)
        float_model = made.files[0].path.read_bytes()
        crops = [c if c.ndim == 4 else c[None] for c in
                 random_crops(photos.images, DEFAULT_CALIB_COUNT)]
        stats = tflite.activation_stats(float_model, crops)
        ranges = tflite.quantized_ranges(flatbuffer_utils.convert_bytearray_to_object(float_model), stats)

        def score(model_bytes: bytes) -> float:
            path = Path(scratch) / "variant.tflite"
            path.write_bytes(model_bytes)
            return float(evaluate_runner(load_runner(path, any_size=True), pairs, args.scale)["psnr_y"])

        base = score(float_model)
        full = score(tflite.quantize_from_stats(float_model, stats, io="float"))
        rows = []
        for probe in probes(float_model, ranges):
            stage = stages[probe.conv_number] if probe.conv_number is not None and probe.conv_number < len(stages) else "-"
            rows.append({"kind": probe.kind, "op_index": probe.op_index, "op": probe.op_name, "conv": probe.conv_number,
                         "stage": stage, "drop_db": round(base - score(variant(float_model, probe)), 4)})
            print(f"  {len(rows):3d} {probe.kind:10s} op {probe.op_index:3d} {probe.op_name:15s} {stage:12s} "
                  f"{rows[-1]['drop_db']:+.4f} dB", flush=True)
    by_stage: dict[str, dict[str, float]] = {}
    for r in rows:
        by_stage.setdefault(r["stage"], {"activation": 0.0, "weights": 0.0})[r["kind"]] += r["drop_db"]
    return {"machine": describe_machine(), "weights": args.weights, "scale": args.scale, "data": Path(data).name,
            "float_psnr_y": round(base, 4), "int8_psnr_y": round(full, 4), "rows": rows,
            "by_stage": {k: {kk: round(vv, 4) for kk, vv in v.items()} for k, v in by_stage.items()},
            "sum_activation_drops": round(float(np.sum([r["drop_db"] for r in rows if r["kind"] == "activation"])), 4),
            "sum_weight_drops": round(float(np.sum([r["drop_db"] for r in rows if r["kind"] == "weights"])), 4)}


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    result = measure(args)
    print(f"\nmachine: {result['machine']}")
    print(f"{result['weights']} x{result['scale']} on {result['data']}: float {result['float_psnr_y']:.3f} dB, "
          f"int8 {result['int8_psnr_y']:.3f} dB ({result['int8_psnr_y'] - result['float_psnr_y']:+.3f}); "
          f"drops of the tensors alone sum to {result['sum_activation_drops']:+.3f} (activations) and "
          f"{result['sum_weight_drops']:+.3f} (weights)")
    print(f"\n| rank | tensor | op | stage | drop alone (dB) |\n| --- | --- | --- | --- | --- |")
    for rank, r in enumerate(sorted(result["rows"], key=lambda r: -r["drop_db"])[: args.top], start=1):
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
