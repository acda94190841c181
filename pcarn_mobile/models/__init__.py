"""Model zoo: one builder per architecture, plus the deployment wrapper every exporter receives."""
from __future__ import annotations

from typing import Callable

import torch
from torch import nn

from ..archinfo import ARCH_NAMES, VALID_GROUPS
from .carn import CARNM, carn_m
from .layers import MULTI_SCALES, RGB_MEAN
from .pcarn import PCARN, pcarn, pcarn_m

#: Architecture name -> builder(channels, scales, groups); the names are listed (torch-free) in archinfo.
ARCHITECTURES: dict[str, Callable[..., nn.Module]] = dict(zip(ARCH_NAMES, (pcarn, pcarn_m, carn_m), strict=True))


def build_model(
    arch: str = "pcarn_m", groups: int = 4, scales: tuple[int, ...] = MULTI_SCALES, channels: int = 64
) -> nn.Module:
    """Builds an architecture by name; raises ``ValueError`` with a user-facing message on bad options."""
    if arch not in ARCHITECTURES:
        raise ValueError(f"unknown architecture {arch!r}; choose one of {', '.join(ARCHITECTURES)}")
    return ARCHITECTURES[arch](channels=channels, scales=tuple(scales), groups=groups)


class SRDeploy(nn.Module):
    """One fixed scale, RGB in [0, 1] in, RGB clamped to [0, 1] out: what every exporter receives."""

    def __init__(self, model: nn.Module, scale: int) -> None:
        super().__init__()
        if scale not in model.scales:
            raise ValueError(f"scale x{scale} is not in the model's scales {model.scales}")
        self.model = model
        self.scale = scale

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.clamp(self.model(x, self.scale), 0.0, 1.0)


__all__ = [
    "ARCHITECTURES", "CARNM", "MULTI_SCALES", "PCARN", "RGB_MEAN", "SRDeploy", "VALID_GROUPS",
    "build_model", "carn_m", "pcarn", "pcarn_m",
]
