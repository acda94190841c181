"""The one interface every artifact runner offers, so evaluation and parity code is shared.

A runner wraps an exported model (PyTorch, ONNX, TFLite, Core ML) and hides its layout, dtype
and quantization: callers always pass float32 NCHW RGB in [0, 1] and get the same back.
"""
from __future__ import annotations

from typing import Protocol

import numpy as np


class Runner(Protocol):
    """An SR model that maps (1, 3, h, w) float32 in [0, 1] to (1, 3, s*h, s*w) float32."""

    #: Upscaling factor of the artifact.
    scale: int
    #: (H, W) the artifact accepts, or None when it accepts any size (dynamic shapes).
    input_size: tuple[int, int] | None

    def __call__(self, x: np.ndarray) -> np.ndarray:
        ...
