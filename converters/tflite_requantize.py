"""Untied concatenation ranges: each input of an int8 CONCATENATION keeps its own grid, requantized in front.

TFLite's int8 CONCATENATION needs every input on the output's scale and zero point. TensorFlow's
MLIR quantizer meets that by propagating one grid through each concatenation onto its inputs'
producers, and PCARN's cascades concatenate tensors that also feed one another (``c1 = [x, b1]``,
``c2 = [c1, b2]``, the entry output read by the local and the global cascade), so a dozen tensors
end up on one grid, the widest range of them all, wherever else they are read (the next residual
block, the 1x1 fusion convs). Separating them in the float file before quantization does not
survive: the quantizer's own passes fold identity separators away and re-tie the grids.

So the quantizer writes the tied file (it inserts nothing mid-graph), and :func:`untie_concatenations`
then gives every tensor it may its own calibrated grid, exactly as a quantizer would have:

* a tensor is re-gridded when every op touching it takes free input and output scales (convs,
  ADD) or is a concatenation; tensors next to ops that need one grid in and out (the clamp chain,
  DEPTH_TO_SPACE, SPLIT) keep the quantizer's;
* every conv reading a re-gridded tensor gets its int32 bias re-expressed at the new input scale
  (TFLite requires bias scale = input scale x weight scale; the values move by at most half a
  step of a 2^31 grid);
* each concatenation input whose grid then differs from the output's gets a ``QUANTIZE`` (int8 ->
  int8) in front. The graph stays full-integer: requantization is an integer op that XNNPACK,
  NNAPI, the GPU and QNN delegates take.
"""
from __future__ import annotations

import copy

import numpy as np

from .tflite_tensors import builtin_code, has_data, int8_params, opcode_index

#: Name suffix of a requantized copy of a concatenation input.
REQUANTIZED_SUFFIX = b"/requantized"
#: A concatenation input whose own step is at least this fraction of the concatenation's is put on the
#: concatenation's grid rather than requantized (see :func:`_pull_onto_concatenations`).
PULL = 0.5


def untie_concatenations(model, ranges: dict[bytes, tuple[float, float]], pull: float | None = None) -> int:
    """Re-grid ``model`` (a full-integer int8 flatbuffer object, in place) to ``ranges`` (by tensor name).

    Returns the number of QUANTIZE ops inserted in front of concatenations.
    """
    from tensorflow.lite.python import schema_py_generated as schema

    ops_ = schema.BuiltinOperator
    free = {ops_.CONV_2D, ops_.DEPTHWISE_CONV_2D, ops_.ADD, ops_.CONCATENATION}
    sg = model.subgraphs[0]
    codes = [builtin_code(model, op) for op in sg.operators]
    touching: dict[int, list[int]] = {}
    for k, op in enumerate(sg.operators):
        for t in [*op.inputs, *op.outputs]:
            touching.setdefault(int(t), []).append(k)
    edges = {int(i) for i in sg.inputs} | {int(o) for o in sg.outputs}
    old_scale: dict[int, float] = {}
    for i, t in enumerate(sg.tensors):
        name = t.name or b""
        if (name not in ranges or i in edges or has_data(model.buffers[t.buffer]) or t.type != schema.TensorType.INT8
                or any(codes[k] not in free for k in touching.get(i, []))):
            continue
        scale, zero = int8_params(*ranges[name])
        if abs(scale - float(t.quantization.scale[0])) <= 1e-6 * scale and zero == int(t.quantization.zeroPoint[0]):
            continue  # the grid it has (a pinned [0, 1] tensor: float32 against float64 of one scale)
        old_scale[i] = float(t.quantization.scale[0])
        t.quantization.scale, t.quantization.zeroPoint = [scale], [zero]
    _pull_onto_concatenations(model, codes, old_scale, PULL if pull is None else pull)
    for k, op in enumerate(sg.operators):
        x = int(op.inputs[0])
        if codes[k] in (ops_.CONV_2D, ops_.DEPTHWISE_CONV_2D) and x in old_scale and len(op.inputs) > 2 and op.inputs[2] >= 0:
            _rescale_bias(model, op, old_scale[x], float(sg.tensors[x].quantization.scale[0]))
    return _requantize_concat_inputs(model, codes, schema)


