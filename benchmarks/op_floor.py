"""``python -m benchmarks.op_floor``: each operator of a .tflite file timed alone, so a latency target can be
checked against what the runtime's kernels can do at all.

``benchmarks.latency --stages`` says where a file spends its time; this says how far any rewrite of
the graph could bring it. Every operator of the file is cut out into a file of its own (the same
kernel, shapes, weights, fused activation and quantization; its activations become the graph's
inputs) and timed round-robin with the whole file, and with an ONNX Runtime session of an
``--onnx`` file of the same weights, in one run. Summed per kind (a convolution's kernel, channels,
groups and resolution), with each kind's Mult-Adds per second and share of the machine's GEMM
rate, this gives:

- the **sum of the operators alone**: the file's time with no cost between operators;
- the **floor** of the grouped convolutions, the part of the work that is the architecture
  itself: any exact rewrite still computes them. So a float file can be no faster than its grouped
  convolutions at their best formulation, and ``--alternatives`` times the two other ways to
  write each fp32 grouped convolution in TFLite ops: one convolution per group between a SPLIT
  and a CONCATENATION, and one dense convolution with zero blocks off the diagonal.

Exit status: 0 measured, 2 bad input (one ``error:`` line).
"""
from __future__ import annotations

import argparse
import statistics
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np

from pcarn_mobile.errors import CliParser, UserError, run_cli
from pcarn_mobile.filekind import ONNX_MODEL, TFLITE_MODEL, other_than
from pcarn_mobile.fileio import write_json
from pcarn_mobile.machine import describe_machine, installed_versions, machine_facts

from .presets import parse_preset
from .sidecars import read_sidecar
from .stages import time_round_robin
from .tflite_ops import GROUPED_FORMS, OpInfo, describe_ops, ready_interpreter, single_op

TOOLS = ("ai-edge-litert", "onnxruntime", "pcarn-mobile")


@dataclass
class Timed:
    """One thing timed round-robin: the whole file, an ONNX Runtime session, or one operator alone."""

    label: str
    invoke: Callable[[], Any]
    op: OpInfo | None = None
    form: str = "file"
    samples: list[float] = field(default_factory=list)
    keep: Any = None  # the interpreter and the bytes it runs from

    @property
    def p50(self) -> float:
        return statistics.median(self.samples)


def build_parser() -> argparse.ArgumentParser:
    p = CliParser(prog="python -m benchmarks.op_floor",
                  description="Time each operator of a .tflite file alone, interleaved with the whole file "
                              "(and an ONNX Runtime session): the least time its kernels need. "
                              "See benchmarks/README.md.")
    p.add_argument("--model", required=True, metavar="FILE.tflite", help="a .tflite file exported by pcarn_mobile.convert")
    p.add_argument("--onnx", metavar="FILE.onnx", help="also time this ONNX file whole, in the same rounds")
    p.add_argument("--preset", default="720p-x4", metavar="NAME",
                   help="the input of a file that takes any size: 720p-x4 (180x320; default), 1080p-x3, tile128 "
                        "or HEIGHTxWIDTH; a fixed-size file runs its own size (one tile)")
    p.add_argument("--threads", type=int, default=2, metavar="N", help="threads per interpreter (default 2)")
    p.add_argument("--runs", type=int, default=5, metavar="N", help="timed rounds (default 5, after one warm-up)")
    p.add_argument("--alternatives", action="store_true",
                   help="also time each fp32 grouped convolution written per group and as a dense convolution")
    p.add_argument("--json", metavar="OUT", help="write the figures here")
    return p


def check(args: argparse.Namespace) -> None:
    """Bad input -> one line, before any runtime is imported."""
    for flag, text, kind in (("--model", args.model, TFLITE_MODEL), ("--onnx", args.onnx, ONNX_MODEL)):
        if text is None:
            continue
        path = Path(text)
        if not path.is_file():
            raise UserError(f"{flag} {text}: no such file")
        found = other_than(path, kind)
        if found is not None:
            raise UserError(f"{flag} {text}: not {kind} (it is {found})")
    if args.runs < 1 or args.threads < 1:
        raise UserError("--runs and --threads must be at least 1")
    if args.json and not Path(args.json).resolve().parent.is_dir():
        raise UserError(f"--json {args.json}: folder {Path(args.json).parent} does not exist")


