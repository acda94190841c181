"""``python -m benchmarks.tradeoff``: which group count, which precision, which tile, by what each costs.

One command rebuilds the whole study, each step cached in ``--work`` so that a stopped run picks
up where it was:

1. **weights for every group count**: more groups than the default's 4 come from ``train --groups G
   --init`` the embedded default weights with one step budget (``DERIVE``), so their quality column
   compares; groups 1, 2 and 4 are the default weights' exact function (``--finetune-all``: the same
   budget for them too);
2. **files**: each group count's weights as fp32 and int8 TFLite files (the default 128x128
   tile), and the default weights at every tile size of the tile table; the default weights as
   ONNX too, for the runtime comparison;
3. **quality**: Set5 and Set14 x4 Y-PSNR of each group count's weights (PyTorch);
4. **latency**: ``benchmarks.latency`` on the 720p-x4 preset, every file of a table in one
   interleaved run (so machine noise hits them alike);
5. **report**: tables and PNG plots in ``benchmarks/RESULTS.md``'s ``benchmarks.tradeoff`` section.

Latency is measured again only with ``--remeasure`` (or when its JSON is missing): timing wants a
quiet machine, so it is the one step a user may want to repeat alone.
"""
from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from pcarn_mobile.errors import CliParser, UserError, run_cli
from pcarn_mobile.export.options import DEFAULT_INPUT_SIZE
from pcarn_mobile.fileio import sha256_of, write_json, write_text
from pcarn_mobile.archinfo import VALID_GROUPS
from pcarn_mobile.shared import shared_dir

from . import mdsection
from .tradeoff_report import OWNER, section

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_WEIGHTS = ROOT / "pcarn_mobile" / "weights" / "pcarn_m_g4.pt"
#: The one fine-tuning budget every group count gets from the default weights (steps at batch 16,
#: 32-px patches, x2/x3/x4 in turn); about 8 minutes per group count on a 2-core CPU, plus 2 to 3 for the refit of more groups.
DERIVE = {"steps": 600, "lr": 2e-4, "decay_every": 200, "gamma": 0.5, "ema": 0.99, "seed": 0}
TRAIN_SETS = ("T91", "SunHays80")
DEFAULT_GROUPS = 4
#: The tile side ``convert`` writes by default, what the group and runtime tables use.
DEFAULT_TILE = DEFAULT_INPUT_SIZE[0]
TILES = (64, 96, 128, 192, 256)
PRESET = "720p-x4"
SCALE = 4


def build_parser() -> argparse.ArgumentParser:
    p = CliParser(prog="python -m benchmarks.tradeoff",
                  description="The group-count, precision and tile-size trade-off: derives weights for every group "
                              "count, converts, measures quality and latency, writes benchmarks/RESULTS.md.")
    p.add_argument("--work", default=str(ROOT / "runs" / "tradeoff"), metavar="DIR",
                   help="folder for the derived weights, files and measurements (default runs/tradeoff)")
    p.add_argument("--out", default=str(ROOT / "benchmarks" / "RESULTS.md"), metavar="MD",
                   help="Markdown file whose benchmarks.tradeoff section is (re)written (default benchmarks/RESULTS.md)")
    p.add_argument("--groups", default=",".join(map(str, VALID_GROUPS)), metavar="LIST",
                   help="group counts to study (default all seven)")
    p.add_argument("--tiles", default=",".join(map(str, TILES)), metavar="LIST",
                   help="input tile sides of the tile table (default 64,96,128,192,256)")
    p.add_argument("--threads", type=int, default=2, help="threads of every latency run (default 2)")
    p.add_argument("--runs", type=int, default=5, help="timed frames per file (default 5)")
    p.add_argument("--remeasure", action="store_true", help="time again even where a latency JSON exists")
    p.add_argument("--finetune-all", action="store_true",
                   help="fine-tune groups 1, 2 and 4 with the same budget too (default: the default weights' exact "
                        "function, which needs no training; about 30 min more here)")
    return p


def _ints(text: str, flag: str, allowed: tuple[int, ...] | None = None) -> list[int]:
    try:
        values = [int(v) for v in text.split(",")]
    except ValueError:
        raise UserError(f"{flag} {text!r}: expected comma-separated integers") from None
    bad = [v for v in values if (allowed and v not in allowed) or v < 1]
    if bad:
        raise UserError(f"{flag}: {bad[0]} is not allowed" + (f"; choose from {allowed}" if allowed else ""))
    return values


def _run(cmd: list[str], what: str) -> None:
    """Runs one step's command with its output shown; a failure stops the study with the step named."""
    print(f"[tradeoff] {what}: {' '.join(cmd[2:])}", flush=True)
    if subprocess.run(cmd, cwd=ROOT).returncode != 0:
        raise UserError(f"{what} failed (command above); fix it and run python -m benchmarks.tradeoff again to go on")


