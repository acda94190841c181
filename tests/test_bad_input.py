"""Bad input to every CLI as a user meets it: a real process, exit 2, one `error:` line, nothing written.

Each case runs ``python -m pcarn_mobile.<cli>`` from the repository root, as the README shows,
in a folder of its own that is also its ``TMPDIR``: after the refusal that folder must hold
exactly what it held before (no output, no temporary file, no log). ``convert`` is covered
for its checkpoint cases only. The cases run two at a time (each process spends most of its
~2 s importing torch). Then Ctrl-C and SIGTERM, sent to a running ``upscale`` and ``train``:
exit 130 / 143, no traceback, and nothing half-written left behind.
"""
from __future__ import annotations

import os
import shlex
import shutil
import signal
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import pytest
import torch

from clitools import default_signals
from pcarn_mobile.imageio import write_image
from pcarn_mobile.photos import sample_photos
from pcarn_mobile.weights import TRAIN_STATE_FORMAT

REPO = Path(__file__).resolve().parents[1]
#: One torch thread per process: two run at once on this project's two-core machine.
ENV = {**os.environ, "OMP_NUM_THREADS": "1"}
Snapshot = dict[str, tuple[int, int]]


@dataclass(frozen=True)
class Case:
    """``args`` is formatted with ``i`` (the shared inputs folder) and ``c`` (this case's own folder)."""

    id: str
    cli: str
    args: str
    expect: str
    setup: Callable[[Path, Path], None] | None = None


def _photo_in_case(link: str | None = None) -> Callable[[Path, Path], None]:
    """Puts photo.png in the case's folder, and link.png, a ``link`` ("hard" or "symlink") to it."""

    def setup(inputs: Path, case: Path) -> None:
        shutil.copy(inputs / "photo.png", case / "photo.png")
        if link == "hard":
            os.link(case / "photo.png", case / "link.png")
        elif link == "symlink":
            (case / "link.png").symlink_to("photo.png")

    return setup


def _run_with_last_pt(content: bytes) -> Callable[[Path, Path], None]:
    def setup(inputs: Path, case: Path) -> None:
        (case / "run").mkdir()
        (case / "run" / "last.pt").write_bytes(content)

    return setup


EVAL = "--data {i}/eval --scale 2"
UP = "{i}/photo.png {c}/out.png --scale 2"
TRAIN = "--data {i}/train --out {c}/run --steps 2 --batch 2 --patch 12 --val none"
CONVERT = "--out {c}/exports"
TEXT = "is not a PyTorch checkpoint: it is a text file"
STATE = "is a training state (pcarn-mobile-train/1) for train --resume, not weights: use {i}/run/best.pt"

