"""Peak memory of one tile, per tile area, for a resizable TFLite file on LiteRT (the phone's runtime).

``python -m benchmarks.tiles.memory --model FILE.tflite ... [--sides 96x96,128x128,...]``

Why: a resizable file can run any tile shape, and :func:`pcarn_mobile.tile_shape.best_free_shape`
takes the biggest one that fits ``max_tile_area`` (fewer tiles, less overlap recomputed). What
bounds that area is memory: the runtime's arena grows with the tile's pixels, about linearly
(every feature map is ``channels x tile pixels``; at xS the upsampler's maps are S^2 times larger).

Each (file, shape) runs in a fresh process that imports only NumPy and LiteRT, loads the file,
notes ``ru_maxrss`` (the loaded runtime), resizes the input, allocates, runs one inference and
notes ``ru_maxrss`` again: the difference is what that tile costs on top of the loaded runtime,
the part that grows with the area. A least-squares line through the points gives bytes per LR
pixel and the fixed part; :mod:`pcarn_mobile.tile_shape` turns them into ``max_tile_area``.
"""
from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np

from pcarn_mobile.errors import UserError
from pcarn_mobile.fileio import write_json
from pcarn_mobile.machine import describe_machine, installed_versions
from pcarn_mobile.sizes import parse_hw

#: Tile shapes measured by default: from the old default 128x128 up to what x2 needs for a 12 MP photo.
DEFAULT_SIDES = "96x96,128x128,192x192,256x256,320x320"

_CHILD = r"""
import json, resource, sys
import numpy as np
from ai_edge_litert.interpreter import Interpreter
path, h, w, threads = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
kib = lambda: resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
it = Interpreter(model_path=path, num_threads=threads)
loaded = kib()
d = it.get_input_details()[0]
it.resize_tensor_input(d["index"], [1, h, w, 3], strict=False)
it.allocate_tensors()
d = it.get_input_details()[0]
x = np.random.default_rng(0).integers(0, 255, (1, h, w, 3)).astype(d["dtype"]) if d["dtype"] != np.float32 \
    else np.random.default_rng(0).uniform(0, 1, (1, h, w, 3)).astype(np.float32)
it.set_tensor(d["index"], x)
it.invoke()
out = it.get_tensor(it.get_output_details()[0]["index"]).shape
print(json.dumps({"loaded_kib": loaded, "peak_kib": kib(), "output": list(out)}))
"""


def measure(path: Path, shape: tuple[int, int], threads: int = 2) -> dict[str, Any]:
    """One tile of ``shape`` through ``path`` in a fresh process: loaded and peak resident memory (MiB)."""
    done = subprocess.run([sys.executable, "-c", _CHILD, str(path), str(shape[0]), str(shape[1]), str(threads)],
                          capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise UserError(f"{path.name} at {shape[0]}x{shape[1]}: {(done.stderr.strip().splitlines() or ['failed'])[-1]}")
    got = json.loads(done.stdout.strip().splitlines()[-1])
    return {"shape": list(shape), "area": shape[0] * shape[1], "loaded_mib": round(got["loaded_kib"] / 1024, 1),
            "peak_mib": round(got["peak_kib"] / 1024, 1),
            "tile_mib": round((got["peak_kib"] - got["loaded_kib"]) / 1024, 1)}


def fit(points: list[dict[str, Any]]) -> dict[str, float]:
    """Least-squares ``tile_mib = fixed + per_pixel * area``; bytes per LR pixel and the fixed MiB."""
    area = np.array([p["area"] for p in points], dtype=np.float64)
    mib = np.array([p["tile_mib"] for p in points], dtype=np.float64)
    slope, fixed = np.polyfit(area, mib, 1)
    worst = float(np.max(np.abs(fixed + slope * area - mib)))
    return {"bytes_per_pixel": round(slope * 2**20, 1), "fixed_mib": round(float(fixed), 1),
            "worst_residual_mib": round(worst, 1)}


def _label(path: Path) -> tuple[int | None, str | None]:
    """(scale, precision) from the file's name (``..._x4_dyn_fp32.tflite``), None where it does not say."""
    scale = re.search(r"_x(\d)_", path.name)
    precision = re.search(r"_(fp32|fp16|int8)", path.name)
    return (int(scale[1]) if scale else None), (precision[1] if precision else None)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.tiles.memory", description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", nargs="+", required=True, type=Path, help="resizable (--dynamic) .tflite files")
    parser.add_argument("--sides", default=DEFAULT_SIDES, help=f"tile shapes HxW, comma-separated (default {DEFAULT_SIDES})")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--json", type=Path, help="also write every point and fit here")
    args = parser.parse_args(argv)
    try:
        shapes = [parse_hw(s, "--sides") for s in args.sides.split(",")]
        missing = [str(p) for p in args.model if not p.is_file()]
        if missing:
            raise UserError(f"no such file: {', '.join(missing)}")
        print(f"Measured on {describe_machine()}; "
              + ", ".join(f"{k} {v}" for k, v in installed_versions(("ai-edge-litert", "numpy")).items())
              + f"; {args.threads} threads; one fresh process per point")
        results = []
        for path in args.model:
            scale, precision = _label(path)
            points = [measure(path, shape, args.threads) for shape in shapes]
            line = fit(points)
            results.append({"file": path.name, "scale": scale, "precision": precision, "points": points, "fit": line})
            cells = ", ".join(f"{p['shape'][0]}x{p['shape'][1]} {p['tile_mib']:.0f}" for p in points)
            print(f"{path.name}: tile MiB over the loaded runtime ({points[0]['loaded_mib']:.0f} MiB): {cells}; "
                  f"fit {line['bytes_per_pixel']:.0f} B/px + {line['fixed_mib']:.0f} MiB "
                  f"(worst residual {line['worst_residual_mib']:.0f} MiB)")
        if args.json:
            write_json(args.json, {"machine": describe_machine(), "threads": args.threads, "files": results})
    except UserError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
