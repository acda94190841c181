"""The trade-off study's Markdown section and PNG plots, from the study's numbers (``study.json``).

Pure formatting: every figure comes from ``benchmarks.tradeoff``'s measurements, so the section
can be regenerated from a saved ``study.json`` without timing anything again.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

from pcarn_mobile.archinfo import DEFAULT_OVERLAP, RECEPTIVE_RADIUS
from pcarn_mobile.fileio import atomic_path

from .presets import PRESETS

OWNER = "benchmarks.tradeoff"
PLOTS = {"quality": "tradeoff-quality.png", "latency": "tradeoff-latency.png", "tiles": "tradeoff-tiles.png"}


def frame_ms(result: dict[str, Any], stat: str = "p50") -> float:
    """Milliseconds per preset frame: all tiles of a fixed-size file, or the one inference of a dynamic one."""
    return (result.get("frame_ms") or result["latency_ms"])[stat]


def frame(study: dict[str, Any]) -> tuple[tuple[int, int], tuple[int, int]]:
    """The study's preset frame: LR input (H, W) and SR output (H, W)."""
    (h, w), scale = PRESETS[study["preset"]]
    return (h, w), (h * scale, w * scale)


def _find(doc: dict[str, Any], **match: Any) -> dict[str, Any] | None:
    for r in doc["results"]:
        if all(r.get(k) == v for k, v in match.items()) and r["latency_ms"] is not None:
            return r
    return None


def runtime_rows(doc: dict[str, Any]) -> tuple[list[str], dict[str, float]]:
    """Table rows of the runtime comparison and its ratios (TFLite fp32 / ONNX Runtime, int8 / fp32)."""
    rows = []
    for r in doc["results"]:
        if r["latency_ms"] is None:
            rows.append(f"| {r['model']} | {r['runtime']} | failed: {r.get('error', '')} | | | | |")
            continue
        frac = f"{100 * r['gemm_fraction']:.0f} %" if "gemm_fraction" in r else "-"
        rows.append(f"| {r['model']} | {r['runtime']} {r['precision']} | {frame_ms(r):.0f} | {frame_ms(r, 'min'):.0f} | "
                    f"{r.get('tiles_per_frame', 1)} | {2 * r['gmacs_per_s']:.1f} | {frac} |")
    fp32, int8 = _find(doc, format="tflite", precision="fp32"), _find(doc, format="tflite", precision="int8")
    ort = _find(doc, format="onnx")
    ratios = {}
    if fp32 and ort:
        ratios["tflite fp32 / onnxruntime"] = frame_ms(fp32) / frame_ms(ort)
    if fp32 and int8:
        ratios["tflite int8 / fp32"] = frame_ms(int8) / frame_ms(fp32)
    if fp32 and "gemm_fraction" in fp32:
        ratios["tflite fp32 share of GEMM"] = fp32["gemm_fraction"]
    return rows, ratios