CASES: list[Case] = [
    # checkpoints
    Case("evaluate-weights-text", "evaluate", f"{EVAL} --weights {{i}}/hello.pth", TEXT),
    Case("evaluate-weights-readme", "evaluate", f"{EVAL} --weights {{i}}/README.md", TEXT),
    Case("evaluate-weights-png", "evaluate", f"{EVAL} --weights {{i}}/photo.png", "it is a PNG image"),
    Case("upscale-weights-empty", "upscale", f"{UP} --weights {{i}}/empty.pth", "it is an empty file"),
    Case("upscale-weights-last-pt", "upscale", f"{UP} --weights {{i}}/run/last.pt", STATE),
    Case("upscale-weights-folder", "upscale", f"{UP} --weights {{i}}/run", "is a folder, not a checkpoint"),
    Case("convert-weights-text", "convert", f"{CONVERT} --weights {{i}}/hello.pth", TEXT),
    Case("convert-weights-empty", "convert", f"{CONVERT} --weights {{i}}/empty.pth", "it is an empty file"),
    Case("convert-weights-png", "convert", f"{CONVERT} --weights {{i}}/photo.png", "it is a PNG image"),
    Case("convert-weights-last-pt", "convert", f"{CONVERT} --weights {{i}}/run/last.pt", STATE),
    Case("train-init-text", "train", f"{TRAIN} --init {{i}}/hello.pth", TEXT),
    Case("train-init-last-pt", "train", f"{TRAIN} --init {{i}}/run/last.pt", STATE),
    Case("train-resume-text", "train", "--out {c}/run --resume", "is damaged and cannot be loaded (it is a text file)",
         _run_with_last_pt(b"hello\n")),
    # images
    Case("upscale-in-text", "upscale", "{i}/notes.png {c}/out.png --scale 2", "cannot read {i}/notes.png"),
    Case("upscale-in-missing", "upscale", "{i}/nope.png {c}/out.png --scale 2", "image not found"),
    Case("upscale-in-folder", "upscale", "{i}/eval {c}/out.png --scale 2", "is a folder, not an image"),
    Case("upscale-out-is-in", "upscale", "{c}/photo.png {c}/photo.png --scale 2", "--overwrite-input",
         _photo_in_case()),
    Case("upscale-out-hard-link", "upscale", "{c}/photo.png {c}/link.png --scale 2", "--overwrite-input",
         _photo_in_case("hard")),
    Case("upscale-out-symlink", "upscale", "{c}/photo.png {c}/link.png --scale 2", "--overwrite-input",
         _photo_in_case("symlink")),
    Case("upscale-out-no-folder", "upscale", "{i}/photo.png {c}/no/out.png --scale 2", "does not exist"),
    Case("upscale-out-extension", "upscale", "{i}/photo.png {c}/out.xyz --scale 2", "unknown extension"),
    # folders and sizes
    Case("evaluate-data-missing", "evaluate", "--data {i}/nope --scale 2", "data folder not found"),
    Case("evaluate-data-file", "evaluate", "--data {i}/photo.png --scale 2", "is a file, not a folder"),
    Case("evaluate-data-empty", "evaluate", "--data {i}/empty --scale 2", "no images"),
    Case("evaluate-image-too-small", "evaluate", "--data {i}/tiny --scale 4", "smaller than the scale x4"),
    Case("train-data-empty", "train", "--data {i}/empty --out {c}/run", "no images"),
    Case("train-patch-too-big", "train", "--data {i}/train --out {c}/run --patch 500 --val none",
         "no training image is large enough"),
    # options
    Case("upscale-scale-5", "upscale", "{i}/photo.png {c}/out.png --scale 5 --random-init", "x5"),
    Case("upscale-tile-too-small", "upscale", f"{UP} --tile 10", "must exceed twice --overlap"),
    Case("upscale-unknown-flag", "upscale", f"{UP} --no-such-flag", "(see --help)"),
    Case("info-groups-5", "info", "--groups 5", "--groups"),
    Case("evaluate-tflite-png", "evaluate", f"{EVAL} --tflite {{i}}/photo.png",
         "{i}/photo.png is not a TFLite model (it is a PNG image)"),
    Case("evaluate-onnx-text", "evaluate", f"{EVAL} --onnx {{i}}/hello.pth", "is not an ONNX model (it is a text file)"),
    Case("evaluate-coreml-png", "evaluate", f"{EVAL} --coreml {{i}}/photo.png", "is not a Core ML package"),
]


