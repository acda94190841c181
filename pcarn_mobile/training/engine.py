"""The training loop: batches, steps, progress bar, validation, logs, checkpoints and signals.

One loop serves both stages (the step itself lives in :mod:`.objectives`) and every process of
a DDP job; only rank 0 writes. A stop request (Ctrl-C, SIGTERM) and the periodic save are
agreed on by all ranks every step so that no rank waits forever in a collective the others
have left.
"""
from __future__ import annotations

import csv
from collections import Counter
import math
import signal
import sys
import time
from pathlib import Path
from types import FrameType
from typing import Any

import torch
import torch.distributed as dist
from tqdm import tqdm

from ..errors import UserError
from ..models import build_model
from ..models.regroup_fit import fit_narrowed
from ..weights import Header, load_weights, save_checkpoint
from .config import TrainConfig
from .data import PatchSampler
from .distributed import DistContext
from .ema import WeightEMA
from .objectives import GANObjective, L1Objective, QATObjective
from .startup import Pace, describe_run
from .state import BEST, load_state, rng_state, save_state, set_rng_state
from .validation import Validator

TRAIN_CSV, VAL_CSV = "train.csv", "val.csv"


class StopFlag:
    """SIGINT/SIGTERM -> finish the current step, save ``last.pt``, exit; a second Ctrl-C aborts.

    ``signum`` is the first signal received (0: none), so that the CLI can still exit as an
    interrupted program does (130, 143) after saving: ``train && convert`` must not go on with
    a half-trained network.
    """

    def __init__(self) -> None:
        self.signum = 0
        self._previous: dict[int, Any] = {}

    def __enter__(self) -> "StopFlag":
        for sig in (signal.SIGINT, signal.SIGTERM):
            self._previous[sig] = signal.signal(sig, self._handle)
        return self

    def __exit__(self, *exc: object) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        if self.signum and signum == signal.SIGINT:
            raise KeyboardInterrupt
        self.signum = self.signum or signum


def build_generator(cfg: TrainConfig) -> tuple[torch.nn.Module, torch.nn.Module | None]:
    """A fresh network (Table 3 initialisation, seeded), or the ``--init`` weights; and the source network
    when the ``--init`` weights were cut to more groups (its convs are refitted to it before training).

    Stage two always starts from ``--init``; stage one does when given one (to continue a
    finished run with a new schedule, or to fine-tune).
    """
    if cfg.stage == "l1" and not cfg.init:
        torch.manual_seed(cfg.seed)
        return build_model(cfg.arch, cfg.groups, cfg.scales, cfg.channels), None
    if not cfg.init:
        what = "the float weights to fine-tune for int8" if cfg.stage == "qat" else "the stage-one weights to start from"
        raise UserError(f"--stage {cfg.stage} needs --init CKPT ({what})")
    loaded = load_weights(cfg.init, arch=cfg.arch)
    if cfg.stage == "qat" and loaded.header.groups != cfg.groups:
        raise UserError(f"--stage qat fine-tunes the --init weights as they are: drop --groups, or derive groups "
                        f"{cfg.groups} first (stage l1 with --init and --groups)")
    missing = [s for s in cfg.scales if s not in loaded.header.scales]
    if missing:
        raise UserError(f"{cfg.init} has no upsampler for x{missing[0]}; pass --scales from {loaded.header.scales}")
    torch.manual_seed(cfg.seed)
    if loaded.header.groups == cfg.groups:
        return loaded.model.train(), None
    model, _, stats = loaded.regrouped(cfg.groups)
    how = ("the same function (kernels placed on the block diagonal)" if stats["exact"]
           else "the diagonal blocks kept, then every conv from the first cut one refitted to the source by least squares")
    print(f"--init: groups {loaded.header.groups} -> {cfg.groups}: {stats['exact'] + stats['diagonal']} grouped convs regrouped, "
          f"{how}", file=sys.stderr)
    return model.train(), (loaded.model if stats["diagonal"] else None)


#: Batches per scale that the least-squares refit of a cut ``--init`` sees.
REFIT_BATCHES = 2


def refit_to_source(source: torch.nn.Module, generator: torch.nn.Module, sampler: PatchSampler) -> None:
    """Refits a generator cut to more groups to its source network on training patches (``regroup_fit``)."""
    batches: list[tuple[int, torch.Tensor]] = []
    per_scale: Counter[int] = Counter()
    while min(per_scale[s] for s in sampler.scales) < REFIT_BATCHES:
        scale, lr, _hr = sampler.next_batch()
        if per_scale[scale] < REFIT_BATCHES:
            batches.append((scale, lr))
            per_scale[scale] += 1
    t0 = time.monotonic()
    errors = fit_narrowed(source, generator, batches)
    worst = max(errors.items(), key=lambda kv: kv[1][1])
    print(f"--init: {len(errors)} convs refitted in {time.monotonic() - t0:.0f} s; largest relative output error "
          f"{worst[1][1]:.2f} ({worst[0]}, {worst[1][0]:.2f} before)", file=sys.stderr)


