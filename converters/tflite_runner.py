"""Runs a ``.tflite`` SR model behind the common :class:`~converters.runner.Runner` interface.

Callers pass float32 NCHW RGB in [0, 1] whatever the file holds: NHWC layout, float32, int8 or
uint8 inputs and outputs (quantized with the scale/zero-point stored in the file) and dynamic
spatial sizes (``resize_tensor_input`` before each new size) are all hidden here, so the
evaluation, tiling and parity code is the same for every artifact.
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from ai_edge_litert.interpreter import Interpreter


def _quantize(x: np.ndarray, detail: dict) -> np.ndarray:
    scale, zero = detail["quantization"]
    info = np.iinfo(detail["dtype"])
    return np.clip(np.round(x / scale + zero), info.min, info.max).astype(detail["dtype"])


def _dequantize(q: np.ndarray, detail: dict) -> np.ndarray:
    scale, zero = detail["quantization"]
    return ((q.astype(np.float32) - zero) * scale).astype(np.float32)


class TFLiteRunner:
    """One interpreter per file; NHWC in the file, NCHW float [0, 1] at this interface."""

    def __init__(self, path: str | os.PathLike[str], num_threads: int | None = None, any_size: bool = False) -> None:
        self.path = Path(path)
        self.interpreter = Interpreter(model_path=str(self.path), num_threads=num_threads or os.cpu_count())
        inputs, outputs = self.interpreter.get_input_details(), self.interpreter.get_output_details()
        if len(inputs) != 1 or len(outputs) != 1:
            raise ValueError(f"{self.path} has {len(inputs)} inputs and {len(outputs)} outputs; an SR model has one each")
        self._in_index, self._out_index = inputs[0]["index"], outputs[0]["index"]
        signature = inputs[0]["shape_signature"]
        if len(signature) != 4 or signature[-1] != 3:
            raise ValueError(f"{self.path} does not take NHWC RGB input (shape {list(signature)})")
        # any_size: run a static-size file at each input's own size. Exact for graphs made only of
        # shape-agnostic ops (what the exporter writes); used to score whole images without tiles.
        self.dynamic = bool(signature[1] < 0 or signature[2] < 0)
        self.resizable = self.dynamic or any_size
        self.input_size: tuple[int, int] | None = None if self.resizable else (int(signature[1]), int(signature[2]))
        self.input_dtype = np.dtype(inputs[0]["dtype"])
        self.output_dtype = np.dtype(outputs[0]["dtype"])
        probe = (16, 16) if self.dynamic else (int(signature[1]), int(signature[2]))
        self._shape: tuple[int, int] | None = None
        self._ensure_size(*probe)
        out_h = int(self.interpreter.get_output_details()[0]["shape"][1])
        self.scale = out_h // probe[0]

    def _ensure_size(self, h: int, w: int) -> None:
        if self._shape == (h, w):
            return
        if self.resizable:
            self.interpreter.resize_tensor_input(self._in_index, [1, h, w, 3], strict=self.dynamic)
        elif (h, w) != self.input_size:
            raise ValueError(f"{self.path.name} takes {self.input_size[0]}x{self.input_size[1]} input, got {h}x{w}")
        self.interpreter.allocate_tensors()
        self._shape = (h, w)

    def __call__(self, x: np.ndarray) -> np.ndarray:
        if x.ndim != 4 or x.shape[0] != 1 or x.shape[1] != 3:
            raise ValueError(f"expected (1, 3, h, w) input, got {x.shape}")
        self._ensure_size(int(x.shape[2]), int(x.shape[3]))
        nhwc = np.ascontiguousarray(x.transpose(0, 2, 3, 1), dtype=np.float32)
        in_detail = self.interpreter.get_input_details()[0]
        if self.input_dtype != np.float32:
            nhwc = _quantize(nhwc, in_detail)
        self.interpreter.set_tensor(self._in_index, nhwc)
        self.interpreter.invoke()
        out_detail = self.interpreter.get_output_details()[0]
        y = self.interpreter.get_tensor(self._out_index)
        if self.output_dtype != np.float32:
            y = _dequantize(y, out_detail)
        return np.ascontiguousarray(y.transpose(0, 3, 1, 2), dtype=np.float32)


def load_runner(path: str | os.PathLike[str], num_threads: int | None = None, any_size: bool = False) -> TFLiteRunner:
    """A :class:`~converters.runner.Runner` for a ``.tflite`` file (what ``evaluate --tflite`` calls)."""
    return TFLiteRunner(path, num_threads=num_threads, any_size=any_size)
