"""The trade-off study: its section and plots from measured numbers, its caching, and its refusals."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import torch

from benchmarks import tradeoff
from benchmarks.tradeoff_report import PLOTS, group_table, runtime_rows, section, tile_table
from clitools import cli_error


def _result(model: str, fmt: str, precision: str, p50: float, groups: int = 4, tile: int = 128,
            tiles: int = 8) -> dict[str, Any]:
    frame = {"min": p50 * 0.9, "p50": p50, "p90": p50 * 1.1}
    per_tile = {k: v / tiles for k, v in frame.items()}
    return {"model": model, "format": fmt, "precision": precision, "runtime": "litert" if fmt == "tflite" else fmt,
            "groups": groups, "input": [tile, tile], "tiles_per_frame": tiles, "latency_ms": per_tile,
            "frame_ms": frame, "gmacs_per_s": 30.0, "gemm_fraction": 0.25}


def _doc(results: list[dict[str, Any]]) -> dict[str, Any]:
    return {"device": {"description": "test box", "load": 0.1}, "tools": {"ai-edge-litert": "2.1.0"},
            "created_utc": "2026-11-29T10:00:00Z", "gemm_gflops": 240.0, "results": results}


@pytest.fixture
def study() -> dict[str, Any]:
    groups = [1, 4, 64]
    runtimes = _doc([_result("d_fp32.tflite", "tflite", "fp32", 900.0), _result("d_int8.tflite", "tflite", "int8", 450.0),
                     _result("d.onnx", "onnx", "fp32", 1000.0)])
    grouped = _doc([_result(f"g{g}_{p}.tflite", "tflite", p, 1000.0 / g ** 0.5 * (0.5 if p == "int8" else 1), g)
                    for g in groups for p in ("fp32", "int8")])
    tiled = _doc([_result(f"t{t}_{p}.tflite", "tflite", p, 2000.0 * 64 / t, tile=t, tiles=4 * 256 // t)
                  for t in (64, 128) for p in ("fp32", "int8")])
    quality = {str(g): {"Set5": 31.0 - 0.1 * i, "Set14": 28.0 - 0.1 * i} for i, g in enumerate(groups)}
    quality["default"] = {"Set5": 31.06, "Set14": 27.9, "Set5_bicubic": 28.42, "Set14_bicubic": 26.0}
    return {"derive": {**tradeoff.DERIVE, "data": ["T91"], "finetuned": [64]}, "groups": groups, "tiles": [64, 128], "quality": quality,
            "sizes": {str(g): {f"g{g}_fp32.tflite": 1_700_000 // g, f"g{g}_int8.tflite": 500_000 // g} for g in groups},
            "latency": {"runtimes": runtimes, "groups": grouped, "tiles": tiled}, "threads": 2, "preset": "720p-x4",
            "complexity": tradeoff.complexity(groups)}


def test_tables_pair_each_measurement_with_its_group_count_and_tile(study):
    rows = group_table(study)
    assert [r["groups"] for r in rows] == [1, 4, 64]
    assert rows[2]["fp32_ms"] == pytest.approx(125.0) and rows[2]["int8_ms"] == pytest.approx(62.5)
    assert rows[1]["set5"] == 30.9 and rows[0]["fp32_kb"] == pytest.approx(1_700_000 / 1024)
    assert rows[0]["mult_adds"] > rows[1]["mult_adds"] > rows[2]["mult_adds"]  # more groups, fewer Mult-Adds
    assert rows[1]["params"] == 414_811 and rows[1]["mult_adds"] == pytest.approx(32.49e9, rel=1e-3)
    tiles = tile_table(study)
    assert [(r["tile"], r["tiles"]) for r in tiles] == [(64, 16), (128, 8)]
    assert tiles[1]["computed"] == pytest.approx(8 * 128 * 128 / (180 * 320))  # the work tiling adds
    assert tiles[0]["fp32"] == pytest.approx(2000.0 / (1280 * 720 / 1e6))  # ms per output megapixel of the frame


def test_runtime_ratios_are_the_acceptance_figures(study):
    rows, ratios = runtime_rows(study["latency"]["runtimes"])
    assert len(rows) == 3
    assert ratios == pytest.approx({"tflite fp32 / onnxruntime": 0.9, "tflite int8 / fp32": 0.5,
                                    "tflite fp32 share of GEMM": 0.25})


def test_section_writes_the_plots_and_every_table(study, tmp_path: Path):
    text = section(study, tmp_path)
    for name in PLOTS.values():
        assert (tmp_path / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and f"]({name})" in text
    assert "| 64 | " in text and "| 128x128 | 8 | 2.28x |" in text and "| bicubic |" in text
    assert f"Fine-tuned {tradeoff.DERIVE['steps']} steps each" in text and "test box" in text
    assert "groups 64; more groups than 4 start from the cut" in text and "Groups 1, 4: the default weights' exact function" in text
    assert "groups 2026-11-29T10:00:00Z, load 0.1, GEMM 240.0 GFLOP/s" in text  # each run says when, at what load and GEMM rate


def test_derived_means_the_whole_budget_ran(tmp_path: Path):
    run = tmp_path / "g8"
    run.mkdir()
    (run / "best.pt").write_bytes(b"x")
    (run / "train.csv").write_text("step,wall_s,lr,loss\n50,1,2e-4,0.1\n")
    assert not tradeoff.derived(run)
    (run / "train.csv").write_text(f"step,wall_s,lr,loss\n50,1,2e-4,0.1\n{tradeoff.DERIVE['steps']},9,2e-5,0.05\n")
    assert tradeoff.derived(run)
    cmd = tradeoff.derive_command(8, run, tmp_path)
    assert cmd[cmd.index("--groups") + 1] == "8" and cmd[cmd.index("--steps") + 1] == str(tradeoff.DERIVE["steps"])
    assert cmd[cmd.index("--init") + 1] == str(tradeoff.DEFAULT_WEIGHTS) and "--val" in cmd


def test_the_default_and_fewer_groups_are_the_exact_function(tmp_path: Path):
    from pcarn_mobile.weights import load_weights

    weights = tradeoff.derive([1, 4], tmp_path, tmp_path)  # no training run: nothing under tmp_path/g1
    assert not (tmp_path / "g1").exists()
    one, four = load_weights(weights[1]).model.eval(), load_weights(weights[4]).model.eval()
    assert load_weights(weights[1]).header.groups == 1
    x = torch.rand(1, 3, 12, 12)
    with torch.no_grad():
        torch.testing.assert_close(one(x, 4), four(x, 4), rtol=0, atol=1e-5)


def test_bad_options_are_one_line(capsys, monkeypatch, tmp_path: Path):
    assert "--groups: 3 is not allowed" in cli_error(tradeoff.main, ["--groups", "1,3"], capsys)
    assert "expected comma-separated integers" in cli_error(tradeoff.main, ["--tiles", "64,big"], capsys)
    monkeypatch.setattr(tradeoff, "shared_dir", lambda: None)
    assert "needs ../shared" in cli_error(tradeoff.main, [], capsys)
    monkeypatch.setattr(tradeoff, "shared_dir", lambda: tmp_path)
    assert "does not exist" in cli_error(tradeoff.main, ["--out", str(tmp_path / "no" / "R.md")], capsys)


def test_sensitivity_refuses_bad_input_before_any_work(capsys, tmp_path: Path):
    from benchmarks import int8_sensitivity

    assert "--weights nope.pth: no such file" in cli_error(int8_sensitivity.main, ["--weights", "nope.pth"], capsys)
    assert "data folder not found" in cli_error(int8_sensitivity.main, ["--data", str(tmp_path / "absent")], capsys)


def test_files_of_other_weights_are_converted_again(tmp_path: Path, monkeypatch):
    """A cached file whose sidecar names other weights (a group count fine-tuned since) is not reused."""
    import json

    weights, out = tmp_path / "w.pt", tmp_path / "files"
    weights.write_bytes(b"new weights")
    out.mkdir()
    for p in ("fp32", "int8"):
        (out / f"m_{p}.tflite").write_bytes(b"tflite")
        (out / f"m_{p}.tflite.json").write_text(json.dumps({"weights": {"sha256": tradeoff.sha256_of(weights)}}))
    calls = []
    monkeypatch.setattr(tradeoff, "_run", lambda cmd, what: calls.append(cmd))
    assert len(tradeoff.convert(weights, out, "tflite", "fp32,int8", 128)) == 2 and not calls  # cached: same weights
    weights.write_bytes(b"fine-tuned weights")
    tradeoff.convert(weights, out, "tflite", "fp32,int8", 128)
    assert len(calls) == 1 and "--weights" in calls[0] and not out.exists()  # stale folder cleared, converted again
