"""``python -m benchmarks.android``: exported TFLite files timed on an Android phone with ``benchmark_model``.

Users decide on a phone, not on a build machine, so this runs TFLite's own ``benchmark_model``
on the device over ``adb`` and writes the latency result every harness writes (schema v1), next
to the host's and the iPhone's in ``python -m benchmarks.report``. What makes a phone figure
trustworthy is done for every model and delegate:

- pinned to the big cores with ``taskset`` (the mask read off the cores' maximum frequencies),
  because the scheduler otherwise moves the run between clusters from one run to the next;
- started only once the hottest thermal zone is below ``--max-temp`` (or ``--cooldown`` ran
  out), and that temperature is recorded, because a throttled phone is slower;
- the delegate's own statement parsed, so a silent fallback to the CPU shows as ``none`` or
  ``partial`` in the result and the table instead of passing for a GPU figure.

Exit status: 0 all measured, 1 a measurement failed (its error is in the JSON, which is still
written), 2 bad input or no usable device (one ``error:`` line).
"""
from __future__ import annotations

import argparse
import importlib.metadata
import shlex
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pcarn_mobile.errors import CliParser, UserError, run_cli
from pcarn_mobile.fileio import sha256_of, write_json
from pcarn_mobile.sizes import parse_hw

from . import adb
from .benchmark_output import parse, result_fields
from .results import new_result, schema_errors
from .sidecars import input_hw, read_sidecar

#: ``--delegate`` value -> the flags that make ``benchmark_model`` use it. ``cpu`` is TFLite's
#: built-in kernels with the default XNNPACK delegate switched off; ``xnnpack`` applies it explicitly.
DELEGATE_FLAGS: dict[str, list[str]] = {
    "cpu": ["--use_xnnpack=false"],
    "xnnpack": ["--use_xnnpack=true"],
    "gpu": ["--use_gpu=true"],
    "nnapi": ["--use_nnapi=true"],
}
_ELF_ABIS = {0xB7: "arm64-v8a", 0x28: "armeabi-v7a", 0x3E: "x86_64", 0x03: "x86"}
_POLL_S = 2.0  # between thermal readings while cooling down


@dataclass(frozen=True)
class Model:
    """An exported .tflite file and what its sidecar says about it."""

    path: Path
    sidecar: dict[str, Any]
    sha256: str
    input_hw: tuple[int, int]
    dynamic: bool  # takes any size: benchmark_model is told the size to run

    def base_result(self) -> dict[str, Any]:
        """The result fields that depend on the file only."""
        return {"model": self.path.name, "format": "tflite", "precision": self.sidecar["precision"],
                "variant": self.sidecar["variant"], "scale": self.sidecar["scale"], "groups": self.sidecar["groups"],
                "sha256": self.sha256, "runtime": "benchmark_model", "input": list(self.input_hw)}


def build_parser() -> argparse.ArgumentParser:
    p = CliParser(prog="python -m benchmarks.android",
                  description="Time exported .tflite files on an Android phone with TFLite's benchmark_model over adb, "
                              "per delegate; writes the latency result JSON (schema v1). See benchmarks/README.md.")
    p.add_argument("--model", nargs="+", required=True, metavar="FILE",
                   help=".tflite files exported by pcarn_mobile.convert, each with its sidecar FILE.json")
    p.add_argument("--benchmark-binary", required=True, metavar="PATH",
                   help="TFLite's benchmark_model built for the phone's ABI (android_aarch64 / android_arm)")
    p.add_argument("--json", required=True, metavar="OUT", help="where to write the result")
    p.add_argument("--serial", help="the device to use when several are connected (adb devices)")
    p.add_argument("--delegate", default="xnnpack", metavar="LIST",
                   help="comma-separated subset of cpu,xnnpack,gpu,nnapi (default xnnpack)")
    p.add_argument("--threads", type=int, metavar="N", help="CPU threads (default: one per core in the CPU mask)")
    p.add_argument("--runs", type=int, default=50, metavar="N", help="timed runs, at least (default 50)")
    p.add_argument("--warmup", type=int, default=3, metavar="N", help="untimed runs first, at least (default 3)")
    p.add_argument("--cpu-mask", metavar="HEX", help="taskset mask, e.g. f0 (default: the big cores, read from "
                   "/sys/devices/system/cpu/*/cpufreq; 'none' to leave scheduling to Android)")
    p.add_argument("--max-temp", type=float, default=40.0, metavar="C",
                   help="wait before each run until the hottest thermal zone is below C degrees (default 40)")
    p.add_argument("--cooldown", type=float, default=60.0, metavar="S",
                   help="wait at most S seconds for that, then measure anyway (default 60)")
    p.add_argument("--input-size", metavar="HxW", help="input size for files that take any size (sidecar shape -1)")
    p.add_argument("--op-profile", action="store_true",
                   help="also run with --enable_op_profiling=true and keep the per-op table")
    return p


