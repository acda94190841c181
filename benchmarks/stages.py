"""Time per network stage (``--stages``): where an inference spends its time, measured by each runtime.

The stages are the network's own modules in execution order: ``entry``, the cascading blocks
``b1``..``b3`` with the global fusion convs ``c1``..``c3`` between them, one ``upsample.N`` per
upsampler stage (two at x4: conv, ReLU, pixel shuffle each) and ``exit``. Every runtime sees them
as a sequence of convolutions, and the k-th convolution any runtime executes is the k-th one
PyTorch calls (:func:`conv_calls`; the count, and for TFLite the kernel shapes, are checked), so
one rule charges time to stages everywhere: **an operation belongs to the stage of the
convolution at or before it** (the mean shift before the first convolution to ``entry``). The
glue between modules (a cascade's concatenation, the global residual add, pixel shuffles, the
clamp, a runtime's layout reorders) thus goes to the module whose output it consumes.

How each runtime is measured, honestly and in the file's own arithmetic:

- ONNX Runtime: its own per-node profiler (``SessionOptions.enable_profiling``) on the optimised
  graph it really runs; node kernel times summed per stage.
- PyTorch: a timestamp as each convolution starts (forward pre-hooks); eager execution on the
  CPU is synchronous, so the time between two timestamps is the work between them.
- TFLite (LiteRT has no profiler in Python): truncated copies of the file itself, prefix k
  ending just before stage k+1's first convolution with every tensor still needed later as an
  output, so no work is dead. Stage k = median(prefix k) - median(prefix k-1); the prefixes are
  timed round-robin so that noise hits them alike. Noise can make a tiny stage's difference
  negative: it is reported as 0.
"""
from __future__ import annotations

import json
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any, Callable, Iterable

import numpy as np

from converters.tflite_tensors import builtin_code, constant_tensors
from pcarn_mobile.models.stages import ConvCall, conv_calls, stage_of

#: ONNX Runtime node types that are convolutions (after its fusions and layout transforms).
ORT_CONV_OPS = frozenset({"Conv", "FusedConv", "NhwcFusedConv", "QLinearConv", "ConvInteger"})
#: TFLite builtin operator codes that are convolutions: CONV_2D, DEPTHWISE_CONV_2D.
TFLITE_CONV_CODES = {3: "CONV_2D", 4: "DEPTHWISE_CONV_2D"}


def stage_order(calls: list[ConvCall]) -> list[str]:
    """Stage names in execution order."""
    return list(dict.fromkeys(c.stage for c in calls))


def by_stage(segments: Iterable[tuple[str | None, float]], order: list[str]) -> dict[str, float]:
    """Sums ``(stage or None, ms)`` segments in execution order; None (not a convolution) is charged to
    the stage of the convolution before it, or to the first stage before any."""
    totals = dict.fromkeys(order, 0.0)
    current = order[0]
    for stage, ms in segments:
        current = stage or current
        totals[current] += ms
    return totals


def stage_entries(ms: dict[str, float]) -> list[dict[str, Any]]:
    """The schema's ``stages``: ``[{name, ms, share}]``, share = fraction of the stages' sum."""
    total = sum(ms.values()) or 1.0
    return [{"name": name, "ms": round(value, 3), "share": round(value / total, 4)} for name, value in ms.items()]


def median_by_stage(runs: list[dict[str, float]]) -> dict[str, float]:
    """Per stage, the median over runs."""
    return {name: statistics.median(run[name] for run in runs) for name in runs[0]}


# --- ONNX Runtime: its own profiler ---------------------------------------------------------------

