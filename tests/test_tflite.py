"""TFLite back-end: delegate-ready op lists, no network, dynamic resizing, int8 I/O, offline guard.

One module-scoped conversion (random weights, small sizes: numerics are checked against the
same network in PyTorch, so trained weights are not needed) is shared by the tests, and it
runs with every socket connection refused and recorded, which proves the whole path offline.
"""
from __future__ import annotations

import socket
from pathlib import Path

import numpy as np
import pytest
import torch

from converters import onnx2tf_offline
from converters.onnx_export import export_onnx
from converters.tflite import delegate_violations, float_tflite, onnx_to_keras, quantize_int8, summarize
from converters.tflite_runner import load_runner
from pcarn_mobile.export.calibration import load_calibration, random_crops
from pcarn_mobile.models import SRDeploy, build_model

STATIC = (24, 32)
CONNECTIONS: list[object] = []


@pytest.fixture(scope="module")
def converted(tmp_path_factory) -> dict[str, Path]:
    torch.manual_seed(0)
    deploy = SRDeploy(build_model("pcarn_m", groups=4), 4).eval()
    tmp = tmp_path_factory.mktemp("tflite")
    real_connect, real_connect_ex = socket.socket.connect, socket.socket.connect_ex

    def refuse(sock, address, *args):
        CONNECTIONS.append(address)
        raise OSError(f"network disabled in this test (tried {address})")

    socket.socket.connect, socket.socket.connect_ex = refuse, refuse
    try:
        export_onnx(deploy, tmp / "dyn.onnx", None)
        keras_model = onnx_to_keras(tmp / "dyn.onnx", tmp / "scratch")
        fp32 = float_tflite(keras_model, STATIC)
        crops = random_crops(load_calibration(None).images, 6, 32)
        files = {
            "fp32": fp32,
            "fp16": float_tflite(keras_model, STATIC, fp16=True),
            "int8": quantize_int8(fp32, crops, io="int8"),
            "uint8": quantize_int8(fp32, crops, io="uint8"),
            "dynamic": float_tflite(keras_model, None),
        }
    finally:
        socket.socket.connect, socket.socket.connect_ex = real_connect, real_connect_ex
    paths = {}
    for name, data in files.items():
        paths[name] = tmp / f"{name}.tflite"
        paths[name].write_bytes(data)
    paths["deploy"] = deploy  # type: ignore[assignment]
    return paths


def test_conversion_opened_no_network_connection(converted):
    assert CONNECTIONS == []


@pytest.mark.parametrize("name", ["fp32", "fp16", "int8", "uint8", "dynamic"])
def test_op_whitelist_and_rank(converted, name):
    summary = summarize(converted[name].read_bytes())
    precision = {"uint8": "int8", "dynamic": "fp32"}.get(name, name)
    print(f"\n{name}: ops {dict(sorted(summary.ops.items()))}, max tensor rank {summary.max_rank}")
    assert delegate_violations(summary, precision) == []
    assert summary.max_rank <= 4
    assert summary.ops["CONV_2D"] == 43 and summary.ops["DEPTH_TO_SPACE"] == 5 and summary.ops["SPLIT"] == 1
    # The mean shift went into the entry conv (input channels of ones), the global residual into c3.
    assert summary.ops["ADD"] == 9 and summary.ops["MAXIMUM"] == 1
    assert not {"TRANSPOSE", "RESHAPE", "PAD", "GATHER", "SHAPE", "STRIDED_SLICE"} & set(summary.ops)
    assert summary.dynamic == (name == "dynamic")


