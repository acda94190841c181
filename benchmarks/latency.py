"""``python -m benchmarks.latency``: exported files and the PyTorch reference timed on this machine, interleaved.

The host's figures sit next to the phones' in ``python -m benchmarks.report`` (latency result
schema v1, ``harness: host``), and answer what a phone cannot: how far a runtime is from what
this CPU can do at all. So each run measures, besides the models, the machine's float32 GEMM
rate per thread count and reports each model's Mult-Adds per second as a fraction of it.

Every (model, threads) runs in a process of its own and all are timed round-robin
(:mod:`benchmarks.latency_pool`), so noise on a shared machine hits them alike. A preset is one
frame: files with a fixed input size run it in tiles as an app does (the tile plan of
:func:`pcarn_mobile.tiling.upscale_array`, with the sidecar's overlap, edge-padded when the
frame is smaller than a tile), files that take any size and PyTorch run it whole.
``--stages`` adds the time per network stage (:mod:`benchmarks.stages`).

Exit status: 0 all measured, 1 a measurement failed (its error is in the JSON, which is still
written), 2 bad input (one ``error:`` line).
"""
from __future__ import annotations

import argparse
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pcarn_mobile.archinfo import DEFAULT_OVERLAP
from pcarn_mobile.errors import CliParser, UserError, run_cli
from pcarn_mobile.filekind import ONNX_MODEL, TFLITE_MODEL, other_than
from pcarn_mobile.fileio import sha256_of, write_json
from pcarn_mobile.machine import describe_machine, installed_versions, machine_facts
from pcarn_mobile.modelargs import add_model_args
from pcarn_mobile.tiling import count_tiles

from . import latency_pool as pool
from .latency_table import print_stages, print_table
from .latency_worker import GEMM_SIZES
from .presets import parse_preset
from .results import new_result, schema_errors
from .sidecars import input_hw, read_sidecar
from .stats import latency_stats

#: File suffix -> (format, what pcarn_mobile.filekind calls such a file).
SUFFIXES: dict[str, tuple[str, str]] = {".tflite": ("tflite", TFLITE_MODEL), ".onnx": ("onnx", ONNX_MODEL)}
#: Format -> (schema runtime, backend): LiteRT's Python interpreter applies XNNPACK by default.
RUNTIMES: dict[str, tuple[str, str]] = {"tflite": ("litert", "xnnpack"), "onnx": ("onnxruntime", "cpu"),
                                        "torch": ("pytorch", "cpu")}
TOOLS = ("ai-edge-litert", "onnxruntime", "torch", "pcarn-mobile")


@dataclass(frozen=True)
class ModelSpec:
    """One ``--model``: an exported file and its sidecar, or ``torch`` (the PyTorch reference)."""

    kind: str
    path: Path | None = None
    sidecar: dict[str, Any] | None = None

    @property
    def label(self) -> str:
        return self.path.name if self.path else "torch"

    @property
    def fixed(self) -> tuple[int, int] | None:
        """The file's fixed input size; None: any size (run whole)."""
        return input_hw(self.sidecar) if self.sidecar else None

    @property
    def overlap(self) -> int:
        return int(self.sidecar["tiling"]["overlap"]) if self.sidecar else DEFAULT_OVERLAP


@dataclass
class Measurement:
    """What the worker for one (model, threads) reported."""

    spec: ModelSpec
    threads: int
    loaded: dict[str, Any] = field(default_factory=dict)
    first_ms: float | None = None
    inference_ms: list[float] = field(default_factory=list)
    frame_ms: list[float] = field(default_factory=list)
    tiles: int = 1  # inferences per frame: the tile plan's count
    finish: dict[str, Any] = field(default_factory=dict)
    stages: dict[str, float] | None = None
    error: str | None = None


