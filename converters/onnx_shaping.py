"""Rewrites an exported ONNX graph into the shape onnx2tf turns into a delegate-ready TFLite graph.

A plain onnx2tf run of an SR network with PyTorch's pixel shuffle yields RESHAPE and TRANSPOSE
ops with rank-6 tensors: PyTorch's ``PixelShuffle`` is ONNX ``DepthToSpace`` in CRD order, and
TFLite's ``DEPTH_TO_SPACE`` only knows DCR order. Mobile delegates reject rank-6 tensors, so the
graph is reshaped here, exactly (the same numbers up to float rounding), before onnx2tf sees it:

* CRD depth-to-space becomes DCR by permuting the producing convolution's output channels. A
  grouped convolution only allows a permutation inside each group, so a grouped producer gets
  one SPLIT, one DCR depth-to-space per group and a CONCATENATION: no Mult-Adds, and the
  convolution stays grouped.
* The exit convolution after the last depth-to-space of block 2 moves before it as a sub-pixel
  convolution (``onnx_subpixel``): no full-resolution SPLIT/CONCATENATION, a dense conv instead of
  a 3-output one at full resolution.
* A 1x1 convolution with an identity weight (a frozen mean shift) is folded into the bias of the
  convolution that feeds it, when there is one (exact); otherwise it becomes one ADD. It cannot
  be folded into the bias of a zero-padded convolution that it feeds (the border pixels would
  change); ``onnx_offset`` then gives that convolution the offset as extra input channels of ones.
* A residual sum whose skipped tensor the summed 1x1 fusion conv already reads through a
  concatenation (PCARN's global residual ``c3(cat(x, ..)) + x``) is folded into that conv's
  weights (``onnx_residual``): exact, one ADD fewer, and one rounding fewer in int8.
* Optionally (``expand_groups``) every grouped convolution is written as a dense block-diagonal
  one, for runtimes without grouped-convolution support (the TFLite GPU delegate).
* Node names are made safe for TensorFlow's name scopes (onnx2tf builds a saved model from them).
"""
from __future__ import annotations

import re

import numpy as np
import onnx
from onnx import helper, numpy_helper

from .onnx_graph import Graph, attr, set_attr
from .onnx_offset import offsets_into_convs
from .onnx_residual import fold_residual_adds
from .onnx_subpixel import subpixel_exit

#: Elementwise ops that commute with a permutation of channels; they may sit between a
#: convolution and the depth-to-space it feeds.
_CHANNELWISE_UNARY = frozenset({"Relu", "Clip", "LeakyRelu", "Sigmoid", "Tanh", "HardSigmoid"})


def _bias_of(g: Graph, conv: onnx.NodeProto, out_channels: int) -> np.ndarray:
    if len(conv.input) > 2 and conv.input[2]:
        return g.init(conv.input[2])
    name = g.unique_name(f"{conv.name or 'conv'}_bias")
    conv.input.append(name)
    zeros = np.zeros(out_channels, np.float32)
    g.set_init(name, zeros)
    return zeros


def inline_constants(model: onnx.ModelProto) -> None:
    """Turns Constant nodes and Identity-of-initializer nodes into plain initializers.

    The TorchScript exporter deduplicates equal weights behind an Identity node (both mean-shift
    convs share one identity matrix); the rewrites below need every weight as an initializer.
    """
    g = Graph(model)
    for node in list(g.graph.node):
        if node.op_type == "Constant" and attr(node, "value") is not None:
            value = numpy_helper.to_array(attr(node, "value"))
        elif node.op_type == "Identity" and g.init(node.input[0]) is not None:
            value = g.init(node.input[0])
        else:
            continue
        g.graph.initializer.append(numpy_helper.from_array(value, node.output[0]))
        g.graph.node.remove(node)


def expand_group_convs(model: onnx.ModelProto) -> int:
    """Rewrites every grouped Conv as a dense block-diagonal one; returns how many it rewrote."""
    g = Graph(model)
    count = 0
    expanded: set[str] = set()  # shared weights (PCARN-M reuses a block) are expanded once
    for node in g.graph.node:
        groups = attr(node, "group", 1)
        if node.op_type != "Conv" or groups == 1:
            continue
        set_attr(node, "group", 1)
        count += 1
        if node.input[1] in expanded:
            continue
        expanded.add(node.input[1])
        w = g.init(node.input[1])
        cout, cin_g = w.shape[:2]
        dense = np.zeros((cout, cin_g * groups, *w.shape[2:]), np.float32)
        per_out = cout // groups
        for k in range(groups):
            dense[k * per_out:(k + 1) * per_out, k * cin_g:(k + 1) * cin_g] = w[k * per_out:(k + 1) * per_out]
        g.set_init(node.input[1], dense)
    return count


def _is_identity_1x1(g: Graph, node: onnx.NodeProto) -> bool:
    if not g.is_plain_1x1(node):
        return False
    w = g.init(node.input[1])
    return w.shape[0] == w.shape[1] and bool(np.array_equal(w[:, :, 0, 0], np.eye(w.shape[0], dtype=w.dtype)))