def delegates(text: str) -> list[str]:
    chosen = list(dict.fromkeys(d.strip() for d in text.split(",") if d.strip()))
    unknown = [d for d in chosen if d not in DELEGATE_FLAGS]
    if unknown or not chosen:
        raise UserError(f"--delegate {text!r}: choose from {','.join(DELEGATE_FLAGS)} (comma-separated)")
    return chosen


def cpu_mask(text: str | None) -> str | None:
    """``--cpu-mask`` as taskset takes it (lower-case hex, no 0x); ``none`` -> no pinning."""
    if text is None or text.lower() == "none":
        return None
    digits = text.lower().removeprefix("0x")
    if not digits or any(c not in "0123456789abcdef" for c in digits) or int(digits, 16) == 0:
        raise UserError(f"--cpu-mask {text!r} is not a non-zero hex CPU mask (e.g. f0 for CPUs 4-7)")
    return format(int(digits, 16), "x")


def load_model(path: Path, input_size: tuple[int, int] | None) -> Model:
    """The file and its sidecar, checked before anything touches the phone."""
    if not path.is_file():
        raise UserError(f"--model {path}: no such file")
    if path.suffix != ".tflite":
        raise UserError(f"--model {path}: not a .tflite file (Core ML packages are timed by benchmarks/ios)")
    sidecar = read_sidecar(path, "tflite")
    fixed = input_hw(sidecar)
    if fixed:
        return Model(path, sidecar, sha256_of(path), fixed, dynamic=False)
    if input_size is None:
        raise UserError(f"{path.name} takes any input size: say which to time with --input-size HxW (e.g. 128x128)")
    return Model(path, sidecar, sha256_of(path), input_size, dynamic=True)


def binary_abi(path: Path) -> str:
    """The Android ABI an ELF executable is built for, read off its header."""
    if not path.is_file():
        raise UserError(f"--benchmark-binary {path}: no such file (download benchmark_model for the phone's ABI: "
                        "see benchmarks/README.md)")
    with open(path, "rb") as fh:
        head = fh.read(20)
    if len(head) < 20 or head[:4] != b"\x7fELF":
        raise UserError(f"--benchmark-binary {path}: not an ELF executable (the native benchmark_model, not the APK)")
    machine = int.from_bytes(head[18:20], "little" if head[5] == 1 else "big")
    return _ELF_ABIS.get(machine, f"ELF machine {machine:#x}")


def device_entry(props: dict[str, str], cores: int) -> dict[str, Any]:
    """The schema's ``device``: one line to read, and the raw properties."""
    name = " ".join(filter(None, (props.get("ro.product.manufacturer"), props.get("ro.product.model")))) or "Android"
    soc = props.get("ro.soc.model") or props.get("ro.board.platform")
    release, sdk = props.get("ro.build.version.release", "?"), props.get("ro.build.version.sdk", "?")
    entry: dict[str, Any] = {"description": f"{name} ({', '.join(filter(None, (soc, f'Android {release}')))})",
                             "os": f"Android {release} (API {sdk})",
                             "properties": {k: props[k] for k in adb.PROPERTIES if props.get(k)}}
    if soc:
        entry["cpu"] = f"{soc} ({props.get('ro.product.cpu.abi', '?')})"
    if cores:
        entry["cores"] = cores
    return entry


def wait_until_cool(device: adb.Device, max_temp: float, cooldown: float) -> float | None:
    """Waits (at most ``cooldown`` s) for the hottest zone to drop below ``max_temp``; returns its temperature."""
    deadline = time.monotonic() + cooldown
    temp = device.hottest()
    while temp is not None and temp >= max_temp and time.monotonic() < deadline:
        time.sleep(min(_POLL_S, max(0.0, deadline - time.monotonic())))
        temp = device.hottest()
    if temp is not None and temp >= max_temp:
        print(f"  warning: hottest thermal zone {temp:.1f} C after {cooldown:g} s of cooldown (limit {max_temp:g} C);"
              " measuring anyway (raise --cooldown to wait longer)", file=sys.stderr)
    return temp


def command(folder: str, model: Model, delegate: str, args: argparse.Namespace, threads: int | None,
            mask: str | None) -> str:
    """The device shell command for one measurement (stderr, where the tool logs, merged in order)."""
    argv = [f"{folder}/benchmark_model", f"--graph={folder}/{model.path.name}", f"--num_runs={args.runs}",
            f"--warmup_runs={args.warmup}", "--report_peak_memory_footprint=true", *DELEGATE_FLAGS[delegate]]
    if threads:
        argv.append(f"--num_threads={threads}")
    if model.dynamic:
        h, w = model.input_hw
        argv += [f"--input_layer={model.sidecar['input']['name']}", f"--input_layer_shape=1,{h},{w},3"]
    if args.op_profile:
        argv.append("--enable_op_profiling=true")
    if mask:
        argv = ["taskset", mask, *argv]
    return " ".join(map(shlex.quote, argv)) + " 2>&1"


