"""The convert CLI: bad input (one line, exit 2, nothing written), a whole run, parity with upstream weights, verdicts."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from clitools import default_signals
from pcarn_mobile import convert
from pcarn_mobile.errors import UserError
from pcarn_mobile.imageio import write_image
from pcarn_mobile.models import build_model
from pcarn_mobile.photos import sample_photos
from pcarn_mobile.weights import Header, save_checkpoint

ROOT = Path(__file__).resolve().parent.parent


def _fails(argv: list[str], match: str, capsys) -> None:
    """main() refuses with a UserError; run_cli turns that into one stderr line and exit 2."""
    capsys.readouterr()
    with pytest.raises(SystemExit) as exit_info:
        convert.run_cli(convert.main, argv)
    assert exit_info.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: ") and match in err[0], err


@pytest.fixture()
def x4_only_checkpoint(tmp_path) -> Path:
    torch.manual_seed(0)
    path = tmp_path / "x4only.pt"
    save_checkpoint(path, build_model("pcarn_m", 4, (4,)), Header("pcarn_m", 4, (4,)))
    return path


@pytest.mark.parametrize("extra,match", [
    (["--precision", "fp32,bf16"], "unknown precision bf16"),
    (["--precision", ""], "empty choice"),
    (["--precision", "fp32,"], "empty choice"),
    (["--groups", "5"], "invalid choice: 5"),
    (["--input-size", "0x64"], "positive HEIGHTxWIDTH"),
    (["--input-size", "big"], "positive HEIGHTxWIDTH"),
    (["--input-size", "64x-3"], "positive HEIGHTxWIDTH"),
    (["--input-size", "5x5"], "at least 49 px"),
    (["--input-size", "48x200"], "at least 49 px"),
    (["--input-size", "4000x4000"], "GiB of memory"),
    (["--calib-count", "0"], "at least 1"),
    (["--target", "tensorrt"], "invalid choice"),
    (["--compress", "int8"], "--compress applies to --target coreml, not tflite"),
    (["--sizes", "64x64"], "--sizes applies to --target coreml, not tflite"),
    (["--min-ios", "17"], "--min-ios applies to --target coreml"),
    (["--tensor-io"], "--tensor-io/--image-io applies to --target coreml"),
    (["--dynamic", "16..64"], "--dynamic LO..HI applies to --target coreml"),
    (["--target", "coreml", "--io", "uint8"], "--io applies to --target tflite, not coreml"),
    (["--target", "coreml", "--expand-groups"], "--expand-groups applies to --target tflite or onnx"),
    (["--target", "onnx", "--calib", "."], "--calib applies to --target tflite, not onnx"),
    (["--precision", "fp32,fp16", "--io", "uint8"], "--io shapes the int8 file, but --precision fp32,fp16 writes none"),
    (["--target", "all", "--precision", "int8"], "leaves nothing for onnx, coreml"),
])
def test_bad_options_are_one_line_and_leave_nothing(extra, match, tmp_path, capsys):
    out = tmp_path / "out"
    _fails(["--random-init", "--out", str(out), *extra], match, capsys)
    assert not out.exists()


def test_scale_the_weights_lack(x4_only_checkpoint, tmp_path, capsys):
    _fails(["--weights", str(x4_only_checkpoint), "--scale", "2", "--out", str(tmp_path / "o")], "x2 was asked", capsys)


def test_groups_are_checked_against_the_weights(x4_only_checkpoint, tmp_path, capsys):
    _fails(["--weights", str(x4_only_checkpoint), "--groups", "8", "--out", str(tmp_path / "o")], "groups=8 was asked", capsys)


def _folder(tmp_path: Path, name: str, images: list[np.ndarray]) -> Path:
    folder = tmp_path / name
    folder.mkdir()
    for i, img in enumerate(images):
        write_image(folder / f"{i}.png", img)
    return folder


def test_calibration_sets_that_cannot_calibrate_are_refused_up_front(tmp_path, capsys):
    """Missing, empty, unreadable, too small (1x1 PNGs) or flat (one grey image): refused before converting."""
    out = tmp_path / "o"
    empty = _folder(tmp_path, "empty", [])
    junk = _folder(tmp_path, "junk", [])
    (junk / "a.png").write_bytes(b"not a png")
    tiny = _folder(tmp_path, "tiny", [np.full((1, 1, 3), v, np.uint8) for v in (10, 200, 90)])
    grey = _folder(tmp_path, "grey", [np.full((300, 400, 3), 128, np.uint8)])
    for folder, match in ((empty, "no readable image"), (junk, "no readable image"), (tmp_path / "nope", "not found"),
                          (tiny, "no usable photo among 3 (3 smaller than the crop)"),
                          (grey, "no usable photo among 1 (1 flat)")):
        _fails(["--random-init", "--precision", "int8", "--calib", str(folder), "--out", str(out)], match, capsys)
    _fails(["--random-init", "--calib", str(tiny), "--out", str(out)], "at least 48x48 px", capsys)
    assert not out.exists()


def test_output_folder_not_writable(tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("a file where a folder should go")
    _fails(["--random-init", "--out", str(blocker / "sub")], "not writable", capsys)


def test_no_default_weights_message_until_they_ship(tmp_path, capsys, monkeypatch):
    from pcarn_mobile import weights

    monkeypatch.setattr(weights, "DEFAULT_WEIGHTS", tmp_path / "absent.pt")
    _fails(["--out", str(tmp_path / "o")], "pass --weights FILE", capsys)


def test_failure_mid_conversion_leaves_no_partial_files(tmp_path, monkeypatch, capsys):
    """An adapter that fails after writing half a file: the staging folder goes, nothing else is left."""
    from pcarn_mobile.export import tflite_target

    def broken(job):
        (job.workdir / job.name("dyn", "fp32")).write_bytes(b"half")
        raise UserError("simulated failure")

    monkeypatch.setattr(tflite_target, "export", broken)
    out = tmp_path / "out"
    _fails(["--random-init", "--dynamic", "--out", str(out)], "simulated failure", capsys)
    assert not out.exists()


@pytest.fixture(scope="module")
def small_run(tmp_path_factory) -> tuple[Path, str, str]:
    """One whole CLI run (random weights, a small tile): every file, its sidecar and the report."""
    out = tmp_path_factory.mktemp("exports")
    (out / ".convert-999999999-stale").mkdir()  # what a run killed with SIGKILL leaves behind
    (out / "pcarn_m_g4_x4_56x64_fp16.tflite").write_bytes(b"an older file this run replaces")
    (out / "pcarn_m_g4_x2_dyn_fp32.onnx").write_bytes(b"an older file this run leaves alone")
    cmd = [sys.executable, "-m", "pcarn_mobile.convert", "--random-init", "--input-size", "56x64",
           "--calib-count", "6", "--io", "uint8", "--out", str(out)]
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    return out, done.stdout, done.stderr


def test_run_writes_named_files_sidecars_and_report(small_run):
    out, stdout, stderr = small_run
    stems = ["pcarn_m_g4_x4_56x64_fp32.tflite", "pcarn_m_g4_x4_56x64_fp16.tflite", "pcarn_m_g4_x4_56x64_int8_uint8io.tflite"]
    assert sorted(p.name for p in out.iterdir()) == sorted(
        ["report.json", "report.html", "convert.log", "pcarn_m_g4_x2_dyn_fp32.onnx", *stems, *(s + ".json" for s in stems)])
    assert "UNTRAINED" in stdout and "wall time" in stdout and "removed .convert-999999999-stale" in stdout
    assert "weights: random-init; pcarn_m g4 x4 -> tflite fp32/fp16/int8" in stdout
    assert "replaced pcarn_m_g4_x4_56x64_fp16.tflite; left alone pcarn_m_g4_x2_dyn_fp32.onnx" in stdout
    # TensorFlow's and XNNPACK's native start-up lines go to the log, not to the user's terminal.
    assert "XNNPACK" in (out / "convert.log").read_text() and "XNNPACK" not in stderr
    report = json.loads((out / "report.json").read_text())
    assert report["wall_time_s"] > 0 and " cores" in report["machine"] and report["verdict"] == "OK"
    assert report["replaced"] == [stems[1]] and report["kept"] == ["pcarn_m_g4_x2_dyn_fp32.onnx"]
    assert [a["file"] for a in report["files"]] == stems
    for stem in stems:
        meta = json.loads((out / f"{stem}.json").read_text())
        assert meta == next(a for a in report["files"] if a["file"] == stem)
        assert meta["scale"] == 4 and meta["groups"] == 4 and meta["weights"]["kind"] == "random-init"
        assert {"torch", "onnx2tf", "tensorflow", "ai-edge-litert"} <= set(meta["tools"])
        inp, outp = meta["input"], meta["output"]
        assert (inp["name"], outp["name"]) == ("lr", "sr")
        assert inp["shape"] == [1, 56, 64, 3] and outp["shape"] == [1, 224, 256, 3]
        assert inp["layout"] == outp["layout"] == "NHWC" and inp["range"] == [0.0, 1.0]
        assert meta["tiling"] == {"tile": [56, 64], "overlap": 24, "min_overlap": 21, "pad": "edge", "max_tile_area": None}
        assert meta["graph"]["delegate_ready"] is True and meta["graph"]["max_rank"] <= 4
        assert meta["parity"]["verdict"] == "OK" and meta["parity"]["intermediate_onnx"]["psnr_db"] >= 60
        if meta["precision"] == "int8":
            assert inp["dtype"] == outp["dtype"] == "uint8"
            assert inp["quantization"] == {"scale": pytest.approx(1 / 255), "zero_point": 0}
            assert meta["calibration"]["crops"] == 6 and meta["calibration"]["source"] == "scikit-image sample photos"
        else:
            assert inp["dtype"] == "float32" and inp["quantization"] is None


def test_onnx_target_and_expand_groups_cost(tmp_path):
    import onnx

    cmd = [sys.executable, "-m", "pcarn_mobile.convert", "--target", "onnx", "--random-init", "--dynamic",
           "--expand-groups", "--out", str(tmp_path)]
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "--expand-groups:" in done.stdout and "Mult-Adds" in done.stdout
    name = "pcarn_m_g4_x4_dyn_dense_fp32.onnx"
    meta = json.loads((tmp_path / f"{name}.json").read_text())
    assert meta["input"]["shape"] == [1, 3, -1, -1] and meta["graph"]["opset"] >= 17 and meta["tiling"]["tile"] is None
    assert meta["parity"]["photos"]["psnr_db"] >= 60
    graph = onnx.load(str(tmp_path / name)).graph
    assert [v.name for v in graph.input] == ["lr"] and [v.name for v in graph.output] == ["sr"]
    cost = json.loads((tmp_path / "report.json").read_text())["expand_groups_cost"]
    assert cost["dense_mult_adds"] > 2 * cost["grouped_mult_adds"]


def test_mismatch_is_kept_only_under_a_name_that_says_so(tmp_path, monkeypatch, capsys):
    """A file that fails parity exits 1, and no file sits under the name a good one would have."""
    from pcarn_mobile.export import formats

    monkeypatch.setitem(formats.PHOTO_FLOOR_DB, "fp32", 500.0)  # no fp32 file can reach it
    out = tmp_path / "out"
    code = convert.main(["--target", "onnx", "--random-init", "--dynamic", "--out", str(out)])
    printed = capsys.readouterr().out
    assert code == 1 and "PARITY MISMATCH: pcarn_m_g4_x4_dyn_fp32.MISMATCH.onnx" in printed
    assert "below the fp32 floor of 500 dB" in printed
    assert sorted(p.name for p in out.iterdir()) == ["convert.log", "pcarn_m_g4_x4_dyn_fp32.MISMATCH.onnx",
                                                     "pcarn_m_g4_x4_dyn_fp32.MISMATCH.onnx.json", "report.html",
                                                     "report.json"]
    assert "<h1>pcarn-mobile export report: <span class=\"bad\">MISMATCH</span></h1>" in (out / "report.html").read_text()
    report = json.loads((out / "report.json").read_text())
    assert report["verdict"] == "MISMATCH" and report["files"][0]["parity"]["verdict"] == "MISMATCH"


@pytest.mark.parametrize("precision,floor", [("fp32", 60.0), ("fp16", 45.0)])
def test_parity_with_upstream_weights(upstream_int8_run, precision, floor):
    meta = upstream_int8_run["files"][precision]
    assert meta["parity"]["photos"]["psnr_db"] >= floor and meta["parity"]["verdict"] == "OK"


def test_int8_set5_quality_with_upstream_weights(upstream_int8_run):
    """Acceptance: int8 Set5 x4 Y-PSNR >= 31.84 (fp32 31.90) with the authors' PCARN-M-L1; drops within the limits."""
    quality = upstream_int8_run["files"]["int8"]["parity"]["quality"]
    print(f"\nint8 Set5 x4 Y-PSNR {quality['psnr_y']:.3f} (PyTorch {quality['torch_psnr_y']:.3f})")
    assert quality["psnr_y"] >= 31.84 and quality["drop_db"] <= 0.25
    assert quality["how"] == "whole images" and quality["tiled"]["tile"] == [96, 96]
    assert upstream_int8_run["files"]["fp32"]["parity"]["quality"]["psnr_y"] == pytest.approx(31.90, abs=0.02)
    assert upstream_int8_run["weights"]["file"] == "PCARN-M-L1.pth" and upstream_int8_run["weights"]["kind"] == "upstream"


