"""What every export target shares: calibration/parity images, parity figures, sidecars, the report.

Each artifact (``.onnx``, ``.tflite``, ``.mlpackage``) gets a sidecar JSON next to it
(``<file>.json``) that an app can read: scale, groups, I/O names, shapes, layouts, dtypes,
value ranges and quantization, the source weights and their sha256, tool versions and the
parity figures. One ``report.json`` and a printed table summarise a run. Parity is measured
through the common :class:`~converters.runner.Runner` interface, so it is the same code for
every format: PSNR and max-abs error against PyTorch on real photos, and optionally the
Y-PSNR on an evaluation set next to PyTorch's.
"""
from __future__ import annotations

import hashlib
import importlib.metadata
import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np
from torch import nn

from converters.runner import Runner

from .complexity import count_mult_adds, sr_mult_adds
from .data import IMAGE_EXTENSIONS, EvalPair, to_rgb_u8
from .errors import UserError
from .evaluation import evaluate_runner
from .imageio import read_image
from .models import SRDeploy, build_model
from .photos import sample_photos
from .weights import Header

#: Distributions whose versions go into every sidecar (those absent are skipped).
TOOLS: tuple[str, ...] = (
    "pcarn-mobile", "torch", "onnx", "onnxruntime", "onnx2tf", "tensorflow", "ai-edge-litert", "coremltools", "numpy",
)

#: Photos (one crop each) the parity figures are measured on.
PARITY_PHOTOS = 4


@dataclass
class Artifact:
    """One file a target wrote, while it still sits in the run's temporary folder."""

    path: Path
    target: str
    precision: str
    input_size: tuple[int, int] | None
    runner: Callable[[], Runner]  # opens the file; called for parity
    io: dict[str, Any] = field(default_factory=dict)  # inputs/outputs as the sidecar lists them
    graph: dict[str, Any] = field(default_factory=dict)  # op histogram etc., target specific
    parity: dict[str, Any] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)


def tool_versions() -> dict[str, str]:
    versions = {}
    for name in TOOLS:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            continue
    return versions


def load_calibration_images(directory: str | os.PathLike[str] | None) -> list[tuple[str, np.ndarray]]:
    """uint8 RGB images from ``directory``, or scikit-image's bundled photos when None.

    Raises :class:`UserError` for a missing folder, or one without a readable image.
    """
    if directory is None:
        return sample_photos()
    directory = Path(directory)
    if not directory.is_dir():
        raise UserError(f"calibration folder not found: {directory}")
    files = sorted(p for p in directory.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_EXTENSIONS)
    images = []
    for path in files:
        try:
            images.append((path.name, to_rgb_u8(read_image(path))))
        except UserError:
            continue  # one unreadable file among good ones is skipped; none readable is an error below
    if not images:
        raise UserError(f"calibration folder {directory} holds no readable image ({', '.join(IMAGE_EXTENSIONS)})")
    return images


def random_crops(
    images: list[tuple[str, np.ndarray]], count: int, size: int, seed: int = 0
) -> list[np.ndarray]:
    """``count`` random ``size`` x ``size`` crops (NHWC float32 [0, 1]) spread evenly over the images.

    Images smaller than ``size`` are used whole. Deterministic for a given seed.
    """
    rng = np.random.default_rng(seed)
    crops = []
    for k in range(count):
        img = images[k % len(images)][1]
        h, w = img.shape[:2]
        ch, cw = min(size, h), min(size, w)
        y, x = int(rng.integers(0, h - ch + 1)), int(rng.integers(0, w - cw + 1))
        crops.append(np.ascontiguousarray(img[None, y : y + ch, x : x + cw], dtype=np.float32) / 255.0)
    return crops