def build_parser() -> argparse.ArgumentParser:
    p = CliParser(prog="python -m benchmarks.latency",
                  description="Time .tflite and .onnx files and the PyTorch reference on this machine, interleaved "
                              "round-robin, per thread count; with the machine's GEMM rate. See benchmarks/README.md.")
    p.add_argument("--model", nargs="+", required=True, metavar="FILE",
                   help=".tflite / .onnx files exported by pcarn_mobile.convert (each with its sidecar FILE.json), "
                        "and/or the word torch: the PyTorch network of --weights")
    p.add_argument("--preset", default="720p-x4", metavar="NAME",
                   help="the frame: 720p-x4 (180x320 LR in, 1280x720 out at x4: the paper's setting; default), "
                        "1080p-x3 (360x640 in), tile128 (128x128 in), or HEIGHTxWIDTH")
    p.add_argument("--threads", default=str(os.cpu_count() or 1), metavar="LIST",
                   help="comma-separated thread counts, each model measured at each (default: one per core)")
    p.add_argument("--runs", type=int, default=10, metavar="N", help="timed frames per model (default 10)")
    p.add_argument("--warmup", type=int, default=2, metavar="N", help="untimed frames first (default 2)")
    p.add_argument("--scale", type=int, choices=(2, 3, 4),
                   help="torch: the scale to run (default: the preset's, else 4)")
    add_model_args(p)
    p.add_argument("--stages", action="store_true",
                   help="also measure the time per network stage (entry, b1..b3, c1..c3, upsample, exit); slower")
    p.add_argument("--json", metavar="OUT", help="write the latency result (schema v1) here")
    return p


def parse_threads(text: str) -> list[int]:
    """``--threads 1,2,4`` -> [1, 2, 4] (duplicates dropped)."""
    parts = [p.strip() for p in text.split(",")]
    if not all(p.isdigit() and int(p) > 0 for p in parts):
        raise UserError(f"--threads {text!r}: expected comma-separated positive integers such as 1,2,4")
    return list(dict.fromkeys(int(p) for p in parts))


def model_spec(text: str) -> ModelSpec:
    """One ``--model`` value, checked before any runtime is imported: the file, its kind, its sidecar."""
    if text == "torch":
        return ModelSpec("torch")
    path = Path(text)
    if not path.is_file():
        raise UserError(f"--model {text}: no such file")
    if path.suffix not in SUFFIXES:
        raise UserError(f"--model {text}: not a .tflite or .onnx file, nor the word torch "
                        "(Core ML packages are timed by benchmarks/ios)")
    fmt, expected = SUFFIXES[path.suffix]
    found = other_than(path, expected)
    if found is not None:
        raise UserError(f"--model {text}: not {expected} (it is {found})")
    return ModelSpec(fmt, path, read_sidecar(path, fmt))


def check_options(args: argparse.Namespace) -> None:
    """The options that need no file read."""
    for name, value, low in (("--runs", args.runs, 1), ("--warmup", args.warmup, 0)):
        if value < low:
            raise UserError(f"{name} must be at least {low}")
    if (args.weights or args.random_init or args.groups or args.arch or args.scale) and "torch" not in args.model:
        raise UserError("--weights, --random-init, --groups, --arch and --scale choose the PyTorch network: "
                        "add torch to --model")
    if args.json and not Path(args.json).resolve().parent.is_dir():
        raise UserError(f"--json {args.json}: folder {Path(args.json).parent} does not exist")


def check_tiles(specs: list[ModelSpec], frame: tuple[int, int]) -> None:
    """A fixed-size file must be able to cut the frame into tiles with its sidecar's overlap."""
    for spec in specs:
        tile = spec.fixed
        if tile and (frame[0] > tile[0] or frame[1] > tile[1]) and min(tile) <= 2 * spec.overlap:
            raise UserError(f"{spec.label}: its fixed input {tile[0]}x{tile[1]} cannot be tiled with its sidecar's "
                            f"overlap {spec.overlap}; export it with --dynamic or a larger --input-size")


def load_request(m: Measurement, frame: tuple[int, int], args: argparse.Namespace, scale: int) -> dict[str, Any]:
    request: dict[str, Any] = {"kind": m.spec.kind, "threads": m.threads, "frame": list(frame),
                               "overlap": m.spec.overlap, "path": str(m.spec.path) if m.spec.path else None}
    if m.spec.kind == "torch":
        request["scale"] = scale
        request["model_args"] = {k: getattr(args, k) for k in ("weights", "random_init", "groups", "arch")}
    return request


def measure(measurements: list[Measurement], frame: tuple[int, int], args: argparse.Namespace,
            scale: int) -> dict[int, float]:
    """Loads every model, times them interleaved, then their stages (``--stages``) and the GEMM rate per
    thread count; fills ``measurements`` in place and returns the GEMM GFLOP/s per thread count.

    The model workers import their runtimes at once, then load one at a time (init times must not
    overlap), so a file no runtime can load is refused within a second or two. Only then do the GEMM
    worker and this process import PyTorch, side by side, before anything is timed.
    """
    kinds = [(f"{m.spec.label} @{m.threads}", m.spec.kind) for m in measurements]
    with tempfile.TemporaryDirectory(prefix="pcarn-latency-") as tmp, pool.started(kinds, Path(tmp)) as workers:
        for worker in workers:
            ready(worker)
        for m, worker in zip(measurements, workers):
            load(m, worker, frame, args, scale)
        with pool.started([("gemm", "gemm")], Path(tmp)) as (gemm,):
            import torch  # noqa: F401 - for Mult-Adds and stages; imported while the GEMM worker imports it
            ready(gemm)
            time_interleaved(measurements, workers, args)
            if args.stages:
                measure_stages(measurements, workers, args.runs)
            rates = gemm.ask("gemm", threads=sorted({m.threads for m in measurements}), sizes=list(GEMM_SIZES))
    return {int(t): rate for t, rate in rates["gflops"].items()}