def test_upstream_files_are_delegate_ready(upstream_int8_run):
    """Trained weights change calibrated ranges, hence where the quantizer puts requantize ops."""
    for meta in upstream_int8_run["files"].values():
        graph = meta["graph"]
        print(f"\n{meta['file']}: ops {graph['ops']}, max tensor rank {graph['max_rank']}, "
              f"internal requantize {graph['internal_requantize']}")
        assert graph["delegate_ready"] and graph["problems"] == [] and graph["max_rank"] <= 4
        assert graph["internal_requantize"] == 0


@pytest.fixture(scope="module")
def upstream_int8_run(upstream_l1, shared, tmp_path_factory) -> dict:
    out = tmp_path_factory.mktemp("upstream")
    assert convert.main(["--weights", str(upstream_l1), "--parity-data", str(shared / "data" / "Set5" / "x4"),
                         "--input-size", "96x96", "--out", str(out)]) == 0
    report = json.loads((out / "report.json").read_text())
    return {**report, "files": {a["precision"]: a for a in report["files"]}}


def test_parity_figures_can_fail():
    """parity_on_photos reports a real difference, not a constant."""
    from pcarn_mobile.export.parity import parity_crops, parity_on_photos
    from pcarn_mobile.tiling import TorchRunner

    torch.manual_seed(0)
    model = build_model("pcarn_m", 4)
    crops = parity_crops((16, 16), count=2)
    reference = TorchRunner(model, 4)
    same = parity_on_photos(TorchRunner(model, 4), reference, crops)
    off = parity_on_photos(lambda x: np.clip(reference(x) + 0.01, 0, 1), reference, crops)  # type: ignore[arg-type]
    assert same["psnr_db"] == "inf" and same["max_abs"] == 0
    assert off["psnr_db"] < 41 and off["max_abs"] == pytest.approx(0.01, abs=1e-6)


