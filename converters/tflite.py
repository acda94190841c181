"""ONNX -> TFLite through onnx2tf: float32, float16 and full-integer int8 files, and their op census.

onnx2tf builds a Keras model from the (shaped, dynamic-size) ONNX graph and is asked for nothing
else (``disable_model_save``): its own saved-model, float16 and ``-oiqt`` writers spend minutes
on files nobody asked for. Each variant is then one ``TFLiteConverter`` call on a concrete
function traced at the wanted size, so static and dynamic files come from the same Keras graph,
and onnx2tf never has to guess layouts at a size where channels and spatial dims coincide
(at 128x128 it confuses the 128-channel concatenations with the image and wraps them in
TRANSPOSE ops).

int8 is calibrated here rather than by the converter's calibrator: each activation's range
comes from :mod:`converters.tflite_ranges` (calibration crops through the float file, the input
and output clamp pinned to [0, 1], concatenations narrowed and tied), the float biases are
corrected for the mean shift int8 weight rounding causes (empirical bias correction), and
TensorFlow's MLIR quantizer writes the full-integer model from those ranges, per-channel weights
by default, the dense convs' weights first rounded onto their grid by GPTQ
(:mod:`converters.tflite_gptq`). Set5 x4 with the authors' PCARN-M-L1: plain min/max 31.819 dB, +
bias correction 31.831, + concatenation ranges 31.849 (fp32 31.900); 31.853 once the mean shift and
the global residual moved into convs (:mod:`converters.onnx_offset`, :mod:`converters.onnx_residual`),
31.857 with GPTQ.
Untied grids with requantizing QUANTIZE ops in front of the concatenations (issue 25,
:mod:`converters.tflite_requantize`) are opt-in (``requantize_concatenations``): on PCARN-M they
lose at 5 of 6 measured cells (docs/int8-quality.md).
"""
from __future__ import annotations

import contextlib
import os
import sys
from collections import Counter
from dataclasses import dataclass, field
from typing import Iterable

import numpy as np

from . import INPUT_NAME, OUTPUT_NAME
from .onnx2tf_offline import offline
from .tflite_requantize import untie_concatenations
from .tflite_gptq import gptq_weights
from .tflite_ranges import ActivationStats, activation_stats, quantized_ranges, tied_ranges

#: Integer I/O types for the int8 file (``float`` keeps float32 I/O with QUANTIZE/DEQUANTIZE edges).
INT8_IO: tuple[str, ...] = ("int8", "uint8", "float")

#: Ops a static-size float model may hold: what GPU/NNAPI/XNNPACK delegates take whole.
#: DEPTHWISE_CONV_2D only appears for groups = channels (64), where it is TFLite's own form of
#: that convolution and every delegate's fastest.
DELEGATE_OPS = frozenset({
    "CONV_2D", "DEPTHWISE_CONV_2D", "DEPTH_TO_SPACE", "ADD", "CONCATENATION", "SPLIT",
    "RELU", "MINIMUM", "MAXIMUM", "RELU_0_TO_1",
})
#: Ops no delegate-ready graph may hold, whatever its size.
FORBIDDEN_DYNAMIC = frozenset({"TRANSPOSE"})
MAX_RANK = 4
#: Tensor types (schema ``TensorType``) of an integer requantization: INT8, UINT8, INT16.
_INTEGER_TYPES = frozenset({9, 3, 7})

def onnx_to_keras(onnx_path: str | os.PathLike[str], workdir: str | os.PathLike[str]):
    """onnx2tf's Keras model of an ONNX file, built offline, nothing written but scratch in ``workdir``.

    Strict mode is off: it re-checks each op against ONNX Runtime to repair layout guesses,
    which a shaped graph does not need and which costs most of onnx2tf's time; the exporter
    measures the finished files against PyTorch instead. onnx2tf's printed messages go to stderr.
    """
    import onnx2tf

    # onnx2tf prints its errors (a traceback even for Ctrl-C or SIGTERM inside it) to stdout; they
    # belong with the other native messages on stderr, which the caller keeps out of the terminal.
    with offline(), contextlib.redirect_stdout(sys.stderr):
        return onnx2tf.convert(
            input_onnx_file_path=str(onnx_path),
            output_folder_path=str(workdir),
            disable_model_save=True,
            disable_strict_mode=True,
            verbosity="error",
        )


