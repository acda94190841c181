"""The network's stages, as every per-stage figure names them: which stage each convolution belongs to.

The stages are the network's own modules in execution order: ``entry``, the cascading blocks
``b1``..``b3`` with the global fusion convs ``c1``..``c3`` between them, one ``upsample.N`` per
upsampler stage (two at x4) and ``exit``. The k-th convolution an exported file runs is the k-th
one PyTorch calls, so :func:`conv_calls` names the stage of every convolution of a file: the
latency harness's ``--stages`` and the int8 sensitivity report both rely on it.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class ConvCall:
    """One convolution PyTorch calls, in call order: its stage and what a runtime's copy must look like."""

    stage: str
    out_channels: int
    kernel: tuple[int, int]


def stage_of(path: str) -> str | None:
    """Module path -> stage (``b1.b1.conv1`` -> ``b1``, ``upsample.up4.body.3`` -> ``upsample.2``);
    None for the mean shifts, which exporters fold into a neighbour (their time follows that rule)."""
    parts = path.split(".")
    if parts[0] in ("sub_mean", "add_mean"):
        return None
    if parts[0] == "upsample":
        return f"upsample.{int(parts[parts.index('body') + 1]) // 3 + 1}"
    return parts[0]


def conv_calls(network: Any, scale: int) -> list[ConvCall]:
    """The convolutions of ``network(x, scale)`` in call order (shared blocks once per use), mean shifts
    left out; from one pass on PyTorch's ``meta`` device, so no arithmetic is done."""
    import torch
    from torch import nn

    meta = copy.deepcopy(network).to("meta")
    names = {module: name for name, module in meta.named_modules()}
    called: list[nn.Conv2d] = []
    hooks = [m.register_forward_pre_hook(lambda module, _: called.append(module))
             for m in meta.modules() if isinstance(m, nn.Conv2d)]
    try:
        with torch.no_grad():
            meta(torch.empty((1, 3, 16, 16), device="meta"), scale)
    finally:
        for hook in hooks:
            hook.remove()
    return [ConvCall(stage, m.out_channels, tuple(m.kernel_size))  # type: ignore[arg-type]
            for m in called if (stage := stage_of(names[m])) is not None]
