"""Compiles a static ``.tflite`` for named Qualcomm SoCs, offline, in the NPU venv (``make toolchain-npu``).

LiteRT's ahead-of-time compiler puts the whole graph into one QNN HTP context binary per SoC,
which a phone's LiteRT runs on the Hexagon NPU without compiling on the device.
:func:`compile_file` runs :mod:`converters.npu_aot` there as a subprocess (its own process
group, so Ctrl-C or SIGTERM stop the compiler too) and returns, per SoC, either the compiled
file in the scratch folder the caller gave or why it failed: one SoC failing does not stop the
others.
"""
from __future__ import annotations

import json
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import npu_env

VENDOR = "qualcomm"
#: The SoCs ai-edge-litert 2.3.0's Qualcomm target knows (``SocModel``), in its order.
KNOWN_SOCS: tuple[str, ...] = ("SA8255", "SA8295", "SM8350", "SM8450", "SM8475", "SM8550", "SM8650", "SM8750",
                               "SM8845", "SM8850")
#: The QAIRT version LiteRT 2.3.0 is built against (its ``ai-edge-litert-sdk-qualcomm`` 2.3.0 downloads
#: QAIRT 2.50); the env runs QNN 2.51 from onnxruntime-qnn 2.7.0, which answers one of its graph
#: settings with "unexpected GraphHtpSettings option 66" and compiles. Both go into the sidecar.
SDK_EXPECTED = "2.50"


@dataclass(frozen=True)
class SocResult:
    """One SoC's outcome: the compiled file (in the caller's scratch folder) or the reason it failed."""

    soc: str
    path: Path | None
    facts: dict[str, Any]

    @property
    def ok(self) -> bool:
        return self.path is not None

    @property
    def error(self) -> str:
        return str(self.facts.get("error") or "")


def compile_file(source: Path, socs: tuple[str, ...], scratch: Path, log: Path | None = None,
                 env: npu_env.NpuEnv | None = None) -> list[SocResult]:
    """Compiles ``source`` once per SoC into ``scratch/<SOC>.tflite``; the compiler's log is appended to ``log``.

    Raises :class:`~converters.npu_env.NpuEnvMissing` when the env is not installed.
    """
    env = env or npu_env.find()
    work = Path(tempfile.mkdtemp(prefix="npu-", dir=scratch))
    try:
        code = npu_env.run_script(env, "npu_aot", [str(source), str(work), str(env.qnn_libs), str(env.standin_libs),
                                                   *socs], log)
        results = []
        for soc in socs:
            facts_file, compiled = work / f"{soc}.json", work / f"{soc}.tflite"
            facts = (json.loads(facts_file.read_text()) if facts_file.is_file()
                     else {"soc": soc, "ok": False, "error": f"the compiler process ended with exit code {code}"})
            good = facts.get("ok") and compiled.is_file() and compiled.stat().st_size > 0
            if good:
                compiled = compiled.replace(scratch / f"{soc}.tflite")
            results.append(SocResult(soc, compiled if good else None, facts))
        return results
    finally:
        shutil.rmtree(work, ignore_errors=True)


def npu_section(result: SocResult, source_name: str) -> dict[str, Any]:
    """The sidecar's ``npu`` section of a compiled file (docs/export-contract.md)."""
    f = result.facts
    return {
        "vendor": VENDOR, "soc": result.soc,
        "compiler": {"name": "ai-edge-litert", "version": f["compiler_version"]},
        "sdk": {"name": "QNN", "version": ".".join(f["sdk_version"].split(".")[:2]), "expected": SDK_EXPECTED,
                **({"warnings": f["sdk_warnings"]} if f.get("sdk_warnings") else {})},
        "ops_on_npu": f["ops_on_npu"], "ops_total": f["ops_total"], "partitions": f["partitions"],
        "ops_on_reference_kernels": sum(f["reference_kernels"].values()),
        "reference_kernels": f["reference_kernels"],
        "compile_seconds": f["compile_seconds"], "source_file": source_name,
    }
