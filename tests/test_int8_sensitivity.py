"""``convert --int8-sensitivity``: each int8 tensor's cost, written into the int8 sidecar and the report."""
from __future__ import annotations

import json

import pytest
from PIL import Image
from skimage import data as samples

from clitools import cli_error
from pcarn_mobile import convert
from pcarn_mobile.models import build_model
from pcarn_mobile.models.stages import conv_calls

SCALE = 2


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """An untrained x2 int8 file with its sensitivity, scored on two small HR photos."""
    hr = tmp_path_factory.mktemp("sensitivity-hr")
    Image.fromarray(samples.astronaut()[100:148, 150:214]).save(hr / "astronaut.png")
    Image.fromarray(samples.coffee()[100:148, 200:264]).save(hr / "coffee.png")
    out = tmp_path_factory.mktemp("sensitivity-out")
    assert convert.main(["--random-init", "--scale", str(SCALE), "--dynamic", "--precision", "int8",
                         "--calib-count", "4", "--parity-data", str(hr), "--int8-sensitivity", "--out", str(out)]) == 0
    (sidecar,) = out.glob("*_int8.tflite.json")
    return {"sidecar": json.loads(sidecar.read_text()), "report": json.loads((out / "report.json").read_text()),
            "html": (out / "report.html").read_text()}


def test_the_sensitivity_is_in_the_int8_sidecar_and_the_report(run: dict) -> None:
    meta = run["sidecar"]
    sens = meta["calibration"]["sensitivity"]  # the sidecar passed the schema check before it was written
    assert run["report"]["files"][0]["calibration"]["sensitivity"] == sens
    quality = meta["parity"]["quality"]
    assert sens["data"] == quality["set"] and sens["data"].endswith("/sensitivity-hr0") and sens["images"] == 2
    assert sens["float_psnr_y"] == pytest.approx(quality["torch_psnr_y"], abs=0.01)  # the float file is PyTorch
    assert sens["int8_psnr_y"] == pytest.approx(quality["psnr_y"], abs=0.05)  # the same ranges as the int8 file
    stages = list(dict.fromkeys(c.stage for c in conv_calls(build_model("pcarn_m", 4, (SCALE,)), SCALE)))
    assert list(sens["by_stage"]) == stages  # every tensor named by a stage, in execution order
    convs = len(conv_calls(build_model("pcarn_m", 4, (SCALE,)), SCALE))
    assert sens["tensors_measured"] > convs  # every conv's weights, and the activations
    drops = [t["drop_db"] for t in sens["tensors"]]
    assert len(drops) == 10 and drops == sorted(drops, reverse=True)
    by_kind = {kind: sum(v[kind] for v in sens["by_stage"].values()) for kind in ("activation", "weights")}
    assert by_kind["activation"] == pytest.approx(sens["activations_alone_db"], abs=1e-3)
    assert by_kind["weights"] == pytest.approx(sens["weights_alone_db"], abs=1e-3)
    assert f"int8 sensitivity on {sens['data']} (2 images)" in run["html"]


def test_without_an_evaluation_set_or_an_int8_file_it_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    assert "--int8-sensitivity scores each tensor on an evaluation set: give it with --parity-data DIR" in \
        cli_error(convert.main, ["--random-init", "--int8-sensitivity"], capsys)
    assert "--int8-sensitivity shapes the int8 file, but --precision fp32 writes none" in \
        cli_error(convert.main, ["--random-init", "--precision", "fp32", "--int8-sensitivity"], capsys)
    assert "--int8-sensitivity applies to --target tflite, not onnx" in \
        cli_error(convert.main, ["--random-init", "--target", "onnx", "--int8-sensitivity"], capsys)
