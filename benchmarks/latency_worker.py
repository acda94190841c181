"""One measuring process of ``python -m benchmarks.latency``: one model at one thread count, or the GEMM probe.

A process of its own per (model, threads) so that each loads its runtime and model once, keeps
its memory apart (``ru_maxrss`` is then that model's peak, not the sum of all), and never runs
while another computes: the parent drives every process over a pipe, one request at a time, so
the inferences of all models interleave (see :mod:`benchmarks.latency_pool`). Each request is
one JSON line on stdin; each reply one JSON line on the protocol pipe (the process's original
stdout). Anything a library prints goes to stderr, which the parent keeps in a log.

Times are taken here, around the call alone, with ``time.perf_counter``; the request's start
and end as ``perf_counter_ns`` (CLOCK_MONOTONIC on Linux: comparable across processes) let the
parent's trace show that no two inferences overlapped.

Only the modules of the model's own runtime are imported (NumPy and LiteRT for a ``.tflite``,
ONNX Runtime for an ``.onnx``), so a file's peak memory does not include PyTorch.
"""
from __future__ import annotations

import argparse
import importlib
import json
import os
import resource
import sys
import time
import traceback
from pathlib import Path
from typing import Any, Callable

import numpy as np

from pcarn_mobile.errors import UserError, first_line
from pcarn_mobile.tiling import upscale_array

#: Square sizes of the float32 GEMM probe (``torch.mm``): large enough to reach the machine's rate.
GEMM_SIZES: tuple[int, ...] = (1024, 2048)
_GEMM_REPEATS = 5
_GEMM_SETTLE_S = 1.0


class TimedRunner:
    """A runner (``converters.runner.Runner``) that records how long each call took, in ms."""

    def __init__(self, runner: Any) -> None:
        self.runner, self.scale, self.input_size = runner, runner.scale, runner.input_size
        self.calls_ms: list[float] = []

    def __call__(self, x: np.ndarray) -> np.ndarray:
        start = time.perf_counter()
        y = self.runner(x)
        self.calls_ms.append(1000.0 * (time.perf_counter() - start))
        return y