def build_objective(generator: torch.nn.Module, cfg: TrainConfig, ctx: DistContext) -> L1Objective:
    """The stage's objective; for QAT, built from ``generator``'s weights as they are now (the ``--init``
    ones, before a resumed state is loaded), which set its int8 grids."""
    if cfg.stage == "l1":
        return L1Objective(generator, cfg, ctx)
    if cfg.stage == "qat":
        from ..export.calibration import random_crops
        from ..export.options import DEFAULT_CALIB_COUNT
        from ..photos import sample_photos
        from .qat import build_quant_sim

        t0 = time.monotonic()
        sim = build_quant_sim(generator, random_crops(sample_photos(), DEFAULT_CALIB_COUNT))
        print(f"qat: int8 grids of x{', x'.join(map(str, sim.scales))} read from their converted files in "
              f"{time.monotonic() - t0:.0f} s", file=sys.stderr)
        return QATObjective(generator, sim, cfg, ctx)
    from .gan import MultiScaleDiscriminator, load_vgg19_features

    vgg = load_vgg19_features(cfg.vgg_weights).to(ctx.device)
    disc = MultiScaleDiscriminator().to(ctx.device)
    return GANObjective(generator, disc, vgg, cfg, ctx)


def train(cfg: TrainConfig, ctx: DistContext, resume: bool) -> dict[str, Any]:
    """Runs (or continues) one training run; returns a summary (and the trained ``model``).

    The summary's ``signal`` is the signal that stopped the run early (``last.pt`` saved), 0 when it
    ran to the end.
    """
    out = Path(cfg.out)
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    saved = load_state(out) if resume else None
    if not resume and (out / "last.pt").exists():
        raise UserError(f"{out} already holds a run (last.pt); pass --resume to continue it, or another --out")
    if cfg.stage == "gan" and not cfg.vgg_weights:
        raise UserError(
            "--stage gan needs --vgg-weights FILE: a torchvision VGG19 state dict (vgg19-dcbb9e9d.pth); "
            "nothing is downloaded here"
        )
    generator, source = build_generator(cfg)
    sampler = PatchSampler(cfg.data, cfg.scales, cfg.patch, cfg.batch, cfg.seed, ctx.rank)
    if source is not None and saved is None:
        refit_to_source(source, generator, sampler)
    generator = generator.to(ctx.device)
    objective = build_objective(generator, cfg, ctx)
    validator = Validator.from_config(cfg) if ctx.is_main else None
    step, wall, best = 0, 0.0, -math.inf
    if saved is not None:
        generator.load_state_dict(saved["model"])
        objective.load_state_dict(saved["objective"])
        _restore_sampler(sampler, saved["sampler"], ctx)
        set_rng_state(saved["rng"])
        step, wall, best = int(saved["step"]), float(saved["wall_s"]), float(saved["best_psnr"])
        _note_schedule(cfg, saved["config"], step, ctx)
    elif not cfg.schedule_history:
        cfg.schedule_history = [[0, cfg.decay_every, cfg.gamma]]
    ema = WeightEMA(generator, cfg.ema) if cfg.ema else None
    if ema is not None and saved is not None and "ema" in saved:
        ema.load_state_dict(saved["ema"])
    elif ema is not None:
        cfg.ema_from = step  # a new average, from the weights as they are now
    if ctx.is_main:
        print("\n".join(describe_run(cfg, sampler, validator, step)), file=sys.stderr, flush=True)
        out.mkdir(parents=True, exist_ok=True)
        _truncate_logs(out, step)
    loop = _Loop(cfg, ctx, generator, objective, sampler, validator, step, wall, best, ema)
    return loop.run()


