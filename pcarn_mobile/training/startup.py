"""What a run is about to do, said before it does it, and how long it will take on this machine.

A run of hours that starts with the wrong folder, scale or recipe should say so in its first
lines, not in its val.csv hours later; and whether 20,000 steps means an hour or a week is only
known once a few steps have been timed here.
"""
from __future__ import annotations

from collections import Counter

from .config import TrainConfig
from .data import PatchSampler
from .validation import Validator


def describe_run(cfg: TrainConfig, sampler: PatchSampler, validator: Validator | None, step: int) -> list[str]:
    """The start-up summary: network, images per folder, recipe, validation."""
    scales = "/".join(f"x{s}" for s in cfg.scales)
    start = f", resuming at step {step:,}" if step else ""
    per_folder = Counter(str(p.parent) for p in sampler.files)
    lines = [
        f"train {cfg.stage}: {cfg.arch} groups {cfg.groups}, scales {scales}{start}",
        "data: " + ", ".join(f"{n} images in {folder}" for folder, n in per_folder.items()),
    ]
    usable = {s: len(p.hr) for s, p in sampler.pairs.items()}
    if any(n < sampler.n_images for n in usable.values()):
        lines[-1] += f" (large enough for {cfg.patch} px patches: " + ", ".join(
            f"{n} at x{s}" for s, n in usable.items()) + ")"
    ema = f", weight average {cfg.ema:g}" if cfg.ema else ""
    lines.append(f"recipe: batch {cfg.batch}, patch {cfg.patch} px, lr {cfg.lr:.2e} (x{cfg.gamma:g} every "
                 f"{cfg.decay_every:,} steps), {cfg.steps:,} steps{ema}")
    if validator is not None:
        lines.append(f"validation: {validator.name} ({len(validator.pairs)} images) at x{validator.scale} "
                     f"every {cfg.val_every:,} steps")
    elif cfg.val and cfg.val.lower() == "none":
        lines.append("validation: none (--val none)")
    else:
        lines.append("validation: none (no --val, and no data/Set5/x4 in $PCARN_SHARED or ../shared)")
    return lines


class Pace:
    """Times the first steps of a run and, once ``measure`` of them are in, says once how long the
    rest will take. The very first step is left out: it allocates and warms up, and is slower."""

    def __init__(self, step: int, total: int, measure: int = 5) -> None:
        self.step, self.total, self.measure = step, total, measure
        self.timed: list[float] = []
        self.warmed_up = False

    def add(self, seconds: float) -> str | None:
        """Records one step's duration; returns the estimate line once, when it is known."""
        self.step += 1
        if not self.warmed_up:
            self.warmed_up = True
            return None
        self.timed.append(seconds)
        if len(self.timed) != self.measure:
            return None
        per_step = sum(self.timed) / len(self.timed)
        remaining = self.total - self.step
        return (f"estimate: {per_step:.3g} s/step on this machine, about {duration(per_step * remaining)} for the "
                f"remaining {remaining:,} steps (validation not included)")


def duration(seconds: float) -> str:
    """``42 s``, ``37 min``, ``5.3 h``, ``3.2 days``."""
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 2 * 3600:
        return f"{seconds / 60:.0f} min"
    if seconds < 48 * 3600:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} days"
