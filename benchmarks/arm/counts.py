"""``python -m benchmarks.arm.counts``: ARM64 guest instructions per inference, beside the x86 milliseconds.

The trade-off study (``benchmarks.tradeoff``) times group counts, precisions and tile sizes on
this noisy 2-core x86, whose grouped-convolution kernels are not a phone's. This counts the guest
instructions of one inference on LiteRT's aarch64 kernels under qemu, at an ARMv8.0 core
(cortex-a53, NEON only) and an ARMv8.2 core with dot product (cortex-a76), one guest thread
(reproducible: each count is taken twice, in two emulator runs, and the spread reported), per
output megapixel. They are instruction counts, not time: memory stalls, SIMD width and issue
rate are not in them.

- Group counts 1..64 (fp32, int8), each at a ``--group-tile`` input (default 64x64, a valid
  tile a quarter of the default's area; the 128x128 count of groups 4 shows how counts scale).
  XNNPACK's kernels do the same work whatever the weights' values, so the group files are
  ``convert --random-init --groups G`` (groups 4: the embedded default weights).
- Tile sizes (default weights, fp32 and int8): instructions per output megapixel of a 720p-x4
  frame (180x320 LR) cut into tiles of that side with the 24-px overlap, as the x86 table is.

Everything is cached in ``--work`` (files per group count, ``counts.json`` per file, core and
size), so a stopped run picks up where it was; the section of ``benchmarks/RESULTS.md`` (with a
plot) is rewritten from whatever the cache holds after each count.
"""
from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

from pcarn_mobile.archinfo import DEFAULT_OVERLAP, VALID_GROUPS
from pcarn_mobile.errors import CliParser, UserError, run_cli
from pcarn_mobile.fileio import atomic_path, sha256_of, write_json, write_text
from pcarn_mobile.tile_shape import tiles_along

from .. import mdsection

OWNER = "benchmarks.arm.counts"
ROOT = Path(__file__).resolve().parents[2]
CORES = ("cortex-a53", "cortex-a76")
PRECISIONS = ("fp32", "int8")
TILES = (64, 96, 128)
FRAME = (180, 320)  # the 720p-x4 preset's LR frame
SCALE = 4
RUNS = 2
PLOT = "arm-counts.png"


def build_parser() -> argparse.ArgumentParser:
    p = CliParser(prog="python -m benchmarks.arm.counts",
                  description="ARM64 guest instructions per inference and per output megapixel, per emulated core, for "
                              "the trade-off study's group counts, precisions and tile sizes, into benchmarks/RESULTS.md.")
    p.add_argument("--work", default=str(ROOT / "runs" / "arm"), metavar="DIR", help="cache folder (default runs/arm)")
    p.add_argument("--out", default=str(ROOT / "benchmarks" / "RESULTS.md"), metavar="MD")
    p.add_argument("--groups", default=",".join(map(str, VALID_GROUPS)), metavar="LIST")
    p.add_argument("--group-tile", type=int, default=64, metavar="N", help="input side of the group counts (default 64)")
    p.add_argument("--tiles", default=",".join(map(str, TILES)), metavar="LIST", help="tile sides of the tile table")
    p.add_argument("--report-only", action="store_true", help="rewrite the section from the cache, count nothing")
    return p


def _file(work: Path, groups: int, precision: str) -> Path:
    """The group count's file of ``precision`` (128x128 x4), converted once into ``work/files/gG``."""
    out = work / "files" / f"g{groups}"
    found = sorted(out.glob(f"*_{precision}.tflite"))
    if not found:
        source = [] if groups == 4 else ["--random-init", "--groups", str(groups)]
        cmd = [sys.executable, "-m", "pcarn_mobile.convert", "--target", "tflite", *source, "--precision", "fp32,int8",
               "--out", str(out)]
        done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
        found = sorted(out.glob(f"*_{precision}.tflite"))
        if done.returncode != 0 or not found:
            raise UserError(f"converting groups {groups} failed: {(done.stderr or done.stdout).strip().splitlines()[-1:]}")
    return found[0]


def _key(path: Path, core: str, side: int) -> str:
    return f"{path.name}|{sha256_of(path)[:16]}|{core}|{side}"


