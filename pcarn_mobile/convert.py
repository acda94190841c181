"""``python -m pcarn_mobile.convert --target tflite --groups 4``: export PCARN-M for phones.

A thin wrapper around :func:`pcarn_mobile.export.export` (the Python API, same options and
defaults): it parses the flags, shows the run's log lines, prints the summary table and exits 1
when a file fails parity. What a run writes is described in ``docs/export-contract.md``.
"""
from __future__ import annotations

import argparse
import dataclasses
import logging
import sys

from .errors import CliParser, run_cli
from .export.formats import FORMATS, TARGET_SETS
from .export.limits import check_memory
from .export.options import CALIB_CROP, COMPRESSIONS, DEFAULT_CALIB_COUNT, DEFAULT_INPUT_SIZE, INT8_IO, MIN_IOS, ExportOptions, plan
from .modelargs import add_model_args


def build_parser() -> argparse.ArgumentParser:
    parser = CliParser(
        prog="python -m pcarn_mobile.convert",
        description="Convert PCARN-M to phone formats, with parity against PyTorch, a sidecar per file and a report.",
    )
    parser.add_argument("--target", default="tflite", choices=[*FORMATS, *TARGET_SETS],
                        help="format to write; 'all' = tflite + onnx + coreml (default: tflite)")
    parser.add_argument("--scale", type=int, default=4, choices=(2, 3, 4), help="upscaling factor (default 4)")
    add_model_args(parser)
    parser.add_argument("--precision", action="append",
                        help="comma-separated and/or repeated: fp32, fp16, int8 for tflite (default: all three); "
                             "fp32 for onnx; fp16, fp32 for coreml (compute precision; default fp16)")
    size = parser.add_mutually_exclusive_group()
    size.add_argument("--input-size", metavar="HxW",
                      help=f"static input size (default {DEFAULT_INPUT_SIZE[0]}x{DEFAULT_INPUT_SIZE[1]}: a phone tile, "
                           f"{4 * DEFAULT_INPUT_SIZE[0]}x{4 * DEFAULT_INPUT_SIZE[1]} out at x4)")
    size.add_argument("--dynamic", nargs="?", const=True, default=False, metavar="LO..HI",
                      help="any input size (tflite: resize_tensor_input at run time; coreml: a range of LO..HI LR "
                           "pixels per side, default 16..512, which is also coreml's default shape)")
    size.add_argument("--sizes", metavar="HxW,HxW",
                      help="coreml: enumerated input sizes (each compiled ahead: the Neural Engine's fast path)")
    tflite = parser.add_argument_group("TFLite int8 (--target tflite / all)")
    tflite.add_argument("--io", choices=INT8_IO,
                        help="input/output type of the int8 file: int8 (default), uint8 (feed bitmap bytes) or float")
    tflite.add_argument("--calib", metavar="DIR", help="photos to calibrate int8 on (default: scikit-image's bundled photos)")
    tflite.add_argument("--calib-count", type=int, metavar="N",
                        help=f"random {CALIB_CROP}x{CALIB_CROP} calibration crops (default {DEFAULT_CALIB_COUNT})")
    tflite.add_argument("--int8-sensitivity", action="store_true",
                        help="also measure what each int8 activation and each conv's weights cost quantized alone "
                             "(Y-PSNR on --parity-data; minutes) and write it into the int8 sidecar's calibration")
    tflite.add_argument("--npu", metavar="qualcomm:SOC,...",
                        help="also compile the static int8 file for Qualcomm SoCs (e.g. qualcomm:SM8650,SM8750 or "
                             "qualcomm:all), one <file>_qualcomm_<soc>.tflite each, parity on the HTP emulator "
                             "(needs `make toolchain-npu`)")
    coreml = parser.add_argument_group("Core ML (--target coreml / all)")
    coreml.add_argument("--compress", action="append", metavar="LIST",
                        help=f"comma-separated and/or repeated: {', '.join(COMPRESSIONS)} (8-bit linear / 6-bit k-means "
                             "palettized weights); one package each (default: none)")
    io = coreml.add_mutually_exclusive_group()
    io.add_argument("--image-io", dest="tensor_io", action="store_const", const=False,
                    help="RGB image in and out: an app passes a CVPixelBuffer and gets one back (default)")
    io.add_argument("--tensor-io", dest="tensor_io", action="store_const", const=True,
                    help="float32 multi-arrays (1, 3, H, W) in [0, 1] instead of images")
    coreml.add_argument("--min-ios", type=int, metavar="N",
                        help=f"minimum deployment target: {', '.join(map(str, MIN_IOS))} (default 16; 18 stores "
                             "compressed weights block-wise)")
    parser.add_argument("--parity-data", metavar="DIR",
                        help="evaluation set (paired *_HR/*_LR or HR-only): each file's Y-PSNR next to PyTorch's, "
                             "held to a drop limit per precision")
    parser.add_argument("--parity-on", action="append", metavar="KERNELS",
                        help="also check every TFLite file on: arm64 (LiteRT's aarch64 XNNPACK kernels under qemu, "
                             "at an ARMv8.0 and an ARMv8.2 core; minutes; `make toolchain-arm64` installs it)")
    parser.add_argument("--arm-time-limit", type=float, metavar="S",
                        help="seconds one emulated ARM64 inference may take (default 600)")
    parser.add_argument("--expand-groups", action="store_true",
                        help="tflite/onnx: write grouped convs as dense block-diagonal ones (TFLite GPU delegate); "
                             "prints the cost")
    demo = parser.add_argument_group("demo apps (a checkout's android_demo/ and ios_demo/)")
    demo.add_argument("--android-demo", action="store_true",
                      help="tflite: also install the files that pass parity into android_demo/app/src/main/assets/models/")
    demo.add_argument("--ios-demo", action="store_true",
                      help="coreml: also install the packages that pass parity into ios_demo/PCARNDemo/Models/")
    parser.add_argument("--out", default="exports", metavar="DIR", help="output folder (default exports/)")
    return parser


class _Lines(logging.Formatter):
    """Info lines as they are, warnings as ``note: ...``: what the CLI printed before it logged."""

    def format(self, record: logging.LogRecord) -> str:
        text = record.getMessage()
        return text if record.levelno < logging.WARNING else f"note: {text}"


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    options = ExportOptions(**{f.name: getattr(args, f.name) for f in dataclasses.fields(ExportOptions)})
    check_memory(plan(options))  # every option checked before torch and the converters load (seconds)
    from .export.run import export
    from .export.sidecar import render_table

    logger = logging.getLogger("pcarn_mobile.export")
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(_Lines())
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False  # the CLI shows these lines itself; a library's root handler must not repeat them
    try:
        result = export(options)
    finally:
        logger.removeHandler(handler)
        logger.propagate = True
    print(render_table(result.report))
    print(f"TensorFlow / coremltools messages: {result.log_path}")
    for fail in result.report.get("npu_failures", []):
        print(f"error: NPU compile of {fail['file']} for {fail['soc']} failed: {fail['error']} (the other files are written)")
    failed = [f.path.name for f in result.files if f.verdict != "OK"]
    if failed:
        print(f"PARITY MISMATCH: {', '.join(failed)} do not compute what PyTorch computes (kept under that name only)")
    return 0 if result.ok else 1


if __name__ == "__main__":
    run_cli(main)
