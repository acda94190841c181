"""python -m benchmarks.report: any set of valid result files -> one table, one chart, a generated section."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from benchmarks.report import BEGIN, END, delegated_share, main
from benchmarks.results import new_result, schema_errors
from clitools import cli_error


def result(model: str, runtime: str, backend: str, p50: float | None, status: str, **extra) -> dict:
    r = {"model": model, "format": "coreml" if runtime == "coreml" else "tflite", "precision": "fp16",
         "runtime": runtime, "backend": backend, "threads": None, "input": [128, 128], "runs": 20, "warmup": 3,
         "latency_ms": None if p50 is None else {"min": p50 * 0.98, "p50": p50}, "delegation": {"status": status},
         **extra}
    if p50 is None:
        r["error"] = "benchmark_model exited with status 1: Failed to apply GPU delegate."
    return r


def write(folder: Path, harness: str, device: str, results: list[dict]) -> str:
    doc = new_result(harness, {"description": device}, {"tool": "1.0"})
    doc["results"] = results
    assert schema_errors(doc) == []
    path = folder / f"{harness}.json"
    path.write_text(json.dumps(doc))
    return str(path)


@pytest.fixture
def files(tmp_path: Path) -> list[str]:
    tfl = "pcarn_m_g4_x4_128x128_fp16.tflite"
    return [
        write(tmp_path, "android", "samsung SM-S911B (SM8550, Android 14)", [
            result(tfl, "benchmark_model", "gpu", 38.6, "full", delegation={"status": "full", "delegated_ops": 118,
                                                                           "cpu_ops": 0}, peak_memory_mb=104.5),
            result(tfl, "benchmark_model", "nnapi", 152.95, "none", threads=4, memory_delta_mb={"init": 9.9,
                                                                                                 "overall": 21.3}),
            result(tfl, "benchmark_model", "cpu", 281.733, "not-applicable", threads=4, p50_is_mean=True),
            result(tfl, "benchmark_model", "gpu", None, "failed"),
        ]),
        write(tmp_path, "host", "AMD EPYC 2-core build machine", [result(tfl, "litert", "xnnpack", 310.2, "full",
                                                                         threads=2)]),
        write(tmp_path, "ios", "iPhone15,2 (iOS 17.5)", [
            result("pcarn_m_g4_x4_128x128.mlpackage", "coreml", "cpuAndNeuralEngine", 9.8, "partial",
                   delegation={"status": "partial", "delegated_ops": 190, "cpu_ops": 10},
                   compute_plan={"neuralEngine": 190, "cpu": 10}),
        ]),
    ]


def test_report_table_chart_and_sources(files: list[str], tmp_path: Path, capsys):
    out = tmp_path / "RESULTS.md"
    assert main([*files, "--out", str(out)]) == 0
    text = out.read_text()
    assert text.count(BEGIN) == 1 and text.count(END) == 1
    assert ("| pcarn_m_g4_x4_128x128_fp16.tflite @128x128 | fp16 | benchmark_model gpu | samsung SM-S911B (SM8550, "
            "Android 14) | 38.60 | 100% (118/118 ops) | 104.5 |") in text
    assert "| benchmark_model nnapi, 4 threads | samsung SM-S911B (SM8550, Android 14) | 152.95 | **none**: ran on the " \
           "CPU | +21.3 |" in text
    assert "| ~281.73 (mean) | n/a (CPU) | - |" in text
    assert "| failed | **failed** | - |" in text
    assert "| coreml cpuAndNeuralEngine | iPhone15,2 (iOS 17.5) | 9.80 | **partial**: 95% (190/200 ops) | - |" in text
    lines = [line for line in text.splitlines() if line.startswith("| pcarn")]
    assert [line.split(" | ")[3] for line in lines] == ["AMD EPYC 2-core build machine"] + \
        ["samsung SM-S911B (SM8550, Android 14)"] * 4 + ["iPhone15,2 (iOS 17.5)"]  # host, Android, iOS
    assert "Failed to apply GPU delegate." in text and "`android.json`: android harness" in text
    assert "![p50 latency" in text and "(RESULTS.png)" in text
    assert (tmp_path / "RESULTS.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "| model | precision |" in capsys.readouterr().out


def test_hand_written_text_is_kept_and_the_section_replaced(files: list[str], tmp_path: Path):
    out = tmp_path / "RESULTS.md"
    out.write_text("# Our phones\n\nNotes written by hand.\n")
    main([files[0], "--out", str(out)])
    main([*files, "--out", str(out)])
    text = out.read_text()
    assert text.startswith("# Our phones\n\nNotes written by hand.\n\n" + BEGIN)
    assert text.count(BEGIN) == 1 and "iPhone15,2" in text
    out.write_text(text + "\nMore notes after.\n")
    main([files[1], "--out", str(out)])
    text = out.read_text()
    assert "Notes written by hand." in text and text.endswith("More notes after.\n") and "iPhone15,2" not in text


def test_nothing_measured_means_no_chart(tmp_path: Path):
    only_failed = write(tmp_path, "android", "phone", [result("m.tflite", "benchmark_model", "gpu", None, "failed")])
    out = tmp_path / "R.md"
    assert main([only_failed, "--out", str(out)]) == 0
    assert not (tmp_path / "R.png").exists() and "![" not in out.read_text()


def test_bad_input_is_one_line(files: list[str], tmp_path: Path, capsys):
    (tmp_path / "broken.json").write_text("{")
    assert "not JSON" in cli_error(main, [str(tmp_path / "broken.json")], capsys)
    (tmp_path / "other.json").write_text(json.dumps({"schema_version": 1, "harness": "desktop"}))
    assert "not a latency result of schema v1" in cli_error(main, [str(tmp_path / "other.json")], capsys)
    assert "no such file" in cli_error(main, [str(tmp_path / "absent.json")], capsys)
    out = tmp_path / "RESULTS.md"
    out.write_text(f"text\n{BEGIN}\nold\n")
    assert "are broken (one without the other)" in cli_error(main, [*files, "--out", str(out)], capsys)
    assert out.read_text() == f"text\n{BEGIN}\nold\n"  # left as it was


@pytest.mark.parametrize("delegation,shown", [
    ({"status": "full"}, "100%"),
    ({"status": "partial", "delegate_kernels": 3}, "**partial** (3 delegate kernels)"),
    ({"status": "partial", "delegate_kernels": 3, "delegated_ops": 110, "cpu_ops": 8}, "**partial**: 93% (110/118 ops)"),
    ({"status": "none"}, "**none**: ran on the CPU"),
    ({"status": "none", "delegated_ops": 31, "cpu_ops": 0}, "**none**: ran on the CPU"),
    ({"status": "unknown"}, "unknown (the runtime did not say)"),
    ({"status": "failed"}, "**failed**"),
    ({"status": "not-applicable"}, "n/a (CPU)"),
])
def test_delegated_share(delegation: dict, shown: str):
    assert delegated_share({"delegation": delegation}) == shown
