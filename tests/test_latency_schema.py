"""The latency result schema every harness writes: a valid document passes, broken ones are named."""
from __future__ import annotations

from benchmarks.results import new_result, schema_errors


def _result(**extra: object) -> dict:
    return {"model": "pcarn_m_g4_x4_128x128_int8.tflite", "format": "tflite", "precision": "int8", "runtime": "litert",
            "backend": "xnnpack", "threads": 2, "input": [128, 128], "runs": 20, "warmup": 3,
            "latency_ms": {"min": 40.1, "p50": 41.0, "p90": 43.2}, "delegation": {"status": "full"}, **extra}


def test_a_complete_document_validates():
    doc = new_result("host", {"description": "2-core test machine", "cores": 2, "load": 0.4}, {"ai-edge-litert": "2.1.0"})
    doc["gemm_gflops"] = 150.2
    doc["results"] = [_result(), _result(latency_ms=None, error="could not load", delegation={"status": "failed"}),
                      _result(mult_adds=32_490_000_000, gmacs_per_s=20.5, gemm_gflops=120.4, gemm_fraction=0.34,
                              stages=[{"name": "entry", "ms": 1.5, "share": 0.01}])]
    assert schema_errors(doc) == []


def test_broken_documents_are_named():
    doc = new_result("host", {"description": "x"}, {})
    assert schema_errors({**doc, "harness": "desktop"})
    assert schema_errors({**doc, "results": [_result(model="/home/me/a.tflite")]})
    assert schema_errors({**doc, "results": [_result(delegation={"status": "maybe"})]})
    assert schema_errors({**doc, "results": [_result(latency_ms={"p50": 3.0})]})
    assert schema_errors({k: v for k, v in doc.items() if k != "schema_version"})
