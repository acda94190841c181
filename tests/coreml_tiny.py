"""A tiny x3 network for Core ML tests: converts in a second, has one compressible weight tensor."""
from __future__ import annotations

import torch


class TinyX3(torch.nn.Module):
    """Conv, ReLU, conv to 27 channels, pixel shuffle x3, + 0.5: 15,552 weights in the second conv
    (above coremltools.optimize's 2,048-value threshold, so the compression variants touch it)."""

    scales = (3,)

    def __init__(self) -> None:
        super().__init__()
        self.head = torch.nn.Conv2d(3, 64, 3, padding=1)
        self.tail = torch.nn.Conv2d(64, 27, 3, padding=1)

    def forward(self, x: torch.Tensor, scale: int = 3) -> torch.Tensor:
        return torch.nn.functional.pixel_shuffle(self.tail(torch.relu(self.head(x))), 3) + 0.5
