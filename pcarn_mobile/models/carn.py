"""CARN-M (Ahn et al., ECCV 2018), the predecessor of PCARN-M.

Same cascading layout as PCARN-M, with two differences that matter for quality: a ReLU after
every 1x1 fusion conv, and no global residual (the upsampler sees ``o3`` alone). Module names
(``body.N``) follow the authors' CARN code so that ``carn_m.pth`` loads strictly.
"""
from __future__ import annotations

import torch
from torch import nn

from .layers import MeanShift, MULTI_SCALES, Upsampler, cascade, check_groups, init_uniform_fan_in


class _ConvReLU(nn.Module):
    """1x1 fusion conv followed by ReLU, stored as ``body.0`` like CARN's ``BasicBlock``."""

    def __init__(self, in_channels: int, out_channels: int) -> None:
        super().__init__()
        self.body = nn.Sequential(nn.Conv2d(in_channels, out_channels, 1, 1, 0), nn.ReLU(inplace=True))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x)


class _EResidualBlock(nn.Module):
    """CARN's efficient residual block, stored as ``body.0/2/4``; same computation as PCARN-M's."""

    def __init__(self, channels: int, groups: int) -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(channels, channels, 3, 1, 1, groups=groups),
            nn.ReLU(inplace=True),
            nn.Conv2d(channels, channels, 3, 1, 1, groups=groups),
            nn.ReLU(inplace=True),
            nn.Conv2d(channels, channels, 1, 1, 0),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.relu(self.body(x) + x)


class _CascadingBlock(nn.Module):
    """One shared efficient residual block applied three times, ReLU-ed 1x1 fusion after each."""

    def __init__(self, channels: int, groups: int) -> None:
        super().__init__()
        self.b1 = _EResidualBlock(channels, groups)
        self.c1 = _ConvReLU(channels * 2, channels)
        self.c2 = _ConvReLU(channels * 3, channels)
        self.c3 = _ConvReLU(channels * 4, channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return cascade(x, [self.b1, self.b1, self.b1], [self.c1, self.c2, self.c3])


class CARNM(nn.Module):
    """CARN-M generator; ``forward(x, scale)`` as in :class:`~pcarn_mobile.models.pcarn.PCARN`."""

    def __init__(self, channels: int = 64, groups: int = 4, scales: tuple[int, ...] = MULTI_SCALES) -> None:
        super().__init__()
        check_groups(channels, groups)
        self.channels, self.groups, self.scales = channels, groups, tuple(scales)
        self.sub_mean = MeanShift(sub=True)
        self.add_mean = MeanShift(sub=False)
        self.entry = nn.Conv2d(3, channels, 3, 1, 1)
        self.b1 = _CascadingBlock(channels, groups)
        self.b2 = _CascadingBlock(channels, groups)
        self.b3 = _CascadingBlock(channels, groups)
        self.c1 = _ConvReLU(channels * 2, channels)
        self.c2 = _ConvReLU(channels * 3, channels)
        self.c3 = _ConvReLU(channels * 4, channels)
        self.upsample = Upsampler(channels, self.scales, groups)
        self.exit = nn.Conv2d(channels, 3, 3, 1, 1)
        init_uniform_fan_in(self)

    def forward(self, x: torch.Tensor, scale: int) -> torch.Tensor:
        x = self.entry(self.sub_mean(x))
        o3 = cascade(x, [self.b1, self.b2, self.b3], [self.c1, self.c2, self.c3])
        return self.add_mean(self.exit(self.upsample(o3, scale)))


def carn_m(channels: int = 64, scales: tuple[int, ...] = MULTI_SCALES, groups: int = 4) -> CARNM:
    """CARN-M with ``groups`` group convolutions (the released weights use 4)."""
    return CARNM(channels=channels, groups=groups, scales=scales)
