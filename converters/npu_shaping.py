"""Graph shaping for files compiled for the Hexagon NPU: every grouped convolution in a form HTP runs natively.

LiteRT's Qualcomm compiler lowers a grouped ``CONV_2D`` (filter depth = input depth / groups)
to one HTP ``Slice_shape`` per group, and HTP runs that slice on a generic reference kernel: the
compiler logs "Slice_shape uses reference codes" 72 times for PCARN-M g4 (18 grouped convs x 4
groups). Here each grouped convolution of a TFLite file becomes one ``SPLIT`` of its input along
channels, one plain convolution per group and a ``CONCATENATION``: the same arithmetic on the same
int8 grids (a SPLIT and a CONCATENATION of tensors with one scale and zero point move bytes and
round nothing), so the NPU file computes what the CPU file computes. Only the copy handed to the
NPU compiler is rewritten; the CPU file keeps XNNPACK's grouped convolution.
"""
from __future__ import annotations

import copy
from typing import Any

import numpy as np

from .tflite_tensors import builtin_code, opcode_index


def _schema():
    from tensorflow.lite.python import schema_py_generated as schema

    return schema


def _new_tensor(model: Any, like: Any, shape: list[int], name: str, data: np.ndarray | None = None,
                quant: Any | None = None) -> int:
    """A tensor shaped like ``like`` (type, quantization unless given), with its own buffer; returns its index."""
    schema = _schema()
    sg = model.subgraphs[0]
    t = copy.deepcopy(like)
    t.shape, t.name = np.array(shape, dtype=np.int32), name.encode()
    t.shapeSignature = None
    if quant is not None:
        t.quantization = quant
    buf = schema.BufferT()
    if data is not None:
        buf.data = np.frombuffer(np.ascontiguousarray(data).tobytes(), dtype=np.uint8)
    model.buffers.append(buf)
    t.buffer = len(model.buffers) - 1
    sg.tensors.append(t)
    return len(sg.tensors) - 1


def _tensor_data(model: Any, index: int, dtype: np.dtype) -> np.ndarray:
    t = model.subgraphs[0].tensors[index]
    return np.frombuffer(bytes(model.buffers[t.buffer].data), dtype=dtype).reshape(t.shape)


_NUMPY = {0: np.float32, 9: np.int8, 2: np.int32, 10: np.int64, 1: np.float16}


def _sliced_quant(q: Any, lo: int, hi: int) -> Any:
    """Per-output-channel quantization (dimension 0) restricted to channels lo..hi."""
    q = copy.deepcopy(q)
    if q is not None and q.scale is not None and len(q.scale) > 1:
        q.scale, q.zeroPoint = np.asarray(q.scale)[lo:hi], np.asarray(q.zeroPoint)[lo:hi]
    return q


def split_grouped_convs(model_bytes: bytes) -> tuple[bytes, int]:
    """The file with every grouped CONV_2D as SPLIT + per-group CONV_2D + CONCATENATION; how many it rewrote."""
    from tensorflow.lite.tools import flatbuffer_utils

    schema = _schema()
    model = flatbuffer_utils.convert_bytearray_to_object(model_bytes)
    sg = model.subgraphs[0]
    ops, done = [], 0
    split_code = opcode_index(model, schema.BuiltinOperator.SPLIT)
    concat_code = opcode_index(model, schema.BuiltinOperator.CONCATENATION)
    axis = None
    shared: dict[tuple[int, int, int], tuple[int, int]] = {}  # (filter, bias, group) -> sliced tensors: PCARN's recursions share weights
    for op in sg.operators:
        if builtin_code(model, op) != schema.BuiltinOperator.CONV_2D:
            ops.append(op)
            continue
        x, w, b = (int(i) for i in op.inputs)
        depth, filt = int(sg.tensors[x].shape[-1]), sg.tensors[w]
        groups = depth // int(filt.shape[-1])
        if groups == 1:
            ops.append(op)
            continue
        if axis is None:
            axis = _new_tensor(model, sg.tensors[b], [], "npu_shaping/channel_axis", np.array(3, dtype=np.int32))
            sg.tensors[axis].type, sg.tensors[axis].quantization = schema.TensorType.INT32, None
        out = int(op.outputs[0])
        per_in, per_out = depth // groups, int(filt.shape[0]) // groups
        base = sg.tensors[out].name.decode()
        xin = sg.tensors[x]
        parts = [_new_tensor(model, xin, [*map(int, xin.shape[:3]), per_in], f"{base}/npu_split_{g}") for g in range(groups)]
        split = schema.OperatorT()
        split.opcodeIndex, split.inputs, split.outputs = split_code, np.array([axis, x], np.int32), np.array(parts, np.int32)
        split.builtinOptionsType = schema.BuiltinOptions.SplitOptions
        split.builtinOptions = schema.SplitOptionsT()
        split.builtinOptions.numSplits = groups
        ops.append(split)
        weights, bias = _tensor_data(model, w, _NUMPY[filt.type]), _tensor_data(model, b, _NUMPY[sg.tensors[b].type])
        yout = sg.tensors[out]
        pieces = []
        for g in range(groups):
            lo, hi = g * per_out, (g + 1) * per_out
            if (w, b, g) not in shared:
                shared[w, b, g] = (
                    _new_tensor(model, filt, [per_out, *map(int, filt.shape[1:])], f"{filt.name.decode()}/npu_group_{g}",
                                weights[lo:hi], _sliced_quant(filt.quantization, lo, hi)),
                    _new_tensor(model, sg.tensors[b], [per_out], f"{sg.tensors[b].name.decode()}/npu_group_{g}",
                                bias[lo:hi], _sliced_quant(sg.tensors[b].quantization, lo, hi)))
            wg, bg = shared[w, b, g]
            yg = _new_tensor(model, yout, [*map(int, yout.shape[:3]), per_out], f"{base}/npu_group_{g}")
            conv = copy.deepcopy(op)
            conv.inputs, conv.outputs = np.array([parts[g], wg, bg], np.int32), np.array([yg], np.int32)
            ops.append(conv)
            pieces.append(yg)
        concat = schema.OperatorT()
        concat.opcodeIndex, concat.inputs, concat.outputs = concat_code, np.array(pieces, np.int32), np.array([out], np.int32)
        concat.builtinOptionsType = schema.BuiltinOptions.ConcatenationOptions
        concat.builtinOptions = schema.ConcatenationOptionsT()
        concat.builtinOptions.axis = 3
        ops.append(concat)
        done += 1
    sg.operators = ops
    return bytes(flatbuffer_utils.convert_object_to_bytearray(model)), done
