"""Stage two (GAN) of the trainer: a 30-step smoke run and its refusals.

No real VGG19 weights are available offline, so a RANDOMLY INITIALISED VGG19 stands in for
them: saved in torchvision's key layout, it exercises loading and the feature loss exactly as
the real ``vgg19-dcbb9e9d.pth`` would, but says nothing about perceptual quality.
"""
from __future__ import annotations

import csv
from pathlib import Path

import pytest
import torch

from pcarn_mobile.imageio import write_image
from pcarn_mobile.models import build_model
from pcarn_mobile.photos import sample_photos
from pcarn_mobile.train import main
from pcarn_mobile.training.gan import MultiScaleDiscriminator, VGG19Features
from pcarn_mobile.weights import Header, load_weights, save_checkpoint
from clitools import cli_error

#: Indices of the conv layers in torchvision's ``vgg19().features`` up to conv5_4.
TORCHVISION_CONV_INDICES = (0, 2, 5, 7, 10, 12, 14, 16, 19, 21, 23, 25, 28, 30, 32, 34)


@pytest.fixture(scope="module", autouse=True)
def one_thread(torch_one_thread: None) -> None:
    """Every run here on one thread, set before the module's runs (bit-identity needs equal thread counts)."""


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("gan")
    data = root / "data"
    data.mkdir()
    for name, img in sample_photos()[:3]:
        write_image(data / f"{name}.png", img[40:112, 60:140])
    init = root / "init.pt"
    torch.manual_seed(0)
    save_checkpoint(init, build_model("pcarn_m", 4), Header("pcarn_m", 4, (2, 3, 4)))
    # Stand-in for torchvision's vgg19 file: random weights, torchvision's keys (+ a classifier key
    # the loader must ignore).
    torch.manual_seed(1)
    vgg = {f"features.{k}": v for k, v in VGG19Features().features.state_dict().items()}
    vgg["classifier.0.weight"] = torch.zeros(4, 4)
    torch.save(vgg, root / "vgg19_random.pth")
    return {"data": data, "init": init, "vgg": root / "vgg19_random.pth", "root": root}


def gan_args(s: dict[str, Path], out: Path, steps: int) -> list[str]:
    return ["--stage", "gan", "--init", str(s["init"]), "--data", str(s["data"]), "--out", str(out),
            "--steps", str(steps), "--batch", "2", "--patch", "8", "--val", "none", "--log-every", "10",
            "--scales", "2"]  # a subset of the checkpoint's scales; tiny patches keep VGG19 and D cheap


def test_vgg19_keys_are_torchvisions() -> None:
    keys = set(VGG19Features().state_dict())
    assert keys == {f"features.{i}.{p}" for i in TORCHVISION_CONV_INDICES for p in ("weight", "bias")}
    feats = VGG19Features()(torch.rand(1, 3, 32, 32))
    assert feats.shape == (1, 512, 2, 2) and feats.min() >= 0  # relu5_4: after 4 poolings, after a ReLU


def test_three_discriminators_on_pooled_inputs() -> None:
    maps = MultiScaleDiscriminator()(torch.rand(2, 3, 64, 64))
    assert [m.shape[-1] for m in maps] == [4, 2, 1]  # 64, 32, 16 px inputs, four stride-2 blocks each
    assert all(((m > 0) & (m < 1)).all() for m in maps)  # sigmoid probability maps


def test_stage_two_smoke_30_steps(setup: dict[str, Path]) -> None:
    out = setup["root"] / "run"
    assert main(gan_args(setup, out, 30) + ["--vgg-weights", str(setup["vgg"])]) == 0
    with open(out / "train.csv") as fh:
        rows = list(csv.DictReader(fh))
    assert [int(r["step"]) for r in rows] == [10, 20, 30]
    assert {"adv", "vgg", "d_loss", "loss"} <= set(rows[0])
    state = torch.load(out / "last.pt", weights_only=True)
    assert state["step"] == 30 and "disc" in state["objective"] and "d_optimizer" in state["objective"]
    trained = load_weights(out / "best.pt", groups=4).model.state_dict()
    start = load_weights(setup["init"], groups=4).model.state_dict()
    assert any(not torch.equal(trained[k], start[k]) for k in start)




def test_stage_two_refusals(setup: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert "--vgg-weights" in cli_error(main, gan_args(setup, tmp_path / "a", 2), capsys)
    args = gan_args(setup, tmp_path / "b", 2)
    args[args.index("--init") : args.index("--init") + 2] = []
    assert "--init" in cli_error(main, args + ["--vgg-weights", str(setup["vgg"])], capsys)
    assert "not a torchvision VGG19" in cli_error(main, gan_args(setup, tmp_path / "c", 2) + ["--vgg-weights", str(setup["init"])], capsys)
    assert "not found" in cli_error(main, gan_args(setup, tmp_path / "d", 2) + ["--vgg-weights", str(tmp_path / "no.pth")], capsys)