def test_whitelist_check_catches_forbidden_ops():
    """The check itself can fail: a TRANSPOSE or a rank-6 tensor is named."""
    from collections import Counter

    from converters.tflite import GraphSummary

    bad = GraphSummary(ops=Counter({"CONV_2D": 3, "TRANSPOSE": 2, "RESHAPE": 4}), max_rank=6)
    problems = delegate_violations(bad, "fp32")
    assert "a tensor of rank 6" in problems and "2 x TRANSPOSE" in problems and "4 x RESHAPE" in problems
    dynamic = GraphSummary(ops=Counter({"CONV_2D": 3, "SHAPE": 1, "TRANSPOSE": 1}), max_rank=4, dynamic=True)
    assert delegate_violations(dynamic, "fp32") == ["1 x TRANSPOSE"]
    requantized = GraphSummary(ops=Counter({"CONV_2D": 3, "QUANTIZE": 2}), max_rank=4, internal_quantize=1)
    assert delegate_violations(requantized, "int8") == ["1 float <-> integer QUANTIZE/DEQUANTIZE inside the graph"]
    integer_only = GraphSummary(ops=Counter({"CONV_2D": 3, "QUANTIZE": 2}), max_rank=4, requantize=2)
    assert delegate_violations(integer_only, "int8") == []


def _reference(converted, x: np.ndarray) -> np.ndarray:
    with torch.no_grad():
        return converted["deploy"](torch.from_numpy(x)).numpy()


def _psnr(a: np.ndarray, b: np.ndarray) -> float:
    return float(10 * np.log10(1.0 / np.mean((a.astype(np.float64) - b) ** 2)))


@pytest.mark.parametrize("name,floor", [("fp32", 60.0), ("fp16", 45.0), ("int8", 35.0), ("uint8", 35.0)])
def test_static_files_match_pytorch(converted, name, floor):
    runner = load_runner(converted[name])
    assert runner.scale == 4 and runner.input_size == STATIC
    x = np.random.default_rng(3).random((1, 3, *STATIC), dtype=np.float32)
    assert _psnr(runner(x), _reference(converted, x)) >= floor


def test_integer_io_types_and_quantization(converted):
    for name, dtype, zero in (("int8", "int8", -128), ("uint8", "uint8", 0)):
        summary = summarize(converted[name].read_bytes())
        for tensor in summary.inputs + summary.outputs:
            assert tensor["dtype"] == dtype
            assert tensor["quantization"] == {"scale": pytest.approx(1 / 255), "zero_point": zero}


@pytest.mark.parametrize("name", ["int8", "uint8"])
def test_int8_entry_conv_reads_the_input_bytes_themselves(converted, name):
    """No rounding in front of the entry conv: the input and its ones are concatenated on the input's own grid."""
    from tensorflow.lite.tools import flatbuffer_utils

    model = flatbuffer_utils.convert_bytearray_to_object(converted[name].read_bytes())
    sg = model.subgraphs[0]
    grid = lambda t: (float(sg.tensors[t].quantization.scale[0]), int(sg.tensors[t].quantization.zeroPoint[0]))  # noqa: E731
    first_conv = next(op for op in sg.operators if flatbuffer_utils.opcode_to_name(model, op.opcodeIndex) == "CONV_2D")
    joined = next(op for op in sg.operators if int(op.outputs[0]) == int(first_conv.inputs[0]))
    assert flatbuffer_utils.opcode_to_name(model, joined.opcodeIndex) == "CONCATENATION"
    scale, zero = grid(int(first_conv.inputs[0]))
    assert scale == pytest.approx(1 / 255) and zero == -128
    assert all(grid(int(i)) == (scale, zero) for i in joined.inputs)


def test_dynamic_model_resizes_to_any_size(converted):
    runner = load_runner(converted["dynamic"])
    assert runner.input_size is None and runner.scale == 4
    for hw in ((17, 23), (40, 12)):
        x = np.random.default_rng(4).random((1, 3, *hw), dtype=np.float32)
        y = runner(x)
        assert y.shape == (1, 3, 4 * hw[0], 4 * hw[1])
        assert _psnr(y, _reference(converted, x)) >= 60.0


def test_static_runner_refuses_other_sizes_unless_asked(converted):
    x = np.random.default_rng(6).random((1, 3, 16, 20), dtype=np.float32)
    with pytest.raises(ValueError, match="takes 24x32"):
        load_runner(converted["fp32"])(x)
    # The graph is made of size-agnostic ops, so the same file runs whole images when asked.
    assert _psnr(load_runner(converted["fp32"], any_size=True)(x), _reference(converted, x)) >= 60.0


