"""Layers shared by the CARN family: mean shift, residual blocks, upsamplers, initialisation.

Module and attribute names follow the authors' code so that their released state dicts load
strictly (every key, every shape) without renaming.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

#: RGB mean of DIV2K used by the authors; subtracted at the entry and added back at the exit.
RGB_MEAN: tuple[float, float, float] = (0.4488, 0.4371, 0.4040)

#: Scales the multi-scale upsampler provides.
MULTI_SCALES: tuple[int, ...] = (2, 3, 4)


def check_groups(channels: int, groups: int) -> None:
    """The one group-count check: grouped convolutions need ``groups`` to divide the channel count."""
    if groups < 1 or channels % groups:
        raise ValueError(f"groups={groups} must divide the channel count {channels}")


def cascade(x: torch.Tensor, blocks: list[nn.Module], fusions: list[nn.Module]) -> torch.Tensor:
    """The cascading pattern, local and global: after each block, fuse everything seen so far.

    ``c_i = cat(c_{i-1}, block_i(o_{i-1}))`` and ``o_i = fusion_i(c_i)``, starting from
    ``c_0 = o_0 = x``; returns the last ``o``. The fusions are 1x1 convs (with a ReLU in CARN).
    """
    c = o = x
    for block, fusion in zip(blocks, fusions):
        c = torch.cat([c, block(o)], dim=1)
        o = fusion(c)
    return o


class MeanShift(nn.Module):
    """Adds or subtracts the dataset mean with a frozen 1x1 convolution.

    A convolution rather than a plain constant because the upstream checkpoints store it as
    ``shifter.weight``/``shifter.bias`` (identity and +-mean) and count it in the 414,811
    parameters the paper reports.
    """

    def __init__(self, mean_rgb: tuple[float, float, float] = RGB_MEAN, sub: bool = True) -> None:
        super().__init__()
        sign = -1.0 if sub else 1.0
        self.shifter = nn.Conv2d(3, 3, 1, 1, 0)
        with torch.no_grad():
            self.shifter.weight.copy_(torch.eye(3).view(3, 3, 1, 1))
            self.shifter.bias.copy_(torch.tensor([sign * m for m in mean_rgb]))
        for p in self.shifter.parameters():
            p.requires_grad = False

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.shifter(x)


class ResidualBlock(nn.Module):
    """PCARN's plain residual block: conv3x3, ReLU, conv3x3, + input, ReLU."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(channels, channels, 3, 1, 1)
        self.conv2 = nn.Conv2d(channels, channels, 3, 1, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = F.relu(self.conv1(x))
        return F.relu(self.conv2(out) + x)


class EResidualBlock(nn.Module):
    """Efficient residual block of the mobile variants.

    Group conv3x3, ReLU, group conv3x3, ReLU, dense conv1x1, + input, ReLU. The 1x1 conv mixes
    information across the groups, which is what lets the group count go up cheaply.
    """

    def __init__(self, channels: int, groups: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(channels, channels, 3, 1, 1, groups=groups)
        self.conv2 = nn.Conv2d(channels, channels, 3, 1, 1, groups=groups)
        self.pw = nn.Conv2d(channels, channels, 1, 1, 0)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = F.relu(self.conv1(x))
        out = F.relu(self.conv2(out))
        return F.relu(self.pw(out) + x)


class UpsampleStage(nn.Module):
    """Grouped conv3x3 to ``channels * r * r``, ReLU, pixel shuffle; x4 and x8 chain x2 stages.

    ``body`` is a flat ``ModuleList`` (conv, ReLU, shuffle, conv, ...) so that the conv keys are
    ``body.0`` and ``body.3`` exactly as in the released checkpoints.
    """

    def __init__(self, channels: int, scale: int, groups: int) -> None:
        super().__init__()
        if scale in (2, 4, 8):
            factors = [2] * int(math.log2(scale))
        elif scale == 3:
            factors = [3]
        else:
            raise ValueError(f"unsupported scale {scale}: use 2, 3, 4 or 8")
        self.body = nn.ModuleList()
        for r in factors:
            self.body.append(nn.Conv2d(channels, channels * r * r, 3, 1, 1, groups=groups))
            self.body.append(nn.ReLU(inplace=True))
            self.body.append(nn.PixelShuffle(r))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for layer in self.body:
            x = layer(x)
        return x


class Upsampler(nn.Module):
    """One upsampling stage per scale (``up2``/``up3``/``up4``) or a single one (``up``)."""

    def __init__(self, channels: int, scales: tuple[int, ...], groups: int) -> None:
        super().__init__()
        self.scales = tuple(scales)
        if len(self.scales) == 1:
            self.up = UpsampleStage(channels, self.scales[0], groups)
        else:
            for s in self.scales:
                self.add_module(f"up{s}", UpsampleStage(channels, s, groups))

    def forward(self, x: torch.Tensor, scale: int) -> torch.Tensor:
        if scale not in self.scales:
            raise ValueError(f"scale {scale} not in this network's scales {self.scales}")
        if len(self.scales) == 1:
            return self.up(x)
        return getattr(self, f"up{scale}")(x)


def init_uniform_fan_in(model: nn.Module) -> None:
    """Uniform in +-sqrt(1/fan_in) for every trainable conv weight and bias (paper, Table 3).

    The frozen mean-shift convolutions keep their identity weights.
    """
    for m in model.modules():
        if isinstance(m, nn.Conv2d) and m.weight.requires_grad:
            fan_in = m.weight.shape[1] * m.weight.shape[2] * m.weight.shape[3]
            bound = math.sqrt(1.0 / fan_in)
            nn.init.uniform_(m.weight, -bound, bound)
            if m.bias is not None:
                nn.init.uniform_(m.bias, -bound, bound)
