"""Runs an ``.onnx`` SR model in ONNX Runtime behind the common :class:`~converters.runner.Runner` interface."""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import onnxruntime as ort


class ONNXRunner:
    """NCHW float32 in and out, like the exported graph itself; dynamic H/W when the file has them."""

    def __init__(self, path: str | os.PathLike[str], num_threads: int | None = None,
                 profile_prefix: str | None = None) -> None:
        """``profile_prefix``: ONNX Runtime's own per-node profiling on, its JSON written to
        ``<prefix>_<date>.json`` by ``self.session.end_profiling()`` (the latency harness's ``--stages``)."""
        self.path = Path(path)
        options = ort.SessionOptions()
        options.intra_op_num_threads = num_threads or os.cpu_count() or 1
        options.log_severity_level = 3
        if profile_prefix:
            options.enable_profiling = True
            options.profile_file_prefix = profile_prefix
        self.session = ort.InferenceSession(str(self.path), options, providers=["CPUExecutionProvider"])
        (inp,), (out,) = self.session.get_inputs(), self.session.get_outputs()
        self._in_name = inp.name
        h, w = inp.shape[2], inp.shape[3]
        self.input_size: tuple[int, int] | None = (h, w) if isinstance(h, int) and isinstance(w, int) else None
        probe = self.input_size or (8, 8)
        self.scale = int(self(np.zeros((1, 3, *probe), np.float32)).shape[2] // probe[0])

    def __call__(self, x: np.ndarray) -> np.ndarray:
        return self.session.run(None, {self._in_name: np.ascontiguousarray(x, dtype=np.float32)})[0]


def load_runner(path: str | os.PathLike[str], num_threads: int | None = None) -> ONNXRunner:
    """A :class:`~converters.runner.Runner` for an ``.onnx`` file."""
    return ONNXRunner(path, num_threads=num_threads)