def test_offline_guard_refuses_download_and_fails_loudly_if_onnx2tf_changes(monkeypatch):
    import onnx2tf.onnx2tf as o2t

    with onnx2tf_offline.offline():
        with pytest.raises(onnx2tf_offline.OnnxTfDownloadAttempt):
            o2t.download_test_image_data()
    assert o2t.download_test_image_data is not onnx2tf_offline._refuse_download  # restored
    monkeypatch.delattr(o2t, "download_test_image_data")
    with pytest.raises(RuntimeError, match="onnx2tf changed"):
        with onnx2tf_offline.offline():
            pass


@pytest.mark.parametrize("name", ["fp32", "int8", "dynamic"])
def test_named_io_and_signature(converted, name):
    """Every file gets the project's two tensor names and a serving_default signature that computes the same."""
    from ai_edge_litert.interpreter import Interpreter

    from converters import INPUT_NAME, OUTPUT_NAME
    from converters.tflite import SIGNATURE_KEY, name_io

    plain = converted[name].read_bytes()
    named = Interpreter(model_content=name_io(plain))
    assert named.get_signature_list() == {SIGNATURE_KEY: {"inputs": [INPUT_NAME], "outputs": [OUTPUT_NAME]}}
    assert [d["name"] for d in named.get_input_details()] == [INPUT_NAME]
    assert [d["name"] for d in named.get_output_details()] == [OUTPUT_NAME]
    original = Interpreter(model_content=plain)
    detail = original.get_input_details()[0]
    hw = STATIC if name != "dynamic" else (20, 28)
    x = np.random.default_rng(7).integers(0, 255, (1, *hw, 3)).astype(detail["dtype"])
    if name == "dynamic":
        original.resize_tensor_input(detail["index"], [1, *hw, 3])
    original.allocate_tensors()
    original.set_tensor(detail["index"], x)
    original.invoke()
    expected = original.get_tensor(original.get_output_details()[0]["index"])
    runner = named.get_signature_runner(SIGNATURE_KEY)  # resizes a dynamic input to what it is given
    np.testing.assert_array_equal(runner(**{INPUT_NAME: x})[OUTPUT_NAME], expected)


def test_onnx2tf_messages_stay_off_stdout(tmp_path, monkeypatch, capsys):
    """onnx2tf catches every exception (Ctrl-C and SIGTERM too), prints a traceback to stdout and re-raises:
    that goes to stderr, which the exporter keeps in convert.log, so the user's terminal stays clean."""
    import onnx2tf.ops.Conv as conv_op

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    torch.manual_seed(0)
    export_onnx(SRDeploy(build_model("pcarn_m", groups=4, channels=16), 2).eval(), tmp_path / "m.onnx", None)
    monkeypatch.setattr(conv_op, "Conv2D", interrupted)  # what its grouped-conv builder calls, inside the catch-all
    capsys.readouterr()
    with pytest.raises(KeyboardInterrupt):
        onnx_to_keras(tmp_path / "m.onnx", tmp_path / "scratch")
    printed, err = capsys.readouterr()
    assert "Traceback" not in printed and "ERROR" not in printed
    assert "Traceback" in err


