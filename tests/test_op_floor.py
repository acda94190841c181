"""``python -m benchmarks.op_floor``: single-operator copies of a file compute what the file computes.

No speed is checked (timings on the shared machine are noise). What is checked: an operator cut
out of the project's own .tflite computes bit for bit what it computes inside the file; the two
other forms of a grouped convolution compute the same numbers; the Mult-Adds per operator add up
to the network's; the command's figures are consistent; bad input is one line.
"""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from benchmarks.op_floor import main
from benchmarks.tflite_ops import GROUPED_FORMS, describe_ops, single_op
from clitools import cli_error

REPO = Path(__file__).resolve().parents[1]
HW = (12, 16)
SCALE = 2


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """An untrained x2 network as a dynamic fp32 .tflite and an .onnx (the converter's own files)."""
    out = tmp_path_factory.mktemp("op-floor")
    for target, extra in (("tflite", ["--precision", "fp32", "--dynamic"]), ("onnx", ["--dynamic"])):
        done = subprocess.run([sys.executable, "-m", "pcarn_mobile.convert", "--random-init", "--scale", str(SCALE),
                               "--target", target, *extra, "--out", str(out)], cwd=REPO, capture_output=True,
                              text=True, timeout=300)
        assert done.returncode == 0, done.stderr
    (tflite,), (onnx,) = out.glob("*.tflite"), out.glob("*.onnx")
    return {"tflite": tflite, "onnx": onnx}


def builtin(content: bytes, shape: list[int] | None = None, preserve: bool = False):
    """TFLite's own kernels (no delegate), so that a cut-out operator runs the very kernel it ran in the file."""
    from ai_edge_litert.interpreter import Interpreter, OpResolverType

    it = Interpreter(model_content=content, experimental_preserve_all_tensors=preserve,
                     experimental_op_resolver_type=OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES)
    if shape:
        it.resize_tensor_input(it.get_input_details()[0]["index"], shape)
    it.allocate_tensors()
    return it


@pytest.fixture(scope="module")
def whole(files: dict[str, Path]):
    """The file run once on a random image, every tensor kept: (bytes, tensor shapes, tensor values)."""
    data = files["tflite"].read_bytes()
    it = builtin(data, [1, *HW, 3], preserve=True)
    it.set_tensor(it.get_input_details()[0]["index"], np.random.default_rng(1).uniform(0, 1, (1, *HW, 3)).astype("f4"))
    it.invoke()
    details = it.get_tensor_details()
    shapes = {t["index"]: [int(s) for s in t["shape"]] for t in details}
    values = {t["index"]: it.get_tensor(t["index"]) for t in details}
    return data, shapes, values


def run_alone(content: bytes, values: dict[int, np.ndarray]) -> list[np.ndarray]:
    """The single-operator file fed the tensors it read inside the whole file (same tensor indices)."""
    it = builtin(content)
    for d in it.get_input_details():
        it.set_tensor(d["index"], values[d["index"]])
    it.invoke()
    return [it.get_tensor(d["index"]) for d in it.get_output_details()]


def test_each_operator_alone_computes_what_it_computed_in_the_file(whole) -> None:
    data, shapes, values = whole
    from ai_edge_litert import schema_py_generated as schema

    operators = schema.ModelT.InitFromPackedBuf(data, 0).subgraphs[0].operators
    ops = describe_ops(data, shapes)
    assert {op.name for op in ops} >= {"CONV_2D", "CONCATENATION", "ADD", "DEPTH_TO_SPACE"}
    for op in ops:
        content = single_op(data, op.index, shapes)
        for got, t in zip(run_alone(content, values), operators[op.index].outputs, strict=True):
            np.testing.assert_array_equal(got, values[int(t)], err_msg=op.kind)


def test_the_other_forms_of_a_grouped_convolution_compute_the_same(whole) -> None:
    data, shapes, values = whole
    grouped = [op for op in describe_ops(data, shapes) if op.alternatives_apply]
    assert len(grouped) == 18 + 1  # two per residual block, three uses per cascade, three cascades; one upsampler
    for op in (grouped[0], grouped[-1]):
        alone = run_alone(single_op(data, op.index, shapes), values)
        for form in GROUPED_FORMS:
            (got,) = run_alone(single_op(data, op.index, shapes, form), values)
            np.testing.assert_allclose(got, alone[0], rtol=0, atol=1e-5, err_msg=f"{op.kind} {form}")


