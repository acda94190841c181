"""Export PCARN-M for phones: ``python -m pcarn_mobile.convert --target tflite --groups 4``.

One table of formats (:data:`FORMATS`) and one function per format, in the style of
Ultralytics' exporter. Every run writes its files under ``--out`` with one naming scheme,
``{arch}_g{groups}_x{scale}_{HxW|dyn}[_dense]_{precision}.{suffix}``, a sidecar
``<file>.json`` next to each, one ``report.json``, and prints a summary table. Files are
built in a temporary folder beside the output and moved into place at the end, so a failed
run leaves nothing half-written at the final paths.
"""
from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np

from .errors import CliParser, UserError, run_cli
from .export_report import (
    Artifact, CachedRunner, FixedSizeRunner, expand_groups_cost, load_calibration_images, parity_crops, photo_verdict, parity_on_photos, quality_on_set, random_crops,
    render_table, sidecar, tool_versions, write_json_atomic,
)
from .machine import describe_machine
from .modelargs import parse_hw
from .models import SRDeploy
from .native_log import stderr_to
from .weights import DEFAULT_WEIGHTS, LoadedWeights, resolve_weights

#: Default static input: a 128x128 tile (512x512 out at x4), the tile size mobile SR models are
#: commonly shipped at (e.g. Qualcomm AI Hub's QuickSRNet/XLSR); small enough for a phone GPU's
#: memory, large enough that the 24-px tile overlap costs under half the work.
DEFAULT_INPUT_SIZE = (128, 128)
#: The converters' native stderr (TensorFlow, XNNPACK, coremltools progress), kept beside the files.
LOG_NAME = "convert.log"
#: Calibration: this many random crops of this side from the calibration photos. Small crops
#: because ranges, not pixel counts, matter, and the graph calibrates at any size.
DEFAULT_CALIB_COUNT = 24
CALIB_CROP = 48
CHANNELS = 64


@dataclass
class Job:
    """Everything a format function needs: the deployment module and the user's options."""

    module: SRDeploy
    weights: LoadedWeights
    scale: int
    groups: int
    input_size: tuple[int, int] | None
    precisions: tuple[str, ...]
    io: str
    calib_dir: str | None
    calib_count: int
    expand_groups: bool
    workdir: Path
    notes: dict[str, Any] = field(default_factory=dict)
    coreml: Any = None  # coreml_export.CoreMLOptions, for the coreml target
    timings: dict[str, float] = field(default_factory=dict)

    def lap(self, stage: str, since: float) -> float:
        """Records the seconds a stage took (into report.json); returns now for the next stage."""
        now = time.perf_counter()
        self.timings[stage] = round(now - since, 2)
        return now

    def stem(self, precision: str) -> str:
        size = f"{self.input_size[0]}x{self.input_size[1]}" if self.input_size else "dyn"
        dense = "_dense" if self.expand_groups else ""
        return f"{self.weights.header.arch}_g{self.groups}_x{self.scale}_{size}{dense}_{precision}"


def export_onnx(job: Job) -> list[Artifact]:
    """ONNX (opset 17, checked, shaped as for TFLite) at the asked size or dynamic."""
    from converters.onnx_export import export_onnx as to_onnx
    from converters.onnx_runner import load_runner

    path = job.workdir / f"{job.stem('fp32')}.onnx"
    model, stats = to_onnx(job.module, path, job.input_size, expand_groups=job.expand_groups)
    io = {
        key: [{"name": v.name, "shape": [d.dim_param or d.dim_value for d in v.type.tensor_type.shape.dim],
               "dtype": "float32", "layout": "NCHW", "range": [0.0, 1.0]} for v in values]
        for key, values in (("inputs", model.graph.input), ("outputs", model.graph.output))
    }
    graph = {"opset": model.opset_import[0].version, "ops": _histogram(n.op_type for n in model.graph.node), "shaping": stats}
    return [Artifact(path, "onnx", "fp32", job.input_size, lambda any_size=False: load_runner(path), io, graph)]