def ort_runs(events: list[dict[str, Any]]) -> list[list[tuple[str, float]]]:
    """ONNX Runtime's profile (the JSON list ``end_profiling`` writes) -> per ``model_run``, its nodes'
    ``(op type, kernel ms)`` in execution order."""
    runs = sorted((e for e in events if e.get("cat") == "Session" and e.get("name") == "model_run"),
                  key=lambda e: e["ts"])
    nodes = sorted((e for e in events if e.get("cat") == "Node" and e.get("name", "").endswith("_kernel_time")),
                   key=lambda e: e["ts"])
    return [[(n["args"].get("op_name", ""), n["dur"] / 1000.0) for n in nodes
             if run["ts"] <= n["ts"] <= run["ts"] + run["dur"]] for run in runs]


def ort_stage_ms(nodes: list[tuple[str, float]], calls: list[ConvCall]) -> dict[str, float]:
    """One run's nodes -> ms per stage: the k-th convolution node is PyTorch's k-th convolution."""
    convs = [op for op, _ in nodes if op in ORT_CONV_OPS]
    if len(convs) != len(calls):
        raise ValueError(f"ONNX Runtime ran {len(convs)} convolutions, the network has {len(calls)}: "
                         "cannot tell its stages apart")
    stages = iter(c.stage for c in calls)
    return by_stage(((next(stages) if op in ORT_CONV_OPS else None, ms) for op, ms in nodes), stage_order(calls))


def onnx_stages(path: Path, threads: int, x: np.ndarray, calls: list[ConvCall], runs: int) -> dict[str, float]:
    """Median ms per stage over ``runs`` profiled runs (after one warm-up run, left out)."""
    from converters.onnx_runner import ONNXRunner

    with tempfile.TemporaryDirectory(prefix="pcarn-ort-profile-") as folder:
        runner = ONNXRunner(path, num_threads=threads, profile_prefix=str(Path(folder) / "profile"))
        for _ in range(runs + 1):
            runner(x)
        events = json.loads(Path(runner.session.end_profiling()).read_text())
    measured = ort_runs(events)[-runs:]  # the runner's own probe run and the warm-up come first
    return median_by_stage([ort_stage_ms(nodes, calls) for nodes in measured])


# --- PyTorch: timestamps at convolution starts -----------------------------------------------------

def torch_stages(network: Any, scale: int, x: np.ndarray, runs: int) -> dict[str, float]:
    """Median ms per stage over ``runs`` forward passes (after one warm-up), timestamped as each convolution starts."""
    import torch
    from torch import nn

    from pcarn_mobile.models import SRDeploy

    order = stage_order(conv_calls(network, scale))  # before the hooks: conv_calls copies the network
    module = SRDeploy(network, scale).eval()
    stage = {m: stage_of(name) for name, m in network.named_modules() if isinstance(m, nn.Conv2d)}
    marks: list[tuple[str | None, float]] = []
    hooks = [m.register_forward_pre_hook(lambda mod, _: marks.append((stage[mod], time.perf_counter())))
             for m in stage]
    tensor = torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32))
    measured = []
    try:
        with torch.inference_mode():
            for _ in range(runs + 1):
                marks.clear()
                start = time.perf_counter()
                module(tensor)
                end = time.perf_counter()
                times = [start] + [t for _, t in marks] + [end]
                segments = [(None, times[1] - times[0])] + [(stage, times[i + 2] - times[i + 1])
                                                           for i, (stage, _) in enumerate(marks)]
                measured.append(by_stage(((s, 1000.0 * d) for s, d in segments), order))
    finally:
        for hook in hooks:
            hook.remove()
    return median_by_stage(measured[1:])


# --- TFLite: truncated copies of the file -----------------------------------------------------------

def time_round_robin(invokes: list[Callable[[], Any]], runs: int) -> list[list[float]]:
    """ms of each of ``invokes`` over ``runs`` rounds, one call at a time in the same order every round,
    after one untimed warm-up round: noise on a shared machine hits them alike."""
    samples: list[list[float]] = [[] for _ in invokes]
    for round_ in range(runs + 1):
        for k, invoke in enumerate(invokes):
            start = time.perf_counter()
            invoke()
            if round_:
                samples[k].append(1000.0 * (time.perf_counter() - start))
    return samples