class Measured:
    """The model a worker times: loaded once, then asked for frames of the preset's size."""

    def __init__(self, request: dict[str, Any]) -> None:
        self.kind, self.threads = request["kind"], int(request["threads"])
        self.path = Path(request["path"]) if request.get("path") else None
        self.overlap = int(request["overlap"])
        rng = np.random.default_rng(0)
        self.frame = rng.uniform(0.0, 1.0, (*request["frame"], 3)).astype(np.float32)
        self.info: dict[str, Any] = {}
        load = self._loader(request)
        start = time.perf_counter()
        self.runner = TimedRunner(load())
        self.info["init_ms"] = 1000.0 * (time.perf_counter() - start)
        fixed = self.runner.input_size
        self.fed: tuple[int, int] = fixed or tuple(request["frame"])  # one inference's input (H, W)
        self.tiled = fixed is not None
        self.sample = rng.uniform(0.0, 1.0, (1, 3, *self.fed)).astype(np.float32)  # one inference's input

    def _loader(self, request: dict[str, Any]) -> Callable[[], Any]:
        """Imports the runtime (not part of the init time) and returns what loads the model."""
        if self.kind == "tflite":
            from converters.tflite_runner import TFLiteRunner

            return lambda: TFLiteRunner(self.path, num_threads=self.threads)
        if self.kind == "onnx":
            from converters.onnx_runner import ONNXRunner

            return lambda: ONNXRunner(self.path, num_threads=self.threads)
        import torch

        from pcarn_mobile.modelargs import model_from_args
        from pcarn_mobile.tiling import TorchRunner

        torch.set_num_threads(self.threads)

        def load() -> TorchRunner:
            loaded = model_from_args(argparse.Namespace(**request["model_args"]), request["scale"])
            self.network = loaded.model
            self.info.update(model=loaded.file_name or loaded.source, sha256=loaded.sha256,
                             arch=loaded.header.arch, groups=loaded.header.groups)
            return TorchRunner(loaded.model, request["scale"])

        return load

    def first(self) -> dict[str, Any]:
        """The first inference at the fed size (lazy allocation, weight packing and caches happen here)."""
        self.runner(self.sample)
        return {"ms": self.runner.calls_ms.pop()}

    def frame_once(self) -> dict[str, Any]:
        """One preset frame as an app runs it: whole, or in the tile plan of :func:`upscale_array`."""
        self.runner.calls_ms.clear()
        start_ns = time.perf_counter_ns()
        upscale_array(self.runner, self.frame, overlap=self.overlap)
        end_ns = time.perf_counter_ns()
        return {"start_ns": start_ns, "end_ns": end_ns, "frame_ms": (end_ns - start_ns) / 1e6,
                "inference_ms": list(self.runner.calls_ms)}

    def finish(self) -> dict[str, Any]:
        """Peak resident memory so far (MB), and for TFLite whether XNNPACK took the graph."""
        reply: dict[str, Any] = {"peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0}
        if self.kind == "tflite":
            reply["delegation"] = xnnpack_delegation(self.runner.runner.interpreter)
        return reply

    def stages(self, request: dict[str, Any]) -> dict[str, Any]:
        """Milliseconds per network stage (:mod:`benchmarks.stages`) at the fed size."""
        from . import stages

        x, runs = self.sample, int(request["runs"])
        if self.kind == "torch":
            return {"ms": stages.torch_stages(self.network, self.runner.scale, x, runs)}
        calls = [stages.ConvCall(stage, out, (kh, kw)) for stage, out, kh, kw in request["calls"]]
        if self.kind == "onnx":
            return {"ms": stages.onnx_stages(self.path, self.threads, x, calls, runs)}
        return {"ms": stages.tflite_stages(self.path, self.threads, self.fed, calls, runs)}


def xnnpack_delegation(interpreter: Any) -> dict[str, Any]:
    """Whether LiteRT's default XNNPACK delegate took the whole graph (schema ``delegation``).

    LiteRT's Python API says nothing about it but lists the nodes after delegation: the graph ran
    on XNNPACK whole when one DELEGATE node reads the graph's input and writes its output.
    """
    delegates = [op for op in interpreter._get_ops_details() if op["op_name"] == "DELEGATE"]
    if not delegates:
        return {"status": "none"}
    inputs = {d["index"] for d in interpreter.get_input_details()}
    outputs = {d["index"] for d in interpreter.get_output_details()}
    whole = len(delegates) == 1 and inputs <= set(delegates[0]["inputs"]) and outputs <= set(delegates[0]["outputs"])
    return {"status": "full" if whole else "partial", "delegate_kernels": len(delegates)}


def gemm_gflops(threads: list[int], sizes: tuple[int, ...] = GEMM_SIZES) -> dict[int, float]:
    """This machine's single-precision GEMM rate per thread count: the best ``torch.mm`` of square
    float32 matrices (2 n^3 FLOPs), after one untimed product per size. It starts after a pause,
    so that the model workers' idle runtime threads (OpenMP and ONNX Runtime pools spin for up to
    ~200 ms after their last work) are asleep: without it, a run with a PyTorch worker read 162
    GFLOP/s where runs without one read 249 to 262 on the same machine."""
    import torch

    time.sleep(_GEMM_SETTLE_S)
    rates = {}
    for t in threads:
        torch.set_num_threads(t)
        best = 0.0
        for n in sizes:
            a, b = torch.rand(n, n), torch.rand(n, n)
            torch.mm(a, b)
            for _ in range(_GEMM_REPEATS):
                start = time.perf_counter()
                torch.mm(a, b)
                best = max(best, 2.0 * n**3 / (time.perf_counter() - start) / 1e9)
        rates[t] = best
    return rates


def handle(state: dict[str, Measured], request: dict[str, Any]) -> dict[str, Any]:
    """One request -> its reply (``op``: load, first, frame, finish, stages, gemm)."""
    op = request["op"]
    if op == "gemm":
        return {"gflops": {str(t): r for t, r in gemm_gflops(request["threads"], tuple(request["sizes"])).items()}}
    if op == "load":
        state["model"] = Measured(request)
        m = state["model"]
        return {**m.info, "input": list(m.fed), "tiled": m.tiled}
    actions: dict[str, Callable[[], dict[str, Any]]] = {
        "first": state["model"].first, "frame": state["model"].frame_once, "finish": state["model"].finish,
        "stages": lambda: state["model"].stages(request)}
    return actions[op]()


#: Worker kind -> the modules it imports at start, before it says it is ready: imports are no part of
#: any measured time, and the parent lets all workers import at once before it measures anything.
IMPORTS: dict[str, tuple[str, ...]] = {
    "tflite": ("converters.tflite_runner",), "onnx": ("converters.onnx_runner",),
    "torch": ("torch", "pcarn_mobile.modelargs", "pcarn_mobile.weights"), "gemm": ("torch",)}


def main() -> None:
    protocol = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)  # anything else written to stdout, by Python or native code, lands in the log
    sys.stdout = sys.stderr
    for module in IMPORTS[sys.argv[1]]:
        importlib.import_module(module)
    protocol.write(json.dumps({"ready": True}) + "\n")
    state: dict[str, Measured] = {}
    for line in sys.stdin:
        request = json.loads(line)
        try:
            reply = handle(state, request)
        except UserError as exc:
            reply = {"error": str(exc), "user": True}
        except Exception as exc:  # noqa: BLE001 - any runtime's failure is reported, with its traceback in the log
            traceback.print_exc()
            reply = {"error": f"{type(exc).__name__}: {first_line(exc)}", "user": False}
        protocol.write(json.dumps(reply) + "\n")


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:  # Ctrl-C reaches the whole process group; the parent reports it
        sys.exit(130)
