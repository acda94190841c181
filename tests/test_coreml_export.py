"""The Core ML target of ``convert`` (pcarn_mobile.coreml_export): options, sidecars, verdicts, bad input.

A tiny x3 network keeps conversions to a second or two; the PCARN-M numerics are in test_coreml.py.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

pytest.importorskip("coremltools")

from pcarn_mobile.coreml_export import export_coreml, parity_verdict, photo_crops, shape_spec  # noqa: E402
from pcarn_mobile.data import EvalPair  # noqa: E402
from pcarn_mobile.errors import UserError  # noqa: E402
from pcarn_mobile.weights import Header, LoadedWeights  # noqa: E402

from converters.coreml import ShapeSpec  # noqa: E402
from coreml_tiny import TinyX3  # noqa: E402


@pytest.fixture(scope="module")
def loaded() -> LoadedWeights:
    torch.manual_seed(2)
    return LoadedWeights(TinyX3().eval(), Header("tiny", 4, (3,)), "random-init", None, "random-init")


def _pair(seed: int) -> EvalPair:
    rs = np.random.RandomState(seed)
    hr = (np.kron(rs.rand(8, 8, 3), np.ones((6, 6, 1))) * 255).astype(np.uint8)
    return EvalPair(f"img{seed}", hr[::3, ::3].copy(), hr)


def test_export_writes_packages_sidecars_and_parity(loaded, tmp_path):
    records = export_coreml(loaded, 3, tmp_path, stem="tiny_x3", precisions=["fp32", "fp16"], compressions=["none", "int8"],
                            shape=ShapeSpec(size=(16, 16)), parity_pairs=[_pair(0), _pair(1)], parity_budget=256)
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == ["tiny_x3_fp16.json", "tiny_x3_fp16.mlpackage", "tiny_x3_fp16_int8.json", "tiny_x3_fp16_int8.mlpackage",
                     "tiny_x3_fp32.json", "tiny_x3_fp32.mlpackage", "tiny_x3_fp32_int8.json", "tiny_x3_fp32_int8.mlpackage"]
    assert [(r["precision"], r["compress"]) for r in records] == [("fp32", "none"), ("fp32", "int8"), ("fp16", "none"), ("fp16", "int8")]
    for record in records:
        sidecar = json.loads(Path(record["sidecar"]).read_text())
        figures = sidecar["parity"]["numpy_evaluator"]
        assert record["verdict"] == figures["verdict"] == "ok", figures
        assert sidecar["scale"] == 3 and sidecar["input"]["type"] == "image" and sidecar["input"]["name"] == "lr"
        assert sidecar["size_bytes"] == record["size_bytes"] > 0
        assert figures["set"]["count"] == 2 and abs(figures["set"]["delta_psnr_y"]) < 0.05
        assert sidecar["tools"]["coremltools"].startswith("9.")
    sizes = {(r["precision"], r["compress"]): r["size_bytes"] for r in records}
    assert sizes[("fp16", "int8")] < sizes[("fp16", "none")] < sizes[("fp32", "none")]
    fp32 = records[0]["parity"]["numpy_evaluator"]["photos"]
    assert fp32["psnr"] > 100 and fp32["max_abs"] < 1e-5


def test_verdict_floors():
    assert parity_verdict({"psnr": 61.0}, "fp32", "none") == "ok"
    assert parity_verdict({"psnr": 59.0}, "fp32", "none") == "MISMATCH"
    assert parity_verdict({"psnr": 46.0}, "fp16", "none") == "ok"
    assert parity_verdict({"psnr": 80.0}, "fp16", "int8", {"delta_psnr_y": -0.3}) == "MISMATCH"
    assert parity_verdict({"psnr": 40.0}, "fp16", "palette6", {"delta_psnr_y": -0.1}) == "ok"


def test_shape_options():
    assert shape_spec("180x320", None, None) == ShapeSpec(size=(180, 320))
    assert shape_spec(None, "180x320, 360x640", None) == ShapeSpec(sizes=((180, 320), (360, 640)))
    assert shape_spec(None, None, "8..64") == ShapeSpec(range=(8, 64))
    assert shape_spec(None, None, None).range is not None  # default: range-flexible
    for args, match in [(("0x5", None, None), "positive HEIGHTxWIDTH"), (("abc", None, None), "--input-size 'abc'"),
                        ((None, "10x10,10x10", None), "distinct"), ((None, None, "64..8"), "LOW..HIGH"),
                        (("8x8", "8x8", None), "exclude each other")]:
        with pytest.raises(UserError, match=match) as info:
            shape_spec(*args)
        assert "\n" not in str(info.value)


def test_photo_crops_cycle_sizes_within_budget():
    crops = photo_crops([(16, 20), (20, 16)], budget=4 * 320)
    assert [c.shape for _, c in crops] == [(16, 20, 3), (20, 16, 3)] * 2
    assert photo_crops([(180, 320)], budget=100)[0][1].shape == (180, 320, 3)  # always at least one
    assert all(0.0 <= c.min() and c.max() <= 1.0 for _, c in crops)


@pytest.mark.parametrize("kwargs,match", [
    (dict(precisions=["fp8"]), "unknown Core ML precision 'fp8'"),
    (dict(compressions=["int4"]), "unknown Core ML compression 'int4'"),
    (dict(min_ios=15), "minimum iOS 15"),
])
def test_bad_options_write_nothing(loaded, tmp_path, kwargs, match):
    options = dict(stem="t", precisions=["fp16"], compressions=["none"], shape=ShapeSpec(size=(8, 8)), parity_budget=64)
    with pytest.raises(UserError, match=match):
        export_coreml(loaded, 3, tmp_path, **{**options, **kwargs})
    assert list(tmp_path.iterdir()) == []


def test_output_path_is_a_file(loaded, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(UserError, match="not writable"):
        export_coreml(loaded, 3, blocker, stem="t", precisions=["fp16"], compressions=["none"], shape=ShapeSpec(size=(8, 8)))