def test_sensitivity_variants_quantize_exactly_one_place(converted, tmp_path):
    """One activation through int8 and back, or one conv's weights on the int8 grid; nothing else changes."""
    from converters.tflite_ranges import activation_stats, quantized_ranges
    from converters.tflite_sensitivity import int8_params, probes, variant
    from tensorflow.lite.tools import flatbuffer_utils

    fp32 = converted["fp32"].read_bytes()
    crops = random_crops(load_calibration(None).images, 4, 32)
    ranges = quantized_ranges(flatbuffer_utils.convert_bytearray_to_object(fp32), activation_stats(fp32, crops))
    found = probes(fp32, ranges)
    assert sum(p.kind == "weights" for p in found) == summarize(fp32).ops["CONV_2D"]
    assert all(p.value_range[0] <= 0.0 <= p.value_range[1] for p in found if p.kind == "activation")
    assert int8_params(0.0, 2.55) == (pytest.approx(0.01), -128) and int8_params(-1.0, 1.0)[1] == 0
    x = np.random.default_rng(3).random((1, 3, *STATIC), dtype=np.float32)
    reference = load_runner(converted["fp32"])(x)
    weights_probe = next(p for p in found if p.kind == "weights")
    for probe in (next(p for p in found if p.kind == "activation" and p.op_name == "CONV_2D"), weights_probe):
        path = tmp_path / f"{probe.kind}.tflite"
        path.write_bytes(variant(fp32, probe))
        changed = load_runner(path)(x)
        assert 0 < np.abs(changed - reference).max() < 0.05  # changed, and only by rounding
        ops = summarize(path.read_bytes()).ops
        assert ops.get("QUANTIZE", 0) == ops.get("DEQUANTIZE", 0) == (probe.kind == "activation")
    model = flatbuffer_utils.convert_bytearray_to_object((tmp_path / "weights.tflite").read_bytes())
    tensor = model.subgraphs[0].tensors[weights_probe.tensor]
    w = np.frombuffer(bytes(model.buffers[tensor.buffer].data), np.float32).reshape(list(tensor.shape))
    steps = np.abs(w).reshape(w.shape[0], -1).max(axis=1)[:, None, None, None] / 127.0
    np.testing.assert_allclose(w / steps, np.round(w / steps), atol=1e-4)  # every weight on its channel's int8 grid


def test_requantized_concatenations_keep_their_inputs_grids(converted, monkeypatch):
    """Opt-in untied grids: int8 -> int8 QUANTIZE in front of concatenations, every concatenation's
    operands on its output grid, the file still full-integer, delegate-ready and close to PyTorch.
    (Inputs read elsewhere keep their own grids whatever their step: on this small random network
    the default pull puts every input on its concatenation's grid.)"""
    from tensorflow.lite.tools import flatbuffer_utils

    import converters.tflite_requantize as requantize

    monkeypatch.setattr(requantize, "PULL", 2.0)

    fp32 = converted["fp32"].read_bytes()
    crops = random_crops(load_calibration(None).images, 6, 32)
    data = quantize_int8(fp32, crops, io="int8", requantize_concatenations=True)
    summary = summarize(data)
    assert summary.requantize == summary.ops["QUANTIZE"] > 0 and summary.internal_quantize == 0
    assert delegate_violations(summary, "int8") == []
    model = flatbuffer_utils.convert_bytearray_to_object(data)
    sg = model.subgraphs[0]
    grid = lambda t: (float(sg.tensors[t].quantization.scale[0]), int(sg.tensors[t].quantization.zeroPoint[0]))  # noqa: E731
    for op in sg.operators:
        if flatbuffer_utils.opcode_to_name(model, op.opcodeIndex) == "CONCATENATION":
            assert {grid(int(i)) for i in op.inputs} == {grid(int(op.outputs[0]))}
    path = converted["fp32"].parent / "requantized.tflite"
    path.write_bytes(data)
    x = np.random.default_rng(3).random((1, 3, *STATIC), dtype=np.float32)
    assert _psnr(load_runner(path)(x), _reference(converted, x)) >= 35.0