def derive_command(groups: int, out: Path, data: Path) -> list[str]:
    """The training command that derives ``groups``' weights from the default ones."""
    d = DERIVE
    return [sys.executable, "-m", "pcarn_mobile.train", "--groups", str(groups), "--init", str(DEFAULT_WEIGHTS),
            "--data", *(str(data / name) for name in TRAIN_SETS), "--out", str(out), "--steps", str(d["steps"]),
            "--lr", str(d["lr"]), "--decay-every", str(d["decay_every"]), "--gamma", str(d["gamma"]),
            "--ema", str(d["ema"]), "--val", "none", "--seed", str(d["seed"]), "--threads", "2"]


def derived(run: Path) -> bool:
    """Whether ``run`` finished its budget (its train.csv has the last step's row)."""
    log = run / "train.csv"
    return (run / "best.pt").is_file() and log.is_file() and f"\n{DERIVE['steps']}," in log.read_text()


def exact_checkpoint(groups: int, path: Path) -> Path:
    """The default weights regrouped to ``groups`` (at most theirs): the same function, no training."""
    from pcarn_mobile.weights import load_weights, save_checkpoint

    if not path.is_file():
        target, header, _ = load_weights(DEFAULT_WEIGHTS).regrouped(groups)
        path.parent.mkdir(parents=True, exist_ok=True)
        save_checkpoint(path, target, header, {"derived": "regrouped, exact"})
    return path


def fine_tuned(groups: int, finetune_all: bool) -> bool:
    """Whether the study fine-tunes ``groups``: more groups than the default's always (the cut network
    needs it), the default's own count and fewer only with ``--finetune-all`` (they start exact)."""
    return groups > DEFAULT_GROUPS or finetune_all


def derive(groups: list[int], work: Path, data: Path, finetune_all: bool = False) -> dict[int, Path]:
    """Weights per group count: fine-tuned with ``DERIVE`` where :func:`fine_tuned`, else the default
    weights' exact function."""
    weights = {}
    for g in groups:
        run = work / f"g{g}"
        if not fine_tuned(g, finetune_all):
            weights[g] = exact_checkpoint(g, work / f"exact-g{g}.pt")
            continue
        if not derived(run):
            resume = (run / "last.pt").is_file()
            cmd = ([sys.executable, "-m", "pcarn_mobile.train", "--out", str(run), "--resume"] if resume
                   else derive_command(g, run, data))
            _run(cmd, f"groups {g}: derive weights")
        weights[g] = run / "best.pt"
    return weights


def _converted_from(files: list[Path], weights: Path) -> bool:
    """Whether every file's sidecar names ``weights``' SHA-256 (new weights for a group count, after
    ``--finetune-all`` for instance, must not be timed and sized as the old ones' files)."""
    digest = sha256_of(weights)
    sidecars = [f.with_name(f.name + ".json") for f in files]
    return all(s.is_file() and json.loads(s.read_text())["weights"]["sha256"] == digest for s in sidecars)


def convert(weights: Path, out: Path, target: str, precisions: str, tile: int) -> list[Path]:
    """The files of one ``convert`` run (cached: skipped when every file is there, from these weights)."""
    suffix = {"tflite": ".tflite", "onnx": ".onnx"}[target]
    files = sorted(out.glob(f"*{suffix}"))
    if not files or len(files) < len(precisions.split(",")) or not _converted_from(files, weights):
        if out.is_dir():
            shutil.rmtree(out)
        _run([sys.executable, "-m", "pcarn_mobile.convert", "--target", target, "--weights", str(weights),
              "--precision", precisions, "--input-size", f"{tile}x{tile}", "--out", str(out)],
             f"convert {weights.parent.name}/{weights.name} to {target} {precisions} at {tile}x{tile}")
        files = sorted(out.glob(f"*{suffix}"))
    mismatched = [f.name for f in files if ".MISMATCH" in f.name]
    if mismatched:
        raise UserError(f"{out}: {mismatched[0]} failed its parity check; the study times only verified files")
    return files


def default_tflite(work: Path, tile: int) -> list[Path]:
    """The default weights' fp32 and int8 files at ``tile`` (one folder per tile: the tile table and the
    runtime comparison share the 128x128 pair)."""
    return convert(DEFAULT_WEIGHTS, work / "tiles" / f"t{tile}", "tflite", "fp32,int8", tile)


