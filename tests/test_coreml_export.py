"""``convert --target coreml``: options, packages + sidecars + report through the CLI, verdicts, bad input.

A tiny x3 network (through the Core ML adapter) keeps most conversions to a second or two; one
CLI run converts the real PCARN-M (random-init), and the bad-input runs fail before any
conversion. The true default run is timed by `benchmarks/convert_time.py --target coreml`.
PCARN-M numerics are in test_coreml.py.
"""
from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest
import torch

pytest.importorskip("coremltools")

from pcarn_mobile import convert  # noqa: E402
from pcarn_mobile.export import coreml_target  # noqa: E402
from pcarn_mobile.export.formats import FORMATS  # noqa: E402
from pcarn_mobile.export.job import Job  # noqa: E402
from pcarn_mobile.export.options import CoreMLPlan, ExportOptions, plan  # noqa: E402
from pcarn_mobile.export.parity import verdict  # noqa: E402
from pcarn_mobile.models import SRDeploy  # noqa: E402
from pcarn_mobile.weights import Header, LoadedWeights  # noqa: E402

from coreml_tiny import TinyX3  # noqa: E402


@pytest.fixture(scope="module")
def tiny_job(tmp_path_factory) -> Job:
    """A job for the tiny x3 network; its Core ML plan is set per test (sizes below the CLI's minimum are fine here)."""
    torch.manual_seed(2)
    weights = LoadedWeights(TinyX3().eval(), Header("tiny", 4, (3,)), "random-init", None, "random-init")
    base = plan(ExportOptions(target="coreml", random_init=True, scale=3, precision="fp32,fp16"))
    return Job(SRDeploy(weights.model, 3), weights, base, FORMATS["coreml"], 3, tmp_path_factory.mktemp("work"))


def test_artifacts_of_every_variant(tiny_job):
    coreml = CoreMLPlan(None, ((16, 16), (12, 20)), None, ("none", "int8"), True, 16)
    job = replace(tiny_job, plan=replace(tiny_job.plan, coreml=coreml))
    artifacts = coreml_target.export(job)
    assert [a.path.name for a in artifacts] == [
        "tiny_g4_x3_16x16-12x20_fp16.mlpackage", "tiny_g4_x3_16x16-12x20_fp16_int8.mlpackage",
        "tiny_g4_x3_16x16-12x20_fp32.mlpackage", "tiny_g4_x3_16x16-12x20_fp32_int8.mlpackage"]
    assert [a.variant for a in artifacts] == ["fp16", "int8", "fp32", "int8"]
    for a in artifacts:
        assert a.fmt.name == "coreml" and a.input_size == (16, 16) and a.graph["evaluator_covers_all_ops"]
        assert a.input["name"] == "lr" and a.output["name"] == "sr"
        assert a.input["layout"] == "image" and a.input["sizes"] == [[16, 16], [12, 20]] and a.input["shape"] == [1, 3, -1, -1]
        runner = a.runner(any_size=True)
        assert runner.scale == 3 and runner.input_size == (16, 16)
    assert "constexpr_affine_dequantize" in artifacts[1].graph["ops"]


def test_tensor_io_and_deployment_target_are_in_the_name(tiny_job, tmp_path):
    coreml = CoreMLPlan((16, 16), (), None, ("palette6",), False, 18)
    job = replace(tiny_job, plan=replace(tiny_job.plan, coreml=coreml, precisions={"coreml": ("fp16",)}), workdir=tmp_path)
    (artifact,) = coreml_target.export(job)
    assert artifact.path.name == "tiny_g4_x3_16x16_fp16_palette6_tensorio_ios18.mlpackage"
    assert artifact.input["layout"] == "NCHW" and artifact.input["dtype"] == "float32" and artifact.input["shape"] == [1, 3, 16, 16]
    assert artifact.output["shape"] == [1, 3, 48, 48] and artifact.variant == "palette6"


def test_cli_coreml_run(tmp_path, capsys):
    """PCARN-M through the CLI (default precision, compression and I/O; a small fixed size keeps parity
    cheap): one fp16 image-I/O package, its sidecar, the report, exit 0."""
    out = tmp_path / "out"
    assert convert.main(["--target", "coreml", "--random-init", "--scale", "2", "--input-size", "52x52", "--out", str(out)]) == 0
    files = sorted(p.name for p in out.iterdir())
    assert files == ["convert.log", "pcarn_m_g4_x2_52x52_fp16.mlpackage", "pcarn_m_g4_x2_52x52_fp16.mlpackage.json",
                     "report.html", "report.json"]
    side = json.loads((out / files[2]).read_text())
    assert side["format"] == "coreml" and side["precision"] == "fp16" and side["compress"] == "none"
    assert side["input"]["layout"] == side["output"]["layout"] == "image"
    assert side["input"]["shape"] == [1, 3, 52, 52] and side["output"]["shape"] == [1, 3, 104, 104]
    assert side["parity"]["photos"]["size"] == [52, 52] and side["tiling"]["tile"] == [52, 52]
    assert side["graph"]["minimum_deployment_target"] == "iOS16" and side["graph"]["evaluator_covers_all_ops"]
    assert side["parity"]["verdict"] == "OK" and side["parity"]["photos"]["psnr_db"] >= 45
    report = json.loads((out / "report.json").read_text())
    assert [a["file"] for a in report["files"]] == [files[1]]
    assert {"coreml: fp16 trace + convert", "coreml: fp16 none compress + save"} <= set(report["timings_s"])
    assert "pcarn_m_g4_x2_52x52_fp16.mlpackage" in capsys.readouterr().out


