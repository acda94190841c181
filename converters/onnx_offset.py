"""Moves a per-channel offset in front of a zero-padded convolution into the convolution itself, exactly.

PCARN subtracts the RGB mean before its entry conv: ``conv(pad0(x + c))`` with ``c = -mean``. As
an ADD, int8 re-quantizes the exact 8-bit input onto a new grid (the mean is off the 1/255 grid),
one of the costliest roundings of the network (docs/int8-quality.md). Folding ``c`` into the
bias is wrong at the border: zero padding of ``x + c`` pads ``x`` with ``-c``, not with 0.

Exact instead: ``conv(pad0(x + c)) = conv'(pad0(cat(x, 1)))`` with ``W' = [W, W * c]``, where
``1`` is a tensor of ones like ``x``: zero padding of the ones channels drops the offset's
taps at the border exactly as zero padding of ``x + c`` does. The ones are ``min(max(x, 1), 1)``
(every delegate's MAXIMUM/MINIMUM; 1 for any finite input), so in int8 the conv reads the input
bytes themselves, with no rounding in front of it. The conv gets as many input channels again
(for an RGB entry conv: 3 more, well under 1 % of PCARN-M's Mult-Adds).
"""
from __future__ import annotations

import numpy as np
import onnx
from onnx import helper, numpy_helper

from .onnx_graph import Graph, attr


def _offset(g: Graph, add: onnx.NodeProto) -> tuple[str, np.ndarray] | None:
    """(the offset tensor's other input, the per-channel offset) when ``add`` is ``x + constant``."""
    for i, j in ((0, 1), (1, 0)):
        c = g.init(add.input[j])
        if c is not None and g.init(add.input[i]) is None and c.ndim == 3 and c.shape[1:] == (1, 1):
            return add.input[i], c.reshape(-1)
    return None


def offsets_into_convs(model: onnx.ModelProto) -> int:
    """Rewrites every ``Conv(x + c)`` (c per channel, the conv dense and the sum read by it alone); returns how many."""
    g = Graph(model)
    done = 0
    for add in [n for n in g.graph.node if n.op_type == "Add"]:
        found = _offset(g, add)
        conv = g.sole_consumer(add.output[0])
        if found is None or conv is None or conv.op_type != "Conv" or conv.input[0] != add.output[0]:
            continue
        if attr(conv, "group", 1) != 1:
            continue
        x, c = found
        w = g.init(conv.input[1])
        if w is None or w.shape[1] != c.size:
            continue
        g.own_weights(conv)
        g.set_init(conv.input[1], np.concatenate([w, w * c.reshape(1, -1, 1, 1)], axis=1))
        one = g.unique_name("one")
        model.graph.initializer.append(numpy_helper.from_array(np.array(1.0, np.float32), one))
        at_least, ones, joined = (g.unique_name(f"{add.output[0]}_{s}") for s in ("max", "ones", "with_ones"))
        index = list(g.graph.node).index(add)
        g.graph.node.remove(add)
        for k, node in enumerate([
            helper.make_node("Max", [x, one], [at_least], name=at_least),
            helper.make_node("Min", [at_least, one], [ones], name=ones),
            helper.make_node("Concat", [x, ones], [joined], name=joined, axis=1),
        ]):
            g.graph.node.insert(index + k, node)
        conv.input[0] = joined
        done += 1
    return done