def _converter(keras_model, input_size: tuple[int, int] | None):
    import tensorflow as tf

    h, w = input_size if input_size else (None, None)
    spec = tf.TensorSpec((1, h, w, 3), tf.float32, name=INPUT_NAME)
    function = tf.function(lambda x: keras_model(x)).get_concrete_function(spec)
    converter = tf.lite.TFLiteConverter.from_concrete_functions([function], keras_model)
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS]  # never Flex ops
    return converter


def float_tflite(keras_model, input_size: tuple[int, int] | None, fp16: bool = False) -> bytes:
    """float32 (or float16-weight) TFLite of the Keras model at a static size, or dynamic (None)."""
    import tensorflow as tf

    converter = _converter(keras_model, input_size)
    if fp16:
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
        converter.target_spec.supported_types = [tf.float16]
    return bytes(converter.convert())


def int8_rounded(w: np.ndarray, axis: int = 0) -> np.ndarray:
    """``w`` on TFLite's per-channel symmetric int8 grid (step ``max|w| / 127`` per index of ``axis``,
    the output-channel axis: 0 for CONV_2D's OHWI, 3 for DEPTHWISE_CONV_2D's 1HWO), as float."""
    moved = np.moveaxis(w, axis, 0)
    step = np.abs(moved).reshape(moved.shape[0], -1).max(axis=1) / 127.0
    step[step == 0] = 1.0
    step = step.reshape((-1,) + (1,) * (moved.ndim - 1))
    return np.moveaxis(np.round(moved / step) * step, 0, axis)