def fold_identity_convs(model: onnx.ModelProto) -> tuple[int, int]:
    """Folds identity-weight 1x1 convs (mean shifts) into the producing conv's bias, else into an ADD.

    Returns (folded, turned into Add).
    """
    g = Graph(model)
    folded = added = 0
    for node in list(g.graph.node):
        if not _is_identity_1x1(g, node):
            continue
        shift = g.init(node.input[2]) if len(node.input) > 2 and node.input[2] else None
        src, dst = node.input[0], node.output[0]
        prev = g.producer(src)
        if prev is not None and prev.op_type == "Conv" and g.sole_consumer(src) is node:
            if shift is not None:
                g.own_weights(prev)
                bias = _bias_of(g, prev, g.init(prev.input[1]).shape[0])
                g.set_init(prev.input[2], bias + shift)
            prev.output[0] = dst
            g.graph.node.remove(node)
            folded += 1
            continue
        index = list(g.graph.node).index(node)
        name = g.unique_name(f"{node.name or 'mean_shift'}_bias")
        vec = shift if shift is not None else np.zeros(g.init(node.input[1]).shape[0], np.float32)
        # Rank 3 (C, 1, 1), not (1, C, 1, 1): onnx2tf transposes a rank-4 constant by guesswork
        # when the spatial size is dynamic and gets it wrong; (C, 1, 1) broadcasts the same in
        # ONNX and converts to a per-channel vector in NHWC.
        g.set_init(name, vec.reshape(-1, 1, 1))
        add = helper.make_node("Add", [src, name], [dst], name=g.unique_name(f"{node.name or 'mean_shift'}_add"))
        g.graph.node.remove(node)
        g.graph.node.insert(index, add)
        added += 1
    return folded, added


def _dcr_permutation(channels_out: int, r: int) -> np.ndarray:
    """Index array ``p`` with ``dcr[j] = crd[p[j]]`` for one depth-to-space of ``channels_out*r*r`` channels."""
    c, ij = np.meshgrid(np.arange(channels_out), np.arange(r * r), indexing="xy")
    # DCR position (ij * C + c) takes the CRD channel (c * r*r + ij).
    return (c * r * r + ij).reshape(-1)


def _equal_split(model: onnx.ModelProto, tensor: str, parts: list[str], name: str) -> onnx.NodeProto:
    """A channel Split into equal parts, written WITHOUT explicit sizes.

    onnx2tf turns a Split with a sizes tensor into STRIDED_SLICE ops (to avoid FlexSplitV); an
    equal split given only by its output count becomes one TFLite SPLIT, which delegates take.
    """
    opset = max((o.version for o in model.opset_import if o.domain in ("", "ai.onnx")), default=17)
    extra = {"num_outputs": len(parts)} if opset >= 18 else {}
    return helper.make_node("Split", [tensor], parts, axis=1, name=name, **extra)


#: Most operands of one SPLIT or CONCATENATION: XNNPACK delegates even splits into 2 to 4 and
#: concatenations of 2 to 5, so the per-group ones of more than 4 groups are written as trees
#: (exact; without it a file of 8 to 64 groups runs in three partitions with these ops on the CPU).
MAX_OPERANDS = 4


def _ways(n: int) -> int:
    return MAX_OPERANDS if n % MAX_OPERANDS == 0 else 2


def _split_tree(model: onnx.ModelProto, g: Graph, tensor: str, parts: list[str], base: str) -> list[onnx.NodeProto]:
    """``tensor`` split equally into ``parts`` (channel order kept) by splits of at most MAX_OPERANDS outputs."""
    if len(parts) <= MAX_OPERANDS:
        return [_equal_split(model, tensor, parts, g.unique_name(f"{base}_split"))]
    ways = _ways(len(parts))
    chunk = len(parts) // ways
    mids = [g.unique_name(f"{base}_chunk{i}") for i in range(ways)]
    nodes = [_equal_split(model, tensor, mids, g.unique_name(f"{base}_split"))]
    for i, mid in enumerate(mids):
        nodes += _split_tree(model, g, mid, parts[i * chunk:(i + 1) * chunk], mid)
    return nodes


def _concat_tree(g: Graph, inputs: list[str], output: str, base: str) -> list[onnx.NodeProto]:
    """``inputs`` concatenated along channels into ``output`` by concatenations of at most MAX_OPERANDS inputs."""
    if len(inputs) <= MAX_OPERANDS:
        return [helper.make_node("Concat", inputs, [output], axis=1, name=g.unique_name(f"{base}_concat"))]
    ways = _ways(len(inputs))
    chunk = len(inputs) // ways
    mids = [g.unique_name(f"{base}_cat{i}") for i in range(ways)]
    nodes = []
    for i, mid in enumerate(mids):
        nodes += _concat_tree(g, inputs[i * chunk:(i + 1) * chunk], mid, mid)
    return nodes + [helper.make_node("Concat", mids, [output], axis=1, name=g.unique_name(f"{base}_concat"))]


