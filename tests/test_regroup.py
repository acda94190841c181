"""Weights of one group count as weights of another: fewer groups is the identical function, more groups keeps
each kernel's diagonal block; train --groups G --init CKPT derives a network that way."""
from __future__ import annotations

from pathlib import Path

import pytest
import torch

from pcarn_mobile.models import build_model
from pcarn_mobile.models.regroup import regroup_into, regroup_weight
from pcarn_mobile.models.regroup_fit import _fit_one, fit_narrowed, refit_order
from pcarn_mobile.weights import Header, load_weights, save_checkpoint


@pytest.fixture(scope="module")
def g4() -> torch.nn.Module:
    torch.manual_seed(0)
    return build_model("pcarn_m", 4, channels=16).eval()


@pytest.mark.parametrize("groups", [1, 2])
def test_fewer_groups_compute_the_same_function(g4, groups):
    target = build_model("pcarn_m", groups, channels=16).eval()
    stats = regroup_into(g4, target)
    assert stats["exact"] > 0 and stats["diagonal"] == 0
    x = torch.rand(1, 3, 20, 24)
    with torch.no_grad():
        for scale in (2, 3, 4):
            torch.testing.assert_close(target(x, scale), g4(x, scale), rtol=0, atol=1e-6)


def test_more_groups_keep_the_diagonal_blocks():
    weight = torch.arange(8 * 4 * 1 * 1, dtype=torch.float32).reshape(8, 4, 1, 1)  # 8 out, 8 in, 2 groups
    narrow = regroup_weight(weight, 2, 4)  # 4 groups: each output keeps the 2 inputs of its new slice
    assert narrow.shape == (8, 2, 1, 1)
    for o in range(8):
        first = (o // 2) * 2 - (o // 4) * 4  # where the new slice starts inside the old one
        torch.testing.assert_close(narrow[o], weight[o, first:first + 2])
    wide = regroup_weight(narrow, 4, 2)  # back to 2 groups: the kept blocks in place, zeros elsewhere
    assert wide.shape == weight.shape and int((wide != 0).sum()) == int((narrow != 0).sum())


def test_more_groups_change_the_function(g4):
    target = build_model("pcarn_m", 8, channels=16).eval()
    assert regroup_into(g4, target)["diagonal"] > 0
    with torch.no_grad():
        x = torch.rand(1, 3, 16, 16)
        assert (target(x, 2) - g4(x, 2)).abs().max() > 1e-3


def test_least_squares_recovers_a_grouped_conv_it_can_represent():
    torch.manual_seed(0)
    truth = torch.nn.Conv2d(8, 8, 3, padding=1, groups=4)
    conv = torch.nn.Conv2d(8, 8, 3, padding=1, groups=4)
    inputs = [torch.randn(2, 8, 10, 10) for _ in range(3)]
    with torch.no_grad():
        targets = [truth(x) for x in inputs]
    before, after = _fit_one(conv, inputs, targets)
    assert before > 0.5 and after < 1e-3
    torch.testing.assert_close(conv.weight, truth.weight, rtol=0, atol=1e-3)
    torch.testing.assert_close(conv.bias, truth.bias, rtol=0, atol=1e-3)


def test_refit_brings_more_groups_closer_to_the_source(g4):
    target = build_model("pcarn_m", 16, channels=16).eval()
    regroup_into(g4, target)
    torch.manual_seed(1)
    batches = [(s, torch.rand(4, 3, 16, 16)) for s in (2, 3, 4) for _ in range(2)]
    order = refit_order(g4, target, batches)
    assert order[0] == "b1.b1.conv1" and order[-1] == "exit" and "entry" not in order
    assert order.index("c1") < order.index("b2.b1.conv1")  # forward order, not registration order
    assert {"upsample.up2.body.0", "upsample.up3.body.0", "upsample.up4.body.3"} <= set(order)
    held_out = torch.rand(2, 3, 20, 20)

    def error() -> float:
        with torch.no_grad():
            return float(sum((target(held_out, s) - g4(held_out, s)).abs().mean() for s in (2, 3, 4)))

    cut = error()
    report = fit_narrowed(g4, target, batches)
    assert set(report) == set(order) and all(after <= before + 1e-6 for before, after in report.values())
    assert error() < 0.85 * cut  # on unseen input too (random weights: a modest gain; trained ones gain more)
    assert not target.training and not g4.training


def test_fewer_groups_need_no_refit(g4):
    target = build_model("pcarn_m", 2, channels=16).eval()
    regroup_into(g4, target)
    assert refit_order(g4, target, [(2, torch.rand(1, 3, 8, 8))]) == []


def test_train_derives_another_group_count(tmp_path: Path, torch_one_thread: None, capsys):
    from pcarn_mobile.imageio import write_image
    from pcarn_mobile.photos import sample_photos
    from pcarn_mobile.train import main as train_main

    torch.manual_seed(0)
    start = tmp_path / "g4.pt"
    save_checkpoint(start, build_model("pcarn_m", 4), Header("pcarn_m", 4, (2, 3, 4)))
    data = tmp_path / "data"
    data.mkdir()
    for name, img in sample_photos()[:2]:
        write_image(data / f"{name}.png", img[:80, :96])
    run = tmp_path / "run"
    assert train_main(["--groups", "8", "--init", str(start), "--data", str(data), "--out", str(run), "--steps", "2",
                       "--batch", "2", "--patch", "12", "--val", "none"]) == 0
    err = capsys.readouterr().err
    assert "--init: groups 4 -> 8: 22 grouped convs regrouped, the diagonal blocks kept" in err
    assert "--init: 26 convs refitted" in err  # every conv from b1's first grouped conv to the exit conv
    assert load_weights(run / "best.pt").header.groups == 8


def test_init_of_another_architecture_is_one_line(tmp_path: Path, capsys):
    from clitools import cli_error
    from pcarn_mobile.train import main as train_main

    torch.manual_seed(0)
    carn = tmp_path / "carn.pt"
    save_checkpoint(carn, build_model("carn_m", 4), Header("carn_m", 4, (2, 3, 4)))
    err = cli_error(train_main, ["--init", str(carn), "--data", str(tmp_path), "--out", str(tmp_path / "r"), "--steps", "1"],
                    capsys)
    assert "holds a carn_m network, but pcarn_m was asked" in err


def test_convert_with_another_group_count_says_how_to_derive_weights(tmp_path, capsys):
    from clitools import cli_error
    from pcarn_mobile.convert import main as convert_main

    err = cli_error(convert_main, ["--groups", "8", "--out", str(tmp_path / "o")], capsys)
    assert "for groups 8 derive weights from them (python -m pcarn_mobile.train --groups 8 --init " in err
    assert not (tmp_path / "o").exists()
