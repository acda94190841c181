"""Validation during training: Y-PSNR on one evaluation set at one scale, by the project's evaluator.

The same code path as ``python -m pcarn_mobile.evaluate`` (``evaluate_runner`` on a
``TorchRunner``), so the curve in ``val.csv`` is directly comparable with the published figures.
Default: Set5 x4 from ``../shared`` when it is there, which is cheap (five small images).
"""
from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Any

import torch

from ..data import EvalPair, load_eval_set
from ..errors import UserError
from ..evaluation import evaluate_runner
from ..shared import shared_dir
from ..tiling import TorchRunner
from .config import TrainConfig


def default_val_dir() -> Path | None:
    """``../shared/data/Set5/x4`` when the shared folder is present."""
    root = shared_dir()
    path = root / "data" / "Set5" / "x4" if root else None
    return path if path and path.is_dir() else None


def infer_val_scale(path: str | Path, fallback: int) -> int:
    """The scale a paired folder is for, from its name (``.../x4``), else ``fallback``."""
    match = re.fullmatch(r"x(\d)", Path(path).name)
    return int(match.group(1)) if match else fallback


class Validator:
    """Scores the generator on one set; loads the images once."""

    def __init__(self, path: Path, scale: int) -> None:
        self.path, self.scale = path, scale
        self.pairs: list[EvalPair] = load_eval_set(path, scale)
        parts = path.parts[-2:] if re.fullmatch(r"x\d", path.name) else path.parts[-1:]
        self.name = "/".join(parts)

    @classmethod
    def from_config(cls, cfg: TrainConfig) -> "Validator | None":
        """``--val DIR``, ``--val none`` (no validation), or the default when ``../shared`` exists."""
        if cfg.val and cfg.val.lower() == "none":
            return None
        path = Path(cfg.val) if cfg.val else default_val_dir()
        if path is None:
            return None
        scale = cfg.val_scale
        if scale not in cfg.scales:
            raise UserError(f"--val-scale {scale} is not one of the trained --scales {list(cfg.scales)}")
        return cls(path, scale)

    def __call__(self, model: torch.nn.Module) -> dict[str, Any]:
        """Y-PSNR of ``model`` (left in training mode afterwards; a GPU model is scored on a CPU copy)."""
        on_cpu = next(model.parameters()).device.type == "cpu"
        scored = model if on_cpu else copy.deepcopy(model).cpu()
        try:
            return evaluate_runner(TorchRunner(scored, self.scale), self.pairs, self.scale)
        finally:
            model.train()