def _same_conv(out_channels: int, kernel: tuple[int, int], call: ConvCall) -> bool:
    """Whether a file's convolution is PyTorch's ``call``; the exit conv may be its sub-pixel twin
    (``converters.onnx_subpixel``: r*r times the outputs, before the last depth-to-space)."""
    from converters.onnx_subpixel import SUBPIXEL_BLOCKS

    widths = {call.out_channels} | ({call.out_channels * r * r for r in SUBPIXEL_BLOCKS} if call.stage == "exit" else set())
    return kernel == call.kernel and out_channels in widths


def tflite_cuts(model: Any, calls: list[ConvCall]) -> list[int]:
    """Where each stage's prefix of the file's operator list ends: before the next stage's first
    convolution (the last: the whole list). The file's convolutions are checked against PyTorch's."""
    sg = model.subgraphs[0]
    convs = []
    for index, op in enumerate(sg.operators):
        name = TFLITE_CONV_CODES.get(builtin_code(model, op))
        if name:
            shape = [int(s) for s in sg.tensors[op.inputs[1]].shape]  # CONV_2D: OHWI; DEPTHWISE_CONV_2D: 1HWO
            convs.append((index, shape[3] if name == "DEPTHWISE_CONV_2D" else shape[0], (shape[1], shape[2])))
    mismatch = len(convs) != len(calls) or not all(_same_conv(o, k, c) for (_, o, k), c in zip(convs, calls))
    if mismatch:
        raise ValueError(f"the file's {len(convs)} convolutions are not the network's {len(calls)} in order: "
                         "cannot tell its stages apart")
    firsts = [index for (index, _, _), prev, call in zip(convs, [None, *calls], calls)
              if prev is not None and prev.stage != call.stage]
    return [*firsts, len(sg.operators)]


def truncated(model_bytes: bytes, end: int) -> bytes:
    """The file with only operators ``[0, end)``; its outputs are every tensor they produce that a later
    operator (or the graph's output) still reads, so the runtime has no dead work to skip."""
    import flatbuffers
    from ai_edge_litert import schema_py_generated as schema

    model = schema.ModelT.InitFromPackedBuf(model_bytes, 0)
    sg = model.subgraphs[0]
    kept, rest = sg.operators[:end], sg.operators[end:]
    needed = {int(t) for op in rest for t in op.inputs} | {int(t) for t in sg.outputs}
    # Weights are not activations: an fp16 file dequantizes every weight up front, once (constant
    # folding); exporting a later convolution's weights would make the prefix compute them per run.
    constant = constant_tensors(model)
    produced = [int(t) for op in kept for t in op.outputs if int(t) not in constant]
    sg.outputs = np.array([t for t in produced if t in needed], dtype=np.int32)
    sg.operators = kept
    model.signatureDefs = []  # they name the full graph's output
    builder = flatbuffers.Builder(len(model_bytes) + 4096)
    builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
    return bytes(builder.Output())


def tflite_stages(path: Path, threads: int, hw: tuple[int, int], calls: list[ConvCall], runs: int) -> dict[str, float]:
    """Median ms per stage from the file's prefixes, each timed ``runs`` times round-robin (after one warm-up)."""
    from ai_edge_litert import schema_py_generated as schema

    from .tflite_ops import ready_interpreter

    data = path.read_bytes()
    cuts = tflite_cuts(schema.ModelT.InitFromPackedBuf(data, 0), calls)
    contents = [data if end == cuts[-1] else truncated(data, end) for end in cuts]
    interpreters = [ready_interpreter(content, threads, hw) for content in contents]
    medians = [statistics.median(s) for s in time_round_robin([it.invoke for it in interpreters], runs)]
    order = stage_order(calls)
    return {name: max(0.0, medians[k] - (medians[k - 1] if k else 0.0)) for k, name in enumerate(order)}