def quality(weights: dict[int, Path], work: Path, data: Path) -> dict[str, Any]:
    """Set5/Set14 x4 Y-PSNR per group count (and of the default weights), cached by the weights' SHA-256."""
    cache_path = work / "quality.json"
    cache = json.loads(cache_path.read_text()) if cache_path.is_file() else {}
    todo = {"default": DEFAULT_WEIGHTS, **{str(g): p for g, p in weights.items()}}
    from pcarn_mobile.data import load_eval_set
    from pcarn_mobile.evaluation import evaluate_runner
    from pcarn_mobile.tiling import TorchRunner
    from pcarn_mobile.weights import load_weights

    sets = {name: load_eval_set(data / name / f"x{SCALE}", SCALE) for name in ("Set5", "Set14")}
    for key, path in todo.items():
        digest = sha256_of(path)
        if cache.get(key, {}).get("sha256") == digest:
            continue
        print(f"[tradeoff] quality of {key}: Set5/Set14 x{SCALE}", flush=True)
        model = load_weights(path).model.eval()
        scores = {name: evaluate_runner(TorchRunner(model, SCALE), pairs, SCALE) for name, pairs in sets.items()}
        cache[key] = {"sha256": digest, **{name: round(r["psnr_y"], 3) for name, r in scores.items()},
                      **{f"{name}_bicubic": round(r["bicubic_psnr_y"], 3) for name, r in scores.items()}}
        write_json(cache_path, cache)
    return cache


def latency(files: list[Path], out: Path, args: argparse.Namespace, extra: tuple[str, ...] = ()) -> dict[str, Any]:
    """One interleaved ``benchmarks.latency`` run of ``files`` (and ``extra`` models such as torch), cached
    until a file is newer than the measurement."""
    if args.remeasure or not out.is_file() or any(f.stat().st_mtime > out.stat().st_mtime for f in files):
        _run([sys.executable, "-m", "benchmarks.latency", "--model", *map(str, files), *extra, "--preset", PRESET,
              "--threads", str(args.threads), "--runs", str(args.runs), "--warmup", "1", "--json", str(out)],
             f"latency of {len(files) + len(extra)} models")
    return json.loads(out.read_text())


def complexity(groups: list[int]) -> dict[str, dict[str, int]]:
    """Parameters (the multi-scale network, as the paper counts) and x4 Mult-Adds to 1280x720, per group count."""
    from pcarn_mobile.complexity import count_parameters, sr_mult_adds
    from pcarn_mobile.models import build_model

    return {str(g): {"params": count_parameters(m), "mult_adds": sr_mult_adds(m, SCALE)}
            for g in groups for m in [build_model("pcarn_m", g)]}


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    groups = _ints(args.groups, "--groups", VALID_GROUPS)
    tiles = _ints(args.tiles, "--tiles")
    shared = shared_dir()
    if shared is None:
        raise UserError("the study needs ../shared (T91, SunHays80 to train on; Set5, Set14 to score): "
                        "set PCARN_SHARED or place it beside the checkout")
    data, work, out = shared / "data", Path(args.work), Path(args.out)
    if not out.parent.is_dir():
        raise UserError(f"--out {out}: folder {out.parent} does not exist")
    work.mkdir(parents=True, exist_ok=True)
    weights = derive(groups, work, data, args.finetune_all)
    group_files = {g: convert(w, work / "files" / f"g{g}", "tflite", "fp32,int8", DEFAULT_TILE) for g, w in weights.items()}
    tile_files = {t: default_tflite(work, t) for t in tiles}
    onnx = convert(DEFAULT_WEIGHTS, work / "files" / "default-onnx", "onnx", "fp32", DEFAULT_TILE)
    scores = quality(weights, work, data)
    measured = {
        "runtimes": latency([*default_tflite(work, DEFAULT_TILE), *onnx], work / "latency-runtimes.json", args,
                            ("torch",)),
        "groups": latency([f for fs in group_files.values() for f in fs], work / "latency-groups.json", args),
        "tiles": latency([f for fs in tile_files.values() for f in fs], work / "latency-tiles.json", args),
    }
    finetuned = [g for g in groups if fine_tuned(g, args.finetune_all)]
    study = {"derive": {**DERIVE, "data": list(TRAIN_SETS), "finetuned": finetuned}, "groups": groups, "tiles": tiles,
             "quality": scores, "sizes": {str(g): {f.name: f.stat().st_size for f in fs} for g, fs in group_files.items()},
             "latency": measured, "threads": args.threads, "preset": PRESET, "complexity": complexity(groups)}
    write_json(work / "study.json", study)
    generated = section(study, out.parent)
    write_text(out, mdsection.merge(out.read_text() if out.exists() else None, generated, OWNER,
                                    "# Benchmark results\n\nGenerated sections; see benchmarks/README.md.\n\n"))
    print(f"wrote {out} (and its PNGs); the study's numbers are in {work / 'study.json'}")
    return 0


if __name__ == "__main__":
    run_cli(main)
