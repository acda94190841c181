"""What NPU graph shaping changes, from the compiler's own report: ``python -m benchmarks.npu.shaping FILE.tflite``.

Compiles a plain static int8 TFLite file (what ``convert`` writes) for each SoC twice, as it is
and after :func:`converters.npu_shaping.split_grouped_convs` (what ``convert --npu`` hands the
compiler), and prints per SoC: ops on the NPU / total, partitions, ops on HTP reference kernels
(by HTP op), compiled size and compile seconds; then whether the shaped file computes bit-identically
on the CPU (LiteRT/XNNPACK, one parity photo). Needs ``make toolchain-npu``.
"""
from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import numpy as np

from converters import npu_env
from converters.npu_compile import KNOWN_SOCS, compile_file
from converters.npu_shaping import split_grouped_convs
from converters.tflite_runner import load_runner
from pcarn_mobile.errors import CliParser, UserError, run_cli
from pcarn_mobile.machine import describe_machine


def _row(label: str, r) -> str:
    f = r.facts
    if not r.ok:
        return f"  {label:<9} FAILED: {r.error}"
    kernels = ", ".join(f"{k} {n}" for k, n in f["reference_kernels"].items()) or "none"
    return (f"  {label:<9} {f['ops_on_npu']}/{f['ops_total']} ops on NPU, {f['partitions']} partition(s), "
            f"{sum(f['reference_kernels'].values())} on reference kernels ({kernels}), "
            f"{r.path.stat().st_size / 1e6:.2f} MB, {f['compile_seconds']:.1f} s")


def main(argv: list[str] | None = None) -> int:
    parser = CliParser(prog="python -m benchmarks.npu.shaping", description=__doc__.splitlines()[0])
    parser.add_argument("file", type=Path, help="a static int8 .tflite written by pcarn_mobile.convert")
    parser.add_argument("--socs", default="SM8650,SM8750", help=f"comma-separated, of {', '.join(KNOWN_SOCS)}")
    args = parser.parse_args(argv)
    socs = tuple(s.strip().upper() for s in args.socs.split(","))
    if unknown := [s for s in socs if s not in KNOWN_SOCS]:
        raise UserError(f"unknown SoC {', '.join(unknown)}; known: {', '.join(KNOWN_SOCS)}")
    if not args.file.is_file():
        raise UserError(f"{args.file}: no such file")
    try:
        env = npu_env.find()
    except npu_env.NpuEnvMissing as exc:
        raise UserError(str(exc)) from None
    plain = args.file.read_bytes()
    shaped, rewritten = split_grouped_convs(plain)
    print(f"{args.file.name}: {rewritten} grouped convs split for the NPU copy ({describe_machine()})")
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        for folder in ("plain", "shaped"):
            (work / folder).mkdir()
        (work / "shaped.tflite").write_bytes(shaped)
        before = compile_file(args.file.resolve(), socs, work / "plain", env=env)
        after = compile_file(work / "shaped.tflite", socs, work / "shaped", env=env)
        for b, a in zip(before, after):
            print(f"{b.soc}:\n{_row('as is', b)}\n{_row('shaped', a)}")
        from pcarn_mobile.export.parity import parity_crops

        (_, x), = parity_crops(load_runner(args.file).input_size, 1)
        same = np.array_equal(load_runner(args.file)(x), load_runner(work / "shaped.tflite")(x))
    print(f"shaped file on the CPU (LiteRT): {'bit-identical' if same else 'DIFFERENT'} output on a parity photo "
          "(convert writes the CPU file unshaped either way)")
    return 0


if __name__ == "__main__":
    run_cli(main)