def parity_crops(input_size: tuple[int, int] | None, count: int = PARITY_PHOTOS) -> list[tuple[str, np.ndarray]]:
    """Centre crops of the bundled photos at the model's input size (96x128 for dynamic models), NCHW."""
    h, w = input_size or (96, 128)
    crops = []
    for name, img in sample_photos()[:count]:
        ih, iw = img.shape[:2]
        y, x = max((ih - h) // 2, 0), max((iw - w) // 2, 0)
        crop = np.asarray(img[y : y + h, x : x + w], dtype=np.float32) / 255.0
        if crop.shape[:2] != (h, w):  # photo smaller than the input: edge-pad (as tiling does)
            crop = np.pad(crop, ((0, h - crop.shape[0]), (0, w - crop.shape[1]), (0, 0)), mode="edge")
        crops.append((name, np.ascontiguousarray(crop.transpose(2, 0, 1)[None])))
    return crops


class CachedRunner:
    """A runner that computes each distinct input once: the PyTorch reference every artifact is compared with."""

    def __init__(self, runner: Runner) -> None:
        self.runner, self.scale, self.input_size = runner, runner.scale, runner.input_size
        self._memo: dict[tuple, np.ndarray] = {}

    def __call__(self, x: np.ndarray) -> np.ndarray:
        key = (x.shape, hashlib.sha1(np.ascontiguousarray(x).tobytes()).hexdigest())
        if key not in self._memo:
            self._memo[key] = self.runner(x)
        return self._memo[key]


class FixedSizeRunner:
    """Presents a runner as taking only ``input_size``, so that tiling feeds it as it feeds a static file.

    PyTorch through the same tiles and edge padding is the fair reference for a static file's
    tiled Y-PSNR: on images smaller than the tile the padding alone moves Y-PSNR by ~0.07 dB.
    """

    def __init__(self, runner: Runner, input_size: tuple[int, int]) -> None:
        self.runner, self.scale, self.input_size = runner, runner.scale, input_size

    def __call__(self, x: np.ndarray) -> np.ndarray:
        return self.runner(x)


def parity_on_photos(runner: Runner, reference: Runner, crops: list[tuple[str, np.ndarray]]) -> dict[str, Any]:
    """PSNR (peak 1, on the [0, 1] outputs) and max-abs error of ``runner`` against ``reference``."""
    errors, max_abs = [], 0.0
    for _, x in crops:
        diff = runner(x).astype(np.float64) - reference(x).astype(np.float64)
        errors.append(np.mean(diff**2))
        max_abs = max(max_abs, float(np.abs(diff).max()))
    mse = float(np.mean(errors))
    psnr = float("inf") if mse == 0 else float(10 * np.log10(1.0 / mse))
    return {
        "psnr_db": round(psnr, 2) if np.isfinite(psnr) else "inf",
        "max_abs": round(max_abs, 6),
        "images": [name for name, _ in crops],
        "size": list(crops[0][1].shape[2:]),
    }


#: Lowest PSNR (dB, [0, 1] outputs, against PyTorch on the parity photos) that still counts as
#: "computes what PyTorch computes" per precision; a broken conversion lands far below (< 30 dB).
PARITY_FLOOR_DB: dict[str, float] = {"fp32": 60.0, "fp16": 45.0, "int8": 35.0}


def photo_verdict(photos: dict[str, Any], precision: str) -> str:
    """OK or MISMATCH from the photo parity figures and :data:`PARITY_FLOOR_DB`."""
    psnr = photos["psnr_db"]
    return "OK" if psnr == "inf" or psnr >= PARITY_FLOOR_DB.get(precision, 35.0) else "MISMATCH"


def quality_on_set(runner: Runner, pairs: list[EvalPair], scale: int) -> dict[str, float]:
    """Y-PSNR/SSIM on an evaluation set (the paper's convention), rounded for the report."""
    result = evaluate_runner(runner, pairs, scale)
    return {"psnr_y": round(result["psnr_y"], 3), "ssim_y": round(result["ssim_y"], 4), "count": result["count"]}


def expand_groups_cost(module: nn.Module, header: Header, scale: int, input_size: tuple[int, int] | None) -> dict[str, Any]:
    """Mult-Adds of the grouped network and of its dense block-diagonal rewrite (``--expand-groups``).

    Per input tile (180x320, i.e. 720p out at x4, for a dynamic model) and at the paper's 720p
    output; the dense network is the same architecture with ``groups=1``.
    """
    dense = build_model(header.arch, 1, header.scales, header.channels)
    h, w = input_size or (180, 320)
    cost: dict[str, Any] = {
        "tile": [h, w],
        "grouped_mult_adds": count_mult_adds(module, (1, 3, h, w)),
        "dense_mult_adds": count_mult_adds(SRDeploy(dense, scale), (1, 3, h, w)),
        "grouped_mult_adds_720p": sr_mult_adds(module.model, scale),
        "dense_mult_adds_720p": sr_mult_adds(dense, scale),
    }
    cost["factor"] = round(cost["dense_mult_adds"] / cost["grouped_mult_adds"], 2)
    return cost


def write_json_atomic(path: Path, obj: Any) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w") as fh:
            json.dump(obj, fh, indent=2, sort_keys=False)
            fh.write("\n")
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp's 0600 would hide the sidecar from other users
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def sidecar(artifact: Artifact, final_path: Path, common: dict[str, Any]) -> dict[str, Any]:
    """The JSON an app reads next to the artifact."""
    return {
        "file": final_path.name,
        "format": artifact.target,
        "precision": artifact.precision,
        **common,
        "input_size": list(artifact.input_size) if artifact.input_size else "dynamic",
        "size_bytes": _size_on_disk(artifact.path),
        **artifact.io,
        "graph": artifact.graph,
        "parity": artifact.parity,
        **artifact.extra,
    }


def _size_on_disk(path: Path) -> int:
    if path.is_dir():
        return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
    return path.stat().st_size


def _fmt(value: Any, digits: int = 2) -> str:
    if value is None or value == "":
        return "-"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def render_table(report: dict[str, Any]) -> str:
    """The summary a run prints: one row per artifact."""
    quality = report.get("reference", {}).get("quality")
    header = ["file", "size", "ops ok", "PSNR vs torch", "max abs", "parity"]
    if quality:
        header.append(f"Y-PSNR {quality['name']} (torch {quality['psnr_y']:.2f})")
    rows = [header]
    for a in report["artifacts"]:
        p = a["parity"]
        graph = a.get("graph", {})
        ok = "-" if "delegate_ready" not in graph else ("yes" if graph["delegate_ready"] else "NO")
        row = [a["file"], f"{a['size_bytes'] / 1e6:.2f} MB", ok, _fmt(p.get("photos", {}).get("psnr_db")) + " dB",
               _fmt(p.get("photos", {}).get("max_abs"), 4), p.get("verdict", "-")]
        if quality:
            row.append(_fmt(p.get("quality", {}).get("psnr_y"), 3))
        rows.append(row)
    widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths)) for r in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    stages = ", ".join(f"{k} {v:.1f}" for k, v in report.get("timings_s", {}).items())
    lines.append(f"wall time {report['wall_time_s']:.1f} s ({report['machine']}): {stages}")
    return "\n".join(lines)
