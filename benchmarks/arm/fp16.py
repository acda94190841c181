"""``python -m benchmarks.arm.fp16 FILE_fp16.tflite``: what a phone's CPU gives when it computes fp16 in half precision.

LiteRT's default XNNPACK delegate runs an fp16-weights file in fp32 (the ARM64 parity check shows
its outputs byte-identical to x86's at every core). A phone app gets half-precision arithmetic
only by asking (``TFLITE_XNNPACK_DELEGATE_FLAG_FORCE_FP16``, or the model's
``reduced_precision_support`` metadata). LiteRT 2.1's Python API offers no delegate flags, so this
runs a copy with that metadata (:func:`converters.arm64_runner.with_fp16_hint`) on an ARMv8.2 core
(and on an ARMv8.0 core, where XNNPACK has no fp16 kernels and falls back to fp32: the control),
and scores it against PyTorch on the parity photo tiles and on Set5 tiles (each image run as an app
runs it: tiles of the file's size, edge-padded), next to the default fp32-compute result (x86
LiteRT, which the parity check shows equals ARM's default). Cached in ``--work``.
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import numpy as np

from pcarn_mobile.errors import CliParser, UserError, run_cli
from pcarn_mobile.fileio import sha256_of, write_json

ROOT = Path(__file__).resolve().parents[2]
CORES = ("cortex-a76", "cortex-a53")


def build_parser() -> argparse.ArgumentParser:
    p = CliParser(prog="python -m benchmarks.arm.fp16",
                  description="fp16 file in half precision on an emulated ARMv8.2 core vs fp32 compute, against PyTorch.")
    p.add_argument("file", help="an fp16 .tflite file written by convert (sidecar beside it)")
    p.add_argument("--weights", help="the weights it was converted from (default: the embedded default)")
    p.add_argument("--set", default="Set5", help="evaluation set under $PCARN_SHARED/data (default Set5)")
    p.add_argument("--cores", default=",".join(CORES), help=f"emulated cores (default {','.join(CORES)})")
    p.add_argument("--work", default=str(ROOT / "runs" / "arm"), help="cache folder (default runs/arm)")
    return p


def _psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))
    return round(10 * np.log10(1 / mse), 2) if mse else float("inf")


def measure(file: Path, weights: str | None, set_dir: Path, cores: list[str], work: Path) -> dict[str, Any]:
    from converters.arm64_runner import ArmError, ArmRunner, with_fp16_hint
    from converters.tflite_runner import load_runner
    from pcarn_mobile.data import load_eval_set
    from pcarn_mobile.evaluation import evaluate_runner
    from pcarn_mobile.export.parity import parity_crops
    from pcarn_mobile.modelargs import model_from_args
    from pcarn_mobile.tiling import TorchRunner

    meta = json.loads(Path(str(file) + ".json").read_text())
    if meta["precision"] != "fp16":
        raise UserError(f"{file.name} is a {meta['precision']} file; give an fp16 one")
    scale, tile = meta["scale"], meta["tiling"]["tile"]
    loaded = model_from_args(argparse.Namespace(weights=weights, random_init=False, groups=None, arch=None), scale)
    torch_runner = TorchRunner(loaded.model, scale)
    crops = parity_crops(tuple(tile) if tile else None)[:2]
    pairs = load_eval_set(set_dir / f"x{scale}", scale)
    hinted = work / file.name.replace(".tflite", "_fp16hint.tflite")
    hinted.write_bytes(with_fp16_hint(file.read_bytes()))
    side = tile[0] if tile else None

    def score(runner) -> dict[str, Any]:
        outs = {name: runner(x) for name, x in crops}
        torch_outs = {name: torch_runner(x) for name, x in crops}
        photo = {name: _psnr(outs[name], torch_outs[name]) for name in outs}
        q = evaluate_runner(runner, pairs, scale, tile=side)
        return {"photos_vs_torch_db": photo, "set_psnr_y": round(q["psnr_y"], 3),
                "max_abs_photos": round(max(float(np.abs(outs[n] - torch_outs[n]).max()) for n in outs), 5),
                "outputs": outs}

    x86 = score(load_runner(file))
    rows: dict[str, Any] = {"fp32 compute (default; x86 = ARM)": x86}
    for core in cores:
        try:
            with ArmRunner(hinted, core) as arm:
                rows[f"fp16 hint on {core}"] = score(arm)
        except ArmError as exc:
            raise UserError(str(exc)) from None
    torch_q = evaluate_runner(torch_runner, pairs, scale, tile=side)
    x86_outs = x86["outputs"]
    for row in rows.values():
        outs = row.pop("outputs")
        row["photos_vs_fp32_compute_db"] = {n: _psnr(outs[n], x86_outs[n]) for n in outs}
    return {"file": file.name, "sha256": sha256_of(file), "scale": scale, "tile": tile, "set": f"{set_dir.name}/x{scale}",
            "torch_set_psnr_y": round(torch_q["psnr_y"], 3), "photos": [n for n, _ in crops], "rows": rows}


def main(argv: list[str] | None = None) -> int:
    from pcarn_mobile.shared import shared_dir

    args = build_parser().parse_args(argv)
    file = Path(args.file)
    if not Path(str(file) + ".json").is_file():
        raise UserError(f"{file}: no sidecar beside it; give a file written by convert")
    shared = shared_dir()
    if shared is None or not (shared / "data" / args.set).is_dir():
        raise UserError(f"{args.set} not found under $PCARN_SHARED/data")
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    cache = work / f"fp16-{file.stem}.json"
    result = json.loads(cache.read_text()) if cache.is_file() else None
    if result is None or result["sha256"] != sha256_of(file):
        result = measure(file, args.weights, shared / "data" / args.set, [c for c in args.cores.split(",") if c], work)
        write_json(cache, result)
    print(f"{result['file']}: against PyTorch (photo tiles {', '.join(result['photos'])}; {result['set']} tiles of "
          f"{result['tile']}, PyTorch {result['torch_set_psnr_y']:.3f} dB Y-PSNR)")
    for name, row in result["rows"].items():
        photos = ", ".join(f"{v} dB" for v in row["photos_vs_torch_db"].values())
        print(f"  {name:<36} photos {photos} (max abs {row['max_abs_photos']}); {result['set']} Y-PSNR "
              f"{row['set_psnr_y']:.3f} (drop {result['torch_set_psnr_y'] - row['set_psnr_y']:+.3f}); vs fp32 compute "
              + ", ".join(f"{v} dB" for v in row["photos_vs_fp32_compute_db"].values()))
    return 0


if __name__ == "__main__":
    run_cli(main)
