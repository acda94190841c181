"""The Core ML target of ``convert``: options, the package variants and the parity verdict.

``convert`` owns the run (one table of formats, sidecars, report, parity through
:mod:`pcarn_mobile.export_report`); this module turns the Core ML options into packages through
``converters.coreml`` (which never imports this package) and hands them back as
:class:`~pcarn_mobile.export_report.Artifact` objects whose runner executes the SAVED package
with the NumPy MIL evaluator (``converters.coreml_runner``). On macOS the real
``MLModel.predict`` is measured too and reported beside it.
"""
from __future__ import annotations

import re
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import UserError
from .export_report import Artifact, parity_crops, parity_on_photos, photo_verdict
from .modelargs import parse_hw

#: Largest Y-PSNR drop (dB) on --parity-data vs PyTorch that passes, by compression.
SET_DROP_LIMIT: dict[str, float] = {"none": 0.02, "int8": 0.05, "palette6": 0.15}

@dataclass(frozen=True)
class CoreMLOptions:
    """The Core ML flags of ``convert``, parsed."""

    shape: Any  # converters.coreml.ShapeSpec (imported lazily: coremltools is slow to import)
    compressions: tuple[str, ...] = ("none",)
    image_io: bool = True
    min_ios: int = 16


def shape_spec(input_size: str | None, sizes: str | None, dynamic: bool | str | None):
    """``--input-size`` / ``--sizes`` / ``--dynamic [LO..HI]`` -> ``ShapeSpec``; none given -> default range."""
    from converters.coreml import DEFAULT_RANGE, ShapeSpec

    if sum(bool(v) for v in (input_size, sizes, dynamic)) > 1:
        raise UserError("--input-size, --sizes and --dynamic exclude each other; pass one")
    if input_size:
        return ShapeSpec(size=parse_hw(input_size))
    if sizes:
        parsed = tuple(parse_hw(s, "--sizes") for s in sizes.split(",") if s.strip())
        if not parsed or len(set(parsed)) != len(parsed):
            raise UserError(f"--sizes {sizes!r}: expected distinct HxW sizes separated by commas")
        return ShapeSpec(sizes=parsed)
    if isinstance(dynamic, str):
        match = re.match(r"^\s*(\d+)\s*\.\.\s*(\d+)\s*$", dynamic)
        if not match or not 1 <= int(match[1]) <= int(match[2]):
            raise UserError(f"--dynamic {dynamic!r}: expected LOW..HIGH LR pixels per side, e.g. 16..512")
        return ShapeSpec(range=(int(match[1]), int(match[2])))
    return ShapeSpec(range=DEFAULT_RANGE)


def parse_options(compress: list[str] | None, input_size: str | None, sizes: str | None,
                  dynamic: bool | str | None, tensor_io: bool, min_ios: int) -> CoreMLOptions:
    """Checks every Core ML flag before any conversion work starts."""
    from converters.coreml import COMPRESSIONS, MIN_IOS_CHOICES

    asked = [c.strip().lower() for item in compress or ["none"] for c in item.split(",") if c.strip()]
    unknown = [c for c in asked if c not in COMPRESSIONS]
    if unknown or not asked:
        raise UserError(f"unknown --compress {', '.join(unknown) or '(empty)'}; choose from {', '.join(COMPRESSIONS)}")
    if min_ios not in MIN_IOS_CHOICES:
        raise UserError(f"--min-ios {min_ios}: choose one of {', '.join(map(str, MIN_IOS_CHOICES))} (image outputs need iOS 16)")
    return CoreMLOptions(shape_spec(input_size, sizes, dynamic), tuple(c for c in COMPRESSIONS if c in asked),
                         not tensor_io, min_ios)


def _size_tag(shape) -> str:
    if shape.size is not None:
        return f"{shape.size[0]}x{shape.size[1]}"
    if shape.sizes:
        return "-".join(f"{h}x{w}" for h, w in shape.sizes)
    return "dyn"