@pytest.fixture(scope="module")
def inputs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Every bad (and good) file the cases name, shared read-only."""
    root = tmp_path_factory.mktemp("inputs")
    photo = sample_photos()[0][1]
    write_image(root / "photo.png", photo[:24, :24])
    (root / "hello.pth").write_bytes(b"hello world\n")  # 'h' is a pickle opcode: torch.load raised KeyError
    shutil.copy(REPO / "README.md", root / "README.md")
    (root / "empty.pth").write_bytes(b"")
    (root / "notes.png").write_text("not an image\n")
    (root / "run").mkdir()
    torch.save({"format": TRAIN_STATE_FORMAT, "step": 2, "model": {}}, root / "run" / "last.pt")
    for folder in ("eval", "train", "tiny", "empty"):
        (root / folder).mkdir()
    write_image(root / "eval" / "a.png", photo[:24, :24])
    for name, img in sample_photos()[:2]:
        write_image(root / "train" / f"{name}.png", img[:48, :48])
    write_image(root / "tiny" / "dot.png", np.zeros((2, 2, 3), np.uint8))
    return root


def snapshot(folder: Path) -> Snapshot:
    """Every file and link below ``folder``: size and modification time. Left out: the empty cache
    folder torch itself creates in ``TMPDIR`` when an optimizer is built (``torchinductor_<user>``)."""
    return {str(p.relative_to(folder)): (p.lstat().st_size, p.lstat().st_mtime_ns) for p in folder.rglob("*")
            if not p.relative_to(folder).parts[0].startswith("torchinductor_")}


@pytest.fixture(scope="module")
def outcomes(inputs: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[int, str, Snapshot, Snapshot]]:
    """Runs every case once, two at a time: (exit code, stderr, folder before, folder after) by case id."""
    cases_root = tmp_path_factory.mktemp("cases")

    def run(case: Case) -> tuple[int, str, Snapshot, Snapshot]:
        folder = cases_root / case.id
        folder.mkdir()
        if case.setup:
            case.setup(inputs, folder)
        before = snapshot(folder)
        argv = shlex.split(case.args.format(i=inputs, c=folder))
        proc = subprocess.run([sys.executable, "-m", f"pcarn_mobile.{case.cli}", *argv], cwd=REPO,
                              env={**ENV, "TMPDIR": str(folder)}, capture_output=True, text=True, timeout=120)
        return proc.returncode, proc.stderr, before, snapshot(folder)

    with ThreadPoolExecutor(max_workers=2) as pool:
        return dict(zip((c.id for c in CASES), pool.map(run, CASES)))


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_refused_in_one_line_and_nothing_written(case: Case, inputs: Path,
                                                 outcomes: dict[str, tuple[int, str, Snapshot, Snapshot]]) -> None:
    code, err, before, after = outcomes[case.id]
    assert code == 2, err
    assert err.startswith("error: ") and err.count("\n") == 1 and "Traceback" not in err, err
    assert case.expect.format(i=inputs) in err
    assert after == before  # nothing new, nothing changed: no output, no temporary file, no log


# --- interruptions --------------------------------------------------------------------------------------


def _interrupt_when(argv: list[str], ready: str, signum: int) -> tuple[int, str]:
    """Starts ``python -m pcarn_mobile.<cli> ...``, sends ``signum`` once a stderr line contains ``ready``."""
    proc = subprocess.Popen([sys.executable, "-m", *argv], cwd=REPO, env=ENV, preexec_fn=default_signals,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    seen: list[str] = []
    try:
        assert proc.stderr is not None
        for line in proc.stderr:  # text mode: tqdm's carriage returns end lines too
            seen.append(line)
            if ready in line:
                proc.send_signal(signum)
                break
        seen.append(proc.stderr.read())
        return proc.wait(timeout=60), "".join(seen)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


EXIT = {signal.SIGINT: (130, "interrupted"), signal.SIGTERM: (143, "terminated")}


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_upscale_interrupted_leaves_nothing(signum: int, tmp_path: Path) -> None:
    src = tmp_path / "photo.png"
    write_image(src, sample_photos()[1][1][:160, :160])
    code, err = _interrupt_when(["pcarn_mobile.upscale", str(src), str(tmp_path / "out.png"), "--scale", "4",
                                 "--random-init", "--tile", "40", "--overlap", "8"], "tiles:", signum)
    assert (code, err.rstrip().splitlines()[-1]) == EXIT[signum], err
    assert "Traceback" not in err
    assert [p.name for p in tmp_path.iterdir()] == ["photo.png"]  # no output, no temporary file


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_train_interrupted_saves_last_pt_and_exits_non_zero(signum: int, inputs: Path, tmp_path: Path) -> None:
    run = tmp_path / "run"
    code, err = _interrupt_when(["pcarn_mobile.train", "--data", str(inputs / "train"), "--out", str(run),
                                 "--steps", "100000", "--batch", "2", "--patch", "12", "--val", "none"],
                                "estimate:", signum)
    assert code == EXIT[signum][0], err
    assert "Traceback" not in err and "stopped, last.pt saved: step " in err
    assert {p.name for p in run.iterdir()} - {"train.csv"} == {"best.pt", "last.pt"}  # complete files only
    assert [p.name for p in tmp_path.iterdir()] == ["run"]
    assert torch.load(run / "last.pt", weights_only=True)["step"] >= 6