def test_calibration_skips_what_it_cannot_use(tmp_path):
    """A folder with some usable photos keeps them and says what it skipped and why."""
    from pcarn_mobile.export.calibration import load_calibration

    photo = sample_photos()[0][1]
    folder = _folder(tmp_path, "mixed", [photo[:100, :120], np.zeros((10, 10, 3), np.uint8), np.full((64, 64, 3), 7, np.uint8)])
    (folder / "broken.png").write_bytes(b"\x89PNG nope")
    found = load_calibration(folder)
    assert [name for name, _ in found.images] == ["0.png"] and found.source == "mixed"
    assert found.skipped == {"unreadable": 1, "smaller than the crop": 1, "flat": 1}
    assert found.describe(24, "m")["skipped"] == found.skipped


@pytest.mark.parametrize("signame,code,word", [("SIGTERM", 143, "terminated"), ("SIGINT", 130, "interrupted")])
def test_interrupted_run_leaves_nothing(tmp_path, signame, code, word):
    """Ctrl-C or SIGTERM mid-conversion: the staging folder goes, no file is left, one line on stderr."""
    import signal
    import time

    out = tmp_path / "out"
    out.mkdir()
    (out / "mine.txt").write_text("the user's own file")
    cmd = [sys.executable, "-m", "pcarn_mobile.convert", "--random-init", "--dynamic", "--out", str(out)]
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=default_signals)
    deadline = time.monotonic() + 120
    while not list(out.glob(".convert-*/tflite-scratch/dynamic.onnx")) and time.monotonic() < deadline \
            and proc.poll() is None:
        time.sleep(0.05)
    time.sleep(1.5)  # while TensorFlow and onnx2tf work (test_tflite interrupts onnx2tf itself)
    proc.send_signal(getattr(signal, signame))
    printed, err = proc.communicate(timeout=120)
    assert proc.returncode == code, err[-2000:]
    assert err.strip() == word and "Traceback" not in err
    assert "Traceback" not in printed and "ERROR" not in printed, printed[-2000:]
    assert [p.name for p in out.iterdir()] == ["mine.txt"]


