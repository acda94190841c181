"""Stage one of the trainer: smoke run, determinism, interrupt + resume, and its error messages.

Tiny runs on a synthetic folder (crops of the photos bundled with scikit-image): 12px LR
patches, batch 2, so the whole file runs in seconds on two CPU cores.
"""
from __future__ import annotations

import csv
import os
import shutil
import signal
import stat
from pathlib import Path

import pytest
import torch

from pcarn_mobile.imageio import write_image
from pcarn_mobile.photos import sample_photos
from pcarn_mobile.train import main
from pcarn_mobile.training.data import PatchSampler
from pcarn_mobile.training.ema import WeightEMA
from pcarn_mobile.weights import load_weights
from clitools import cli_error


@pytest.fixture(scope="module", autouse=True)
def one_thread(torch_one_thread: None) -> None:
    """Every run here on one thread, set before the module's runs (bit-identity needs equal thread counts)."""


@pytest.fixture(scope="module")
def folders(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A training folder (4 photo crops, PNG and BMP) and an HR-only validation folder (2 crops)."""
    root = tmp_path_factory.mktemp("train_data")
    train, val = root / "train", root / "val"
    train.mkdir(), val.mkdir()
    photos = sample_photos()
    for i, (name, img) in enumerate(photos[:4]):
        write_image(train / f"{name}.{'png' if i % 2 else 'bmp'}", img[40:112, 60:140])
    for name, img in photos[4:6]:
        write_image(val / f"{name}.png", img[100:148, 100:148])
    return train, val


def base_args(data: Path, out: Path, steps: int, seed: int = 0) -> list[str]:
    return ["--groups", "4", "--data", str(data), "--out", str(out), "--steps", str(steps), "--batch", "2",
            "--patch", "12", "--val", "none", "--seed", str(seed), "--log-every", "5", "--lr", "1e-3"]


def weights_of(run: Path) -> dict[str, torch.Tensor]:
    return torch.load(run / "last.pt", weights_only=True)["model"]


def assert_same(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> None:
    assert a.keys() == b.keys()
    for k in a:
        assert torch.equal(a[k], b[k]), k


@pytest.fixture(scope="module")
def run20(folders: tuple[Path, Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The reference: an uninterrupted 20-step run."""
    out = tmp_path_factory.mktemp("run20") / "run"
    assert main(base_args(folders[0], out, 20)) == 0
    return out


def test_stage_one_smoke_30_steps(folders: tuple[Path, Path], tmp_path: Path) -> None:
    train, val = folders
    out = tmp_path / "run"
    args = base_args(train, out, 30)
    args[args.index("--val") + 1] = str(val)
    assert main(args + ["--val-scale", "2", "--val-every", "10"]) == 0
    assert {"last.pt", "best.pt", "train.csv", "val.csv"} <= {p.name for p in out.iterdir()}
    with open(out / "train.csv") as fh:
        losses = [float(r["loss"]) for r in csv.DictReader(fh)]
    assert len(losses) == 6 and losses[-1] < losses[0]  # L1 falls from the random initialisation
    with open(out / "val.csv") as fh:
        rows = list(csv.DictReader(fh))
    assert [int(r["step"]) for r in rows] == [10, 20, 30]
    best = max(rows, key=lambda r: float(r["psnr_y"]))
    loaded = load_weights(out / "best.pt", groups=4, scale=2)  # the project format, as evaluate reads it
    assert loaded.kind == "project" and loaded.meta["step"] == int(best["step"])
    assert loaded.meta["val_psnr_y"] == pytest.approx(float(best["psnr_y"]), abs=1e-4)


def test_start_up_summary_then_one_estimate(folders: tuple[Path, Path], tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    train, _ = folders
    capsys.readouterr()
    assert main(base_args(train, tmp_path / "run", 10)) == 0
    err = capsys.readouterr().err.splitlines()
    assert err[:4] == [
        "train l1: pcarn_m groups 4, scales x2/x3/x4",
        f"data: 4 images in {train}",
        "recipe: batch 2, patch 12 px, lr 1.00e-03 (x0.5 every 5,000 steps), 10 steps, weight average 0.999",
        "validation: none (--val none)",
    ]
    estimates = [line for line in err if line.startswith("estimate: ")]
    assert len(estimates) == 1 and "s/step on this machine, about " in estimates[0]
    assert "for the remaining 4 steps" in estimates[0]  # timed: steps 2-6 (the first one warms up)


def test_default_validation_set_comes_from_pcarn_shared(folders: tuple[Path, Path], tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    train, val = folders
    shared = tmp_path / "elsewhere"
    shutil.copytree(val, shared / "data" / "Set5" / "x4")
    monkeypatch.setenv("PCARN_SHARED", str(shared))
    args = base_args(train, tmp_path / "run", 2)
    del args[args.index("--val"):args.index("--val") + 2]
    capsys.readouterr()
    assert main(args + ["--scales", "4"]) == 0
    assert "validation: Set5/x4 (2 images) at x4 every 500 steps" in capsys.readouterr().err.splitlines()


def test_checkpoints_get_the_permissions_of_a_plain_file(folders: tuple[Path, Path], tmp_path: Path) -> None:
    """Not mkstemp's 0600: a run's checkpoints are as readable as any file the user writes (a shared GPU box)."""
    previous = os.umask(0o027)
    try:
        assert main(base_args(folders[0], tmp_path / "run", 2)) == 0
    finally:
        os.umask(previous)
    for name in ("last.pt", "best.pt"):
        assert stat.S_IMODE((tmp_path / "run" / name).stat().st_mode) == 0o666 & ~0o027, name


def test_same_seed_same_weights(folders: tuple[Path, Path], run20: Path, tmp_path: Path) -> None:
    assert main(base_args(folders[0], tmp_path / "a", 20)) == 0
    assert_same(weights_of(tmp_path / "a"), weights_of(run20))
    assert main(base_args(folders[0], tmp_path / "b", 20, seed=1)) == 0
    other = weights_of(tmp_path / "b")
    assert any(not torch.equal(other[k], v) for k, v in weights_of(run20).items())


def _signal_at_step(monkeypatch: pytest.MonkeyPatch, signum: int, step: int) -> None:
    """Sends ``signum`` to this process while the batch of step ``step`` is drawn."""
    original, calls = PatchSampler.next_batch, []

    def next_batch_then_signal(self: PatchSampler):  # type: ignore[no-untyped-def]
        calls.append(1)
        if len(calls) == step:
            os.kill(os.getpid(), signum)
        return original(self)

    monkeypatch.setattr(PatchSampler, "next_batch", next_batch_then_signal)


def test_interrupted_then_resumed_equals_uninterrupted(
    folders: tuple[Path, Path], run20: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SIGTERM during step 7 -> last.pt at step 7, exit 143 -> --resume to 20 == the uninterrupted 20 steps."""
    out = tmp_path / "run"
    with monkeypatch.context() as patch:
        _signal_at_step(patch, signal.SIGTERM, 7)
        assert main(base_args(folders[0], out, 20)) == 128 + signal.SIGTERM
    state = torch.load(out / "last.pt", weights_only=True)
    assert state["step"] == 7
    # Only --out, --resume and --steps: everything else comes from the run itself.
    assert main(["--out", str(out), "--resume", "--steps", "20"]) == 0
    assert_same(weights_of(out), weights_of(run20))
    # The weight average (the cpu recipe's default) resumes exactly too.
    assert_same(torch.load(out / "last.pt", weights_only=True)["ema"],
                torch.load(run20 / "last.pt", weights_only=True)["ema"])
    with open(out / "train.csv") as fh:
        assert [int(r["step"]) for r in csv.DictReader(fh)] == [5, 10, 15, 20]




def test_ctrl_c_saves_then_exits_130(folders: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    """`train && convert` must not go on after Ctrl-C: last.pt is saved, the summary printed, and the exit is 130."""
    _signal_at_step(monkeypatch, signal.SIGINT, 3)
    capsys.readouterr()
    assert main(base_args(folders[0], tmp_path / "run", 20)) == 130
    assert torch.load(tmp_path / "run" / "last.pt", weights_only=True)["step"] == 3
    assert "stopped, last.pt saved: step 3/20" in capsys.readouterr().err


def test_corrupt_last_pt_stops_resume(folders: tuple[Path, Path], tmp_path: Path,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "run"
    assert main(base_args(folders[0], out, 2)) == 0
    log = (out / "train.csv").read_text()
    data = (out / "last.pt").read_bytes()
    (out / "last.pt").write_bytes(data[: len(data) // 2])
    err = cli_error(main, ["--out", str(out), "--resume"], capsys)
    assert "damaged" in err and "last.pt" in err
    (out / "last.pt").write_bytes(b"not a checkpoint at all")
    assert "damaged" in cli_error(main, base_args(folders[0], out, 4) + ["--resume"], capsys)
    (out / "last.pt").write_bytes(b"hello\n")  # 'h' is a pickle opcode: torch.load raised KeyError here
    err = cli_error(main, ["--out", str(out), "--resume"], capsys)
    assert "damaged" in err and "it is a text file" in err
    assert (out / "train.csv").read_text() == log  # nothing was trained over the broken run


def test_init_refuses_a_training_state_and_a_text_file(folders: tuple[Path, Path], tmp_path: Path,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    run = tmp_path / "run"
    assert main(base_args(folders[0], run, 1)) == 0
    err = cli_error(main, base_args(folders[0], tmp_path / "next", 2) + ["--init", str(run / "last.pt")], capsys)
    assert "training state" in err and "--resume" in err and str(run / "best.pt") in err
    (tmp_path / "notes.txt").write_text("hello, these are not weights\n")
    err = cli_error(main, base_args(folders[0], tmp_path / "next", 2) + ["--init", str(tmp_path / "notes.txt")], capsys)
    assert "notes.txt is not a PyTorch checkpoint: it is a text file" in err
    assert not (tmp_path / "next").exists()


def test_resume_and_fresh_run_mistakes(folders: tuple[Path, Path], tmp_path: Path,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "run"
    assert "no last.pt" in cli_error(main, ["--out", str(out), "--resume"], capsys)
    assert main(base_args(folders[0], out, 1)) == 0
    assert "--resume" in cli_error(main, base_args(folders[0], out, 2), capsys)  # would overwrite a run
    err = cli_error(main, ["--out", str(out), "--resume", "--groups", "8"], capsys)
    assert "groups" in err and "run has 4" in err
    assert "--patch" in cli_error(main, base_args(folders[0], tmp_path / "big", 1)[:-8] + ["--patch", "500"], capsys)
    assert "--data" in cli_error(main, ["--out", str(tmp_path / "x")], capsys)


def test_resume_may_change_the_step_decay(folders: tuple[Path, Path], tmp_path: Path) -> None:
    out = tmp_path / "run"
    assert main(base_args(folders[0], out, 4) + ["--decay-every", "100"]) == 0
    assert main(["--out", str(out), "--resume", "--steps", "6", "--decay-every", "2", "--gamma", "0.5"]) == 0
    state = torch.load(out / "last.pt", weights_only=True)
    assert state["objective"]["optimizer"]["param_groups"][0]["lr"] == pytest.approx(1e-3 * 0.5 ** 3)
    assert state["config"]["schedule_history"] == [[0, 100, 0.5], [4, 2, 0.5]]


def test_weight_average_warms_up_then_averages() -> None:
    model = torch.nn.Linear(1, 1, bias=False)
    ema = WeightEMA(model, decay=0.999)
    with torch.no_grad():
        model.weight.fill_(0.0)
        ema.update()  # the first update copies
        model.weight.fill_(1.0)
        ema.update()  # warm-up: decay min(0.999, 2/11), so 9/11 of the way to the new weights
    assert ema.module.weight.item() == pytest.approx(9 / 11)
    for _ in range(5000):
        ema.update()
    assert ema.module.weight.item() == pytest.approx(1.0, abs=1e-2)


def test_best_pt_ships_the_average_and_ema_can_start_on_resume(folders: tuple[Path, Path], tmp_path: Path,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    train, val = folders
    out = tmp_path / "run"
    args = base_args(train, out, 6) + ["--ema", "0", "--val", str(val), "--val-scale", "2", "--val-every", "3"]
    del args[args.index("--val"):args.index("--val") + 2]  # the "none" of base_args
    assert main(args) == 0
    state = torch.load(out / "last.pt", weights_only=True)
    assert "ema" not in state and state["config"]["ema"] == 0
    assert main(["--out", str(out), "--resume", "--steps", "12", "--ema", "0.9"]) == 0
    state = torch.load(out / "last.pt", weights_only=True)
    assert state["config"]["ema_from"] == 6 and int(state["ema"]["n_averaged"]) == 6
    averaged = {k.removeprefix("module."): v for k, v in state["ema"].items() if k.startswith("module.")}
    shipped = load_weights(out / "best.pt", groups=4, scale=2)
    if shipped.meta["step"] == 12:  # best.pt holds the weight average, not the raw weights
        assert_same(shipped.model.state_dict(), averaged)
    assert any(not torch.equal(averaged[k], v) for k, v in state["model"].items())
    assert "--ema" in cli_error(main, ["--out", str(out), "--resume", "--ema", "1.5"], capsys)
