"""Train PCARN / PCARN-M: stage one (L1) and stage two (GAN), on one CPU/GPU or under torchrun.

    python -m pcarn_mobile.train --groups 4 --data T91 SunHays80 --out runs/g4
    python -m pcarn_mobile.train --out runs/g4 --resume --steps 40000
    python -m pcarn_mobile.train --config pcarn_mobile/weights/pcarn_m_g4.toml --data ../shared/data/T91 \\
        ../shared/data/SunHays80 --val ../shared/data/Set5/x4 --out runs/pcarn_m_g4
    python -m pcarn_mobile.train --stage gan --init runs/g4/best.pt --vgg-weights vgg19.pth \\
        --data T91 SunHays80 --out runs/g4_gan
    python -m pcarn_mobile.train --stage qat --init runs/g4/best.pt --data T91 SunHays80 --val none --out runs/g4_qat
    torchrun --nproc_per_node 4 -m pcarn_mobile.train --recipe paper --groups 4 --data DIV2K_HR --out runs/p

Options not given come from the recipe (``--recipe cpu``, the default, or ``paper``) and, with
``--resume``, from the run being resumed; an option given explicitly that would change what is
being trained (groups, scales, batch, learning rate, ...) is refused on ``--resume``, except
the step decay (``--decay-every``, ``--gamma``), which takes effect from the resumed step, and
``--ema``, which never changes the training itself (only which weights are validated and shipped).
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from .errors import CliParser, UserError, run_cli
from .models import ARCHITECTURES, VALID_GROUPS
from .training.config import FIXED_ON_RESUME, RECIPES, TrainConfig
from .training.distributed import init_distributed, shutdown
from .training.engine import train
from .training.recipe_file import as_argv, read_recipe, segments
from .training.state import load_state
from .training.validation import infer_val_scale


def _scales(text: str) -> tuple[int, ...]:
    try:
        scales = tuple(sorted({int(s) for s in text.split(",") if s.strip()}))
    except ValueError:
        raise argparse.ArgumentTypeError(f"--scales takes a comma-separated list like 2,3,4, not {text!r}") from None
    if not scales or any(s not in (2, 3, 4, 8) for s in scales):
        raise argparse.ArgumentTypeError(f"--scales must be drawn from 2, 3, 4, 8, not {text!r}")
    return scales


def _positive(kind: type) -> Any:
    def parse(text: str) -> Any:
        value = kind(text)
        if value <= 0:
            raise argparse.ArgumentTypeError(f"must be positive, not {text}")
        return value
    return parse


def _ema_decay(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0.0 <= value < 1.0:
        raise argparse.ArgumentTypeError(f"expected a decay in [0, 1), such as 0.999, got {text!r}")
    return value


def build_parser() -> argparse.ArgumentParser:
    cpu, paper = RECIPES["cpu"]["l1"], RECIPES["paper"]["l1"]

    def both(key: str) -> str:
        return f"(cpu recipe: {cpu[key]}; paper: {paper[key]})"

    p = CliParser(
        prog="python -m pcarn_mobile.train",
        description="Train PCARN-M (or PCARN, CARN-M): stage one with L1 loss, stage two adversarial. "
        "Writes RUN_DIR/best.pt (project checkpoint: best validation Y-PSNR in stage one, latest weights in "
        "stage two, where PSNR does not rank perceptual quality), RUN_DIR/last.pt (for --resume), "
        "train.csv and val.csv.",
    )
    p.add_argument("--stage", choices=("l1", "gan", "qat"), default=None,
                   help="l1 (stage one, default), gan (stage two), or qat: quantization-aware fine-tuning of the --init "
                   "weights for the int8 TFLite file (fake-quantized where and as the file quantizes; best.pt holds "
                   "weights on the int8 grid, for convert)")
    p.add_argument("--recipe", choices=tuple(RECIPES), default="cpu",
                   help="defaults for steps/batch/patch/lr/decay: 'cpu' for short runs on a small machine (default), "
                   "'paper' for the paper's 600k-step GPU recipe")
    p.add_argument("--arch", choices=tuple(ARCHITECTURES), default=None, help="network (default pcarn_m)")
    p.add_argument("--groups", type=int, default=None, help=f"group count, one of {VALID_GROUPS} (default 4)")
    p.add_argument("--scales", type=_scales, default=None, help="scales trained, one per batch (default 2,3,4)")
    p.add_argument("--data", nargs="+", default=None, metavar="DIR", help="folders of HR images (PNG, JPEG, BMP, TIFF)")
    p.add_argument("--out", required=True, metavar="RUN_DIR", help="run folder for checkpoints and logs")
    p.add_argument("--resume", action="store_true", help="continue the run in RUN_DIR from its last.pt")
    p.add_argument("--config", metavar="FILE", help="a recipe file (TOML): train's options plus [[schedule]] changes by "
                   "step, run as one chain (pcarn_mobile/weights/pcarn_m_g4.toml is the embedded weights' recipe); "
                   "options given here win over it")
    p.add_argument("--steps", type=_positive(int), default=None, help=f"total steps {both('steps')}")
    p.add_argument("--batch", type=_positive(int), default=None, help=f"patches per batch per process {both('batch')}")
    p.add_argument("--patch", type=_positive(int), default=None, help=f"LR patch size {both('patch')}")
    p.add_argument("--lr", type=_positive(float), default=None, help=f"initial learning rate {both('lr')}")
    p.add_argument("--decay-every", type=_positive(int), default=None,
                   help=f"multiply the learning rate by --gamma every this many steps {both('decay_every')}")
    p.add_argument("--gamma", type=_positive(float), default=None, help="step-decay factor (default 0.5)")
    p.add_argument("--ema", type=_ema_decay, default=None, metavar="DECAY",
                   help="validate and ship an exponential moving average of the weights with this decay; 0 ships "
                   f"the raw weights {both('ema')}")
    p.add_argument("--clip", type=_positive(float), default=None, help="gradient-norm clip (default 10)")
    p.add_argument("--seed", type=int, default=None, help="seed for initialisation and patch sampling (default 0)")
    p.add_argument("--val", default=None, metavar="DIR",
                   help="validation set (paired or HR-only folder; default data/Set5/x4 of $PCARN_SHARED, else of "
                   "../shared beside the repository, when present; 'none' to disable)")
    p.add_argument("--val-scale", type=int, default=None, help="scale validated (default: from the folder name xN, else 4)")
    p.add_argument("--val-every", type=_positive(int), default=None, help="validate every N steps (default 500)")
    p.add_argument("--log-every", type=_positive(int), default=None, help="train.csv row every N steps (default 50)")
    p.add_argument("--save-every-min", type=_positive(float), default=None,
                   help="write last.pt every this many minutes (default 5); also on Ctrl-C/SIGTERM and at the end")
    p.add_argument("--tensorboard", action="store_true", default=None,
                   help="also log to RUN_DIR/tb for TensorBoard (slower start: imports TensorFlow when installed)")
    p.add_argument("--threads", type=_positive(int), default=None, help="torch CPU threads (default: torch's choice)")
    p.add_argument("--device", default=None, help="cpu or cuda (default: cuda when available; torchrun: cuda:LOCAL_RANK)")
    p.add_argument("--init", default=None, metavar="CKPT",
                   help="start from these weights instead of a fresh network (stage two: required, "
                   "the stage-one RUN_DIR/best.pt; stage one: to continue a finished run with a new schedule, or to "
                   "derive another group count: with --groups G the weights are regrouped, exactly for fewer groups, "
                   "for more keeping the diagonal blocks and refitting the convs by least squares before training)")
    gan = p.add_argument_group("stage two (--stage gan)")
    gan.add_argument("--vgg-weights", default=None, metavar="FILE",
                     help="torchvision VGG19 state dict (vgg19-dcbb9e9d.pth); required, nothing is downloaded")
    gan.add_argument("--adv-weight", type=_positive(float), default=None, help="adversarial loss weight (default 1e-3)")
    gan.add_argument("--vgg-weight", type=_positive(float), default=None,
                     help="lambda, VGG19 phi_5,4 feature loss weight (default 1)")
    return p


def make_config(args: argparse.Namespace) -> TrainConfig:
    """Recipe defaults < the resumed run's options < options given on the command line."""
    given = {k: v for k, v in vars(args).items() if v is not None and k not in ("recipe", "resume", "device")}
    saved: dict[str, Any] = {}
    if args.resume:
        saved = dict(load_state(args.out)["config"])
        changed = [f"--{k.replace('_', '-')} {given[k]} (run has {saved[k]})" for k in FIXED_ON_RESUME
                   if k in given and k in saved and _norm(given[k]) != _norm(saved[k])]
        if changed:
            raise UserError(f"--resume cannot change what is trained: {'; '.join(changed)}")
    stage = given.get("stage") or saved.get("stage") or "l1"
    values: dict[str, Any] = {**RECIPES[args.recipe][stage], **saved, **given, "stage": stage, "out": args.out}
    if not values.get("data"):
        raise UserError("--data DIR [DIR ...] is required: folders of HR training images")
    values["data"] = [str(Path(d).resolve()) for d in values["data"]]
    values["scales"] = tuple(values.get("scales") or (2, 3, 4))
    if "groups" not in values and values.get("init"):
        from .weights import read_checkpoint

        values["groups"] = read_checkpoint(values["init"])[0].groups  # regroup only when --groups asks for it
    if values.get("groups", 4) not in VALID_GROUPS:
        raise UserError(f"--groups {values['groups']} must be one of {VALID_GROUPS}")
    if "val_scale" not in values:
        val = values.get("val")
        values["val_scale"] = infer_val_scale(val, 4) if val and val.lower() != "none" else 4
    return TrainConfig(**{k: v for k, v in values.items() if k in TrainConfig.__dataclass_fields__})