def test_int8_weights_are_the_gptq_rounded_ones_and_grouped_convs_stay_nearest(converted):
    """The quantizer keeps GPTQ's rounding of every dense conv exactly; grouped convs are left to nearest
    rounding; and the GPTQ file differs from plain rounding (so the test can tell them apart)."""
    from tensorflow.lite.tools import flatbuffer_utils

    from converters.tflite import int8_rounded
    from converters.tflite_gptq import gptq_weights

    fp32 = converted["fp32"].read_bytes()
    crops = random_crops(load_calibration(None).images, 6, 32)
    rounded, count = gptq_weights(fp32, crops)
    float_model = flatbuffer_utils.convert_bytearray_to_object(fp32)
    start = flatbuffer_utils.convert_bytearray_to_object(rounded)
    int8 = flatbuffer_utils.convert_bytearray_to_object(quantize_int8(fp32, crops, io="int8"))
    sg, sg0, sg8 = start.subgraphs[0], float_model.subgraphs[0], int8.subgraphs[0]

    def weights(model, subgraph, op):
        t = subgraph.tensors[int(op.inputs[1])]
        data = np.frombuffer(bytes(model.buffers[t.buffer].data), np.int8 if t.type == 9 else np.float32)
        return data.reshape(list(t.shape)), t

    convs = [k for k, op in enumerate(sg.operators) if flatbuffer_utils.opcode_to_name(start, op.opcodeIndex) == "CONV_2D"]
    dense, moved = set(), 0
    for k in convs:
        w, t = weights(start, sg, sg.operators[k])
        w0, _ = weights(float_model, sg0, sg0.operators[k])
        q, t8 = weights(int8, sg8, sg8.operators[k])
        if t.shape[3] != sg.tensors[int(sg.operators[k].inputs[0])].shape[-1]:  # grouped: untouched
            assert np.array_equal(w, w0)
            continue
        moved += int(sg.operators[k].inputs[1]) not in dense and not np.allclose(w, int8_rounded(w0), atol=1e-7)
        dense.add(int(sg.operators[k].inputs[1]))
        scale = np.array(t8.quantization.scale).reshape(-1, 1, 1, 1)
        np.testing.assert_allclose(q * scale, w, rtol=0, atol=1e-6 * float(np.abs(w).max()))
    assert len(dense) == count > 10 and moved == count  # shared weights (a block used 3 times) once


def test_ranges_are_quantiles_of_the_crops_extremes_so_one_rare_crop_cannot_set_them(converted):
    """quantile 1.0 is plain min/max over every crop; the default takes RANGE_QUANTILE of the crops' own extremes."""
    from converters.tflite_ranges import RANGE_QUANTILE, activation_stats
    from converters.tflite_tensors import ActivationProbe

    fp32 = converted["fp32"].read_bytes()
    crops = random_crops(load_calibration(None).images, 48, 32)  # the rare crop's 49th of 49 falls past the quantile
    rare = np.zeros_like(crops[0])
    rare[:, ::2, ::2] = 1.0  # a white-dot grid on black: activations no photo crop reaches
    crops.append(rare)
    probe = ActivationProbe(fp32)
    values = [{i: (float(v.min()), float(v.max())) for i, v in probe.run(c).items()} for c in crops]
    plain, default = activation_stats(fp32, crops, quantile=1.0), activation_stats(fp32, crops)
    widened = 0
    for i, (lo, hi) in default.ranges.items():
        lows, highs = [v[i][0] for v in values], [v[i][1] for v in values]
        assert plain.ranges[i] == pytest.approx((min(lows), max(highs)))
        assert (lo, hi) == pytest.approx((np.quantile(lows, 1 - RANGE_QUANTILE), np.quantile(highs, RANGE_QUANTILE)))
        widened += highs[-1] > 1.01 * max(highs[:-1]) or lows[-1] < min(lows[:-1]) - 0.01 * abs(min(lows[:-1]))
        assert hi <= max(highs[:-1]) + 1e-6 and lo >= min(lows[:-1]) - 1e-6  # the rare crop sets no range
    assert widened >= 1, "the rare crop reaches past every photo crop somewhere (else the test shows nothing)"


def test_gptq_takes_its_hessians_on_the_first_samples_only(converted):
    from converters.tflite_gptq import SAMPLES, gptq_weights

    fp32 = converted["fp32"].read_bytes()
    crops = random_crops(load_calibration(None).images, SAMPLES + 4, 32)
    assert gptq_weights(fp32, crops) == gptq_weights(fp32, crops[:SAMPLES])
    assert gptq_weights(fp32, crops) != gptq_weights(fp32, crops[4:])
