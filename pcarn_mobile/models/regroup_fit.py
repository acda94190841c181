"""A better start for more groups: refit the cut network's convs to the wider network's outputs.

Cutting a kernel to its diagonal block (``regroup``) drops the cross-group terms, and the error
compounds through the cascade: a network cut from 4 to 64 groups starts below bicubic and a short
fine-tune does not recover it. Here every conv from the first narrowed one on (the dense 1x1
fusions and the exit conv too, which can absorb part of what the cut dropped) is refitted, in
forward order, by least squares: its outputs should match the original network's outputs of the same conv, given the
*regrouped* network's own inputs to it (so each fit also absorbs the error of the convs before it).
This is the layer-wise reconstruction used by post-training compression (e.g. AdaRound's and
BRECQ's layer-wise objectives, OBC): closed form, about a minute or two on a CPU, and a start that
fine-tuning then only has to polish.

Each output channel only sees the input channels of its group, so the problem splits into one
small ridge regression per group: features are the ``k x k`` patches of the group's inputs (and a
1 for the bias), targets the original conv's pre-activation outputs of the group's channels.
"""
from __future__ import annotations

from collections.abc import Iterable

import torch
import torch.nn.functional as F
from torch import nn

#: Ridge strength, relative to the mean diagonal of each group's Gram matrix: enough to keep
#: the solve stable on channels that are almost always zero after a ReLU, too small to bias it.
RIDGE = 1e-4


def refit_order(source: nn.Module, target: nn.Module, probes: list[tuple[int, torch.Tensor]]) -> list[str]:
    """The convs to refit, in the order a forward pass first reaches them.

    Every conv from the first narrowed one (more groups in ``target`` than in ``source``) on is
    refitted: the dense 1x1 fusions and the exit conv after it can absorb part of what the cut
    dropped. Registration order is not forward order (the global fusions run between the
    cascading blocks), hence the probe passes, one per scale.
    """
    src = dict(source.named_modules())
    order: list[str] = []
    seen: list[str] = []  # one pass's convs in call order
    handles = [m.register_forward_hook(lambda *_a, n=name: seen.append(n) if n not in seen else None)
               for name, m in target.named_modules() if isinstance(m, nn.Conv2d) and m.weight.requires_grad]
    try:
        with torch.no_grad():
            for scale, lr in {scale: lr for scale, lr in probes}.items():
                seen.clear()
                target(lr[:1], scale)
                for before, name in zip([None, *seen], seen):  # a scale's own upsampler goes in after its input
                    if name not in order:
                        order.insert(order.index(before) + 1 if before else 0, name)
    finally:
        for h in handles:
            h.remove()
    tgt = dict(target.named_modules())
    narrowed = [n for n in order if tgt[n].groups > src[n].groups]
    return order[order.index(narrowed[0]):] if narrowed else []


def _capture(module: nn.Module, store: list[torch.Tensor], want: str) -> torch.utils.hooks.RemovableHandle:
    def hook(_m: nn.Module, args: tuple[torch.Tensor, ...], out: torch.Tensor) -> None:
        store.append(args[0] if want == "input" else out)
    return module.register_forward_hook(hook)


@torch.no_grad()
def _fit_one(conv: nn.Conv2d, inputs: list[torch.Tensor], targets: list[torch.Tensor]) -> tuple[float, float]:
    """Least-squares weights and bias of ``conv`` from its inputs and the wanted outputs.

    Returns the relative output error (norm of error / norm of target) before and after.
    """
    g, k, pad = conv.groups, conv.kernel_size[0], conv.padding[0]
    cin, cout = conv.in_channels // g, conv.out_channels // g
    feats = cin * k * k + 1
    gram = torch.zeros(g, feats, feats, dtype=torch.float64)
    cross = torch.zeros(g, feats, cout, dtype=torch.float64)
    err_before = norm = 0.0
    for x, y in zip(inputs, targets, strict=True):
        err_before += float((conv(x) - y).pow(2).sum())
        norm += float(y.pow(2).sum())
        cols = F.unfold(x, k, padding=pad)  # (N, C*k*k, L), channel-major: group j is one slice
        n, _, length = cols.shape
        cols = cols.view(n, g, cin * k * k, length).permute(1, 0, 3, 2).reshape(g, n * length, cin * k * k)
        cols = torch.cat([cols, cols.new_ones(g, n * length, 1)], dim=2).double()
        ys = y.view(n, g, cout, -1).permute(1, 0, 3, 2).reshape(g, n * length, cout).double()
        gram += cols.transpose(1, 2) @ cols
        cross += cols.transpose(1, 2) @ ys
    diag_mean = gram.diagonal(dim1=1, dim2=2).mean(dim=1)
    eye = torch.eye(feats, dtype=torch.float64)
    solved = torch.linalg.solve(gram + RIDGE * diag_mean[:, None, None] * eye, cross)  # (g, feats, cout)
    kept = conv.weight.clone(), conv.bias.clone()
    conv.weight.copy_(solved[:, :-1].permute(0, 2, 1).reshape(g * cout, cin, k, k).to(conv.weight.dtype))
    conv.bias.copy_(solved[:, -1].reshape(-1).to(conv.bias.dtype))
    err_after = sum(float((conv(x) - y).pow(2).sum()) for x, y in zip(inputs, targets, strict=True))
    if err_after > err_before:  # the ridge's pull can cost a conv that was already (nearly) right: keep it
        conv.weight.copy_(kept[0]), conv.bias.copy_(kept[1])
        err_after = err_before
    return (err_before / norm) ** 0.5, (err_after / norm) ** 0.5


@torch.no_grad()
def fit_narrowed(source: nn.Module, target: nn.Module,
                 batches: Iterable[tuple[int, torch.Tensor]]) -> dict[str, tuple[float, float]]:
    """Refits ``target``'s convs from the first narrowed one on (:func:`refit_order`) to ``source``, on
    ``batches`` of (scale, LR images).

    ``target`` holds ``source``'s weights regrouped (``regroup_into``). Returns, per conv, the
    relative error of its outputs before and after the fit.
    """
    batches = list(batches)
    src, tgt = dict(source.named_modules()), dict(target.named_modules())
    was_training = source.training, target.training
    source.eval(), target.eval()
    order = refit_order(source, target, batches)
    wanted: dict[str, list[torch.Tensor]] = {name: [] for name in order}  # the source's outputs: one pass for all
    handles = [_capture(src[name], wanted[name], "output") for name in order]
    try:
        for scale, lr in batches:
            source(lr, scale)
    finally:
        for h in handles:
            h.remove()
    report = {}
    for name in order:  # the target's inputs change with every fit before, so one target pass per conv
        inputs: list[torch.Tensor] = []
        handle = _capture(tgt[name], inputs, "input")
        try:
            for scale, lr in batches:
                target(lr, scale)
        finally:
            handle.remove()
        if inputs:  # an upsampler of a scale no batch used stays as cut
            report[name] = _fit_one(tgt[name], inputs, wanted.pop(name))
    source.train(was_training[0]), target.train(was_training[1])
    return report