def crd_to_dcr(model: onnx.ModelProto) -> int:
    """Turns every CRD DepthToSpace fed (through channelwise ops) by a Conv into DCR; returns the count.

    A CRD DepthToSpace without a convolution to absorb the permutation is left as it is; the
    caller's op check then names it.
    """
    g = Graph(model)
    count = 0
    for d2s in list(g.graph.node):
        if d2s.op_type != "DepthToSpace" or attr(d2s, "mode", b"DCR") not in (b"CRD", "CRD"):
            continue
        chain = []
        tensor = d2s.input[0]
        conv = None
        while True:
            prev = g.producer(tensor)
            if prev is None or g.sole_consumer(tensor) is None:
                break
            if prev.op_type == "Conv":
                conv = prev
                break
            if prev.op_type not in _CHANNELWISE_UNARY:
                break
            chain.append(prev)
            tensor = prev.input[0]
        if conv is None:
            continue
        r = int(attr(d2s, "blocksize"))
        groups = int(attr(conv, "group", 1))
        g.own_weights(conv)
        w = g.init(conv.input[1])
        b = _bias_of(g, conv, w.shape[0])
        per_group = w.shape[0] // groups
        if per_group % (r * r):
            continue  # a group does not hold whole pixel-shuffle blocks: nothing exact to do
        local = _dcr_permutation(per_group // (r * r), r)
        perm = np.concatenate([k * per_group + local for k in range(groups)])
        g.set_init(conv.input[1], w[perm])
        g.set_init(conv.input[2], b[perm])
        set_attr(d2s, "mode", "DCR")
        count += 1
        if groups == 1:
            continue
        # One depth-to-space per group, then a concatenation that restores the channel order.
        index = list(g.graph.node).index(d2s)
        base = d2s.name or "depth_to_space"
        parts = [g.unique_name(f"{base}_part{k}") for k in range(groups)]
        shuffled = [g.unique_name(f"{base}_d2s{k}") for k in range(groups)]
        new_nodes = _split_tree(model, g, d2s.input[0], parts, base)
        for k in range(groups):
            new_nodes.append(helper.make_node(
                "DepthToSpace", [parts[k]], [shuffled[k]], blocksize=r, mode="DCR", name=g.unique_name(f"{base}_g{k}")
            ))
        new_nodes += _concat_tree(g, shuffled, d2s.output[0], base)
        g.graph.node.remove(d2s)
        for offset, n in enumerate(new_nodes):
            g.graph.node.insert(index + offset, n)
    return count


def same_padding(model: onnx.ModelProto) -> int:
    """Writes stride-1 convs padded by (k-1)/2 on every side as ``auto_pad=SAME_UPPER`` (exact).

    onnx2tf recognises explicit pads as "same" only when it knows the spatial size; with a
    dynamic size it emits a PAD op before every 3x3 conv. SAME_UPPER maps onto TFLite's SAME.
    """
    count = 0
    for node in model.graph.node:
        if node.op_type != "Conv":
            continue
        kernel = list(attr(node, "kernel_shape", []))
        pads = list(attr(node, "pads", [0] * 2 * len(kernel)))
        strides = list(attr(node, "strides", [1] * len(kernel)))
        dilations = list(attr(node, "dilations", [1] * len(kernel)))
        if not kernel or any(k % 2 == 0 for k in kernel) or any(p == 0 for p in pads):
            continue
        if set(strides) != {1} or set(dilations) != {1} or pads != [(k - 1) // 2 for k in kernel] * 2:
            continue
        for i, a in enumerate(node.attribute):
            if a.name == "pads":
                del node.attribute[i]
                break
        set_attr(node, "auto_pad", "SAME_UPPER")
        count += 1
    return count


def sanitize_names(model: onnx.ModelProto) -> None:
    """Node names TensorFlow accepts as name scopes (onnx2tf refuses ``/model/...``)."""
    seen: set[str] = set()
    for i, node in enumerate(model.graph.node):
        name = re.sub(r"[^A-Za-z0-9_.]", "_", node.name).strip("_") or f"{node.op_type.lower()}_{i}"
        while name in seen:
            name = f"{name}_{i}"
        seen.add(name)
        node.name = name


def drop_unused_initializers(model: onnx.ModelProto) -> None:
    used = {i for n in model.graph.node for i in n.input}
    keep = [t for t in model.graph.initializer if t.name in used]
    del model.graph.initializer[:]
    model.graph.initializer.extend(keep)


def shape_for_tflite(model: onnx.ModelProto, expand_groups: bool = False) -> dict[str, int]:
    """Applies every rewrite above in place; returns what it did, for the report."""
    inline_constants(model)
    stats = {"expanded_group_convs": expand_group_convs(model) if expand_groups else 0}
    stats["folded_identity_convs"], stats["identity_convs_as_add"] = fold_identity_convs(model)
    stats["offsets_into_convs"] = offsets_into_convs(model)
    stats["folded_residual_adds"] = fold_residual_adds(model)
    stats["subpixel_exit"] = subpixel_exit(model)
    stats["crd_to_dcr"] = crd_to_dcr(model)
    stats["same_padding"] = same_padding(model)
    sanitize_names(model)
    drop_unused_initializers(model)
    return stats
