"""``report.html``: a run and every file it wrote, with pictures of what each file does to real photos.

Parity figures say how far a file is from PyTorch; the pictures say where, and whether a user
would see it: for each file, on each parity photo and (with ``--parity-data``) on the worst and
best image of the set, the LR input, bicubic, PyTorch, the file's output and an amplified
difference map, cut where the file differs most. Written beside ``report.json`` only when the
run completed, from the same report dictionary, so the page never claims more than the JSON.
"""
from __future__ import annotations

from html import escape
from typing import Any

import numpy as np

from ..data import EvalPair
from ..htmlpage import comparison_html, definitions, page, table, verdict_html
from ..pictures import compare
from .job import Artifact
from .npu_report import HEADERS as NPU_HEADERS, npu_rows, provenance
from .parity import Reference, SetQuality


def photo_rows(artifact: Artifact, outputs: dict[str, np.ndarray], reference: Reference,
               crops: list[tuple[str, np.ndarray]], scale: int) -> list[str]:
    """The file against PyTorch on each parity photo (NCHW crops and outputs)."""
    hwc = (lambda a: a[0].transpose(1, 2, 0))
    return [comparison_html(compare(name, hwc(x), hwc(reference(x)), hwc(outputs[name]), scale), " (parity photo)")
            for name, x in crops]


def set_rows(quality: SetQuality, pairs: list[EvalPair], entry: dict[str, Any]) -> list[str]:
    """The file against PyTorch on the worst and the best image of ``--parity-data`` (by the file's Y-PSNR)."""
    rows = []
    for rank in ("worst", "best"):
        name = entry[rank]["image"]
        lr = next(p.lr for p in pairs if p.name == name)
        rows.append(comparison_html(
            compare(name, lr / 255.0, quality.last_torch_outputs[name] / 255.0, quality.last_outputs[name] / 255.0,
                    quality.scale),
            f" ({rank} of {entry['set']}, Y-PSNR {entry[rank]['psnr_y']:.2f} dB)"))
    return rows


def _ops(graph: dict[str, Any]) -> str:
    return ", ".join(f"{op} {n}" for op, n in sorted(graph["ops"].items(), key=lambda kv: -kv[1]))


def _files_table(report: dict[str, Any]) -> str:
    quality = report.get("reference", {}).get("quality")
    headers = ["file", "format", "precision", "size (MB)", "ops", "delegate-ready", "PSNR vs PyTorch (dB)", "verdict"]
    if quality:
        headers.append(f"Y-PSNR {quality['set']} (PyTorch {quality['psnr_y']:.3f})")
    rows = []
    for meta in report["files"]:
        p, graph = meta["parity"], meta["graph"]
        ready = "-" if "delegate_ready" not in graph else ("yes" if graph["delegate_ready"] else "no: " + "; ".join(graph["problems"]))
        row = [escape(meta["file"]), meta["format"], escape(meta["variant"]), f"{meta['size_bytes'] / 1e6:.2f}",
               escape(_ops(graph)), escape(ready), str(p["photos"]["psnr_db"]), verdict_html(p["verdict"])]
        if quality:
            q = p.get("quality")
            row.append(f"{q['psnr_y']:.3f} (drop {q['drop_db']:+.3f}, limit {p['limits']['set_drop_db']:g})" if q else "-")
        rows.append(row)
    return table("Files written, one row each", headers, rows, raw=True)


def arm64_table(files: list[dict[str, Any]]) -> str:
    """The files checked on LiteRT's aarch64 kernels (``parity.arm64``): one row per file and emulated core."""
    rows = []
    for meta in files:
        arm = meta["parity"].get("arm64")
        for row in (arm or {}).get("cores", []):
            rows.append([escape(meta["file"]), escape(f"{row['core']} ({row['isa']})"), str(row["vs_torch"]["psnr_db"]),
                         f"{row['vs_torch']['max_abs']:.4f}", str(row["vs_x86"]["psnr_db"]),
                         f"{row['vs_x86']['max_abs']:.4f}", verdict_html(row["verdict"])])
    if not rows:
        return ""
    arm = next(m["parity"]["arm64"] for m in files if m["parity"].get("arm64"))
    caption = (f"On the phone's CPU kernels: LiteRT {arm['runtime']['ai-edge-litert']} aarch64 (XNNPACK) under "
               f"{arm['runtime']['emulator']}, {arm['runtime']['threads']} guest threads, on "
               f"{', '.join(arm['cores'][0]['vs_torch']['images'])}; held to each file's photo floor")
    return table(caption, ["file", "emulated core", "PSNR vs PyTorch (dB)", "max abs", "PSNR vs x86 LiteRT (dB)",
                           "max abs vs x86", "verdict"], rows, raw=True)


def _sensitivity(meta: dict[str, Any]) -> str:
    """The int8 sensitivity report of a file (``--int8-sensitivity``), or nothing."""
    sens = meta.get("calibration", {}).get("sensitivity")
    if not sens:
        return ""
    caption = (f"int8 sensitivity on {sens['data']} ({sens['images']} images): float {sens['float_psnr_y']:.3f} dB, "
               f"int8 {sens['int8_psnr_y']:.3f} dB; quantized alone, the {sens['tensors_measured']} tensors' drops sum "
               f"to {sens['activations_alone_db']:+.3f} (activations) and {sens['weights_alone_db']:+.3f} dB (weights). "
               "The most costly:")
    rows = [[t["kind"], f"#{t['op_index']} {t['op']}", t["stage"], f"{t['drop_db']:+.4f}"] for t in sens["tensors"]]
    return table(caption, ["tensor", "operator", "stage", "drop alone (dB)"], rows)


def render(report: dict[str, Any], sections: list[list[str]]) -> str:
    """The page: the run, the table of files, then one section of pictures per file (``sections`` in file order)."""
    weights = report["weights"]
    run = definitions([
        ("verdict", report["verdict"]),
        ("model", f"{report['model']}, groups {report['groups']}, x{report['scale']}"),
        ("weights", f"{weights['file'] or 'random-init'} ({weights['kind']})" + (f"; {weights['note']}" if weights.get("note") else "")),
        ("weights SHA-256", weights["sha256"] or "-"),
        ("options", ", ".join(f"{k}={v}" for k, v in report["options"].items()) or "defaults"),
        ("machine", report["machine"]),
        ("wall time", f"{report['wall_time_s']:.1f} s: " + ", ".join(f"{k} {v:.1f}" for k, v in report["timings_s"].items())),
        ("tools", ", ".join(f"{k} {v}" for k, v in report["tools"].items())),
    ])
    body = [f"<h1>pcarn-mobile export report: {verdict_html(report['verdict'])}</h1>", run, _files_table(report),
            arm64_table(report["files"])]
    npu = npu_rows(report)
    if npu:
        body.append(table("Files compiled for an NPU, run on Qualcomm's x86 HTP emulator", NPU_HEADERS, npu))
    for meta, rows in zip(report["files"], sections):
        reasons = "".join(f"<li>{escape(r)}</li>" for r in meta["parity"]["reasons"])
        origin = f"<p>{escape(provenance(meta))}</p>" if meta.get("npu") else ""
        body.append(f"<h2>{escape(meta['file'])}: {verdict_html(meta['parity']['verdict'])}</h2>"
                    + origin + (f"<ul>{reasons}</ul>" if reasons else "") + _sensitivity(meta) + "".join(rows))
    return page(f"pcarn-mobile export: {report['verdict']}", "\n".join(body))