def group_table(study: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per group count: cost, size, latency and quality."""
    doc, q = study["latency"]["groups"], study["quality"]
    rows = []
    for g in study["groups"]:
        fp32, int8 = _find(doc, groups=g, precision="fp32"), _find(doc, groups=g, precision="int8")
        sizes = study["sizes"][str(g)]
        rows.append({"groups": g, **study["complexity"][str(g)],
                     "fp32_kb": next((v for k, v in sizes.items() if k.endswith("_fp32.tflite")), 0) / 1024,
                     "int8_kb": next((v for k, v in sizes.items() if k.endswith("_int8.tflite")), 0) / 1024,
                     "fp32_ms": frame_ms(fp32) if fp32 else None, "int8_ms": frame_ms(int8) if int8 else None,
                     "set5": q[str(g)]["Set5"], "set14": q[str(g)]["Set14"]})
    return rows


def tile_table(study: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per tile side: tiles per frame and milliseconds per output megapixel."""
    doc, rows = study["latency"]["tiles"], []
    (lr_h, lr_w), (sr_h, sr_w) = frame(study)
    for t in study["tiles"]:
        fp32, int8 = _find(doc, input=[t, t], precision="fp32"), _find(doc, input=[t, t], precision="int8")
        tiles = (fp32 or int8 or {}).get("tiles_per_frame")
        computed = None if tiles is None else tiles * t * t / (lr_h * lr_w)
        rows.append({"tile": t, "tiles": tiles, "computed": computed,
                     "fp32": frame_ms(fp32) / (sr_h * sr_w / 1e6) if fp32 else None,
                     "int8": frame_ms(int8) / (sr_h * sr_w / 1e6) if int8 else None})
    return rows


def _cell(value: float | None, fmt: str) -> str:
    return "-" if value is None else format(value, fmt)


def draw(study: dict[str, Any], folder: Path) -> None:
    """The three PNGs: quality against Mult-Adds, latency against group count, ms/MP against tile side."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    groups, tiles = group_table(study), tile_table(study)

    def plot(rows: list[dict[str, Any]], x: Any, series: tuple[tuple[str, str], ...], xlabel: str, ylabel: str,
             title: str, name: str, style: Callable[[Any], None] = lambda ax: None) -> None:
        fig, ax = plt.subplots(figsize=(6, 4))
        for key, label in series:
            ax.plot([x(r) for r in rows], [r[key] for r in rows], "o-", label=label)
        style(ax)
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel)
        ax.set_title(title)
        ax.legend()
        with atomic_path(folder / PLOTS[name], suffix=".png") as tmp:
            fig.savefig(tmp, dpi=110, bbox_inches="tight")
        plt.close(fig)

    def group_labels(ax: Any) -> None:
        for r in groups:
            for key in ("set5", "set14"):
                ax.annotate(f"g{r['groups']}", (r["mult_adds"] / 1e9, r[key]), fontsize=7, xytext=(3, 3),
                            textcoords="offset points")

    def group_axis(ax: Any) -> None:
        ax.set_xscale("log", base=2)
        ax.set_xticks([r["groups"] for r in groups], [str(r["groups"]) for r in groups])

    plot(groups, lambda r: r["mult_adds"] / 1e9, (("set5", "Set5 x4"), ("set14", "Set14 x4")),
         "Mult-Adds for a 1280x720 x4 output (G)", "Y-PSNR (dB)", "Quality against cost, per group count", "quality",
         group_labels)
    plot(groups, lambda r: r["groups"], (("fp32_ms", "TFLite fp32"), ("int8_ms", "TFLite int8")), "group count",
         f"ms per {study['preset']} frame ({study['threads']} threads)", "Host latency against group count", "latency",
         group_axis)
    plot(tiles, lambda r: r["tile"], (("fp32", "TFLite fp32"), ("int8", "TFLite int8")), "input tile side (px)", "ms per output megapixel",
         "Tiling cost against tile size (groups 4)", "tiles")


def _exact_note(study: dict[str, Any]) -> str:
    exact = [g for g in study["groups"] if g not in study["derive"]["finetuned"]]
    if not exact:
        return ""
    return (f"Groups {', '.join(map(str, exact))}: the default weights' exact function (fewer groups: kernels on the "
            "block diagonal), not fine-tuned, so their quality is a floor that fine-tuning could only raise "
            "(`--finetune-all` gives them the same budget). ")


def section(study: dict[str, Any], folder: Path) -> str:
    """The generated Markdown (and the PNGs, written into ``folder``)."""
    draw(study, folder)
    runtimes = study["latency"]["runtimes"]
    device = runtimes["device"]
    tools = ", ".join(f"{k} {v}" for k, v in runtimes["tools"].items())
    d = study["derive"]
    runtime_lines, ratios = runtime_rows(runtimes)
    q = study["quality"]
    (lr_h, lr_w), (sr_h, sr_w) = frame(study)
    runs = "; ".join(
        f"{k} {m['created_utc']}, load {m['device'].get('load', '?')}, GEMM {m.get('gemm_gflops', '?')} GFLOP/s"
        for k in ("runtimes", "groups", "tiles") for m in [study["latency"][k]])
    parts = [
        f"Measured on {device['description']}; {tools}. Preset {study['preset']} "
        f"({lr_h}x{lr_w} LR in, {sr_w}x{sr_h} out), {study['threads']} threads; each table is one interleaved run of "
        f"`benchmarks.latency` (when it ran, the load average at its start, and this machine's float32 GEMM rate "
        f"measured in it: {runs}); ms are p50 per frame (all tiles of it).",
        "", "### Runtimes, default weights (groups 4)", "",
        "| file | runtime | p50 ms/frame | min ms/frame | tiles/frame | GFLOP/s | share of GEMM |",
        "| --- | --- | --- | --- | --- | --- | --- |", *runtime_lines, "",
        "; ".join(f"{k}: **{v:.2f}**" for k, v in ratios.items()) + ".",
        "", "### Group count", "",
        f"Weights: derived from the embedded default weights (groups 4) by `train --groups G --init`. "
        f"Fine-tuned {d['steps']} steps each (batch 16, 32-px patches, x2/x3/x4 in turn; lr {d['lr']:g}, halved "
        f"every {d['decay_every']} steps, weight average {d['ema']}; on {' + '.join(d['data'])}), the same budget: "
        f"groups {', '.join(map(str, d['finetuned'])) or 'none'}; more groups than 4 start from the cut and "
        f"least-squares-refitted network (README), 4 and fewer from the default weights' exact function. "
        f"{_exact_note(study)}",
        f"Files: the default 128x128 tile, tiled over the frame with a {DEFAULT_OVERLAP}-px overlap.", "",
        "| groups | parameters | Mult-Adds (G) | fp32 KB | int8 KB | fp32 ms | int8 ms | Set5 x4 dB | Set14 x4 dB |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in group_table(study):
        parts.append(f"| {r['groups']} | {r['params']:,} | {r['mult_adds'] / 1e9:.2f} | {r['fp32_kb']:.0f} | "
                     f"{r['int8_kb']:.0f} | {_cell(r['fp32_ms'], '.0f')} | {_cell(r['int8_ms'], '.0f')} | "
                     f"{r['set5']:.2f} | {r['set14']:.2f} |")
    if 4 in study["derive"]["finetuned"]:
        parts.append(f"| 4, embedded default (not fine-tuned) | | | | | | | {q['default']['Set5']:.2f} | "
                     f"{q['default']['Set14']:.2f} |")
    parts += [f"| bicubic | | | | | | | {q['default']['Set5_bicubic']:.2f} | {q['default']['Set14_bicubic']:.2f} |",
              "", f"![Y-PSNR against Mult-Adds per group count]({PLOTS['quality']})",
              f"![latency against group count]({PLOTS['latency']})",
              "", "### Tile size (groups 4, default weights)", "",
              f"Input tiles of each side with the {DEFAULT_OVERLAP}-px overlap that makes tiling exact (an output pixel "
              f"depends on {RECEPTIVE_RADIUS} LR px on each side), cut over the {lr_h}x{lr_w} frame as an app does; ms per "
              "output megapixel of the frame. Computed: LR pixels the tiles cover over the frame's own (overlaps, and a "
              f"tile taller than the {lr_h}-px frame is padded), the work tiling adds.", "",
              f"| tile | tiles per {study['preset']} frame | computed / frame | fp32 ms/MP | int8 ms/MP |",
              "| --- | --- | --- | --- | --- |"]
    for r in tile_table(study):
        parts.append(f"| {r['tile']}x{r['tile']} | {r['tiles']} | {_cell(r['computed'], '.2f')}x | {_cell(r['fp32'], '.0f')} | "
                     f"{_cell(r['int8'], '.0f')} |")
    parts += ["", f"![ms per megapixel against tile size]({PLOTS['tiles']})"]
    return "\n".join(parts)
