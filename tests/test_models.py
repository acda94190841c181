"""Model zoo: parameter counts from the paper, strict loads of the authors' weights, groups, init."""
from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from pcarn_mobile.complexity import count_parameters
from pcarn_mobile.models import VALID_GROUPS, SRDeploy, build_model
from pcarn_mobile.weights import load_weights

UPSTREAM = {"PCARN-M-L1.pth": "pcarn_m", "PCARN-M.pth": "pcarn_m", "carn_m.pth": "carn_m"}


@pytest.mark.parametrize("arch", ["pcarn_m", "carn_m"])
def test_paper_parameter_count(arch: str) -> None:
    # PCARN paper / released checkpoints: 414,811 for the multi-scale groups-4 network
    assert count_parameters(build_model(arch, groups=4)) == 414_811


def test_pcarn_m_shares_one_block_per_cascading_block() -> None:
    model = build_model("pcarn_m")
    assert model.b1.b1 is model.b1.b2 is model.b1.b3
    assert model.b1.b1 is not model.b2.b1


@pytest.mark.parametrize("name", sorted(UPSTREAM))
def test_upstream_checkpoints_load_strictly(shared, name: str) -> None:
    loaded = load_weights(shared / "checkpoints" / name)
    assert loaded.kind == "upstream"
    assert (loaded.header.arch, loaded.header.groups, loaded.header.scales) == (UPSTREAM[name], 4, (2, 3, 4))
    state = torch.load(shared / "checkpoints" / name, map_location="cpu", weights_only=True)
    own = loaded.model.state_dict()
    assert own.keys() == state.keys()
    assert all(torch.equal(own[k], state[k]) for k in state)


@pytest.mark.parametrize("groups", VALID_GROUPS)
def test_any_divisor_of_64_builds_and_runs(groups: int) -> None:
    model = build_model("pcarn_m", groups=groups).eval()
    assert model.b1.b1.conv1.groups == groups and model.upsample.up4.body[0].groups == groups
    with torch.inference_mode():
        for scale in (2, 3, 4):
            assert model(torch.rand(1, 3, 6, 5), scale).shape == (1, 3, 6 * scale, 5 * scale)


@pytest.mark.parametrize("groups", [0, 3, 5, 48, 128])
def test_invalid_groups_rejected(groups: int) -> None:
    with pytest.raises(ValueError, match=f"groups={groups}"):
        build_model("pcarn_m", groups=groups)


def test_unknown_arch_rejected() -> None:
    with pytest.raises(ValueError, match="unknown architecture"):
        build_model("srcnn")


@pytest.mark.parametrize("arch", ["pcarn", "pcarn_m", "carn_m"])
def test_init_uniform_fan_in(arch: str) -> None:
    """Paper, Table 3: uniform in +-sqrt(1/fan_in); the mean shift stays identity."""
    torch.manual_seed(0)
    model = build_model(arch)
    for name, m in model.named_modules():
        if not isinstance(m, nn.Conv2d):
            continue
        if "shifter" in name:
            assert torch.equal(m.weight.view(3, 3), torch.eye(3))
            continue
        bound = math.sqrt(1.0 / (m.weight[0].numel()))
        for p in (m.weight, m.bias):
            assert p.abs().max() <= bound + 1e-7, name
            if p.numel() >= 64:  # filled to the bound, not a narrower default init
                assert p.abs().max() > 0.9 * bound and p.min() < 0 < p.max(), name


def test_deploy_wrapper_fixes_scale_and_clamps() -> None:
    torch.manual_seed(0)
    model = build_model("pcarn_m").eval()
    with torch.no_grad():
        model.exit.bias.fill_(5.0)  # push the raw output far outside [0, 1]
        out = SRDeploy(model, 3)(torch.rand(1, 3, 4, 4))
    assert out.shape == (1, 3, 12, 12) and out.min() >= 0 and out.max() == 1.0
    with pytest.raises(ValueError, match="x8"):
        SRDeploy(model, 8)