def candidates(data: bytes, frame: tuple[int, int], args: argparse.Namespace) -> tuple[list[Timed], list[OpInfo]]:
    """The whole file, the ONNX session, every operator alone and (``--alternatives``) the other forms."""
    try:
        whole = ready_interpreter(data, args.threads, frame)
    except (ValueError, RuntimeError) as exc:
        raise UserError(f"--model {args.model}: litert cannot load it ({str(exc).strip().splitlines()[0]})") from None
    # A delegate keeps the shapes of the tensors inside it to itself: read them from TFLite's own kernels.
    probe = ready_interpreter(data, 1, frame, delegate=False)
    shapes = {t["index"]: [int(s) for s in t["shape"]] for t in probe.get_tensor_details()}
    del probe
    ops = describe_ops(data, shapes)
    timed = [Timed(f"whole file ({'x'.join(map(str, whole.get_input_details()[0]['shape'][1:3]))} in)",
                   whole.invoke, keep=whole)]
    if args.onnx:
        from converters.onnx_runner import ONNXRunner

        runner = ONNXRunner(args.onnx, num_threads=args.threads)
        x = np.random.default_rng(0).uniform(0, 1, (1, 3, *(runner.input_size or frame))).astype(np.float32)
        timed.append(Timed(f"onnxruntime whole file ({Path(args.onnx).name})", lambda: runner(x), keep=runner))
    for op in ops:
        forms = ["alone"] + (list(GROUPED_FORMS) if args.alternatives and op.alternatives_apply else [])
        for form in forms:
            content = single_op(data, op.index, shapes, form)
            it = ready_interpreter(content, args.threads)
            timed.append(Timed(op.kind, it.invoke, op, form, keep=(it, content)))
    return timed, ops


def summary(timed: list[Timed], gemm: float) -> dict[str, Any]:
    """Per kind and form: count, Mult-Adds, ms (sum of the operators' p50s), rate and share of GEMM."""
    kinds: dict[tuple[str, str], dict[str, Any]] = {}
    for t in timed:
        if t.op is None:
            continue
        k = kinds.setdefault((t.op.kind, t.form), {"kind": t.op.kind, "form": t.form, "count": 0, "mult_adds": 0,
                                                   "ms": 0.0, "grouped": t.op.grouped})
        k["count"] += 1
        k["mult_adds"] += t.op.mult_adds
        k["ms"] += t.p50
    for k in kinds.values():
        k["ms"] = round(k["ms"], 3)
        if k["mult_adds"]:
            k["gmacs_per_s"] = round(k["mult_adds"] / k["ms"] / 1e6, 2)
            k["gemm_fraction"] = round(2.0 * k["gmacs_per_s"] / gemm, 4)
    return {"kinds": list(kinds.values()),
            "whole": [{"label": t.label, "p50_ms": round(t.p50, 3), "min_ms": round(min(t.samples), 3)}
                      for t in timed if t.op is None]}


def floors(doc: dict[str, Any]) -> dict[str, float]:
    """The sums a target is checked against: every operator alone, and the grouped convolutions alone at
    the fastest of the forms timed."""
    alone = [k for k in doc["kinds"] if k["form"] == "alone"]
    best: dict[str, float] = {}
    for k in doc["kinds"]:
        if k["grouped"]:
            best[k["kind"]] = min(best.get(k["kind"], float("inf")), k["ms"])
    return {"operators_alone_ms": round(sum(k["ms"] for k in alone), 3),
            "convolutions_alone_ms": round(sum(k["ms"] for k in alone if k["mult_adds"]), 3),
            "grouped_convolutions_best_ms": round(sum(best.values()), 3)}


