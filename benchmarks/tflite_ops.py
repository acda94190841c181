"""A .tflite file's operators one at a time (:mod:`benchmarks.op_floor`): what each is, and a file of its own.

A single-operator file keeps the operator exactly as the file has it (the same builtin, options,
fused activation, weights and quantization), with concrete shapes written in: its activation
inputs become the graph's inputs and its outputs the graph's outputs. The constants it reads
stay constants (an fp16 file's DEQUANTIZE of a weight comes along, and the runtime folds it at
load as it does in the whole file).

For a float grouped ``CONV_2D`` two other exact forms can be written instead: ``per-group`` (a
SPLIT of the input into the groups, one ``CONV_2D`` per group, a CONCATENATION of their outputs)
and ``dense`` (one ``CONV_2D`` over all input channels whose weights are zero off the block
diagonal). They compute the same numbers as the operator (tested), so their times say whether
writing the grouped convolutions another way could pay.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from converters.tflite_tensors import builtin_code, constant_tensors, opcode_index

#: The other exact forms of a float grouped CONV_2D (module docstring).
GROUPED_FORMS = ("per-group", "dense")
_AXIS_CHANNELS = 3  # NHWC


@dataclass(frozen=True)
class OpInfo:
    """One operator of the file: its index, builtin name, kind (what is summed together) and Mult-Adds."""

    index: int
    name: str
    kind: str
    mult_adds: int = 0
    groups: int = 1
    float_weights: bool = False

    @property
    def grouped(self) -> bool:
        return self.groups > 1

    @property
    def alternatives_apply(self) -> bool:
        return self.name == "CONV_2D" and self.grouped and self.float_weights


def _schema() -> Any:
    from ai_edge_litert import schema_py_generated as schema

    return schema


def _op_names() -> dict[int, str]:
    return {v: k for k, v in vars(_schema().BuiltinOperator).items() if not k.startswith("_")}


def ready_interpreter(content: bytes, threads: int, frame: tuple[int, int] | None = None, delegate: bool = True) -> Any:
    """A LiteRT interpreter of ``content`` with random inputs set, ready to invoke; a file that takes any
    size is resized to the RGB ``frame``. With the default XNNPACK delegate, or without (``delegate=False``:
    TFLite's own kernels, whose tensors all carry their resized shapes)."""
    from ai_edge_litert.interpreter import Interpreter, OpResolverType

    resolver = OpResolverType.AUTO if delegate else OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES
    it = Interpreter(model_content=content, num_threads=threads, experimental_op_resolver_type=resolver)
    first = it.get_input_details()[0]
    if frame is not None and -1 in first["shape_signature"][1:3]:
        it.resize_tensor_input(first["index"], [1, *frame, 3], strict=True)
    it.allocate_tensors()
    rng = np.random.default_rng(0)
    for d in it.get_input_details():
        dtype = np.dtype(d["dtype"])
        sample = rng.uniform(0, 1, d["shape"]) if dtype.kind == "f" else rng.integers(-100, 100, d["shape"])
        it.set_tensor(d["index"], sample.astype(dtype))
    return it


def describe_ops(data: bytes, shapes: dict[int, list[int]]) -> list[OpInfo]:
    """The operators an inference runs (constant-only ones left out), with ``shapes``: tensor index -> its
    shape in an allocated interpreter of the whole file at the input size being timed."""
    schema, names = _schema(), _op_names()
    model = schema.ModelT.InitFromPackedBuf(data, 0)
    sg = model.subgraphs[0]
    constant = constant_tensors(model)
    ops = []
    for index, op in enumerate(sg.operators):
        if all(int(t) in constant for t in op.inputs if t >= 0):
            continue
        name = names.get(builtin_code(model, op), f"op{builtin_code(model, op)}")
        out = shapes[int(op.outputs[0])]
        where = f"at {out[1]}x{out[2]}" if len(out) == 4 else f"shape {out}"
        if name in ("CONV_2D", "DEPTHWISE_CONV_2D"):
            filt = sg.tensors[int(op.inputs[1])]
            o, kh, kw, i = (int(s) for s in filt.shape)
            cin = shapes[int(op.inputs[0])][3]
            if name == "DEPTHWISE_CONV_2D":
                o, i, groups = i, 1, cin
            else:
                groups = cin // i
            macs = out[1] * out[2] * o * kh * kw * i
            grouped = f" /{groups}" if groups > 1 else ""
            ops.append(OpInfo(index, name, f"{name} {kh}x{kw} {cin}->{o}{grouped} {where}", macs, groups,
                              filt.type == schema.TensorType.FLOAT32))
        else:
            ops.append(OpInfo(index, name, f"{name} ->{out[-1]} {where}"))
    return ops


def single_op(data: bytes, index: int, shapes: dict[int, list[int]], form: str = "alone") -> bytes:
    """The file reduced to operator ``index`` (and the constant-only operators feeding it), shapes concrete;
    ``form`` ``alone`` as it is, or one of :data:`GROUPED_FORMS` for a float grouped CONV_2D."""
    import flatbuffers

    schema = _schema()
    model = schema.ModelT.InitFromPackedBuf(data, 0)
    sg = model.subgraphs[0]
    constant = constant_tensors(model)
    target = sg.operators[index]
    needed = {int(t) for t in target.inputs if t >= 0}
    feeding = [op for op in sg.operators[:index]
               if all(int(t) in constant for t in op.inputs if t >= 0) and needed & {int(t) for t in op.outputs}]
    inputs = [int(t) for t in target.inputs if t >= 0 and int(t) not in constant]
    for t in {*inputs, *(int(t) for t in target.outputs)}:
        sg.tensors[t].shape = np.array(shapes[t], dtype=np.int32)
        sg.tensors[t].shapeSignature = None
    if form == "alone":
        body = [target]
    elif form in GROUPED_FORMS:
        body = _per_group(model, target, shapes) if form == "per-group" else [_dense(model, target, shapes)]
    else:
        raise ValueError(f"unknown form {form!r}")
    sg.operators = feeding + body
    sg.inputs = np.array(inputs, dtype=np.int32)
    sg.outputs = np.array([int(t) for t in target.outputs], dtype=np.int32)
    model.signatureDefs = []
    builder = flatbuffers.Builder(len(data) + 4096)
    builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
    return bytes(builder.Output())


def _float_weights(model: Any, tensor: int) -> np.ndarray:
    t = model.subgraphs[0].tensors[tensor]
    buffer = model.buffers[t.buffer]
    if t.type != _schema().TensorType.FLOAT32 or buffer.data is None or not len(buffer.data):
        raise ValueError("the other forms of a grouped convolution need float weights stored in the file")
    return np.frombuffer(bytes(buffer.data), dtype=np.float32).reshape([int(s) for s in t.shape])


def _add_tensor(model: Any, name: str, shape: list[int], dtype: int, values: np.ndarray | None = None) -> int:
    schema = _schema()
    buffer = schema.BufferT()
    if values is not None:
        buffer.data = np.frombuffer(np.ascontiguousarray(values).tobytes(), dtype=np.uint8)
    model.buffers.append(buffer)
    tensor = schema.TensorT()
    tensor.name, tensor.type, tensor.buffer = name.encode(), dtype, len(model.buffers) - 1
    tensor.shape = np.array(shape, dtype=np.int32)
    model.subgraphs[0].tensors.append(tensor)
    return len(model.subgraphs[0].tensors) - 1


def _conv(model: Any, like: Any, inputs: list[int], outputs: list[int]) -> Any:
    op = _schema().OperatorT()
    op.opcodeIndex, op.builtinOptionsType, op.builtinOptions = like.opcodeIndex, like.builtinOptionsType, like.builtinOptions
    op.inputs, op.outputs = np.array(inputs, dtype=np.int32), np.array(outputs, dtype=np.int32)
    return op


def _groups(model: Any, target: Any, shapes: dict[int, list[int]]) -> tuple[np.ndarray, np.ndarray | None, int]:
    weights = _float_weights(model, int(target.inputs[1]))
    bias = _float_weights(model, int(target.inputs[2])) if len(target.inputs) > 2 and target.inputs[2] >= 0 else None
    groups = shapes[int(target.inputs[0])][_AXIS_CHANNELS] // weights.shape[3]
    return weights, bias, groups


def _dense(model: Any, target: Any, shapes: dict[int, list[int]]) -> Any:
    """The grouped CONV_2D as one dense CONV_2D, its weights zero off the block diagonal."""
    weights, _, groups = _groups(model, target, shapes)
    o, kh, kw, i = weights.shape
    dense = np.zeros((o, kh, kw, i * groups), np.float32)
    step = o // groups
    for g in range(groups):
        dense[g * step:(g + 1) * step, :, :, g * i:(g + 1) * i] = weights[g * step:(g + 1) * step]
    filt = _add_tensor(model, "dense_filter", list(dense.shape), _schema().TensorType.FLOAT32, dense)
    inputs = [int(t) for t in target.inputs]
    inputs[1] = filt
    return _conv(model, target, inputs, [int(t) for t in target.outputs])


def _per_group(model: Any, target: Any, shapes: dict[int, list[int]]) -> list[Any]:
    """The grouped CONV_2D as SPLIT -> one CONV_2D per group -> CONCATENATION (fused activation stays in each conv)."""
    schema = _schema()
    f32 = schema.TensorType.FLOAT32
    weights, bias, groups = _groups(model, target, shapes)
    x, y = shapes[int(target.inputs[0])], shapes[int(target.outputs[0])]
    step = weights.shape[0] // groups
    axis = _add_tensor(model, "split_axis", [], schema.TensorType.INT32, np.array(_AXIS_CHANNELS, dtype=np.int32))
    parts = [_add_tensor(model, f"group{g}_in", [*x[:3], weights.shape[3]], f32) for g in range(groups)]
    outs = [_add_tensor(model, f"group{g}_out", [*y[:3], step], f32) for g in range(groups)]
    split = schema.OperatorT()
    split.opcodeIndex = opcode_index(model, schema.BuiltinOperator.SPLIT)
    split.builtinOptionsType, split.builtinOptions = schema.BuiltinOptions.SplitOptions, schema.SplitOptionsT()
    split.builtinOptions.numSplits = groups
    split.inputs, split.outputs = np.array([axis, int(target.inputs[0])], dtype=np.int32), np.array(parts, dtype=np.int32)
    convs = []
    for g in range(groups):
        filt = _add_tensor(model, f"group{g}_filter", [step, *weights.shape[1:]], f32, weights[g * step:(g + 1) * step])
        ins = [parts[g], filt]
        if bias is not None:
            ins.append(_add_tensor(model, f"group{g}_bias", [step], f32, bias[g * step:(g + 1) * step]))
        convs.append(_conv(model, target, ins, [outs[g]]))
    concat = schema.OperatorT()
    concat.opcodeIndex = opcode_index(model, schema.BuiltinOperator.CONCATENATION)
    concat.builtinOptionsType = schema.BuiltinOptions.ConcatenationOptions
    concat.builtinOptions = schema.ConcatenationOptionsT()
    concat.builtinOptions.axis = _AXIS_CHANNELS
    concat.inputs, concat.outputs = np.array(outs, dtype=np.int32), np.array([int(target.outputs[0])], dtype=np.int32)
    return [split, *convs, concat]
