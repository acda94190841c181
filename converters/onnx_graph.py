"""A small index over an ONNX graph, for the rewrites in ``onnx_shaping`` and ``onnx_subpixel``."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import onnx
from onnx import helper, numpy_helper


@dataclass
class Graph:
    """Index over a graph: initializers by name and consumers per tensor, rebuilt after each edit."""

    model: onnx.ModelProto

    @property
    def graph(self) -> onnx.GraphProto:
        return self.model.graph

    def init(self, name: str) -> np.ndarray | None:
        for t in self.graph.initializer:
            if t.name == name:
                return numpy_helper.to_array(t)
        return None

    def set_init(self, name: str, value: np.ndarray) -> None:
        for i, t in enumerate(self.graph.initializer):
            if t.name == name:
                self.graph.initializer[i].CopyFrom(numpy_helper.from_array(value.astype(np.float32), name))
                return
        self.graph.initializer.append(numpy_helper.from_array(value.astype(np.float32), name))

    def consumers(self, tensor: str) -> list[onnx.NodeProto]:
        return [n for n in self.graph.node if tensor in n.input]

    def is_graph_output(self, tensor: str) -> bool:
        return any(o.name == tensor for o in self.graph.output)

    def sole_consumer(self, tensor: str) -> onnx.NodeProto | None:
        users = self.consumers(tensor)
        return users[0] if len(users) == 1 and not self.is_graph_output(tensor) else None

    def producer(self, tensor: str) -> onnx.NodeProto | None:
        for n in self.graph.node:
            if tensor in n.output:
                return n
        return None

    def own_weights(self, conv: onnx.NodeProto) -> None:
        """Gives a convolution private copies of its weight and bias before they are edited.

        Shared-weight networks (PCARN-M reuses one block three times) export one initializer used by
        several convolutions; editing it in place for one would silently change the others.
        """
        for slot, name in enumerate(conv.input[1:3], start=1):
            if sum(name in n.input for n in self.graph.node) > 1:
                fresh = self.unique_name(f"{name}_own")
                self.set_init(fresh, self.init(name))
                conv.input[slot] = fresh

    def is_plain_1x1(self, node: onnx.NodeProto | None) -> bool:
        """A dense 1x1 Conv with stride 1, no padding and a weight initializer: a per-pixel matrix."""
        if node is None or node.op_type != "Conv" or attr(node, "group", 1) != 1:
            return False
        w = self.init(node.input[1])
        return (w is not None and w.ndim == 4 and w.shape[2:] == (1, 1)
                and all(p == 0 for p in attr(node, "pads", [0, 0, 0, 0]))
                and all(s == 1 for s in attr(node, "strides", [1, 1])))

    def unique_name(self, base: str) -> str:
        taken = {t.name for t in self.graph.initializer} | {o for n in self.graph.node for o in n.output}
        taken |= {n.name for n in self.graph.node}
        name, k = base, 0
        while name in taken:
            k += 1
            name = f"{base}_{k}"
        return name


def attr(node: onnx.NodeProto, name: str, default=None):
    for a in node.attribute:
        if a.name == name:
            return helper.get_attribute_value(a)
    return default


def set_attr(node: onnx.NodeProto, name: str, value) -> None:
    for i, a in enumerate(node.attribute):
        if a.name == name:
            del node.attribute[i]
            break
    node.attribute.append(helper.make_attribute(name, value))
