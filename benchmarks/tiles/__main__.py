"""``python -m benchmarks.tiles [--core kotlin swift python] [--results FILE]``: tile plans before and after.

For the three target frames, per app (Android: the Kotlin core; iOS: the Swift core) and model
kind: tiles, LR pixels computed over the frame's own, and one tile's peak memory, before (the
apps' old fixed tiles) and after (the shape the plan chooses). The figures are the cores'
answers (``benchmarks.appcores``); each is compared with the Python spec
(``pcarn_mobile.tile_shape``) and any difference is printed loudly and fails the run. A core that
is not built here gets one line; ``--core python`` answers for it with the spec, labelled so.
"""
from __future__ import annotations

import argparse
import importlib
import sys
from pathlib import Path
from typing import Any, Callable

from pcarn_mobile.errors import UserError
from pcarn_mobile.fileio import write_text
from pcarn_mobile.machine import describe_machine
from pcarn_mobile.tile_shape import SHIPPED_SHAPES, TILE_MEMORY_BUDGET

from .. import mdsection
from .plans import FRAMES, KINDS, Frame, Kind, case, spec_plans, tile_mib

OWNER = "benchmarks.tiles"
#: Which core answers for each app.
APP_CORES: dict[str, str] = {"android": "kotlin", "ios": "swift"}
Planner = Callable[[list[dict[str, Any]]], list[dict[str, Any]]]


def load_core(name: str) -> tuple[Planner | None, str]:
    """The core's ``tile_plans`` and a label, or None and the one line saying why it is not here."""
    from benchmarks.appcores import Unavailable

    try:
        module = importlib.import_module(f"benchmarks.appcores.{name}")
        probe = module.tile_plans  # the call raises Unavailable where the toolchain is absent
    except Unavailable as exc:  # or the import already does
        return None, f"{name} core unavailable: {exc}"
    except ModuleNotFoundError:
        return None, f"{name} core: benchmarks/appcores/{name}.py is not on this branch yet (git merge --no-edit main)"
    except AttributeError:
        return None, f"{name} core: benchmarks/appcores/{name}.py has no tile_plans"
    return probe, f"{name} core"


def _interface(answer: dict[str, Any]) -> dict[str, Any]:
    """The keys the appcores interface defines (a core may add its own, e.g. the tiles' origins)."""
    return {"error": True} if "error" in answer else {k: answer.get(k) for k in ("shape", "tiles", "computed")}


def answers(app: str, cases: list[dict[str, Any]], cores: list[str]) -> tuple[list[dict[str, Any]] | None, str, list[str]]:
    """The app's answers to ``cases``, who gave them, and the lines to print (unavailable, differences)."""
    from benchmarks.appcores import Unavailable

    spec = spec_plans(cases)
    lines: list[str] = []
    name = APP_CORES[app]
    if name in cores:
        planner, label = load_core(name)
        if planner is not None:
            try:
                got = planner(cases)
            except Unavailable as exc:
                lines.append(f"{name} core unavailable: {exc}")
            else:
                for c, mine, ref in zip(cases, got, spec):
                    if _interface(mine) != _interface(ref):
                        lines.append(f"!!! {name.upper()} CORE DIFFERS FROM THE PYTHON SPEC on {c}: core {mine}, spec {ref}")
                return got, label, lines
        else:
            lines.append(label)
    if "python" in cores:
        return spec, "Python spec (not the app's core)", lines
    return None, "", lines


def _cell(frame: Frame, kind: Kind, a: dict[str, Any]) -> list[str]:
    if "error" in a:
        return ["refused", "-", "-", "-"]
    mib = tile_mib(frame, kind, a["shape"])
    return [f"{a['shape'][0]}x{a['shape'][1]}", str(a["tiles"]), f"{a['computed'] / (frame.height * frame.width):.2f}x",
            "n/m" if mib is None else f"{mib:.0f}"]


def table(cores: list[str]) -> tuple[str, list[str], bool, int]:
    """The Markdown table, the lines printed before it, whether any core differed from the spec, and its row count."""
    head = ["app", "frame (LR in)", "model kind", "answered by",
            "before: tile", "tiles", "computed / frame", "peak MiB",
            "after: tile", "tiles", "computed / frame", "peak MiB"]
    rows, notes, differs = [head, ["---"] * len(head)], [], False
    for app in APP_CORES:
        kinds = [k for k in KINDS if k.app == app]
        pairs = [(f, k) for f in FRAMES for k in kinds]
        cases = [case(f, k, after) for f, k in pairs for after in (False, True)]
        got, who, lines = answers(app, cases, cores)
        notes += lines
        differs |= any(line.startswith("!!!") for line in lines)
        if got is None:
            continue
        for i, (f, k) in enumerate(pairs):
            rows.append([app, f"{f.name} ({f.height}x{f.width})", k.label, who,
                         *_cell(f, k, got[2 * i]), *_cell(f, k, got[2 * i + 1])])
    text = "\n".join("| " + " | ".join(r) + " |" for r in rows)
    return text, notes, differs, len(rows) - 2


def report(cores: list[str]) -> tuple[str, list[str], bool, int]:
    """The whole section: machine and method, then the table; the lines to print first; differed; rows."""
    text, notes, differs, count = table(cores)
    shipped = ", ".join(f"{h}x{w}" for h, w in SHIPPED_SHAPES)
    intro = (f"Planned on {describe_machine()}. Overlap 24 LR px (exact tiling). Before: the apps' old fixed tiles "
             f"(Android 128x128 static files, iOS 256x256 on a range package). After: resizable files choose "
             f"`best_free_shape` within the sidecar's `max_tile_area` (a {TILE_MEMORY_BUDGET // 2**20} MiB tile "
             f"budget); fixed-shape files `best_fixed_shape` over the shipped shapes {shipped}. iOS: `convert --ios-demo` "
             "installs a range package and an enumerated one per network; the app loads the range package for CPU "
             "and GPU compute units and the enumerated one where the Neural Engine may run. Computed / frame: LR "
             "pixels the tiles cover (overlaps and padding included) over the frame's own. Peak MiB: one tile's peak "
             "on LiteRT's CPU runtime (48 MiB loaded runtime + the measured bytes per pixel of that scale and "
             "precision, `python -m benchmarks.tiles.memory`); n/m: Core ML, not measurable here.")
    return f"{intro}\n\n{text}", notes, differs, count


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.tiles", description=__doc__.split("\n\n")[0])
    parser.add_argument("--core", nargs="+", choices=("kotlin", "swift", "python"), default=["kotlin", "swift"],
                        help="who answers: the apps' cores (default), and python = the spec where a core is absent")
    parser.add_argument("--results", type=Path, help="also write the section into this Markdown file (RESULTS.md)")
    args = parser.parse_args(argv)
    try:
        section, notes, differs, count = report(args.core)
        for line in notes:
            print(line, file=sys.stderr if line.startswith("!!!") else sys.stdout)
        if not count:
            raise UserError("no core answered; build them (make toolchain-kotlin, make toolchain-swift) or pass --core python")
        print(section)
        if args.results:
            existing = args.results.read_text() if args.results.exists() else None
            write_text(args.results, mdsection.merge(existing, section, OWNER, "# Results\n\n"))
    except UserError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 1 if differs else 0


if __name__ == "__main__":
    sys.exit(main())
