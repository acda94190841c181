"""One training step per stage: the losses, optimizers and learning-rate schedules.

Stage one (the paper's L1 stage): L1 loss, Adam(0.9, 0.999, eps 1e-8), step decay, gradient
norm clipping. Stage two (the GAN stage): the generator minimises the multi-scale adversarial
loss plus lambda times the VGG19 phi_5,4 feature loss, while three discriminators (inputs
average-pooled by 1, 2 and 4) learn to tell SR from HR.
"""
from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from .config import TrainConfig
from .distributed import DistContext, wrap


def _adam(params: list[nn.Parameter], cfg: TrainConfig) -> torch.optim.Adam:
    return torch.optim.Adam(params, lr=cfg.lr, betas=(0.9, 0.999), eps=1e-8)


def _step_decay(opt: torch.optim.Optimizer, cfg: TrainConfig) -> torch.optim.lr_scheduler.StepLR:
    """``lr * gamma ** (step // decay_every)``: depends on the step only, so runs can be extended."""
    return torch.optim.lr_scheduler.StepLR(opt, step_size=cfg.decay_every, gamma=cfg.gamma)


class L1Objective:
    """Stage one: ``|G(lr, s) - hr|_1``."""

    def __init__(self, generator: nn.Module, cfg: TrainConfig, ctx: DistContext, runs: nn.Module | None = None) -> None:
        """``runs``: the module the loss is computed through, when it is not ``generator`` itself but
        shares its parameters (QAT's fake-quantized graphs); it alone is wrapped for DDP."""
        self.cfg = cfg
        self.generator = generator
        self.g = wrap(runs or generator, ctx, find_unused=len(generator.scales) > 1)
        self.params = [p for p in generator.parameters() if p.requires_grad]
        self.opt = _adam(self.params, cfg)
        self.sched = _step_decay(self.opt, cfg)

    @property
    def lr(self) -> float:
        return self.opt.param_groups[0]["lr"]

    def step(self, scale: int, lr: torch.Tensor, hr: torch.Tensor) -> dict[str, float]:
        loss = F.l1_loss(self.g(lr, scale), hr)
        self.opt.zero_grad(set_to_none=True)
        loss.backward()
        nn.utils.clip_grad_norm_(self.params, self.cfg.clip)
        self.opt.step()
        self.sched.step()
        return {"loss": loss.item()}

    def state_dict(self) -> dict[str, Any]:
        return {"optimizer": self.opt.state_dict(), "scheduler": self.sched.state_dict()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.opt.load_state_dict(state["optimizer"])
        self.sched.load_state_dict(state["scheduler"])
        _apply_schedule(self.opt, self.sched, self.cfg)


def _apply_schedule(opt: torch.optim.Optimizer, sched: torch.optim.lr_scheduler.StepLR, cfg: TrainConfig) -> None:
    """After a resume, puts the configured step decay in force at the current step.

    A no-op when the schedule is unchanged; otherwise the learning rate becomes what the new
    schedule gives at this step (``initial_lr * gamma ** (step // decay_every)``).
    """
    if sched.step_size == cfg.decay_every and sched.gamma == cfg.gamma:
        return
    sched.step_size, sched.gamma = cfg.decay_every, cfg.gamma
    for group in opt.param_groups:
        group["lr"] = group["initial_lr"] * cfg.gamma ** (sched.last_epoch // cfg.decay_every)
    sched._last_lr = [group["lr"] for group in opt.param_groups]


class QATObjective(L1Objective):
    """Quantization-aware fine-tuning: stage one's ``|Q(lr, s) - hr|_1``, where ``Q`` is the network as its
    int8 files compute it (a :class:`~.qat.QuantSim` sharing its weights, clamped as the files are).

    The target is the HR patch, as in stage one, not the float network's output: matching the
    float network (distillation) was measured to buy nothing (docs/int8-quality.md), while the
    task loss lets the weights trade float accuracy for int8 accuracy.
    """

    def __init__(self, generator: nn.Module, sim: nn.Module, cfg: TrainConfig, ctx: DistContext) -> None:
        super().__init__(generator, cfg, ctx, runs=sim)


class GANObjective(L1Objective):
    """Stage two: generator and discriminators updated alternately, one step each per batch.

    The generator's loss is ``adv_weight * sum_k BCE(D_k(SR), 1) + vgg_weight * MSE(phi(SR),
    phi(HR))``; each discriminator's is ``BCE(D_k(HR), 1) + BCE(D_k(SR), 0)``.
    """

    def __init__(
        self, generator: nn.Module, disc: nn.Module, vgg: nn.Module, cfg: TrainConfig, ctx: DistContext
    ) -> None:
        super().__init__(generator, cfg, ctx)
        self.disc_module = disc
        self.d = wrap(disc, ctx)
        self.vgg = vgg.eval()
        for p in self.vgg.parameters():
            p.requires_grad = False
        self.d_opt = _adam(list(disc.parameters()), cfg)
        self.d_sched = _step_decay(self.d_opt, cfg)

    def step(self, scale: int, lr: torch.Tensor, hr: torch.Tensor) -> dict[str, float]:
        sr = self.g(lr, scale)
        # Discriminators: real vs the generator's current output (no gradient into G), in one
        # forward pass so that DDP sees exactly one forward per backward.
        n = hr.shape[0]
        d_out = self.d(torch.cat([hr, sr.detach()]))
        d_loss = torch.stack([_bce(o[:n], 1.0) + _bce(o[n:], 0.0) for o in d_out]).sum()
        self.d_opt.zero_grad(set_to_none=True)
        d_loss.backward()
        self.d_opt.step()
        self.d_sched.step()
        # Generator: fool all three discriminators and match VGG19 phi_5,4 features.
        # The unwrapped discriminators: their gradients from this loss are discarded (zeroed
        # before the next discriminator step), so they need no all-reduce.
        adv = torch.stack([_bce(f, 1.0) for f in self.disc_module(sr)]).sum()
        content = F.mse_loss(self.vgg(sr), self.vgg(hr))
        g_loss = self.cfg.adv_weight * adv + self.cfg.vgg_weight * content
        self.opt.zero_grad(set_to_none=True)
        g_loss.backward()
        nn.utils.clip_grad_norm_(self.params, self.cfg.clip)
        self.opt.step()
        self.sched.step()
        return {"loss": g_loss.item(), "adv": adv.item(), "vgg": content.item(), "d_loss": d_loss.item()}

    def state_dict(self) -> dict[str, Any]:
        return {
            **super().state_dict(),
            "disc": self.disc_module.state_dict(),
            "d_optimizer": self.d_opt.state_dict(),
            "d_scheduler": self.d_sched.state_dict(),
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        super().load_state_dict(state)
        self.disc_module.load_state_dict(state["disc"])
        self.d_opt.load_state_dict(state["d_optimizer"])
        self.d_sched.load_state_dict(state["d_scheduler"])
        _apply_schedule(self.d_opt, self.d_sched, self.cfg)


def _bce(prob: torch.Tensor, target: float) -> torch.Tensor:
    return F.binary_cross_entropy(prob, torch.full_like(prob, target))
