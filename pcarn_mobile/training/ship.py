"""Turns a training run into the embedded default weights and their model card, in one command.

    python -m pcarn_mobile.training.ship runs/pcarn_m_g4

Takes the run's ``best.pt``, scores it on Set5 and Set14 at x2/x3/x4 with the project's evaluator,
and writes, each atomically, ``pcarn_mobile/weights/pcarn_m_g4.pt`` (project format, fp32 state
dict + header + provenance), ``MODEL_CARD.md`` beside it and ``val_curve.png`` (the run's
validation curve). The run itself is only read, so this can be done while it is still training.
"""
from __future__ import annotations

import argparse
import csv
import sys
import time
from pathlib import Path
from typing import Any

import torch

from ..data import load_eval_set
from ..errors import CliParser, UserError, run_cli
from ..evaluation import evaluate_runner
from ..fileio import atomic_path, write_text
from ..machine import describe_machine
from ..shared import shared_dir
from ..tiling import TorchRunner
from ..weights import DEFAULT_WEIGHTS, load_weights, save_checkpoint, sha256_of
from ..weights.safeload import torch_load
from .engine import VAL_CSV
from .state import BEST, LAST

SETS: tuple[str, ...] = ("Set5", "Set14")
SCALES: tuple[int, ...] = (2, 3, 4)
#: Reference rows of ../shared/README.md (same data, same convention): (set, scale) -> dB.
BICUBIC = {("Set5", 2): 33.66, ("Set5", 3): 30.39, ("Set5", 4): 28.42,
           ("Set14", 2): 30.24, ("Set14", 3): 27.55, ("Set14", 4): 26.00}
UPSTREAM_L1 = {("Set5", 2): 37.70, ("Set5", 3): 34.08, ("Set5", 4): 31.90,
               ("Set14", 2): 33.31, ("Set14", 3): 30.14, ("Set14", 4): 28.44}
#: The issue's acceptance figures for the embedded default.
TARGETS = {("Set5", 4): 31.0, ("Set5", 2): 37.0, ("Set14", 4): 27.9}


def machine() -> str:
    """The shared machine line, plus the torch build the figures came from."""
    return f"{describe_machine()}; torch {torch.__version__}"


def evaluate_all(model: torch.nn.Module, data_root: Path) -> dict[tuple[str, int], dict[str, float]]:
    """Y-PSNR/SSIM on every (set, scale) present under ``data_root``."""
    results = {}
    for name in SETS:
        for s in SCALES:
            folder = data_root / name / f"x{s}"
            if folder.is_dir():
                r = evaluate_runner(TorchRunner(model, s), load_eval_set(folder, s), s)
                results[(name, s)] = {k: r[k] for k in ("psnr_y", "ssim_y", "bicubic_psnr_y")}
                print(f"{name} x{s}: {r['psnr_y']:.2f} dB (bicubic {r['bicubic_psnr_y']:.2f})", file=sys.stderr)
    return results


def read_curve(run: Path) -> list[tuple[int, float, float]]:
    """(step, wall seconds, Y-PSNR) rows of the run's val.csv."""
    path = run / VAL_CSV
    if not path.is_file():
        return []
    with open(path, newline="") as fh:
        return [(int(r["step"]), float(r["wall_s"]), float(r["psnr_y"])) for r in csv.DictReader(fh)]


def plot_curve(curve: list[tuple[int, float, float]], val_name: str, path: Path) -> None:
    """A small PNG of validation Y-PSNR against steps (matplotlib, no display needed)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5, 3), dpi=80)
    ax.plot([c[0] for c in curve], [c[2] for c in curve], marker=".")
    ax.set_xlabel("training step")
    ax.set_ylabel(f"{val_name} Y-PSNR (dB)")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    try:
        with atomic_path(path, suffix=".png") as tmp:
            fig.savefig(tmp, format="png")
    finally:
        plt.close(fig)


def _averaging(cfg: dict[str, Any]) -> tuple[float, int]:
    """(decay, first step) of the run's weight average; runs from before ``--ema`` existed have none."""
    return float(cfg.get("ema") or 0.0), int(cfg.get("ema_from") or 0)


def command_line(cfg: dict[str, Any]) -> str:
    """The train command(s) that reproduce the run, changes made on --resume included.

    The schedule is step-based and the sampling state is saved, so stopping at the recorded
    step (``--steps N``) and resuming with the new decay (or with ``--ema`` switched on)
    replays the run exactly.
    """
    history = cfg.get("schedule_history") or [[0, cfg["decay_every"], cfg["gamma"]]]
    ema, ema_from = _averaging(cfg)
    opts = ["--groups", cfg["groups"], "--scales", ",".join(str(s) for s in cfg["scales"]),
            "--data", *cfg["data"], "--out", cfg["out"], "--batch", cfg["batch"], "--patch", cfg["patch"],
            "--lr", cfg["lr"], "--decay-every", int(history[0][1]), "--gamma", history[0][2], "--clip", cfg["clip"],
            "--ema", ema if ema_from == 0 else 0,
            "--seed", cfg["seed"], "--val", cfg["val"] or "(default)", "--val-every", cfg["val_every"]]
    if cfg.get("threads"):
        opts += ["--threads", cfg["threads"]]
    if cfg.get("init"):
        opts += ["--init", cfg["init"]]
    changes: dict[int, list[Any]] = {int(h[0]): ["--decay-every", int(h[1]), "--gamma", h[2]] for h in history[1:]}
    if ema and ema_from > 0:
        changes.setdefault(ema_from, []).extend(["--ema", ema])
    stops = sorted(changes) + [cfg["steps"]]
    parts = ["python -m pcarn_mobile.train " + " ".join(str(o) for o in opts) + f" --steps {stops[0]}"]
    for step, stop in zip(stops[:-1], stops[1:]):
        parts.append(f"python -m pcarn_mobile.train --out {cfg['out']} --resume "
                     + " ".join(str(o) for o in changes[step]) + f" --steps {stop}")
    return " && ".join(parts)


