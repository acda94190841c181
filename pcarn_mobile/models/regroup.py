"""Weights of one group count turned into weights of another: how every group count gets a start.

Group counts nest (they are powers of two dividing 64), so each output channel's input slice in
one network lies inside, or contains, its slice in the other:

* fewer groups (wider slices): the grouped kernel is placed at its own input channels inside the
  wider slice and the rest is zero. The network computes exactly the same function; fine-tuning
  can then use the new cross-group weights;
* more groups (narrower slices): the part of each kernel that falls inside the narrower slice (its
  diagonal block) is kept and the rest dropped. The function changes (the dropped cross-group
  terms are gone), so these weights are a start for fine-tuning, not a finished network.

Every other tensor (1x1 convs, biases, mean shift) has the same shape in both and is copied.
"""
from __future__ import annotations

import torch
from torch import nn


def regroup_weight(weight: torch.Tensor, groups_from: int, groups_to: int) -> torch.Tensor:
    """A grouped conv kernel (O, I/groups_from, k, k) as the kernel (O, I/groups_to, k, k) of another group count."""
    if groups_from % groups_to and groups_to % groups_from:
        raise ValueError(f"group counts {groups_from} and {groups_to} do not nest")
    out_ch, in_from = weight.shape[:2]
    in_ch = in_from * groups_from
    in_to = in_ch // groups_to
    result = weight.new_zeros((out_ch, in_to, *weight.shape[2:]))
    for o in range(out_ch):
        start_from = (o // (out_ch // groups_from)) * in_from  # first input channel of o's slice, before
        start_to = (o // (out_ch // groups_to)) * in_to  # and after
        if groups_to < groups_from:  # wider: place the kernel at its own channels
            result[o, start_from - start_to : start_from - start_to + in_from] = weight[o]
        else:  # narrower: keep the block inside the new slice
            result[o] = weight[o, start_to - start_from : start_to - start_from + in_to]
    return result


def regroup_into(source: nn.Module, target: nn.Module) -> dict[str, int]:
    """Loads ``source``'s weights into ``target`` (same architecture, another group count).

    Returns counts: ``copied`` tensors, grouped convs made ``exact`` (fewer groups) and convs cut
    to their ``diagonal`` blocks (more groups).
    """
    # remove_duplicate=False: a block reused three times is named three times in the state dict.
    groups_of = {name: m.groups for name, m in source.named_modules(remove_duplicate=False) if isinstance(m, nn.Conv2d)}
    targets = dict(target.named_modules(remove_duplicate=False))
    state, stats = source.state_dict(), {"copied": 0, "exact": 0, "diagonal": 0}
    regrouped = {}
    for key, wanted in target.state_dict().items():
        have = state[key]
        if have.shape == wanted.shape:
            regrouped[key] = have
            stats["copied"] += 1
            continue
        owner = key.rsplit(".", 1)[0]
        to = targets[owner].groups
        regrouped[key] = regroup_weight(have, groups_of[owner], to)
        stats["exact" if to < groups_of[owner] else "diagonal"] += 1
    target.load_state_dict(regrouped, strict=True)
    return stats