def summary(result: dict[str, Any]) -> str:
    """One progress line per measurement."""
    d = result["delegation"]
    ops = f" ({d['delegated_ops']}/{d['delegated_ops'] + d['cpu_ops']} ops)" if "cpu_ops" in d else ""
    latency = result["latency_ms"]
    timing = f"p50 {latency['p50']:.2f} ms" if latency else f"FAILED: {result['error']}"
    temp = f", {result['temperature_c']:.1f} C at start" if "temperature_c" in result else ""
    fallback = " (the delegate took nothing: a CPU figure)" if d["status"] == "none" and latency else ""
    return f"  {result['model']}  {result['backend']:<7}  {timing}  delegation: {d['status']}{ops}{fallback}{temp}"


def check_numbers(args: argparse.Namespace) -> None:
    for name, value, low in (("--runs", args.runs, 1), ("--warmup", args.warmup, 0), ("--cooldown", args.cooldown, 0),
                             ("--threads", args.threads, 1)):
        if value is not None and value < low:
            raise UserError(f"{name} must be at least {low}")


def pinning(device: adb.Device, requested: str | None, threads: int | None) -> tuple[str | None, int | None, int]:
    """(taskset mask, threads, cores seen): ``--cpu-mask`` checked against the device, else its big cores;
    threads default to one per pinned core."""
    freqs = device.max_frequencies()
    mask = cpu_mask(requested)
    if requested is None:
        mask = adb.big_core_mask(freqs)
        if mask is None:
            print("note: no cpufreq limits readable: running unpinned", file=sys.stderr)
    elif mask and freqs and int(mask, 16) >> (max(freqs) + 1):
        raise UserError(f"--cpu-mask {requested} names CPUs device {device.serial} lacks (it has 0-{max(freqs)})")
    return mask, threads or (bin(int(mask, 16)).count("1") if mask else None), len(freqs)


def measure(device: adb.Device, folder: str, model: Model, delegate: str, args: argparse.Namespace,
            threads: int | None, mask: str | None) -> dict[str, Any]:
    """One model with one delegate, once the phone is cool enough: a schema-v1 result."""
    temp = wait_until_cool(device, args.max_temp, args.cooldown)
    done = device.shell(command(folder, model, delegate, args, threads, mask), check=False)
    result = {**model.base_result(), "backend": delegate, "threads": threads, "runs": args.runs,
              "warmup": args.warmup, **({"cpu_mask": mask} if mask else {}),
              **({"temperature_c": temp} if temp is not None else {}),
              **result_fields(parse(done.stdout + done.stderr, delegate), done.returncode)}
    if args.op_profile and result["latency_ms"] and "op_profile" not in result:
        print("  note: benchmark_model printed no op profile", file=sys.stderr)
    return result


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    chosen = delegates(args.delegate)
    cpu_mask(args.cpu_mask)  # a bad mask is refused before the phone is touched
    check_numbers(args)
    out = Path(args.json)
    if not out.parent.is_dir():
        raise UserError(f"--json {out}: folder {out.parent} does not exist")
    input_size = parse_hw(args.input_size) if args.input_size else None
    models = [load_model(Path(p), input_size) for p in args.model]
    binary = Path(args.benchmark_binary)
    abi = binary_abi(binary)

    device = adb.connect(args.serial)
    props = device.properties()
    abis = (props.get("ro.product.cpu.abilist") or props.get("ro.product.cpu.abi", "")).split(",")
    if abi not in abis:
        raise UserError(f"{binary} is built for {abi} but device {device.serial} runs {', '.join(abis)}: "
                        "download the benchmark_model build for its ABI (see benchmarks/README.md)")
    mask, threads, cores = pinning(device, args.cpu_mask, args.threads)
    doc = new_result("android", device_entry(props, cores), {
        "pcarn-mobile": importlib.metadata.version("pcarn-mobile"), "adb": adb.adb_version(),
        "benchmark_model": f"{binary.name} ({abi}) sha256:{sha256_of(binary)[:16]}"})
    print(f"device: {doc['device']['description']}; CPU mask {mask or 'none'}, threads {threads or 'default'}")
    with device.scratch() as folder:
        device.push(binary, f"{folder}/benchmark_model")
        device.shell(f"chmod 755 {shlex.quote(folder + '/benchmark_model')}")
        for model in models:
            device.push(model.path, f"{folder}/{model.path.name}")
            for delegate in chosen:
                doc["results"].append(measure(device, folder, model, delegate, args, threads, mask))
                print(summary(doc["results"][-1]))
    errors = schema_errors(doc)
    if errors:
        raise RuntimeError("the Android result breaks latency schema v1: " + "; ".join(errors[:5]))
    write_json(out, doc)
    print(f"wrote {out}")
    return 1 if any(r["latency_ms"] is None for r in doc["results"]) else 0


if __name__ == "__main__":
    run_cli(main)
