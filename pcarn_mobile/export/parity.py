"""Parity: what an exported file computes next to what PyTorch computes, and one verdict for all formats.

Every file is measured through the common :class:`~converters.runner.Runner` interface, so
this is the same code for TFLite, ONNX and Core ML: PSNR and max-abs error against PyTorch on
real photos at the file's input size and, with ``--parity-data``, the Y-PSNR on that set next
to PyTorch's. The verdict holds each variant to the limits of the format table
(:mod:`.formats`). The PyTorch reference and whole-image runs go through seamless tiles, so
parity never needs more memory than one tile, whatever the images.
"""
from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import numpy as np

from converters.runner import Runner

from ..data import EvalPair
from ..evaluation import evaluate_runner
from ..photos import sample_photos
from ..tiling import DEFAULT_OVERLAP, upscale_array
from .formats import Format
from .job import Artifact
from .limits import DYNAMIC_PARITY_SIZE, PARITY_TILE

#: Photos (one centre crop each) the photo figures are measured on.
PARITY_PHOTOS = 4


class Reference:
    """PyTorch, as every file is compared with: tiled beyond :data:`PARITY_TILE`, each input computed once."""

    input_size: tuple[int, int] | None = None

    def __init__(self, runner: Runner) -> None:
        self.runner, self.scale = runner, runner.scale
        self._memo: dict[tuple, np.ndarray] = {}

    def __call__(self, x: np.ndarray) -> np.ndarray:
        key = (x.shape, hashlib.sha1(np.ascontiguousarray(x).tobytes()).hexdigest())
        if key not in self._memo:
            hwc = upscale_array(self.runner, x[0].transpose(1, 2, 0), tile=PARITY_TILE, overlap=DEFAULT_OVERLAP)
            self._memo[key] = np.ascontiguousarray(hwc.transpose(2, 0, 1)[None])
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


