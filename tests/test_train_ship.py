"""``python -m pcarn_mobile.training.ship``: a run's best.pt -> default weights + model card.

Runs on a 3-step training run and a one-image stand-in for Set5/Set14 (HR-only folders), so it
checks the plumbing (formats, card contents, atomic outputs), not the shipped figures.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from pcarn_mobile.data import load_eval_set
from pcarn_mobile.evaluation import evaluate_runner
from pcarn_mobile.imageio import write_image
from pcarn_mobile.tiling import TorchRunner
from pcarn_mobile.photos import sample_photos
from pcarn_mobile.train import main as train_main
from pcarn_mobile.training.ship import BICUBIC, UPSTREAM_L1, command_line, main as ship_main
from pcarn_mobile.weights import load_weights, read_checkpoint


@pytest.fixture(scope="module", autouse=True)
def one_thread(torch_one_thread: None) -> None:
    """One thread for the runs below."""


def test_ship_writes_weights_card_and_curve(tmp_path: Path) -> None:
    photos = sample_photos()
    data, sets = tmp_path / "data", tmp_path / "sets"
    data.mkdir()
    for name, img in photos[:3]:
        write_image(data / f"{name}.png", img[40:112, 60:140])
    for set_name in ("Set5", "Set14"):
        for s in (2, 3, 4):
            (sets / set_name / f"x{s}").mkdir(parents=True)
            write_image(sets / set_name / f"x{s}" / "a.png", photos[4][1][:36, :36])
    run = tmp_path / "run"
    val = str(sets / "Set5" / "x4")
    assert train_main(["--groups", "4", "--data", str(data), "--out", str(run), "--steps", "4", "--batch", "2",
                       "--patch", "12", "--val", val, "--val-every", "2"]) == 0
    dest = tmp_path / "weights"
    assert ship_main([str(run), "--dest", str(dest), "--data", str(sets)]) == 0
    loaded = load_weights(dest / "pcarn_m_g4.pt", groups=4, scale=4)
    header, state, meta, kind = read_checkpoint(dest / "pcarn_m_g4.pt")
    assert kind == "project" and header.scales == (2, 3, 4) and meta["step"] in (2, 4)
    assert set(meta["results"]) == {f"{n}_x{s}" for n in ("Set5", "Set14") for s in (2, 3, 4)}
    assert all(v.dtype.is_floating_point is False or v.dtype.itemsize == 4 for v in state.values())  # fp32
    card = (dest / "MODEL_CARD.md").read_text()
    for needle in ("Steps:", "Machine:", "--decay-every", "val_curve.png", "moving average of the weights, decay 0.999"):
        assert needle in card, needle
    # Each (set, scale) row of the card and of the file's provenance is what the shipped weights score,
    # re-measured here, next to the reference rows the card cites.
    for set_name in ("Set5", "Set14"):
        for s in (2, 3, 4):
            measured = evaluate_runner(TorchRunner(loaded.model, s), load_eval_set(sets / set_name / f"x{s}", s), s)["psnr_y"]
            assert meta["results"][f"{set_name}_x{s}"] == pytest.approx(measured, abs=5e-4)
            row = next(line for line in card.splitlines() if line.startswith(f"| {set_name} | x{s} | "))
            cells = [c.strip() for c in row.strip("|").split("|")]
            assert float(cells[2]) == pytest.approx(measured, abs=0.0051)
            assert cells[3:5] == [f"{BICUBIC[(set_name, s)]:.2f}", f"{UPSTREAM_L1[(set_name, s)]:.2f}"]
    assert (dest / "val_curve.png").stat().st_size > 1000
    assert loaded.model.scales == (2, 3, 4)
    assert not list(dest.glob(".*"))  # no temporary files left behind


def test_command_line_replays_changes_made_on_resume() -> None:
    """A decay changed at step 40 and 60 and the weight average switched on at 40: three commands."""
    cfg = dict(groups=4, scales=[2, 3, 4], data=["T91"], out="r", batch=8, patch=32, lr=1e-3, decay_every=30,
               gamma=0.5, clip=10.0, seed=0, val=None, val_every=500, steps=100, ema=0.999, ema_from=40,
               schedule_history=[[0, 10, 0.5], [40, 20, 0.5], [60, 30, 0.5]])
    first, second, third = command_line(cfg).split(" && ")
    assert "--decay-every 10 " in first and "--ema 0 " in first and first.endswith("--steps 40")
    assert second.endswith("--resume --decay-every 20 --gamma 0.5 --ema 0.999 --steps 60")
    assert third.endswith("--resume --decay-every 30 --gamma 0.5 --steps 100")
    assert "--ema 0.999 " in command_line({**cfg, "ema_from": 0}).split(" && ")[0]


def test_embedded_default_matches_its_card(shared: Path) -> None:
    """The shipped weights are PCARN-M g4 x2/x3/x4, the card names their SHA-256, and Set5 x4
    scores what the card and the file's own metadata say."""
    from pcarn_mobile.weights import DEFAULT_WEIGHTS, sha256_of

    if not DEFAULT_WEIGHTS.is_file():
        pytest.skip("no embedded default weights in this checkout")
    loaded = load_weights(DEFAULT_WEIGHTS, groups=4)
    assert (loaded.header.arch, loaded.header.scales) == ("pcarn_m", (2, 3, 4))
    assert DEFAULT_WEIGHTS.stat().st_size < 1_800_000  # fp32 state dict, weight-tied blocks stored once
    card = DEFAULT_WEIGHTS.with_name("MODEL_CARD.md").read_text()
    assert sha256_of(DEFAULT_WEIGHTS) in card
    claimed = loaded.meta["results"]["Set5_x4"]
    assert f"| Set5 | x4 | {claimed:.2f} |" in card
    result = evaluate_runner(TorchRunner(loaded.model, 4), load_eval_set(shared / "data" / "Set5" / "x4", 4), 4)
    assert result["psnr_y"] == pytest.approx(claimed, abs=0.005)