def _correct_biases(model, stats: ActivationStats) -> int:
    """Empirical bias correction of int8 weight rounding (Nagel et al., 2019), in place; returns convs corrected.

    Rounding a conv's weights to per-channel int8 (symmetric, max|w|/127 as TFLite does) shifts
    each output channel's mean by ``sum(dW * E[x])``; subtracting that from the float bias
    before quantization cancels it. E[x] is the calibration mean of the conv's input channels.
    A bias shared by several convs (a block reused three times) takes their mean correction.
    """
    from tensorflow.lite.tools import flatbuffer_utils

    sg = model.subgraphs[0]
    corrections: dict[int, list[np.ndarray]] = {}
    for op in sg.operators:
        if flatbuffer_utils.opcode_to_name(model, op.opcodeIndex) != "CONV_2D" or len(op.inputs) < 3 or op.inputs[2] < 0:
            continue
        x, w_index, b_index = (int(i) for i in op.inputs[:3])
        if x not in stats.channel_means:
            continue
        w_tensor = sg.tensors[w_index]
        w = np.frombuffer(bytes(model.buffers[w_tensor.buffer].data), np.float32).reshape(list(w_tensor.shape))
        out_ch, cin_g = w.shape[0], w.shape[3]
        dw = int8_rounded(w) - w
        mean = stats.channel_means[x]
        groups = mean.size // cin_g
        per_group = mean.reshape(groups, cin_g)[np.arange(out_ch) // (out_ch // groups)]  # (O, cin_g)
        corrections.setdefault(b_index, []).append(np.einsum("ohwi,oi->o", dw, per_group))
    for b_index, found in corrections.items():
        b_tensor = sg.tensors[b_index]
        bias = np.frombuffer(bytes(model.buffers[b_tensor.buffer].data), np.float32)
        model.buffers[b_tensor.buffer].data = np.frombuffer(
            (bias - np.mean(found, axis=0)).astype(np.float32).tobytes(), np.uint8
        )
    return sum(len(f) for f in corrections.values())


def quantize_int8(
    float_model: bytes, samples: Iterable[np.ndarray], io: str = "int8", per_channel: bool = True,
    bias_correction: bool = True, requantize_concatenations: bool = False, gptq: bool = True,
) -> bytes:
    """Full-integer int8 TFLite of ``float_model`` calibrated on real-image ``samples``.

    Input range is pinned to [0, 1] (so uint8 input is exactly the bitmap's bytes, scale 1/255)
    and the clamp chain to the output's [0, 1]. Uses TensorFlow's MLIR quantizer on a model
    carrying the recorded ranges, the same two steps TFLiteConverter takes internally.
    ``gptq``: the dense convs' weights GPTQ-rounded onto their int8 grid first
    (:mod:`converters.tflite_gptq`; per-channel weights only).
    """
    if io not in INT8_IO:
        raise ValueError(f"io must be one of {INT8_IO}, got {io!r}")
    float_model, stats = int8_starting_point(float_model, samples, gptq and per_channel)
    return quantize_from_stats(float_model, stats, io, per_channel, bias_correction, requantize_concatenations)


def int8_starting_point(float_model: bytes, samples: Iterable[np.ndarray], gptq: bool = True) -> tuple[bytes, ActivationStats]:
    """The float file the quantizer starts from (GPTQ-rounded weights when ``gptq``) and its activation statistics.

    The statistics are taken on the file whose activations the int8 file quantizes, so after the
    weights are rounded; the int8 sensitivity report starts from the same two.
    """
    samples = list(samples)
    if gptq:
        float_model, _ = gptq_weights(float_model, samples)
    return float_model, activation_stats(float_model, samples)


def quantize_from_stats(
    float_model: bytes, stats: ActivationStats, io: str = "int8", per_channel: bool = True, bias_correction: bool = True,
    requantize_concatenations: bool = False,
) -> bytes:
    """The second half of :func:`quantize_int8`, for statistics already gathered.

    ``requantize_concatenations``: each concatenation input on its own grid with a requantizing
    QUANTIZE in front (:mod:`converters.tflite_requantize`) instead of the tied grids. Off by
    default: on PCARN-M it loses at 5 of 6 measured cells (docs/int8-quality.md).
    """
    import tensorflow as tf
    from tensorflow.lite.python import schema_py_generated as schema
    from tensorflow.lite.python.convert import mlir_quantize
    from tensorflow.lite.tools import flatbuffer_utils

    model = flatbuffer_utils.convert_bytearray_to_object(float_model)
    if bias_correction and per_channel:
        _correct_biases(model, stats)
    ranges = quantized_ranges(model, stats, tie_concatenations=not requantize_concatenations)
    sg = model.subgraphs[0]
    for i, (lo, hi) in tied_ranges(model, ranges).items():
        params = schema.QuantizationParametersT()
        params.min, params.max = [lo], [hi]
        sg.tensors[i].quantization = params
    calibrated = bytes(flatbuffer_utils.convert_object_to_bytearray(model))
    # The call TFLiteConverter.convert() makes for post-training int8 with the MLIR quantizer:
    # every op integer; I/O int8, uint8 (a QUANTIZE/DEQUANTIZE pair at the edges re-centres by
    # 128) or float32 (QUANTIZE/DEQUANTIZE at the edges).
    dtype = {"int8": tf.int8, "uint8": tf.uint8, "float": tf.float32}[io]
    quantized = mlir_quantize(
        calibrated, disable_per_channel=not per_channel, input_data_type=dtype, output_data_type=dtype
    )
    if not requantize_concatenations:
        return bytes(quantized)
    int8 = flatbuffer_utils.convert_bytearray_to_object(bytes(quantized))
    untie_concatenations(int8, {sg.tensors[i].name: r for i, r in ranges.items()})
    return bytes(flatbuffer_utils.convert_object_to_bytearray(int8))


@dataclass
class GraphSummary:
    """What a ``.tflite`` holds: op histogram, tensor ranks and I/O, for the op check and sidecars."""

    ops: Counter = field(default_factory=Counter)
    max_rank: int = 0
    dynamic: bool = False
    inputs: list[dict] = field(default_factory=list)
    outputs: list[dict] = field(default_factory=list)
    internal_quantize: int = 0  # float <-> integer QUANTIZE/DEQUANTIZE of activations away from the graph's edges
    requantize: int = 0  # QUANTIZE int8 -> int8 (concatenation inputs moved onto the concatenation's grid)
    non_constant_dequantize: int = 0


def summarize(model_bytes: bytes) -> GraphSummary:
    """Op histogram, maximum tensor rank and I/O details of a TFLite flatbuffer."""
    from ai_edge_litert.interpreter import Interpreter
    from tensorflow.lite.tools import flatbuffer_utils

    model = flatbuffer_utils.convert_bytearray_to_object(model_bytes)
    summary = GraphSummary()
    for sg in model.subgraphs:
        for t in sg.tensors:
            rank = max(len(t.shape if t.shape is not None else []), len(t.shapeSignature if t.shapeSignature is not None else []))
            summary.max_rank = max(summary.max_rank, rank)
        edges = set(int(i) for i in sg.inputs) | set(int(o) for o in sg.outputs)
        for op in sg.operators:
            name = flatbuffer_utils.opcode_to_name(model, op.opcodeIndex)
            summary.ops[name] += 1
            if name in ("QUANTIZE", "DEQUANTIZE"):
                data = model.buffers[sg.tensors[op.inputs[0]].buffer].data
                constant = data is not None and len(data) > 0  # float16 weights in an fp16 file
                if name == "DEQUANTIZE" and not constant:
                    summary.non_constant_dequantize += 1
                if constant or ({int(i) for i in op.inputs} | {int(o) for o in op.outputs}) & edges:
                    continue
                if name == "QUANTIZE" and {sg.tensors[int(t)].type for t in (*op.inputs, *op.outputs)} <= _INTEGER_TYPES:
                    summary.requantize += 1
                else:
                    summary.internal_quantize += 1
    interpreter = Interpreter(model_content=model_bytes)
    for key, details in (("inputs", interpreter.get_input_details()), ("outputs", interpreter.get_output_details())):
        for d in details:
            scale, zero = d["quantization"]
            getattr(summary, key).append({
                "name": d["name"],
                "shape": [int(s) for s in d["shape_signature"]],
                "dtype": np.dtype(d["dtype"]).name,
                "layout": "NHWC",
                "quantization": {"scale": float(scale), "zero_point": int(zero)} if scale else None,
            })
    summary.dynamic = any(s < 0 for s in summary.inputs[0]["shape"][1:3])
    return summary


def delegate_violations(summary: GraphSummary, precision: str) -> list[str]:
    """Why a file is not delegate-ready; empty when it is.

    Static size: only :data:`DELEGATE_OPS`, plus float16 weight DEQUANTIZE (fp16) or
    QUANTIZE/DEQUANTIZE at the input and output and int8 -> int8 requantizing QUANTIZE (int8).
    Dynamic size: no TRANSPOSE. Always: no tensor above rank 4 and no conversion of activations
    between float and integer inside the graph.
    """
    problems = []
    if summary.max_rank > MAX_RANK:
        problems.append(f"a tensor of rank {summary.max_rank}")
    if summary.internal_quantize:
        problems.append(f"{summary.internal_quantize} float <-> integer QUANTIZE/DEQUANTIZE inside the graph")
    allowed = set(DELEGATE_OPS)
    if precision == "fp16":
        allowed.add("DEQUANTIZE")
        if summary.non_constant_dequantize:
            problems.append(f"{summary.non_constant_dequantize} DEQUANTIZE of activations")
    if precision == "int8":
        allowed |= {"QUANTIZE", "DEQUANTIZE"}
    bad = {op: n for op, n in summary.ops.items() if op in FORBIDDEN_DYNAMIC or (not summary.dynamic and op not in allowed)}
    problems += [f"{n} x {op}" for op, n in sorted(bad.items())]
    return problems


#: The signature every file carries (LiteRT's default key), so signature runners find it by name.
SIGNATURE_KEY = "serving_default"


def name_io(model_bytes: bytes, input_name: str = INPUT_NAME, output_name: str = OUTPUT_NAME) -> bytes:
    """The same file with its input and output tensors named, and one signature that maps them.

    The converters name the output after TensorFlow's ``Identity`` op and write no signature;
    apps and harnesses address tensors by name (``Interpreter.get_signature_runner``, LiteRT's
    ``CompiledModel``), so every file gets the project's two names in both places.
    """
    from tensorflow.lite.python import schema_py_generated as schema
    from tensorflow.lite.tools import flatbuffer_utils

    model = flatbuffer_utils.convert_bytearray_to_object(model_bytes)
    if len(model.subgraphs) != 1:
        raise ValueError(f"expected one subgraph, found {len(model.subgraphs)}")
    sg = model.subgraphs[0]
    if len(sg.inputs) != 1 or len(sg.outputs) != 1:
        raise ValueError(f"expected one input and one output, found {len(sg.inputs)} and {len(sg.outputs)}")
    signature = schema.SignatureDefT()
    signature.signatureKey, signature.subgraphIndex = SIGNATURE_KEY, 0
    signature.inputs, signature.outputs = [], []
    for index, name, side in ((int(sg.inputs[0]), input_name, signature.inputs),
                              (int(sg.outputs[0]), output_name, signature.outputs)):
        sg.tensors[index].name = name
        entry = schema.TensorMapT()
        entry.name, entry.tensorIndex = name, index
        side.append(entry)
    model.signatureDefs = [signature]
    return bytes(flatbuffer_utils.convert_object_to_bytearray(model))
