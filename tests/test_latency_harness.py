"""The host latency harness (``python -m benchmarks.latency``): its result, its schedule, its figures' definitions.

Nothing here checks a speed: on the shared 2-core machine timings are noise. What is checked is
what the figures mean: the statistics, the round-robin order without overlap, the tile count of
fixed-size files (the plan ``upscale_array`` really runs), the GEMM probe, the stages, the schema,
and one ``error:`` line for bad input. The two tiny models are converted in the background while
the tests that need none run.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Iterator

import numpy as np
import pytest

from benchmarks import latency_pool
from benchmarks.latency import main
from benchmarks.presets import PRESETS
from benchmarks.results import schema_errors
from benchmarks.stages import by_stage
from benchmarks.stats import latency_stats
from pcarn_mobile.models.stages import stage_of
from pcarn_mobile.tiling import count_tiles
from clitools import cli_error
from tileplan import run_plan

REPO = Path(__file__).resolve().parents[1]
TILE = (56, 56)  # the fixed-size ONNX file: the smallest tile a 24 px overlap allows, so tiles are cheap
FRAME = "32x72"  # 3 such tiles; small enough that every model runs it in tens of ms
STAGES = ["entry", "b1", "c1", "b2", "c2", "b3", "c3", "upsample.1", "upsample.2", "exit"]


@pytest.fixture(scope="module", autouse=True)
def conversions(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, tuple[subprocess.Popen, Path]]]:
    """Starts both conversions at once (untrained weights, fp32): a dynamic .tflite and a 56x56 .onnx."""
    out = tmp_path_factory.mktemp("latency-models")
    jobs = {"tflite": ["--target", "tflite", "--precision", "fp32", "--dynamic"],
            "onnx": ["--target", "onnx", "--input-size", f"{TILE[0]}x{TILE[1]}"]}
    started = {}
    for kind, flags in jobs.items():
        folder = out / kind
        started[kind] = (subprocess.Popen([sys.executable, "-m", "pcarn_mobile.convert", "--random-init", *flags,
                                           "--out", str(folder)], cwd=REPO, stdout=subprocess.DEVNULL,
                                          stderr=subprocess.PIPE, text=True), folder)
    yield started
    for proc, _ in started.values():
        proc.kill()
        proc.wait()


@pytest.fixture(scope="module")
def models(conversions: dict[str, tuple[subprocess.Popen, Path]]) -> dict[str, Path]:
    files = {}
    for kind, (proc, folder) in conversions.items():
        _, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err
        (files[kind],) = folder.glob(f"*.{kind}")
    return files


def test_statistics_on_known_samples() -> None:
    """The definitions every harness shares: the iOS package's StatisticsTests and the Kotlin app's samples."""
    assert latency_stats([4.0, 1.0, 3.0, 2.0]) == {"min": 1.0, "p50": 2.5, "p90": 3.7, "mean": 2.5, "max": 4.0,
                                                   "std": 1.118}
    assert latency_stats([9.8125]) == dict.fromkeys(("min", "p50", "p90", "mean", "max"), 9.813) | {"std": 0.0}
    samples = [41.5, 40.25, 44.0, 39.75, 52.5, 40.0]
    stats = latency_stats(samples)
    for key, expected in (("p50", np.percentile(samples, 50)), ("p90", np.percentile(samples, 90)),
                          ("mean", np.mean(samples)), ("std", np.std(samples))):
        assert stats[key] == pytest.approx(expected, abs=1e-3)
    assert (stats["min"], stats["max"]) == (39.75, 52.5)
    with pytest.raises(ValueError):
        latency_stats([])


def test_the_schedule_is_round_robin() -> None:
    assert list(latency_pool.round_robin(3, 2)) == [(0, 0), (0, 1), (0, 2), (1, 0), (1, 1), (1, 2)]
    assert list(latency_pool.round_robin(2, 0)) == []


def test_stages_are_the_network_modules_and_glue_goes_to_the_convolution_before_it() -> None:
    assert [stage_of(p) for p in ("entry", "b2.b1.conv1", "b2.c3", "c1", "upsample.up4.body.0", "upsample.up4.body.3",
                                  "upsample.up.body.0", "exit", "sub_mean.shifter", "add_mean.shifter")] == \
        ["entry", "b2", "b2", "c1", "upsample.1", "upsample.2", "upsample.1", "exit", None, None]
    # (stage of a convolution, or None for any other op; ms) in execution order
    segments = [(None, 1.0), ("entry", 2.0), ("b1", 3.0), (None, 0.5), ("b1", 1.0), (None, 0.25), ("exit", 4.0),
                (None, 1.0)]
    assert by_stage(segments, ["entry", "b1", "exit"]) == {"entry": 3.0, "b1": 4.75, "exit": 5.0}


@pytest.mark.parametrize("preset", [*PRESETS, "32x72", "20x30"])
@pytest.mark.parametrize("tile", [(128, 128), (64, 64), (96, 128)])
def test_tile_count_is_the_plan_upscale_array_runs(preset: str, tile: tuple[int, int]) -> None:
    """The count the harness announces and checks each frame against == the tiles upscale_array really cuts
    (frames smaller than a tile are edge-padded to it: one tile along that side)."""
    h, w = PRESETS[preset][0] if preset in PRESETS else map(int, preset.split("x"))
    tiles, _ = run_plan(h, w, scale=2, overlap=24, fixed=tile)
    assert count_tiles(h, w, tile, 24) == len(tiles)


def test_bad_input_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert "--model nowhere.tflite: no such file" in cli_error(main, ["--model", "nowhere.tflite"], capsys)
    photo = tmp_path / "photo.tflite"
    photo.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(64))
    assert f"--model {photo}: not a TFLite model (it is a PNG image)" in cli_error(main, ["--model", str(photo)], capsys)
    assert "--preset '4k': unknown; choose 720p-x4, 1080p-x3, tile128 or HEIGHTxWIDTH" in \
        cli_error(main, ["--model", "torch", "--preset", "4k"], capsys)
    for bad in ("0", "two", "1,,2", "-1"):
        assert f"--threads {bad!r}: expected comma-separated positive integers" in \
            cli_error(main, ["--model", "torch", "--threads", bad], capsys)
    assert "add torch to --model" in cli_error(main, ["--model", "x.onnx", "--random-init"], capsys)


def test_a_file_its_runtime_cannot_load_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Looks like a TFLite file (its identifier is right), has a sidecar, and is garbage after that."""
    broken = tmp_path / "broken.tflite"
    broken.write_bytes(b"\x1c\x00\x00\x00TFL3" + bytes(range(256)) * 4)
    sidecar = {"schema_version": 1, "format": "tflite", "precision": "fp32", "variant": "fp32", "scale": 4,
               "groups": 4, "input": {"name": "lr", "shape": [1, -1, -1, 3], "layout": "NHWC"},
               "tiling": {"tile": None, "overlap": 24}}
    broken.with_name("broken.tflite.json").write_text(json.dumps(sidecar))
    err = cli_error(main, ["--model", str(broken), "--preset", "16x16", "--runs", "1"], capsys)
    assert f"--model {broken}: litert cannot load it (" in err


