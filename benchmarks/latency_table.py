"""What ``python -m benchmarks.latency`` prints: one row per (model, threads), and the stage shares.

The JSON holds every figure; the terminal gets the ones a reader compares across rows: latency,
the frame time of tiled files, one-off costs, memory, and how much of the machine's GEMM rate the
model's Mult-Adds reach.
"""
from __future__ import annotations

from typing import Any

_HEADER = ["model", "runtime", "thr", "input", "tiles", "p50 ms", "p90 ms", "min ms", "frame p50", "init ms",
           "first ms", "peak MB", "GMAC", "GMAC/s", "of GEMM"]


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}" if value >= 10 else f"{value:.2f}"


def row(r: dict[str, Any]) -> list[str]:
    """The cells of one result."""
    lat = r["latency_ms"] or {}
    cells = [r["model"], f"{r['runtime']} {r['backend']}", str(r["threads"]), f"{r['input'][0]}x{r['input'][1]}",
             str(r.get("tiles_per_frame", 1)), _ms(lat.get("p50")), _ms(lat.get("p90")), _ms(lat.get("min")),
             _ms(r["frame_ms"]["p50"]) if "frame_ms" in r else "-", _ms(r.get("init_ms")),
             _ms(r.get("first_inference_ms")),
             "-" if r.get("peak_memory_mb") is None else f"{r['peak_memory_mb']:.0f}",
             f"{r['mult_adds'] / 1e9:.2f}" if "mult_adds" in r else "-",
             f"{r['gmacs_per_s']:.1f}" if "gmacs_per_s" in r else "-",
             f"{100 * r['gemm_fraction']:.1f}%" if "gemm_fraction" in r else "-"]
    if r["delegation"]["status"] not in ("full", "not-applicable"):
        cells[1] += f" ({r['delegation']['status']})"  # XNNPACK did not take the whole graph
    return cells


def aligned(rows: list[list[str]]) -> list[str]:
    """Columns padded to their widest cell, the first left-aligned and the rest right-aligned, a rule under the header."""
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths))) for r in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return lines


def print_table(results: list[dict[str, Any]]) -> None:
    """The latency table, then each failure's error."""
    print("\n".join(aligned([_HEADER, *(row(r) for r in results)])))
    print("p50/p90/min: per inference (one tile, or the whole frame); frame p50: all tiles of one frame, cut and "
          "stitched; GMAC: Mult-Adds per inference (paper convention); of GEMM: 2 x GMAC/s over this machine's "
          "float32 GEMM GFLOP/s at the same thread count")
    for r in results:
        if r["latency_ms"] is None:
            print(f"FAILED {r['model']} @{r['threads']}: {r['error']}")


def print_stages(results: list[dict[str, Any]]) -> None:
    """ms and share per stage, one column per result that has them."""
    measured = [r for r in results if r.get("stages")]
    if not measured:
        return
    names = list(dict.fromkeys(s["name"] for r in measured for s in r["stages"]))
    header = ["stage", *(f"{r['model']} @{r['threads']}" for r in measured)]
    rows = [header]
    for name in names:
        cells = [name]
        for r in measured:
            stage = next((s for s in r["stages"] if s["name"] == name), None)
            cells.append("-" if stage is None else f"{_ms(stage['ms'])} ms {100 * stage['share']:4.1f}%")
        rows.append(cells)
    rows.append(["sum", *(f"{_ms(sum(s['ms'] for s in r['stages']))} ms" for r in measured)])
    print("time per stage (ms per inference, share of the sum):")
    print("\n".join(aligned(rows)))