def jobs(work: Path, groups: list[int], group_tile: int, tiles: list[int]) -> list[tuple[int, str, str, int]]:
    """(groups, precision, core, side) in the order worth having first: int8 (fast to emulate) before fp32, the
    ARMv8.2 core before ARMv8.0, group counts before tiles."""
    out = [(g, p, c, group_tile) for p in reversed(PRECISIONS) for c in reversed(CORES) for g in groups]
    return out + [(4, p, c, t) for p in reversed(PRECISIONS) for c in reversed(CORES) for t in tiles if t != group_tile]


def measure(work: Path, todo: list[tuple[int, str, str, int]], report: Any) -> None:
    from converters.arm64_runner import ArmError, count_instructions

    cache_path = work / "counts.json"
    cache: dict[str, list[int]] = json.loads(cache_path.read_text()) if cache_path.is_file() else {}
    for groups, precision, core, side in todo:
        path = _file(work, groups, precision)
        key = _key(path, core, side)
        while len(cache.get(key, [])) < RUNS:
            try:
                count = count_instructions(path, core, (side, side), limit_s=3600)[0]
            except ArmError as exc:
                raise UserError(str(exc)) from None
            cache.setdefault(key, []).append(count)
            write_json(cache_path, cache)
            print(f"g{groups} {precision} {core} {side}x{side}: {count:,} instructions", flush=True)
        report()


def _x86_tables(md: str) -> tuple[dict[int, dict[str, float]], dict[int, dict[str, float]]]:
    """The tradeoff section's x86 ms per group count and ms/MP per tile, read from RESULTS.md's own tables."""
    def table(first: str) -> list[dict[str, str]]:
        lines = [ln for ln in md.splitlines() if ln.startswith("|")]
        for i, ln in enumerate(lines):
            cells = [c.strip() for c in ln.strip("|").split("|")]
            if cells[0] == first:
                rows = []
                for body in lines[i + 2:]:
                    values = [c.strip() for c in body.strip("|").split("|")]
                    if len(values) != len(cells) or not re.fullmatch(r"\d+(x\d+)?", values[0]):
                        break
                    rows.append(dict(zip(cells, values)))
                return rows
        return []

    num = (lambda v: float(v) if re.fullmatch(r"[\d.]+", v) else None)
    groups = {int(r["groups"]): {"fp32": num(r["fp32 ms"]), "int8": num(r["int8 ms"])} for r in table("groups")}
    tiles = {int(r["tile"].split("x")[0]): {"fp32": num(r["fp32 ms/MP"]), "int8": num(r["int8 ms/MP"])}
             for r in table("tile")}
    return groups, tiles


def _per_frame_mp(count: float, side: int) -> float:
    """Instructions per output megapixel of the 720p-x4 frame in tiles of ``side`` (the x86 tile table's measure)."""
    n = tiles_along(FRAME[0], side, DEFAULT_OVERLAP) * tiles_along(FRAME[1], side, DEFAULT_OVERLAP)
    return count * n / (FRAME[0] * FRAME[1] * SCALE * SCALE / 1e6)


def collect(work: Path, groups: list[int], group_tile: int, tiles: list[int]) -> dict[str, Any]:
    """The cached counts as table rows: mean and spread per (groups or tile, precision, core)."""
    cache_path = work / "counts.json"
    cache: dict[str, list[int]] = json.loads(cache_path.read_text()) if cache_path.is_file() else {}
    by: dict[tuple[str, str, int], list[int]] = {}
    for key, counts in cache.items():
        name, _, core, side = key.split("|")
        by[(name, core, int(side))] = counts

    def get(g: int, precision: str, core: str, side: int) -> list[int] | None:
        folder = work / "files" / f"g{g}"
        found = sorted(folder.glob(f"*_{precision}.tflite"))
        return by.get((found[0].name, core, side)) if found else None

    return {"groups": {(g, p, c): get(g, p, c, group_tile) for g in groups for p in PRECISIONS for c in CORES},
            "tiles": {(t, p, c): get(4, p, c, t) for t in sorted({*tiles, group_tile}) for p in PRECISIONS for c in CORES}}


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:g}"


