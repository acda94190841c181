"""PCARN and PCARN-M (Ahn et al., "Photo-realistic cascading residual network").

Entry conv, three cascading blocks joined by 1x1 fusion convs (global cascading), a global
residual ``upsample(o3 + entry)``, an upsampler per scale and an exit conv, between a
subtracted and a re-added RGB mean. Inside each cascading block the same pattern repeats
locally; PCARN-M uses one efficient residual block shared three times per cascading block.
"""
from __future__ import annotations

import torch
from torch import nn

from .layers import EResidualBlock, MeanShift, MULTI_SCALES, ResidualBlock, Upsampler, cascade, check_groups, init_uniform_fan_in


class CascadingBlock(nn.Module):
    """Three residual blocks, each followed by a 1x1 fusion of everything seen so far.

    With ``mobile=True`` the three blocks are one module registered three times (``b2 = b3 =
    b1``): the weights are shared, and the state dict still lists ``b1``/``b2``/``b3`` as the
    authors' checkpoints do.
    """

    def __init__(self, channels: int, mobile: bool, groups: int) -> None:
        super().__init__()
        if mobile:
            self.b1 = EResidualBlock(channels, groups)
            self.b2 = self.b3 = self.b1
        else:
            self.b1 = ResidualBlock(channels)
            self.b2 = ResidualBlock(channels)
            self.b3 = ResidualBlock(channels)
        self.c1 = nn.Conv2d(channels * 2, channels, 1, 1, 0)
        self.c2 = nn.Conv2d(channels * 3, channels, 1, 1, 0)
        self.c3 = nn.Conv2d(channels * 4, channels, 1, 1, 0)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return cascade(x, [self.b1, self.b2, self.b3], [self.c1, self.c2, self.c3])


class PCARN(nn.Module):
    """PCARN (``mobile=False``) or PCARN-M (``mobile=True``) generator.

    ``forward(x, scale)`` takes RGB in [0, 1] (N, 3, H, W) and returns the unclamped SR image.
    """

    def __init__(
        self,
        channels: int = 64,
        groups: int = 4,
        scales: tuple[int, ...] = MULTI_SCALES,
        mobile: bool = True,
    ) -> None:
        super().__init__()
        check_groups(channels, groups)
        self.channels, self.groups, self.scales, self.mobile = channels, groups, tuple(scales), mobile
        self.sub_mean = MeanShift(sub=True)
        self.add_mean = MeanShift(sub=False)
        self.entry = nn.Conv2d(3, channels, 3, 1, 1)
        self.b1 = CascadingBlock(channels, mobile, groups)
        self.b2 = CascadingBlock(channels, mobile, groups)
        self.b3 = CascadingBlock(channels, mobile, groups)
        self.c1 = nn.Conv2d(channels * 2, channels, 1, 1, 0)
        self.c2 = nn.Conv2d(channels * 3, channels, 1, 1, 0)
        self.c3 = nn.Conv2d(channels * 4, channels, 1, 1, 0)
        self.upsample = Upsampler(channels, self.scales, groups)
        self.exit = nn.Conv2d(channels, 3, 3, 1, 1)
        init_uniform_fan_in(self)

    def forward(self, x: torch.Tensor, scale: int) -> torch.Tensor:
        x = self.entry(self.sub_mean(x))
        o3 = cascade(x, [self.b1, self.b2, self.b3], [self.c1, self.c2, self.c3])
        out = self.upsample(o3 + x, scale)
        return self.add_mean(self.exit(out))


def pcarn(channels: int = 64, scales: tuple[int, ...] = MULTI_SCALES, groups: int = 1) -> PCARN:
    """PCARN: plain residual blocks, dense convolutions in the blocks (``groups`` only affects the upsampler)."""
    return PCARN(channels=channels, groups=groups, scales=scales, mobile=False)


def pcarn_m(channels: int = 64, scales: tuple[int, ...] = MULTI_SCALES, groups: int = 4) -> PCARN:
    """PCARN-M: efficient residual blocks with shared weights and ``groups`` group convolutions."""
    return PCARN(channels=channels, groups=groups, scales=scales, mobile=True)
