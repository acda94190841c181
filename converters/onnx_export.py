"""PyTorch -> ONNX for image-to-image networks: one input, one output, static or dynamic H/W.

The graph is exported with the TorchScript exporter (exact, no decomposition surprises for
convolutions and pixel shuffles), reshaped by :mod:`converters.onnx_shaping` so that onnx2tf
writes a delegate-ready TFLite graph, and checked with ``onnx.checker`` before it is written.
"""
from __future__ import annotations

import io
import os
import warnings
from pathlib import Path

import onnx
import torch
from torch import nn

from . import INPUT_NAME, OUTPUT_NAME
from .onnx_shaping import shape_for_tflite

#: Lowest opset written; 17 is the first with every op used here in its current form.
MIN_OPSET = 17

#: Spatial size traced when the exported model is dynamic (any size works; small is fast).
_TRACE_SIZE = (32, 32)


def export_onnx(
    module: nn.Module,
    path: str | os.PathLike[str] | None = None,
    input_size: tuple[int, int] | None = None,
    opset: int = MIN_OPSET,
    expand_groups: bool = False,
) -> tuple[onnx.ModelProto, dict[str, int]]:
    """Exports ``module`` (N=1, 3-channel NCHW in, NCHW out) and returns (model, shaping stats).

    Input and output are named :data:`~converters.INPUT_NAME` / :data:`~converters.OUTPUT_NAME`.
    ``input_size`` None gives dynamic height and width (``height``/``width`` in,
    ``out_height``/``out_width`` out). The model is written to ``path`` when given.
    """
    if opset < MIN_OPSET:
        raise ValueError(f"opset {opset} is below {MIN_OPSET}")
    h, w = input_size or _TRACE_SIZE
    dynamic_axes = None
    if input_size is None:
        dynamic_axes = {INPUT_NAME: {2: "height", 3: "width"}, OUTPUT_NAME: {2: "out_height", 3: "out_width"}}
    buffer = io.BytesIO()
    module = module.eval()
    with torch.no_grad(), warnings.catch_warnings():
        # The TorchScript exporter is deprecated in favour of torch.export, which decomposes
        # PixelShuffle into Reshape/Transpose; the TorchScript one keeps DepthToSpace.
        warnings.simplefilter("ignore")
        torch.onnx.export(
            module,
            (torch.zeros(1, 3, h, w),),
            buffer,
            input_names=[INPUT_NAME],
            output_names=[OUTPUT_NAME],
            opset_version=opset,
            dynamic_axes=dynamic_axes,
            dynamo=False,
        )
    model = onnx.load_from_string(buffer.getvalue())
    stats = shape_for_tflite(model, expand_groups=expand_groups)
    onnx.checker.check_model(model, full_check=True)
    if path is not None:
        Path(path).write_bytes(model.SerializeToString())
    return model, stats