class _Loop:
    """State of one run in progress (kept together so that saving sees all of it)."""

    def __init__(self, cfg: TrainConfig, ctx: DistContext, generator: torch.nn.Module, objective: L1Objective,
                 sampler: PatchSampler, validator: "Validator | None", step: int, wall: float, best: float,
                 ema: WeightEMA | None = None) -> None:
        self.cfg, self.ctx, self.generator, self.objective, self.sampler = cfg, ctx, generator, objective, sampler
        self.validator, self.step, self.wall, self.best, self.ema = validator, step, wall, best, ema
        #: What is validated and written to best.pt: the weight average when there is one.
        self.shipped = ema.module if ema is not None else generator
        self.out = Path(cfg.out)
        self.tb = _tensorboard(self.out) if cfg.tensorboard and ctx.is_main else None
        # The network's own scales: a GAN stage may train a subset of its --init checkpoint's.
        self.header = Header(cfg.arch, generator.groups, tuple(generator.scales), generator.channels)

    def run(self) -> dict[str, Any]:
        cfg, ctx = self.cfg, self.ctx
        start_step, t0 = self.step, time.monotonic()
        last_save, sums, count = t0, {}, 0
        interactive = sys.stderr.isatty()
        bar = tqdm(total=cfg.steps, initial=self.step, disable=not ctx.is_main, dynamic_ncols=True,
                   mininterval=0.5 if interactive else 60.0, unit="step", desc=f"train {cfg.stage}")
        stopped = 0
        pace = Pace(self.step, cfg.steps)
        self.generator.train()
        with StopFlag() as stop:
            while self.step < cfg.steps:
                step_start = time.monotonic()
                scale, lr, hr = self.sampler.next_batch()
                losses = self.objective.step(scale, lr.to(ctx.device), hr.to(ctx.device))
                if self.ema is not None:
                    self.ema.update()
                self.step += 1
                estimate = pace.add(time.monotonic() - step_start)
                if estimate and ctx.is_main:
                    tqdm.write(estimate, file=sys.stderr)
                bar.update(1)
                for k, v in losses.items():
                    sums[k] = sums.get(k, 0.0) + v
                count += 1
                if self.step % cfg.log_every == 0 or self.step == cfg.steps:
                    means = {k: v / count for k, v in sums.items()}
                    bar.set_postfix(loss=f"{means['loss']:.4f}", lr=f"{self.objective.lr:.2e}", refresh=False)
                    self._log_train(means, self._wall(t0))
                    sums, count = {}, 0
                if self.validator is not None and self.step % cfg.val_every == 0:
                    self._validate(self._wall(t0))
                stopped, save_now = self._agree(stop.signum, time.monotonic() - last_save > 60 * cfg.save_every_min)
                if stopped:
                    break
                if save_now:
                    self._save(self._wall(t0))
                    last_save = time.monotonic()
        bar.close()
        wall = self._wall(t0)
        if not stopped and self.validator is not None and self.step % cfg.val_every:
            self._validate(wall)
        self._save(wall)
        if self.tb is not None:
            self.tb.close()
        rate = (self.step - start_step) / max(time.monotonic() - t0, 1e-9)
        return {"step": self.step, "signal": stopped, "best_psnr": self.best, "steps_per_s": rate, "wall_s": wall,
                "model": self.shipped}

    def _wall(self, t0: float) -> float:
        return self.wall + (time.monotonic() - t0)

    def _agree(self, signum: int, save: bool) -> tuple[int, bool]:
        """Every rank stops when any rank received a signal (returned: the highest signal number, 0 for
        none), and saves when rank 0 says so by its clock."""
        if not self.ctx.distributed:
            return signum, save
        flags = torch.tensor([float(signum), float(save and self.ctx.is_main)], device=self.ctx.device)
        dist.all_reduce(flags, op=dist.ReduceOp.MAX)
        return int(flags[0]), bool(flags[1] > 0)

    def _validate(self, wall: float) -> None:
        assert self.validator is not None
        result = self.validator(self.shipped)
        psnr = result["psnr_y"]
        tqdm.write(f"step {self.step}: {self.validator.name} Y-PSNR {psnr:.3f} dB "
                   f"(bicubic {result['bicubic_psnr_y']:.3f}, best {max(psnr, self.best):.3f})", file=sys.stderr)
        _append_csv(self.out / VAL_CSV, ["step", "wall_s", "psnr_y", "bicubic_psnr_y", "val"],
                    [self.step, f"{wall:.1f}", f"{psnr:.4f}", f"{result['bicubic_psnr_y']:.4f}", self.validator.name])
        if self.tb is not None:
            self.tb.add_scalar(f"val/{self.validator.name}/psnr_y", psnr, self.step)
        if psnr > self.best and self.cfg.stage == "l1":
            self.best = psnr
            meta = self._meta(wall) | {"val_psnr_y": psnr, "val": self.validator.name}
            save_checkpoint(self.out / BEST, self.shipped, self.header, meta)

    def _save(self, wall: float) -> None:
        """``last.pt`` (all ranks' sampling states gathered on rank 0), and ``best.pt`` where it is simply
        the latest weights: without validation, in the GAN stage, where PSNR does not rank
        perceptual quality (the validation curve is still logged), and in the QAT stage, where the
        float network's PSNR is not what is being improved (its weights are written on the int8 grid)."""
        samplers = [self.sampler.state_dict()]
        if self.ctx.distributed:
            samplers = [None] * self.ctx.world  # type: ignore[list-item]
            dist.all_gather_object(samplers, self.sampler.state_dict())
        if not self.ctx.is_main:
            return
        save_state(self.out, {
            "config": self.cfg.to_dict(), "step": self.step, "wall_s": wall, "best_psnr": self.best,
            "model": self.generator.state_dict(), "objective": self.objective.state_dict(),
            "sampler": samplers, "rng": rng_state(),
            **({"ema": self.ema.state_dict()} if self.ema is not None else {}),
        })
        if self.cfg.stage == "qat":
            from .qat import on_int8_grid

            save_checkpoint(self.out / BEST, on_int8_grid(self.shipped), self.header, self._meta(wall))
        elif self.validator is None or self.cfg.stage == "gan":
            save_checkpoint(self.out / BEST, self.shipped, self.header, self._meta(wall))

    def _meta(self, wall: float) -> dict[str, Any]:
        return {"step": self.step, "wall_s": round(wall, 1), "stage": self.cfg.stage, "config": self.cfg.to_dict()}

    def _log_train(self, means: dict[str, float], wall: float) -> None:
        if not self.ctx.is_main:
            return
        keys = sorted(means)
        _append_csv(self.out / TRAIN_CSV, ["step", "wall_s", "lr", *keys],
                    [self.step, f"{wall:.1f}", f"{self.objective.lr:.3e}", *(f"{means[k]:.6f}" for k in keys)])
        if self.tb is not None:
            for k in keys:
                self.tb.add_scalar(f"train/{k}", means[k], self.step)
            self.tb.add_scalar("train/lr", self.objective.lr, self.step)


