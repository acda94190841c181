"""Which parts of an int8 file cost the quality: each activation and each conv's weights quantized alone.

The full-integer file quantizes everything at once, so its one PSNR drop says nothing about
where the loss comes from. Here the float file is changed in one place at a time, exactly as
the int8 file will have it, and everything else is left float:

* an activation: a QUANTIZE (to int8 over the range :func:`~converters.tflite_ranges.quantized_ranges`
  gives it, the same one the int8 file uses) and a DEQUANTIZE inserted after the op producing it,
  its readers moved to the dequantized copy;
* a convolution's weights: as the int8 file has them (GPTQ-rounded, :mod:`converters.tflite_gptq`,
  or rounded to per-channel symmetric int8, ``max|w| / 127``, as TFLite does), stored as float again.

The caller scores each variant (Y-PSNR on an evaluation set); the drop of each against the float
file is that tensor's sensitivity. Drops do not add up exactly to the full file's (errors
interact), but the ranking says which tensors to fix first.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .tflite import int8_rounded
from .tflite_tensors import int8_params, opcode_index

_CONVS = ("CONV_2D", "DEPTHWISE_CONV_2D")


@dataclass(frozen=True)
class Probe:
    """One place to quantize alone: an activation tensor or a conv's weights."""

    kind: str  # "activation" or "weights"
    op_index: int  # the op producing the activation, or the conv
    op_name: str
    tensor: int  # the activation, or the weight tensor
    conv_number: int | None  # k for the k-th conv of the file (weights, and conv outputs), else None
    value_range: tuple[float, float] | None = None  # activations: the int8 range


def probes(float_model: bytes, ranges: dict[int, tuple[float, float]]) -> list[Probe]:
    """Every activation with a range (the graph's input and output left out: they are pinned to the
    8-bit image grid in every file) and every conv's weights, in execution order."""
    from tensorflow.lite.tools import flatbuffer_utils

    model = flatbuffer_utils.convert_bytearray_to_object(float_model)
    sg = model.subgraphs[0]
    edges = {int(sg.inputs[0]), int(sg.outputs[0])}
    found, convs = [], 0
    for index, op in enumerate(sg.operators):
        name = flatbuffer_utils.opcode_to_name(model, op.opcodeIndex)
        number = None
        if name in _CONVS:
            number = convs
            convs += 1
            found.append(Probe("weights", index, name, int(op.inputs[1]), number))
        for out in (int(o) for o in op.outputs):
            if out in ranges and out not in edges:
                found.append(Probe("activation", index, name, out, number, ranges[out]))
    return found


def with_activation_quantized(float_model: bytes, probe: Probe) -> bytes:
    """``float_model`` with ``probe``'s activation passed through int8 and back."""
    import copy

    from tensorflow.lite.python import schema_py_generated as schema
    from tensorflow.lite.tools import flatbuffer_utils

    model = flatbuffer_utils.convert_bytearray_to_object(float_model)
    sg = model.subgraphs[0]
    source = sg.tensors[probe.tensor]
    scale, zero = int8_params(*probe.value_range)
    made = []
    for dtype, suffix, quantized in ((schema.TensorType.INT8, "/int8", True), (schema.TensorType.FLOAT32, "/deq", False)):
        t = copy.deepcopy(source)
        t.type, t.name = dtype, (source.name or b"t") + suffix.encode()
        t.quantization = None
        if quantized:
            t.quantization = schema.QuantizationParametersT()
            t.quantization.scale, t.quantization.zeroPoint = [scale], [zero]
        model.buffers.append(schema.BufferT())
        t.buffer = len(model.buffers) - 1
        sg.tensors.append(t)
        made.append(len(sg.tensors) - 1)
    q_index, dq_index = made
    for op in sg.operators:
        op.inputs = np.array([dq_index if int(i) == probe.tensor else int(i) for i in op.inputs], dtype=np.int32)
    quantize, dequantize = schema.OperatorT(), schema.OperatorT()
    quantize.opcodeIndex = opcode_index(model, schema.BuiltinOperator.QUANTIZE)
    quantize.inputs, quantize.outputs = np.array([probe.tensor], np.int32), np.array([q_index], np.int32)
    dequantize.opcodeIndex = opcode_index(model, schema.BuiltinOperator.DEQUANTIZE)
    dequantize.inputs, dequantize.outputs = np.array([q_index], np.int32), np.array([dq_index], np.int32)
    sg.operators[probe.op_index + 1:probe.op_index + 1] = [quantize, dequantize]
    return bytes(flatbuffer_utils.convert_object_to_bytearray(model))


def with_weights_rounded(float_model: bytes, probe: Probe, rounded: bytes | None = None) -> bytes:
    """``float_model`` with ``probe``'s conv weights as the int8 file has them: those of ``rounded`` (the
    file the quantizer starts from; GPTQ put its dense convs on their grid already) or of
    ``float_model``, rounded to per-channel symmetric int8."""
    from tensorflow.lite.tools import flatbuffer_utils

    model = flatbuffer_utils.convert_bytearray_to_object(float_model)
    source = model if rounded is None else flatbuffer_utils.convert_bytearray_to_object(rounded)
    tensor = source.subgraphs[0].tensors[probe.tensor]
    w = np.frombuffer(bytes(source.buffers[tensor.buffer].data), np.float32).reshape(list(tensor.shape))
    snapped = int8_rounded(w, axis=3 if probe.op_name == "DEPTHWISE_CONV_2D" else 0)
    target = model.buffers[model.subgraphs[0].tensors[probe.tensor].buffer]
    target.data = np.frombuffer(snapped.astype(np.float32).tobytes(), np.uint8)
    return bytes(flatbuffer_utils.convert_object_to_bytearray(model))


def variant(float_model: bytes, probe: Probe, rounded: bytes | None = None) -> bytes:
    """The float file with ``probe`` alone quantized (weights as ``rounded`` has them, see :func:`with_weights_rounded`)."""
    if probe.kind == "activation":
        return with_activation_quantized(float_model, probe)
    return with_weights_rounded(float_model, probe, rounded)