def _norm(value: Any) -> Any:
    if isinstance(value, (list, tuple)):
        return [_norm(v) for v in value]
    if isinstance(value, str) and Path(value).exists():
        return str(Path(value).resolve())
    return value


def chain(argv: list[str]) -> list[list[str]]:
    """The train calls a command line stands for: itself, or with ``--config`` the recipe's chain of
    ``--resume`` calls (those a resumed recipe run has already done left out)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if not args.config:
        return [argv]
    known = {a.dest for a in parser._actions} - {"help", "config", "out", "resume", "data", "val"}
    options, schedule = read_recipe(args.config, known)
    cli = _without(argv, ("--config", "--steps", "--resume"))
    steps = args.steps if args.steps is not None else options.get("steps")
    calls = segments(as_argv({k: v for k, v in options.items() if k != "steps"}), cli, schedule, steps)
    if args.resume:
        done = int(load_state(args.out)["step"])
        stops = [c["at"] for c in schedule] + [steps]
        calls = [c for c, stop in zip(calls, stops) if stop is None or stop > done] or calls[-1:]
        calls[0] = calls[0] if "--resume" in calls[0] else ["--resume", *calls[0]]
    return calls


def _without(argv: list[str], flags: tuple[str, ...]) -> list[str]:
    """``argv`` less ``flags`` and their values (``--resume`` has none)."""
    out, skip = [], False
    for token in argv:
        if skip:
            skip = False
        elif token in flags:
            skip = token != "--resume"
        elif not token.startswith(tuple(f + "=" for f in flags)):
            out.append(token)
    return out


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    calls = chain(argv)
    parser = build_parser()
    args = parser.parse_args(calls[0])
    cfgs = [make_config(args)]
    ctx = init_distributed(args.device)
    try:
        for i, call in enumerate(calls):
            if i:
                args = parser.parse_args(call)
                cfgs.append(make_config(args))
            summary = train(cfgs[-1], ctx, resume=args.resume)
            if summary["signal"]:
                break
    finally:
        shutdown(ctx)
    cfg = cfgs[-1]
    if ctx.is_main:
        state = "stopped, last.pt saved" if summary["signal"] else "done"
        best = f", best val Y-PSNR {summary['best_psnr']:.3f} dB" if summary["best_psnr"] > 0 else ""
        print(f"{state}: step {summary['step']}/{cfg.steps}, {summary['steps_per_s']:.3f} steps/s, "
              f"{summary['wall_s'] / 60:.1f} min trained{best}; run in {cfg.out}", file=sys.stderr)
    # Stopped by a signal: exit as run_cli does for one (130 Ctrl-C, 143 SIGTERM), so that
    # `train && convert` does not go on with a half-trained network.
    return 128 + summary["signal"] if summary["signal"] else 0


if __name__ == "__main__":
    run_cli(main)