def test_verdict_limits():
    """One verdict function for every format; Core ML's limits by compression, measured in the README."""
    cm = FORMATS["coreml"]
    assert verdict(cm, "fp32", {"psnr_db": 61.0}, None)["verdict"] == "OK"
    assert verdict(cm, "fp32", {"psnr_db": 59.0}, None)["verdict"] == "MISMATCH"
    assert verdict(cm, "fp32", {"psnr_db": "inf"}, None)["verdict"] == "OK"
    assert verdict(cm, "fp16", {"psnr_db": 46.0}, None)["verdict"] == "OK"
    drop = {"set": "Set5/x4", "drop_db": 0.3}
    failed = verdict(cm, "int8", {"psnr_db": 80.0}, drop)
    assert failed["verdict"] == "MISMATCH" and "past the int8 limit of 0.05 dB" in failed["reasons"][0]
    assert verdict(cm, "palette6", {"psnr_db": 40.0}, {**drop, "drop_db": 0.1})["verdict"] == "OK"
    assert verdict(FORMATS["tflite"], "int8", {"psnr_db": 48.0}, {**drop, "drop_db": 0.15})["limits"] == {
        "photo_floor_db": 35.0, "set_drop_db": 0.25}
    assert verdict(FORMATS["tflite"], "int8", {"psnr_db": 48.0}, {**drop, "drop_db": 0.5})["verdict"] == "MISMATCH"


def test_shape_options():
    def coreml(**kw):
        return plan(ExportOptions(target="coreml", **kw)).coreml

    assert coreml(input_size="180x320").size == (180, 320)
    assert coreml(sizes="180x320, 360x640").sizes == ((180, 320), (360, 640))
    assert coreml(dynamic="8..64").range == (8, 64)
    assert coreml(dynamic=True).range == coreml().range == (16, 512)
    assert coreml(compress=["palette6,none", "int8"], tensor_io=True, min_ios=18).compressions == ("none", "int8", "palette6")


@pytest.mark.parametrize("argv,match", [
    (["--input-size", "0x5"], "positive HEIGHTxWIDTH"),
    (["--sizes", "64x64,64x64"], "distinct"),
    (["--sizes", "64x64,8x8"], "at least 49 px"),
    (["--dynamic", "64..8"], "LOW..HIGH"),
    (["--compress", "int4"], "unknown --compress int4"),
    (["--compress", ""], "empty choice"),
    (["--min-ios", "15"], "--min-ios 15"),
    (["--precision", "int8"], "unknown precision int8 for --target coreml"),
    (["--input-size", "8x8", "--sizes", "8x8"], "not allowed with argument"),
    (["--input-size", "800x800"], "GiB of memory"),
])
def test_bad_input_one_line_nothing_written(tmp_path, capsys, argv, match):
    out = tmp_path / "out"
    with pytest.raises(SystemExit) as code:
        convert.run_cli(convert.main, ["--target", "coreml", "--random-init", "--out", str(out), *argv])
    assert code.value.code == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and "\n" not in err and match in err, err
    assert not out.exists()


def test_output_path_is_a_file(tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(SystemExit):
        convert.run_cli(convert.main, ["--target", "coreml", "--random-init", "--out", str(blocker / "x")])
    assert "not writable" in capsys.readouterr().err
    assert blocker.read_text() == ""


def test_package_names_its_weights_without_a_path(tmp_path):
    """The package's own metadata names the weights file, never the folder it sat in."""
    from converters.coreml_package import read_package

    out = tmp_path / "out"
    weights = Path(__file__).resolve().parent.parent / "pcarn_mobile" / "weights" / "pcarn_m_g4.pt"
    if not weights.is_file():
        pytest.skip("no embedded default weights in this checkout")
    assert convert.main(["--target", "coreml", "--scale", "2", "--input-size", "52x52", "--out", str(out)]) == 0
    (package,) = out.glob("*.mlpackage")
    meta = read_package(package).metadata
    assert meta["weights"] == "pcarn_m_g4.pt" and "/" not in "".join(meta.values())
