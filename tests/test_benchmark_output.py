"""benchmark_model's output in every format it has printed, read into latency-result fields.

The samples in tests/data/benchmark_model/ follow the tool's own format strings line for line
(LiteRT with percentiles, TensorFlow 2.x without, the older TensorFlow summary and memory line,
``count=1 curr=..``, the op-profiling tables); the numbers are PCARN-M-sized.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks.benchmark_output import message, parse, parse_delegation, parse_stats, parse_timings, result_fields
from benchmarks.results import new_result, schema_errors

SAMPLES = Path(__file__).parent / "data" / "benchmark_model"


def fields(sample: str, backend: str, exit_status: int = 0) -> dict:
    return result_fields(parse((SAMPLES / f"{sample}.txt").read_text(), backend), exit_status)


def test_statistics_with_percentiles():
    stats = parse_stats("count=50 first=84765 curr=84555 min=83848 max=89458 avg=85173.7 std=1044 "
                        "p5=84032 median=85035 p95=87005")
    assert stats == {"count": 50, "first": 84765, "curr": 84555, "min": 83848, "max": 89458, "avg": 85173.7,
                     "std": 1044, "p5": 84032, "median": 85035, "p95": 87005}


def test_statistics_without_percentiles_and_all_same():
    assert "median" not in parse_stats("count=20 first=1 curr=2 min=1 max=3 avg=2.5 std=1")
    same = parse_stats("count=1 curr=905463")
    assert same == {"count": 1, "curr": 905463, "min": 905463, "max": 905463, "avg": 905463, "median": 905463,
                    "std": 0}
    assert parse_stats("count=3 curr=1200(all same)")["median"] == 1200
    assert parse_stats("count=1 curr=905463 p5=905463 median=905463 p95=905463")["p95"] == 905463


def test_timings_current_and_older_summary():
    assert parse_timings("Inference timings in us: Init: 59542, First inference: 103011, Warmup (avg): 87393.5, "
                         "Inference (avg): 85173.7") == {"Init": 59542, "First inference": 103011,
                                                         "Warmup (avg)": 87393.5, "Inference (avg)": 85173.7}
    assert parse_timings("Average inference timings in us: Warmup: 83235, Init: 38467, Inference: 79760.9") == {
        "Warmup": 83235, "Init": 38467, "Inference": 79760.9}


def test_log_prefixes_are_removed():
    assert message("INFO: count=1 curr=5") == "count=1 curr=5"
    assert message("  ERROR: Failed to apply GPU delegate.") == "Failed to apply GPU delegate."
    assert message("INFO: [./tensorflow/lite/tools/benchmark/benchmark_model.cc:245] Inference timings in us: Init: 1"
                   ) == "Inference timings in us: Init: 1"
    assert message("count=3 first=1") == "count=3 first=1"


def test_litert_full_gpu_delegation():
    f = fields("gpu_full_litert", "gpu")
    assert f["delegation"]["status"] == "full"
    assert (f["delegation"]["delegated_ops"], f["delegation"]["cpu_ops"]) == (118, 0)
    assert f["latency_ms"] == {"min": 37.984, "p50": 38.603, "mean": 38.766, "max": 41.207, "std": 0.712,
                               "p95": 40.512}
    assert (f["runs"], f["warmup"]) == (26, 13)  # the timed runs' statistics, not the warm-up's
    assert (f["init_ms"], f["first_inference_ms"]) == (1841.27, 61.84)
    assert f["peak_memory_mb"] == 104.5
    assert f["memory_delta_mb"] == {"init": 71.2539, "overall": 88.6211}
    assert "p50_is_mean" not in f


def test_tf_partial_gpu_delegation_without_percentiles():
    f = fields("gpu_partial_tf", "gpu")
    d = f["delegation"]
    assert (d["status"], d["delegate_kernels"], d["delegated_ops"], d["cpu_ops"]) == ("partial", 3, 110, 8)
    assert "DEPTH_TO_SPACE: Operation is not supported." in d["messages"]  # why, as the delegate said it
    assert f["latency_ms"]["p50"] == f["latency_ms"]["mean"] == 90.689 and f["p50_is_mean"] is True
    assert f["peak_memory_mb"] is None and f["memory_delta_mb"]["overall"] == 102.395


def test_nnapi_not_executed_is_none_even_if_it_ran_fast():
    f = fields("nnapi_none_litert", "nnapi")
    assert f["delegation"]["status"] == "none"
    assert f["latency_ms"]["p50"] == 152.95  # measured, on the CPU: the status says so


def test_failed_delegate_has_no_latency():
    f = fields("gpu_failed", "gpu", exit_status=1)
    assert f["delegation"]["status"] == "failed"
    assert f["latency_ms"] is None
    assert f["error"] == "benchmark_model exited with status 1: Failed to apply GPU delegate."


def test_older_tensorflow_format_on_cpu():
    f = fields("cpu_old_tf", "cpu")
    assert f["delegation"] == {"status": "not-applicable"}
    assert f["latency_ms"] == {"min": 279.512, "p50": 281.733, "mean": 281.733, "max": 286.19, "std": 1.504}
    assert f["p50_is_mean"] is True
    assert (f["runs"], f["warmup"], f["init_ms"], f["first_inference_ms"]) == (20, 3, 41.204, None)
    assert f["memory_delta_mb"] == {"init": 3.10547, "overall": 31.8867}  # "Peak memory footprint": its old name
    assert f["peak_memory_mb"] is None


def test_count_one_and_the_op_profile():
    f = fields("xnnpack_profile_count1", "xnnpack")
    assert f["delegation"]["status"] == "full"
    assert f["latency_ms"] == {"min": 148.236, "p50": 148.236, "mean": 148.236, "max": 148.236, "std": 0.0}
    assert "p50_is_mean" not in f  # one run: its time is the median
    ops = f["op_profile"]
    assert [o["op"] for o in ops] == ["Convolution (NHWC, F32) IGEMM", "Convolution (NHWC, F32) GEMM", "Add (ND, F32)",
                                      "Depth To Space (NHWC, X32)", "Concatenate (ND, X32)"]
    assert ops[0] == {"op": "Convolution (NHWC, F32) IGEMM", "count": 34, "avg_ms": 101.207, "percent": 68.334}
    # the profiler's own "Timings (microseconds): count=1 curr=148106" is not the timed runs' line
    assert f["runs"] == 1 and f["latency_ms"]["min"] == 148.236


def test_no_statistics_is_a_failure_even_with_status_zero():
    f = result_fields(parse("INFO: Loaded model x.tflite\nSegmentation fault\n", "xnnpack"), 0)
    assert f["latency_ms"] is None and f["error"] == "benchmark_model: no statistics line in its output"
    assert f["delegation"]["status"] == "unknown"


@pytest.mark.parametrize("lines,status,counts", [
    (["ERROR: Next operations are not supported by GPU delegate:", "MEAN: Operation is not supported.",
      "First 40 operations will run on the GPU, and the remaining 3 on the CPU."], "partial", (40, 3)),
    (["ERROR: Following operations are not supported by GPU delegate:", "ADD: OP is supported, but tensor "
      "type/shape isn't compatible.", "No operations will run on the GPU, and all 65 operations will run on the CPU."],
     "none", (0, 65)),
    (["INFO: GPU acceleration is unsupported on this platform.",
      "INFO: Explicitly applied XNNPACK delegate, and the model graph will be completely executed by the delegate."],
     "none", None),
    (["VERBOSE: Replacing 31 out of 31 node(s) with delegate (TfLiteNnapiDelegate) node, yielding 1 partitions.",
      "INFO: Though NNAPI delegate is explicitly applied, the model graph will not be executed by the delegate."],
     "none", (31, 0)),
    (["VERBOSE: Replacing 49 out of 52 node(s) with delegate (TfLiteGpuDelegateV2) node, yielding 2 partitions "
      "for subgraph 0."], "partial", (49, 3)),
    (["VERBOSE: Replacing 52 out of 52 node(s) with delegate (TfLiteXNNPackDelegate) node, yielding 1 partitions."],
     "unknown", None),
])
def test_delegation_statements_and_counts(lines, status, counts):
    """The tool's statement wins over counts (NNAPI can replace every node and still not run);
    counts decide without one; another delegate's lines say nothing about the GPU."""
    backend = "nnapi" if any("Nnapi" in line for line in lines) else "gpu"
    d = parse_delegation(lines, backend)
    assert d.status == status
    assert (None if d.delegated_ops is None else (d.delegated_ops, d.cpu_ops)) == counts


def test_every_sample_makes_a_valid_result():
    doc = new_result("android", {"description": "stand-in phone"}, {})
    for sample, backend, status in [("gpu_full_litert", "gpu", 0), ("gpu_partial_tf", "gpu", 0),
                                    ("nnapi_none_litert", "nnapi", 0), ("gpu_failed", "gpu", 1),
                                    ("cpu_old_tf", "cpu", 0), ("xnnpack_profile_count1", "xnnpack", 0)]:
        doc["results"].append({"model": "m.tflite", "format": "tflite", "precision": "fp32", "runtime": "benchmark_model",
                               "backend": backend, "threads": 4, "input": [128, 128], "runs": 20, "warmup": 3,
                               **fields(sample, backend, status)})
    assert schema_errors(doc) == []
