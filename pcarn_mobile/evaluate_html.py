"""``evaluate --html OUT.html``: the per-image view of one model or artifact, worst image first.

The mean Y-PSNR hides which images a model (or an int8 file) gets wrong. The page lists every
image's Y-PSNR/SSIM next to bicubic's, sorted worst first, and shows for each (up to
:data:`MAX_PICTURES`) the LR input, bicubic, the ground truth, the model's output and the
amplified difference from the ground truth, cut where the output errs most.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from .data import EvalPair
from .errors import UserError
from .htmlpage import comparison_html, definitions, page, table
from .pictures import compare

#: Images shown with pictures (worst first); a page stays a few MB whatever the set's size.
MAX_PICTURES = 24


def check_html_path(path: str) -> None:
    """Fails before any scoring when ``path`` cannot be written as an HTML page."""
    target = Path(path)
    if target.suffix.lower() not in (".html", ".htm"):
        raise UserError(f"--html {path}: the page must end in .html")
    if not target.parent.is_dir() or not os.access(target.parent, os.W_OK):
        raise UserError(f"--html {path}: {target.parent} is not a writable folder")


def render(result: dict[str, Any], label: str, pairs: list[EvalPair], outputs: dict[str, np.ndarray]) -> str:
    """The page for ``result`` (what ``evaluate --json`` prints) and the uint8 outputs kept while scoring."""
    scale = result["scale"]
    ranked = sorted(result["images"], key=lambda im: im["psnr_y"])
    rows = [[im["name"], f"{im['psnr_y']:.2f}", f"{im['ssim_y']:.4f}", f"{im['bicubic_psnr_y']:.2f}",
             f"{im['bicubic_ssim_y']:.4f}", f"{im['psnr_y'] - im['bicubic_psnr_y']:+.2f}"] for im in ranked]
    by_name = {p.name: p for p in pairs}
    pictures = [comparison_html(compare(im["name"], by_name[im["name"]].lr / 255.0, by_name[im["name"]].hr / 255.0,
                                        outputs[im["name"]] / 255.0, scale, ("ground truth", "model")),
                                f" (Y-PSNR {im['psnr_y']:.2f} dB)") for im in ranked[:MAX_PICTURES]]
    shown = "" if len(ranked) <= MAX_PICTURES else f" (the {MAX_PICTURES} worst of {len(ranked)})"
    body = [
        f"<h1>Evaluation: {result['psnr_y']:.2f} dB Y-PSNR on {len(ranked)} images</h1>",
        definitions([("model", label), ("format", result["format"]), ("data", result["data"]), ("scale", f"x{scale}"),
                     ("convention", f"Y of BT.601, {scale} px shaved from every border, output rounded to 8 bits"),
                     ("mean", f"Y-PSNR {result['psnr_y']:.2f} dB, SSIM {result['ssim_y']:.4f}; bicubic "
                              f"{result['bicubic_psnr_y']:.2f} dB, {result['bicubic_ssim_y']:.4f}")]),
        table("Every image, worst first", ["image", "Y-PSNR (dB)", "Y-SSIM", "bicubic Y-PSNR", "bicubic Y-SSIM",
                                            "gain over bicubic (dB)"], rows),
        f"<h2>Where the output differs from the ground truth{shown}</h2>", *pictures,
    ]
    return page(f"Evaluation of {label}", "\n".join(body))
