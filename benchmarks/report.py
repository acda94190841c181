"""``python -m benchmarks.report RESULT.json... [--out benchmarks/RESULTS.md]``: host, Android and iOS side by side.

Every harness writes the same latency result (schema v1), so one table can hold them all: a user
picks a model and a runtime by the figure measured on hardware like theirs. The delegated share
is in the table next to the latency because a delegate that took nothing (``none``) still
produces a plausible figure, a CPU one; the chart hatches those bars for the same reason.

The Markdown goes between two marker comments, so RESULTS.md can hold hand-written text around
the generated section; both files are written atomically (a crash leaves the old ones).
"""
from __future__ import annotations

import argparse
import json
import os
from pathlib import Path
from typing import Any

from pcarn_mobile.errors import CliParser, UserError, run_cli
from pcarn_mobile.fileio import atomic_path, write_text

from . import mdsection
from .results import schema_errors

DEFAULT_OUT = Path(__file__).with_name("RESULTS.md")
OWNER = "benchmarks.report"
BEGIN, END = mdsection.begin_marker(OWNER), mdsection.end_marker(OWNER)
_HARNESS_ORDER = {"host": 0, "android": 1, "android-app": 2, "ios": 3, "ios-app": 4}
_HEADER = ["model", "precision", "runtime / delegate or compute units", "device", "p50 ms", "delegated share",
           "peak memory MB"]
_FALLBACK = ("partial", "none", "unknown")  # figures not (wholly) measured on the accelerator asked for


def load(paths: list[str]) -> list[tuple[str, dict[str, Any]]]:
    """(file name, document) for every file, each checked against schema v1."""
    docs = []
    for name in paths:
        path = Path(name)
        try:
            doc = json.loads(path.read_text())
        except FileNotFoundError:
            raise UserError(f"{path}: no such file") from None
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise UserError(f"{path}: not JSON ({exc})") from None
        errors = schema_errors(doc) if isinstance(doc, dict) else ["(top): not an object"]
        if errors:
            raise UserError(f"{path}: not a latency result of schema v1 ({errors[0]})")
        docs.append((path.name, doc))
    return docs


def delegated_share(result: dict[str, Any]) -> str:
    """How much of the graph ran where it was asked to: the column a silent CPU fallback shows in."""
    d = result["delegation"]
    status = d["status"]
    if status == "not-applicable":
        return "n/a (CPU)"
    if status == "failed":
        return "**failed**"
    if status == "none":  # the runtime's statement wins over counts (NNAPI can replace every node, then not run)
        return "**none**: ran on the CPU"
    if "delegated_ops" in d and "cpu_ops" in d and d["delegated_ops"] + d["cpu_ops"] > 0:
        done, total = d["delegated_ops"], d["delegated_ops"] + d["cpu_ops"]
        share = f"{100 * done / total:.0f}% ({done}/{total} ops)"
        return share if status == "full" else f"**{status}**: {share}"
    if status == "partial" and "delegate_kernels" in d:
        return f"**partial** ({d['delegate_kernels']} delegate kernels)"
    return {"full": "100%", "partial": "**partial**", "unknown": "unknown (the runtime did not say)"}[status]


def _p50(result: dict[str, Any]) -> str:
    latency = result["latency_ms"]
    if latency is None:
        return "failed"
    return f"~{latency['p50']:.2f} (mean)" if result.get("p50_is_mean") else f"{latency['p50']:.2f}"


def _memory(result: dict[str, Any]) -> str:
    if result.get("peak_memory_mb") is not None:
        return f"{result['peak_memory_mb']:.1f}"
    if "memory_delta_mb" in result:
        return f"+{result['memory_delta_mb']['overall']:.1f}"
    return "-"


def _runtime(result: dict[str, Any]) -> str:
    threads = f", {result['threads']} threads" if result.get("threads") else ""
    return f"{result['runtime']} {result['backend']}{threads}"


def rows(docs: list[tuple[str, dict[str, Any]]]) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """(document, result) pairs by input size, then host, Android, iOS: the same work side by side across
    platforms (a .tflite file and an .mlpackage of one network have different names)."""
    pairs = [(doc, r) for _, doc in docs for r in doc["results"]]
    return sorted(pairs, key=lambda p: (p[1]["input"], _HARNESS_ORDER[p[0]["harness"]], p[0]["device"]["description"],
                                        p[1]["model"], _runtime(p[1])))


def table(docs: list[tuple[str, dict[str, Any]]]) -> str:
    lines = ["| " + " | ".join(_HEADER) + " |", "|" + " --- |" * len(_HEADER)]
    for doc, r in rows(docs):
        precision = r["precision"] if r.get("variant", r["precision"]) == r["precision"] else \
            f"{r['precision']} ({r['variant']})"
        cells = [f"{r['model']} @{r['input'][0]}x{r['input'][1]}", precision, _runtime(r), doc["device"]["description"],
                 _p50(r), delegated_share(r), _memory(r)]
        lines.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    return "\n".join(lines)


