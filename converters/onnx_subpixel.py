"""The exit convolution moved before the last pixel shuffle: a sub-pixel convolution (exact).

PCARN's last ops are ``conv3x3(64 -> 3)`` on the pixel-shuffled features at full output
resolution. In TFLite that is the slowest stage per Mult-Add of the network: three output
channels leave XNNPACK's GEMM kernels mostly idle, and before it the grouped upsampler's
depth-to-space needs a SPLIT, one DEPTH_TO_SPACE per group and a CONCATENATION of 64 channels at
full resolution (``onnx_shaping.crd_to_dcr``), all memory traffic.

A 3x3 convolution after a depth-to-space of block ``r`` equals a 3x3 convolution before it, on
the low-resolution tensor, with ``3 r^2`` outputs (one per output channel and sub-pixel
position), followed by a depth-to-space of the 3-channel result: an output pixel at sub-position
``(i, j)`` reads input offsets ``i + dy`` for ``dy`` in -1..1, which fall in the low-resolution
neighbours -1..1 of its own pixel. Zero padding matches too (a pixel outside the image is
outside at both resolutions). The rewritten convolution is dense, so the depth-to-space after it
is a single DCR op with no SPLIT or CONCATENATION, and the 64-channel full-resolution tensor is
never built. It costs ``r^2`` times the exit conv's Mult-Adds, so it is applied for ``r = 2``
only (x2, and x4's last stage), where it pays (figures in benchmarks/RESULTS.md).
"""
from __future__ import annotations

import numpy as np
import onnx
from onnx import helper

from .onnx_graph import Graph, attr

#: Block sizes of the last depth-to-space for which the rewrite is applied.
SUBPIXEL_BLOCKS = (2,)


def subpixel_weights(weight: np.ndarray, bias: np.ndarray, r: int) -> tuple[np.ndarray, np.ndarray]:
    """Weights (O r^2, C r^2, 3, 3) and bias of the low-resolution twin of a 3x3 conv (O, C, 3, 3).

    Channels are in CRD order on both sides, as PyTorch's pixel shuffle has them: input channel
    ``c r^2 + I r + J`` is feature ``c`` at sub-position ``(I, J)``; output ``o r^2 + i r + j`` likewise.
    """
    out_ch, in_ch = weight.shape[:2]
    twin = np.zeros((out_ch * r * r, in_ch * r * r, 3, 3), np.float64)
    for i in range(r):
        for j in range(r):
            for dy in (-1, 0, 1):
                ky, row = divmod(i + dy, r)
                for dx in (-1, 0, 1):
                    kx, col = divmod(j + dx, r)
                    twin[i * r + j :: r * r, row * r + col :: r * r, ky + 1, kx + 1] += weight[:, :, dy + 1, dx + 1]
    return twin.astype(np.float32), np.repeat(bias, r * r).astype(np.float32)


def _is_plain_3x3(conv: onnx.NodeProto) -> bool:
    return (list(attr(conv, "kernel_shape", [3, 3])) == [3, 3] and int(attr(conv, "group", 1)) == 1
            and list(attr(conv, "strides", [1, 1])) == [1, 1] and list(attr(conv, "dilations", [1, 1])) == [1, 1]
            and list(attr(conv, "pads", [0, 0, 0, 0])) == [1, 1, 1, 1])


def subpixel_exit(model: onnx.ModelProto) -> int:
    """Rewrites every ``CRD DepthToSpace(r) -> Conv3x3`` with r in :data:`SUBPIXEL_BLOCKS`; returns the count."""
    g = Graph(model)
    count = 0
    for d2s in list(g.graph.node):
        if d2s.op_type != "DepthToSpace" or attr(d2s, "mode", b"DCR") not in (b"CRD", "CRD"):
            continue
        r = int(attr(d2s, "blocksize"))
        conv = g.sole_consumer(d2s.output[0])
        if r not in SUBPIXEL_BLOCKS or conv is None or conv.op_type != "Conv" or not _is_plain_3x3(conv):
            continue
        weight = g.init(conv.input[1])
        if weight is None:
            continue
        bias = g.init(conv.input[2]) if len(conv.input) > 2 and conv.input[2] else np.zeros(weight.shape[0], np.float32)
        twin_w, twin_b = subpixel_weights(weight.astype(np.float64), bias, r)
        w_name, b_name = g.unique_name(f"{conv.input[1]}_subpixel"), g.unique_name(f"{conv.input[1]}_subpixel_bias")
        g.set_init(w_name, twin_w)
        g.set_init(b_name, twin_b)
        low = g.unique_name(f"{conv.output[0]}_subpixel")
        twin = helper.make_node("Conv", [d2s.input[0], w_name, b_name], [low], kernel_shape=[3, 3], pads=[1, 1, 1, 1],
                                name=g.unique_name(f"{conv.name or 'conv'}_subpixel"))
        shuffle = helper.make_node("DepthToSpace", [low], [conv.output[0]], blocksize=r, mode="CRD",
                                   name=g.unique_name(f"{d2s.name or 'depth_to_space'}_after"))
        index = list(g.graph.node).index(d2s)
        g.graph.node.remove(d2s)
        g.graph.node.remove(conv)
        g.graph.node.insert(index, twin)
        g.graph.node.insert(index + 1, shuffle)
        count += 1
    return count
