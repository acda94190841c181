"""Quantization-aware fine-tuning: the fake-quantized graph matches the int8 file, and ``train --stage qat``.

A small random PCARN-M (16 channels, x2 only) is converted once per module, as ``convert``
does; the checks compare the simulation with that int8 file, so trained weights are not needed.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from converters.tflite import int8_rounded
from converters.tflite_tensors import int8_grids
from pcarn_mobile.export.calibration import load_calibration, random_crops
from pcarn_mobile.models import SRDeploy, build_model
from pcarn_mobile.train import main
from pcarn_mobile.training import qat
from pcarn_mobile.weights import load_weights
from clitools import cli_error
from test_train import base_args, folders  # noqa: F401 - the training folder fixture


@pytest.fixture(scope="module")
def small() -> dict:
    """A random 16-channel x2 network, on the int8 weight grid (so the file's weights are the simulation's
    exactly), its fp32 and int8 files, and calibration crops."""
    torch.manual_seed(0)
    model = qat.on_int8_grid(build_model("pcarn_m", groups=4, scales=(2,), channels=16)).eval()
    crops = random_crops(load_calibration(None).images, 6, 32)
    fp32, int8 = qat.tflite_pair(SRDeploy(model, 2), crops)
    return {"model": model, "crops": crops, "fp32": fp32, "int8": int8}


def _int8_output(int8: bytes, x: np.ndarray) -> np.ndarray:
    from ai_edge_litert.interpreter import Interpreter

    it = Interpreter(model_content=int8, num_threads=1)
    it.resize_tensor_input(0, list(x.shape), strict=False)
    it.allocate_tensors()
    inp, out = it.get_input_details()[0], it.get_output_details()[0]
    it.set_tensor(inp["index"], (np.round(x * 255) - 128).astype(np.int8))
    it.invoke()
    scale, zero = out["quantization"]
    return (it.get_tensor(out["index"]).astype(np.float32) - zero) * scale


def test_every_quantized_tensor_of_the_file_has_its_fake_quant(small: dict) -> None:
    import torch.fx as fx

    gm = fx.symbolic_trace(SRDeploy(small["model"], 2))
    grids = qat.match_grids(gm, small["fp32"], small["int8"], small["crops"][0][:, :24, :24])
    file_grids = set(int8_grids(small["int8"]).values())
    assert set(grids.values()) == file_grids  # every grid of the file is used, and no other
    names = set(grids)
    assert {"x", "model_entry", "clamp"} <= names
    # The file rounds neither the mean-shifted image nor c3's output alone (both moved into convs).
    assert "model_sub_mean_shifter" not in names and "model_c3" not in names
    cats = [n.name for n in gm.graph.nodes if n.target is torch.cat]
    assert cats and all(c in names for c in cats)
    assert grids["x"] == (pytest.approx(1 / 255), -128)  # the 8-bit image grid
    # Concatenations and the tensors they join share one grid, as int8 requires.
    assert len({grids[c] for c in cats}) < len(cats)


def test_the_simulation_computes_what_the_int8_file_does(small: dict) -> None:
    model = small["model"]
    sim = qat.fake_quantized_graph(model, 2, small["fp32"], small["int8"], small["crops"][0][:, :24, :24])
    x = np.round(random_crops(load_calibration(None).images, 1, 40, seed=5)[0] * 255) / 255
    file_out = _int8_output(small["int8"], x)
    with torch.no_grad():
        t = torch.from_numpy(x).permute(0, 3, 1, 2)
        sim_out = sim(t).permute(0, 2, 3, 1).numpy()
        float_out = SRDeploy(model, 2)(t).permute(0, 2, 3, 1).numpy()
    float_err = np.mean((float_out - file_out) ** 2)
    sim_err = np.mean((sim_out - file_out) ** 2)
    assert float_err > 0
    assert sim_err < 0.5 * float_err, (sim_err, float_err)


def test_gradients_reach_the_model_through_the_simulation(small: dict) -> None:
    model = qat.on_int8_grid(small["model"])  # a copy: the module fixture stays untouched
    sim = qat.fake_quantized_graph(model, 2, small["fp32"], small["int8"], small["crops"][0][:, :24, :24])
    sim(torch.from_numpy(small["crops"][1]).permute(0, 3, 1, 2)).mean().backward()
    assert model.entry.weight.grad is not None and model.entry.weight.grad.abs().sum() > 0
    assert model.upsample.up.body[0].weight.grad.abs().sum() > 0
    assert model.sub_mean.shifter.weight.grad is None  # the frozen mean shift stays frozen


def test_a_graph_the_file_does_not_describe_is_refused(small: dict) -> None:
    import torch.fx as fx

    torch.manual_seed(1)
    other = build_model("pcarn_m", groups=4, scales=(2,), channels=16).eval()
    with pytest.raises(RuntimeError, match="match no PyTorch node"):
        qat.match_grids(fx.symbolic_trace(SRDeploy(other, 2)), small["fp32"], small["int8"], small["crops"][0])


def test_weights_on_the_int8_grid_are_what_the_converter_keeps() -> None:
    torch.manual_seed(2)
    model = build_model("pcarn_m", groups=4, scales=(2,), channels=16)
    snapped = qat.on_int8_grid(model)
    conv = snapped.b1.b1.conv1.weight.detach().numpy()
    assert not np.array_equal(conv, model.b1.b1.conv1.weight.detach().numpy())
    np.testing.assert_allclose(int8_rounded(conv), conv, rtol=0, atol=1e-7)
    assert torch.equal(snapped.sub_mean.shifter.bias, model.sub_mean.shifter.bias)
    # c3, which the file folds the global residual into, is snapped with the identity on x's channels.
    c3 = snapped.c3.weight.detach().numpy().copy()
    c3[:, :16, 0, 0] += np.eye(16, dtype=np.float32)
    np.testing.assert_allclose(int8_rounded(c3), c3, rtol=0, atol=1e-6)
    assert not np.allclose(int8_rounded(snapped.c3.weight.detach().numpy()), snapped.c3.weight.detach().numpy(), atol=1e-6)


def test_train_stage_qat_end_to_end(folders: tuple[Path, Path], tmp_path: Path,  # noqa: F811
                                    capsys: pytest.CaptureFixture[str]) -> None:
    start = tmp_path / "start"
    assert main(base_args(folders[0], start, 1) + ["--scales", "2"]) == 0
    err = cli_error(main, ["--stage", "qat", "--data", str(folders[0]), "--out", str(tmp_path / "q0")], capsys)
    assert "--stage qat needs --init" in err
    err = cli_error(main, ["--stage", "qat", "--init", str(start / "best.pt"), "--groups", "8", "--data",
                           str(folders[0]), "--out", str(tmp_path / "q1")], capsys)
    assert "--stage qat fine-tunes the --init weights as they are" in err
    run = tmp_path / "qat"
    args = ["--stage", "qat", "--init", str(start / "best.pt"), "--data", str(folders[0]), "--out", str(run),
            "--steps", "2", "--batch", "2", "--patch", "12", "--val", "none", "--lr", "1e-3", "--scales", "2"]
    assert main(args) == 0
    trained = load_weights(run / "best.pt")
    assert trained.meta["stage"] == "qat"
    w = trained.model.b1.b1.conv1.weight.detach().numpy()
    np.testing.assert_allclose(int8_rounded(w), w, rtol=0, atol=1e-7)  # written on the int8 grid
    before = load_weights(start / "best.pt").model.b1.b1.conv1.weight.detach().numpy()
    assert not np.allclose(w, int8_rounded(before))  # and trained, not only rounded
