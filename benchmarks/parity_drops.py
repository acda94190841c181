"""The figures behind the verdict's Y-PSNR drop limits: every variant's drop below PyTorch, per weights and scale.

    python benchmarks/parity_drops.py [--weights default PCARN-M-L1.pth PCARN-M.pth] [--scales 2 3 4]
                                      [--sets Set5 Set14] [--targets tflite coreml] [--precision LIST] [--out DIR]
                                      [--table]

Runs ``pcarn_mobile.export.export`` (dynamic-size files, so whole images are scored) with
``--parity-data`` on each set and prints one markdown row per file: PyTorch's Y-PSNR, the file's,
the drop, the photo PSNR against PyTorch and the verdict under the current limits
(``pcarn_mobile/export/formats.py``). Weights: ``default`` (the embedded ones), a file name in
``$PCARN_SHARED/checkpoints``, or a checkpoint's path (a ``train --stage qat`` run's ``best.pt``). Numerics only: nothing here is timed.

``--table`` then prints the drops once more as one grid per file variant, a row per weights and a
column per scale and set (the int8 table of docs/int8-quality.md:
``python benchmarks/parity_drops.py --weights PCARN-M-L1.pth default --precision fp32,int8 --table``).
"""
from __future__ import annotations

import argparse
import logging
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pcarn_mobile.export import export  # noqa: E402
from pcarn_mobile.machine import describe_machine  # noqa: E402
from pcarn_mobile.shared import shared_dir  # noqa: E402

#: Extra options per target: every variant the limits cover.
TARGET_OPTIONS = {"tflite": {"dynamic": True}, "coreml": {"compress": "none,int8,palette6"}}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--weights", nargs="+", default=["default", "PCARN-M-L1.pth", "PCARN-M.pth"])
    parser.add_argument("--scales", nargs="+", type=int, default=[2, 3, 4])
    parser.add_argument("--sets", nargs="+", default=["Set5", "Set14"])
    parser.add_argument("--targets", nargs="+", default=["tflite"], choices=sorted(TARGET_OPTIONS))
    parser.add_argument("--precision", help="only these precisions, e.g. fp32,int8 (default: every variant the limits cover)")
    parser.add_argument("--out", help="keep the exported files here (default: a temporary folder)")
    parser.add_argument("--table", action="store_true", help="also print the drops as a weights x (scale, set) grid per variant")
    args = parser.parse_args()
    shared = shared_dir()
    if shared is None:
        print("needs the shared data ($PCARN_SHARED or ../shared)", file=sys.stderr)
        return 2
    logging.basicConfig(level=logging.WARNING)
    print(f"machine: {describe_machine()}")
    print("| weights | scale | set | file | PyTorch Y-PSNR | file Y-PSNR | drop (dB) | limit | photos vs PyTorch (dB) | verdict |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    drops: dict[str, dict[tuple[str, int, str], float]] = {}
    with tempfile.TemporaryDirectory() as scratch:
        out_root = Path(args.out or scratch)
        for weights in args.weights:
            source = None if weights == "default" else str(weights if Path(weights).is_file() else shared / "checkpoints" / weights)
            for scale in args.scales:
                for set_name in args.sets:
                    for target in args.targets:
                        out = out_root / f"{Path(weights).stem}_x{scale}_{set_name}_{target}"
                        result = export(target=target, weights=source, scale=scale, out=str(out),
                                        parity_data=str(shared / "data" / set_name / f"x{scale}"), **TARGET_OPTIONS[target],
                                        **({"precision": args.precision} if args.precision else {}))
                        for f in result.files:
                            p = f.sidecar["parity"]
                            q = p["quality"]
                            print(f"| {weights} | x{scale} | {set_name} | {target} {f.sidecar['variant']} | "
                                  f"{q['torch_psnr_y']:.3f} | {q['psnr_y']:.3f} | {q['drop_db']:+.3f} | "
                                  f"{p['limits']['set_drop_db']:g} | {p['photos']['psnr_db']} | {p['verdict']} |", flush=True)
                            drops.setdefault(f"{target} {f.sidecar['variant']}", {})[weights, scale, set_name] = q["drop_db"]
    if args.table:
        print_table(drops, args.weights, args.scales, args.sets)
    return 0


def print_table(drops: dict[str, dict[tuple[str, int, str], float]], weights: list[str], scales: list[int],
                sets: list[str]) -> None:
    """One markdown grid per file variant: Y-PSNR drop below PyTorch (dB), a row per weights, a column per scale and set."""
    columns = [(scale, set_name) for scale in scales for set_name in sets]
    for variant, cells in drops.items():
        print(f"\n{variant}: Y-PSNR drop below PyTorch (dB)\n")
        print("| weights | " + " | ".join(f"x{s} {n}" for s, n in columns) + " |")
        print("| --- |" + " --- |" * len(columns))
        for w in weights:
            print(f"| {w} | " + " | ".join(f"{cells[w, s, n]:.3f}" if (w, s, n) in cells else "-" for s, n in columns) + " |")


if __name__ == "__main__":
    sys.exit(main())
