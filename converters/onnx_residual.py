"""Folds a residual sum into the 1x1 fusion convolution that already reads the skipped tensor.

CARN-family networks end their global cascade with ``o3 = Conv1x1(cat(x, b1, b2, b3))`` and then
add the skip ``o3 + x``. The concatenation already holds ``x``, so the sum is the same 1x1
convolution with an identity added to the weights of ``x``'s input channels:
``W' = W + [I 0 0 0]``. The rewrite is exact (float rounding aside) and removes one ADD.

It matters most for int8: the residual ADD is the network's widest-range tensor and the one
whose rounding costs most (docs/int8-quality.md, sensitivity report). Folded, the conv writes the
sum straight onto its grid, so the fusion's own output (``o3``, quantized separately before) and
the ADD's requantization become one rounding.
"""
from __future__ import annotations

import numpy as np
import onnx
from onnx import shape_inference

from .onnx_graph import Graph, attr


def _channels(model: onnx.ModelProto) -> dict[str, int]:
    """Static channel count (NCHW axis 1) of every tensor whose shape inference knows it."""
    inferred = shape_inference.infer_shapes(model)
    found: dict[str, int] = {}
    for info in [*inferred.graph.value_info, *inferred.graph.input, *inferred.graph.output]:
        dims = info.type.tensor_type.shape.dim
        if len(dims) == 4 and dims[1].HasField("dim_value"):
            found[info.name] = dims[1].dim_value
    return found


def _channel_sources(g: Graph, tensor: str, channels: dict[str, int], offset: int = 0) -> list[tuple[str, int, int]]:
    """``tensor``'s channels as (source tensor, first channel, count), expanding nested channel Concats."""
    node = g.producer(tensor)
    if node is None or node.op_type != "Concat" or attr(node, "axis") not in (1, -3):
        return [(tensor, offset, channels.get(tensor, -1))]
    sources: list[tuple[str, int, int]] = []
    for part in node.input:
        if part not in channels:
            return [(tensor, offset, channels.get(tensor, -1))]
        sources += _channel_sources(g, part, channels, offset)
        offset += channels[part]
    return sources


def fold_residual_adds(model: onnx.ModelProto) -> int:
    """Rewrites ``Add(Conv1x1(Concat(.., x, ..)), x)`` as one Conv1x1 in place; returns how many it folded."""
    g = Graph(model)
    channels = _channels(model)
    folded = 0
    for add in [n for n in g.graph.node if n.op_type == "Add" and len(n.input) == 2]:
        for fused, skip in (tuple(add.input), tuple(add.input)[::-1]):
            conv = g.producer(fused)
            if not g.is_plain_1x1(conv) or g.sole_consumer(fused) is not add:
                continue
            w = g.init(conv.input[1])
            offsets = [first for source, first, n in _channel_sources(g, conv.input[0], channels)
                       if source == skip and n == w.shape[0]]
            if not offsets:
                continue
            g.own_weights(conv)
            w = g.init(conv.input[1]).copy()
            w[:, offsets[0]:offsets[0] + w.shape[0], 0, 0] += np.eye(w.shape[0], dtype=w.dtype)
            g.set_init(conv.input[1], w)
            conv.output[0] = add.output[0]
            g.graph.node.remove(add)
            folded += 1
            break
    return folded
