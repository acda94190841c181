"""Compiles one ``.tflite`` file for Qualcomm SoCs with LiteRT's AOT compiler: runs *inside* the NPU venv.

``converters.npu_compile`` starts this script with the venv's Python (ai-edge-litert 2.3.0 there,
2.1.0 in the main env), so it imports nothing of this repository. Usage::

    python npu_aot.py INPUT.tflite OUT_DIR QNN_LIB_DIR STANDIN_LIB_DIR SOC [SOC ...]

For each SoC it writes ``OUT_DIR/<SOC>.tflite`` (only when the compiler produced a non-empty
TFLite file: ``aot_compile`` leaves 0-byte files for failed targets, which are deleted here) and
``OUT_DIR/<SOC>.json``: ``{"soc", "ok", "error", "ops_on_npu", "ops_total", "partitions",
"reference_kernels", "compile_seconds", "compiler_version", "sdk_version", "sdk_warnings"}``, with the
compiler log's tail on failure. The compiler's log and LiteRT's own chatter go to stdout/stderr,
which the caller sends to the run's log.
"""
from __future__ import annotations

import json
import re
import subprocess
import sys
import time
import types
from collections import Counter
from pathlib import Path

#: The compiler's partition report (one line per subgraph), as LiteRT's own wrapper parses it.
PARTITION_RE = re.compile(r"Partitioned subgraph<(\d+)>, selected (\d+) ops, from a total of (\d+) ops\. "
                          r"resulted in (\d+) partitions\.")
#: HTP's log line for an op it runs on a generic reference kernel instead of an optimised one.
REFERENCE_RE = re.compile(r"(\w+) uses reference codes")
#: What QNN 2.51 says of a setting LiteRT 2.3.0 (built against QAIRT 2.50) passes; harmless, recorded.
SDK_WARNING_RE = re.compile(r"unexpected GraphHtpSettings option \d+")


def _point_sdk_at(libs: str) -> None:
    """LiteRT asks ``ai_edge_litert_sdk_qualcomm.path_to_sdk_libs()`` where QAIRT's libraries are.

    That vendor package downloads the SDK from Qualcomm's site when installed (impossible
    offline); the same QNN host libraries come with the onnxruntime-qnn wheel, so this answers
    the question with that folder (and the folder of the libQnnLpai.so stand-in).
    """
    sdk = types.ModuleType("ai_edge_litert_sdk_qualcomm")
    sdk.path_to_sdk_libs = lambda: libs  # type: ignore[attr-defined]
    sys.modules["ai_edge_litert_sdk_qualcomm"] = sdk


def _keep_compiler_log(log: list[str]) -> None:
    """LiteRT parses the compiler's stdout for partitions only and drops it; keep a copy for its other facts."""
    from ai_edge_litert.aot.core import apply_plugin

    run = subprocess.run

    def tee(*args, **kwargs):
        result = run(*args, **kwargs)
        log.append(result.stdout or "")
        return result

    apply_plugin.subprocess = types.SimpleNamespace(run=tee, PIPE=subprocess.PIPE, STDOUT=subprocess.STDOUT)


def _versions() -> dict:
    """The compiler's and QNN's versions as installed in this env (the sidecar's provenance)."""
    from importlib.metadata import version

    from onnxruntime_qnn import build_and_package_info

    return {"compiler_version": version("ai-edge-litert"), "sdk_version": build_and_package_info.qnn_version}


def compile_one(source: Path, out_dir: Path, soc: str) -> dict:
    """One SoC: the compiled file as ``out_dir/<soc>.tflite`` and the compiler's facts."""
    from ai_edge_litert.aot.aot_compile import aot_compile
    from ai_edge_litert.aot.vendors.qualcomm.target import SocModel, Target

    log: list[str] = []
    _keep_compiler_log(log)
    work = out_dir / f".{soc}"
    work.mkdir()
    start = time.perf_counter()
    try:
        result = aot_compile(str(source), output_dir=str(work), target=[Target(SocModel(soc))], keep_going=True)
        error = "; ".join(str(e) for _, e in result.failed_backends)
        models = [m for _, m in result.models_with_backend]
    except Exception as exc:  # the compiler's own failure, reported per SoC
        error, models = f"{type(exc).__name__}: {exc}", []
    seconds = time.perf_counter() - start
    text = "".join(log)
    print(f"--- compiler log, {soc} ---\n{text}", flush=True)
    stats = PARTITION_RE.findall(text)
    fact = {"soc": soc, "compile_seconds": round(seconds, 2),
            "ops_on_npu": sum(int(s[1]) for s in stats), "ops_total": sum(int(s[2]) for s in stats),
            "partitions": sum(int(s[3]) for s in stats),
            "reference_kernels": dict(Counter(REFERENCE_RE.findall(text))),
            "sdk_warnings": sorted(set(SDK_WARNING_RE.findall(text))), **_versions()}
    produced = [Path(m.path) for m in models if not m.in_memory and Path(m.path).is_file()]
    good = [p for p in produced if p.stat().st_size > 0]
    if not error and len(good) == 1:
        good[0].rename(out_dir / f"{soc}.tflite")
        fact.update(ok=True, error="")
    else:
        fact.update(ok=False, error=error or "the compiler wrote no TFLite file", log_tail=text[-2000:])
    for p in work.iterdir():  # 0-byte files of failed targets, intermediate files
        p.unlink()
    work.rmdir()
    return fact


def main(argv: list[str]) -> int:
    source, out_dir, qnn_libs, standin, *socs = argv
    _point_sdk_at(f"{qnn_libs}:{standin}")
    for soc in socs:
        fact = compile_one(Path(source), Path(out_dir), soc)
        (Path(out_dir) / f"{soc}.json").write_text(json.dumps(fact))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
