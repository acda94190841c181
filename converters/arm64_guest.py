"""The guest side of :mod:`converters.arm64_runner`: runs inside the emulated aarch64 Python.

It imports only NumPy, LiteRT's aarch64 wheel and :mod:`converters.tflite_runner` (the repository
is on the guest's ``PYTHONPATH``), so the file runs through exactly the layout, quantization and
resizing code the x86 parity uses, and only the kernels differ: XNNPACK's ARM64 ones.

``serve FILE THREADS ANY_SIZE``: answers NCHW float32 arrays on stdin (NumPy's ``.npy`` framing,
one after another) with the file's outputs on stdout, after first writing the file's
``[scale, h, w]`` (``h = w = 0`` when any size goes) once the interpreter is ready.

``count FILE H W RUNS``: one guest thread; runs the file once on a fixed random tile (warm-up:
XNNPACK's set-up on the first invoke), then marks ``lseek(MARK_FD, k, 0)`` before and after
each of RUNS invokes, which the counting plugin turns into instruction counts.
"""
from __future__ import annotations

import io
import os
import sys
from typing import BinaryIO

import numpy as np

from converters.tflite_runner import TFLiteRunner

#: The descriptor the counting plugin (toolchains/arm64/insn_count.c) watches for lseek marks.
MARK_FD = -4242


class _Stream:
    """A pipe as NumPy's ``.npy`` reader must see it: ``read`` only (``fromfile`` cannot read pipes)."""

    def __init__(self, pipe: BinaryIO) -> None:
        self.read = pipe.read


def send(pipe: BinaryIO, array: np.ndarray) -> None:
    """One array in ``.npy`` framing (built in memory: ``tofile`` cannot write pipes)."""
    buffer = io.BytesIO()
    np.lib.format.write_array(buffer, np.ascontiguousarray(array))
    pipe.write(buffer.getvalue())
    pipe.flush()


def receive(pipe: BinaryIO) -> np.ndarray:
    """The next array :func:`send` wrote; raises at end of stream."""
    return np.lib.format.read_array(_Stream(pipe))


def _mark(k: int) -> None:
    try:
        os.lseek(MARK_FD, k, 0)
    except OSError:  # EBADF, always: the call is only a signal to the plugin
        pass


def serve(path: str, threads: int, any_size: bool) -> None:
    out = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)  # LiteRT's own prints must never mix into the answers
    runner = TFLiteRunner(path, num_threads=threads, any_size=any_size)
    h, w = runner.input_size or (0, 0)
    send(out, np.array([runner.scale, h, w], dtype=np.int64))
    stdin = sys.stdin.buffer
    while stdin.peek(1):
        send(out, runner(receive(stdin)))


def count(path: str, h: int, w: int, runs: int) -> None:
    runner = TFLiteRunner(path, num_threads=1, any_size=True)
    x = np.random.default_rng(0).random((1, 3, h, w), dtype=np.float32)
    runner(x)
    for k in range(runs):
        _mark(2 * k)
        runner.interpreter.invoke()
        _mark(2 * k + 1)


if __name__ == "__main__":
    mode, file, *rest = sys.argv[1:]
    if mode == "serve":
        serve(file, int(rest[0]), rest[1] == "1")
    else:
        count(file, int(rest[0]), int(rest[1]), int(rest[2]))