def ready(worker: pool.Worker) -> None:
    try:
        worker.ready()
    except pool.WorkerError as exc:
        raise UserError(f"the {worker.label} measuring process could not start ({exc})") from None


def load(m: Measurement, worker: pool.Worker, frame: tuple[int, int], args: argparse.Namespace, scale: int) -> None:
    """Loads one model in its worker; a file its runtime cannot load is bad input."""
    try:
        m.loaded = worker.ask("load", **load_request(m, frame, args, scale))
    except pool.WorkerError as exc:
        what = f"--model {m.spec.path}" if m.spec.path else "torch"
        raise UserError(f"{what}: {RUNTIMES[m.spec.kind][0]} cannot load it ({exc})") from None
    fed = m.loaded["input"]
    m.tiles = count_tiles(*frame, tuple(fed), m.spec.overlap) if m.loaded["tiled"] else 1
    print(f"loaded {m.spec.label}, {m.threads} thread(s): init {m.loaded['init_ms']:.1f} ms, "
          + (f"{m.tiles} tiles of {fed[0]}x{fed[1]} per frame" if m.loaded["tiled"] else "whole frame"))


def time_interleaved(measurements: list[Measurement], workers: list[pool.Worker], args: argparse.Namespace) -> None:
    """First inference, warm-up and timed frames, every phase round-robin over all workers."""
    for m, worker in zip(measurements, workers):
        m.first_ms = ask_or_fail(m, worker, "first").get("ms")
    print(f"timing: {args.warmup} warm-up + {args.runs} timed rounds over {len(workers)} models x threads, round-robin")
    for _ in pool.interleaved(workers, args.warmup, timed=False):
        pass
    for index, reply in pool.interleaved(workers, args.runs, timed=True):
        m = measurements[index]
        if len(reply["inference_ms"]) != m.tiles:
            raise RuntimeError(f"{m.spec.label} ran {len(reply['inference_ms'])} inferences for one frame, "
                               f"the tile plan has {m.tiles}")
        m.inference_ms += reply["inference_ms"]
        m.frame_ms.append(reply["frame_ms"])
    for m, worker in zip(measurements, workers):
        m.error = m.error or worker.error
        m.finish = ask_or_fail(m, worker, "finish")


def ask_or_fail(m: Measurement, worker: pool.Worker, op: str) -> dict[str, Any]:
    """``op``'s reply, or {} with the measurement marked failed."""
    if worker.error:
        return {}
    try:
        return worker.ask(op)
    except pool.WorkerError as exc:
        worker.error = m.error = str(exc)
        return {}


def measure_stages(measurements: list[Measurement], workers: list[pool.Worker], runs: int) -> None:
    """Each model's stage times, one model at a time (a failure is a note: the latency stands)."""
    from pcarn_mobile.models import build_model

    from .stages import conv_calls

    for m, worker in zip(measurements, workers):
        if worker.error:
            continue
        request: dict[str, Any] = {"runs": runs}
        if m.spec.sidecar:
            s = m.spec.sidecar
            calls = conv_calls(build_model(s["model"], s["groups"], (s["scale"],)), s["scale"])
            request["calls"] = [[c.stage, c.out_channels, *c.kernel] for c in calls]
        try:
            m.stages = worker.ask("stages", **request)["ms"]
        except pool.WorkerError as exc:
            print(f"note: no stage times for {m.spec.label} @{m.threads}: {exc}")