def print_report(doc: dict[str, Any]) -> None:
    print(f"{'operator kind':44s} {'form':9s} {'count':>5s} {'GMAC':>7s} {'ms':>8s} {'GMAC/s':>7s} {'of GEMM':>7s}")
    for k in sorted(doc["kinds"], key=lambda k: -k["ms"]):
        rate = f"{k['gmacs_per_s']:7.1f} {100 * k['gemm_fraction']:6.1f}%" if k.get("gmacs_per_s") else f"{'':7s} {'':7s}"
        print(f"{k['kind']:44s} {k['form']:9s} {k['count']:5d} {k['mult_adds'] / 1e9:7.2f} {k['ms']:8.1f} {rate}")
    for w in doc["whole"]:
        print(f"{w['label']}: p50 {w['p50_ms']:.1f} ms, min {w['min_ms']:.1f} ms")
    f, gemm = doc["floors"], doc["gemm_gflops"]
    print(f"sum of the operators alone (p50s): {f['operators_alone_ms']:.1f} ms; of the convolutions alone: "
          f"{f['convolutions_alone_ms']:.1f} ms; of the grouped convolutions at their fastest form: "
          f"{f['grouped_convolutions_best_ms']:.1f} ms")
    if doc.get("network_mult_adds"):
        macs = doc["network_mult_adds"]
        bound = 2.0 * macs / (f["grouped_convolutions_best_ms"] / 1000.0) / 1e9 / gemm
        print(f"with every other operator free, the network's {macs / 1e9:.2f} G Mult-Adds would reach at most "
              f"{100 * bound:.0f} % of this machine's GEMM rate ({gemm:.1f} GFLOP/s)")
    if len(doc["whole"]) > 1:
        ort = doc["whole"][1]["p50_ms"]
        print(f"grouped convolutions alone / ONNX Runtime's whole file: {f['grouped_convolutions_best_ms'] / ort:.2f}; "
              f"convolutions alone / ONNX Runtime: {f['convolutions_alone_ms'] / ort:.2f}")


def network_mult_adds(s: dict[str, Any] | None, hw: list[int]) -> int | None:
    """The network's Mult-Adds (paper convention) for the file's input, from its sidecar ``s``; None without one."""
    if s is None:
        return None
    from pcarn_mobile.complexity import count_mult_adds
    from pcarn_mobile.models import build_model

    return count_mult_adds(build_model(s["model"], s["groups"], (s["scale"],)), (1, 3, *hw), s["scale"])


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    frame, _ = parse_preset(args.preset)
    check(args)
    model = Path(args.model)
    # The sidecar, when the file has one, names the network whose Mult-Adds the bounds use.
    sidecar = read_sidecar(model, "tflite") if model.with_name(model.name + ".json").is_file() else None
    data = model.read_bytes()
    load, machine, tools = machine_facts()["load"], describe_machine(), installed_versions(TOOLS)
    print(f"machine: {machine}")
    print("tools: " + ", ".join(f"{k} {v}" for k, v in tools.items()))
    timed, ops = candidates(data, frame, args)
    hw = [int(s) for s in timed[0].keep.get_input_details()[0]["shape"][1:3]]
    print(f"{model.name}: {len(ops)} operators, input {hw[0]}x{hw[1]}; {args.threads} thread(s); "
          f"1 warm-up + {args.runs} rounds over {len(timed)} candidates, round-robin")
    for t, samples in zip(timed, time_round_robin([t.invoke for t in timed], args.runs)):
        t.samples = samples
    from .latency_worker import gemm_gflops

    gemm = gemm_gflops([args.threads])[args.threads]
    doc: dict[str, Any] = {"machine": machine, "load": load, "tools": tools,
                           "model": model.name, "operators": len(ops), "input": hw, "threads": args.threads, "runs": args.runs,
                           "gemm_gflops": round(gemm, 2), **summary(timed, gemm)}
    doc["floors"] = floors(doc)
    doc["network_mult_adds"] = network_mult_adds(sidecar, hw)
    print(f"GEMM float32 (torch.mm): {gemm:.1f} GFLOP/s at {args.threads} thread(s)")
    print_report(doc)
    now = machine_facts()["load"]
    if now is not None and load is not None:
        print(f"load average now {now:.1f} (at the start {load:.1f})")
    if args.json:
        write_json(args.json, doc)
        print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    run_cli(main)
