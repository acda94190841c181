"""A TFLite file's activation tensors from the outside: their values on an input, and their int8 grids.

Calibration (:func:`converters.tflite.activation_stats`) and quantization-aware training both need
to see every activation a float file computes, and QAT needs the scale and zero point the int8
file gives each of them, looked up by name (the MLIR quantizer keeps the float file's tensor names).
"""
from __future__ import annotations

import os

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
