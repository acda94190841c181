"""A Qualcomm-compiled ``.tflite`` on the x86 HTP emulator, behind the common :class:`~converters.runner.Runner`.

The emulator runs in the NPU venv (:mod:`converters.npu_emulator`, a server started once per
file and fed frames over a pipe), so parity and evaluation code treats the compiled file like
any other runner. One 128x128 inference takes 11-24 s on two cores: the emulator simulates the
Hexagon NPU op by op.
"""
from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import numpy as np

from . import npu_env
from .npu_emulator import read_frame, write_frame


class NpuEmulatorRunner:
    """NCHW float [0, 1] in and out, like every runner; the compiled file's fixed input size only."""

    def __init__(self, path: str | os.PathLike[str], env: npu_env.NpuEnv | None = None) -> None:
        self.path = Path(path)
        env = env or npu_env.find()
        self._child = subprocess.Popen(env.script("npu_emulator") + [str(self.path), str(env.qnn_libs)],
                                       env=env.environ(), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                       stderr=None)
        facts = self._receive()
        io_facts = json.loads(facts.item())
        (inp,), (out,) = io_facts["inputs"], io_facts["outputs"]
        self.input_size: tuple[int, int] | None = (int(inp["shape"][1]), int(inp["shape"][2]))
        self.scale = int(out["shape"][1]) // self.input_size[0]

    def _receive(self) -> np.ndarray:
        assert self._child.stdout is not None
        y = read_frame(self._child.stdout)
        if y is None:
            code = self._child.wait()
            raise RuntimeError(f"the HTP emulator stopped on {self.path.name} (exit {code})")
        return y

    def __call__(self, x: np.ndarray) -> np.ndarray:
        if x.ndim != 4 or x.shape[:2] != (1, 3) or tuple(x.shape[2:]) != self.input_size:
            raise ValueError(f"{self.path.name} takes (1, 3, {self.input_size[0]}, {self.input_size[1]}), got {x.shape}")
        assert self._child.stdin is not None
        write_frame(self._child.stdin, np.ascontiguousarray(x.transpose(0, 2, 3, 1), dtype=np.float32))
        return np.ascontiguousarray(self._receive().transpose(0, 3, 1, 2))

    def close(self) -> None:
        """Ends the emulator process (also when the runner is garbage-collected)."""
        if getattr(self, "_child", None) is not None and self._child.poll() is None:
            assert self._child.stdin is not None
            self._child.stdin.close()
            try:
                self._child.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self._child.kill()
                self._child.wait()

    def __del__(self) -> None:
        self.close()


def load_runner(path: str | os.PathLike[str], any_size: bool = False) -> NpuEmulatorRunner:
    """A runner for a compiled file; ``any_size`` is accepted and ignored: the NPU file is static."""
    return NpuEmulatorRunner(path)
