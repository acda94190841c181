"""``--npu qualcomm:SM8650,SM8750`` checked: which SoCs, and whether this run has a file the NPU can take.

Everything here is refused before a model loads, each with one line: an unknown vendor or SoC
(the line lists the known ones), a dynamic-shape run, a run that writes no int8 file, and a
machine without the NPU environment (the line names the set-up command).
"""
from __future__ import annotations

from converters import npu_env
from converters.npu_compile import KNOWN_SOCS, VENDOR

from ..errors import UserError

#: What ``--npu`` takes, for the refusal lines.
NPU_USAGE = f"--npu {VENDOR}:SOC[,SOC...] or {VENDOR}:all"
#: The precision the Hexagon NPU computes natively. HTP has no fp32 arithmetic: a float file compiles
#: as fp16 inside (75.9 dB against CPU fp32 on a photo tile), which is not the file the user asked for.
NPU_PRECISION = "int8"


def npu_socs(spec: str, dynamic: bool, tflite_precisions: tuple[str, ...]) -> tuple[str, ...]:
    """The SoCs of ``spec`` (upper-case, the compiler's order for ``all``), or :class:`UserError`."""
    vendor, sep, socs = spec.partition(":")
    if vendor.strip().lower() != VENDOR or not sep:
        raise UserError(f"--npu {spec!r}: the one NPU vendor is {VENDOR}; use {NPU_USAGE}")
    names = [s.strip().upper() for s in socs.split(",")]
    if not all(names):
        raise UserError(f"--npu {spec!r}: empty SoC name; use {NPU_USAGE}")
    if names == ["ALL"]:
        chosen = KNOWN_SOCS
    else:
        unknown = [n for n in names if n not in KNOWN_SOCS]
        if unknown:
            raise UserError(f"unknown Qualcomm SoC {', '.join(unknown)} for --npu; known: {', '.join(KNOWN_SOCS)} (or all)")
        chosen = tuple(dict.fromkeys(names))
    if dynamic:
        raise UserError("--npu compiles static files only: the NPU compiler fixes every shape ahead (a dynamic file "
                        "compiles only its 1x1 placeholder, DEPTH_TO_SPACE rejected); drop --dynamic, use --input-size")
    if NPU_PRECISION not in tflite_precisions:
        raise UserError(f"--npu compiles the int8 file, and --precision {','.join(tflite_precisions)} writes none: the "
                        "Hexagon NPU computes int8 natively and would run a float file as fp16; add int8 to --precision")
    try:
        npu_env.find()
    except npu_env.NpuEnvMissing as exc:
        raise UserError(f"--npu needs the NPU compiler: {exc}") from None
    return chosen