def _pull_onto_concatenations(model, codes: list[int], regridded: dict[int, float], pull: float) -> None:
    """Put each re-gridded concatenation input whose own step is within ``pull`` of the concatenation's,
    or that nothing but concatenations reads (a finer grid of its own would only add a second
    rounding), on the concatenation's grid; the last concatenation reading a tensor decides
    (concatenations are visited last to first, so an output's grid is final before its inputs are
    looked at)."""
    from tensorflow.lite.python import schema_py_generated as schema

    sg = model.subgraphs[0]
    readers: dict[int, set[int]] = {}
    for code, op in zip(codes, sg.operators):
        for i in op.inputs:
            readers.setdefault(int(i), set()).add(code)
    decided: set[int] = set()
    for code, op in reversed(list(zip(codes, sg.operators))):
        if code != schema.BuiltinOperator.CONCATENATION:
            continue
        out = sg.tensors[int(op.outputs[0])].quantization
        for source in (int(i) for i in op.inputs):
            q = sg.tensors[source].quantization
            only_concatenated = readers[source] == {schema.BuiltinOperator.CONCATENATION}
            if source in regridded and source not in decided and (only_concatenated or q.scale[0] >= pull * out.scale[0]):
                q.scale, q.zeroPoint = list(out.scale), list(out.zeroPoint)
            decided.add(source)


def _rescale_bias(model, op, old_input_scale: float, new_input_scale: float) -> None:
    """The conv's int32 bias (its own copy) re-expressed at the new input scale, values and scales."""
    from tensorflow.lite.python import schema_py_generated as schema

    sg = model.subgraphs[0]
    bias = copy.deepcopy(sg.tensors[int(op.inputs[2])])
    values = np.frombuffer(bytes(model.buffers[bias.buffer].data), np.int32).astype(np.float64)
    rescaled = np.clip(np.round(values * old_input_scale / new_input_scale), -2**31, 2**31 - 1).astype(np.int32)
    buffer = schema.BufferT()
    buffer.data = np.frombuffer(rescaled.tobytes(), np.uint8)
    model.buffers.append(buffer)
    bias.buffer = len(model.buffers) - 1
    bias.quantization.scale = [float(s) * new_input_scale / old_input_scale for s in bias.quantization.scale]
    sg.tensors.append(bias)
    op.inputs = np.array([*op.inputs[:2], len(sg.tensors) - 1, *op.inputs[3:]], np.int32)


def _requantize_concat_inputs(model, codes: list[int], schema) -> int:
    sg = model.subgraphs[0]
    quantize = opcode_index(model, schema.BuiltinOperator.QUANTIZE)
    made: dict[tuple[int, tuple[float, int]], int] = {}  # (input, grid) -> requantized copy
    ops = []
    for code, op in zip(codes, sg.operators):
        if code == schema.BuiltinOperator.CONCATENATION:
            grid = _grid(sg.tensors[int(op.outputs[0])])
            inputs = []
            for source in (int(i) for i in op.inputs):
                if _grid(sg.tensors[source]) != grid and (source, grid) not in made:
                    t = copy.deepcopy(sg.tensors[source])
                    t.name = (t.name or b"t") + REQUANTIZED_SUFFIX
                    t.quantization.scale, t.quantization.zeroPoint = [grid[0]], [grid[1]]
                    model.buffers.append(schema.BufferT())
                    t.buffer = len(model.buffers) - 1
                    sg.tensors.append(t)
                    requantize = schema.OperatorT()
                    requantize.opcodeIndex = quantize
                    requantize.inputs, requantize.outputs = np.array([source], np.int32), np.array([len(sg.tensors) - 1], np.int32)
                    ops.append(requantize)
                    made[(source, grid)] = len(sg.tensors) - 1
                inputs.append(made.get((source, grid), source))
            op.inputs = np.array(inputs, np.int32)
        ops.append(op)
    sg.operators = ops
    return len(made)


def _grid(tensor) -> tuple[float, int]:
    q = tensor.quantization
    return float(q.scale[0]), int(q.zeroPoint[0])
