"""The Core ML target of ``convert``: package variants, their sidecar JSON and parity figures.

``convert`` (the CLI) parses options and calls :func:`export_coreml`; the conversion itself is
``converters.coreml`` (which never imports this package), and parity runs the saved packages
back from disk through ``converters.coreml_runner`` against the PyTorch model:

* on real photos (bundled with scikit-image) cropped at the package's input sizes: PSNR and
  max-abs error of the [0, 1] outputs;
* with ``parity_pairs`` (``--parity-data``): the Y-PSNR of the package on that set beside the
  PyTorch model's, with the same scoring as ``evaluate``.

On macOS the same figures are also measured through Core ML itself (``MLModel.predict``).
"""
from __future__ import annotations

import json
import os
import platform
import re
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import torch

from converters.runner import Runner

from . import __version__
from .data import EvalPair
from .errors import UserError
from .evaluation import evaluate_runner
from .models import SRDeploy
from .photos import sample_photos
from .tiling import TorchRunner
from .weights import LoadedWeights

#: LR pixels of photo crops per variant: six 64x64 crops, fewer (never under one) for large inputs.
PARITY_PIXEL_BUDGET = 6 * 64 * 64

#: Crop side for range-flexible packages (any size in the range is "the input size").
RANGE_PARITY_SIDE = 64

#: Lowest photo PSNR (dB, [0, 1] outputs, vs PyTorch fp32) that passes, by precision / compression.
#: Float packages carry only rounding (fp32 measures ~140 dB, fp16 ~75 dB with PCARN-M-L1);
#: compressed ones carry their weight error too (int8 ~60 dB, 6-bit palettes ~50 dB).
PHOTO_PSNR_FLOOR: dict[str, float] = {"fp32": 60.0, "fp16": 45.0, "int8": 40.0, "palette6": 35.0}

#: Largest Y-PSNR drop (dB) on --parity-data vs PyTorch that passes, by compression.
SET_DROP_LIMIT: dict[str, float] = {"none": 0.02, "int8": 0.05, "palette6": 0.15}

_HW = re.compile(r"^\s*(\d+)\s*[xX]\s*(\d+)\s*$")


def parse_hw(text: str, option: str = "--input-size") -> tuple[int, int]:
    """``"180x320"`` -> (180, 320); anything else is a :class:`UserError` naming ``option``."""
    match = _HW.match(text or "")
    if not match or int(match[1]) < 1 or int(match[2]) < 1:
        raise UserError(f"{option} {text!r}: expected a positive HEIGHTxWIDTH such as 180x320")
    return int(match[1]), int(match[2])


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


def _parity_sizes(shape) -> list[tuple[int, int]]:
    if shape.size is not None:
        return [shape.size]
    if shape.sizes:
        return list(shape.sizes)
    side = min(max(RANGE_PARITY_SIDE, shape.range[0]), shape.range[1])
    return [(side, side)]


def photo_crops(sizes: list[tuple[int, int]], budget: int = PARITY_PIXEL_BUDGET) -> list[tuple[str, np.ndarray]]:
    """Centre crops of the bundled photos, cycling through ``sizes``, within ``budget`` LR pixels.

    Photos smaller than a size are edge-padded (only the tiny Hubble image could be).
    """
    photos = sample_photos()
    out: list[tuple[str, np.ndarray]] = []
    used = 0
    for i, (name, img) in enumerate(photos):
        h, w = sizes[i % len(sizes)]
        if out and used + h * w > budget:
            break
        img = np.pad(img, ((0, max(h - img.shape[0], 0)), (0, max(w - img.shape[1], 0)), (0, 0)), mode="edge")
        y, x = (img.shape[0] - h) // 2, (img.shape[1] - w) // 2
        out.append((f"{name}@{h}x{w}", img[y : y + h, x : x + w].astype(np.float32) / 255.0))
        used += h * w
    return out


def photo_parity(runner: Runner, reference: Runner, crops: list[tuple[str, np.ndarray]]) -> dict[str, Any]:
    """PSNR (peak 1) and max-abs error of ``runner`` vs ``reference`` on [0, 1] outputs, pooled over crops.

    Each crop is one call at exactly its size (an accepted input size), never tiled.
    """
    sq, n, max_abs = 0.0, 0, 0.0
    for _, crop in crops:
        x = np.ascontiguousarray(crop.transpose(2, 0, 1)[None])
        diff = runner(x).astype(np.float64) - reference(x)
        sq, n, max_abs = sq + float(np.sum(diff * diff)), n + diff.size, max(max_abs, float(np.abs(diff).max()))
    mse = sq / n
    return {
        "psnr": float("inf") if mse == 0 else float(10 * np.log10(1.0 / mse)),
        "max_abs": max_abs,
        "photos": [name for name, _ in crops],
    }


def parity_verdict(figures: dict[str, Any], precision: str, compress: str, set_figures: dict[str, Any] | None = None) -> str:
    """"ok" when the figures are within the floors above, else "MISMATCH" (a broken export)."""
    floor = PHOTO_PSNR_FLOOR[precision if compress == "none" else compress]
    ok = figures["psnr"] >= floor
    if set_figures is not None:
        ok = ok and -set_figures["delta_psnr_y"] <= SET_DROP_LIMIT[compress]
    return "ok" if ok else "MISMATCH"