def parity_verdict(photos: dict[str, Any], precision: str, compress: str, quality: dict[str, Any] | None = None) -> str:
    """"OK" or "MISMATCH": the photo floors of :func:`~pcarn_mobile.export_report.photo_verdict` (a compressed
    package is held to its compression's floor) and, with ``--parity-data``, :data:`SET_DROP_LIMIT`.

    Measured with PCARN-M-L1: fp32 ~140 dB, fp16 ~75 dB, int8 weights ~61 dB, 6-bit palettes ~52 dB.
    """
    verdict = photo_verdict(photos, precision if compress == "none" else compress)
    if verdict == "OK" and quality is not None and "torch_psnr_y" in quality:
        verdict = "OK" if quality["torch_psnr_y"] - quality["psnr_y"] <= SET_DROP_LIMIT[compress] else "MISMATCH"
    return verdict


def _io(options: CoreMLOptions, scale: int) -> dict[str, Any]:
    from converters.coreml import INPUT_NAME, OUTPUT_NAME

    shape = options.shape
    sizes = {"sizes": [list(s) for s in shape.sizes]} if shape.sizes else (
        {"size": list(shape.size)} if shape.size else {"range_per_side": list(shape.range)})
    if options.image_io:
        kind = {"type": "image", "color": "RGB", "dtype": "uint8", "range": [0, 255],
                "layout": "CVPixelBuffer (32BGRA or 32ARGB; Core ML converts)"}
    else:
        kind = {"type": "multiarray", "dtype": "float32", "layout": "NCHW", "range": [0.0, 1.0]}
    return {
        "inputs": [{"name": INPUT_NAME, **kind, **sizes}],
        "outputs": [{"name": OUTPUT_NAME, **kind, "scale": scale, "note": "clamped inside the model"}],
    }


def export_coreml_artifacts(job, options: CoreMLOptions) -> list[Artifact]:
    """One ``.mlpackage`` per (precision, compression) in ``job.workdir``, each with its runner."""
    from converters import coreml as cm
    from converters.coreml_eval import coverage
    from converters.coreml_package import read_package
    from converters.coreml_runner import BACKENDS, load_runner

    from . import __version__

    h = job.weights.header
    info = cm.PackageInfo(
        scale=job.scale,
        groups=job.groups,
        short_description=f"{h.arch.upper().replace('_', '-')} x{job.scale} super-resolution (groups {job.groups})",
        author="pcarn-mobile (network: Ahn et al., PCARN)",
        license="MIT",
        version=__version__,
        user_defined={"arch": h.arch, "weights": Path(job.weights.source).name,
                      "weights_sha256": job.weights.sha256 or "random-init"},
    )
    stem = f"{h.arch}_g{job.groups}_x{job.scale}_{_size_tag(options.shape)}"
    since = [time.perf_counter()]

    def lap(stage: str) -> None:
        since[0] = job.lap(f"coreml: {stage}", since[0])

    try:
        variants = cm.export_variants(job.module, job.workdir, stem, info, shape=options.shape,
                                      precisions=job.precisions, compressions=options.compressions,
                                      image_io=options.image_io, min_ios=options.min_ios, lap=lap)
    except ValueError as exc:
        raise UserError(str(exc)) from None
    shape = options.shape
    input_size = shape.size or (shape.sizes[0] if shape.sizes else None)
    artifacts = []
    for v in variants:
        ops = coverage(v.path)
        histogram = Counter(op.type for op in read_package(v.path).block.operations)
        graph = {
            "model_type": "mlprogram", "minimum_deployment_target": f"iOS{options.min_ios}",
            "compute_precision": v.precision, "compress": v.compress, "compress_description": cm.COMPRESSIONS[v.compress],
            "input_sizes": shape.describe(), "ops": dict(sorted(histogram.items())),
            "evaluator_covers_all_ops": all(ops.values()),
        }
        artifact = Artifact(v.path, "coreml", v.precision, input_size, lambda any_size=False, p=v.path: load_runner(p), _io(options, job.scale), graph,
                            extra={"compress": v.compress})
        if "coreml" in BACKENDS:  # pragma: no cover - macOS only: the real Core ML beside the evaluator
            from .tiling import TorchRunner

            crops = parity_crops(input_size)
            artifact.parity["coreml_predict"] = {"photos": parity_on_photos(
                load_runner(v.path, backend="coreml"), TorchRunner(job.module, job.scale), crops)}
        artifacts.append(artifact)
    return artifacts