def _g(counts: list[int] | None, per: float) -> str:
    return "-" if not counts else f"{sum(counts) / len(counts) / per / 1e9:.2f}"


def _spread(counts: list[int] | None) -> float | None:
    return None if not counts or len(counts) < 2 else (max(counts) - min(counts)) / (sum(counts) / len(counts))


def _ranking(values: dict[int, float | None]) -> list[int]:
    return [k for k, v in sorted(((k, v) for k, v in values.items() if v is not None), key=lambda kv: kv[1])]


def section(data: dict[str, Any], x86_groups: dict, x86_tiles: dict, group_tile: int, folder: Path) -> str:
    out_mp = (group_tile * SCALE) ** 2 / 1e6
    spreads = [s for d in (data["groups"], data["tiles"]) for s in map(_spread, d.values()) if s is not None]
    lines = [
        "ARM64 guest instructions of one inference on LiteRT 2.1.0's aarch64 XNNPACK kernels under qemu-user 7.2 "
        "(`converters.arm64_runner.count_instructions`: a TCG plugin counts between marks around `invoke`, after a "
        "warm-up invoke; one guest thread). **These are instruction counts, not time**: memory stalls, cache misses, "
        "SIMD width and issue rate are not in them, so they rank kernels by work done, not by speed. cortex-a53 = "
        "ARMv8.0 (NEON); cortex-a76 = ARMv8.2 (fp16 arithmetic, int8 dot product). Each count was taken "
        f"{RUNS} times in separate emulator runs; the largest run-to-run spread in this section is "
        + (f"{max(spreads):.1e} of the count." if spreads else "not yet measured."),
        "",
        f"### Group count (x4, {group_tile}x{group_tile} input: G instructions per output megapixel)",
        "",
        "Group files: `convert --random-init --groups G` (groups 4: the default weights); the kernels' work does not "
        "depend on the weights' values. x86 ms: the tradeoff table above (p50 per 720p-x4 frame, 128x128 tiles).",
        "",
        "| groups | fp32 x86 ms | fp32 a53 | fp32 a76 | int8 x86 ms | int8 a53 | int8 a76 |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    groups = sorted({g for g, _, _ in data["groups"]})
    for g in groups:
        x = x86_groups.get(g, {})
        lines.append(f"| {g} | {_ms(x.get('fp32'))} | " + " | ".join(
            [_g(data["groups"][(g, "fp32", c)], out_mp) for c in CORES]) + f" | {_ms(x.get('int8'))} | " + " | ".join(
            [_g(data["groups"][(g, "int8", c)], out_mp) for c in CORES]) + " |")
    lines += ["", "### Tile size (groups 4, default weights: G instructions per output megapixel of a 720p-x4 frame "
                  "in such tiles)", "",
              "| tile | fp32 x86 ms/MP | fp32 a53 | fp32 a76 | int8 x86 ms/MP | int8 a53 | int8 a76 |",
              "| --- | --- | --- | --- | --- | --- | --- |"]
    tiles = sorted({t for t, _, _ in data["tiles"]})
    for t in tiles:
        x = x86_tiles.get(t, {})
        cells = []
        for p in PRECISIONS:
            cells.append(_ms(x.get(p)))
            for c in CORES:
                counts = data["tiles"][(t, p, c)]
                cells.append("-" if not counts else f"{_per_frame_mp(sum(counts) / len(counts), t) / 1e9:.2f}")
        lines.append(f"| {t}x{t} | " + " | ".join(cells) + " |")
    g128 = data["tiles"].get((128, "int8", "cortex-a76"))
    g64 = data["tiles"].get((64, "int8", "cortex-a76"))
    if g128 and g64:
        lines += ["", f"Scaling: groups 4 int8 on cortex-a76, 128x128 over 64x64 input = "
                      f"{(sum(g128) / len(g128)) / (sum(g64) / len(g64)):.2f}x the instructions for 4x the pixels."]
    lines += ["", f"![ARM64 instructions per output megapixel against group count]({PLOT})", "", "Reading (generated):"]
    lines += _reading(data, x86_groups, x86_tiles, groups, tiles, group_tile)
    _draw(data, groups, folder, out_mp)
    return "\n".join(lines)


def _reading(data: dict[str, Any], x86_groups: dict, x86_tiles: dict, groups: list[int], tiles: list[int],
             group_tile: int) -> list[str]:
    out = []
    for p in PRECISIONS:
        x86 = _ranking({g: x86_groups.get(g, {}).get(p) for g in groups})
        for c in CORES:
            arm = _ranking({g: (sum(v) / len(v)) if (v := data["groups"][(g, p, c)]) else None for g in groups})
            if len(arm) < 2:
                continue
            shared = [g for g in arm if g in x86]
            x86_shared = [g for g in x86 if g in arm]
            verdict = ("the same order as the x86 timing" if shared == x86_shared else
                       f"**differs from the x86 timing**, fastest first: {', '.join(map(str, x86_shared))}")
            out.append(f"- {p} group counts on {c}, fewest instructions first: {', '.join(map(str, arm))}; {verdict}.")
        x86t = _ranking({t: x86_tiles.get(t, {}).get(p) for t in tiles})
        for c in CORES:
            armt = _ranking({t: _per_frame_mp(sum(v) / len(v), t) if (v := data["tiles"][(t, p, c)]) else None
                             for t in tiles})
            if len(armt) < 2:
                continue
            xs = [t for t in x86t if t in armt]
            same = [t for t in armt if t in xs] == xs
            out.append(f"- {p} tile sides on {c}, fewest instructions per frame megapixel first: "
                       f"{', '.join(map(str, armt))}; " + ("the same order as the x86 timing." if same else
                                                         f"**differs from the x86 timing** ({', '.join(map(str, xs))})."))
    return out or ["- not enough counts yet."]


def _draw(data: dict[str, Any], groups: list[int], folder: Path, out_mp: float) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4))
    for p in PRECISIONS:
        for c in CORES:
            pts = [(g, sum(v) / len(v) / out_mp / 1e9) for g in groups if (v := data["groups"][(g, p, c)])]
            if pts:
                ax.plot(*zip(*pts), "o-", label=f"{p} {c}")
    ax.set_xscale("log", base=2)
    ax.set_xticks(groups, [str(g) for g in groups])
    ax.set_xlabel("groups")
    ax.set_ylabel("G guest instructions per output MP")
    ax.set_title("ARM64 instruction counts (not time), x4")
    ax.legend()
    with atomic_path(folder / PLOT, suffix=".png") as tmp:
        fig.savefig(tmp, dpi=110, bbox_inches="tight")
    plt.close(fig)


