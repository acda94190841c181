"""What a run writes: ``last.pt`` (everything ``--resume`` needs) and ``best.pt`` (a usable checkpoint).

``last.pt`` holds plain tensors, numbers and strings only, so it loads with
``torch.load(weights_only=True)`` like every other file this project reads. ``best.pt`` is the
project checkpoint format (:func:`pcarn_mobile.weights.save_checkpoint`), so ``evaluate``,
``upscale`` and ``convert`` take it as ``--weights`` directly.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import torch

from ..errors import UserError
from ..weights import TRAIN_BEST as BEST, TRAIN_STATE_FORMAT as STATE_FORMAT, atomic_torch_save
from ..weights.safeload import UnloadableFile, torch_load

#: ``STATE_FORMAT`` tags ``last.pt`` (bump it on incompatible changes); the weights loader knows it too.
LAST = "last.pt"
#: Keys every ``last.pt`` has; a file without one of them is treated as damaged.
REQUIRED_KEYS: tuple[str, ...] = ("format", "config", "step", "wall_s", "best_psnr", "model", "objective", "sampler", "rng")


def save_state(run_dir: str | os.PathLike[str], state: dict[str, Any]) -> Path:
    """Writes ``last.pt`` atomically (temporary file, then rename): a kill never leaves half a file."""
    path = Path(run_dir) / LAST
    atomic_torch_save({"format": STATE_FORMAT, **state}, path)
    return path


def load_state(run_dir: str | os.PathLike[str]) -> dict[str, Any]:
    """Reads ``last.pt`` for ``--resume``; anything missing or damaged is a :class:`UserError`.

    A damaged file must stop the run: silently starting again from step 0 would overwrite the
    run's ``best.pt`` and hours of training.
    """
    path = Path(run_dir) / LAST
    if not path.is_file():
        raise UserError(f"--resume: no {LAST} in {run_dir}; start without --resume to begin a new run there")
    try:
        state = torch_load(path)
    except UnloadableFile as exc:
        raise UserError(
            f"--resume: {path} is damaged and cannot be loaded ({exc.reason}); restore it or start a new run "
            "with another --out"
        ) from None
    if not isinstance(state, dict) or state.get("format") != STATE_FORMAT:
        raise UserError(f"--resume: {path} is not a {STATE_FORMAT} training state")
    missing = [k for k in REQUIRED_KEYS if k not in state]
    if missing:
        raise UserError(f"--resume: {path} is damaged (missing {', '.join(missing)})")
    return state


def rng_state() -> dict[str, Any]:
    """Global RNG states (torch CPU and, where present, CUDA) for bit-identical resumption."""
    state: dict[str, Any] = {"torch": torch.get_rng_state()}
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict[str, Any]) -> None:
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])
