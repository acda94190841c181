"""What ``--expand-groups`` costs: Mult-Adds of the grouped network and of its dense block-diagonal rewrite."""
from __future__ import annotations

from typing import Any

from torch import nn

from ..complexity import count_mult_adds, sr_mult_adds
from ..models import SRDeploy, build_model
from ..weights import Header


def expand_groups_cost(module: nn.Module, header: Header, scale: int, input_size: tuple[int, int] | None) -> dict[str, Any]:
    """Per input tile (180x320, i.e. 720p out at x4, for a dynamic model) and at the paper's 720p output.

    The dense network is the same architecture with ``groups=1``: what a runtime without
    grouped convolution (the TFLite GPU delegate) executes.
    """
    dense = build_model(header.arch, 1, header.scales, header.channels)
    h, w = input_size or (180, 320)
    cost: dict[str, Any] = {
        "tile": [h, w],
        "grouped_mult_adds": count_mult_adds(module, (1, 3, h, w)),
        "dense_mult_adds": count_mult_adds(SRDeploy(dense, scale), (1, 3, h, w)),
        "grouped_mult_adds_720p": sr_mult_adds(module.model, scale),
        "dense_mult_adds_720p": sr_mult_adds(dense, scale),
    }
    cost["factor"] = round(cost["dense_mult_adds"] / cost["grouped_mult_adds"], 2)
    return cost