def test_mult_adds_per_operator_add_up_to_the_network(whole) -> None:
    """The file's convolutions are the network's, except the exit conv, which runs as its sub-pixel twin
    (r*r times its Mult-Adds, converters.onnx_subpixel), and the two mean shifts, which the count takes
    as 1x1 convs (3 -> 3, on the LR input and the SR output) and the file folds into the exit conv's
    bias and into the entry conv as three input channels of ones (converters.onnx_offset)."""
    from pcarn_mobile.complexity import count_mult_adds
    from pcarn_mobile.models import build_model

    data, shapes, _ = whole
    network = count_mult_adds(build_model("pcarn_m", 4, (SCALE,)), (1, 3, *HW), SCALE)
    exit_conv = (SCALE * HW[0]) * (SCALE * HW[1]) * 3 * 9 * 64
    mean_shifts = 3 * 3 * (HW[0] * HW[1]) * (1 + SCALE * SCALE)
    entry_ones = HW[0] * HW[1] * 3 * 9 * 64
    file_convs = sum(op.mult_adds for op in describe_ops(data, shapes))
    assert file_convs == network - mean_shifts + (SCALE * SCALE - 1) * exit_conv + entry_ones


def test_a_run_reports_consistent_figures(files: dict[str, Path], whole, tmp_path: Path) -> None:
    out = tmp_path / "floor.json"
    done = subprocess.run([sys.executable, "-m", "benchmarks.op_floor", "--model", str(files["tflite"]),
                           "--onnx", str(files["onnx"]), "--preset", "x".join(map(str, HW)), "--threads", "1",
                           "--runs", "2", "--alternatives", "--json", str(out)],
                          cwd=REPO, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.startswith("machine: ") and "GEMM float32" in done.stdout
    doc = json.loads(out.read_text())
    assert doc["input"] == list(HW) and doc["gemm_gflops"] > 0 and len(doc["whole"]) == 2
    forms = {(k["kind"], k["form"]) for k in doc["kinds"]}
    grouped = {k["kind"] for k in doc["kinds"] if k["grouped"]}
    assert grouped and all((kind, form) in forms for kind in grouped for form in ("alone", *GROUPED_FORMS))
    alone = [k for k in doc["kinds"] if k["form"] == "alone"]
    assert sum(k["count"] for k in alone) == doc["operators"] == len(describe_ops(whole[0], whole[1]))
    f = doc["floors"]
    assert f["operators_alone_ms"] == pytest.approx(sum(k["ms"] for k in alone), abs=1e-2)
    assert f["operators_alone_ms"] > f["convolutions_alone_ms"] > f["grouped_convolutions_best_ms"] > 0
    assert f["grouped_convolutions_best_ms"] <= sum(k["ms"] for k in alone if k["grouped"]) + 1e-2
    assert doc["network_mult_adds"] > 0
    for k in doc["kinds"]:
        assert k["ms"] > 0 and (k["gemm_fraction"] == pytest.approx(2 * k["gmacs_per_s"] / doc["gemm_gflops"], rel=1e-2)
                                if k["mult_adds"] else "gmacs_per_s" not in k)


def test_bad_input_is_one_line(files: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert "--model nowhere.tflite: no such file" in cli_error(main, ["--model", "nowhere.tflite"], capsys)
    assert f"--model {files['onnx']}: not a TFLite model" in cli_error(main, ["--model", str(files["onnx"])], capsys)
    assert "--preset '4k': unknown" in cli_error(main, ["--model", str(files["tflite"]), "--preset", "4k"], capsys)
    broken = tmp_path / "broken.tflite"
    broken.write_bytes(b"\x1c\x00\x00\x00TFL3" + bytes(range(256)) * 4)
    assert f"--model {broken}: litert cannot load it (" in cli_error(main, ["--model", str(broken)], capsys)
