"""An exponential moving average of the generator's weights: the weights a run validates and ships.

Small batches on a small machine make the raw weights noisy from step to step; their average
over the last ~1/(1-decay) steps scores higher and more steadily, for free (the optimizer
never sees it, so the training trajectory is unchanged and ``--ema`` may be switched on or
changed on ``--resume``). Built on ``torch.optim.swa_utils.AveragedModel`` with the warm-up of
TensorFlow's ``ExponentialMovingAverage(num_updates=...)``: the decay is
``min(decay, (1 + n) / (10 + n))``, so a short run's average is not dominated by its
initialisation.
"""
from __future__ import annotations

from typing import Any, Callable

import torch
from torch import nn
from torch.optim.swa_utils import AveragedModel


def _warmed_ema(decay: float) -> Callable[[list[torch.Tensor], list[torch.Tensor], Any], None]:
    def update(averaged: list[torch.Tensor], current: list[torch.Tensor], num_averaged: Any) -> None:
        n = float(num_averaged)
        weight = 1.0 - min(decay, (1.0 + n) / (10.0 + n))
        for a, c in zip(averaged, current):
            a.lerp_(c, weight)

    return update


class WeightEMA:
    """``update()`` after each optimizer step; ``module`` is the averaged network."""

    def __init__(self, model: nn.Module, decay: float) -> None:
        if not 0.0 < decay < 1.0:
            raise ValueError(f"EMA decay must be in (0, 1), got {decay}")
        self.source = model
        self.averaged = AveragedModel(model, multi_avg_fn=_warmed_ema(decay), use_buffers=True)

    @property
    def module(self) -> nn.Module:
        return self.averaged.module

    @torch.no_grad()
    def update(self) -> None:
        self.averaged.update_parameters(self.source)

    def state_dict(self) -> dict[str, torch.Tensor]:
        return self.averaged.state_dict()

    def load_state_dict(self, state: dict[str, torch.Tensor]) -> None:
        self.averaged.load_state_dict(state)