def render_card(info: dict[str, Any]) -> str:
    cfg, res, curve = info["config"], info["results"], info["curve"]
    lines = [
        "# Model card: `pcarn_m_g4.pt`, the embedded default",
        "",
        "PCARN-M (Ahn et al., photo-realistic cascading residual network, mobile variant), 4 groups, one",
        "network for x2, x3 and x4 (414,811 parameters), trained by this project from scratch with the",
        "stage-one (L1) recipe below. It is what `make run`, `convert`, `evaluate` and `upscale` use when",
        "no `--weights` is given. Written by `python -m pcarn_mobile.training.ship RUN_DIR`.",
        "",
        "## Provenance",
        "",
        f"- Data: {info['data']} (HR only; LR made with the project's MATLAB-compatible bicubic).",
        "  Never Set5 or Set14: those are the evaluation sets below.",
        f"- Steps: {info['step']:,} (best validation checkpoint; the run had done {info['run_step']:,} when shipped)",
        f"- Training wall time: {info['wall_s'] / 3600:.2f} h to this checkpoint",
        f"- Machine: {info['machine']} (when shipped); shared with other work (the run was niced), so steps/s is "
        "not a benchmark",
        f"- Recipe: L1 loss, Adam (0.9, 0.999, eps 1e-8), initial lr {cfg['lr']:g}, step decay {schedule_text(cfg)}, "
        f"gradient-norm clip {cfg['clip']:g}, batch {cfg['batch']} x {cfg['patch']}px LR patches, "
        "one scale per batch from x2/x3/x4, random flips and 90-degree turns, Table-3 init (uniform +-sqrt(1/fan_in)), "
        f"seed {cfg['seed']}",
        f"- Shipped weights: {averaging_text(cfg)}",
        f"- Command: `{info['command']}`",
        f"- SHA-256 of the weights file: `{info['sha256']}`",
        "",
        "## Quality (Y-PSNR, dB; Y of BT.601, scale px shaved, uint8 output)",
        "",
        "| set | scale | this model | bicubic | upstream PCARN-M-L1 | acceptance target |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for name in SETS:
        for s in SCALES:
            if (name, s) in res:
                r = res[(name, s)]
                target = TARGETS.get((name, s))
                mark = "" if target is None else f"{target:.1f} ({'met' if r['psnr_y'] >= target else 'not met'})"
                lines.append(f"| {name} | x{s} | {round(r['psnr_y'], 3):.2f} | {BICUBIC[(name, s)]:.2f} | "
                             f"{UPSTREAM_L1[(name, s)]:.2f} | {mark} |")
    lines += [
        "",
        "Bicubic and upstream rows are the reference figures of `../shared/README.md` (same images, same",
        "convention); upstream PCARN-M-L1 was trained 600k steps on DIV2K with GPUs. Reproduce this model's",
        "row with `python -m pcarn_mobile.evaluate --data ../shared/data/Set5/x4 --scale 4` (default weights).",
        "",
        f"## Validation curve ({info['val_name']}, during training)",
        "",
        "![validation curve](val_curve.png)" if curve else "(no validation during this run)",
        "",
        "| step | hours | Y-PSNR |",
        "| --- | --- | --- |",
    ]
    stride = max(1, len(curve) // 20)
    shown = curve[::stride] + ([curve[-1]] if curve and (len(curve) - 1) % stride else [])
    lines += [f"| {st:,} | {w / 3600:.2f} | {p:.2f} |" for st, w, p in shown]
    lines += ["", "## What more training would give", "", info["outlook"], ""]
    return "\n".join(lines)


def averaging_text(cfg: dict[str, Any]) -> str:
    ema, ema_from = _averaging(cfg)
    if not ema:
        return "the raw weights of the best validation step"
    start = f"from step {ema_from:,}" if ema_from else "from the start"
    return (f"exponential moving average of the weights, decay {ema:g} with TensorFlow-style warm-up, {start} "
            "(validated and saved as best.pt in place of the raw weights)")


def schedule_text(cfg: dict[str, Any]) -> str:
    """"x0.5 every 1,000 steps from step 0; x0.5 every 300 steps from step 86" (changes made on --resume)."""
    history = cfg.get("schedule_history") or [[0, cfg["decay_every"], cfg["gamma"]]]
    return "; ".join(f"x{g:g} every {int(d):,} steps from step {int(st):,}" for st, d, g in history)


def outlook(curve: list[tuple[int, float, float]], cfg: dict[str, Any], lr_now: float | None) -> str:
    """A plain statement from the curve's last stretch and the learning rate; no extrapolation."""
    if len(curve) < 2:
        return "Too few validation points to say."
    last, prev = curve[-1], curve[max(0, len(curve) - 5)]
    gain, steps = last[2] - prev[2], last[0] - prev[0]
    decayed = lr_now is not None and lr_now < cfg["lr"] / 8
    trend = "still rising" if gain > 0.05 else "nearly flat"
    lr_note = (f" at a learning rate already decayed to {lr_now:.2g} (from {cfg['lr']:g}), so more steps at that "
               "rate add little" if decayed else "")
    return (
        f"Over the last {steps:,} steps validation changed by {gain:+.2f} dB (to {last[2]:.2f}): {trend}{lr_note}. "
        "The upstream model got to 31.90 dB (Set5 x4) with 600k steps of batch 64 on DIV2K (800 2K images); "
        f"this run saw about {last[0] * cfg['batch'] * cfg['patch'] ** 2 / (600_000 * 64 * 48 ** 2):.2%} of its "
        "LR pixels, from 171 smaller images. Closing the gap needs orders of magnitude more compute, and more data "
        "helps too: continue with `python -m pcarn_mobile.train --out RUN_DIR --resume --steps N --decay-every D` "
        "(a longer D raises the learning rate back to its schedule value; let it decay again before shipping), "
        "or train on a GPU with `--recipe paper` (under torchrun for several)."
    )


def ship(run: Path, dest: Path, data_root: Path) -> dict[str, Any]:
    best = run / BEST
    if not best.is_file():
        raise UserError(f"{run} has no {BEST} yet: let the run reach its first validation (or save)")
    loaded = load_weights(best)
    meta, cfg = loaded.meta, loaded.meta.get("config", {})
    if loaded.header.arch != "pcarn_m" or loaded.header.groups != 4 or tuple(loaded.header.scales) != SCALES:
        raise UserError(f"{best} is not a PCARN-M, groups 4, x2/x3/x4 network: it cannot be the default")
    run_step, lr_now = meta["step"], None
    if (run / LAST).is_file():
        last = torch_load(run / LAST)
        run_step, lr_now = int(last["step"]), float(last["objective"]["optimizer"]["param_groups"][0]["lr"])
    curve = read_curve(run)
    results = evaluate_all(loaded.model, data_root)
    data = ", ".join(f"{Path(d).name} ({sum(1 for _ in Path(d).iterdir())} images)" for d in cfg["data"])
    provenance = {
        "data": data, "step": meta["step"], "wall_s": meta["wall_s"], "machine": machine(),
        "recipe": {k: cfg.get(k) for k in ("stage", "batch", "patch", "lr", "schedule_history", "clip", "seed", "scales",
                                                 "ema", "ema_from")},
        "command": command_line(cfg), "shipped_utc": time.strftime("%Y-%m-%d %H:%M", time.gmtime()),
        "results": {f"{n}_x{s}": round(r["psnr_y"], 3) for (n, s), r in results.items()},
        "val_curve": [[st, round(p, 3)] for st, _, p in curve],
    }
    dest.mkdir(parents=True, exist_ok=True)
    weights = dest / DEFAULT_WEIGHTS.name
    save_checkpoint(weights, loaded.model, loaded.header, provenance)
    if curve:
        plot_curve(curve, meta.get("val", "Set5/x4"), dest / "val_curve.png")
    info = {**provenance, "config": cfg, "results": results, "curve": curve, "run_step": run_step,
            "sha256": sha256_of(weights), "val_name": meta.get("val", "Set5/x4"), "outlook": outlook(curve, cfg, lr_now)}
    write_text(dest / "MODEL_CARD.md", render_card(info))
    return info


def main(argv: list[str] | None = None) -> int:
    p = CliParser(prog="python -m pcarn_mobile.training.ship",
                  description="Evaluate a run's best.pt and write it as the embedded default + model card.")
    p.add_argument("run", type=Path, help="training run folder (holds best.pt, last.pt, val.csv)")
    p.add_argument("--dest", type=Path, default=DEFAULT_WEIGHTS.parent, help="where to write (default: the package)")
    p.add_argument("--data", type=Path, default=None, help="folder holding Set5/ and Set14/ (default ../shared/data)")
    args = p.parse_args(argv)
    root = args.data or (shared_dir() / "data" if shared_dir() else None)
    if root is None or not (root / "Set5").is_dir():
        raise UserError("Set5/Set14 not found: pass --data DIR (the folder holding Set5/ and Set14/)")
    info = ship(args.run, args.dest, root)
    print(f"wrote {args.dest / DEFAULT_WEIGHTS.name} (step {info['step']}) and MODEL_CARD.md", file=sys.stderr)
    return 0


if __name__ == "__main__":
    run_cli(main)
