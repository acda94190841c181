"""A TFLite file's tensors from the outside: activation values on an input, int8 grids, constants.

Calibration (:func:`converters.tflite_ranges.activation_stats`) and quantization-aware training both need
to see every activation a float file computes, and QAT needs the scale and zero point the int8
file gives each of them, looked up by name (the MLIR quantizer keeps the float file's tensor names).
The lookups on a file's flatbuffer object that every rewrite of one needs (which tensors are
constants, an operator's builtin code, an operator code to add) are here too, once.
"""
from __future__ import annotations

import importlib
import os
from typing import Any

import numpy as np


def activation_tensors(model) -> list[int]:
    """Indices of the float tensors of ``model`` (a flatbuffer object) that carry activations (no
    constant buffer behind them)."""
    from tensorflow.lite.python import schema_py_generated as schema

    sg = model.subgraphs[0]
    out = []
    for i, t in enumerate(sg.tensors):
        data = model.buffers[t.buffer].data
        if t.type == schema.TensorType.FLOAT32 and (data is None or len(data) == 0):
            out.append(i)
    return out


class ActivationProbe:
    """Runs a float file as a copy whose outputs are all its activation tensors.

    The default XNNPACK delegate then hands every one of them back (6x faster than reading them
    from an undelegated interpreter, whose builtin grouped convolution is slow) with the same
    figures. Samples are NHWC float32; the file is resized to each sample's own size.
    """

    def __init__(self, float_model: bytes) -> None:
        from ai_edge_litert.interpreter import Interpreter
        from tensorflow.lite.tools import flatbuffer_utils

        model = flatbuffer_utils.convert_bytearray_to_object(float_model)
        self.tensors = activation_tensors(model)
        self.names = {i: model.subgraphs[0].tensors[i].name.decode() for i in self.tensors}
        model.subgraphs[0].outputs = np.array(self.tensors, dtype=np.int32)
        probe = bytes(flatbuffer_utils.convert_object_to_bytearray(model))
        self._interpreter = Interpreter(model_content=probe, num_threads=os.cpu_count())
        self._input = self._interpreter.get_input_details()[0]["index"]
        self._shape: tuple[int, ...] | None = None

    def run(self, sample: np.ndarray) -> dict[int, np.ndarray]:
        """Every activation tensor's value on ``sample``, by tensor index (views valid until the next run)."""
        if sample.shape != self._shape:
            self._interpreter.resize_tensor_input(self._input, list(sample.shape), strict=False)
            self._interpreter.allocate_tensors()
            self._shape = sample.shape
        self._interpreter.set_tensor(self._input, np.ascontiguousarray(sample, dtype=np.float32))
        self._interpreter.invoke()
        return {i: self._interpreter.get_tensor(i) for i in self.tensors}


def has_data(buffer: Any) -> bool:
    """A buffer holding a constant (weights, biases, shapes); tensors without data are computed."""
    return buffer is not None and ((buffer.data is not None and len(buffer.data) > 0) or bool(buffer.size))


def constant_tensors(model: Any) -> set[int]:
    """Tensors of ``model`` (a flatbuffer object) holding constants, and those computed from constants alone
    (an fp16 file's dequantized weights, which a runtime folds at load)."""
    sg = model.subgraphs[0]
    constant = {i for i, t in enumerate(sg.tensors) if has_data(model.buffers[t.buffer])}
    for op in sg.operators:
        if all(int(t) in constant for t in op.inputs if t >= 0):
            constant.update(int(t) for t in op.outputs)
    return constant


def builtin_code(model: Any, op: Any) -> int:
    """``op``'s builtin operator code (files keep it in one of two fields, by schema version)."""
    code = model.operatorCodes[op.opcodeIndex]
    return max(code.builtinCode, code.deprecatedBuiltinCode)


def opcode_index(model: Any, builtin: int) -> int:
    """The index of ``builtin`` in ``model``'s operator codes, added when the file has none yet."""
    for i, code in enumerate(model.operatorCodes):
        if max(code.builtinCode, code.deprecatedBuiltinCode) == builtin:
            return i
    # From the generated schema module the model object comes from (TensorFlow's or LiteRT's).
    code = importlib.import_module(type(model).__module__).OperatorCodeT()
    code.builtinCode, code.deprecatedBuiltinCode, code.version = builtin, min(builtin, 127), 1
    model.operatorCodes.append(code)
    return len(model.operatorCodes) - 1


def int8_params(lo: float, hi: float) -> tuple[float, int]:
    """(scale, zero point) of asymmetric int8 over [lo, hi] (0 inside), zero point nudged to an integer."""
    scale = (hi - lo) / 255.0 or 1.0
    return scale, int(np.clip(np.round(-128 - lo / scale), -128, 127))


def int8_grids(int8_model: bytes) -> dict[str, tuple[float, int]]:
    """(scale, zero point) of every per-tensor quantized int8 activation of a full-integer file, by tensor name."""
    from tensorflow.lite.python import schema_py_generated as schema
    from tensorflow.lite.tools import flatbuffer_utils

    model = flatbuffer_utils.convert_bytearray_to_object(int8_model)
    out = {}
    for t in model.subgraphs[0].tensors:
        q = t.quantization
        data = model.buffers[t.buffer].data
        if t.type != schema.TensorType.INT8 or (data is not None and len(data)) or q is None or q.scale is None:
            continue
        if len(q.scale) == 1:
            out[t.name.decode()] = (float(q.scale[0]), int(q.zeroPoint[0]))
    return out