def test_gan_weights_hold_the_same_floors(shared, tmp_path):
    """The authors' PCARN-M.pth (their GAN model) has the lowest int8 margin of any weights: same floors, OK."""
    out = tmp_path / "gan"
    assert convert.main(["--weights", str(shared / "checkpoints" / "PCARN-M.pth"), "--precision", "int8",
                         "--input-size", "64x64", "--out", str(out)]) == 0
    (meta,) = json.loads((out / "report.json").read_text())["files"]
    assert meta["parity"]["limits"]["photo_floor_db"] == 35.0 and meta["parity"]["verdict"] == "OK"
    print(f"\nPCARN-M.pth int8: {meta['parity']['photos']['psnr_db']} dB against PyTorch (floor 35)")


def test_android_demo_install_replaces_older_models(tmp_path, monkeypatch, capsys):
    """--android-demo copies the files that pass parity (with sidecars) into the app's assets, replacing older ones:
    a static file of every shipped shape (GPU, NPU sessions) and the resizable one (CPU) with its max_tile_area."""
    from pcarn_mobile.export import install
    from pcarn_mobile.tile_shape import max_tile_area

    app = tmp_path / "checkout"
    models = app / "android_demo" / "app" / "src" / "main" / "assets" / "models"
    models.mkdir(parents=True)
    (models / "old_fp16.tflite").write_bytes(b"stale")
    (models / "old_fp16.tflite.json").write_text("{}")
    monkeypatch.setattr(install, "REPO_ROOT", app)
    monkeypatch.setitem(install.DEMO_APPS, "android_demo", (models, ".tflite", "tflite"))
    monkeypatch.setattr("pcarn_mobile.export.run.REPO_ROOT", app)
    monkeypatch.setattr("pcarn_mobile.export.options.SHIPPED_SHAPES", ((56, 56), (64, 72)))  # small: a fast test
    out = tmp_path / "out"
    assert convert.main(["--random-init", "--precision", "fp32", "--android-demo", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    names = [f"pcarn_m_g4_x4_{shape}_fp32.tflite" for shape in ("56x56", "64x72", "dyn")]
    assert (f"installed into android_demo/app/src/main/assets/models: {', '.join(names)} "
            "(removed older: old_fp16.tflite)") in printed
    assert sorted(p.name for p in models.iterdir()) == sorted(names + [f"{n}.json" for n in names])
    assert all((models / n).read_bytes() == (out / n).read_bytes() for n in names)
    assert json.loads((out / "report.json").read_text())["installed"] == {"android_demo": names}
    sidecars = [json.loads((models / f"{n}.json").read_text()) for n in names]
    assert [(m["tiling"]["tile"], m["tiling"]["max_tile_area"]) for m in sidecars] == [
        ([56, 56], None), ([64, 72], None), (None, max_tile_area(4, "fp32"))]
    assert [m["input"]["shape"] for m in sidecars] == [[1, 56, 56, 3], [1, 64, 72, 3], [1, -1, -1, 3]]
    assert all(m["parity"]["photos"]["size"] == (m["tiling"]["tile"] or [96, 128]) for m in sidecars)


def test_demo_install_needs_a_checkout_app(tmp_path, monkeypatch, capsys):
    from pcarn_mobile.export import install

    monkeypatch.setattr(install, "REPO_ROOT", tmp_path)
    _fails(["--random-init", "--target", "coreml", "--ios-demo", "--out", str(tmp_path / "o")],
           "--ios-demo installs into the ios_demo/ app of a pcarn-mobile checkout", capsys)
    _fails(["--random-init", "--target", "coreml", "--tensor-io", "--ios-demo", "--out", str(tmp_path / "o")],
           "--ios-demo installs image-I/O packages", capsys)
    _fails(["--random-init", "--ios-demo", "--out", str(tmp_path / "o")], "--ios-demo applies to --target coreml", capsys)
