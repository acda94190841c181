"""The export contract on disk: one sidecar per file, one ``report.json`` per run, both schema version 2 (2 adds the optional ``npu`` section of NPU-compiled files).

The schemas ship inside the package (``pcarn_mobile/export/schema/*.schema.json``) and every
document is validated against them before it is written, so an app can rely on what
``docs/export-contract.md`` promises. Sidecars hold no path of the converting machine: weights
go by file name and SHA-256, calibration photos by folder name.
"""
from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any

from ..machine import installed_versions
from ..tile_shape import max_tile_area
from ..tiling import DEFAULT_OVERLAP, RECEPTIVE_RADIUS
from ..weights import LoadedWeights
from .arm64 import table_rows as arm64_rows
from .job import Artifact
from .npu_report import HEADERS as NPU_HEADERS, npu_rows

SCHEMA_VERSION = 2
SCHEMA_DIR = Path(__file__).with_name("schema")
SIDECAR_SCHEMA = SCHEMA_DIR / "sidecar-v1.schema.json"
REPORT_SCHEMA = SCHEMA_DIR / "report-v1.schema.json"

#: Distributions whose versions go into every sidecar (those absent are skipped).
TOOLS: tuple[str, ...] = (
    "pcarn-mobile", "torch", "onnx", "onnxruntime", "onnx2tf", "tensorflow", "ai-edge-litert", "coremltools", "numpy",
)


def tool_versions() -> dict[str, str]:
    return installed_versions(TOOLS)


def weights_entry(weights: LoadedWeights) -> dict[str, Any]:
    """Which weights, by file name and SHA-256 (a path would leak the build machine's folders)."""
    entry: dict[str, Any] = {"file": weights.file_name, "sha256": weights.sha256, "kind": weights.kind}
    if weights.note:
        entry["note"] = weights.note
    return entry


def tiling_entry(input_size: tuple[int, int] | None, scale: int, precision: str) -> dict[str, Any]:
    """The tile contract: feed tiles of ``tile`` LR pixels overlapping by ``overlap`` and the result is the untiled one.

    A resizable file (``tile`` null) also says how large a tile may be, ``max_tile_area`` LR pixels
    within the phone's memory budget (:func:`pcarn_mobile.tile_shape.max_tile_area`), which the
    apps feed to ``best_free_shape``; a fixed-size file has nothing to choose (null).
    """
    return {"tile": list(input_size) if input_size else None, "overlap": DEFAULT_OVERLAP,
            "min_overlap": RECEPTIVE_RADIUS, "pad": "edge",
            "max_tile_area": None if input_size else max_tile_area(scale, precision)}


def sidecar(artifact: Artifact, final_name: str, common: dict[str, Any]) -> dict[str, Any]:
    """The JSON an app reads next to the file (``<file>.json``)."""
    return {
        "schema_version": SCHEMA_VERSION,
        "file": final_name,
        "format": artifact.fmt.name,
        "precision": artifact.precision,
        "variant": artifact.variant,
        **({"compress": artifact.extra["compress"]} if "compress" in artifact.extra else {}),
        "size_bytes": size_on_disk(artifact.path),
        **common,
        "input": artifact.input,
        "output": artifact.output,
        "tiling": tiling_entry(artifact.input_size, common["scale"], artifact.precision),
        "graph": artifact.graph,
        "parity": artifact.parity,
        **{k: v for k, v in artifact.extra.items() if k != "compress"},
    }


def size_on_disk(path: Path) -> int:
    """Bytes of a file, or of every file in a package folder: the sidecar's ``size_bytes``."""
    if path.is_dir():
        return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
    return path.stat().st_size


@lru_cache(maxsize=1)
def _validators() -> dict[str, Any]:
    from jsonschema import Draft202012Validator
    from referencing import Registry, Resource

    schemas = {p: json.loads(p.read_text()) for p in (SIDECAR_SCHEMA, REPORT_SCHEMA)}
    registry = Registry().with_resources((s["$id"], Resource.from_contents(s)) for s in schemas.values())
    return {name: Draft202012Validator(schemas[path], registry=registry)
            for name, path in (("sidecar", SIDECAR_SCHEMA), ("report", REPORT_SCHEMA))}


def schema_errors(document: dict[str, Any], kind: str = "sidecar") -> list[str]:
    """Every way ``document`` breaks the shipped schema (``kind`` "sidecar" or "report"); empty when valid."""
    validator = _validators()[kind]
    return [f"{'/'.join(map(str, e.absolute_path)) or '(top)'}: {e.message}" for e in validator.iter_errors(document)]


def check_schema(document: dict[str, Any], kind: str = "sidecar") -> None:
    """Raises ``ValueError`` when ``document`` breaks the schema: a bug here, never the user's input."""
    errors = schema_errors(document, kind)
    if errors:
        raise ValueError(f"{kind} breaks schema v{SCHEMA_VERSION}: " + "; ".join(errors[:5]))


def _fmt(value: Any, digits: int = 2) -> str:
    if value is None or value == "":
        return "-"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def render_table(report: dict[str, Any]) -> str:
    """The summary a run prints: one row per file, then the wall time and its stages."""
    quality = report.get("reference", {}).get("quality")
    header = ["file", "size", "ops ok", "PSNR vs torch", "max abs", "parity"]
    if quality:
        header.append(f"Y-PSNR {quality['set']} (torch {quality['psnr_y']:.2f})")
    rows = [header]
    for a in report["files"]:
        p, graph = a["parity"], a["graph"]
        ok = "-" if "delegate_ready" not in graph else ("yes" if graph["delegate_ready"] else "NO")
        row = [a["file"], f"{a['size_bytes'] / 1e6:.2f} MB", ok, _fmt(p["photos"]["psnr_db"]) + " dB",
               _fmt(p["photos"]["max_abs"], 4), p["verdict"]]
        if quality:
            row.append(_fmt(p.get("quality", {}).get("psnr_y"), 3))
        rows.append(row)
    rows_of_files = rows[1:]
    if any(arm64_rows(a) for a in report["files"]):  # each file's ARM64 rows right under its own
        header.append("ARM64 vs x86")
        rows = [rows[0] + [""] * (len(header) - len(rows[0]))]
        for a, row in zip(report["files"], rows_of_files):
            rows.append(row + [""] * (len(header) - len(row)))
            rows += [[name, "", "", torch, max_abs, ok] + [""] * (len(header) - 7) + [x86]
                     for name, torch, max_abs, x86, ok in arm64_rows(a)]
    widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    npu = npu_rows(report)
    if npu:
        widths = [max(len(r[i]) for r in [NPU_HEADERS, *npu]) for i in range(len(NPU_HEADERS))]
        lines += ["", *("  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in [NPU_HEADERS, *npu])]
        lines.insert(len(lines) - len(npu), "  ".join("-" * w for w in widths))
    for a in report["files"]:
        lines += [f"{a['file']}: {reason}" for reason in a["parity"]["reasons"]]
    stages = ", ".join(f"{k} {v:.1f}" for k, v in report["timings_s"].items())
    lines.append(f"wall time {report['wall_time_s']:.1f} s ({report['machine']}): {stages}")
    return "\n".join(lines)