def parity_crops(input_size: tuple[int, int] | None, count: int = PARITY_PHOTOS) -> list[tuple[str, np.ndarray]]:
    """Centre crops of the bundled photos at the model's input size (:data:`DYNAMIC_PARITY_SIZE` when any size goes), NCHW."""
    h, w = input_size or DYNAMIC_PARITY_SIZE
    crops = []
    for name, img in sample_photos()[:count]:
        ih, iw = img.shape[:2]
        y, x = max((ih - h) // 2, 0), max((iw - w) // 2, 0)
        crop = np.asarray(img[y : y + h, x : x + w], dtype=np.float32) / 255.0
        if crop.shape[:2] != (h, w):  # photo smaller than the input: edge-pad (as tiling does)
            crop = np.pad(crop, ((0, h - crop.shape[0]), (0, w - crop.shape[1]), (0, 0)), mode="edge")
        crops.append((name, np.ascontiguousarray(crop.transpose(2, 0, 1)[None])))
    return crops


def parity_on_photos(runner: Runner, reference: Runner, crops: list[tuple[str, np.ndarray]],
                     outputs: dict[str, np.ndarray] | None = None) -> dict[str, Any]:
    """PSNR (peak 1, on the [0, 1] outputs) and max-abs error of ``runner`` against ``reference``.

    With ``outputs``, the runner's output for each crop is kept there by name (for the report's pictures).
    """
    errors, max_abs = [], 0.0
    for name, x in crops:
        y = runner(x)
        if outputs is not None:
            outputs[name] = y
        diff = y.astype(np.float64) - reference(x).astype(np.float64)
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


def quality_on_set(runner: Runner, pairs: list[EvalPair], scale: int,
                   outputs: dict[str, np.ndarray] | None = None) -> dict[str, Any]:
    """Y-PSNR/SSIM on an evaluation set (the paper's convention), whole images through seamless tiles.

    Also names the ``worst`` and ``best`` image by Y-PSNR; ``outputs`` keeps each uint8 output by name.
    """
    result = evaluate_runner(runner, pairs, scale, tile=PARITY_TILE, overlap=DEFAULT_OVERLAP, outputs=outputs)
    ranked = sorted(result["images"], key=lambda im: im["psnr_y"])
    return {"psnr_y": round(result["psnr_y"], 3), "ssim_y": round(result["ssim_y"], 4), "count": result["count"],
            "worst": {"image": ranked[0]["name"], "psnr_y": round(ranked[0]["psnr_y"], 3)},
            "best": {"image": ranked[-1]["name"], "psnr_y": round(ranked[-1]["psnr_y"], 3)}}


class SetQuality:
    """Y-PSNR on ``--parity-data`` of each file, next to PyTorch's measured the same way (whole, or the same tiles).

    Keeps PyTorch's and the last file's outputs, so the report can show the worst and best image.
    """

    def __init__(self, reference: Reference, pairs: list[EvalPair], scale: int, folder: str) -> None:
        self.reference, self.pairs, self.scale = reference, pairs, scale
        self.name = set_name(folder)
        self._torch: dict[tuple[int, int] | None, tuple[dict[str, Any], dict[str, np.ndarray]]] = {}
        self.last_outputs: dict[str, np.ndarray] = {}
        self.last_torch_outputs: dict[str, np.ndarray] = {}

    def torch(self, size: tuple[int, int] | None) -> dict[str, Any]:
        """PyTorch's figures, on whole images (``size`` None) or fed as a file of that fixed size is fed."""
        if size not in self._torch:
            runner = self.reference if size is None else FixedSizeRunner(self.reference, size)
            outputs: dict[str, np.ndarray] = {}
            self._torch[size] = quality_on_set(runner, self.pairs, self.scale, outputs), outputs
        return self._torch[size][0]

    def of(self, artifact: Artifact) -> dict[str, Any]:
        """The sidecar's ``quality`` for one file."""
        runner = artifact.runner(any_size=True)
        size = runner.input_size
        self.last_outputs = {}
        result = quality_on_set(runner, self.pairs, self.scale, self.last_outputs)
        torch_psnr = self.torch(size)["psnr_y"]
        self.last_torch_outputs = self._torch[size][1]
        entry: dict[str, Any] = {
            "set": self.name, **result, "torch_psnr_y": torch_psnr, "drop_db": round(torch_psnr - result["psnr_y"], 3),
            "how": "whole images" if size is None else f"tiles of the file's {size[0]}x{size[1]} input, PyTorch tiled alike",
        }
        if size is None and artifact.input_size is not None:
            # A fixed-size file scored resized to whole images; also as an app runs it, in tiles of its size.
            entry["tiled"] = {"psnr_y": quality_on_set(artifact.runner(), self.pairs, self.scale)["psnr_y"],
                              "torch_psnr_y": self.torch(artifact.input_size)["psnr_y"], "tile": list(artifact.input_size)}
        return entry


def set_name(folder: str) -> str:
    """An evaluation set as sidecars name it: its folder and the one above (``Set5/x2``), never a path."""
    return "/".join(Path(folder).resolve().parts[-2:])


def verdict(fmt: Format, variant: str, photos: dict[str, Any], quality: dict[str, Any] | None) -> dict[str, Any]:
    """``verdict`` (OK / MISMATCH), its ``reasons`` and the ``limits`` applied, for a sidecar's parity.

    The same two tests for every format: the photo PSNR against PyTorch at or above the
    variant's floor, and with ``--parity-data`` the set's Y-PSNR at most the variant's drop limit
    below PyTorch's.
    """
    floor, limit = fmt.photo_floor_db[variant], fmt.set_drop_db[variant]
    reasons = []
    psnr = photos["psnr_db"]
    if psnr != "inf" and psnr < floor:
        reasons.append(f"{psnr:.2f} dB against PyTorch on photos, below the {variant} floor of {floor:g} dB")
    if quality is not None and quality["drop_db"] > limit:
        reasons.append(f"Y-PSNR on {quality['set']} {quality['drop_db']:.3f} dB below PyTorch's, past the {variant} "
                       f"limit of {limit:g} dB")
    return {"verdict": "MISMATCH" if reasons else "OK", "reasons": reasons,
            "limits": {"photo_floor_db": floor, "set_drop_db": limit}}
