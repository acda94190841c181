"""A run's options, and the two recipes whose values the CLI's defaults come from.

``cpu`` suits short runs on a small machine: small batches and patches, a high learning rate
halved often. ``paper`` is the PCARN paper's stage one (batch 64, 48px LR patches, lr 1e-4
halved every 400k steps, 600k steps, no weight averaging) and its GAN stage. The cpu recipe
validates and ships an exponential moving average of the weights (:mod:`.ema`), which small
batches need more than the paper's batch of 64 does. Any flag given explicitly wins over the
recipe. The learning-rate schedule depends only on the step (``lr * gamma ** (step //
decay_every)``), never on ``--steps``, so a run can be extended with ``--resume --steps N``
and stays identical to one that had been given N from the start. ``--decay-every`` and
``--gamma`` may be changed on ``--resume`` (a run's budget is often only known once it is
running); the change applies from the resumed step and is recorded in ``schedule_history``.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

#: Recipe name -> stage -> option defaults.
RECIPES: dict[str, dict[str, dict[str, Any]]] = {
    "cpu": {
        "l1": dict(steps=20_000, batch=16, patch=32, lr=5e-4, decay_every=5_000, gamma=0.5, ema=0.999),
        "gan": dict(steps=5_000, batch=8, patch=32, lr=1e-4, decay_every=2_500, gamma=0.5, ema=0.999),
        "qat": dict(steps=300, batch=16, patch=32, lr=5e-5, decay_every=100, gamma=0.5, ema=0.0),
    },
    "paper": {
        "l1": dict(steps=600_000, batch=64, patch=48, lr=1e-4, decay_every=400_000, gamma=0.5, ema=0.0),
        "gan": dict(steps=600_000, batch=64, patch=48, lr=1e-4, decay_every=400_000, gamma=0.5, ema=0.0),
        "qat": dict(steps=1_000, batch=64, patch=48, lr=2e-5, decay_every=400, gamma=0.5, ema=0.0),
    },
}

#: Options that define what is being trained; a --resume that changes one is refused.
FIXED_ON_RESUME: tuple[str, ...] = (
    "stage", "arch", "groups", "scales", "channels", "batch", "patch", "lr", "clip", "seed", "data", "adv_weight", "vgg_weight",
)


@dataclass
class TrainConfig:
    """Everything a run needs, saved inside ``last.pt`` so a resumed run can be checked against it."""

    data: list[str]
    out: str
    stage: str = "l1"
    arch: str = "pcarn_m"
    groups: int = 4
    scales: tuple[int, ...] = (2, 3, 4)
    channels: int = 64
    steps: int = 20_000
    batch: int = 16
    patch: int = 32
    lr: float = 5e-4
    decay_every: int = 5_000
    gamma: float = 0.5
    clip: float = 10.0
    #: Decay of the weight average that is validated and shipped; 0 ships the raw weights.
    ema: float = 0.0
    #: Step from which the average runs (later than 0 when --ema was switched on at a --resume).
    ema_from: int = 0
    seed: int = 0
    threads: int | None = None
    val: str | None = None
    val_scale: int = 4
    val_every: int = 500
    log_every: int = 50
    save_every_min: float = 5.0
    tensorboard: bool = False
    init: str | None = None
    vgg_weights: str | None = None
    adv_weight: float = 1e-3
    vgg_weight: float = 1.0
    #: [step, decay_every, gamma] from which each schedule was in force (changes made on --resume).
    schedule_history: list[list[float]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["scales"] = list(self.scales)
        return d