def result(m: Measurement, preset: str, args: argparse.Namespace, scale: int, gemm: dict[int, float]) -> dict[str, Any]:
    """One schema-v1 result."""
    from pcarn_mobile.complexity import count_mult_adds
    from pcarn_mobile.models import build_model

    runtime, backend = RUNTIMES[m.spec.kind]
    if m.spec.sidecar:
        s = m.spec.sidecar
        arch, groups, scale = s["model"], s["groups"], s["scale"]  # the file's own, whatever --scale says
        ident = {"model": m.spec.label, "format": m.spec.kind, "precision": s["precision"], "variant": s["variant"],
                 "sha256": sha256_of(m.spec.path)}
    else:
        arch, groups = m.loaded["arch"], m.loaded["groups"]
        ident = {"model": m.loaded["model"], "format": "torch", "precision": "fp32", "variant": "fp32",
                 **({"sha256": m.loaded["sha256"]} if m.loaded.get("sha256") else {})}
    fed, tiles = m.loaded["input"], m.tiles
    delegation = m.finish.get("delegation") or {"status": "unknown" if m.spec.kind == "tflite" else "not-applicable"}
    r: dict[str, Any] = {**ident, "scale": scale, "groups": groups, "runtime": runtime, "backend": backend,
                         "threads": m.threads, "input": fed, "preset": preset, "tiles_per_frame": tiles,
                         "runs": len(m.inference_ms), "warmup": args.warmup * tiles,
                         "latency_ms": latency_stats(m.inference_ms) if m.inference_ms and not m.error else None,
                         "delegation": delegation, "init_ms": round(m.loaded["init_ms"], 3),
                         "first_inference_ms": None if m.first_ms is None else round(m.first_ms, 3),
                         "peak_memory_mb": round(m.finish["peak_mb"], 1) if "peak_mb" in m.finish else None}
    if r["latency_ms"] is None:
        r["error"] = m.error or "no timed inference"
        return r
    if m.loaded["tiled"]:
        r["frame_ms"] = latency_stats(m.frame_ms)
    r["mult_adds"] = count_mult_adds(build_model(arch, groups, (scale,)), (1, 3, *fed), scale)
    r["gmacs_per_s"] = round(r["mult_adds"] / (r["latency_ms"]["p50"] / 1000.0) / 1e9, 3)
    if m.threads in gemm:
        r["gemm_gflops"] = round(gemm[m.threads], 2)
        r["gemm_fraction"] = round(2.0 * r["gmacs_per_s"] / gemm[m.threads], 4)
    if m.stages:
        from .stages import stage_entries

        r["stages"] = stage_entries(m.stages)
    return r


def device_entry() -> dict[str, Any]:
    """The schema's ``device`` for this machine (load: the 1-minute average at the start)."""
    facts = machine_facts()
    entry = {"description": describe_machine(), "os": facts["os"], "cpu": facts["cpu"], "cores": facts["cores"],
             "memory_gib": None if facts["memory_gib"] is None else round(facts["memory_gib"], 1),
             "load": None if facts["load"] is None else round(facts["load"], 2)}
    return {k: v for k, v in entry.items() if v is not None}


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    frame, preset_scale = parse_preset(args.preset)
    threads = parse_threads(args.threads)
    check_options(args)
    specs = [model_spec(text) for text in args.model]
    check_tiles(specs, frame)
    scale = args.scale or preset_scale or 4
    doc = new_result("host", device_entry(), installed_versions(TOOLS))
    print(f"machine: {doc['device']['description']}")
    print("tools: " + ", ".join(f"{k} {v}" for k, v in doc["tools"].items()))
    print(f"preset {args.preset}: {frame[0]}x{frame[1]} LR frame; threads {','.join(map(str, threads))}")
    measurements = [Measurement(spec, t) for spec in specs for t in threads]
    gemm = measure(measurements, frame, args, scale)
    print("GEMM float32 (torch.mm, best of " + "/".join(map(str, GEMM_SIZES)) + "): "
          + ", ".join(f"{t} thread(s) {rate:.1f} GFLOP/s" for t, rate in gemm.items()))
    doc["gemm_gflops"] = round(max(gemm.values()), 2)
    doc["results"] = [result(m, args.preset, args, scale, gemm) for m in measurements]
    print_table(doc["results"])
    if args.stages:
        print_stages(doc["results"])
    load_now = machine_facts()["load"]
    if load_now is not None:
        print(f"load average now {load_now:.1f} (at the start {doc['device'].get('load', 0):.1f})")
    errors = schema_errors(doc)
    if errors:
        raise RuntimeError("the host result breaks latency schema v1: " + "; ".join(errors[:5]))
    if args.json:
        write_json(args.json, doc)
        print(f"wrote {args.json}")
    return 1 if any(r["latency_ms"] is None for r in doc["results"]) else 0


if __name__ == "__main__":
    run_cli(main)