def _note_schedule(cfg: TrainConfig, saved: dict[str, Any], step: int, ctx: DistContext) -> None:
    """Records (and reports) a learning-rate schedule changed on --resume."""
    if not cfg.schedule_history:
        cfg.schedule_history = [[0, saved["decay_every"], saved["gamma"]]]
    if (cfg.decay_every, cfg.gamma) == (saved["decay_every"], saved["gamma"]):
        return
    cfg.schedule_history = [*cfg.schedule_history, [step, cfg.decay_every, cfg.gamma]]
    if ctx.is_main:
        print(f"note: from step {step} the learning rate is multiplied by {cfg.gamma:g} every {cfg.decay_every} "
              f"steps (was {saved['gamma']:g} every {saved['decay_every']})", file=sys.stderr)


def _restore_sampler(sampler: PatchSampler, states: list[dict[str, torch.Tensor]], ctx: DistContext) -> None:
    """Each rank takes its own saved sampling state; a different world size cannot replay exactly."""
    if len(states) == ctx.world:
        sampler.load_state_dict(states[ctx.rank])
        return
    if ctx.is_main:
        print(f"warning: last.pt was saved by {len(states)} process(es), this job has {ctx.world}: "
              "patch sampling continues from rank 0's state with per-rank offsets", file=sys.stderr)
    sampler.load_state_dict(states[0])
    if ctx.rank:
        sampler.patch_gen.manual_seed(int(torch.randint(2**31, (1,), generator=sampler.patch_gen)) + ctx.rank)


def _tensorboard(out: Path) -> Any:
    """``torch.utils.tensorboard`` writer in RUN_DIR/tb; opt-in, because it imports TensorFlow when
    that is installed (tens of seconds at start-up), and the CSV logs carry the same numbers."""
    from torch.utils.tensorboard import SummaryWriter

    return SummaryWriter(str(out / "tb"))


def _append_csv(path: Path, header: list[str], row: list[Any]) -> None:
    new = not path.exists()
    with open(path, "a", newline="") as fh:
        writer = csv.writer(fh)
        if new:
            writer.writerow(header)
        writer.writerow(row)


def _truncate_logs(out: Path, step: int) -> None:
    """Drops log rows past the resumed step: those steps are trained again, and logged again."""
    for name in (TRAIN_CSV, VAL_CSV):
        path = out / name
        if not path.exists():
            continue
        with open(path, newline="") as fh:
            rows = list(csv.reader(fh))
        keep = rows[:1] + [r for r in rows[1:] if r and int(r[0]) <= step]
        if len(keep) != len(rows):
            tmp = path.with_suffix(".tmp")
            with open(tmp, "w", newline="") as fh:
                csv.writer(fh).writerows(keep)
            tmp.replace(path)