def test_a_run_interleaved_with_stages_writes_a_valid_result(models: dict[str, Path], tmp_path: Path) -> None:
    out, trace = tmp_path / "host.json", tmp_path / "trace.jsonl"
    argv = ["--model", "torch", str(models["tflite"]), str(models["onnx"]), "--random-init", "--preset", FRAME,
            "--threads", "1", "--runs", "3", "--warmup", "1", "--stages", "--json", str(out)]
    done = subprocess.run([sys.executable, "-m", "benchmarks.latency", *argv], cwd=REPO, capture_output=True, text=True,
                          timeout=300, env={**os.environ, latency_pool.TRACE_ENV: str(trace)})
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.startswith("machine: ") and ", load " in done.stdout.splitlines()[0]
    assert "ai-edge-litert 2.1.0" in done.stdout and "onnxruntime" in done.stdout and "torch" in done.stdout
    doc = json.loads(out.read_text())
    assert schema_errors(doc) == []
    assert doc["harness"] == "host" and doc["device"]["cores"] >= 1
    assert doc["gemm_gflops"] > 0  # the GEMM worker's rate
    torch_result, tflite, onnx = doc["results"]

    h, w = map(int, FRAME.split("x"))
    planned, _ = run_plan(h, w, scale=4, overlap=24, fixed=TILE)
    assert onnx["tiles_per_frame"] == len(planned) == 3 and onnx["input"] == list(TILE)
    assert onnx["runs"] == 3 * len(planned) and onnx["frame_ms"]["p50"] >= onnx["latency_ms"]["p50"]
    for dynamic in (torch_result, tflite):
        assert dynamic["tiles_per_frame"] == 1 and dynamic["input"] == [h, w] and "frame_ms" not in dynamic
    assert (torch_result["runtime"], tflite["runtime"], onnx["runtime"]) == ("pytorch", "litert", "onnxruntime")
    assert torch_result["model"] == "random-init" and tflite["model"] == models["tflite"].name
    assert tflite["delegation"] == {"status": "full", "delegate_kernels": 1}
    for r in doc["results"]:
        lat = r["latency_ms"]
        assert 0 < lat["min"] <= lat["p50"] <= lat["p90"] <= lat["max"]
        assert r["init_ms"] > 0 and r["first_inference_ms"] > 0 and r["peak_memory_mb"] > 0
        assert r["gemm_gflops"] > 0 and r["gemm_fraction"] == pytest.approx(2 * r["gmacs_per_s"] / r["gemm_gflops"],
                                                                             rel=1e-2)
        assert r["mult_adds"] > 0 and [s["name"] for s in r["stages"]] == STAGES
        assert sum(s["share"] for s in r["stages"]) == pytest.approx(1.0, abs=1e-3)
    assert torch_result["peak_memory_mb"] > tflite["peak_memory_mb"]  # the file workers do not carry PyTorch

    runs = [json.loads(line) for line in trace.read_text().splitlines()]
    assert [(r["round"], r["worker"]) for r in runs] == list(latency_pool.round_robin(3, 3))
    assert all(a["end_ns"] <= b["start_ns"] for a, b in zip(runs, runs[1:]))  # never two at once
