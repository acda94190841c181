"""``convert --target coreml``: options, packages + sidecars + report through the CLI, verdicts, bad input.

A tiny x3 network (through ``export_coreml_artifacts``) keeps most conversions to a second or two;
one CLI run converts the real PCARN-M (random-init), and the bad-input
runs fail before any conversion. The true default run is timed by `benchmarks/convert_time.py --target coreml`. PCARN-M numerics are in test_coreml.py.
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

pytest.importorskip("coremltools")

from pcarn_mobile import convert  # noqa: E402
from pcarn_mobile.coreml_export import export_coreml_artifacts, parity_verdict, parse_options, shape_spec  # noqa: E402
from pcarn_mobile.errors import UserError  # noqa: E402
from pcarn_mobile.models import SRDeploy  # noqa: E402
from pcarn_mobile.weights import Header, LoadedWeights  # noqa: E402

from converters.coreml import ShapeSpec  # noqa: E402
from coreml_tiny import TinyX3  # noqa: E402


@pytest.fixture(scope="module")
def tiny_job(tmp_path_factory):
    torch.manual_seed(2)
    weights = LoadedWeights(TinyX3().eval(), Header("tiny", 4, (3,)), "random-init", None, "random-init")
    work = tmp_path_factory.mktemp("work")
    return convert.Job(SRDeploy(weights.model, 3), weights, 3, 4, None, ("fp32", "fp16"), "int8", None, 1, False, work)


def test_artifacts_of_every_variant(tiny_job):
    options = parse_options(["int8", "none"], None, "16x16,12x20", False, False, 16)
    artifacts = export_coreml_artifacts(tiny_job, options)
    names = [a.path.name for a in artifacts]
    assert names == ["tiny_g4_x3_16x16-12x20_fp32.mlpackage", "tiny_g4_x3_16x16-12x20_fp32_int8.mlpackage",
                     "tiny_g4_x3_16x16-12x20_fp16.mlpackage", "tiny_g4_x3_16x16-12x20_fp16_int8.mlpackage"]
    for a in artifacts:
        assert a.target == "coreml" and a.input_size == (16, 16) and a.graph["evaluator_covers_all_ops"]
        assert a.io["inputs"][0]["type"] == "image" and a.io["inputs"][0]["sizes"] == [[16, 16], [12, 20]]
        runner = a.runner(any_size=True)
        assert runner.scale == 3 and runner.input_size == (16, 16)
    assert "constexpr_affine_dequantize" in artifacts[1].graph["ops"]


def test_cli_coreml_run(tmp_path, capsys):
    """PCARN-M through the CLI (default precision, compression and I/O; a small fixed size keeps parity
    cheap): one fp16 image-I/O package, its sidecar, the report, exit 0."""
    out = tmp_path / "out"
    assert convert.main(["--target", "coreml", "--random-init", "--scale", "2", "--input-size", "24x24", "--out", str(out)]) == 0
    files = sorted(p.name for p in out.iterdir())
    assert files == ["convert.log", "pcarn_m_g4_x2_24x24_fp16.mlpackage", "pcarn_m_g4_x2_24x24_fp16.mlpackage.json",
                     "report.json"]
    side = json.loads((out / files[2]).read_text())
    assert side["format"] == "coreml" and side["precision"] == "fp16" and side["compress"] == "none"
    assert side["inputs"][0]["type"] == side["outputs"][0]["type"] == "image"
    assert side["inputs"][0]["size"] == [24, 24] and side["parity"]["photos"]["size"] == [24, 24]
    assert side["graph"]["minimum_deployment_target"] == "iOS16" and side["graph"]["evaluator_covers_all_ops"]
    assert side["parity"]["verdict"] == "OK" and side["parity"]["photos"]["psnr_db"] >= 45
    report = json.loads((out / "report.json").read_text())
    assert [a["file"] for a in report["artifacts"]] == [files[1]]
    assert {"coreml: fp16 trace + convert", "coreml: fp16 none compress + save"} <= set(report["timings_s"])
    assert "pcarn_m_g4_x2_24x24_fp16.mlpackage" in capsys.readouterr().out


def test_verdict_floors():
    assert parity_verdict({"psnr_db": 61.0}, "fp32", "none") == "OK"
    assert parity_verdict({"psnr_db": 59.0}, "fp32", "none") == "MISMATCH"
    assert parity_verdict({"psnr_db": "inf"}, "fp32", "none") == "OK"
    assert parity_verdict({"psnr_db": 46.0}, "fp16", "none") == "OK"
    assert parity_verdict({"psnr_db": 80.0}, "fp16", "int8", {"psnr_y": 31.6, "torch_psnr_y": 31.9}) == "MISMATCH"
    assert parity_verdict({"psnr_db": 40.0}, "fp16", "palette6", {"psnr_y": 31.8, "torch_psnr_y": 31.9}) == "OK"


def test_shape_options():
    assert shape_spec("180x320", None, None) == ShapeSpec(size=(180, 320))
    assert shape_spec(None, "180x320, 360x640", None) == ShapeSpec(sizes=((180, 320), (360, 640)))
    assert shape_spec(None, None, "8..64") == ShapeSpec(range=(8, 64))
    assert shape_spec(None, None, True) == shape_spec(None, None, None) == ShapeSpec(range=(16, 512))
    assert parse_options(["palette6,none", "int8"], None, None, False, True, 18).compressions == ("none", "int8", "palette6")


@pytest.mark.parametrize("argv,match", [
    (["--input-size", "0x5"], "positive HEIGHTxWIDTH"),
    (["--sizes", "10x10,10x10"], "distinct"),
    (["--dynamic", "64..8"], "LOW..HIGH"),
    (["--compress", "int4"], "unknown --compress int4"),
    (["--min-ios", "15"], "--min-ios 15"),
    (["--precision", "int8"], "unknown precision int8 for coreml"),
    (["--input-size", "8x8", "--sizes", "8x8"], "not allowed with argument"),
])
def test_bad_input_one_line_nothing_written(tmp_path, capsys, argv, match):
    out = tmp_path / "out"
    with pytest.raises(SystemExit) as code:
        convert.run_cli(convert.main, ["--target", "coreml", "--random-init", "--out", str(out), *argv])
    assert code.value.code == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and "\n" not in err and match in err, err
    assert not out.exists()


def test_coreml_only_flags_refused_for_tflite(capsys):
    with pytest.raises(SystemExit):
        convert.run_cli(convert.main, ["--target", "tflite", "--random-init", "--compress", "int8"])
    assert "apply to --target coreml" in capsys.readouterr().err


def test_output_path_is_a_file(tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(SystemExit):
        convert.run_cli(convert.main, ["--target", "coreml", "--random-init", "--out", str(blocker / "x")])
    assert "not writable" in capsys.readouterr().err
    assert blocker.read_text() == ""
