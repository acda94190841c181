"""Parameter and Mult-Add counts, by the convention SR papers (CARN, PCARN) report them.

Mult-Adds count convolution multiply-adds only: ``output elements x in_channels/groups x kH x
kW`` per conv call, biases, activations and pixel shuffles ignored; a conv whose weights are
shared is counted at every use. The paper's figure is for one image whose SR output is
1280x720, through the path of that one scale. Counting works on any ``nn.Module`` with forward
hooks on ``Conv2d`` and runs on PyTorch's ``meta`` device, so no arithmetic is done and a
1280x720 count costs milliseconds; the converters reuse it to price graph rewrites such as
expanding grouped convs.
"""
from __future__ import annotations

import copy
import math
from typing import Any

import torch
from torch import nn

#: (height, width) of the SR output the paper's Mult-Adds refer to.
PAPER_OUTPUT_HW: tuple[int, int] = (720, 1280)


def count_parameters(module: nn.Module) -> int:
    """All parameters, frozen ones (the mean shift) included, each shared tensor once."""
    return sum(p.numel() for p in module.parameters())


def count_mult_adds(module: nn.Module, input_shape: tuple[int, ...], *args: Any) -> int:
    """Conv multiply-adds of ``module(torch.empty(input_shape), *args)``, batch included.

    The module is copied to the meta device; the original is untouched.
    """
    meta = copy.deepcopy(module).to("meta")
    total = 0

    def hook(conv: nn.Conv2d, _inputs: tuple[torch.Tensor, ...], out: torch.Tensor) -> None:
        nonlocal total
        kh, kw = conv.kernel_size
        total += out.numel() * (conv.in_channels // conv.groups) * kh * kw

    handles = [m.register_forward_hook(hook) for m in meta.modules() if isinstance(m, nn.Conv2d)]
    try:
        with torch.no_grad():
            meta(torch.empty(input_shape, device="meta"), *args)
    finally:
        for handle in handles:
            handle.remove()
    return total


def paper_input_hw(scale: int, output_hw: tuple[int, int] = PAPER_OUTPUT_HW) -> tuple[int, int]:
    """LR size whose x``scale`` output is ``output_hw`` (rounded up when it does not divide, as for x3)."""
    return math.ceil(output_hw[0] / scale), math.ceil(output_hw[1] / scale)


def sr_mult_adds(model: nn.Module, scale: int, output_hw: tuple[int, int] = PAPER_OUTPUT_HW) -> int:
    """Mult-Adds of a multi-scale SR ``model(x, scale)`` for one image with the paper's output size."""
    h, w = paper_input_hw(scale, output_hw)
    return count_mult_adds(model, (1, 3, h, w), scale)