def _ints(text: str, flag: str) -> list[int]:
    try:
        return [int(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise UserError(f"{flag} {text!r}: expected comma-separated integers") from None


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    groups, tiles = _ints(args.groups, "--groups"), _ints(args.tiles, "--tiles")
    bad = [g for g in groups if g not in VALID_GROUPS]
    if bad:
        raise UserError(f"--groups {bad[0]}: choose from {', '.join(map(str, VALID_GROUPS))}")
    small = [t for t in [*tiles, args.group_tile] if t <= 2 * DEFAULT_OVERLAP]
    if small:
        raise UserError(f"tile side {small[0]}: must exceed twice the {DEFAULT_OVERLAP}-px overlap")
    work, out = Path(args.work), Path(args.out)
    work.mkdir(parents=True, exist_ok=True)

    def report() -> None:
        md = out.read_text() if out.is_file() else None
        x86_groups, x86_tiles = _x86_tables(md or "")
        text = section(collect(work, groups, args.group_tile, tiles), x86_groups, x86_tiles, args.group_tile,
                       out.parent)
        write_text(out, mdsection.merge(md, text, OWNER, "# Benchmark results\n\n"))

    if not args.report_only:
        from converters.arm64_runner import ArmError, toolchain

        try:
            toolchain(counting=True)
        except ArmError as exc:
            raise UserError(str(exc)) from None
        measure(work, jobs(work, groups, args.group_tile, tiles), report)
    report()
    print(f"wrote {out} ({OWNER} section) and {out.parent / PLOT}")
    return 0


if __name__ == "__main__":
    run_cli(main)
