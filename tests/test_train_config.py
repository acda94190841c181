"""``train --config``: a recipe file with schedule changes is the chain of ``--resume`` calls it stands for, exactly."""
from __future__ import annotations

from pathlib import Path

import pytest
import torch

from pcarn_mobile.imageio import write_image
from pcarn_mobile.photos import sample_photos
from pcarn_mobile.train import chain, main
from clitools import cli_error

RECIPE = """
groups = 4
batch = 2
patch = 12
lr = 0.001
decay_every = 100
gamma = 0.5
ema = 0.0
seed = 0
log_every = 5
steps = 9

[[schedule]]
at = 3
decay_every = 2

[[schedule]]
at = 6
ema = 0.9
"""


@pytest.fixture(scope="module", autouse=True)
def one_thread(torch_one_thread: None) -> None:
    """Bit-identity needs equal thread counts."""


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("train_data")
    for name, img in sample_photos()[:3]:
        write_image(folder / f"{name}.png", img[40:112, 60:140])
    return folder


def _state(run: Path) -> dict:
    return torch.load(run / "last.pt", weights_only=True)


def test_the_recipe_file_is_its_resume_chain_step_for_step(data: Path, tmp_path: Path) -> None:
    recipe = tmp_path / "recipe.toml"
    recipe.write_text(RECIPE)
    common = ["--data", str(data), "--val", "none"]
    one = tmp_path / "one"
    assert main(["--config", str(recipe), *common, "--out", str(one)]) == 0
    by_hand = tmp_path / "by_hand"
    first = ["--groups", "4", "--batch", "2", "--patch", "12", "--lr", "0.001", "--decay-every", "100", "--gamma", "0.5",
             "--ema", "0", "--seed", "0", "--log-every", "5", *common, "--out", str(by_hand)]
    assert main([*first, "--steps", "3"]) == 0
    assert main(["--out", str(by_hand), "--resume", "--decay-every", "2", "--steps", "6"]) == 0
    assert main(["--out", str(by_hand), "--resume", "--ema", "0.9", "--steps", "9"]) == 0
    a, b = _state(one), _state(by_hand)
    assert a["step"] == b["step"] == 9
    for part in ("model", "ema"):
        assert a[part].keys() == b[part].keys() and all(torch.equal(a[part][k], b[part][k]) for k in a[part])
    assert a["config"]["schedule_history"] == b["config"]["schedule_history"] == [[0, 100, 0.5], [3, 2, 0.5]]
    assert a["config"]["ema_from"] == 6
    assert a["objective"]["optimizer"]["param_groups"][0]["lr"] == pytest.approx(1e-3 * 0.5 ** (8 // 2))
    other = tmp_path / "other"  # the check can fail: without the decay change the weights differ
    recipe.write_text(RECIPE.replace("at = 3\ndecay_every = 2", "at = 3\ndecay_every = 100"))
    assert main(["--config", str(recipe), *common, "--out", str(other)]) == 0
    assert any(not torch.equal(v, _state(other)["model"][k]) for k, v in a["model"].items())


def test_the_embedded_weights_recipe_is_the_model_cards_chain() -> None:
    """pcarn_mobile/weights/pcarn_m_g4.toml stands for the ten calls the run was made with (MODEL_CARD.md)."""
    root = Path(__file__).resolve().parents[1]
    calls = chain(["--config", str(root / "pcarn_mobile/weights/pcarn_m_g4.toml"), "--data", "T91", "SunHays80",
                   "--val", "Set5/x4", "--out", "runs/g4"])
    assert len(calls) == 10
    assert calls[0][-2:] == ["--steps", "86"] and "--decay-every" in calls[0] and calls[0][calls[0].index("--lr") + 1] == "0.001"
    changes = [(c[1:3], c[-1]) for c in calls[1:]]
    assert changes == [(["--decay-every", "300"], "279"), (["--decay-every", "500"], "372"),
                       (["--decay-every", "700"], "4248"), (["--decay-every", "2000"], "6071"),
                       (["--decay-every", "5000"], "6819"), (["--ema", "0.999"], "17409"),
                       (["--decay-every", "4500"], "20506"), (["--decay-every", "10000"], "27561"),
                       (["--decay-every", "7625"], "33000")]
    assert all(c[0] == "--resume" for c in calls[1:])


def test_bad_recipe_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.toml"
    run = ["--config", str(bad), "--data", str(tmp_path), "--out", str(tmp_path / "run")]
    bad.write_text("groups = ")
    assert "not valid TOML" in cli_error(main, run, capsys)
    bad.write_text("grups = 4")
    assert "unknown option 'grups'" in cli_error(main, run, capsys)
    bad.write_text("[[schedule]]\nat = 0\ndecay_every = 3")
    assert "needs a step 'at' > 0" in cli_error(main, run, capsys)
    bad.write_text("steps = 5\n[[schedule]]\nat = 8\ndecay_every = 3")
    assert "ends before the last [[schedule]] change" in cli_error(main, run, capsys)
    assert "cannot be read" in cli_error(main, ["--config", str(tmp_path / "none.toml"), "--out", "x"], capsys)
    assert not (tmp_path / "run").exists()
