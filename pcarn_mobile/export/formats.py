"""The table of export formats: what each writes, the flags it takes, and the limits of its verdict.

Everything that differs between targets and is not conversion code lives in :data:`FORMATS`,
in the style of Ultralytics' exporter table: the run loop dispatches through it, option
checking reads its ``flags`` and precisions, file naming its ``suffix``, and the parity
verdict its limits. A format's conversion code is in the module named by ``adapter``, imported
only when that format is asked for (TensorFlow and coremltools take seconds to import).
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass
from types import ModuleType
from typing import Mapping

#: Lowest PSNR (dB, [0, 1] outputs, against PyTorch on the parity photos) that still counts as
#: "computes what PyTorch computes", per variant. A broken conversion lands far below (< 30 dB).
#: Measured with PCARN-M-L1 and the embedded default: fp32 ~137-143, fp16 ~75-81, TFLite int8
#: ~48-50, Core ML int8 weights ~61, 6-bit palettes ~52 dB.
PHOTO_FLOOR_DB: dict[str, float] = {"fp32": 60.0, "fp16": 45.0, "int8": 35.0, "palette6": 35.0}

#: Largest drop (dB) of a file's Y-PSNR on ``--parity-data`` below PyTorch's that still passes,
#: per variant. Measured (benchmarks/parity_drops.py; docs/export-contract.md has the table): float
#: files -0.002 to +0.001 everywhere; TFLite int8 +0.016 to +0.127 with the embedded and the authors'
#: L1 weights and up to +0.147 with their GAN weights, over x2/x3/x4 and Set5/Set14 (0.19 before issue 25); Core ML int8
#: weights -0.05 to +0.003, 6-bit palettes -0.02 to +0.15 (the GAN weights at x2). Each limit leaves headroom over the worst measured figure
#: and still fails a file that lost a visible amount (an int8 file 0.5 dB down reads MISMATCH).
FLOAT_DROP_DB = 0.02
SET_DROP_DB: dict[str, float] = {"fp32": FLOAT_DROP_DB, "fp16": FLOAT_DROP_DB, "int8": 0.25, "palette6": 0.20}
COREML_SET_DROP_DB: dict[str, float] = {**SET_DROP_DB, "int8": 0.05}

#: Target-specific options (fields of :class:`~pcarn_mobile.export.options.ExportOptions`) and
#: the command-line flag that sets each, for one-line refusals.
FLAG_NAMES: dict[str, str] = {
    "io": "--io", "calib": "--calib", "calib_count": "--calib-count", "expand_groups": "--expand-groups",
    "sizes": "--sizes", "compress": "--compress", "tensor_io": "--tensor-io/--image-io", "min_ios": "--min-ios",
    "dynamic_range": "--dynamic LO..HI", "android_demo": "--android-demo", "ios_demo": "--ios-demo",
    "int8_sensitivity": "--int8-sensitivity", "npu": "--npu",
}
#: Options that only shape the int8 file.
INT8_FLAGS: frozenset[str] = frozenset({"io", "calib", "calib_count", "int8_sensitivity"})


@dataclass(frozen=True)
class Format:
    """One export target."""

    name: str
    suffix: str
    what: str
    precisions: tuple[str, ...]  # every precision it writes, in report order
    defaults: tuple[str, ...]  # written when --precision is not given
    flags: frozenset[str]  # target-specific options it takes (keys of FLAG_NAMES)
    photo_floor_db: Mapping[str, float]  # by variant: the precision, or a Core ML compression
    set_drop_db: Mapping[str, float]  # by variant
    adapter: str  # module whose export(job) writes the files

    def load_adapter(self) -> ModuleType:
        return importlib.import_module(self.adapter)


FORMATS: dict[str, Format] = {
    "tflite": Format(
        "tflite", ".tflite", "TFLite via onnx2tf: delegate-ready, full-integer int8",
        ("fp32", "fp16", "int8"), ("fp32", "fp16", "int8"),
        frozenset({"io", "calib", "calib_count", "int8_sensitivity", "expand_groups", "android_demo", "npu"}),
        PHOTO_FLOOR_DB, SET_DROP_DB, "pcarn_mobile.export.tflite_target",
    ),
    "onnx": Format(
        "onnx", ".onnx", "ONNX opset 17 for ONNX Runtime (the graph TFLite is made from)",
        ("fp32",), ("fp32",), frozenset({"expand_groups"}),
        PHOTO_FLOOR_DB, SET_DROP_DB, "pcarn_mobile.export.onnx_target",
    ),
    "coreml": Format(
        "coreml", ".mlpackage", "Core ML ML Program for iOS 16+, checked by a NumPy MIL evaluator",
        ("fp16", "fp32"), ("fp16",), frozenset({"sizes", "compress", "tensor_io", "min_ios", "dynamic_range", "ios_demo"}),
        PHOTO_FLOOR_DB, COREML_SET_DROP_DB, "pcarn_mobile.export.coreml_target",
    ),
}

#: Names that stand for several targets.
TARGET_SETS: dict[str, tuple[str, ...]] = {"all": ("tflite", "onnx", "coreml")}