def export_tflite(job: Job) -> list[Artifact]:
    """TFLite through a dynamic-size ONNX and onnx2tf: fp32, fp16 (float16 weights), int8 (full integer)."""
    from converters.onnx_export import export_onnx as to_onnx
    from converters.tflite import CONCAT_RANGE, delegate_violations, float_tflite, onnx_to_keras, quantize_int8, summarize
    from converters.onnx_runner import load_runner as load_onnx_runner
    from converters.tflite_runner import load_runner

    from .tiling import TorchRunner

    scratch = job.workdir / "scratch"
    scratch.mkdir()
    onnx_path = scratch / "dynamic.onnx"
    t = time.perf_counter()
    _, stats = to_onnx(job.module, onnx_path, None, expand_groups=job.expand_groups)
    # The intermediate ONNX in ONNX Runtime against PyTorch, before onnx2tf sees it.
    onnx_parity = parity_on_photos(load_onnx_runner(onnx_path), TorchRunner(job.module, job.scale), parity_crops((64, 64), 1))
    t = job.lap("tflite: torch -> onnx", t)
    keras_model = onnx_to_keras(onnx_path, scratch)
    t = job.lap("tflite: onnx2tf (incl. TensorFlow import)", t)
    fp32 = float_tflite(keras_model, job.input_size)
    files: dict[str, bytes] = {"fp32": fp32}
    t = job.lap("tflite: fp32", t)
    if "fp16" in job.precisions:
        files["fp16"] = float_tflite(keras_model, job.input_size, fp16=True)
        t = job.lap("tflite: fp16", t)
    if "int8" in job.precisions:
        images = load_calibration_images(job.calib_dir)
        crops = random_crops(images, job.calib_count, CALIB_CROP)
        files["int8"] = quantize_int8(fp32, crops, io=job.io)
        t = job.lap("tflite: int8 (calibration + quantization)", t)
        job.notes["calibration"] = {
            "source": job.calib_dir or "scikit-image sample photos", "images": len(images),
            "crops": job.calib_count, "crop_size": CALIB_CROP,
            "method": f"min/max ranges (input and output clamp pinned to [0, 1], concatenations tied x{CONCAT_RANGE}), "
                      "bias correction, per-channel int8 weights",
        }
    shutil.rmtree(scratch)
    artifacts = []
    for precision in job.precisions:
        path = job.workdir / f"{job.stem(precision)}.tflite"
        path.write_bytes(files[precision])
        summary = summarize(files[precision])
        problems = delegate_violations(summary, precision)
        graph = {
            "ops": dict(sorted(summary.ops.items())), "max_rank": summary.max_rank,
            "internal_requantize": summary.internal_quantize,
            "delegate_ready": not problems, "problems": problems, "shaping": stats,
            "onnx_runtime_vs_torch": onnx_parity,
        }
        io = {"inputs": summary.inputs, "outputs": summary.outputs}
        for entry in io["inputs"] + io["outputs"]:
            entry["range"] = [0.0, 1.0]
        artifacts.append(Artifact(
            path, "tflite", precision, job.input_size,
            lambda any_size=False, p=path: load_runner(p, any_size=any_size), io, graph,
            extra={"calibration": job.notes["calibration"]} if precision == "int8" else {},
        ))
    return artifacts


def export_coreml(job: Job) -> list[Artifact]:
    """Core ML ML Program packages (fp16/fp32, optional int8 / 6-bit palettized weights), image I/O by default."""
    from .coreml_export import export_coreml_artifacts

    return export_coreml_artifacts(job, job.coreml)


@dataclass(frozen=True)
class Format:
    """One export target: file suffix, precisions it writes (default first) and its function."""

    suffix: str
    precisions: tuple[str, ...]
    defaults: tuple[str, ...]
    export: Callable[[Job], list[Artifact]]
    what: str


FORMATS: dict[str, Format] = {
    "onnx": Format(".onnx", ("fp32",), ("fp32",), export_onnx, "ONNX opset 17 for ONNX Runtime"),
    "tflite": Format(".tflite", ("fp32", "fp16", "int8"), ("fp32", "fp16", "int8"), export_tflite,
                     "TFLite via onnx2tf, delegate-ready"),
    "coreml": Format(".mlpackage", ("fp16", "fp32"), ("fp16",), export_coreml,
                     "Core ML ML Program for iOS 16+, checked by a NumPy MIL evaluator"),
}
#: Names that stand for several targets.
TARGET_SETS: dict[str, tuple[str, ...]] = {"all": ("tflite", "coreml")}