def section(docs: list[tuple[str, dict[str, Any]]], chart: str | None) -> str:
    """The generated Markdown: table, how to read it, failures, and where each figure came from."""
    parts = [table(docs), "",
             "p50: median milliseconds per inference (`~x (mean)`: the tool printed no percentiles, the mean is shown). "
             "Delegated share: operations the delegate or Core ML compute units took, as the runtime reported "
             "(`benchmark_model`'s delegate messages, Core ML's `MLComputePlan`); **none** means the delegate was asked "
             "for and took nothing, so that figure is a CPU figure. Peak memory: peak resident MB of the measuring "
             "process (`+x`: only `benchmark_model`'s growth since its start is known)."]
    if chart:
        parts += ["", f"![p50 latency per model, runtime and device; hatched: delegation partial, none or unknown]({chart})"]
    failures = [f"- {r['model']}, {_runtime(r)} on {doc['device']['description']}: {r['error']}"
                for doc, r in rows(docs) if r["latency_ms"] is None and "error" in r]
    if failures:
        parts += ["", "Failed measurements:", "", *failures]
    parts += ["", "Sources:", ""]
    for name, doc in docs:
        tools = ", ".join(f"{k} {v}" for k, v in doc["tools"].items())
        parts.append(f"- `{name}`: {doc['harness']} harness, {doc['device']['description']}, {doc['created_utc']}"
                     + (f"; {tools}" if tools else ""))
    return "\n".join(parts)


def merge(existing: str | None, generated: str) -> str:
    """``existing`` with the report's section replaced (or appended); a new file when there is none."""
    return mdsection.merge(existing, generated, OWNER,
                           "# Latency results\n\nMeasured by the latency harnesses (benchmarks/README.md).\n\n")


def draw_chart(docs: list[tuple[str, dict[str, Any]]], path: Path) -> bool:
    """Horizontal bars of p50 per measured row, coloured by harness; False when nothing was measured."""
    measured = [(doc, r) for doc, r in rows(docs) if r["latency_ms"] is not None]
    if not measured:
        return False
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    colours = {h: plt.get_cmap("tab10")(i) for i, h in enumerate(_HARNESS_ORDER)}
    fig, ax = plt.subplots(figsize=(10, 1.2 + 0.35 * len(measured)))
    for y, (doc, r) in enumerate(reversed(measured)):
        p50 = r["latency_ms"]["p50"]
        ax.barh(y, p50, color=colours[doc["harness"]], hatch="//" if r["delegation"]["status"] in _FALLBACK else None,
                edgecolor="black", linewidth=0.5)
        ax.annotate(f" {p50:.1f}", (p50, y), va="center", fontsize=7)
    labels = [f"{r['model']} | {_runtime(r)} | {doc['device']['description'].split(' (')[0]}"
              for doc, r in reversed(measured)]
    ax.set_yticks(range(len(measured)), labels, fontsize=7)
    ax.set_xlabel("p50 latency per inference (ms)")
    harnesses = sorted({doc["harness"] for doc, _ in measured}, key=_HARNESS_ORDER.get)
    handles = [plt.Rectangle((0, 0), 1, 1, color=colours[h]) for h in harnesses]
    handles.append(plt.Rectangle((0, 0), 1, 1, facecolor="white", edgecolor="black", hatch="//"))
    ax.legend(handles=handles, labels=[*harnesses, "delegation partial, none or unknown"], fontsize=7, loc="lower right")
    ax.margins(x=0.12)
    with atomic_path(path, suffix=".png") as tmp:
        fig.savefig(tmp, dpi=120, bbox_inches="tight")
    plt.close(fig)
    return True


def build_parser() -> argparse.ArgumentParser:
    p = CliParser(prog="python -m benchmarks.report",
                  description="Merge latency results (host, Android, iOS; schema v1) into one Markdown table and one "
                              "PNG chart.")
    p.add_argument("results", nargs="+", metavar="RESULT.json", help="files the latency harnesses wrote")
    p.add_argument("--out", default=str(DEFAULT_OUT), metavar="MD",
                   help="Markdown file whose generated section is (re)written (default benchmarks/RESULTS.md)")
    p.add_argument("--chart", metavar="PNG", help="chart file (default: --out with .png)")
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    docs = load(args.results)
    out = Path(args.out)
    chart = Path(args.chart) if args.chart else out.with_suffix(".png")
    for path in (out, chart):
        if not path.parent.is_dir():
            raise UserError(f"{path}: folder {path.parent} does not exist")
    drawn = draw_chart(docs, chart)
    link = Path(os.path.relpath(chart.resolve(), out.parent.resolve())).as_posix() if drawn else None
    generated = section(docs, link)
    write_text(out, merge(out.read_text() if out.exists() else None, generated))
    print(table(docs))
    print(f"wrote {out}" + (f" and {chart}" if drawn else " (no chart: nothing was measured)"))
    return 0


if __name__ == "__main__":
    run_cli(main)