def set_parity(runner: Runner, reference_scores: dict[str, Any], pairs: list[EvalPair], scale: int) -> dict[str, Any]:
    """Y-PSNR/SSIM of ``runner`` on ``pairs`` beside the reference's (scored the same way)."""
    scores = evaluate_runner(runner, pairs, scale)
    return {
        "psnr_y": scores["psnr_y"],
        "ssim_y": scores["ssim_y"],
        "pytorch_psnr_y": reference_scores["psnr_y"],
        "delta_psnr_y": scores["psnr_y"] - reference_scores["psnr_y"],
        "bicubic_psnr_y": scores["bicubic_psnr_y"],
        "count": scores["count"],
    }


def _write_json(path: Path, obj: dict[str, Any]) -> None:
    """JSON written to a temporary file beside ``path`` and renamed into place."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w") as fh:
            json.dump(obj, fh, indent=2, default=str)
            fh.write("\n")
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _io_description(image_io: bool, name: str, scale_note: str) -> dict[str, Any]:
    if image_io:
        return {"name": name, "type": "image", "color": "RGB", "dtype": "uint8", "range": [0, 255],
                "layout": "CVPixelBuffer (32BGRA or 32ARGB; Core ML converts)", "note": scale_note}
    return {"name": name, "type": "multiarray", "dtype": "float32", "layout": "NCHW", "range": [0.0, 1.0], "note": scale_note}


def export_coreml(
    loaded: LoadedWeights,
    scale: int,
    out_dir: str | os.PathLike[str],
    *,
    stem: str,
    precisions: list[str],
    compressions: list[str],
    shape,
    image_io: bool = True,
    min_ios: int = 16,
    parity_pairs: list[EvalPair] | None = None,
    parity_budget: int = PARITY_PIXEL_BUDGET,
) -> list[dict[str, Any]]:
    """Writes every (precision, compression) package with its sidecar; returns one record per package.

    A record holds the package path, size on disk, the sidecar path and the parity figures.
    """
    import coremltools as ct

    from converters import coreml as cm
    from converters.coreml_runner import BACKENDS, load_runner

    out = Path(out_dir)
    try:
        out.mkdir(parents=True, exist_ok=True)
        probe = tempfile.NamedTemporaryFile(dir=out, prefix=".probe.")
        probe.close()
    except OSError as exc:
        raise UserError(f"output folder {out} is not writable ({exc.strerror or exc})") from None
    h = loaded.header
    module = SRDeploy(loaded.model, scale).eval()
    info = cm.PackageInfo(
        scale=scale,
        groups=h.groups,
        short_description=f"{h.arch.upper().replace('_', '-')} x{scale} super-resolution (groups {h.groups})",
        author="pcarn-mobile (network: Ahn et al., PCARN)",
        license="MIT",
        version=__version__,
        user_defined={"arch": h.arch, "weights": Path(loaded.source).name, "weights_sha256": loaded.sha256 or "random-init"},
    )
    try:
        variants = cm.export_variants(module, out, stem, info, shape=shape, precisions=precisions,
                                      compressions=compressions, image_io=image_io, min_ios=min_ios)
    except ValueError as exc:
        raise UserError(str(exc)) from None
    reference = TorchRunner(module, scale)
    crops = photo_crops(_parity_sizes(shape), parity_budget)
    ref_scores = evaluate_runner(reference, parity_pairs, scale) if parity_pairs else None
    records = []
    for v in variants:
        parity: dict[str, Any] = {}
        for backend in BACKENDS:
            runner = load_runner(v.path, backend=backend)
            figures = {"photos": photo_parity(runner, reference, crops)}
            if parity_pairs:
                figures["set"] = set_parity(runner, ref_scores, parity_pairs, scale)  # type: ignore[arg-type]
            figures["verdict"] = parity_verdict(figures["photos"], v.precision, v.compress, figures.get("set"))
            parity["numpy_evaluator" if backend == "numpy" else "coreml_predict"] = figures
        unit = "pixel values 0-255" if image_io else "floats in [0, 1]"
        sidecar = {
            "format": "coreml",
            "file": v.path.name,
            "model_type": "mlprogram",
            "arch": h.arch,
            "scale": scale,
            "groups": h.groups,
            "precision": v.precision,
            "compress": v.compress,
            "compress_description": cm.COMPRESSIONS[v.compress],
            "minimum_deployment_target": f"iOS{min_ios}",
            "input_sizes": shape.describe(),
            "input": _io_description(image_io, cm.INPUT_NAME, f"low-resolution RGB, {unit}"),
            "output": _io_description(image_io, cm.OUTPUT_NAME, f"RGB upscaled x{scale}, {unit}, clamped"),
            "size_bytes": v.size_bytes,
            "weights": {"file": loaded.source, "sha256": loaded.sha256, "kind": loaded.kind},
            "tools": {"pcarn_mobile": __version__, "coremltools": ct.__version__, "torch": torch.__version__,
                      "python": platform.python_version()},
            "parity": parity,
        }
        sidecar_path = v.path.with_name(v.path.name[: -len(".mlpackage")] + ".json")
        _write_json(sidecar_path, sidecar)
        verdicts = {figures["verdict"] for figures in parity.values()}
        records.append({"path": str(v.path), "sidecar": str(sidecar_path),
                        "verdict": "ok" if verdicts == {"ok"} else "MISMATCH",
                        **{k: sidecar[k] for k in ("format", "precision", "compress", "size_bytes", "input_sizes", "parity")}})
    return records