def build_parser() -> argparse.ArgumentParser:
    parser = CliParser(
        prog="python -m pcarn_mobile.convert",
        description="Convert PCARN-M to phone formats, with parity against PyTorch and a report.",
    )
    parser.add_argument("--target", default="tflite", choices=[*FORMATS, *TARGET_SETS],
                        help="format to write; 'all' = tflite + coreml (default: tflite)")
    parser.add_argument("--groups", type=int, default=4, help="group count of the network (a divisor of 64; default 4)")
    parser.add_argument("--scale", type=int, default=4, choices=(2, 3, 4), help="upscaling factor (default 4)")
    parser.add_argument("--arch", default="pcarn_m", help=argparse.SUPPRESS)
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--weights", help="checkpoint (upstream .pth or the project's .pt); default: the embedded one")
    source.add_argument("--random-init", action="store_true", help="convert an untrained network (for testing)")
    parser.add_argument("--precision", action="append",
                        help="comma-separated and/or repeated: fp32, fp16, int8 for tflite (default: all three); "
                             "fp16, fp32 for coreml (compute precision; default fp16)")
    size = parser.add_mutually_exclusive_group()
    size.add_argument("--input-size", metavar="HxW",
                      help=f"static input size (default {DEFAULT_INPUT_SIZE[0]}x{DEFAULT_INPUT_SIZE[1]}: a phone tile, "
                           f"{4 * DEFAULT_INPUT_SIZE[0]}x{4 * DEFAULT_INPUT_SIZE[1]} out at x4)")
    size.add_argument("--dynamic", nargs="?", const=True, default=False, metavar="LO..HI",
                      help="any input size (tflite: resize_tensor_input at run time; coreml: a range of LO..HI LR "
                           "pixels per side, default 16..512, which is also coreml's default shape)")
    size.add_argument("--sizes", metavar="HxW,HxW",
                      help="coreml: enumerated input sizes (each compiled ahead: the Neural Engine's fast path)")
    parser.add_argument("--io", default="int8", choices=("int8", "uint8", "float"),
                        help="input/output type of the int8 file: int8, uint8 (feed bitmap bytes), or float (default int8)")
    parser.add_argument("--calib", metavar="DIR", help="photos to calibrate int8 on (default: scikit-image's bundled photos)")
    parser.add_argument("--calib-count", type=int, default=DEFAULT_CALIB_COUNT, metavar="N",
                        help=f"random {CALIB_CROP}x{CALIB_CROP} calibration crops (default {DEFAULT_CALIB_COUNT})")
    coreml = parser.add_argument_group("Core ML (--target coreml / all)")
    coreml.add_argument("--compress", action="append", metavar="LIST",
                        help="comma-separated and/or repeated: none, int8 (8-bit linear weights), palette6 (6-bit "
                             "k-means palettized weights); one package each (default: none)")
    io = coreml.add_mutually_exclusive_group()
    io.add_argument("--image-io", dest="tensor_io", action="store_false", default=False,
                    help="RGB image in and out: an app passes a CVPixelBuffer and gets one back (default)")
    io.add_argument("--tensor-io", dest="tensor_io", action="store_true",
                    help="float32 multi-arrays (1, 3, H, W) in [0, 1] instead of images")
    coreml.add_argument("--min-ios", type=int, default=16, metavar="N",
                        help="minimum deployment target: 16 (default), 17 or 18 (18 stores compressed weights block-wise)")
    parser.add_argument("--parity-data", metavar="DIR",
                        help="evaluation set (paired *_HR/*_LR or HR-only) for Y-PSNR next to PyTorch's")
    parser.add_argument("--expand-groups", action="store_true",
                        help="write grouped convs as dense block-diagonal ones (TFLite GPU delegate); prints the cost")
    parser.add_argument("--out", default="exports", metavar="DIR", help="output folder (default exports/)")
    return parser


def _targets(name: str) -> list[str]:
    names = TARGET_SETS.get(name, (name,))
    missing = [n for n in names if n not in FORMATS]
    if missing and name not in TARGET_SETS:
        raise UserError(f"target {name} is not available in this version")
    return [n for n in names if n in FORMATS]


def _precisions(raw: list[str] | None, target: str) -> tuple[str, ...]:
    fmt = FORMATS[target]
    if not raw:
        return fmt.defaults
    asked = [p.strip().lower() for item in raw for p in item.split(",") if p.strip()]
    unknown = [p for p in asked if p not in fmt.precisions]
    if unknown:
        raise UserError(f"unknown precision {', '.join(unknown)} for {target}; choose from {', '.join(fmt.precisions)}")
    return tuple(p for p in fmt.precisions if p in asked)


def _histogram(items) -> dict[str, int]:
    counts: dict[str, int] = {}
    for item in items:
        counts[item] = counts.get(item, 0) + 1
    return dict(sorted(counts.items()))


def _make_workdir(out: Path) -> Path:
    try:
        out.mkdir(parents=True, exist_ok=True)
        return Path(tempfile.mkdtemp(prefix=".convert-", dir=out))
    except OSError as exc:
        raise UserError(f"output folder {out} is not writable ({exc.strerror or exc})") from None


def main(argv: list[str] | None = None) -> int:
    start = time.perf_counter()
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    args = build_parser().parse_args(argv)
    if args.groups < 1 or CHANNELS % args.groups:
        raise UserError(f"--groups {args.groups} must divide the {CHANNELS} channels (1, 2, 4, 8, 16, 32 or 64)")
    if args.calib_count < 1:
        raise UserError(f"--calib-count must be at least 1, got {args.calib_count}")
    targets = _targets(args.target)
    precisions = {t: _precisions(args.precision, t) for t in targets}
    if "coreml" not in targets and (args.sizes or args.compress or isinstance(args.dynamic, str)):
        raise UserError("--sizes, --compress and --dynamic LO..HI apply to --target coreml (or all)")
    coreml_options = None
    if "coreml" in targets:
        from .coreml_export import parse_options

        coreml_options = parse_options(args.compress, args.input_size, args.sizes, args.dynamic, args.tensor_io, args.min_ios)
    if "tflite" in targets and args.sizes:
        raise UserError("--sizes is for coreml; tflite takes one --input-size or --dynamic")
    input_size = None if args.dynamic else (parse_hw(args.input_size) if args.input_size else DEFAULT_INPUT_SIZE)
    if args.calib is not None:
        load_calibration_images(args.calib)  # fail before any conversion work
    pairs = None
    if args.parity_data:
        from .data import load_eval_set

        pairs = load_eval_set(args.parity_data, args.scale)
    weights = resolve_weights(args.weights, args.random_init, groups=args.groups, scale=args.scale, arch=args.arch)
    if weights.kind == "random-init":
        print("note: converting an UNTRAINED network (--random-init): numerics only, no useful output")
    module = SRDeploy(weights.model, args.scale).eval()
    out = Path(args.out)
    workdir = _make_workdir(out)
    which = "the embedded default" if Path(weights.source) == DEFAULT_WEIGHTS else weights.kind
    label = weights.source if weights.kind == "random-init" else f"{weights.source} ({which})"
    print(f"weights: {label}; {weights.header.arch} g{args.groups} x{args.scale} -> "
          + ", ".join(f"{t} {'/'.join(precisions[t])}" for t in targets), flush=True)
    try:
        with stderr_to(workdir / LOG_NAME):
            report = _run(args, targets, precisions, input_size, pairs, weights, module, out, workdir, start, coreml_options)
    except UserError:
        raise
    except Exception:  # a converter's own failure: its native messages are what a bug report needs
        print(f"the converters' own messages for this run are in {out / LOG_NAME}", file=sys.stderr)
        raise
    finally:
        if (workdir / LOG_NAME).exists():
            os.replace(workdir / LOG_NAME, out / LOG_NAME)
        shutil.rmtree(workdir, ignore_errors=True)
    print(render_table(report))
    print(f"TensorFlow / coremltools messages: {out / LOG_NAME}")
    mismatched = [a["file"] for a in report["artifacts"] if a["parity"].get("verdict") == "MISMATCH"]
    if mismatched:
        print(f"PARITY MISMATCH: {', '.join(mismatched)} do not compute what PyTorch computes")
    return 1 if mismatched else 0


def _run(args, targets, precisions, input_size, pairs, weights, module, out, workdir, start, coreml_options=None) -> dict[str, Any]:
    from .tiling import DEFAULT_OVERLAP, TorchRunner

    reference = CachedRunner(TorchRunner(module, args.scale))
    common = {
        "model": weights.header.arch, "scale": args.scale, "groups": args.groups,
        "weights": {"source": weights.source, "sha256": weights.sha256, "kind": weights.kind},
        "expand_groups": args.expand_groups, "tools": tool_versions(),
    }
    report: dict[str, Any] = {**common, "artifacts": []}
    if args.expand_groups:
        report["expand_groups_cost"] = cost = expand_groups_cost(module, weights.header, args.scale, input_size)
        print(f"--expand-groups: {cost['grouped_mult_adds'] / 1e9:.2f} G -> {cost['dense_mult_adds'] / 1e9:.2f} G "
              f"Mult-Adds per {cost['tile'][0]}x{cost['tile'][1]} tile (x{cost['factor']}); "
              f"{cost['grouped_mult_adds_720p'] / 1e9:.2f} G -> {cost['dense_mult_adds_720p'] / 1e9:.2f} G at 720p out")
    if pairs is not None:
        torch_quality = quality_on_set(reference, pairs, args.scale)
        name = "/".join(Path(args.parity_data).resolve().parts[-2:])
        report["reference"] = {"quality": {"name": name, **torch_quality}}
    artifacts: list[Artifact] = []
    timings: dict[str, float] = {"start-up (imports, weights, reference)": round(time.perf_counter() - start, 2)}
    for target in targets:
        job = Job(module, weights, args.scale, args.groups, input_size, precisions[target], args.io,
                  args.calib, args.calib_count, args.expand_groups, workdir, coreml=coreml_options)
        t = time.perf_counter()
        artifacts += FORMATS[target].export(job)
        timings.update(job.timings or {target: round(time.perf_counter() - t, 2)})
    t = time.perf_counter()
    crops_by_size: dict[Any, list] = {}
    torch_tiled: dict[tuple[int, int], float] = {}
    for artifact in artifacts:
        crops = crops_by_size.setdefault(artifact.input_size, parity_crops(artifact.input_size))
        artifact.parity["photos"] = parity_on_photos(artifact.runner(), reference, crops)
        if pairs is not None:
            artifact.parity["quality"] = {
                **quality_on_set(artifact.runner(any_size=True), pairs, args.scale),
                "torch_psnr_y": report["reference"]["quality"]["psnr_y"],
                "how": "whole images (the interpreter resized to each image; the graph is size-agnostic)"
                if artifact.target != "coreml" else "whole images" if artifact.input_size is None
                else "tiles of the package's input size (a fixed-size package takes no other size)",
            }
            if artifact.target == "tflite" and artifact.input_size is not None:
                # As an app runs it: fixed-size tiles, images smaller than the tile edge-padded.
                size = artifact.input_size
                if min(size) <= 2 * DEFAULT_OVERLAP:
                    tiled: Any = f"skipped: tile {size} not above twice the {DEFAULT_OVERLAP}-px overlap"
                else:
                    if size not in torch_tiled:
                        torch_tiled[size] = quality_on_set(FixedSizeRunner(reference, size), pairs, args.scale)["psnr_y"]
                    tiled = {"psnr_y": quality_on_set(artifact.runner(), pairs, args.scale)["psnr_y"],
                             "torch_psnr_y": torch_tiled[size], "tile": list(size)}
                artifact.parity["quality"]["tiled"] = tiled
        if artifact.target == "coreml":
            from .coreml_export import parity_verdict

            artifact.parity["verdict"] = parity_verdict(artifact.parity["photos"], artifact.precision,
                                                        artifact.extra["compress"], artifact.parity.get("quality"))
        else:
            artifact.parity["verdict"] = photo_verdict(artifact.parity["photos"], artifact.precision)
    timings["parity"] = round(time.perf_counter() - t, 2)
    report["timings_s"] = timings
    for artifact in artifacts:
        final = out / artifact.path.name
        meta = sidecar(artifact, final, common)
        write_json_atomic(artifact.path.with_name(artifact.path.name + ".json"), meta)
        report["artifacts"].append(meta)
    for artifact in artifacts:  # every file is complete: move them into place
        for src in (artifact.path, artifact.path.with_name(artifact.path.name + ".json")):
            dst = out / src.name
            if dst.is_dir():
                shutil.rmtree(dst)
            os.replace(src, dst)
    report["wall_time_s"] = round(time.perf_counter() - start, 1)
    report["machine"] = describe_machine()
    write_json_atomic(out / "report.json", report)
    return report


if __name__ == "__main__":
    run_cli(main)
