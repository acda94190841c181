"""The NPU rows of the verdict table and of report.html: one per compiled file, from its sidecar alone.

Both the printed table (:func:`~pcarn_mobile.export.sidecar.render_table`) and report.html show
the same facts: where the file runs (ops on the NPU, partitions, ops on HTP reference kernels),
what the emulated NPU computes against the CPU file it was compiled from and against PyTorch,
and the limits it was held to.
"""
from __future__ import annotations

from typing import Any

HEADERS = ["NPU file", "SoC", "ops on NPU", "partitions", "on reference kernels", "compile s",
           "vs CPU file (dB)", "max levels", "vs PyTorch (dB)", "set Y-PSNR vs CPU file (dB)", "verdict"]


def npu_rows(report: dict[str, Any]) -> list[list[str]]:
    """One row per file with an ``npu`` section; none when the run compiled nothing for an NPU."""
    rows = []
    for meta in report["files"]:
        npu, parity = meta.get("npu"), meta["parity"]
        if not npu:
            continue
        cpu = parity.get("npu", {}).get("against_cpu")
        floor = parity.get("npu", {}).get("limits", {}).get("against_cpu_floor_db")
        rows.append([
            meta["file"], f"{npu['vendor']} {npu['soc']}", f"{npu['ops_on_npu']}/{npu['ops_total']}",
            str(npu["partitions"]), str(npu["ops_on_reference_kernels"]), f"{npu['compile_seconds']:.1f}",
            f"{cpu['photos']['psnr_db']} (floor {floor:g})" if cpu else "-", str(cpu["max_levels"]) if cpu else "-",
            f"{parity['photos']['psnr_db']} (floor {parity['limits']['photo_floor_db']:g})",
            f"{delta:+.3f}" if (delta := parity.get("npu", {}).get("quality_against_cpu_db")) is not None else "-",
            parity["verdict"],
        ])
    return rows


def provenance(meta: dict[str, Any]) -> str:
    """One line of where a compiled file comes from: compiler, SDK used and expected, source file."""
    npu = meta["npu"]
    sdk = npu["sdk"]
    return (f"{npu['compiler']['name']} {npu['compiler']['version']}, {sdk['name']} {sdk['version']} (the compiler "
            f"expects {sdk['expected']}), from {npu['source_file']}; emulated on "
            f"{meta['parity'].get('npu', {}).get('emulator', '-')}")
